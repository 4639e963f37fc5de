import { CONTEXT_POINTS } from '@seismo/engine/scoring/series-scorer';
import { parseTenantId } from '@seismo/storage';
import { emitAnomalies, type StreamedSeries } from './anomaly-stream';

const tenantId = parseTenantId('nab');
const STEP = 300_000;

/** A seeded noisy level of 100 with one spike to 400 at row 800. */
function series(length = 1000): StreamedSeries & { timestamps: Float64Array; values: Float64Array } {
  let seed = 7;
  const noise = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648 - 0.5;
  };
  const timestamps = Float64Array.from({ length }, (_, i) => Date.UTC(2014, 0, 1) + i * STEP);
  const values = Float64Array.from({ length }, (_, i) => (i === 800 ? 400 : 100 + 4 * noise()));
  return { name: 'art/spike.csv', timestamps, values };
}

describe('emitAnomalies', () => {
  it("emits the spike as the engine's anomaly row, with the context window the engine stores", () => {
    const s = series();
    const anomalies = emitAnomalies(s, { tenantId });
    const spike = anomalies.find((a) => a.index === 800);
    expect(spike).toBeDefined();
    const { record } = spike!;
    expect(record).toMatchObject({ tenantId, series: s.name, ts: s.timestamps[800], value: 400 });
    expect(record.score).toBeGreaterThanOrEqual(0.5);
    expect(record.detectors).toEqual(['ensemble']);
    expect(record.context.ts).toEqual(Array.from(s.timestamps.slice(801 - CONTEXT_POINTS, 801)));
    expect(record.context.values).toEqual(Array.from(s.values.slice(801 - CONTEXT_POINTS, 801)));
    for (const a of anomalies) expect(a.record.ts).toBe(s.timestamps[a.index]);
  });

  it('judges a row by the rows up to it only: a prefix of the series emits a prefix of the anomalies', () => {
    const full = emitAnomalies(series(), { tenantId });
    const cut = 801;
    const prefix = series();
    const head = emitAnomalies(
      { ...prefix, timestamps: prefix.timestamps.slice(0, cut), values: prefix.values.slice(0, cut) },
      { tenantId },
    );
    expect(head).toEqual(full.filter((a) => a.index < cut));
  });

  it('emits nothing under a threshold of 1 but what scores 1, and refuses a threshold outside (0, 1]', () => {
    for (const a of emitAnomalies(series(), { tenantId, threshold: 1 })) expect(a.record.score).toBe(1);
    expect(() => emitAnomalies(series(), { tenantId, threshold: 0 })).toThrow(/anomalyThreshold/);
  });
});
