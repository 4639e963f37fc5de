import { type z } from 'zod';
import { LlmError, type LlmUsage } from './provider';

/**
 * An answer's JSON checked against its zod schema, or a `malformed` LlmError naming the
 * first field that is wrong (`the verdict's confidence: ...`), carrying what the call cost.
 */
export function parseAnswer<T>(schema: z.ZodType<T>, output: unknown, what: string, usage?: LlmUsage): T {
  const parsed = schema.safeParse(output);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.join('.') : 'answer';
  throw new LlmError('malformed', `the ${what}'s ${field}: ${issue.message}`, usage ? { usage } : {});
}
