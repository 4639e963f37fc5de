import { type LlmConfig } from '@seismo/config';
import { type LlmProvider } from '../provider';
import { AnthropicProvider } from './anthropic.provider';
import { OpenAiProvider } from './openai.provider';

/** The provider the configuration names; throws if it lacks what that provider needs. */
export function createLlmProvider(config: LlmConfig): LlmProvider {
  const { model, timeoutMs, baseUrl, apiKey } = config;
  switch (config.provider) {
    case 'anthropic':
      if (!apiKey) throw new Error('SEISMO_LLM_API_KEY is needed with SEISMO_LLM_PROVIDER=anthropic');
      return new AnthropicProvider({ model, timeoutMs, apiKey, ...(baseUrl ? { baseUrl } : {}) });
    case 'openai':
    case 'openai-compatible':
      return new OpenAiProvider({
        name: config.provider,
        model,
        timeoutMs,
        ...(baseUrl ? { baseUrl } : {}),
        ...(apiKey ? { apiKey } : {}),
      });
  }
}
