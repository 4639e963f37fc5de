import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * Seismo's configuration, read once from the environment and validated at boot: a
 * wrong value stops the process with the variable's name, instead of surfacing later as
 * a strange failure. Every variable is documented in the README.
 */
const schema = z.object({
  SEISMO_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SEISMO_HOST: z.string().min(1).default('0.0.0.0'),
  SEISMO_DATA_DIR: z.string().min(1).default('./data'),
  SEISMO_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  SEISMO_CLICKHOUSE_URL: z.url({ protocol: /^https?$/ }).optional(),
  SEISMO_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SEISMO_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(4),
  SEISMO_ANOMALY_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.5),
  SEISMO_KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, 'expected host:port[,host:port...]')
    .optional(),
  SEISMO_ROLE: z.enum(['all', 'api', 'engine']).default('all'),
  SEISMO_ENGINE_GROUP: z.string().min(1).default('seismo-engine'),
  SEISMO_ALERTING_GROUP: z.string().min(1).default('seismo-alerting'),
  SEISMO_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  SEISMO_INGEST_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  SEISMO_STRIPE_API_KEY: z
    .string()
    .regex(
      /^(sk|rk)_(test|live)_\S+$/,
      'expected a Stripe secret or restricted key (sk_live_..., rk_test_...)',
    )
    .optional(),
  SEISMO_STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).optional(),
  SEISMO_BILLING_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  SEISMO_BILLING_CLOSE_DELAY_MS: z.coerce.number().int().min(0).default(600_000),
  SEISMO_TENANT_RELOAD_MS: z.coerce.number().int().min(100).default(5000),
  SEISMO_PURGE_INTERVAL_MS: z.coerce.number().int().min(100).default(3_600_000),
  SEISMO_ALLOW_PRIVATE_TARGETS: z
    .enum(['true', 'false'], { message: 'expected true or false' })
    .default('false'),
  SEISMO_ALERT_TICK_MS: z.coerce.number().int().min(100).default(5000),
  SEISMO_INCIDENT_RESOLVE_MS: z.coerce.number().int().min(1000).default(600_000),
  SEISMO_INCIDENT_RENOTIFY_MS: z.coerce.number().int().min(1000).default(14_400_000),
  SEISMO_NO_DATA_AFTER_MS: z.coerce.number().int().min(1000).max(86_399_000).default(120_000),
  // A query or fragment would end up in the middle of every link made from it.
  SEISMO_PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'expected an http(s) URL, e.g. https://seismo.example.com' })
    .refine((url) => !/[?#]/.test(url), 'expected no query or fragment')
    .optional(),
  SEISMO_SMTP_URL: z
    .url({ protocol: /^smtps?$/, message: 'expected smtp://[user:pass@]host[:port] or smtps://...' })
    .optional(),
  SEISMO_SMTP_FROM: z
    .string()
    .regex(
      /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/,
      'expected alerts@example.com or Name <alerts@example.com>',
    )
    .optional(),
  SEISMO_LLM_PROVIDER: z.enum(['openai', 'anthropic', 'openai-compatible']).optional(),
  SEISMO_LLM_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  SEISMO_LLM_API_KEY: z.string().min(1).optional(),
  SEISMO_LLM_MODEL: z.string().min(1).max(200).optional(),
  SEISMO_LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(20_000),
  SEISMO_LLM_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  SEISMO_LLM_QUEUE: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  SEISMO_LLM_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  SEISMO_LLM_DAILY_TOKENS: z.coerce.number().int().min(0).default(20_000_000),
  SEISMO_LLM_TENANT_DAILY_TOKENS: z.coerce.number().int().min(0).default(1_000_000),
  SEISMO_LLM_PRICE_IN: z.coerce.number().min(0).optional(),
  SEISMO_LLM_PRICE_OUT: z.coerce.number().min(0).optional(),
  SEISMO_LLM_LOG_PROMPTS: z.enum(['true', 'false']).default('false'),
});

/** Every variable Seismo reads: what docker-compose.yml and the README may set, and nothing else. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** What this process runs: API and engine together, or one of them (Kafka mode only). */
export type SeismoRole = 'all' | 'api' | 'engine';

