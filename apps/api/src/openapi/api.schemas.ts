import { type SchemaObject } from '@nestjs/swagger';
import { SKIP_REASONS, TRIAGE_SEVERITIES, VERDICTS } from '@seismo/llm';
import {
  AUDIT_ACTIONS,
  DEFAULT_GRACE_DAYS,
  DEFAULT_TENANT_LLM,
  EXPECTED_POLICIES,
  LIMIT_FIELDS,
  MAX_GRACE_DAYS,
  MAX_LIMIT,
  MAX_LLM_DAILY_TOKENS,
  MAX_REDACT_LABEL_LENGTH,
  MAX_REDACT_LABELS,
  PLAN_NAMES,
  PLANS,
  ROLES,
  SCOPES,
} from '@seismo/tenancy';

/**
 * The JSON shapes of the public contract, as /openapi.json shows them. The zod schemas in
 * the controllers are what validates; these describe, and the e2e spec checks that each
 * route carries its shapes, so a route added without them is noticed.
 */

const instant: SchemaObject = {
  oneOf: [
    { type: 'string', format: 'date-time', example: '2026-11-23T10:00:00Z' },
    { type: 'integer', description: 'epoch milliseconds', example: 1763892000000 },
  ],
};

const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['statusCode', 'error'],
  properties: {
    statusCode: { type: 'integer', example: 400 },
    error: {
      type: 'string',
      description: 'what was wrong, naming the field',
      example: 'points[3].value: ...',
    },
    code: { type: 'string', description: 'the domain error code, when there is one' },
    field: { type: 'string', description: 'the field at fault, when there is one' },
    errors: {
      type: 'array',
      items: { type: 'string' },
      description: 'every validation issue, one per field',
    },
    error_id: { type: 'string', description: 'on a 500: the id under which the server logged the error' },
    limit: {
      type: 'string',
      enum: ['requests_per_second', 'points_per_second', 'points_burst', 'max_series'],
      description: "on a 429 or a 413 from ingest: the tenant's limit that refused the request",
    },
    retry_after_seconds: {
      type: 'integer',
      description:
        'on a 429: whole seconds after which the same request passes (also the Retry-After header)',
    },
  },
};

const LIMIT_DESCRIPTIONS: Record<string, string> = {
  points_per_second: 'sustained points a second (token bucket refill)',
  points_burst: 'points at once after a quiet spell (bucket size); a request above it is refused with 413',
  requests_per_second: 'sustained ingest requests a second',
  requests_burst: 'ingest requests at once (bucket size)',
  max_series: 'distinct series; points of new series beyond it are refused, known series flow',
};

const PLAN_SCHEMA: SchemaObject = {
  type: 'string',
  enum: [...PLAN_NAMES],
  description:
    'the plan the limits come from: ' +
    PLAN_NAMES.map(
      (plan) =>
        `${plan} (${Object.entries(LIMIT_FIELDS)
          .map(([name, field]) => `${field} ${PLANS[plan][name as keyof (typeof PLANS)[typeof plan]]}`)
          .join(', ')})`,
    ).join('; '),
};

const limitsSchema = (nullable: boolean): SchemaObject => ({
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(
    Object.values(LIMIT_FIELDS).map((field) => [
      field,
      {
        type: 'integer',
        minimum: 1,
        maximum: MAX_LIMIT,
        ...(nullable ? { nullable: true } : {}),
        description: LIMIT_DESCRIPTIONS[field],
      },
    ]),
  ),
});

const LLM_DESCRIPTIONS = {
  triage: "anomalies of this tenant are triaged by the deployment's LLM",
  daily_tokens:
    "tokens per UTC day this tenant may spend; null: the deployment's SEISMO_LLM_TENANT_DAILY_TOKENS",
  expected_policy:
    'what an `expected` verdict does to its alert: suppress (no alert), downgrade (severity info, still ' +
    'alerts), annotate (alert unchanged, verdict shown)',
  redact_labels:
    'label names whose values are never sent to the LLM (replaced by "[redacted]"); globs with * allowed',
  profiling:
    'series are profiled (kind, direction, seasonality, unit) by one cached LLM call the first time they are seen',
};

