import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * One scripted reply of the fake server. The same script serves both API shapes:
 * - `verdict`: a valid answer carrying this JSON (OpenAI: the message content; Anthropic: the
 *   `tool_use` block's input);
 * - `malformed`: this text as the answer, not JSON (Anthropic: a text block and no tool_use);
 * - `refusal`: the model declines (OpenAI: `message.refusal`; Anthropic: `stop_reason: 'refusal'`);
 * - `truncated`: this text cut at the token limit (`finish_reason: 'length'` / `stop_reason: 'max_tokens'`);
 * - `status`: an error answer with this status (429, 500, 503, 529, 401...) in the API's error shape;
 *   `retryAfterMs` adds `retry-after-ms` and `retry-after` (OpenAI) or `retry-after` in seconds,
 *   rounded up (Anthropic, which sends only that one);
 * - `delayMs` + `then`: `then`, after this long (a slow model);
 * - `hang: true`: no answer at all until the server closes; `hang: 'after-headers'`: a 200 status
 *   and headers, then the body never ends (what a call deadline must also cover).
 */
export type FakeLlmReply =
  | { readonly verdict: Readonly<Record<string, unknown>> }
  | { readonly malformed: string }
  | { readonly refusal: string }
  | { readonly truncated: string }
  | { readonly status: number; readonly retryAfterMs?: number }
  | { readonly delayMs: number; readonly then: FakeLlmReply }
  | { readonly hang: true | 'after-headers' };

/** A request the server received, in the order received. */
export interface FakeLlmRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-cased names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON body, parsed; `undefined` if it was not JSON. */
  readonly body: unknown;
}

export interface FakeLlmServerOptions {
  /** The reply when the script is empty: fixed, or made from the request. Default `{ verdict: FAKE_VERDICT }`. */
  readonly defaultReply?: FakeLlmReply | ((request: FakeLlmRequest) => FakeLlmReply);
}

/** The verdict answered when nothing else is scripted: valid under VERDICT_SCHEMA. */
export const FAKE_VERDICT: Readonly<Record<string, unknown>> = {
  verdict: 'anomaly',
  severity: 'warning',
  explanation: 'The value is far above the usual range for this hour.',
  likely_cause: 'a traffic spike',
  confidence: 0.8,
};

/** Output tokens reported by every answer; input tokens are ceil(request body length / 4). */
export const FAKE_OUTPUT_TOKENS = 40;

type Api = 'openai' | 'anthropic';

const ROUTES: Readonly<Record<string, Api>> = {
  '/v1/chat/completions': 'openai',
  '/v1/messages': 'anthropic',
};

/**
 * A fake LLM API on 127.0.0.1 for tests and benchmarks: a real HTTP server, so the real
 * `openai` and `@anthropic-ai/sdk` clients talk to it over loopback. It speaks both
 * `POST /v1/chat/completions` (OpenAI's shape) and `POST /v1/messages` (Anthropic's), answers
 * each request with the next reply of its script (then the default reply), records every
 * request, and reports a usage derived from the request so token accounting can be checked.
 * A request without the fields the real API requires (model, messages; Anthropic: max_tokens)
 * gets a 400 and leaves the script alone. It never keeps a process alive (its handles are unref'd).
 *
 *   const llm = await FakeLlmServer.start();
 *   llm.enqueue({ status: 429, retryAfterMs: 2000 }, { verdict: { ... } });
 *   new OpenAI({ baseURL: llm.openAiBaseUrl, apiKey: 'k' });   // or new Anthropic({ baseURL: llm.url, ... })
 *   ...
 *   expect(llm.requests[0].body).toMatchObject({ model: 'm' });
 *   await llm.close();
 */
export class FakeLlmServer {
  readonly requests: FakeLlmRequest[] = [];
  private readonly script: FakeLlmReply[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: Server;
  private port = 0;
  private answered = 0;
  private closed?: Promise<void>;

  private constructor(private readonly defaultReply: NonNullable<FakeLlmServerOptions['defaultReply']>) {
    this.server = createServer((req, res) => {
      // A default-reply function that throws answers 500 rather than failing the test process.
      this.handle(req, res).catch((error: unknown) =>
        send(res, 500, {
          error: { message: `the fake LLM server failed: ${String(error)}`, type: 'server_error' },
        }),
      );
    });
    // Sockets of keep-alive connections would otherwise hold the process open on their own.
    this.server.on('connection', (socket) => socket.unref());
  }

  static async start(options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
    const fake = new FakeLlmServer(options.defaultReply ?? { verdict: FAKE_VERDICT });
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', resolve);
    });
    fake.server.unref();
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** `http://127.0.0.1:PORT`: the Anthropic client's `baseURL`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:PORT/v1`: the OpenAI client's `baseURL`. */
  get openAiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  /** Appends replies to the script: each answers one request, in order. */
  enqueue(...replies: FakeLlmReply[]): this {
    this.script.push(...replies);
    return this;
  }

