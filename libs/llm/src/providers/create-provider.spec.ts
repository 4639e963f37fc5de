import { type LlmConfig } from '@seismo/config';
import { AnthropicProvider } from './anthropic.provider';
import { createLlmProvider } from './create-provider';
import { OpenAiProvider } from './openai.provider';

function config(overrides: Partial<LlmConfig>): LlmConfig {
  return {
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
    ...overrides,
  };
}

describe('createLlmProvider', () => {
  it('makes an OpenAI provider for openai', () => {
    const provider = createLlmProvider(config({ provider: 'openai', model: 'gpt-4.1-mini' }));

    expect(provider).toBeInstanceOf(OpenAiProvider);
    expect(provider.name).toBe('openai');
    expect(provider.model).toBe('gpt-4.1-mini');
  });

  it('makes an Anthropic provider for anthropic', () => {
    const provider = createLlmProvider(
      config({ provider: 'anthropic', apiKey: 'sk-ant-test', model: 'claude-haiku-4-5' }),
    );

    expect(provider).toBeInstanceOf(AnthropicProvider);
    expect(provider.name).toBe('anthropic');
    expect(provider.model).toBe('claude-haiku-4-5');
  });

  it('makes an OpenAI provider named openai-compatible for a compatible server, without a key', () => {
    const provider = createLlmProvider(
      config({
        provider: 'openai-compatible',
        baseUrl: 'http://127.0.0.1:11434/v1',
        apiKey: undefined,
        model: 'llama3.1:8b',
      }),
    );

    expect(provider).toBeInstanceOf(OpenAiProvider);
    expect(provider.name).toBe('openai-compatible');
    expect(provider.model).toBe('llama3.1:8b');
  });

  it('refuses a compatible server without a base URL, and the hosted APIs without a key', () => {
    expect(() => createLlmProvider(config({ provider: 'openai-compatible', baseUrl: undefined }))).toThrow(
      /base URL/,
    );
    expect(() => createLlmProvider(config({ provider: 'openai', apiKey: undefined }))).toThrow(/API key/);
    expect(() => createLlmProvider(config({ provider: 'anthropic', apiKey: undefined }))).toThrow(
      /SEISMO_LLM_API_KEY/,
    );
  });
});