/** LLM settings; `change`: what a body gives, every setting optional and daily_tokens null to reset. */
const llmSchema = (change: boolean): SchemaObject => ({
  type: 'object',
  ...(change ? { additionalProperties: false } : { required: Object.keys(LLM_DESCRIPTIONS) }),
  properties: {
    triage: { type: 'boolean', default: DEFAULT_TENANT_LLM.triage, description: LLM_DESCRIPTIONS.triage },
    daily_tokens: {
      type: 'integer',
      minimum: 0,
      maximum: MAX_LLM_DAILY_TOKENS,
      nullable: true,
      description: LLM_DESCRIPTIONS.daily_tokens,
    },
    expected_policy: {
      type: 'string',
      enum: [...EXPECTED_POLICIES],
      default: DEFAULT_TENANT_LLM.expectedPolicy,
      description: LLM_DESCRIPTIONS.expected_policy,
    },
    redact_labels: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: MAX_REDACT_LABEL_LENGTH },
      maxItems: MAX_REDACT_LABELS,
      default: [],
      description: LLM_DESCRIPTIONS.redact_labels,
      example: ['customer_*', 'email'],
    },
    profiling: {
      type: 'boolean',
      default: DEFAULT_TENANT_LLM.profiling,
      description: LLM_DESCRIPTIONS.profiling,
    },
  },
});

const LLM_TRIAGE: SchemaObject = {
  type: 'boolean',
  description: 'llm.triage as a flag of its own; giving both is refused (400 naming llm_triage)',
};

const LLM_CHANGE: SchemaObject = {
  ...llmSchema(true),
  description: 'merged into the current settings (the defaults, for a new tenant)',
};

export const CREATE_TENANT: SchemaObject = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', example: 'acme' },
    retention: {
      type: 'object',
      additionalProperties: false,
      properties: {
        points_days: { type: 'integer', description: 'days points are kept; 0 keeps none' },
        anomalies_days: { type: 'integer', description: 'days anomalies are kept' },
      },
    },
    zero_retention: { type: 'boolean', description: 'score points without storing them' },
    plan: { ...PLAN_SCHEMA, default: 'team' },
    admin_email: {
      type: 'string',
      format: 'email',
      description:
        "the tenant's first admin member: the key returned is then theirs; without it, a service key. " +
        'Either way the key has every scope (ingest, read, admin).',
    },
    llm_triage: { ...LLM_TRIAGE, default: false },
    llm: LLM_CHANGE,
  },
};

export const CREATED_TENANT: SchemaObject = {
  type: 'object',
  required: ['id', 'name', 'api_key', 'key_id'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    api_key: { type: 'string', description: 'shown once: only its hash is kept', example: 'sk_...' },
    key_id: { type: 'string', description: "the key's public id, to list and revoke it", example: 'key_...' },
    admin_member_id: { type: 'string', description: 'the first admin member, when admin_email was given' },
  },
};

export const UPDATE_TENANT: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  description:
    'the fields to change; the others stay. plan, limits, llm_triage and llm only with the deployment admin ' +
    "token (403 with a tenant's key: a tenant cannot raise its own limits nor spend the deployment's LLM budget)",
  properties: {
    name: { type: 'string' },
    retention: {
      type: 'object',
      additionalProperties: false,
      description:
        'applies to the rows already stored too: a shorter retention removes what it no longer keeps',
      properties: {
        points_days: { type: 'integer', minimum: 1, maximum: 3650 },
        anomalies_days: { type: 'integer', minimum: 1, maximum: 3650 },
      },
    },
    zero_retention: { type: 'boolean' },
    billing: {
      type: 'object',
      additionalProperties: false,
      required: ['stripe_customer_id'],
      description:
        'deployment admin token only: the Stripe customer the tenant is billed to (null unlinks); audited',
      properties: { stripe_customer_id: { type: 'string', nullable: true, example: 'cus_NffrFeUfNV2Hib' } },
    },
    plan: PLAN_SCHEMA,
    limits: {
      ...limitsSchema(true),
      description:
        "overrides of the plan's limits for this tenant: a number sets one, null returns to the plan's",
    },
    llm_triage: LLM_TRIAGE,
    llm: LLM_CHANGE,
  },
};

