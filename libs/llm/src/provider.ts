/**
 * One interface over the LLM providers Seismo speaks: OpenAI, Anthropic and any
 * OpenAI-compatible server (Ollama, vLLM, llama.cpp's server). A call asks for one JSON
 * object matching a strict schema and answers it parsed, with the tokens it cost; every
 * failure is an LlmError that says whether trying again may help.
 */

/** A JSON Schema object, as both APIs take it (strict: every property required, no others). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface LlmRequest {
  /** The instructions. Data the tenant sent (names, labels) never goes here, only in `prompt`. */
  readonly system: string;
  /** The data to judge, as quoted JSON. */
  readonly prompt: string;
  /** Name of the answer's schema (a tool name for Anthropic): `[a-zA-Z0-9_-]{1,64}`. */
  readonly schemaName: string;
  readonly schema: JsonSchema;
  readonly maxOutputTokens: number;
  /** Aborts the call: a timeout or a stopping process. */
  readonly signal?: AbortSignal;
}

export interface LlmUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface LlmAnswer {
  /** The answer's JSON, parsed but not yet validated against the schema. */
  readonly output: unknown;
  readonly usage: LlmUsage;
  /** The model that answered, as the provider names it. */
  readonly model: string;
}

export interface LlmProvider {
  readonly name: 'openai' | 'anthropic' | 'openai-compatible';
  readonly model: string;
  complete(request: LlmRequest): Promise<LlmAnswer>;
}

/**
 * Why a call failed:
 * - `timeout`: no answer in time (or aborted);
 * - `rate_limited`: 429, retry after `retryAfterMs` when the provider said;
 * - `server`: 5xx, or the connection failed;
 * - `refused`: the model declined to answer (a refusal, a content filter);
 * - `malformed`: an answer that is not the JSON object asked for;
 * - `client`: 4xx other than 429 (a bad key, an unknown model): trying again will not help.
 */
export type LlmErrorKind = 'timeout' | 'rate_limited' | 'server' | 'refused' | 'malformed' | 'client';

const RETRYABLE: ReadonlySet<LlmErrorKind> = new Set(['timeout', 'rate_limited', 'server']);

export class LlmError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly options: {
      readonly status?: number;
      readonly retryAfterMs?: number;
      /** Tokens the failed call still cost (a malformed or refused answer is billed). */
      readonly usage?: LlmUsage;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'LlmError';
    this.retryable = RETRYABLE.has(kind);
  }

  get status(): number | undefined {
    return this.options.status;
  }

  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }

  get usage(): LlmUsage | undefined {
    return this.options.usage;
  }
}
