import { createHash } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import {
  emptyUsage,
  hourOf,
  parseDedupToken,
  type TenantId,
  type UsageRecord,
  type UsageRepository,
} from '@seismo/storage';

export interface LlmTokenMeterOptions {
  /** How often the tokens counted are written (default 5000 ms). */
  readonly flushMs?: number;
  readonly clock?: () => number;
  readonly logger?: Pick<LoggerService, 'error'>;
}

/** Most distinct calls one write names; past it, a write goes at once. */
const MAX_CALLS_PER_WRITE = 1000;

/**
 * Meters the LLM's tokens (`llm_tokens_in`, `llm_tokens_out`) per tenant and hour, written
 * together every `flushMs` rather than one INSERT per call: in embedded ClickHouse each
 * statement waits its turn with the engine's writes. A write goes under a token naming the
 * calls it counts (their keys: `triage/<anomaly>`, `profile/<tenant>/<pattern>`), so a
 * retried write counts them once; a failed one is logged and tried again, under its token,
 * before the next.
 * What a crash takes is the last `flushMs` of counts: an undercount, never a double count.
 */
export class LlmTokenMeter {
  private readonly flushMs: number;
  private readonly clock: () => number;
  private readonly logger: Pick<LoggerService, 'error'>;
  /** `<tenant>/<hour>` -> the counts not yet written. */
  private pending = new Map<string, UsageRecord>();
  private keys: string[] = [];
  /** Writes made and not yet stored (their INSERT failed), each with its dedup token. */
  private unwritten: Array<{ rows: UsageRecord[]; token: string; calls: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly usage: Pick<UsageRepository, 'insertBatch'>,
    options: LlmTokenMeterOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 5000;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? new Logger(LlmTokenMeter.name);
  }

  /** Counts one call's tokens; `key` names the call's work, the same on a retry of it. */
  add(tenant: TenantId, spent: { inputTokens: number; outputTokens: number }, key: string): void {
    const hour = hourOf(this.clock());
    const slot = `${tenant}/${hour}`;
    const row = this.pending.get(slot) ?? emptyUsage(tenant, hour);
    this.pending.set(slot, {
      ...row,
      llmTokensIn: row.llmTokensIn + spent.inputTokens,
      llmTokensOut: row.llmTokensOut + spent.outputTokens,
    });
    this.keys.push(key);
    if (this.keys.length >= MAX_CALLS_PER_WRITE) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes what was counted; resolves once every count so far is stored (or its write failed, logged). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.keys.length > 0) {
      const digest = createHash('sha256').update(this.keys.join('\n')).digest('hex');
      this.unwritten.push({
        rows: [...this.pending.values()],
        token: `llm/${digest.slice(0, 40)}`,
        calls: this.keys.length,
      });
      this.pending = new Map();
      this.keys = [];
    }
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /**
   * The writes not yet stored, oldest first, each again under its own token: a write that
   * failed after ClickHouse took it (a lost answer) is then dropped as the repeat it is.
   */
  private async write(): Promise<void> {
    while (this.unwritten.length > 0) {
      const { rows, token, calls } = this.unwritten[0];
      try {
        await this.usage.insertBatch(rows, parseDedupToken(token));
      } catch (error) {
        this.logger.error(
          `metering the LLM tokens of ${calls} calls failed (tried again with the next write): ${error instanceof Error ? error.message : String(error)}`,
        );
        if (!this.timer) {
          this.timer = setTimeout(() => void this.flush(), this.flushMs);
          this.timer.unref();
        }
        return;
      }
      this.unwritten.shift();
    }
  }
}