export const TENANT: SchemaObject = {
  type: 'object',
  required: [
    'id',
    'name',
    'status',
    'retention',
    'zero_retention',
    'billing',
    'plan',
    'limits',
    'limit_overrides',
    'llm',
  ],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    status: {
      type: 'string',
      enum: ['active', 'closed'],
      description: "closed: the tenant's keys no longer work, and its data is erased at purge_after",
    },
    closed_at: { type: 'string', format: 'date-time', description: 'when the tenant was closed' },
    purge_after: {
      type: 'string',
      format: 'date-time',
      description: 'when a closed tenant is erased, unless reopened before',
    },
    retention: {
      type: 'object',
      required: ['points_days', 'anomalies_days'],
      properties: { points_days: { type: 'integer' }, anomalies_days: { type: 'integer' } },
    },
    zero_retention: { type: 'boolean' },
    billing: {
      type: 'object',
      required: ['stripe_customer_id'],
      properties: { stripe_customer_id: { type: 'string', nullable: true } },
    },
    plan: PLAN_SCHEMA,
    limits: { ...limitsSchema(false), description: 'the limits in force: the plan with the overrides' },
    limit_overrides: { ...limitsSchema(false), description: "only the limits set over the plan's" },
    llm: {
      ...llmSchema(false),
      description: "the tenant's LLM settings; daily_tokens null: the deployment's",
    },
  },
};

export const CLOSE_TENANT: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    grace_days: {
      type: 'integer',
      minimum: 0,
      maximum: MAX_GRACE_DAYS,
      default: DEFAULT_GRACE_DAYS,
      description: 'days the data is kept before it is erased; 0 erases it at the next purge run',
    },
  },
};

export const ERASED_TENANT: SchemaObject = {
  type: 'object',
  required: ['id', 'erased_rows'],
  properties: {
    id: { type: 'string' },
    erased_rows: {
      type: 'object',
      additionalProperties: { type: 'integer' },
      description: 'rows removed from each table',
    },
  },
};

const SCOPE: SchemaObject = { type: 'string', enum: [...SCOPES] };
const ROLE: SchemaObject = {
  type: 'string',
  enum: [...ROLES],
  description: 'member: ingest and read; admin: also keys, members, roles and tenant settings',
};

const MEMBER_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['id', 'email', 'role', 'created_at'],
  properties: {
    id: { type: 'string', example: 'mem_...' },
    email: { type: 'string', format: 'email', description: 'lowercase' },
    role: ROLE,
    created_at: { type: 'string', format: 'date-time' },
  },
};

export const NEW_MEMBER: SchemaObject = {
  type: 'object',
  required: ['email', 'role'],
  additionalProperties: false,
  properties: {
    email: {
      type: 'string',
      format: 'email',
      description: 'stored trimmed and lowercase; unique in the tenant',
    },
    role: ROLE,
  },
};

export const MEMBER_ROLE: SchemaObject = {
  type: 'object',
  required: ['role'],
  additionalProperties: false,
  properties: { role: ROLE },
};

export const MEMBERS: SchemaObject = {
  type: 'object',
  required: ['members'],
  properties: { members: { type: 'array', items: { $ref: '#/components/schemas/Member' } } },
};

const API_KEY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['id', 'name', 'scopes', 'created_at'],
  properties: {
    id: { type: 'string', example: 'key_...', description: 'public: the key itself is never shown again' },
    name: { type: 'string' },
    scopes: { type: 'array', items: SCOPE },
    member_id: { type: 'string', description: 'the member it belongs to; absent for a service key' },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: {
      type: 'string',
      format: 'date-time',
      description: 'to about a minute; absent if never used',
    },
  },
};

