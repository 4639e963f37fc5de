import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { type ChatCompletion } from 'openai/resources/chat/completions';
import { type LlmAnswer, LlmError, type LlmProvider, type LlmRequest, type LlmUsage } from '../provider';
import { sdkErrorClassifier, withDeadline } from './sdk-call';

const classify = sdkErrorClassifier(
  { APIConnectionTimeoutError, APIUserAbortError, APIConnectionError, APIError },
  'openai',
);

export interface OpenAiProviderOptions {
  /** `openai-compatible`: Ollama, vLLM, llama.cpp's server... at `baseUrl`. */
  readonly name: 'openai' | 'openai-compatible';
  readonly model: string;
  /** The whole call's limit, headers and body. */
  readonly timeoutMs: number;
  /** Up to `/v1`; default OpenAI's API, required for a compatible server. */
  readonly baseUrl?: string;
  /** Required for OpenAI; a compatible server may need none. */
  readonly apiKey?: string;
}

const OPENAI_API = 'https://api.openai.com/v1';

/** The SDK refuses to start without a key; a local server that checks none takes any. */
const NO_KEY = 'none';

/**
 * OpenAI's chat completions, and any server speaking them, asked for one JSON object
 * under a strict `json_schema` response format.
 */
export class OpenAiProvider implements LlmProvider {
  readonly name: 'openai' | 'openai-compatible';
  readonly model: string;
  private readonly timeoutMs: number;
  private readonly client: OpenAI;

  constructor(options: OpenAiProviderOptions) {
    if (options.name === 'openai-compatible' && !options.baseUrl) {
      throw new Error('an openai-compatible provider needs a base URL (e.g. http://127.0.0.1:11434/v1)');
    }
    if (options.name === 'openai' && !options.apiKey) throw new Error('the openai provider needs an API key');
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new Error(`timeoutMs must be a positive integer, got ${options.timeoutMs}`);
    }
    this.name = options.name;
    this.model = options.model;
    this.timeoutMs = options.timeoutMs;
    // Given explicitly, so that OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID
    // in the environment change nothing.
    this.client = new OpenAI({
      apiKey: options.apiKey ?? NO_KEY,
      baseURL: options.baseUrl ?? OPENAI_API,
      organization: null,
      project: null,
      timeout: options.timeoutMs,
      // Retries are the scheduler's: it knows the budget, the queue and the deadline of the alert.
      maxRetries: 0,
    });
  }

  async complete(request: LlmRequest): Promise<LlmAnswer> {
    const completion = await withDeadline(
      this.timeoutMs,
      request.signal,
      (signal) =>
        this.client.chat.completions.create(
          {
            model: this.model,
            messages: [
              { role: 'system', content: request.system },
              { role: 'user', content: request.prompt },
            ],
            response_format: {
              type: 'json_schema',
              json_schema: { name: request.schemaName, schema: request.schema, strict: true },
            },
            ...this.tokenLimit(request.maxOutputTokens),
          },
          { signal, timeout: this.timeoutMs },
        ),
      classify,
    );
    return this.answer(completion);
  }

  /**
   * OpenAI's current models (o-series, gpt-5) reject `max_tokens` for
   * `max_completion_tokens`; compatible servers all take `max_tokens`, not all the newer name.
   */
  private tokenLimit(tokens: number): { max_completion_tokens: number } | { max_tokens: number } {
    return this.name === 'openai' ? { max_completion_tokens: tokens } : { max_tokens: tokens };
  }

  private answer(completion: ChatCompletion): LlmAnswer {
    const usage: LlmUsage = {
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    };
    // A compatible server may answer 200 with something else than a completion.
    const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
    if (!choice) throw new LlmError('malformed', 'the answer has no choice', { usage });
    if (choice.message.refusal) {
      throw new LlmError('refused', `the model refused: ${choice.message.refusal}`, { usage });
    }
    if (choice.finish_reason === 'content_filter') {
      throw new LlmError('refused', 'the answer was stopped by the content filter', { usage });
    }
    if (choice.finish_reason === 'length') {
      throw new LlmError('malformed', 'the answer was cut at the output token limit', { usage });
    }
    const output = jsonObject(choice.message.content);
    if (output === undefined) throw new LlmError('malformed', 'the answer is not a JSON object', { usage });
    return { output, usage, model: completion.model || this.model };
  }
}

function jsonObject(text: string | null): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
