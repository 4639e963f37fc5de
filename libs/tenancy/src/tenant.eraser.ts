import { Logger, type LoggerService } from '@nestjs/common';
import { describeCause, type TableCounts, type TenantDataRepository, type TenantId } from '@seismo/storage';
import { type AuditContext, SYSTEM } from './audit';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';
import { type TenantDirectory } from './tenant.directory';

export interface TenantEraserOptions {
  /**
   * Runs after the tables are erased, for what lies outside them (the tenant's Kafka
   * inlet topic). A failure fails the erasure, which can then be asked for again.
   */
  readonly eraseOutside?: (tenant: TenantId) => Promise<void>;
  /** Delay of the second pass (default three reload periods of the directory). */
  readonly followUpMs?: number;
  readonly logger?: Pick<LoggerService, 'warn' | 'log'>;
}

/**
 * Erases everything a tenant has: every row of every table TENANT_TABLES lists (points,
 * anomalies, hourly summaries, usage, detector checkpoints, audit log, members, keys,
 * billing), then its tenant row, so nothing of it is left but one audit entry saying it
 * was erased, by whom and when, with how many rows of each table.
 *
 * In order: the tenant is forgotten in this process first (its keys stop at once and the
 * engine here drops the detector state of its series), then its rows are deleted. An
 * engine in another process may still write a batch or checkpoint of it until its next
 * reload of the tenants: one second pass, three reload periods later, deletes those.
 * A failed erasure leaves the tenant row (deleted last), so asking again finishes it.
 */
export class TenantEraser {
  private readonly followUps = new Set<NodeJS.Timeout>();
  private readonly logger: Pick<LoggerService, 'warn' | 'log'>;
  private readonly followUpMs: number;

  constructor(
    private readonly directory: TenantDirectory,
    private readonly data: TenantDataRepository,
    private readonly options: TenantEraserOptions = {},
  ) {
    this.logger = options.logger ?? new Logger(TenantEraser.name);
    this.followUpMs = options.followUpMs ?? 3 * directory.reloadPeriodMs;
  }

  /** Erases the tenant; UNKNOWN_TENANT if there is none. Resolves with the rows removed per table. */
  async erase(id: TenantId, by: AuditContext): Promise<TableCounts> {
    const tenant = await this.directory.find(id);
    if (!tenant) throw new TenancyException(TenancyExceptionCode.UNKNOWN_TENANT, `no tenant ${id}`);
    this.directory.forget(id);
    // Scheduled first: were the first pass to fail, the second still runs.
    this.followUp(id);
    const erased = await this.data.erase(id);
    await this.options.eraseOutside?.(id);
    await this.directory.auditLog.append(by, [
      { tenantId: id, action: 'tenant.erased', target: id, details: { rows: erased } },
    ]);
    // A reload that read the tables before the delete would bring the tenant back until the next one.
    await this.directory.reload().catch(() => this.directory.forget(id));
    if (this.directory.get(id)) this.directory.forget(id);
    const actor = by.actor.kind === 'system' ? 'the purge of closed tenants' : by.actor.kind;
    this.logger.log(`tenant ${id} erased by ${actor}: ${describeCounts(erased)}`);
    return erased;
  }

  /** Erases the closed tenants whose grace period is over; one failure does not stop the others. */
  async purgeDue(now = Date.now()): Promise<TenantId[]> {
    await this.directory.reload();
    const purged: TenantId[] = [];
    for (const tenant of this.directory.closedDue(now)) {
      try {
        await this.erase(tenant.id, SYSTEM);
        purged.push(tenant.id);
      } catch (error) {
        this.logger.warn(
          `erasing closed tenant ${tenant.id} failed, retrying at the next run: ${describeCause(error)}`,
        );
      }
    }
    return purged;
  }

  /** Cancels pending second passes (at shutdown). */
  close(): void {
    for (const timer of this.followUps) clearTimeout(timer);
    this.followUps.clear();
  }

  private followUp(id: TenantId): void {
    const timer = setTimeout(() => {
      this.followUps.delete(timer);
      this.data.erase(id).catch((error: unknown) => {
        this.logger.warn(`second pass of the erasure of tenant ${id} failed: ${describeCause(error)}`);
      });
    }, this.followUpMs).unref();
    this.followUps.add(timer);
  }
}

/**
 * Runs TenantEraser.purgeDue every `intervalMs`: a closed tenant is erased within one
 * interval of its grace period ending, by whichever API process gets there first (a
 * second finds nothing left to erase).
 */
export class TenantPurger {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly eraser: TenantEraser,
    private readonly intervalMs: number,
    private readonly logger: Pick<LoggerService, 'warn'> = new Logger(TenantPurger.name),
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.eraser
        .purgeDue()
        .catch((error: unknown) => {
          this.logger.warn(
            `purging closed tenants failed, retrying at the next run: ${describeCause(error)}`,
          );
        })
        .finally(() => (this.running = undefined));
    }, this.intervalMs).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

function describeCounts(counts: TableCounts): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([table, n]) => `${n} ${table}`);
  return parts.length > 0 ? `${parts.join(', ')} rows` : 'no rows';
}