export const NEW_API_KEY: SchemaObject = {
  type: 'object',
  required: ['name', 'scopes'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', example: 'telegraf on web-1' },
    scopes: { type: 'array', items: SCOPE, minItems: 1 },
    member_id: {
      type: 'string',
      description:
        "the member the key belongs to (its scopes must be within the member's role); omit for a service key",
    },
  },
};

export const CREATED_API_KEY: SchemaObject = {
  allOf: [
    { $ref: '#/components/schemas/ApiKey' },
    {
      type: 'object',
      required: ['api_key'],
      properties: {
        api_key: { type: 'string', description: 'shown once: only its hash is kept', example: 'sk_...' },
      },
    },
  ],
};

export const API_KEYS: SchemaObject = {
  type: 'object',
  required: ['keys'],
  properties: { keys: { type: 'array', items: { $ref: '#/components/schemas/ApiKey' } } },
};

export const AUDIT_LOG: SchemaObject = {
  type: 'object',
  required: ['entries'],
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'at', 'actor', 'action', 'target', 'source_ip', 'details'],
        properties: {
          id: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
          actor: {
            type: 'object',
            required: ['type'],
            properties: {
              type: {
                type: 'string',
                enum: ['member', 'service-key', 'deployment-admin', 'system', 'feedback-link'],
              },
              member_id: { type: 'string' },
              key_id: { type: 'string', description: 'the key the actor used' },
            },
          },
          action: { type: 'string', enum: [...AUDIT_ACTIONS] },
          target: { type: 'string', description: 'the tenant, member or key acted on' },
          source_ip: { type: 'string' },
          details: { type: 'object', description: 'what changed (never a secret)' },
        },
      },
    },
  },
};

export const POINTS: SchemaObject = {
  type: 'object',
  required: ['points'],
  properties: {
    points: {
      type: 'array',
      items: {
        type: 'object',
        required: ['series', 'ts', 'value'],
        properties: {
          series: { type: 'string', description: 'the metric name', example: 'cpu' },
          ts: {
            ...instant,
            description: 'RFC 3339 or epoch milliseconds, from 7 days back to 10 minutes ahead',
          },
          value: { type: 'number', example: 42.5 },
          labels: {
            type: 'object',
            additionalProperties: { type: 'string' },
            description: 'sorted into the series name: cpu{host="a"}',
            example: { host: 'a' },
          },
        },
      },
    },
  },
};

export const INFLUX_LINES: SchemaObject = {
  type: 'string',
  description: 'InfluxDB line protocol, one point per field: measurement,tag=v field=1.5 timestamp',
  example: 'mem,host=a used=1.5,free=2i 1763892000000',
};

export const REMOTE_WRITE: SchemaObject = {
  type: 'string',
  format: 'binary',
  description: 'Prometheus remote_write 1.0: a snappy-compressed protobuf WriteRequest',
};

const INGEST_ANSWER_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['accepted', 'rejected'],
  properties: {
    accepted: { type: 'integer', description: 'points taken into the engine queue' },
    rejected: {
      type: 'array',
      description: 'the points refused, each named by its position in the body; the others are taken',
      items: {
        type: 'object',
        required: ['index', 'error'],
        properties: { index: { type: 'integer' }, error: { type: 'string' } },
      },
    },
  },
};

/** Shapes many routes share, kept once under components.schemas and referenced by the routes. */
export const SHARED_SCHEMAS: Record<string, SchemaObject> = {
  Error: ERROR_SCHEMA,
  IngestAnswer: INGEST_ANSWER_SCHEMA,
  Member: MEMBER_SCHEMA,
  ApiKey: API_KEY_SCHEMA,
};
export const ERROR = { $ref: '#/components/schemas/Error' };
export const MEMBER = { $ref: '#/components/schemas/Member' };
export const INGEST_ANSWER = { $ref: '#/components/schemas/IngestAnswer' };

