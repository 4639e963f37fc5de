import { createHash } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { describeCause, nextRowVersion, type TenantId } from '@seismo/storage';
import { AlertingException, AlertingExceptionCode } from '../alerting.exception';
import { type Channel, type ChannelKind, type Delivery, type SendOutcome } from '../channel';
import { backoffDelay, type BackoffPolicy, DEFAULT_BACKOFF } from './backoff';
import { type DeliveryRecord, type NewDelivery } from './delivery';
import { type DeliveryRepository } from './delivery.repository';

/** What the dispatcher needs of the outbox: DeliveryRepository, or a fake of it in unit tests. */
export type DeliveryStore = Pick<DeliveryRepository, 'enqueue' | 'record' | 'pending'>;

/** How an attempt ended, as metrics count it. */
export type AttemptResult = 'sent' | 'retry' | 'dead';

export interface DeliveryDispatcherOptions {
  /** The channel that sends a target of this kind. */
  readonly channelFor: (kind: ChannelKind) => Channel;
  /** Most attempts in flight at once, all subscriptions together (default 64). */
  readonly concurrency?: number;
  /** Most attempts in flight to one subscription (default 4). */
  readonly perSubscriptionConcurrency?: number;
  /** An attempt without an answer by then is aborted and retried (default 10 000 ms). */
  readonly attemptTimeoutMs?: number;
  /** Attempts before a delivery is dead (default 8). */
  readonly maxAttempts?: number;
  readonly backoff?: Partial<BackoffPolicy>;
  /** Numbers in [0, 1) for the jitter (default Math.random; `seededRandom` in tests). */
  readonly random?: () => number;
  /** Epoch milliseconds (default Date.now). */
  readonly now?: () => number;
  /** Most deliveries held in memory, in flight, waiting or awaiting their outcome's write (default 10 000). */
  readonly maxHeld?: number;
  /** Most deliveries of one subscription held in memory (default 1000). */
  readonly maxHeldPerSubscription?: number;
  /** How often pending rows not held in memory are looked for, when there may be any (default 5000 ms). */
  readonly sweepMs?: number;
  /**
   * How often the table is looked at even when this dispatcher knows of no pending row
   * there (default 30 000 ms): rows another process stored, a dead delivery revived
   * through an API process that does not alert.
   */
  readonly idleSweepMs?: number;
  /** Outcomes are written together, at the latest this long after the first of them (default 50 ms)... */
  readonly flushMs?: number;
  /** ...or as soon as this many are waiting (default 500). */
  readonly flushRows?: number;
  /** A receiver answered that it is gone (410): the caller may mute the subscription. */
  readonly onGone?: (delivery: Delivery) => void;
  /** Every attempt's end, for metrics. */
  readonly observe?: (result: AttemptResult, channel: ChannelKind) => void;
  /**
   * Deliveries of a tenant sent, once their state is stored: usage metering's `alerts_delivered`.
   * `batch` (`alerts/<hash of their ids>`) names them: a usage write retried with it as its dedup
   * token counts them once. A sent delivery is never in a second call, from this process or a later one.
   */
  readonly delivered?: (tenant: TenantId, count: number, batch: string) => void;
  readonly logger?: Pick<LoggerService, 'warn' | 'error'>;
}

/** A delivery held in memory. */
interface Held {
  record: DeliveryRecord;
  /** Its incident, and an email's recipient: what it keeps its order within (`orderOf`). */
  readonly incident: string;
  running: boolean;
  abort?: AbortController;
}

/** One subscription's deliveries in memory, oldest first. */
interface SubscriptionQueue {
  readonly id: string;
  readonly items: Held[];
  running: number;
  /** In the run queue: it may have an attempt to start. */
  queued: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
}

