import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { parseTenantId } from '@seismo/storage';
import { type Tenant } from '@seismo/tenancy';
import { type FastifyReply } from 'fastify';
import { AnomalyFeed } from './anomaly.feed';
import { AnomalyStreamController } from './anomaly-stream.controller';

const ACME = { id: parseTenantId('acme'), name: 'acme' } as Tenant;

function event(id: string, series: string, score: number): AnomalyEvent {
  return {
    v: 1,
    tenant_id: 'acme',
    id,
    series,
    ts: '2026-01-01T00:00:00.000Z',
    value: 99,
    score,
    severity: 'critical',
    detectors: ['ensemble'],
    context: { ts: [], values: [] },
  };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 10) {
    if (predicate()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting until ${what}`);
}

/**
 * The controller's handler behind a plain Node server, the query taken from the URL: what
 * Fastify hands it once TenantGuard let the request through (guards and routing are the e2e
 * spec's), over a real socket, so disconnects are real.
 */
describe('AnomalyStreamController', () => {
  let feed: AnomalyFeed;
  let controller: AnomalyStreamController;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    feed = new AnomalyFeed();
    controller = new AnomalyStreamController(feed);
    server = createServer((req, res) => {
      const query = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
      controller.stream(ACME, query, { hijack: () => undefined, raw: res } as unknown as FastifyReply);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    controller.onModuleDestroy();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  /** Opens a stream and collects what it receives; resolves once the server subscribed it. */
  async function open(query = ''): Promise<{ response: IncomingMessage; text: () => string }> {
    const request = get(`${url}/${query}`);
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    let received = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (received += chunk));
    return { response, text: () => received };
  }

  it('sends the events of the filter asked for, without the tenant, with the anomaly id as event id', async () => {
    const { response, text } = await open('?series=cpu&min_score=0.8');
    expect(response.headers['content-type']).toBe('text/event-stream');

    feed.publish(event('a1', 'mem', 0.9));
    feed.publish(event('a2', 'cpu', 0.7));
    feed.publish(event('a3', 'cpu', 0.85));
    await until(() => text().includes('id: a3'), 'the matching event arrives');

    const frames = text().split('\n\n');
    expect(frames[0]).toBe(': connected');
    expect(frames[1]).toBe(
      `id: a3\nevent: anomaly\ndata: ${JSON.stringify(event('a3', 'cpu', 0.85)).replace('"tenant_id":"acme",', '')}`,
    );
    expect(text()).not.toContain('tenant_id');
    expect(text()).not.toMatch(/a1|a2/);
  });

  it('unsubscribes when the client goes away', async () => {
    const { response } = await open();
    expect(feed.watched(ACME.id)).toBe(true);
    response.destroy();
    await until(() => !feed.watched(ACME.id), 'the feed forgets the stream');
  });

  it('ends every open stream when the module is destroyed, so the server can close', async () => {
    const streams = await Promise.all([open(), open()]);
    controller.onModuleDestroy();
    await Promise.all(streams.map(({ response }) => once(response, 'end')));
    expect(feed.watched(ACME.id)).toBe(false);
  });
});
