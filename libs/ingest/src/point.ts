/**
 * What identifies a series: its metric name and its labels. `series` is the canonical
 * encoding of the two (`seriesKey`), the one string the rest of Seismo keys by (Kafka
 * message keys, per-series state, storage).
 */
export interface SeriesIdentity {
  readonly series: string;
  readonly metric: string;
  /**
   * Non-empty values only, inserted in label-name order. JavaScript iterates keys that
   * look like array indices ("0", "42") first whatever the insertion order, so code that
   * needs the order sorts (`sortedLabels`) rather than trusting `Object.keys`.
   */
  readonly labels: Readonly<Record<string, string>>;
}

/** One accepted observation: a finite value of a series at an instant. */
export interface Point extends SeriesIdentity {
  /** Epoch milliseconds, an integer: finer precision is dropped (floored) on the way in. */
  readonly t: number;
  readonly value: number;
}
