/**
 * How urgent an anomaly is, from its score alone (the ensemble's calibrated likelihood,
 * in [0, 1], alarms from 0.5 by default):
 *
 *   score >= 0.9  critical   rare even for a noisy series: page someone
 *   score >= 0.7  warning    clearly unusual
 *   below         info       past the alarm threshold, worth a look
 */
export type Severity = 'info' | 'warning' | 'critical';

export function severityOf(score: number): Severity {
  if (score >= 0.9) return 'critical';
  if (score >= 0.7) return 'warning';
  return 'info';
}
