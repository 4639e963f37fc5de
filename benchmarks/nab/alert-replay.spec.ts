import { anomalyRecordOf } from '@seismo/engine/pipeline/anomaly-record';
import { parseTenantId } from '@seismo/storage';
import { type AlertReplayInput, replayAlerts } from './alert-replay';
import { type EmittedAnomaly } from './anomaly-stream';
import { DEFAULT_OPERATOR_POLICY, SimulatedOperator } from './feedback-operator';

const tenantId = parseTenantId('nab');
const STEP = 300_000;
const T0 = Date.UTC(2014, 0, 1);
const timestamps = Float64Array.from({ length: 100 }, (_, i) => T0 + i * STEP);
/** The context before each anomaly: median 10, MAD 1, so a value v deviates by (v - 10) / 1.4826. */
const BASE = [10, 11, 9, 10, 12, 10, 9];
const windows = [{ start: timestamps[60], end: timestamps[70] }];

function anomalyAt(index: number, value: number, score = 0.8): EmittedAnomaly {
  const ts = timestamps[index];
  const context = {
    ts: [...BASE.map((_, k) => timestamps[index - BASE.length + k]), ts],
    values: [...BASE, value],
  };
  return { index, record: anomalyRecordOf({ tenantId, series: 's', ts, value, score, context }, ts, 1) };
}

function input(anomalies: EmittedAnomaly[]): AlertReplayInput {
  return { series: 's', timestamps, anomalies, windows };
}

describe('replayAlerts', () => {
  const anomalies = [anomalyAt(10, 25), anomalyAt(30, 20), anomalyAt(65, 40)];

  it('without an operator, alerts on every anomaly that opens an incident', () => {
    const replay = replayAlerts(input(anomalies));
    expect(replay.alerts.map((a) => [a.state, a.anomalyTs, a.window, a.label])).toEqual([
      ['opened', timestamps[10], -1, undefined],
      ['opened', timestamps[30], -1, undefined],
      ['opened', timestamps[65], 0, undefined],
    ]);
    expect(replay.suppressed).toBe(0);
    expect(replay.labels).toEqual({ falsePositive: 0, truePositive: 0 });
  });

  it('suppresses a later anomaly like a false positive the operator labelled, and alerts on a bigger one', () => {
    const replay = replayAlerts(input(anomalies), { operator: new SimulatedOperator() });
    expect(replay.alerts.map((a) => [a.anomalyTs, a.window, a.label])).toEqual([
      [timestamps[10], -1, 'false_positive'],
      [timestamps[65], 0, 'true_positive'],
    ]);
    expect(replay.suppressed).toBe(1);
    expect(replay.labels).toEqual({ falsePositive: 1, truePositive: 1 });
  });

  it('learns a label only once its delay has passed on the rows’ clock', () => {
    const late = new SimulatedOperator({ ...DEFAULT_OPERATOR_POLICY, delayMs: 120 * 60_000 });
    const replay = replayAlerts(input(anomalies), { operator: late });
    // Row 30 comes 100 minutes after row 10: the label is not there yet.
    expect(replay.alerts.map((a) => a.anomalyTs)).toEqual([timestamps[10], timestamps[30], timestamps[65]]);
    expect(replay.suppressed).toBe(0);
  });

  it('folds anomalies minutes apart into one incident, which tells again only when it gets worse', () => {
    const burst = [
      anomalyAt(10, 25, 0.6),
      anomalyAt(11, 26, 0.6),
      anomalyAt(12, 40, 0.95),
      anomalyAt(30, 25),
    ];
    const replay = replayAlerts(input(burst));
    expect(replay.alerts.map((a) => [a.state, a.anomalyTs])).toEqual([
      ['opened', timestamps[10]],
      ['updated', timestamps[12]],
      ['opened', timestamps[30]],
    ]);
  });

  it('never changes the anomalies it is given: the detector does not hear of feedback', () => {
    const before = JSON.stringify(anomalies);
    replayAlerts(input(anomalies), { operator: new SimulatedOperator() });
    expect(JSON.stringify(anomalies)).toBe(before);
  });

  it('refuses anomalies out of row order', () => {
    expect(() => replayAlerts(input([anomalyAt(30, 25), anomalyAt(10, 25)]))).toThrow(/row order/);
  });
});
