import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A request that reached the proxy, its form body decoded (`payload[value]` and so on). */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly form: Readonly<Record<string, string>>;
  /** The status the client got. */
  status: number;
}

/** An answer made up by the proxy instead of forwarding. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

export interface StripeProxyOptions {
  /** stripe-mock's URL: where requests the proxy does not answer itself go. */
  readonly upstream: string;
  /**
   * Answer a meter event whose identifier was already taken like Stripe does (400, "An
   * event already exists with identifier X."), which stateless stripe-mock cannot.
   */
  readonly rememberIdentifiers?: boolean;
  /** Held before forwarding each meter event: gives a crash test time to strike mid-run. */
  readonly meterEventDelayMs?: number;
  /**
   * Awaited before a meter event is forwarded: a crash test kills the client here, so that
   * Stripe takes an event whose sender died before it could record the answer.
   */
  readonly beforeMeterEvent?: (request: RecordedRequest) => Promise<void> | void;
  /** Answers a request itself when this returns one (a 429, a 500, ...); forwards otherwise. */
  readonly script?: (request: RecordedRequest) => ScriptedAnswer | undefined;
}

/**
 * A loopback HTTP server in front of stripe-mock that records what a client sent and
 * what it answered. stripe-mock checks every request against Stripe's OpenAPI spec and
 * answers with its fixtures, but keeps no state and simulates no failure; the proxy adds
 * the two things billing tests need on top: a record of every meter event received (to
 * count what was billed) and, for the tests that need them, Stripe's duplicate-identifier
 * answer and injected 429/5xx answers. Everything else is stripe-mock's answer.
 */
export class StripeProxy {
  readonly requests: RecordedRequest[] = [];
  private readonly identifiers = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(options: StripeProxyOptions): Promise<StripeProxy> {
    const holder: { proxy?: StripeProxy } = {};
    const server = createServer((req, res) => {
      void holder.proxy!.handle(req, options).then(
        ({ status, headers, body }) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: String(error), type: 'api_error' } }));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new StripeProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return holder.proxy;
  }

  /** The meter events Stripe (the mock) took: answered 200. */
  deliveredMeterEvents(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/v1/billing/meter_events' && r.status === 200);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(
    req: IncomingMessage,
    options: StripeProxyOptions,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      form: Object.fromEntries(new URLSearchParams(raw)),
      status: 0,
    };
    this.requests.push(request);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      request.status = status;
      return { status, headers, body: JSON.stringify(body) };
    };

    const scripted = options.script?.(request);
    if (scripted) return answer(scripted.status, scripted.body, scripted.headers);
    const meterEvent = path === '/v1/billing/meter_events' && request.method === 'POST';
    if (meterEvent && options.meterEventDelayMs) await sleep(options.meterEventDelayMs);
    if (meterEvent) await options.beforeMeterEvent?.(request);
    const identifier = request.form.identifier;
    if (meterEvent && options.rememberIdentifiers && identifier && this.identifiers.has(identifier)) {
      return answer(
        400,
        {
          error: {
            message: `An event already exists with identifier ${identifier}.`,
            type: 'invalid_request_error',
          },
        },
        { 'stripe-should-retry': 'false' },
      );
    }

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
    }
    const upstream = await fetch(`${options.upstream}${req.url ?? '/'}`, {
      method: request.method,
      headers,
      ...(request.method === 'GET' || request.method === 'DELETE' ? {} : { body: raw }),
    });
    const body = await upstream.text();
    request.status = upstream.status;
    if (meterEvent && upstream.status === 200 && identifier) this.identifiers.add(identifier);
    return { status: upstream.status, headers: {}, body };
  }
}
