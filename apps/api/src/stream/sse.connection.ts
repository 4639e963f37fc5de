import { type ServerResponse } from 'node:http';

/** Why a connection ended: the client went away, it could not keep up, or the server closed it. */
export type SseCloseReason = 'client' | 'overflow' | 'server';

export interface SseConnectionOptions {
  /** Interval of the comment line that keeps proxies from closing an idle stream. */
  readonly heartbeatMs: number;
  /**
   * Frames held here while the socket refuses more (its buffer is full); one more and the
   * client is disconnected: a dashboard that cannot keep up must not make the server's
   * memory grow. Events are small (hundreds of bytes), so this bounds a connection to a
   * few hundred kilobytes beyond the socket's own buffers.
   */
  readonly maxQueuedFrames: number;
  /** Called once, when the connection ended for any reason. */
  readonly onClose: (reason: SseCloseReason) => void;
}

/** Characters that would end an SSE field early and let a value forge fields of its own. */
const LINE_BREAK = /[\r\n\0]/;

/**
 * One Server-Sent Events response over Node's raw response (Fastify's reply hijacked): the
 * headers, the `id`/`event`/`data` frames, a heartbeat, and a bounded queue for when the
 * client reads slower than events come.
 */
export class SseConnection {
  private readonly queue: string[] = [];
  /** The socket refused the last write; frames wait for 'drain'. */
  private blocked = false;
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseConnectionOptions,
  ) {
    res.on('close', () => this.finish('client'));
    // A write to a socket the peer reset; 'close' follows and ends the connection.
    res.on('error', () => undefined);
    res.on('drain', () => this.flush());
  }

  /** Sends the headers and starts the heartbeat; a client already gone ends the connection here. */
  open(): void {
    if (this.res.destroyed || this.res.socket?.destroyed !== false) {
      this.finish('client');
      return;
    }
    this.res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses by default, which would hold events back.
      'x-accel-buffering': 'no',
    });
    // A first line so the client sees the headers now, not with the first event.
    this.push(': connected\n\n');
    this.heartbeat = setInterval(() => {
      // A client with frames waiting is not idle: no keepalive needed, and none queued.
      if (!this.blocked) this.push(': heartbeat\n\n');
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Sends one event; `id` and `event` must be single-line, `data` must hold no line break (JSON does not). */
  send(id: string, event: string, data: string): void {
    if (LINE_BREAK.test(id) || LINE_BREAK.test(event) || LINE_BREAK.test(data)) {
      throw new RangeError(`an SSE field holds a line break (event ${JSON.stringify(id)})`);
    }
    this.push(`id: ${id}\nevent: ${event}\ndata: ${data}\n\n`);
  }

  /** Ends the response: the client sees the stream end and may reconnect. */
  close(): void {
    if (this.closed) return;
    this.res.end();
    this.finish('server');
  }

  private push(frame: string): void {
    if (this.closed) return;
    if (this.blocked) {
      if (this.queue.length >= this.options.maxQueuedFrames) {
        // Destroy rather than end: end would wait to send all that is queued.
        this.finish('overflow');
        this.res.destroy();
        return;
      }
      this.queue.push(frame);
      return;
    }
    this.blocked = !this.res.write(frame);
  }

  private flush(): void {
    if (this.closed) return;
    this.blocked = false;
    if (this.queue.length === 0) return;
    const frames = this.queue.join('');
    this.queue.length = 0;
    this.blocked = !this.res.write(frames);
  }

  private finish(reason: SseCloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.options.onClose(reason);
  }
}