export interface SeismoConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** A ClickHouse server over HTTP; absent: embedded ClickHouse in `dataDir`. */
  readonly clickhouseUrl?: string;
  /** The admin token; absent: one is generated and kept in `dataDir`. */
  readonly adminToken?: string;
  /** Partitions of the embedded queue: how many batches the engine scores at once. */
  readonly partitions: number;
  /** Points scoring at least this become anomalies. */
  readonly anomalyThreshold: number;
  /** Kafka brokers; absent: embedded mode, an in-process queue in place of Kafka. */
  readonly kafkaBrokers?: readonly string[];
  readonly role: SeismoRole;
  /** The engines' consumer group. */
  readonly engineGroup: string;
  /** The API processes' alerting group (Kafka mode): one member at a time alerts, the others stand by. */
  readonly alertingGroup: string;
  /** How often each partition's detector state is checkpointed. */
  readonly checkpointIntervalMs: number;
  /** Threads that decode ingest request bodies; 0 decodes on the main thread. */
  readonly ingestThreads: number;
  /** Billing through Stripe meters; absent (no SEISMO_STRIPE_API_KEY): nothing is billed. */
  readonly billing?: BillingConfig;
  /** How often tenants, members and keys are re-read: how soon another process's change applies here. */
  readonly tenantReloadMs: number;
  /** How often closed tenants past their grace period are looked for and erased. */
  readonly purgeIntervalMs: number;
  /** Alert receivers on loopback, private and link-local addresses may be reached (tests, a closed network). */
  readonly allowPrivateTargets: boolean;
  /** Email alerts; absent (no SEISMO_SMTP_URL): the email channel is off. */
  readonly smtp?: SmtpConfig;
  readonly incidents: IncidentConfig;
  /**
   * Where people reach this deployment's API (SEISMO_PUBLIC_URL), without a trailing slash:
   * alerts carry feedback links under it. Absent: alerts carry no links.
   */
  readonly publicUrl?: string;
  /** LLM triage; absent (no SEISMO_LLM_PROVIDER): no LLM, every anomaly keeps its statistical verdict. */
  readonly llm?: LlmConfig;
}

export type LlmProviderName = 'openai' | 'anthropic' | 'openai-compatible';

export interface LlmConfig {
  readonly provider: LlmProviderName;
  /** Required for openai-compatible; for the others, their own API by default. */
  readonly baseUrl?: string;
  /** Required for openai and anthropic; optional for a local openai-compatible server. */
  readonly apiKey?: string;
  readonly model: string;
  /** One call's limit, retries aside. */
  readonly timeoutMs: number;
  /** Calls in flight at once. */
  readonly concurrency: number;
  /** Candidates waiting at most; beyond it the least severe are dropped (counted). */
  readonly queueSize: number;
  /** How long an alert waits for its verdict before it goes out without one (`triage: skipped`). */
  readonly waitMs: number;
  /** Tokens (in + out) the deployment spends per UTC day, over all tenants. */
  readonly dailyTokens: number;
  /** Tokens a tenant spends per UTC day unless it set its own budget. */
  readonly tenantDailyTokens: number;
  /** USD per million tokens, input and output: the cost estimate of the usage counters. */
  readonly priceInPerMillion: number;
  readonly priceOutPerMillion: number;
  /** Log prompt and answer text (debug); off by default. */
  readonly logPrompts: boolean;
}

/** Model of each provider when SEISMO_LLM_MODEL is unset (an openai-compatible server has no default). */
export const DEFAULT_LLM_MODELS: Readonly<Record<'openai' | 'anthropic', string>> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
};

/** USD per million tokens (input, output) of the default models; any other model is priced 0 unless configured. */
export const LLM_PRICES: Readonly<Record<string, readonly [number, number]>> = {
  'gpt-4o-mini': [0.15, 0.6],
  'gpt-4.1-mini': [0.4, 1.6],
  'gpt-4.1-nano': [0.1, 0.4],
  'gpt-5-mini': [0.25, 2.0],
  'claude-haiku-4-5': [1, 5],
  'claude-3-haiku-20240307': [0.25, 1.25],
};

