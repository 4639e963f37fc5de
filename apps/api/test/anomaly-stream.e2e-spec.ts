import { startTestServer, type TestServer } from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-0123456789';
const MINUTE = 60_000;

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

interface StreamedAnomaly {
  id: string;
  series: string;
  ts: string;
  score: number;
  [field: string]: unknown;
}

/** Reads an event stream as it comes, one event (comments skipped) at a time. */
class EventStreamReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffered = '';

  constructor(response: Response) {
    if (!response.body) throw new Error('the stream has no body');
    this.reader = response.body.getReader();
  }

  /** The next event; waits for it (the test's timeout bounds the wait). */
  async next(): Promise<SseEvent> {
    for (;;) {
      const end = this.buffered.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffered.slice(0, end);
        this.buffered = this.buffered.slice(end + 2);
        const event: SseEvent = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = line.slice(0, colon) as keyof SseEvent;
          event[field] = line.slice(colon + 1).replace(/^ /, '');
        }
        if (Object.keys(event).length > 0) return event;
        continue;
      }
      const { value, done } = await this.reader.read();
      if (done) throw new Error('the stream ended');
      this.buffered += this.decoder.decode(value, { stream: true });
    }
  }

  /** Events until the first that `until` accepts, that one included. */
  async readUntil(until: (event: SseEvent) => boolean): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    for (;;) {
      const event = await this.next();
      events.push(event);
      if (until(event)) return events;
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel();
  }
}

/** 600 points a minute apart, calm but for a spike at index 500; the spike's ts is returned. */
function spikySeries(series: string, start: number): { points: unknown[]; spike: string } {
  const points: unknown[] = [];
  for (let i = 0; i < 600; i++) {
    const value = i === 500 ? 400 : 50 + 5 * Math.sin(i / 20) + ((i * 7919) % 13) / 13;
    points.push({ series, labels: { host: 'a' }, ts: start + i * MINUTE, value });
  }
  return { points, spike: new Date(start + 500 * MINUTE).toISOString() };
}

const anomalyOf = (event: SseEvent): StreamedAnomaly => JSON.parse(event.data ?? '') as StreamedAnomaly;

describe('GET /v1/anomalies/stream (real embedded server)', () => {
  let server: TestServer;
  const readers: EventStreamReader[] = [];

  const createTenant = async (name: string): Promise<string> => {
    const response = await fetch(`${server.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { api_key: string }).api_key;
  };

  const push = async (key: string, points: unknown[]): Promise<void> => {
    const response = await fetch(`${server.url}/v1/points`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ points }),
    });
    expect(response.status).toBe(202);
  };

  /** Opens a stream; once the headers are in, the server has subscribed it. */
  const open = async (key: string, query = ''): Promise<EventStreamReader> => {
    const response = await fetch(`${server.url}/v1/anomalies/stream${query}`, {
      headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toMatch(/no-cache/);
    const reader = new EventStreamReader(response);
    readers.push(reader);
    return reader;
  };

  beforeAll(async () => {
    server = await startTestServer({ SEISMO_ADMIN_TOKEN: ADMIN, SEISMO_PARTITIONS: '2' });
  }, 60_000);

  afterAll(async () => {
    // Streams left open on purpose: closing the server must end them, not wait for them.
    await server?.close();
    await Promise.all(readers.map((reader) => reader.cancel().catch(() => undefined)));
  }, 60_000);

  it('refuses a missing or wrong key with 401 and a bad filter with 400, as JSON', async () => {
    const none = await fetch(`${server.url}/v1/anomalies/stream`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/Bearer/);
    const wrong = await fetch(`${server.url}/v1/anomalies/stream`, {
      headers: { authorization: 'Bearer sk_not_a_real_key' },
    });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
    const key = await createTenant('picky');
    const bad = await fetch(`${server.url}/v1/anomalies/stream?min_score=2`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/min_score/);
  });

  it("streams a tenant's new anomaly to its own streams only, filtered as asked", async () => {
    const acme = await createTenant('acme-live');
    const globex = await createTenant('globex-live');
    const acmeAll = await open(acme);
    const acmeMemOnly = await open(acme, `?series=${encodeURIComponent('mem{host="a"}')}`);
    const acmeGone = await open(acme);
    const globexAll = await open(globex);
    // A client that goes away is unsubscribed; the others go on.
    await acmeGone.cancel();

    const start = Date.now() - 700 * MINUTE;
    const cpu = spikySeries('cpu', start);
    await push(acme, cpu.points);

    const seenByAcme = await acmeAll.readUntil((e) => anomalyOf(e).ts === cpu.spike);
    expect(new Set(seenByAcme.map((e) => anomalyOf(e).series))).toEqual(new Set(['cpu{host="a"}']));
    const spike = seenByAcme[seenByAcme.length - 1];
    expect(spike.event).toBe('anomaly');
    const anomaly = anomalyOf(spike);
    expect(spike.id).toBe(anomaly.id);
    expect(anomaly).toMatchObject({ v: 1, series: 'cpu{host="a"}', ts: cpu.spike });
    expect(anomaly.id).toMatch(/^[0-9a-f]{32}$/);
    expect(anomaly.score).toBeGreaterThanOrEqual(0.5);
    expect(anomaly).not.toHaveProperty('tenant_id');
    expect(anomaly).toHaveProperty('detectors');
    expect(anomaly).toHaveProperty('context');
    // The streamed anomaly is stored: the stream announces only what a query can find.
    const stored = await fetch(`${server.url}/v1/anomalies`, {
      headers: { authorization: `Bearer ${acme}` },
    });
    expect(
      ((await stored.json()) as { anomalies: Array<{ id: string }> }).anomalies.map((a) => a.id),
    ).toContain(anomaly.id);

    // Then a spike of another series for acme, and one for globex. Events of one process
    // reach a stream in the order they were published, so had globex's stream (or the mem
    // filter) let acme's cpu anomaly through, it would come before these.
    const mem = spikySeries('mem', start);
    await push(acme, mem.points);
    const memOnly = await acmeMemOnly.readUntil((e) => anomalyOf(e).ts === mem.spike);
    expect(new Set(memOnly.map((e) => anomalyOf(e).series))).toEqual(new Set(['mem{host="a"}']));

    const disk = spikySeries('disk', start);
    await push(globex, disk.points);
    const seenByGlobex = await globexAll.readUntil((e) => anomalyOf(e).ts === disk.spike);
    expect(new Set(seenByGlobex.map((e) => anomalyOf(e).series))).toEqual(new Set(['disk{host="a"}']));
  }, 120_000);
});
