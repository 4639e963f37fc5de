import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { PointsClient, type RetryPolicy } from '../src/points.client';
import { ReplayError } from '../src/replay.error';

const FAST: RetryPolicy = { attempts: 4, firstDelayMs: 10, maxDelayMs: 50 };
const POINTS = [{ series: 'cpu', ts: 1_700_000_000_000, value: 1 }];

type Answer = [status: number, body: string, headers?: Record<string, string>];

/** A real HTTP server on loopback answering each request with the next of `answers`, keeping what it was sent. */
async function serverAnswering(
  answers: Answer[],
): Promise<{ url: string; requests: IncomingMessage[]; bodies: string[]; close: () => Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const bodies: string[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push(request);
      bodies.push(body);
      const [status, text, headers] = answers[Math.min(requests.length, answers.length) - 1];
      response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('PointsClient (against a real HTTP server on loopback)', () => {
  it('posts the points with the key, and retries 429 and 5xx until taken, telling each retry', async () => {
    const server = await serverAnswering([
      [503, '{"error":"starting"}'],
      [429, '{"error":"slow down"}', { 'retry-after': '0' }],
      [202, '{"accepted":1,"rejected":[]}'],
    ]);
    const retries: string[] = [];
    try {
      const client = new PointsClient(server.url, 'sk_key', FAST, (problem) => retries.push(problem));
      await expect(client.send(POINTS)).resolves.toEqual({ accepted: 1, rejected: [] });
      expect(server.requests).toHaveLength(3);
      expect(server.requests[0].url).toBe('/v1/points');
      expect(server.requests[0].headers.authorization).toBe('Bearer sk_key');
      expect(JSON.parse(server.bodies[2])).toEqual({ points: POINTS });
      expect(retries).toEqual([
        expect.stringMatching(/answered 503 Service Unavailable: starting$/),
        expect.stringMatching(/answered 429 Too Many Requests: slow down$/),
      ]);
    } finally {
      await server.close();
    }
  });

  it('stops at once on a 4xx, naming the status and the server’s error', async () => {
    const server = await serverAnswering([[400, '{"statusCode":400,"error":"points: expected an array"}']]);
    try {
      const sending = new PointsClient(server.url, 'sk_key', FAST).send(POINTS);
      await expect(sending).rejects.toThrow(ReplayError);
      await expect(sending).rejects.toThrow(/answered 400 Bad Request: points: expected an array$/);
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('gives up after its attempts on a server that stays down, or cannot be reached', async () => {
    const server = await serverAnswering([[502, '<html>bad gateway</html>']]);
    try {
      await expect(new PointsClient(server.url, 'k', FAST).send(POINTS)).rejects.toThrow(
        /answered 502 Bad Gateway: <html>bad gateway<\/html>; gave up after 4 attempts/,
      );
      expect(server.requests).toHaveLength(4);
    } finally {
      await server.close();
    }
    // The port is free now: nothing listens there.
    await expect(new PointsClient(server.url, 'k', FAST).send(POINTS)).rejects.toThrow(
      /cannot reach .*: ECONNREFUSED; gave up after 4 attempts/,
    );
  });
});
