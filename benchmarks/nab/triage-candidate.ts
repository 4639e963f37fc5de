import { SEVERITIES, type Severity } from '@seismo/alerting';
import { type TriageCandidate, type WindowPoint } from '@seismo/llm';
import { type EmittedAnomaly, type StreamedSeries } from './anomaly-stream';

/**
 * How far back the window shown to the LLM reaches and how many points it holds at most:
 * the alert path's (anomaly.triager.ts), which reads them from the stored points.
 */
export const WINDOW_MS = 7 * 86_400_000;
export const WINDOW_MAX_POINTS = 2016;

/**
 * The candidate the alert path would hand the LLM for one of the engine's anomalies, built
 * from the series alone: the file's name as the metric, no labels, no labelled past (no
 * operator has judged anything), and as the window the file's points up to and including
 * the anomalous one, never a later one. The type takes a series without its NAB windows,
 * so the labels cannot reach the prompt.
 */
export function triageCandidateOf(series: StreamedSeries, anomaly: EmittedAnomaly): TriageCandidate {
  const { record, index } = anomaly;
  if (series.timestamps[index] !== record.ts) {
    throw new Error(`anomaly ${record.id} is at ${record.ts}, row ${index} of ${series.name} is not`);
  }
  return {
    tenantId: record.tenantId,
    anomalyId: record.id,
    metric: series.name,
    labels: {},
    ts: record.ts,
    value: record.value,
    score: record.score,
    severity: alertSeverityOf(record.severity),
    detectors: record.detectors,
    window: windowBefore(series, index),
    past: [],
  };
}

/** The rows at most WINDOW_MS before row `index`, the last WINDOW_MAX_POINTS of them, ending with it. */
export function windowBefore(series: StreamedSeries, index: number): WindowPoint[] {
  const { timestamps, values } = series;
  const from = timestamps[index] - WINDOW_MS;
  let first = index;
  while (first > 0 && index - first + 1 < WINDOW_MAX_POINTS && timestamps[first - 1] >= from) first--;
  const window: WindowPoint[] = [];
  for (let i = first; i <= index; i++) window.push({ ts: timestamps[i], value: values[i] });
  return window;
}

/** The engine's severity in the alerting's words; anything else reads as info, as the API does. */
export function alertSeverityOf(value: string): Severity {
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'info';
}
