/**
 * How an error message shows the input it refused: bounded, so a megabyte-long name is
 * not echoed back, and escaped, so a control character in it cannot forge a log line.
 */

/** Characters of an input string shown before it is cut with an ellipsis. */
const SHOWN_CHARACTERS = 64;

/**
 * A string as a JSON string literal, cut after `SHOWN_CHARACTERS`. JSON escapes C0
 * controls and lone surrogates; DEL, C1 controls and the Unicode line separators are
 * escaped too, since terminals and log viewers act on them.
 */
export function showString(text: string): string {
  const shown = JSON.stringify(text.length > SHOWN_CHARACTERS ? `${text.slice(0, SHOWN_CHARACTERS)}…` : text);
  return shown.replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Any JSON-decoded input, for the "got ..." part of a message. */
export function showInput(input: unknown): string {
  if (typeof input === 'string') return showString(input);
  if (typeof input === 'number' || typeof input === 'boolean' || typeof input === 'bigint') {
    return String(input);
  }
  if (input === null) return 'null';
  if (input === undefined) return 'nothing';
  if (Array.isArray(input)) return 'an array';
  return typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

/** A name as a member of a path: `.name` when it reads as an identifier, `["a name"]` otherwise. */
export function memberPath(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) && name.length <= SHOWN_CHARACTERS
    ? `.${name}`
    : `[${showString(name)}]`;
}
