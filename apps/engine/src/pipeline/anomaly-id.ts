import { createHash } from 'node:crypto';

/**
 * An anomaly's id, derived from what it is (which point of which series of which tenant)
 * so that a replay after a crash produces the same id and the anomalies table keeps one
 * row. 128 bits of SHA-256: collisions are out of reach at any realistic volume. The
 * fields are hashed as a JSON array, which separates them unambiguously whatever
 * characters a series name holds.
 */
export function anomalyId(tenant: string, series: string, ts: number): string {
  return createHash('sha256')
    .update(JSON.stringify([tenant, series, ts]))
    .digest('hex')
    .slice(0, 32);
}
