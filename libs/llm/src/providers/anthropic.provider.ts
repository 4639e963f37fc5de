import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { type Message, type Tool } from '@anthropic-ai/sdk/resources/messages';
import { type LlmAnswer, LlmError, type LlmProvider, type LlmRequest, type LlmUsage } from '../provider';
import { sdkErrorClassifier, withDeadline } from './sdk-call';

const classify = sdkErrorClassifier(
  { APIConnectionTimeoutError, APIUserAbortError, APIConnectionError, APIError },
  'anthropic',
);

export interface AnthropicProviderOptions {
  readonly model: string;
  /** The whole call's limit, headers and body. */
  readonly timeoutMs: number;
  /** Without `/v1` (the SDK adds `/v1/messages`); default Anthropic's API. */
  readonly baseUrl?: string;
  readonly apiKey: string;
}

const ANTHROPIC_API = 'https://api.anthropic.com';

const TOOL_DESCRIPTION = 'Records your answer. Call it exactly once; its input is the whole answer.';

/**
 * Anthropic's Messages API, asked for one JSON object as the input of the one tool it
 * is made to call. `strict` tool use is left out: models before Claude 4.5 do not take it,
 * and the answer is validated against the schema after anyway (parseVerdict).
 */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic' as const;
  readonly model: string;
  private readonly timeoutMs: number;
  private readonly client: Anthropic;

  constructor(options: AnthropicProviderOptions) {
    if (!options.apiKey) throw new Error('the anthropic provider needs an API key');
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new Error(`timeoutMs must be a positive integer, got ${options.timeoutMs}`);
    }
    this.model = options.model;
    this.timeoutMs = options.timeoutMs;
    // A key and a base URL given, the SDK reads neither ANTHROPIC_API_KEY nor ANTHROPIC_BASE_URL.
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseUrl ?? ANTHROPIC_API,
      timeout: options.timeoutMs,
      // Retries are the scheduler's: it knows the budget, the queue and the deadline of the alert.
      maxRetries: 0,
    });
  }

  async complete(request: LlmRequest): Promise<LlmAnswer> {
    const message = await withDeadline(
      this.timeoutMs,
      request.signal,
      (signal) =>
        this.client.messages.create(
          {
            model: this.model,
            max_tokens: request.maxOutputTokens,
            system: request.system,
            messages: [{ role: 'user', content: request.prompt }],
            tools: [
              {
                name: request.schemaName,
                description: TOOL_DESCRIPTION,
                input_schema: request.schema as Tool.InputSchema,
              },
            ],
            tool_choice: { type: 'tool', name: request.schemaName },
          },
          { signal, timeout: this.timeoutMs },
        ),
      classify,
    );
    return this.answer(message, request.schemaName);
  }

  private answer(message: Message, tool: string): LlmAnswer {
    const usage: LlmUsage = {
      // Tokens read from or written to the prompt cache are input too, counted apart.
      inputTokens:
        (message.usage?.input_tokens ?? 0) +
        (message.usage?.cache_creation_input_tokens ?? 0) +
        (message.usage?.cache_read_input_tokens ?? 0),
      outputTokens: message.usage?.output_tokens ?? 0,
    };
    if (message.stop_reason === 'refusal') {
      throw new LlmError('refused', 'the model refused to answer', { usage });
    }
    if (message.stop_reason === 'max_tokens' || message.stop_reason === 'model_context_window_exceeded') {
      throw new LlmError('malformed', `the answer was cut (${message.stop_reason})`, { usage });
    }
    const content = Array.isArray(message.content) ? message.content : [];
    const call = content.find((block) => block.type === 'tool_use' && block.name === tool);
    const input = call?.type === 'tool_use' ? call.input : undefined;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new LlmError('malformed', `the answer did not call ${tool} with a JSON object`, { usage });
    }
    return { output: input, usage, model: message.model || this.model };
  }
}
