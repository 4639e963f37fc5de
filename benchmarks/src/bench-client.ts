import { sampleValue } from './exposition';

const STORED_POINTS = 'seismo_engine_points_stored_total';

/** The calls the server benchmarks make to a running Seismo, over its public HTTP API. */
export class BenchClient {
  constructor(
    readonly url: string,
    /** The tenant's API key, once `createTenant` made one. */
    private key = '',
  ) {}

  /**
   * Creates a tenant with the admin token and talks as it from then on. On the enterprise
   * plan, whose rates (500k points/s) are above what is measured: the limits are still
   * checked on every request, so their cost is in the figures, but they never refuse.
   */
  async createTenant(adminToken: string, name: string): Promise<void> {
    const response = await fetch(`${this.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, plan: 'enterprise' }),
    });
    if (response.status !== 201)
      throw new Error(`POST /v1/tenants: ${response.status} ${await response.text()}`);
    this.key = ((await response.json()) as { api_key: string }).api_key;
  }

  /**
   * Subscribes a webhook at `url` to the tenant's anomalies of the series `seriesGlob`
   * matches, at the highest hourly rate a subscription may have.
   */
  async subscribeWebhook(url: string, seriesGlob: string, ratePerHour: number): Promise<void> {
    const response = await fetch(`${this.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        channel: 'webhook',
        target: { url },
        filter: { series: seriesGlob },
        rate_limit_per_hour: ratePerHour,
      }),
    });
    if (response.status !== 201)
      throw new Error(`POST /v1/subscriptions: ${response.status} ${await response.text()}`);
  }

  /** Pushes one `POST /v1/points` body; resolves at the 202, and fails on anything else. */
  async push(body: Buffer): Promise<void> {
    const response = await fetch(`${this.url}/v1/points`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
      body,
    });
    const answer = await response.text();
    if (response.status !== 202)
      throw new Error(`POST /v1/points: ${response.status} ${answer.slice(0, 500)}`);
    const { rejected } = JSON.parse(answer) as { rejected: unknown[] };
    // A refused point would not be stored, and the drain would wait for it forever.
    if (rejected.length > 0) throw new Error(`POST /v1/points refused points: ${answer.slice(0, 500)}`);
  }

  /** Points the engine has stored since the server started, from its own counter. */
  async storedPoints(): Promise<number> {
    const response = await fetch(`${this.url}/metrics`);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET /metrics: ${response.status}`);
    return sampleValue(text, STORED_POINTS) ?? 0;
  }

  /** Series of the tenant's anomalies with `ts` in [from, to). */
  async anomalySeries(from: number, to: number): Promise<string[]> {
    const query = new URLSearchParams({ from: String(from), to: String(to), limit: '10000' });
    const response = await fetch(`${this.url}/v1/anomalies?${query}`, {
      headers: { authorization: `Bearer ${this.key}` },
    });
    if (response.status !== 200)
      throw new Error(`GET /v1/anomalies: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { anomalies: Array<{ series: string }> }).anomalies.map(
      (a) => a.series,
    );
  }

  /** The tenant's live anomaly stream, or undefined when this server has no such endpoint. */
  async anomalyStream(signal: AbortSignal): Promise<ReadableStream<Uint8Array> | undefined> {
    const response = await fetch(`${this.url}/v1/anomalies/stream`, {
      headers: { authorization: `Bearer ${this.key}`, accept: 'text/event-stream' },
      signal,
    });
    const type = response.headers.get('content-type') ?? '';
    if (response.status === 200 && type.startsWith('text/event-stream') && response.body)
      return response.body;
    await response.body?.cancel();
    return undefined;
  }
}