  /** Forgets the script and the recorded requests (between tests sharing a server). */
  reset(): void {
    this.script.length = 0;
    this.requests.length = 0;
  }

  /** Stops listening and cuts every open connection, hanging and slow replies included. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    const request: FakeLlmRequest = {
      method: req.method ?? 'GET',
      path,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(', ') : (value ?? ''),
        ]),
      ),
      body: parseJson(raw),
    };
    this.requests.push(request);

    const api = request.method === 'POST' ? ROUTES[path] : undefined;
    if (api === undefined) {
      send(res, 404, { error: { message: `no route ${request.method} ${path}`, type: 'not_found_error' } });
      return;
    }
    const problem = missingField(api, request.body);
    if (problem !== undefined) {
      send(res, 400, errorBody(api, 400, problem));
      return;
    }
    const reply =
      this.script.shift() ??
      (typeof this.defaultReply === 'function' ? this.defaultReply(request) : this.defaultReply);
    this.answer(api, request, Math.ceil(raw.length / 4), reply, res);
  }

  private answer(
    api: Api,
    request: FakeLlmRequest,
    inputTokens: number,
    reply: FakeLlmReply,
    res: ServerResponse,
  ) {
    if ('hang' in reply) {
      // close() cuts the connection.
      if (reply.hang === 'after-headers' && !res.destroyed) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
      }
      return;
    }
    if ('delayMs' in reply) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.answer(api, request, inputTokens, reply.then, res);
      }, reply.delayMs);
      timer.unref();
      this.timers.add(timer);
      return;
    }
    if (res.destroyed) return; // the client gave up while the reply was delayed
    if ('status' in reply) {
      send(
        res,
        reply.status,
        errorBody(api, reply.status, `scripted ${reply.status}`),
        retryHeaders(api, reply),
      );
      return;
    }
    this.answered += 1;
    const body = request.body as Record<string, unknown>;
    const model = String(body.model);
    send(
      res,
      200,
      api === 'openai'
        ? chatCompletion(this.answered, model, reply, inputTokens)
        : message(this.answered, model, toolName(body), reply, inputTokens),
    );
  }
}

type Answer = Extract<
  FakeLlmReply,
  { verdict: unknown } | { malformed: unknown } | { refusal: unknown } | { truncated: unknown }
>;

function chatCompletion(n: number, model: string, reply: Answer, inputTokens: number) {
  const [content, refusal, finishReason] =
    'verdict' in reply
      ? [JSON.stringify(reply.verdict), null, 'stop']
      : 'malformed' in reply
        ? [reply.malformed, null, 'stop']
        : 'refusal' in reply
          ? [null, reply.refusal, 'stop']
          : [reply.truncated, null, 'length'];
  return {
    id: `chatcmpl-fake-${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: {
      prompt_tokens: inputTokens,
      completion_tokens: FAKE_OUTPUT_TOKENS,
      total_tokens: inputTokens + FAKE_OUTPUT_TOKENS,
    },
  };
}

function message(n: number, model: string, tool: string, reply: Answer, inputTokens: number) {
  const [content, stopReason] =
    'verdict' in reply
      ? [[{ type: 'tool_use', id: `toolu_fake_${n}`, name: tool, input: reply.verdict }], 'tool_use']
      : 'malformed' in reply
        ? [[{ type: 'text', text: reply.malformed }], 'end_turn']
        : 'refusal' in reply
          ? [[{ type: 'text', text: reply.refusal }], 'refusal']
          : [[{ type: 'text', text: reply.truncated }], 'max_tokens'];
  return {
    id: `msg_fake_${n}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: FAKE_OUTPUT_TOKENS },
  };
}

/** The tool the request forces (Anthropic answers in it), else its first tool. */
function toolName(body: Record<string, unknown>): string {
  const choice = body.tool_choice as { name?: unknown } | undefined;
  const tools = body.tools as Array<{ name?: unknown }> | undefined;
  return String(choice?.name ?? tools?.[0]?.name ?? 'answer');
}

function missingField(api: Api, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'the body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') return 'model: required';
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'messages: required';
  if (api === 'anthropic' && typeof b.max_tokens !== 'number') return 'max_tokens: required';
  return undefined;
}

function errorBody(api: Api, status: number, text: string) {
  if (api === 'openai') {
    const type =
      status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
    return { error: { message: text, type, param: null, code: null } };
  }
  const type =
    status === 429
      ? 'rate_limit_error'
      : status === 529
        ? 'overloaded_error'
        : status >= 500
          ? 'api_error'
          : status === 401
            ? 'authentication_error'
            : 'invalid_request_error';
  return { type: 'error', error: { type, message: text } };
}

function retryHeaders(api: Api, reply: { retryAfterMs?: number }): Record<string, string> {
  if (reply.retryAfterMs === undefined) return {};
  const seconds = String(Math.ceil(reply.retryAfterMs / 1000));
  return api === 'openai'
    ? { 'retry-after-ms': String(reply.retryAfterMs), 'retry-after': seconds }
    : { 'retry-after': seconds };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