const FLUSH_RETRY_MS = 1000;
/** How long a settled delivery is remembered against sweeps that began before it settled. */
const SETTLED_MEMORY_MS = 60_000;
/** setTimeout's longest delay; a later attempt is woken early, finds itself not due and re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sends the outbox's deliveries and records how each went. A delivery is stored before
 * any attempt (`enqueue` resolves once it is), then held in memory on its subscription's
 * queue and sent through its channel; outcomes are written in batches.
 *
 * Each subscription has its own queue and its own share of the attempts in flight, so a
 * receiver that is slow, hangs or is down delays only its own deliveries. Within a
 * subscription, a delivery waits for every earlier one of the same incident (to the same
 * email recipient) to be settled (sent or dead), so an incident's `resolved` never overtakes
 * its `opened`.
 *
 * Memory is bounded: beyond `maxHeld` (or `maxHeldPerSubscription`) a delivery stays in
 * the table as pending and a sweep loads it once there is room. A subscription with rows
 * left in the table takes no new delivery directly until the sweep has caught up with it,
 * which keeps its order. A new dispatcher assumes its predecessor left rows: `start()`
 * loads them.
 */
export class DeliveryDispatcher {
  private readonly channelFor: (kind: ChannelKind) => Channel;
  private readonly concurrency: number;
  private readonly perSubscription: number;
  private readonly attemptTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly maxHeld: number;
  private readonly maxHeldPerSubscription: number;
  private readonly sweepMs: number;
  private readonly idleSweepMs: number;
  private lastSweepAt = 0;
  /** Delivery id -> when its final outcome (sent, dead) was stored: what a sweep under way may read as pending. */
  private readonly settledAt = new Map<string, number>();
  private readonly flushMs: number;
  private readonly flushRows: number;
  private readonly logger: Pick<LoggerService, 'warn' | 'error'>;

  private readonly held = new Map<string, Held>();
  private readonly queues = new Map<string, SubscriptionQueue>();
  private readonly runQueue: SubscriptionQueue[] = [];
  private running = 0;
  private readonly attempts = new Set<Promise<void>>();

  /** Outcomes not yet written, by delivery id (a later one replaces an earlier). */
  private outcomes = new Map<string, DeliveryRecord>();
  /** Ids of the outcomes being written now. */
  private writing = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;

  /** Subscriptions with pending rows in the table that are not held, by the spill's order. */
  private readonly spilled = new Map<string, number>();
  private spillEpoch = 0;
  /** The table may hold pending rows of any subscription (a predecessor's, or more than a sweep took). */
  private backlog = true;
  private sweeping: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;

  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';

