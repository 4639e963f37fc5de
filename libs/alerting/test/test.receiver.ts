import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface Received {
  readonly path: string;
  readonly idempotencyKey: string;
  readonly body: { attempt: number; notification: { id: string } };
}

/** How a receiver answers its path's `n`th request (0 for the first); 'hang' never answers. */
export type Answer = (path: string, n: number) => number | 'hang';

/**
 * HTTP receivers on 127.0.0.1, one per path: each records every request (with its
 * idempotency key) and answers as the test scripts it.
 */
export class TestReceiver {
  readonly received: Received[] = [];
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    private answer: Answer,
  ) {}

  static async start(answer: Answer): Promise<TestReceiver> {
    const server = createServer();
    const receiver = new TestReceiver(server, answer);
    server.on('request', (req, res) => void receiver.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${path}`;
  }

  /** Answers from now on as `answer` says. */
  answerWith(answer: Answer): void {
    this.answer = answer;
  }

  of(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '/').slice(1);
    const n = this.of(path).length;
    this.received.push({
      path,
      idempotencyKey: String(req.headers['idempotency-key']),
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['body'],
    });
    const answer = this.answer(path, n);
    if (answer === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    res.writeHead(answer, { 'content-type': 'text/plain' }).end(String(answer));
  }
}