export interface IncidentConfig {
  /** How often open incidents and silent series are looked at. */
  readonly tickMs: number;
  /** An incident resolves once none of its series was anomalous for this long. */
  readonly resolveAfterMs: number;
  /** An open incident is told again after this long without a notification. */
  readonly renotifyAfterMs: number;
  /** The shortest silence of a regularly reporting series that opens a no_data incident. */
  readonly noDataAfterMs: number;
}

export interface SmtpConfig {
  readonly url: string;
  readonly from: string;
}

export interface BillingConfig {
  readonly stripeApiKey: string;
  /** Another Stripe API address (stripe-mock, a proxy); absent: api.stripe.com. */
  readonly stripeApiBase?: string;
  /** How often the billing worker runs. */
  readonly intervalMs: number;
  /** How long after an hour ends before it is billed. */
  readonly closeDelayMs: number;
}

export class ConfigError extends Error {
  constructor(readonly issues: Array<{ variable: string; problem: string }>) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.problem}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SeismoConfig {
  // An empty variable means "unset": `SEISMO_PORT= npm start` should not be a parse error.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0]), problem: issue.message })),
    );
  }
  const v = parsed.data;
  if (v.SEISMO_ROLE !== 'all' && v.SEISMO_KAFKA_BROKERS === undefined) {
    // Without Kafka there is nothing between an API process and an engine process.
    throw new ConfigError([
      {
        variable: 'SEISMO_ROLE',
        problem: `'${v.SEISMO_ROLE}' needs SEISMO_KAFKA_BROKERS; embedded mode runs API and engine together ('all')`,
      },
    ]);
  }
  const llm = llmConfig(v);
  if (v.SEISMO_SMTP_URL !== undefined && v.SEISMO_SMTP_FROM === undefined) {
    throw new ConfigError([
      { variable: 'SEISMO_SMTP_FROM', problem: 'needed with SEISMO_SMTP_URL: the From of alert emails' },
    ]);
  }
  return {
    port: v.SEISMO_PORT,
    host: v.SEISMO_HOST,
    dataDir: v.SEISMO_DATA_DIR,
    logLevel: v.SEISMO_LOG_LEVEL,
    ...(v.SEISMO_CLICKHOUSE_URL ? { clickhouseUrl: v.SEISMO_CLICKHOUSE_URL } : {}),
    ...(v.SEISMO_ADMIN_TOKEN ? { adminToken: v.SEISMO_ADMIN_TOKEN } : {}),
    partitions: v.SEISMO_PARTITIONS,
    anomalyThreshold: v.SEISMO_ANOMALY_THRESHOLD,
    ...(v.SEISMO_KAFKA_BROKERS ? { kafkaBrokers: v.SEISMO_KAFKA_BROKERS.split(',') } : {}),
    role: v.SEISMO_ROLE,
    engineGroup: v.SEISMO_ENGINE_GROUP,
    alertingGroup: v.SEISMO_ALERTING_GROUP,
    checkpointIntervalMs: v.SEISMO_CHECKPOINT_INTERVAL_MS,
    ingestThreads: v.SEISMO_INGEST_THREADS ?? defaultIngestThreads(v.SEISMO_ROLE, availableParallelism()),
    tenantReloadMs: v.SEISMO_TENANT_RELOAD_MS,
    purgeIntervalMs: v.SEISMO_PURGE_INTERVAL_MS,
    allowPrivateTargets: v.SEISMO_ALLOW_PRIVATE_TARGETS === 'true',
    incidents: {
      tickMs: v.SEISMO_ALERT_TICK_MS,
      resolveAfterMs: v.SEISMO_INCIDENT_RESOLVE_MS,
      renotifyAfterMs: v.SEISMO_INCIDENT_RENOTIFY_MS,
      noDataAfterMs: v.SEISMO_NO_DATA_AFTER_MS,
    },
    ...(v.SEISMO_PUBLIC_URL ? { publicUrl: v.SEISMO_PUBLIC_URL.replace(/\/+$/, '') } : {}),
    ...(v.SEISMO_SMTP_URL && v.SEISMO_SMTP_FROM
      ? { smtp: { url: v.SEISMO_SMTP_URL, from: v.SEISMO_SMTP_FROM } }
      : {}),
    ...(v.SEISMO_STRIPE_API_KEY
      ? {
          billing: {
            stripeApiKey: v.SEISMO_STRIPE_API_KEY,
            ...(v.SEISMO_STRIPE_API_BASE ? { stripeApiBase: v.SEISMO_STRIPE_API_BASE } : {}),
            intervalMs: v.SEISMO_BILLING_INTERVAL_MS,
            closeDelayMs: v.SEISMO_BILLING_CLOSE_DELAY_MS,
          },
        }
      : {}),
    ...(llm ? { llm } : {}),
  };
}