  constructor(
    private readonly store: DeliveryStore,
    private readonly options: DeliveryDispatcherOptions,
  ) {
    this.channelFor = options.channelFor;
    this.concurrency = positive(options.concurrency ?? 64, 'concurrency');
    this.perSubscription = positive(options.perSubscriptionConcurrency ?? 4, 'perSubscriptionConcurrency');
    this.attemptTimeoutMs = positive(options.attemptTimeoutMs ?? 10_000, 'attemptTimeoutMs');
    this.maxAttempts = positive(options.maxAttempts ?? 8, 'maxAttempts');
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    positive(this.backoff.baseMs, 'backoff.baseMs');
    positive(this.backoff.capMs, 'backoff.capMs');
    positive(this.backoff.maxRetryAfterMs, 'backoff.maxRetryAfterMs');
    if (!(this.backoff.factor >= 1)) invalidOption('backoff.factor', this.backoff.factor, 'a number ≥ 1');
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => Date.now());
    this.maxHeld = positive(options.maxHeld ?? 10_000, 'maxHeld');
    this.maxHeldPerSubscription = positive(options.maxHeldPerSubscription ?? 1000, 'maxHeldPerSubscription');
    if (this.maxHeldPerSubscription > this.maxHeld) {
      invalidOption(
        'maxHeldPerSubscription',
        this.maxHeldPerSubscription,
        `at most maxHeld (${this.maxHeld})`,
      );
    }
    this.sweepMs = positive(options.sweepMs ?? 5000, 'sweepMs');
    this.idleSweepMs = positive(options.idleSweepMs ?? 30_000, 'idleSweepMs');
    this.flushMs = positive(options.flushMs ?? 50, 'flushMs');
    this.flushRows = positive(options.flushRows ?? 500, 'flushRows');
    this.logger = options.logger ?? new Logger(DeliveryDispatcher.name);
  }

  /** Loads the pending deliveries a predecessor left (up to the memory bound) and starts sending. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'started';
    this.sweepTimer = setInterval(() => {
      const idle = this.now() - this.lastSweepAt >= this.idleSweepMs;
      if (this.backlog || this.spilled.size > 0 || idle) void this.sweep();
    }, this.sweepMs).unref();
    await this.sweep();
  }

  /**
   * Stores the deliveries and schedules them; resolves once they are durable. One already
   * stored (a notification processed again) is left as it is and not sent again from here.
   * Rejects (a StorageException) only when they could not be stored: nothing was taken.
   */
  async enqueue(deliveries: readonly NewDelivery[]): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new AlertingException(
        AlertingExceptionCode.DISPATCHER_STOPPED,
        `${deliveries.length} deliveries handed to a stopped dispatcher`,
      );
    }
    if (deliveries.length === 0) return;
    const now = this.now();
    const records = deliveries.map((d): DeliveryRecord => ({
      id: d.id,
      idempotencyKey: d.idempotencyKey,
      tenantId: d.tenantId,
      subscriptionId: d.subscriptionId,
      target: d.target,
      notification: d.notification,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lastError: '',
      lastStatus: null,
      seq: nextRowVersion(),
      createdAt: now,
      sentAt: null,
    }));
    const fresh = await this.store.enqueue(records);
    if (this.state !== 'started') return;
    for (const record of fresh) this.admit(record, false);
    this.pump();
  }

  /**
   * Dead deliveries given another round (`revived`): stored as they now are, then sent as
   * the sweep's rows are (behind what their subscriptions already hold). Resolves once stored.
   */
  async resend(records: readonly DeliveryRecord[]): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new AlertingException(
        AlertingExceptionCode.DISPATCHER_STOPPED,
        `${records.length} deliveries to send again handed to a stopped dispatcher`,
      );
    }
    if (records.length === 0) return;
    await this.store.record(records);
    if (this.state !== 'started') return;
    for (const record of records) this.admit(record, true);
    this.pump();
  }

  /**
   * Aborts the attempts in flight (their deliveries stay pending, for the next process),
   * writes the outcomes not written yet, and resolves. Nothing is sent after it.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    clearInterval(this.sweepTimer);
    clearTimeout(this.soonTimer);
    for (const queue of this.queues.values()) clearTimeout(queue.timer);
    for (const held of this.held.values()) held.abort?.abort();
    await Promise.all([...this.attempts]);
    await this.sweeping;
    await this.flush();
    if (this.outcomes.size > 0) {
      this.logger.error(
        `${this.outcomes.size} delivery outcomes could not be stored: those deliveries will be sent again`,
      );
    }
    this.held.clear();
    this.queues.clear();
    this.runQueue.length = 0;
    this.state = 'stopped';
  }

  /** Writes the outcomes waiting; resolves once they are stored, or the write failed (logged, retried later). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(() => this.writeOutcomes());
    return this.flushing;
  }

  /**
   * Loads pending rows not held here, as many as there is room for, oldest first.
   * Runs by itself every `sweepMs` while the table may hold such rows, and every
   * `idleSweepMs` anyway (rows another process stored).
   */
  sweep(): Promise<void> {
    if (!this.sweeping) {
      this.sweeping = this.sweepOnce()
        .catch((error: unknown) => {
          this.logger.warn(`loading pending deliveries failed, trying again later: ${describeCause(error)}`);
        })
        .finally(() => {
          this.sweeping = undefined;
        });
    }
    return this.sweeping;
  }

  /** Deliveries held in memory, and outcomes not yet written: what the memory bounds count. */
  get heldCount(): number {
    return this.held.size + this.outcomes.size + this.writing.size;
  }

  private async sweepOnce(): Promise<void> {
    if (this.state !== 'started') return;
    const startedAt = this.now();
    this.lastSweepAt = startedAt;
    for (const [id, at] of this.settledAt) if (at < startedAt - SETTLED_MEMORY_MS) this.settledAt.delete(id);
    const room = this.maxHeld - this.heldCount;
    if (room <= 0) return;
    const epoch = this.spillEpoch;
    const full = [...this.queues.values()]
      .filter((q) => q.items.length >= this.maxHeldPerSubscription)
      .map((q) => q.id);
    const read = await this.store.pending({
      limit: room,
      perSubscription: this.maxHeldPerSubscription,
      excludingIds: [...this.held.keys(), ...this.outcomes.keys(), ...this.writing],
      excludingSubscriptions: full,
    });
    // A delivery whose outcome was stored while the query ran may come back as it was
    // before (pending): it is settled, not sent again. One pending again since (revived)
    // is found by the next sweep.
    const rows = read.filter((row) => (this.settledAt.get(row.id) ?? Number.NEGATIVE_INFINITY) < startedAt);
    if (this.state !== 'started') return;
    const taken = new Map<string, { rows: number; all: boolean }>();
    for (const row of rows) {
      const seen = taken.get(row.subscriptionId) ?? { rows: 0, all: true };
      seen.rows++;
      // Once one of a subscription's rows finds no room, its later ones wait too: order.
      if (!seen.all || !this.admit(row, true)) seen.all = false;
      taken.set(row.subscriptionId, seen);
    }
    // A subscription caught up when the sweep took all it had: fewer rows than asked for,
    // all admitted, and no spill of it since the query began.
    for (const [id, at] of this.spilled) {
      if (at > epoch || full.includes(id)) continue;
      const seen = taken.get(id);
      if (!seen || (seen.all && seen.rows < this.maxHeldPerSubscription)) this.spilled.delete(id);
    }
    for (const [id, seen] of taken) {
      if (!seen.all || seen.rows >= this.maxHeldPerSubscription) this.spill(id);
    }
    this.backlog = rows.length >= room;
    this.pump();
  }

  /** Holds a pending delivery, or leaves it to a sweep when there is no room or its subscription has a backlog. */
  private admit(record: DeliveryRecord, fromSweep: boolean): boolean {
    if (this.state !== 'started') return false;
    if (this.held.has(record.id) || this.outcomes.has(record.id) || this.writing.has(record.id)) return true;
    const queue = this.queues.get(record.subscriptionId);
    const behind = !fromSweep && (this.backlog || this.spilled.has(record.subscriptionId));
    if (
      behind ||
      this.heldCount >= this.maxHeld ||
      (queue !== undefined && queue.items.length >= this.maxHeldPerSubscription)
    ) {
      this.spill(record.subscriptionId);
      return false;
    }
    const target = queue ?? this.queueOf(record.subscriptionId);
    const held: Held = { record, incident: orderOf(record), running: false };
    this.held.set(record.id, held);
    target.items.push(held);
    this.wake(target);
    return true;
  }

  private spill(subscriptionId: string): void {
    this.spilled.set(subscriptionId, ++this.spillEpoch);
  }

  private queueOf(id: string): SubscriptionQueue {
    const queue: SubscriptionQueue = { id, items: [], running: 0, queued: false };
    this.queues.set(id, queue);
    return queue;
  }

  private wake(queue: SubscriptionQueue): void {
    if (queue.queued) return;
    queue.queued = true;
    this.runQueue.push(queue);
  }

  /** Starts attempts while there are slots, taking subscriptions in turn. */
  private pump(): void {
    while (this.state === 'started' && this.running < this.concurrency && this.runQueue.length > 0) {
      const queue = this.runQueue.shift() as SubscriptionQueue;
      queue.queued = false;
      const next = this.nextOf(queue);
      if (!next) continue;
      this.attempt(queue, next);
      if (queue.running < this.perSubscription) this.wake(queue);
    }
  }

  /**
   * The first of a subscription's deliveries that is due and has no earlier delivery of
   * its incident unsettled; arms the subscription's timer for the earliest one not yet due.
   */
  private nextOf(queue: SubscriptionQueue): Held | undefined {
    if (queue.running >= this.perSubscription) return undefined;
    const now = this.now();
    const blocked = new Set<string>();
    let earliest = Infinity;
    for (const held of queue.items) {
      if (blocked.has(held.incident)) continue;
      blocked.add(held.incident);
      if (held.running) continue;
      if (held.record.nextAttemptAt <= now) return held;
      earliest = Math.min(earliest, held.record.nextAttemptAt);
    }
    if (earliest < Infinity && (queue.timerAt === undefined || earliest < queue.timerAt)) {
      clearTimeout(queue.timer);
      queue.timerAt = earliest;
      queue.timer = setTimeout(
        () => {
          queue.timer = undefined;
          queue.timerAt = undefined;
          this.wake(queue);
          this.pump();
        },
        Math.min(earliest - now, MAX_TIMER_MS),
      ).unref();
    }
    return undefined;
  }

  private attempt(queue: SubscriptionQueue, held: Held): void {
    held.running = true;
    queue.running++;
    this.running++;
    const abort = new AbortController();
    held.abort = abort;
    const run = this.send(held, abort)
      .then((outcome) => this.settle(queue, held, outcome))
      .catch((error: unknown) => {
        this.logger.error(`delivery ${held.record.id}: ${describeCause(error)}`);
      })
      .finally(() => {
        this.attempts.delete(run);
        held.running = false;
        held.abort = undefined;
        queue.running--;
        this.running--;
        this.release(queue);
        this.wake(queue);
        this.pump();
      });
    this.attempts.add(run);
  }

  /** One attempt, never longer than the timeout, answered even by a channel that ignores its signal. */
  private async send(held: Held, abort: AbortController): Promise<SendOutcome | 'stopped'> {
    const { record } = held;
    const delivery = deliveryOf(record);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.attemptTimeoutMs);
    const aborted = new Promise<'aborted'>((resolve) =>
      abort.signal.addEventListener('abort', () => resolve('aborted'), { once: true }),
    );
    try {
      const sent = Promise.resolve()
        .then(() => this.channelFor(record.target.kind).send(delivery, abort.signal))
        .catch((error: unknown): SendOutcome => ({
          ok: false,
          retryable: true,
          error: describeCause(error),
        }));
      const outcome = await Promise.race([sent, aborted]);
      // An answer that came first stands, even if the abort followed in the same instant.
      if (outcome !== 'aborted') return outcome;
      if (!timedOut) return 'stopped';
      return { ok: false, retryable: true, error: `no answer within ${this.attemptTimeoutMs} ms` };
    } finally {
      clearTimeout(timer);
    }
  }

  private settle(queue: SubscriptionQueue, held: Held, outcome: SendOutcome | 'stopped'): void {
    // Aborted by stop(): the row stays as stored, pending, for the next process.
    if (outcome === 'stopped') return;
    const { record } = held;
    const attempts = record.attempts + 1;
    const now = this.now();
    const channel = record.target.kind;
    let next: DeliveryRecord;
    let result: AttemptResult;
    if (outcome.ok) {
      result = 'sent';
      next = {
        ...record,
        status: 'sent',
        attempts,
        lastError: '',
        lastStatus: outcome.status ?? null,
        sentAt: now,
      };
    } else if (outcome.gone || !outcome.retryable || attempts >= this.maxAttempts) {
      result = 'dead';
      next = {
        ...record,
        status: 'dead',
        attempts,
        lastError: outcome.error,
        lastStatus: outcome.status ?? null,
      };
      this.logger.warn(
        `delivery ${record.id} to subscription ${record.subscriptionId} (${channel}) is dead after ` +
          `${attempts} attempts: ${outcome.error}`,
      );
      if (outcome.gone) {
        const gone = deliveryOf(record);
        this.hook('onGone', () => this.options.onGone?.(gone));
      }
    } else {
      result = 'retry';
      const wait = backoffDelay(this.backoff, attempts, this.random, outcome.retryAfterMs);
      next = {
        ...record,
        attempts,
        nextAttemptAt: now + wait,
        lastError: outcome.error,
        lastStatus: outcome.status ?? null,
      };
    }
    this.hook('observe', () => this.options.observe?.(result, channel));
    held.record = next;
    if (next.status !== 'pending') {
      this.held.delete(record.id);
      const at = queue.items.indexOf(held);
      if (at >= 0) queue.items.splice(at, 1);
    }
    this.outcomes.set(record.id, next);
    if (this.outcomes.size >= this.flushRows) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Forgets a subscription's queue once it holds nothing; sweeps soon when room came back for a backlog. */
  private release(queue: SubscriptionQueue): void {
    if (queue.items.length === 0 && queue.running === 0 && this.queues.get(queue.id) === queue) {
      clearTimeout(queue.timer);
      this.queues.delete(queue.id);
    }
    if (
      this.state === 'started' &&
      (this.backlog || this.spilled.size > 0) &&
      this.heldCount <= this.maxHeld / 2 &&
      !this.soonTimer
    ) {
      this.soonTimer = setTimeout(() => {
        this.soonTimer = undefined;
        void this.sweep();
      }, this.flushMs).unref();
    }
  }

  /** Writes the outcomes waiting, `flushRows` per insert; what is left below that waits for the timer. */
  private async writeOutcomes(): Promise<void> {
    while (this.outcomes.size > 0) {
      if (!(await this.writeBatch())) return;
      if (this.outcomes.size < this.flushRows && this.state === 'started') break;
    }
    if (this.outcomes.size > 0) this.flushTimer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Writes up to `flushRows` outcomes; false when the write failed (they are put back and retried soon). */
  private async writeBatch(): Promise<boolean> {
    const batch: DeliveryRecord[] = [];
    for (const record of this.outcomes.values()) {
      if (batch.length >= this.flushRows) break;
      batch.push(record);
    }
    this.writing = new Set(batch.map((r) => r.id));
    for (const record of batch) this.outcomes.delete(record.id);
    try {
      await this.store.record(batch);
    } catch (error) {
      // Put back what no later outcome replaced, and write it again soon: until then the
      // rows keep their previous state, which at worst sends a delivery once more.
      for (const record of batch) if (!this.outcomes.has(record.id)) this.outcomes.set(record.id, record);
      this.logger.warn(`storing ${batch.length} delivery outcomes failed, retrying: ${describeCause(error)}`);
      if (this.state === 'started') {
        this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_RETRY_MS).unref();
      }
      return false;
    } finally {
      this.writing = new Set();
    }
    const settled = this.now();
    for (const record of batch) if (record.status !== 'pending') this.settledAt.set(record.id, settled);
    const sent = new Map<TenantId, string[]>();
    for (const record of batch) {
      if (record.status !== 'sent') continue;
      const ids = sent.get(record.tenantId) ?? [];
      ids.push(record.id);
      sent.set(record.tenantId, ids);
    }
    for (const [tenant, ids] of sent) {
      const name = `alerts/${createHash('sha256').update(ids.sort().join('\n')).digest('hex').slice(0, 32)}`;
      this.hook('delivered', () => this.options.delivered?.(tenant, ids.length, name));
    }
    return true;
  }

  /** Runs a caller's hook: one that throws is logged, never lets a delivery fail. */
  private hook(name: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.warn(`the ${name} hook threw: ${describeCause(error)}`);
    }
  }
}

/**
 * What a delivery keeps its order within on its subscription's queue: its incident, and for
 * email its recipient too (one delivery each), so a recipient whose server defers the mail
 * holds up none of the others.
 */
function orderOf(record: DeliveryRecord): string {
  const { target } = record;
  const incident = record.notification.incidentId;
  return target.kind === 'email' ? `${incident}\n${target.to.join('\n')}` : incident;
}

function deliveryOf(record: DeliveryRecord): Delivery {
  return {
    id: record.id,
    idempotencyKey: record.idempotencyKey,
    tenantId: record.tenantId,
    subscriptionId: record.subscriptionId,
    target: record.target,
    notification: record.notification,
    attempt: record.attempts + 1,
  };
}

function positive(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) invalidOption(field, value, 'a positive integer');
  return value;
}

function invalidOption(field: string, value: unknown, expected: string): never {
  throw new AlertingException(
    AlertingExceptionCode.INVALID_DISPATCHER_OPTIONS,
    `${field} is ${String(value)}: expected ${expected}`,
    field,
  );
}
