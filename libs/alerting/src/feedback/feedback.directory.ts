import { Logger, type LoggerService } from '@nestjs/common';
import { type ClickHouseAccess, describeCause, type StoredAnomaly, type TenantId } from '@seismo/storage';
import { type AuditContext, type AuditLogRepository } from '@seismo/tenancy';
import { actorName } from '../actor-name';
import { type Feedback, type FeedbackLabel } from './feedback';
import { signatureOf } from './feedback-signature';
import { FeedbackRepository } from './feedback.repository';
import {
  type Suppression,
  type SuppressionCandidate,
  FeedbackSuppressor,
  type FeedbackSuppressorOptions,
} from './feedback.suppressor';
import { type FeedbackInput } from './feedback.validator';

export interface FeedbackDirectoryOptions {
  /** How often to re-read the labels (default 5000 ms): another process's label applies here within it. */
  readonly reloadMs?: number;
  readonly suppressor?: FeedbackSuppressorOptions;
  readonly logger?: Pick<LoggerService, 'warn'>;
}

const DEFAULT_PER_SERIES = 16;

/**
 * Feedback on anomalies: stores each label with its audit entry, and holds what the labels
 * taught in a FeedbackSuppressor the alert path asks synchronously (`suppresses`). It
 * loads from the table at start, learns a label given here at once, and re-reads every few
 * seconds for labels given through another process.
 */
export class FeedbackDirectory {
  private suppressor: FeedbackSuppressor;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private readonly perSeries: number;

  private constructor(
    private readonly repository: FeedbackRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly suppressorOptions: FeedbackSuppressorOptions,
    private readonly logger: Pick<LoggerService, 'warn'>,
  ) {
    this.suppressor = new FeedbackSuppressor(suppressorOptions);
    this.perSeries = suppressorOptions.maxPerSeries ?? DEFAULT_PER_SERIES;
  }

  static async open(
    access: ClickHouseAccess,
    auditLog: AuditLogRepository,
    options: FeedbackDirectoryOptions = {},
  ): Promise<FeedbackDirectory> {
    const directory = new FeedbackDirectory(
      new FeedbackRepository(access),
      auditLog,
      options.suppressor ?? {},
      options.logger ?? new Logger(FeedbackDirectory.name),
    );
    await directory.reload();
    directory.timer = setInterval(() => {
      if (directory.reloading) return;
      directory.reload().catch((error: unknown) => {
        directory.logger.warn(`reloading feedback failed, keeping what was learned: ${describeCause(error)}`);
      });
    }, options.reloadMs ?? 5000).unref();
    return directory;
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the labels into a fresh suppressor; resolves once a read begun after this call is applied. */
  reload(): Promise<void> {
    const next = (this.reloading ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        this.suppressor = await this.repository.loadInto(
          new FeedbackSuppressor(this.suppressorOptions),
          this.perSeries,
        );
      })
      .finally(() => {
        if (this.reloading === next) this.reloading = undefined;
      });
    this.reloading = next;
    return next;
  }

  /**
   * Labels one of the tenant's anomalies (the caller found it in the tenant's anomalies),
   * replacing any earlier label of it; resolves once the label and its audit entry are
   * stored, and the suppressor has learned it. `retentionDays`: the tenant's anomaly retention.
   */
  async give(
    tenant: TenantId,
    anomaly: StoredAnomaly,
    input: FeedbackInput,
    by: AuditContext,
    retentionDays: number,
    now = Date.now(),
  ): Promise<Feedback> {
    const feedback: Feedback = {
      tenantId: tenant,
      anomalyId: anomaly.id,
      series: anomaly.series,
      anomalyTs: anomaly.ts,
      label: input.label,
      ...(input.note !== undefined ? { note: input.note } : {}),
      actor: actorName(by.actor),
      createdAt: now,
      signature: signatureOf(anomaly),
    };
    await this.repository.write(feedback, retentionDays);
    await this.auditLog.append(by, [
      {
        tenantId: tenant,
        action: 'anomaly.feedback',
        target: anomaly.id,
        details: { series: anomaly.series, label: input.label, ...(input.note ? { note: input.note } : {}) },
      },
    ]);
    // A reload begun before the write may not hold it: wait for it, then learn on top.
    await this.reloading?.catch(() => undefined);
    this.suppressor.learn(feedback);
    return feedback;
  }

  /** The latest label of one of the tenant's anomalies. */
  latest(tenant: TenantId, anomalyId: string): Promise<Feedback | undefined> {
    return this.repository.latest(tenant, anomalyId);
  }

  /** The latest label of each of these anomalies that has one. */
  labelsOf(tenant: TenantId, anomalyIds: readonly string[]): Promise<Map<string, FeedbackLabel>> {
    return this.repository.labelsOf(tenant, anomalyIds);
  }

  /**
   * Whether what the tenant's labels taught keeps this anomaly from alerting (see
   * FeedbackSuppressor). Synchronous and without I/O: for the alert path. The anomaly is
   * stored and listed either way; only its alert is skipped.
   */
  suppresses(candidate: SuppressionCandidate): Suppression | undefined {
    return this.suppressor.suppresses(candidate);
  }

  /** Labels of a series held for the alert path (at most the suppressor's per-series bound). */
  labelCountOf(tenant: TenantId, series: string): number {
    return this.suppressor.signaturesOf(tenant, series);
  }

  /** Forgets an erased tenant's labels until the next reload (which finds them gone too). */
  forgetTenant(tenant: TenantId): void {
    this.suppressor.forgetTenant(tenant);
  }
}