function llmConfig(v: z.infer<typeof schema>): LlmConfig | undefined {
  const provider = v.SEISMO_LLM_PROVIDER;
  if (provider === undefined) {
    const stray = (['SEISMO_LLM_BASE_URL', 'SEISMO_LLM_API_KEY', 'SEISMO_LLM_MODEL'] as const).filter(
      (name) => v[name] !== undefined,
    );
    if (stray.length > 0) {
      throw new ConfigError([
        {
          variable: 'SEISMO_LLM_PROVIDER',
          problem: `needed with ${stray.join(', ')}: openai, anthropic or openai-compatible`,
        },
      ]);
    }
    return undefined;
  }
  if (provider !== 'openai-compatible' && v.SEISMO_LLM_API_KEY === undefined) {
    throw new ConfigError([
      { variable: 'SEISMO_LLM_API_KEY', problem: `needed with SEISMO_LLM_PROVIDER=${provider}` },
    ]);
  }
  if (provider === 'openai-compatible' && v.SEISMO_LLM_BASE_URL === undefined) {
    throw new ConfigError([
      {
        variable: 'SEISMO_LLM_BASE_URL',
        problem: 'needed with SEISMO_LLM_PROVIDER=openai-compatible (e.g. http://127.0.0.1:11434/v1)',
      },
    ]);
  }
  const model =
    v.SEISMO_LLM_MODEL ?? (provider === 'openai-compatible' ? undefined : DEFAULT_LLM_MODELS[provider]);
  if (model === undefined) {
    throw new ConfigError([
      { variable: 'SEISMO_LLM_MODEL', problem: 'needed with SEISMO_LLM_PROVIDER=openai-compatible' },
    ]);
  }
  const [priceIn, priceOut] = LLM_PRICES[model] ?? [0, 0];
  return {
    provider,
    ...(v.SEISMO_LLM_BASE_URL ? { baseUrl: v.SEISMO_LLM_BASE_URL } : {}),
    ...(v.SEISMO_LLM_API_KEY ? { apiKey: v.SEISMO_LLM_API_KEY } : {}),
    model,
    timeoutMs: v.SEISMO_LLM_TIMEOUT_MS,
    concurrency: v.SEISMO_LLM_CONCURRENCY,
    queueSize: v.SEISMO_LLM_QUEUE,
    waitMs: v.SEISMO_LLM_WAIT_MS,
    dailyTokens: v.SEISMO_LLM_DAILY_TOKENS,
    tenantDailyTokens: v.SEISMO_LLM_TENANT_DAILY_TOKENS,
    priceInPerMillion: v.SEISMO_LLM_PRICE_IN ?? priceIn,
    priceOutPerMillion: v.SEISMO_LLM_PRICE_OUT ?? priceOut,
    logPrompts: v.SEISMO_LLM_LOG_PROMPTS === 'true',
  };
}

/**
 * Decoding threads when SEISMO_INGEST_THREADS is unset: the cores left once the main
 * thread has one and, in a process that also runs the engine, ClickHouse's parsing and
 * merges have another (at most 4). Measured on 2 cores with the engine in the process,
 * a decoding thread only competed with those two: 71k points/s against 87k inline.
 */
export function defaultIngestThreads(role: SeismoRole, cores: number): number {
  const reserved = role === 'api' ? 1 : 2;
  return Math.min(4, Math.max(0, cores - reserved));
}
