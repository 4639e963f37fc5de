import { availableParallelism } from 'node:os';
import { CONFIG_VARIABLES, ConfigError, defaultIngestThreads, loadConfig } from './config';

describe('loadConfig', () => {
  it('fills in defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: './data',
      logLevel: 'info',
      partitions: 4,
      anomalyThreshold: 0.5,
      role: 'all',
      engineGroup: 'seismo-engine',
      alertingGroup: 'seismo-alerting',
      checkpointIntervalMs: 30_000,
      ingestThreads: defaultIngestThreads('all', availableParallelism()),
      tenantReloadMs: 5000,
      purgeIntervalMs: 3_600_000,
      allowPrivateTargets: false,
      incidents: {
        tickMs: 5000,
        resolveAfterMs: 600_000,
        renotifyAfterMs: 14_400_000,
        noDataAfterMs: 120_000,
      },
    });
  });

  it('allows private alert targets only when told, and turns email on with an SMTP URL and a From', () => {
    expect(loadConfig({ SEISMO_ALLOW_PRIVATE_TARGETS: 'true' }).allowPrivateTargets).toBe(true);
    expect(loadConfig({ SEISMO_ALLOW_PRIVATE_TARGETS: 'false' }).allowPrivateTargets).toBe(false);
    expect(loadConfig({}).smtp).toBeUndefined();
    expect(
      loadConfig({
        SEISMO_SMTP_URL: 'smtps://alerts:s3cret@mail.example:465',
        SEISMO_SMTP_FROM: 'Seismo <alerts@example.com>',
      }).smtp,
    ).toEqual({ url: 'smtps://alerts:s3cret@mail.example:465', from: 'Seismo <alerts@example.com>' });
    expect(
      loadConfig({ SEISMO_SMTP_URL: 'smtp://mail.example:587', SEISMO_SMTP_FROM: 'alerts@example.com' }).smtp,
    ).toEqual({ url: 'smtp://mail.example:587', from: 'alerts@example.com' });
    expect(() => loadConfig({ SEISMO_SMTP_URL: 'smtp://mail.example:587' })).toThrow(/SEISMO_SMTP_FROM/);
  });

  it('reads the public URL that alert links start with, without a trailing slash', () => {
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(loadConfig({ SEISMO_PUBLIC_URL: 'https://seismo.example.com' }).publicUrl).toBe(
      'https://seismo.example.com',
    );
    expect(loadConfig({ SEISMO_PUBLIC_URL: 'http://10.0.0.5:8080/seismo/' }).publicUrl).toBe(
      'http://10.0.0.5:8080/seismo',
    );
  });

  it('reads how often tenants are reloaded and closed ones purged', () => {
    expect(loadConfig({ SEISMO_TENANT_RELOAD_MS: '250', SEISMO_PURGE_INTERVAL_MS: '1000' })).toMatchObject({
      tenantReloadMs: 250,
      purgeIntervalMs: 1000,
    });
    expect(() => loadConfig({ SEISMO_PURGE_INTERVAL_MS: '0' })).toThrow(/SEISMO_PURGE_INTERVAL_MS/);
  });

  it('leaves the main thread a core, and the engine another where the process runs one', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultIngestThreads('all', cores))).toEqual([
      0, 0, 1, 2, 4, 4,
    ]);
    expect([1, 2, 3, 8].map((cores) => defaultIngestThreads('api', cores))).toEqual([0, 1, 2, 4]);
  });

  it('decodes ingest on as many threads as asked, 0 meaning the main thread', () => {
    expect(loadConfig({ SEISMO_INGEST_THREADS: '0' }).ingestThreads).toBe(0);
    expect(loadConfig({ SEISMO_INGEST_THREADS: '3' }).ingestThreads).toBe(3);
    expect(() => loadConfig({ SEISMO_INGEST_THREADS: '-1' })).toThrow(/SEISMO_INGEST_THREADS/);
  });

  it('reads and converts each variable', () => {
    const config = loadConfig({
      SEISMO_PORT: '9090',
      SEISMO_DATA_DIR: '/var/lib/seismo',
      SEISMO_LOG_LEVEL: 'debug',
    });
    expect(config.port).toBe(9090);
    expect(config.dataDir).toBe('/var/lib/seismo');
    expect(config.logLevel).toBe('debug');
  });

  it('reads the storage, admin and engine settings', () => {
    const config = loadConfig({
      SEISMO_CLICKHOUSE_URL: 'http://clickhouse:8123',
      SEISMO_ADMIN_TOKEN: 'a-long-enough-admin-token',
      SEISMO_PARTITIONS: '8',
      SEISMO_ANOMALY_THRESHOLD: '0.6',
    });
    expect(config).toMatchObject({
      clickhouseUrl: 'http://clickhouse:8123',
      adminToken: 'a-long-enough-admin-token',
      partitions: 8,
      anomalyThreshold: 0.6,
    });
  });

  it('reads the Kafka settings', () => {
    expect(
      loadConfig({
        SEISMO_KAFKA_BROKERS: 'kafka-1:9092,10.0.0.2:9093',
        SEISMO_ROLE: 'engine',
        SEISMO_ENGINE_GROUP: 'engines',
        SEISMO_CHECKPOINT_INTERVAL_MS: '5000',
      }),
    ).toMatchObject({
      kafkaBrokers: ['kafka-1:9092', '10.0.0.2:9093'],
      role: 'engine',
      engineGroup: 'engines',
      checkpointIntervalMs: 5000,
    });
  });

  it('turns billing on with a Stripe key, with its interval, close delay and API address', () => {
    expect(loadConfig({}).billing).toBeUndefined();
    expect(loadConfig({ SEISMO_BILLING_INTERVAL_MS: '5000' }).billing).toBeUndefined();
    expect(loadConfig({ SEISMO_STRIPE_API_KEY: 'sk_test_abc' }).billing).toEqual({
      stripeApiKey: 'sk_test_abc',
      intervalMs: 60_000,
      closeDelayMs: 600_000,
    });
    expect(
      loadConfig({
        SEISMO_STRIPE_API_KEY: 'rk_live_abc',
        SEISMO_STRIPE_API_BASE: 'http://127.0.0.1:12111',
        SEISMO_BILLING_INTERVAL_MS: '5000',
        SEISMO_BILLING_CLOSE_DELAY_MS: '0',
      }).billing,
    ).toEqual({
      stripeApiKey: 'rk_live_abc',
      stripeApiBase: 'http://127.0.0.1:12111',
      intervalMs: 5000,
      closeDelayMs: 0,
    });
    expect(() => loadConfig({ SEISMO_STRIPE_API_KEY: 'pk_test_abc' })).toThrow(
      /SEISMO_STRIPE_API_KEY: expected a Stripe secret or restricted key/,
    );
    expect(() => loadConfig({ SEISMO_BILLING_INTERVAL_MS: '10' })).toThrow(/SEISMO_BILLING_INTERVAL_MS/);
  });

  it('turns LLM triage on with a provider, its key and model, pricing the default models', () => {
    expect(loadConfig({}).llm).toBeUndefined();
    expect(loadConfig({ SEISMO_LLM_PROVIDER: 'openai', SEISMO_LLM_API_KEY: 'sk-test' }).llm).toEqual({
      provider: 'openai',
      apiKey: 'sk-test',
      model: 'gpt-4o-mini',
      timeoutMs: 20_000,
      concurrency: 4,
      queueSize: 1000,
      waitMs: 30_000,
      dailyTokens: 20_000_000,
      tenantDailyTokens: 1_000_000,
      priceInPerMillion: 0.15,
      priceOutPerMillion: 0.6,
      logPrompts: false,
    });
    expect(loadConfig({ SEISMO_LLM_PROVIDER: 'anthropic', SEISMO_LLM_API_KEY: 'k' }).llm?.model).toBe(
      'claude-haiku-4-5',
    );
    const local = loadConfig({
      SEISMO_LLM_PROVIDER: 'openai-compatible',
      SEISMO_LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
      SEISMO_LLM_MODEL: 'llama3.1',
      SEISMO_LLM_PRICE_IN: '0.05',
      SEISMO_LLM_WAIT_MS: '5000',
    }).llm;
    expect(local).toMatchObject({
      provider: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'llama3.1',
      priceInPerMillion: 0.05,
      priceOutPerMillion: 0,
      waitMs: 5000,
    });
    expect(local).not.toHaveProperty('apiKey');
  });

  it.each([
    [{ SEISMO_LLM_PROVIDER: 'openai' }, 'SEISMO_LLM_API_KEY'],
    [{ SEISMO_LLM_PROVIDER: 'openai-compatible', SEISMO_LLM_MODEL: 'm' }, 'SEISMO_LLM_BASE_URL'],
    [
      { SEISMO_LLM_PROVIDER: 'openai-compatible', SEISMO_LLM_BASE_URL: 'http://127.0.0.1:1/v1' },
      'SEISMO_LLM_MODEL',
    ],
    [{ SEISMO_LLM_API_KEY: 'sk-test' }, 'SEISMO_LLM_PROVIDER'],
  ])('refuses an incomplete LLM configuration %j, naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0].variable).toBe(variable);
  });

  it('lists every variable it reads', () => {
    expect(CONFIG_VARIABLES).toContain('SEISMO_KAFKA_BROKERS');
    expect(CONFIG_VARIABLES.every((name) => name.startsWith('SEISMO_'))).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ SEISMO_PORT: '' }).port).toBe(8080);
  });

  it.each([
    ['SEISMO_PORT', 'eighty'],
    ['SEISMO_PORT', '70000'],
    ['SEISMO_LOG_LEVEL', 'loud'],
    ['SEISMO_CLICKHOUSE_URL', 'not a url'],
    ['SEISMO_CLICKHOUSE_URL', 'ftp://clickhouse:8123'],
    ['SEISMO_ADMIN_TOKEN', 'short'],
    ['SEISMO_PARTITIONS', '0'],
    ['SEISMO_ANOMALY_THRESHOLD', '1.5'],
    ['SEISMO_KAFKA_BROKERS', 'kafka'],
    ['SEISMO_KAFKA_BROKERS', 'a:1, b:2'],
    ['SEISMO_ROLE', 'worker'],
    ['SEISMO_ROLE', 'engine'],
    ['SEISMO_CHECKPOINT_INTERVAL_MS', '5'],
    ['SEISMO_ALLOW_PRIVATE_TARGETS', 'yes'],
    ['SEISMO_ALERT_TICK_MS', '10'],
    ['SEISMO_INCIDENT_RESOLVE_MS', 'soon'],
    ['SEISMO_NO_DATA_AFTER_MS', '86400000'],
    ['SEISMO_SMTP_URL', 'http://mail.example'],
    ['SEISMO_SMTP_URL', 'mail.example:587'],
    ['SEISMO_SMTP_FROM', 'Seismo'],
    ['SEISMO_PUBLIC_URL', 'seismo.example.com'],
    ['SEISMO_PUBLIC_URL', 'ftp://seismo.example.com'],
    ['SEISMO_PUBLIC_URL', 'https://seismo.example.com/?via=alerts'],
    ['SEISMO_LLM_PROVIDER', 'gemini'],
    ['SEISMO_LLM_BASE_URL', 'not a url'],
    ['SEISMO_LLM_TIMEOUT_MS', '10'],
    ['SEISMO_LLM_CONCURRENCY', '0'],
    ['SEISMO_LLM_DAILY_TOKENS', '-1'],
    ['SEISMO_LLM_LOG_PROMPTS', 'yes'],
  ])('stops on a bad %s, naming it', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
    expect((error as ConfigError).issues[0].variable).toBe(variable);
  });
});
