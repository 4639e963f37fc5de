import { type LlmConfig, type LlmProviderName } from '@seismo/config';
import { LlmError, type LlmProvider, type LlmRequest } from '../provider';
import { FAKE_OUTPUT_TOKENS, FAKE_VERDICT, FakeLlmServer, type FakeLlmRequest } from '../testing';
import { parseVerdict, VERDICT_SCHEMA, VERDICT_SCHEMA_NAME } from '../verdict';
import { createLlmProvider } from './create-provider';

const SYSTEM = 'You triage anomalies of time series. Answer with the verdict only.';
const PROMPT = JSON.stringify({ series: 'checkout.latency_p99', value: 2400, baseline: { median: 310 } });

function llmConfig(
  provider: LlmProviderName,
  baseUrl: string,
  overrides: Partial<LlmConfig> = {},
): LlmConfig {
  return {
    provider,
    baseUrl,
    apiKey: provider === 'anthropic' ? 'sk-ant-test-key' : 'sk-test-key',
    model: provider === 'anthropic' ? 'claude-haiku-4-5' : 'gpt-4o-mini',
    timeoutMs: 2000,
    concurrency: 1,
    queueSize: 10,
    waitMs: 1000,
    dailyTokens: 1_000_000,
    tenantDailyTokens: 100_000,
    priceInPerMillion: 0,
    priceOutPerMillion: 0,
    logPrompts: false,
    ...overrides,
  };
}

function triageRequest(signal?: AbortSignal): LlmRequest {
  return {
    system: SYSTEM,
    prompt: PROMPT,
    schemaName: VERDICT_SCHEMA_NAME,
    schema: VERDICT_SCHEMA,
    maxOutputTokens: 300,
    ...(signal ? { signal } : {}),
  };
}