/** What LLM triage made of an anomaly (absent when the tenant has no triage, or it is still being triaged). */
export const TRIAGE: SchemaObject = {
  type: 'object',
  required: ['triage'],
  properties: {
    triage: {
      type: 'string',
      enum: ['done', 'skipped'],
      description:
        'done: the LLM answered; skipped: it could not in time (see reason), the alert went out without it',
    },
    verdict: { type: 'string', enum: [...VERDICTS] },
    severity: { type: 'string', enum: [...TRIAGE_SEVERITIES] },
    explanation: { type: 'string', description: 'at most two sentences' },
    likely_cause: { type: 'string' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    model: { type: 'string' },
    reason: { type: 'string', enum: [...SKIP_REASONS] },
  },
};

export const ANOMALIES: SchemaObject = {
  type: 'object',
  required: ['anomalies'],
  properties: {
    anomalies: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'series', 'ts', 'value', 'score', 'severity', 'detectors'],
        properties: {
          id: { type: 'string' },
          series: { type: 'string', example: 'cpu{host="a"}' },
          ts: { type: 'string', format: 'date-time' },
          value: { type: 'number' },
          score: { type: 'number', minimum: 0, maximum: 1 },
          severity: { type: 'string' },
          detectors: { type: 'array', items: { type: 'string' } },
          explanation: TRIAGE,
        },
      },
    },
  },
};

/** POST /v1/anomalies/{id}/feedback. */
export const NEW_FEEDBACK: SchemaObject = {
  type: 'object',
  required: ['label'],
  additionalProperties: false,
  properties: {
    label: { type: 'string', enum: ['true_positive', 'false_positive', 'expected'] },
    note: { type: 'string', maxLength: 1000 },
  },
};

/** An anomaly's label, as stored. */
export const FEEDBACK: SchemaObject = {
  type: 'object',
  required: ['anomaly_id', 'series', 'label', 'actor', 'created_at'],
  properties: {
    anomaly_id: { type: 'string' },
    series: { type: 'string' },
    label: { type: 'string', enum: ['true_positive', 'false_positive', 'expected'] },
    note: { type: 'string' },
    actor: { type: 'string', description: 'who gave it, as the audit log names actors' },
    created_at: { type: 'string', format: 'date-time' },
  },
};

/** One delivery of the alert outbox. */
export const DELIVERY: SchemaObject = {
  type: 'object',
  required: [
    'id',
    'idempotency_key',
    'subscription_id',
    'channel',
    'target',
    'incident_id',
    'notification_id',
    'state',
    'title',
    'status',
    'attempts',
    'last_status',
    'last_error',
    'created_at',
    'next_attempt_at',
    'sent_at',
  ],
  properties: {
    id: { type: 'string' },
    idempotency_key: { type: 'string', description: 'sent with every attempt; receivers drop repeats' },
    subscription_id: { type: 'string' },
    channel: { type: 'string', enum: ['webhook', 'slack', 'email', 'pagerduty'] },
    target: { type: 'object', description: 'as the subscription lists it (secrets masked)' },
    incident_id: { type: 'string' },
    notification_id: { type: 'string' },
    state: { type: 'string', enum: ['opened', 'updated', 'renotified', 'resolved'] },
    title: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'sent', 'dead'] },
    attempts: { type: 'integer', minimum: 0 },
    last_status: { type: 'integer', nullable: true, description: "the receiver's last HTTP status" },
    last_error: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    next_attempt_at: { type: 'string', format: 'date-time', nullable: true },
    sent_at: { type: 'string', format: 'date-time', nullable: true },
  },
};

/** GET /v1/deliveries: the alert outbox, newest first. */
export const DELIVERIES: SchemaObject = {
  type: 'object',
  required: ['deliveries'],
  properties: { deliveries: { type: 'array', items: DELIVERY } },
};

