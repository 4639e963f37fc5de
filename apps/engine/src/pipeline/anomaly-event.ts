import { type AnomalyRecord } from '@seismo/storage';
import { z } from 'zod';

/**
 * An anomaly as the world outside the engine sees it: the value of a `seismo.anomalies`
 * message (JSON, keyed by tenant/series) and, without `tenant_id`, an event of the
 * dashboard's stream. Field names follow the HTTP API (`GET /v1/anomalies`), so one
 * consumer reads both. Adding a field is compatible; changing one needs a new `v`.
 */
export interface AnomalyEvent {
  readonly v: 1;
  readonly tenant_id: string;
  readonly id: string;
  readonly series: string;
  /** RFC 3339, milliseconds, UTC. */
  readonly ts: string;
  readonly value: number;
  readonly score: number;
  readonly severity: string;
  readonly detectors: readonly string[];
  /** The recent points before the anomaly, oldest first. */
  readonly context: { readonly ts: readonly string[]; readonly values: readonly number[] };
  readonly explanation?: string;
}

const schema = z.object({
  v: z.literal(1),
  tenant_id: z.string().min(1),
  id: z.string().min(1),
  series: z.string().min(1),
  ts: z.iso.datetime(),
  value: z.number(),
  score: z.number().min(0).max(1),
  severity: z.string().min(1),
  detectors: z.array(z.string()),
  context: z.object({ ts: z.array(z.iso.datetime()), values: z.array(z.number()) }),
  explanation: z.string().optional(),
});

export function toAnomalyEvent(record: AnomalyRecord): AnomalyEvent {
  return {
    v: 1,
    tenant_id: record.tenantId,
    id: record.id,
    series: record.series,
    ts: new Date(record.ts).toISOString(),
    value: record.value,
    score: record.score,
    severity: record.severity,
    detectors: record.detectors,
    context: {
      ts: record.context.ts.map((t) => new Date(t).toISOString()),
      values: record.context.values,
    },
    ...(record.explanation !== null ? { explanation: record.explanation } : {}),
  };
}

export function encodeAnomalyEvent(record: AnomalyRecord): Buffer {
  return Buffer.from(JSON.stringify(toAnomalyEvent(record)));
}

export class AnomalyEventDecodeError extends Error {
  override readonly name = 'AnomalyEventDecodeError';
}

/** Parses and checks a message value; a value that is not an event is an error naming the field. */
export function decodeAnomalyEvent(bytes: Uint8Array): AnomalyEvent {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new AnomalyEventDecodeError(`anomaly event is not JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AnomalyEventDecodeError(`anomaly event: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as AnomalyEvent;
}
