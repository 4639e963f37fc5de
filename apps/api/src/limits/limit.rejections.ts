import { type SeismoMetrics } from '../metrics/seismo.metrics';
import { type LimitReason, type LimitRejectionListener, type LimitStage } from './limit.reason';

/**
 * Where every refusal by a tenant's limit is told, in this process: the metrics count
 * it (`seismo_limit_rejections_total{reason,stage}`), and any other listener added with
 * `subscribe` (usage metering) hears the same calls, synchronously and without I/O, so
 * a listener must only count in memory.
 */
export class LimitRejections implements LimitRejectionListener {
  private readonly listeners: LimitRejectionListener[] = [];

  constructor(private readonly metrics: SeismoMetrics) {}

  subscribe(listener: LimitRejectionListener): void {
    this.listeners.push(listener);
  }

  rejected(tenant: string, reason: LimitReason, stage: LimitStage, count: number): void {
    this.metrics.limitRejections.inc({ reason, stage }, count);
    for (const listener of this.listeners) listener.rejected(tenant, reason, stage, count);
  }
}