/** The data of one `anomaly` event of GET /v1/anomalies/stream (the wire format of anomaly-event.ts, without tenant_id). */
export const ANOMALY_STREAM: SchemaObject = {
  type: 'object',
  description: 'one event per anomaly: `id: <anomaly id>`, `event: anomaly`, `data: <this, as JSON>`',
  required: ['v', 'id', 'series', 'ts', 'value', 'score', 'severity', 'detectors', 'context'],
  properties: {
    v: { type: 'integer', enum: [1], description: 'format version; a change of meaning gets a new one' },
    id: { type: 'string', description: 'deterministic: an anomaly sent twice has the same id' },
    series: { type: 'string', example: 'cpu{host="a"}' },
    ts: { type: 'string', format: 'date-time' },
    value: { type: 'number' },
    score: { type: 'number', minimum: 0, maximum: 1 },
    severity: { type: 'string' },
    detectors: { type: 'array', items: { type: 'string' } },
    context: {
      type: 'object',
      description: 'the recent points before the anomaly, oldest first',
      required: ['ts', 'values'],
      properties: {
        ts: { type: 'array', items: { type: 'string', format: 'date-time' } },
        values: { type: 'array', items: { type: 'number' } },
      },
    },
    explanation: TRIAGE,
  },
};

export const SERIES_LIST: SchemaObject = {
  type: 'object',
  required: ['series'],
  properties: {
    series: {
      type: 'array',
      items: {
        type: 'object',
        required: ['series', 'first_seen', 'last_seen', 'points'],
        properties: {
          series: { type: 'string', example: 'cpu{host="a"}' },
          first_seen: { type: 'string', format: 'date-time' },
          last_seen: { type: 'string', format: 'date-time' },
          points: { type: 'integer', description: 'points stored' },
        },
      },
    },
  },
};

const flags: SchemaObject = { type: 'integer', description: 'bit markers; 1 = anomaly' };

export const SERIES_HOURS: SchemaObject = {
  type: 'object',
  required: ['series', 'hours'],
  description:
    "per hour, what the series' points were: written for zero-retention tenants (their only trace of points), " +
    'empty for other tenants, whose points are read with /points',
  properties: {
    series: { type: 'string' },
    hours: {
      type: 'array',
      items: {
        type: 'object',
        required: ['hour', 'count', 'sum', 'min', 'max', 'avg'],
        properties: {
          hour: { type: 'integer', description: 'start of the hour, epoch milliseconds' },
          count: { type: 'integer' },
          sum: { type: 'number' },
          min: { type: 'number' },
          max: { type: 'number' },
          avg: { type: 'number' },
        },
      },
    },
  },
};

export const POINT_RANGE: SchemaObject = {
  description:
    'every point of the range when there are few enough, else time buckets that keep spikes and dips',
  oneOf: [
    {
      type: 'object',
      required: ['series', 'resolution', 'points'],
      properties: {
        series: { type: 'string' },
        resolution: { type: 'string', enum: ['raw'] },
        points: {
          type: 'array',
          items: {
            type: 'object',
            required: ['ts', 'value', 'score', 'flags'],
            properties: {
              ts: { type: 'integer', description: 'epoch milliseconds' },
              value: { type: 'number' },
              score: { type: 'number', minimum: 0, maximum: 1 },
              flags,
            },
          },
        },
      },
    },
    {
      type: 'object',
      required: ['series', 'resolution', 'bucketMs', 'buckets'],
      properties: {
        series: { type: 'string' },
        resolution: { type: 'string', enum: ['bucketed'] },
        bucketMs: { type: 'integer' },
        buckets: {
          type: 'array',
          items: {
            type: 'object',
            required: ['ts', 'count', 'min', 'max', 'avg', 'maxScore', 'flags'],
            properties: {
              ts: {
                type: 'integer',
                description: 'bucket start, epoch milliseconds; the bucket is [ts, ts + bucketMs)',
              },
              count: { type: 'integer' },
              min: { type: 'number' },
              max: { type: 'number' },
              avg: { type: 'number' },
              maxScore: { type: 'number', minimum: 0, maximum: 1 },
              flags,
            },
          },
        },
      },
    },
  ],
};

const DOWN: SchemaObject = {
  type: 'object',
  required: ['status', 'error'],
  properties: { status: { type: 'string', enum: ['down'] }, error: { type: 'string' } },
};

