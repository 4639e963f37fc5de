/**
 * Splits a migration file into its statements. ClickHouse runs one statement per
 * request over HTTP, so a file with several is sent one at a time; a ';' ends a
 * statement unless it is inside a string, a quoted identifier or a comment.
 * Statements holding nothing but comments are dropped.
 */
export function splitSqlStatements(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let hasCode = false;
  let i = 0;
  const n = script.length;
  while (i < n) {
    const c = script[i];
    if (c === '-' && script[i + 1] === '-') {
      i = skipTo(script, i + 2, '\n');
    } else if (c === '/' && script[i + 1] === '*') {
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      hasCode = true;
      i = skipQuoted(script, i + 1, c);
    } else if (c === ';') {
      if (hasCode) statements.push(script.slice(start, i).trim());
      start = i + 1;
      hasCode = false;
      i++;
    } else {
      if (!/\s/.test(c)) hasCode = true;
      i++;
    }
  }
  if (hasCode) statements.push(script.slice(start).trim());
  return statements;
}

function skipTo(script: string, from: number, char: string): number {
  const at = script.indexOf(char, from);
  return at === -1 ? script.length : at + 1;
}

/** Index after the closing quote; a backslash escapes the next character, a doubled quote is one. */
function skipQuoted(script: string, from: number, quote: string): number {
  let i = from;
  while (i < script.length) {
    const c = script[i];
    if (c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (script[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return i;
}
