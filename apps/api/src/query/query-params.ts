import { z } from 'zod';

/** An instant in a query string: RFC 3339 or epoch milliseconds. */
export const instant = z.string().transform((text, ctx) => {
  const ms = /^-?\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `must be RFC 3339 or epoch milliseconds, got "${text}"` });
    return z.NEVER;
  }
  return ms;
});
