import { randomBytes } from 'node:crypto';
import { checkDisplayName, normalizeEmail, TenancyException, TenancyExceptionCode } from '@seismo/tenancy';
import { z } from 'zod';
import { AlertingException, AlertingExceptionCode } from '../alerting.exception';
import { type ChannelTarget, CHANNEL_KINDS } from '../channel';
import { checkTargetUrl } from '../channels/outbound-http';
import { SEVERITIES } from '../notification';
import {
  DEFAULT_RATE_PER_HOUR,
  MAX_RATE_PER_HOUR,
  type SeriesMatchers,
  type SubscriptionFilter,
} from './subscription';

export const MAX_SUBSCRIPTION_NAME_LENGTH = 100;
export const MAX_PATTERN_LENGTH = 200;
export const MAX_EMAIL_RECIPIENTS = 20;
const MAX_LABEL_MATCHERS = 20;

const pattern = z.string().min(1).max(MAX_PATTERN_LENGTH);
const seriesMatchers = {
  series: pattern.optional(),
  labels: z
    .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a label name: letters, digits and _'), pattern)
    .refine((labels) => Object.keys(labels).length <= MAX_LABEL_MATCHERS, {
      message: `at most ${MAX_LABEL_MATCHERS} label matchers`,
    })
    .optional(),
};

const filterSchema = z
  .object({
    ...seriesMatchers,
    min_severity: z.enum(SEVERITIES).optional(),
    min_score: z.number().min(0).max(1).optional(),
    detectors: z.array(z.string().min(1).max(64)).min(1).max(20).optional(),
  })
  .strict();