export const HEALTH: SchemaObject = {
  type: 'object',
  required: ['status', 'version', 'uptime_s', 'role', 'mode', 'detector', 'detectors', 'checks', 'failing'],
  properties: {
    status: {
      type: 'string',
      enum: ['ok', 'unavailable'],
      description: 'unavailable (HTTP 503) when a check is down',
    },
    version: { type: 'string' },
    uptime_s: { type: 'integer' },
    role: {
      type: 'string',
      enum: ['all', 'api', 'engine'],
      description: 'SEISMO_ROLE: what this process runs',
    },
    mode: { type: 'string', enum: ['embedded', 'kafka'] },
    detector: { type: 'string', description: 'the default detector' },
    detectors: { type: 'array', items: { type: 'string' } },
    checks: {
      type: 'object',
      required: ['clickhouse', 'kafka'],
      properties: {
        clickhouse: {
          oneOf: [
            {
              type: 'object',
              required: ['status', 'latency_ms'],
              properties: { status: { type: 'string', enum: ['up'] }, latency_ms: { type: 'integer' } },
            },
            DOWN,
          ],
          description: 'a SELECT 1',
        },
        kafka: {
          oneOf: [
            {
              type: 'object',
              required: ['status'],
              properties: { status: { type: 'string', enum: ['embedded'] } },
            },
            {
              type: 'object',
              required: ['status', 'brokers', 'cluster_id'],
              properties: {
                status: { type: 'string', enum: ['up'] },
                brokers: { type: 'integer' },
                cluster_id: { type: 'string' },
              },
            },
            DOWN,
          ],
          description: 'embedded: no broker; Kafka mode: the cluster answers',
        },
        consumer_lag: {
          oneOf: [
            {
              type: 'object',
              required: ['status', 'messages'],
              properties: { status: { type: 'string', enum: ['up'] }, messages: { type: 'integer' } },
            },
            DOWN,
          ],
          description:
            'only where this process runs the engine: messages not yet taken, summed over partitions ' +
            '(Kafka: high watermark minus the group offset; embedded: uncommitted messages)',
        },
      },
    },
    failing: {
      type: 'array',
      items: { type: 'string', enum: ['clickhouse', 'kafka', 'consumer_lag'] },
      description: 'the checks that are down',
    },
  },
};

const USAGE_COUNTS: Record<string, SchemaObject> = {
  points_ingested: {
    type: 'integer',
    description: 'points taken (HTTP 202 or a tenant topic) that reached the engine',
  },
  points_scored: { type: 'integer', description: 'points scored (stored unless zero retention)' },
  points_rejected: {
    type: 'integer',
    description: 'points refused at ingest (in the 202 answer) plus points the engine refused (dead letters)',
  },
  active_series: { type: 'integer', description: 'distinct series with a point scored in the bucket' },
  anomalies: { type: 'integer' },
  alerts_delivered: { type: 'integer', description: 'alerts delivered; 0 until alerting exists' },
  llm_tokens_in: { type: 'integer', description: 'LLM prompt tokens (triage and profiling)' },
  llm_tokens_out: { type: 'integer', description: 'LLM completion tokens (triage and profiling)' },
};

const usageCounts = (extra: Record<string, SchemaObject> = {}): SchemaObject => ({
  type: 'object',
  required: [...Object.keys(extra), ...Object.keys(USAGE_COUNTS)],
  properties: { ...extra, ...USAGE_COUNTS },
});

export const USAGE: SchemaObject = {
  type: 'object',
  required: ['from', 'to', 'granularity', 'totals', 'buckets'],
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    granularity: { type: 'string', enum: ['hour', 'day'] },
    totals: usageCounts({
      llm_cost_usd: {
        type: 'number',
        description:
          "estimated cost of the range's LLM tokens at the deployment's model price; 0 without LLM triage",
      },
    }),
    buckets: {
      type: 'array',
      items: usageCounts({
        start: { type: 'string', format: 'date-time', description: 'start of the hour or UTC day' },
      }),
    },
  },
};

export const instantQuery: SchemaObject = { type: 'string', description: 'RFC 3339 or epoch milliseconds' };

