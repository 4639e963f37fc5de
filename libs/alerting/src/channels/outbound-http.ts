import { lookup as dnsLookup } from 'node:dns';
import { Agent as HttpAgent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { type SendOutcome } from '../channel';
import { privateRangeOf } from './private-address';

/** What is kept of a receiver's answer: enough to say what went wrong, never a whole page. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
const EXCERPT_CHARS = 200;

/** What the deployment says of private targets: SEISMO_ALLOW_PRIVATE_TARGETS (tests, a closed network). */
export interface TargetPolicy {
  readonly allowPrivate: boolean;
}

/** Resolves a host name to every address it has, as dns.lookup with `all: true` does. */
export type Resolver = (hostname: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export interface OutboundHttpOptions extends TargetPolicy {
  /** Another resolver than the system's (tests: a name that resolves to a private address). */
  readonly resolve?: Resolver;
  readonly maxResponseBytes?: number;
}

export interface OutboundPost {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly signal: AbortSignal;
}

/** A receiver's answer, its body cut at the size cap. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How a channel reads an answer beyond the status: Slack's 4xx bodies say the webhook is gone. */
export interface AnswerReading {
  /** Whether this failed answer says the receiver is gone for good (default: a 410). */
  readonly gone?: (answer: HttpAnswer) => boolean;
}

/**
 * Why a receiver URL is refused before anything is resolved, or undefined when it may be
 * tried: not http(s), credentials in it, `localhost`, or a literal private IP address. A
 * host name that resolves to a private address is refused later, when it is resolved.
 */
export function checkTargetUrl(raw: string, policy: TargetPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'not an http(s) URL';
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are not allowed';
  if (policy.allowPrivate) return undefined;
  const host = url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a private address (loopback)`;
  if (isIP(host) !== 0) {
    const range = privateRangeOf(host);
    if (range !== undefined) return `${host} is a private address: ${range}`;
  }
  return undefined;
}

/** A target refused by the private-address rule: no connection was made. */
class RefusedTarget extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedTarget';
  }
}

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/**
 * POSTs to receivers that users name, so that none can make Seismo reach inside its own
 * network: the address is checked where it is resolved, in the socket's `lookup`, so the
 * address connected to is the one checked (a name cannot resolve to a public address for
 * the check and to a private one for the connection). Redirects are never followed: a 3xx
 * to an internal address would undo the check. Answers a SendOutcome and never throws.
 */
export class OutboundHttp {
  private readonly resolve: Resolver;
  private readonly maxResponseBytes: number;
  // Agents of our own, not the global ones: a kept-alive socket opened under another
  // policy (or by other code) must never carry a request this policy would refuse.
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(private readonly options: OutboundHttpOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    const lookup = this.lookup.bind(this);
    this.httpAgent = new HttpAgent({ keepAlive: false, lookup } as ConstructorParameters<
      typeof HttpAgent
    >[0]);
    this.httpsAgent = new HttpsAgent({ keepAlive: false, lookup });
  }

  get allowPrivate(): boolean {
    return this.options.allowPrivate;
  }

  async send(post: OutboundPost, reading: AnswerReading = {}): Promise<SendOutcome> {
    try {
      return outcomeOf(await this.post(post), reading);
    } catch (error) {
      return failureOf(error, post.signal);
    }
  }

  /** The answer, whatever its status; throws on a refused target, a network error or an abort. */
  post(post: OutboundPost): Promise<HttpAnswer> {
    const refused = checkTargetUrl(post.url, this.options);
    if (refused !== undefined) return Promise.reject(new RefusedTarget(`target refused: ${refused}`));
    if (post.signal.aborted) return Promise.reject(abortError(post.signal));
    const url = new URL(post.url);
    const body = Buffer.from(post.body);
    const https = url.protocol === 'https:';
    return new Promise<HttpAnswer>((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        agent: https ? this.httpsAgent : this.httpAgent,
        headers: { ...post.headers, 'content-length': String(body.length) },
        signal: post.signal,
      });
      request.on('error', (error) => reject(post.signal.aborted ? abortError(post.signal) : error));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const settle = (): void =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        response.on('data', (chunk: Buffer) => {
          const room = this.maxResponseBytes - size;
          chunks.push(chunk.subarray(0, Math.max(0, room)));
          size += chunk.length;
          // Beyond the cap the rest is not read: the status is known, and a receiver must
          // not hold a sender on an endless body.
          if (size >= this.maxResponseBytes) {
            settle();
            response.destroy();
          }
        });
        response.on('end', settle);
        response.on('error', (error) => reject(post.signal.aborted ? abortError(post.signal) : error));
        response.on('aborted', () => reject(abortError(post.signal)));
      });
      request.end(body);
    });
  }

  /** Releases the agents' sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private lookup(...[hostname, options, callback]: Parameters<LookupFunction>): void {
    this.resolve(hostname)
      .then((found) => {
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const addresses = found.filter((a) => family === undefined || a.family === family);
        if (addresses.length === 0)
          throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
        if (!this.options.allowPrivate) {
          // One private address is enough to refuse: which one a connection picks is not ours to say.
          for (const { address } of addresses) {
            const range = privateRangeOf(address);
            if (range !== undefined) {
              throw new RefusedTarget(`target refused: ${hostname} resolves to ${address}, ${range}`);
            }
          }
        }
        if (options.all)
          callback(
            null,
            addresses.map((a) => ({ address: a.address, family: a.family })),
          );
        else callback(null, addresses[0].address, addresses[0].family);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, '', 0));
  }
}

/** A status to a SendOutcome: 2xx ok; 408, 425, 429 and 5xx again later; the rest never. */
export function outcomeOf(answer: HttpAnswer, reading: AnswerReading = {}): SendOutcome {
  const { status } = answer;
  if (status >= 200 && status < 300) return { ok: true, status };
  if (status >= 300 && status < 400) {
    const location = typeof answer.headers.location === 'string' ? ` to ${answer.headers.location}` : '';
    return { ok: false, retryable: false, status, error: `HTTP ${status}: redirect${location} not followed` };
  }
  const error = `HTTP ${status}${excerpt(answer.body)}`;
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    const retryAfterMs = retryAfterOf(answer.headers['retry-after']);
    return {
      ok: false,
      retryable: true,
      status,
      error,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  const gone = reading.gone ? reading.gone(answer) : status === 410;
  return { ok: false, retryable: false, status, error, ...(gone ? { gone: true as const } : {}) };
}

/**
 * Retry-After as milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 10.2.3);
 * undefined when absent or unreadable.
 */
export function retryAfterOf(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function failureOf(error: unknown, signal: AbortSignal): SendOutcome {
  if (error instanceof RefusedTarget) return { ok: false, retryable: false, error: error.message };
  if (signal.aborted) return { ok: false, retryable: true, error: abortError(signal).message };
  const { code, message } = error as NodeJS.ErrnoException;
  return {
    ok: false,
    retryable: true,
    error: `network error: ${code ?? message}${code ? ` (${message})` : ''}`,
  };
}

function abortError(signal: AbortSignal): Error {
  // AbortSignal.timeout's reason is a DOMException, not always an Error of this realm: its name says it.
  const reason = signal.reason as { name?: unknown } | undefined;
  const timedOut = reason?.name === 'TimeoutError';
  return new Error(timedOut ? 'timed out' : 'aborted');
}

function excerpt(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  if (text === '') return '';
  return `: ${text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text}`;
}