const httpUrl = z
  .string()
  .max(2048)
  .refine((raw) => {
    try {
      const url = new URL(raw);
      return (
        (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === ''
      );
    } catch {
      return false;
    }
  }, 'an http(s) URL without credentials');

const targetSchemas = {
  webhook: z.object({ url: httpUrl }).strict(),
  slack: z.object({ url: httpUrl }).strict(),
  email: z.object({ to: z.array(z.string()).min(1).max(MAX_EMAIL_RECIPIENTS) }).strict(),
  pagerduty: z
    .object({
      routing_key: z.string().regex(/^[A-Za-z0-9]{32}$/, 'a 32-character Events API v2 integration key'),
      url: httpUrl.optional(),
    })
    .strict(),
} as const;

const subscriptionSchema = z
  .object({
    name: z.string().optional(),
    channel: z.enum(CHANNEL_KINDS),
    target: z.unknown(),
    filter: filterSchema.optional(),
    rate_limit_per_hour: z.number().int().min(1).max(MAX_RATE_PER_HOUR).optional(),
    owner_member_id: z.string().min(1).max(64).optional(),
  })
  .strict();

/** An instant as RFC 3339 text or epoch milliseconds, to epoch milliseconds. */
export const instantField = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: `must be RFC 3339 or epoch milliseconds, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

const silenceSchema = z
  .object({
    matchers: z.object(seriesMatchers).strict(),
    starts_at: instantField.optional(),
    ends_at: instantField,
    comment: z.string().max(500).optional(),
  })
  .strict();

/** A subscription as an admin asked for it, checked; the webhook's signing secret made here. */
export interface ValidSubscription {
  readonly name: string;
  readonly filter: SubscriptionFilter;
  readonly target: ChannelTarget;
  readonly ratePerHour: number;
  readonly ownerMemberId?: string;
}

/**
 * Checks a subscription's fields as POST /v1/subscriptions takes them (snake_case);
 * throws INVALID_SUBSCRIPTION naming the first field at fault. `secret` is the webhook's
 * current signing secret when an existing webhook subscription changes (kept), else one
 * is made. A target URL on a private or loopback address is refused unless `allowPrivate`
 * (SEISMO_ALLOW_PRIVATE_TARGETS); a host name is checked again where it is resolved.
 */
export function validateSubscription(
  input: unknown,
  secret?: string,
  options: { readonly allowPrivate?: boolean } = {},
): ValidSubscription {
  const body = parse(subscriptionSchema, input, '', AlertingExceptionCode.INVALID_SUBSCRIPTION);
  const target = parse(
    targetSchemas[body.channel],
    body.target,
    'target.',
    AlertingExceptionCode.INVALID_SUBSCRIPTION,
  );
  const url = 'url' in target ? target.url : undefined;
  if (url !== undefined) {
    const refused = checkTargetUrl(url, { allowPrivate: options.allowPrivate ?? false });
    if (refused !== undefined) throw invalidSubscription('target.url', `target.url: ${refused}`);
  }
  const name = body.name ?? `${body.channel} subscription`;
  try {
    checkDisplayName(name, 'name', MAX_SUBSCRIPTION_NAME_LENGTH, TenancyExceptionCode.INVALID_TENANT);
  } catch (error) {
    if (error instanceof TenancyException) throw invalidSubscription('name', error.message);
    throw error;
  }
  return {
    name,
    filter: filterOf(body.filter ?? {}),
    target: targetOf(body.channel, target, secret),
    ratePerHour: body.rate_limit_per_hour ?? DEFAULT_RATE_PER_HOUR,
    ...(body.owner_member_id !== undefined ? { ownerMemberId: body.owner_member_id } : {}),
  };
}

export interface ValidSilence {
  readonly matchers: SeriesMatchers;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly comment: string;
}

/** Checks a silence (POST /v1/silences); `now` is its default start. Instants are epoch ms. */
export function validateSilence(input: unknown, now: number): ValidSilence {
  const body = parse(silenceSchema, input, '', AlertingExceptionCode.INVALID_SILENCE);
  const startsAt = body.starts_at ?? now;
  if (body.ends_at <= startsAt) {
    throw new AlertingException(
      AlertingExceptionCode.INVALID_SILENCE,
      'ends_at: must be after starts_at',
      'ends_at',
    );
  }
  if (body.ends_at <= now) {
    throw new AlertingException(
      AlertingExceptionCode.INVALID_SILENCE,
      'ends_at: must be in the future',
      'ends_at',
    );
  }
  const matchers = matchersOf(body.matchers);
  if (matchers.series === undefined && matchers.labels === undefined) {
    throw new AlertingException(
      AlertingExceptionCode.INVALID_SILENCE,
      'matchers: give series or labels (a silence of everything would hide every alert)',
      'matchers',
    );
  }
  return { matchers, startsAt, endsAt: body.ends_at, comment: body.comment ?? '' };
}

/** A webhook signing secret: 32 random bytes, prefixed so that it is recognisable in a config file. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function filterOf(filter: z.infer<typeof filterSchema>): SubscriptionFilter {
  return {
    ...matchersOf(filter),
    ...(filter.min_severity !== undefined ? { minSeverity: filter.min_severity } : {}),
    ...(filter.min_score !== undefined ? { minScore: filter.min_score } : {}),
    ...(filter.detectors !== undefined ? { detectors: filter.detectors } : {}),
  };
}

function matchersOf(matchers: { series?: string; labels?: Record<string, string> }): SeriesMatchers {
  return {
    ...(matchers.series !== undefined ? { series: matchers.series } : {}),
    ...(matchers.labels !== undefined && Object.keys(matchers.labels).length > 0
      ? { labels: matchers.labels }
      : {}),
  };
}

function targetOf(
  channel: (typeof CHANNEL_KINDS)[number],
  target: Record<string, unknown>,
  secret?: string,
): ChannelTarget {
  switch (channel) {
    case 'webhook':
      return { kind: 'webhook', url: target.url as string, secret: secret ?? newWebhookSecret() };
    case 'slack':
      return { kind: 'slack', url: target.url as string };
    case 'email':
      return {
        kind: 'email',
        to: (target.to as string[]).map((to, i) => {
          try {
            return normalizeEmail(to);
          } catch (error) {
            if (error instanceof TenancyException)
              throw invalidSubscription(
                `target.to.${i}`,
                `target.to.${i}: ${error.message.replace(/^email /, '')}`,
              );
            throw error;
          }
        }),
      };
    case 'pagerduty':
      return {
        kind: 'pagerduty',
        routingKey: target.routing_key as string,
        ...(target.url !== undefined ? { url: target.url as string } : {}),
      };
  }
}

function parse<T extends z.ZodType>(
  schema: T,
  input: unknown,
  prefix: string,
  code: AlertingExceptionCode,
): z.infer<T> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = `${prefix}${issue.path.join('.')}`.replace(/\.$/, '') || 'body';
  throw new AlertingException(code, `${field}: ${issue.message}`, field);
}

function invalidSubscription(field: string, message: string): AlertingException {
  return new AlertingException(AlertingExceptionCode.INVALID_SUBSCRIPTION, message, field);
}