const GLOB: SchemaObject = {
  type: 'string',
  maxLength: 200,
  description: 'a glob: * any run, ? one character',
};
const SERIES_MATCHERS: Record<string, SchemaObject> = {
  series: { ...GLOB, description: 'a glob on the metric name (on the whole series key when it holds "{")' },
  labels: {
    type: 'object',
    additionalProperties: GLOB,
    description: 'label name to a glob its value must match; a leading ! negates (absent or not matching)',
  },
};

const SUBSCRIPTION_FILTER: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...SERIES_MATCHERS,
    min_severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    min_score: { type: 'number', minimum: 0, maximum: 1 },
    detectors: { type: 'array', items: { type: 'string' }, description: 'any of these detectors fired' },
  },
};

export const NEW_SUBSCRIPTION: SchemaObject = {
  type: 'object',
  required: ['channel', 'target'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 100 },
    channel: { type: 'string', enum: ['webhook', 'slack', 'email', 'pagerduty'] },
    target: {
      type: 'object',
      description:
        'webhook: {url}; slack: {url} (an incoming-webhook URL); email: {to: [addresses]}; ' +
        'pagerduty: {routing_key} (an Events API v2 integration key)',
    },
    filter: SUBSCRIPTION_FILTER,
    rate_limit_per_hour: { type: 'integer', minimum: 1, maximum: 3600, default: 60 },
    owner_member_id: { type: 'string', description: 'the member who may list and mute it' },
  },
};

export const SUBSCRIPTION: SchemaObject = {
  type: 'object',
  required: ['id', 'name', 'channel', 'target', 'filter', 'rate_limit_per_hour', 'created_at'],
  properties: {
    id: { type: 'string', example: 'sub_...' },
    name: { type: 'string' },
    channel: { type: 'string' },
    target: { type: 'object', description: 'without secrets: a Slack URL shows only its host' },
    filter: SUBSCRIPTION_FILTER,
    rate_limit_per_hour: { type: 'integer' },
    owner_member_id: { type: 'string' },
    muted_until: { type: 'string', format: 'date-time' },
    created_at: { type: 'string', format: 'date-time' },
  },
};

export const CREATED_SUBSCRIPTION: SchemaObject = {
  ...SUBSCRIPTION,
  properties: {
    ...SUBSCRIPTION.properties,
    secret: { type: 'string', description: "a webhook's signing secret (whsec_...): shown once" },
  },
};

export const SUBSCRIPTIONS: SchemaObject = {
  type: 'object',
  required: ['subscriptions'],
  properties: { subscriptions: { type: 'array', items: SUBSCRIPTION } },
};

export const MUTE: SchemaObject = {
  type: 'object',
  required: ['until'],
  additionalProperties: false,
  properties: { until: { type: 'string', description: 'RFC 3339 or epoch milliseconds' } },
};

export const NEW_SILENCE: SchemaObject = {
  type: 'object',
  required: ['matchers', 'ends_at'],
  additionalProperties: false,
  properties: {
    matchers: { type: 'object', additionalProperties: false, properties: SERIES_MATCHERS },
    starts_at: { type: 'string', description: 'RFC 3339 or epoch milliseconds; default now' },
    ends_at: { type: 'string', description: 'RFC 3339 or epoch milliseconds' },
    comment: { type: 'string', maxLength: 500 },
  },
};

export const SILENCE: SchemaObject = {
  type: 'object',
  required: ['id', 'matchers', 'starts_at', 'ends_at', 'comment', 'created_by', 'created_at'],
  properties: {
    id: { type: 'string', example: 'sil_...' },
    matchers: { type: 'object', properties: SERIES_MATCHERS },
    starts_at: { type: 'string', format: 'date-time' },
    ends_at: { type: 'string', format: 'date-time' },
    comment: { type: 'string' },
    created_by: { type: 'string', description: 'member:<id>, service-key:<id> or deployment-admin' },
    created_at: { type: 'string', format: 'date-time' },
  },
};

export const SILENCES: SchemaObject = {
  type: 'object',
  required: ['silences'],
  properties: { silences: { type: 'array', items: SILENCE } },
};