/** The LlmError a call failed with; fails the test if it answered, or threw anything else. */
async function failure(call: Promise<unknown>): Promise<LlmError> {
  const outcome = await call.then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.answer)}`);
  expect(outcome.error).toBeInstanceOf(LlmError);
  return outcome.error as LlmError;
}

/** Input tokens the fake reports: a quarter of the body the SDK sent (compact JSON). */
function fakeInputTokens(request: FakeLlmRequest): number {
  return Math.ceil(JSON.stringify(request.body).length / 4);
}

const SHAPES = [
  { provider: 'openai', path: '/v1/chat/completions', baseUrl: (llm: FakeLlmServer) => llm.openAiBaseUrl },
  { provider: 'anthropic', path: '/v1/messages', baseUrl: (llm: FakeLlmServer) => llm.url },
] as const;

describe.each(SHAPES)('the $provider provider, against the fake server', ({ provider, path, baseUrl }) => {
  let llm: FakeLlmServer;
  const make = (overrides: Partial<LlmConfig> = {}): LlmProvider =>
    createLlmProvider(llmConfig(provider, baseUrl(llm), overrides));

  beforeAll(async () => {
    llm = await FakeLlmServer.start();
  });
  afterAll(() => llm.close());
  beforeEach(() => llm.reset());

  it('answers the JSON the model gave, with the tokens it cost', async () => {
    const verdict = { ...FAKE_VERDICT, verdict: 'expected', severity: 'info', confidence: 0.35 };
    llm.enqueue({ verdict });

    const answer = await make().complete(triageRequest());

    expect(answer.output).toEqual(verdict);
    expect(parseVerdict(answer.output)).toMatchObject({
      verdict: 'expected',
      severity: 'info',
      confidence: 0.35,
    });
    expect(answer.model).toBe(provider === 'anthropic' ? 'claude-haiku-4-5' : 'gpt-4o-mini');
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0].path).toBe(path);
    expect(answer.usage).toEqual({
      inputTokens: fakeInputTokens(llm.requests[0]),
      outputTokens: FAKE_OUTPUT_TOKENS,
    });
    expect(answer.usage.inputTokens).toBeGreaterThan(100);
  });

  it('sends the model, the system prompt, the data, the token limit, the strict schema and the key', async () => {
    await make().complete(triageRequest());

    const [{ headers, body }] = llm.requests;
    if (provider === 'openai') {
      expect(headers.authorization).toBe('Bearer sk-test-key');
      expect(body).toMatchObject({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: PROMPT },
        ],
        response_format: {
          type: 'json_schema',
          json_schema: { name: VERDICT_SCHEMA_NAME, schema: VERDICT_SCHEMA, strict: true },
        },
        max_completion_tokens: 300,
      });
      expect(body).not.toHaveProperty('max_tokens');
    } else {
      // @anthropic-ai/sdk 1.x (API version 2026-10-21) sends the key as a bearer token, not x-api-key.
      expect(headers.authorization).toBe('Bearer sk-ant-test-key');
      expect(headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(body).toMatchObject({
        model: 'claude-haiku-4-5',
        system: SYSTEM,
        messages: [{ role: 'user', content: PROMPT }],
        max_tokens: 300,
        tools: [{ name: VERDICT_SCHEMA_NAME, input_schema: VERDICT_SCHEMA, description: expect.any(String) }],
        tool_choice: { type: 'tool', name: VERDICT_SCHEMA_NAME },
      });
      expect((body as { tools: unknown[] }).tools).toHaveLength(1);
    }
    expect(body).not.toHaveProperty('stream', true);
  });

  it('fails as malformed, with the usage, when the answer is not JSON', async () => {
    llm.enqueue({ malformed: 'Sure! The verdict is: anomaly.' });

    const error = await failure(make().complete(triageRequest()));

    expect(error.kind).toBe('malformed');
    expect(error.retryable).toBe(false);
    expect(error.usage).toEqual({
      inputTokens: fakeInputTokens(llm.requests[0]),
      outputTokens: FAKE_OUTPUT_TOKENS,
    });
  });

  it('fails as malformed when the answer was cut at the token limit', async () => {
    llm.enqueue({ truncated: '{"verdict":"anomaly","severity":"warn' });

    const error = await failure(make().complete(triageRequest()));

    expect(error.kind).toBe('malformed');
    expect(error.usage?.outputTokens).toBe(FAKE_OUTPUT_TOKENS);
  });

  it('fails as refused, with the usage, when the model declines', async () => {
    llm.enqueue({ refusal: "I can't help with that." });

    const error = await failure(make().complete(triageRequest()));

    expect(error.kind).toBe('refused');
    expect(error.retryable).toBe(false);
    expect(error.usage?.outputTokens).toBe(FAKE_OUTPUT_TOKENS);
  });

  it('fails as rate_limited with the wait the server asked for, and does not retry by itself', async () => {
    llm.enqueue({ status: 429, retryAfterMs: 1500 });

    const error = await failure(make().complete(triageRequest()));

    expect(error.kind).toBe('rate_limited');
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(429);
    // OpenAI's retry-after-ms is taken as is; Anthropic sends only retry-after, in whole seconds.
    expect(error.retryAfterMs).toBe(provider === 'openai' ? 1500 : 2000);
    expect(llm.requests).toHaveLength(1);
  });

  it.each([500, 503, 529])('fails as server on a %i, once', async (status) => {
    llm.enqueue({ status });

    const error = await failure(make().complete(triageRequest()));

    expect(error.kind).toBe('server');
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(status);
    expect(llm.requests).toHaveLength(1);
  });

  it('fails as client, not to be retried, on a 401', async () => {
    llm.enqueue({ status: 401 });

    const error = await failure(make().complete(triageRequest()));

    expect(error.kind).toBe('client');
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(401);
  });

  it('fails as server when nothing listens', async () => {
    const gone = await FakeLlmServer.start();
    await gone.close();
    const unreachable = createLlmProvider(llmConfig(provider, baseUrl(gone)));

    const error = await failure(unreachable.complete(triageRequest()));

    expect(error.kind).toBe('server');
    expect(error.retryable).toBe(true);
  });

  it('fails as timeout at its deadline when the answer is slower', async () => {
    llm.enqueue({ delayMs: 5000, then: { verdict: FAKE_VERDICT } });
    const started = Date.now();

    const error = await failure(make({ timeoutMs: 300 }).complete(triageRequest()));

    expect(error.kind).toBe('timeout');
    expect(error.retryable).toBe(true);
    // Given up at the deadline, not when the slow answer came.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('fails as timeout when the headers came but the body stalls', async () => {
    llm.enqueue({ hang: 'after-headers' });

    const error = await failure(make({ timeoutMs: 300 }).complete(triageRequest()));

    expect(error.kind).toBe('timeout');
    expect(error.message).toBe('no answer within 300 ms');
  });

  it('fails as timeout when the caller aborts', async () => {
    llm.enqueue({ hang: true });
    const controller = new AbortController();
    const call = make({ timeoutMs: 10_000 }).complete(triageRequest(controller.signal));
    setTimeout(() => controller.abort(), 100);

    const error = await failure(call);

    expect(error.kind).toBe('timeout');
    expect(error.message).toBe('the call was aborted');
    expect(llm.requests).toHaveLength(1);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const error = await failure(make().complete(triageRequest(AbortSignal.abort())));

    expect(error.kind).toBe('timeout');
    expect(llm.requests).toHaveLength(0);
  });
});

describe('the openai-compatible provider, against the fake server', () => {
  let llm: FakeLlmServer;
  beforeAll(async () => {
    llm = await FakeLlmServer.start();
  });
  afterAll(() => llm.close());

  it('works without an API key and sends max_tokens, which every compatible server takes', async () => {
    const provider = createLlmProvider(
      llmConfig('openai-compatible', llm.openAiBaseUrl, { apiKey: undefined, model: 'qwen2.5:7b' }),
    );

    const answer = await provider.complete(triageRequest());

    expect(answer.output).toEqual(FAKE_VERDICT);
    const [{ path, headers, body }] = llm.requests;
    expect(path).toBe('/v1/chat/completions');
    expect(headers.authorization).toBe('Bearer none');
    expect(body).toMatchObject({ model: 'qwen2.5:7b', max_tokens: 300 });
    expect(body).not.toHaveProperty('max_completion_tokens');
  });
});
