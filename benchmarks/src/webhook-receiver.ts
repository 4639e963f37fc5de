import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One request the receiver took: when its body had fully arrived (performance.now()), and the body. */
export interface Receipt {
  readonly at: number;
  /** The Seismo-Delivery header: the delivery's id. */
  readonly deliveryId: string;
  readonly body: string;
}

/**
 * A webhook receiver on 127.0.0.1 for the alerting benchmarks: answers 200 to every
 * request and notes when each one's body had arrived, on the clock the sender uses, for
 * it runs in the same process. A receipt is noted before the answer is written, so what
 * a figure holds of the receiver is reading the request, never answering it.
 */
export class WebhookReceiver {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** In the order the requests' bodies arrived. */
    readonly receipts: readonly Receipt[],
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const receipts: Receipt[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const delivery = request.headers['seismo-delivery'];
        receipts.push({
          at: performance.now(),
          deliveryId: typeof delivery === 'string' ? delivery : '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new WebhookReceiver(server, `http://127.0.0.1:${port}`, receipts);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
