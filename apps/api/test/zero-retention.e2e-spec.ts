import { eventually, startTestServer, type TestServer } from './embedded-server.harness';

const ADMIN = 'e2e-admin-token-0123456789';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Every number in a JSON value, recursively. */
function numbersIn(value: unknown, out: number[] = []): number[] {
  if (typeof value === 'number') out.push(value);
  else if (Array.isArray(value)) for (const item of value) numbersIn(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) numbersIn(item, out);
  return out;
}

/**
 * The float64s a base64 string would hold if it carried raw values in binary (checkpointed
 * detector state does), read at every byte offset so that no alignment hides one.
 */
function float64sIn(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  const out: number[] = [];
  for (let i = 0; i + 8 <= bytes.length; i++) out.push(bytes.readDoubleLE(i));
  return out;
}

describe('zero retention (real server, real embedded ClickHouse)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      SEISMO_ADMIN_TOKEN: ADMIN,
      SEISMO_PARTITIONS: '2',
      SEISMO_CHECKPOINT_INTERVAL_MS: '200',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const call = async <T>(method: string, path: string, token: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return (await response.json()) as T;
  };

  it('scores the points and stores no raw point anywhere: only anomalies with their context, and hours', async () => {
    const { id, api_key: key } = await call<{ id: string; api_key: string }>('POST', '/v1/tenants', ADMIN, {
      name: 'private',
      zero_retention: true,
    });
    // A steady series with a spike at the end, each value distinct and easy to recognise.
    const start = Math.floor((Date.now() - 6 * HOUR) / HOUR) * HOUR;
    const values = Array.from({ length: 300 }, (_, i) => 100 + (i % 10) * 0.1 + i * 1e-7 + 0.0000031);
    values[299] = 950.0000031;
    const pushed = await call<{ accepted: number }>('POST', '/v1/points', key, {
      points: values.map((value, i) => ({ series: 'secret', ts: start + i * MINUTE, value })),
    });
    expect(pushed.accepted).toBe(300);

    const anomalies = await eventually(async () => {
      const found = await call<{ anomalies: { ts: number; value: number }[] }>('GET', '/v1/anomalies', key);
      return found.anomalies.some((a) => a.value === values[299]) ? found.anomalies : undefined;
    }, 'the spike as an anomaly');
    expect(anomalies.length).toBeGreaterThan(0);
    // A partition is checkpointed after a batch once 200 ms passed since its last round:
    // later points (themselves raw points to look for) bring the round that covers them.
    await eventually(async () => {
      const rows = await server.query<{ n: string }>(
        `SELECT count() AS n FROM checkpoints WHERE tenant_id = '${id}'`,
      );
      if (Number(rows[0].n) > 0) return true;
      const i = values.length;
      values.push(100.5 + i * 1e-7 + 0.0000031);
      await call('POST', '/v1/points', key, {
        points: [{ series: 'secret', ts: start + i * MINUTE, value: values[i] }],
      });
      return undefined;
    }, 'a checkpoint of the series');
    // The last point pushed is in the summaries too.
    await eventually(async () => {
      const [row] = await server.query<{ n: number }>(
        `SELECT sum(count) AS n FROM series_hourly WHERE tenant_id = '${id}'`,
      );
      return Number(row.n) === values.length ? true : undefined;
    }, 'every point in the hourly summaries');

    const raw = new Set(values);
    const stored = await server.query<Record<string, unknown>>(
      `SELECT context_values, value FROM anomalies FINAL WHERE tenant_id = '${id}'`,
    );
    const inAnomalies = new Set(numbersIn(stored));
    const hours = await server.query<{ hour: number; count: number; sum: number; min: number; max: number }>(
      `SELECT toUnixTimestamp(hour) * 1000 AS hour, sum(count) AS count, sum(sum) AS sum, min(min) AS min,
              max(max) AS max FROM series_hourly WHERE tenant_id = '${id}' GROUP BY hour ORDER BY hour`,
    );
    const expectedHours = Array.from({ length: Math.ceil(values.length / 60) }, (_, h) => {
      const inHour = values.slice(h * 60, h * 60 + 60);
      return {
        hour: start + h * HOUR,
        count: inHour.length,
        sum: inHour.reduce((a, b) => a + b, 0),
        min: Math.min(...inHour),
        max: Math.max(...inHour),
      };
    });
    expect(
      hours.map((h) => ({
        ...h,
        hour: Number(h.hour),
        count: Number(h.count),
        sum: Number(h.sum.toFixed(6)),
      })),
    ).toEqual(expectedHours.map((h) => ({ ...h, sum: Number(h.sum.toFixed(6)) })));
    const hourBounds = new Set(hours.flatMap((h) => [h.min, h.max]));
    // The same hours, as the tenant reads them.
    const read = await call<{ hours: Array<{ hour: number; count: number; avg: number }> }>(
      'GET',
      `/v1/series/secret/hourly?from=${start}`,
      key,
    );
    expect(read.hours.map((h) => [h.hour, h.count])).toEqual(expectedHours.map((h) => [h.hour, h.count]));
    expect(read.hours[0].avg).toBeCloseTo(expectedHours[0].sum / 60, 9);

    const tables = await server.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View%'",
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['points', 'anomalies', 'series_hourly']),
    );
    const found: Record<string, number[]> = {};
    /** Per checkpoint row (every round's, merged away or not): the indexes of the raw points it holds. */
    const checkpointRows: number[][] = [];
    for (const { name } of tables) {
      const rows = await server.query<Record<string, unknown>>(`SELECT * FROM \`${name}\``);
      const hits: number[] = [];
      for (const row of rows) {
        const numbers = numbersIn(row);
        for (const cell of Object.values(row))
          if (typeof cell === 'string' && cell.length >= 16) numbers.push(...float64sIn(cell));
        const inRow = numbers.filter((n) => raw.has(n));
        hits.push(...inRow);
        if (name === 'checkpoints' && inRow.length > 0)
          checkpointRows.push([...new Set(inRow.map((n) => values.indexOf(n)))]);
      }
      if (hits.length > 0) found[name] = [...new Set(hits)];
    }
    // Anomalies hold their own value and context window; hourly rows hold each hour's min and max.
    const {
      anomalies: inAnomalyRows = [],
      series_hourly: inHourRows = [],
      checkpoints: _inCheckpoints,
      ...elsewhere
    } = found;
    expect(elsewhere).toEqual({});
    expect(inAnomalyRows.every((n) => inAnomalies.has(n))).toBe(true);
    expect(inHourRows.every((n) => hourBounds.has(n))).toBe(true);
    // The engine's checkpointed detector state holds each series' latest points as of its
    // round, so that scoring and the next anomaly's context survive a restart: a bounded
    // rolling window (the detectors' longest, 128 points), never the history. A statistic
    // that happens to equal an older point (one detector keeps a value seeded by the
    // first) may match one more.
    expect(checkpointRows.length).toBeGreaterThan(0);
    for (const indexes of checkpointRows) {
      const latest = Math.max(...indexes);
      expect(indexes.filter((i) => i <= latest - 128).length).toBeLessThanOrEqual(1);
    }
    const [points] = await server.query<{ n: string }>(
      `SELECT count() AS n FROM points WHERE tenant_id = '${id}'`,
    );
    expect(Number(points.n)).toBe(0);
  }, 60_000);
});
