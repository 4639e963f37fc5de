/**
 * Whether `text` matches `pattern`, a glob where `*` is any run of characters (none
 * included), `?` exactly one, and `\` makes the next character literal. Characters are
 * code points, so `?` matches one emoji as one character.
 *
 * Written out rather than compiled to a RegExp: a pattern comes from a tenant and is
 * matched on the alert path, and the classic two-pointer walk (back to the last `*` on a
 * mismatch) takes at most pattern length times text length steps for any input, where a
 * RegExp of several `.*` can backtrack far longer.
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = tokens(pattern);
  const t = Array.from(text);
  let pi = 0;
  let ti = 0;
  let starAt = -1;
  let starText = 0;
  while (ti < t.length) {
    const token = p[pi];
    if (token !== undefined && token.kind !== 'star' && (token.kind === 'any' || token.char === t[ti])) {
      pi++;
      ti++;
    } else if (token?.kind === 'star') {
      starAt = pi++;
      starText = ti;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      ti = ++starText;
    } else return false;
  }
  while (p[pi]?.kind === 'star') pi++;
  return pi === p.length;
}

/** Whether a pattern has any wildcard: one without is matched as plain text. */
export function isGlob(pattern: string): boolean {
  return tokens(pattern).some((token) => token.kind !== 'char');
}

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; char: string };

function tokens(pattern: string): Token[] {
  const out: Token[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\' && i + 1 < chars.length) out.push({ kind: 'char', char: chars[++i] });
    else if (c === '*') {
      // `**` is `*`: collapsing keeps the walk linear in the pattern.
      if (out[out.length - 1]?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === '?') out.push({ kind: 'any' });
    else out.push({ kind: 'char', char: c });
  }
  return out;
}
