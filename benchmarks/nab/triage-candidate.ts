import { SEVERITIES, type Severity } from '@seismo/alerting';
import { bucketedWindow, TRIAGE_WINDOW_MS, type TriageCandidate, type WindowPoint } from '@seismo/llm';
import { type EmittedAnomaly, type StreamedSeries } from './anomaly-stream';

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

/**
 * The window the alert path reads for the anomaly at row `index` (anomaly.triager.ts,
 * from the stored points): the first row of every five minutes of the week before it, then that row,
 * from rows up to `index` only.
 */
export function windowBefore(series: StreamedSeries, index: number): WindowPoint[] {
  const { timestamps, values } = series;
  const at = timestamps[index];
  let first = index;
  while (first > 0 && timestamps[first - 1] >= at - TRIAGE_WINDOW_MS) first--;
  const rows: WindowPoint[] = [];
  for (let i = first; i <= index; i++) rows.push({ ts: timestamps[i], value: values[i] });
  return bucketedWindow(rows, at);
}

/** The engine's severity in the alerting's words; anything else reads as info, as the API does. */
export function alertSeverityOf(value: string): Severity {
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'info';
}
