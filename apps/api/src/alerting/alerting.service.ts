import { Logger, type LoggerService } from '@nestjs/common';
import {
  type AlertRouter,
  type DeliveryDispatcher,
  type DeliveryRecord,
  type IncidentSnapshot,
  type IncidentStore,
  type IncidentTracker,
  type NewDelivery,
  type Notification,
  type ObservedAnomaly,
  type RoutedNotification,
  type SeriesArrival,
  SEVERITIES,
  type Severity,
  type SilenceWatch,
  type SilentSeries,
  type StoredIncident,
  type Suppression,
  type SuppressionCandidate,
} from '@seismo/alerting';
import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { parseTenantId, type TenantId } from '@seismo/storage';
import { type AnomalyFeed } from '../stream/anomaly.feed';
import { type TriageDecision } from './anomaly.triager';

export interface AlertingServiceOptions {
  /** What feedback taught (FeedbackDirectory.suppresses): a suppressed anomaly opens and updates nothing. */
  readonly suppresses?: (candidate: SuppressionCandidate) => Suppression | undefined;
  /**
   * Watches arrivals for series gone silent (no_data incidents); absent: none. Arrivals of
   * a tenant are watched only while `watches` says so (it has a subscription). While
   * `ready` says no (the source of arrivals is behind or stalled), no series is declared
   * silent: the silence would be the reader's, not the series'.
   */
  readonly silence?: {
    readonly watch: SilenceWatch;
    readonly watches: (tenant: TenantId) => boolean;
    readonly ready?: () => boolean;
  };
  /**
   * LLM triage (anomaly.triager.ts); absent: none. An anomaly of a tenant it triages waits
   * for its decision (within the triager's wait) before it joins an incident; scoring and
   * storing never do.
   */
  readonly triage?: {
    settingsOf(tenant: TenantId): unknown;
    judge(event: AnomalyEvent, severity: Severity): Promise<TriageDecision>;
  };
  /**
   * Where open incidents are kept across restarts (IncidentRepository); absent: in this
   * process's memory only. The tracker must record its changes (`recordChanges`).
   */
  readonly incidents?: IncidentStore;
  /** How often open incidents are looked at: resolved when quiet, notified again when due (default 5 s). */
  readonly tickMs?: number;
  readonly clock?: () => number;
  readonly logger?: Pick<LoggerService, 'log' | 'error'>;
}

/** What became of the notifications so far: for the metrics and the tests. */
export interface AlertingCounts {
  /** Anomalies kept quiet by a false_positive or expected label of their series. */
  suppressed: number;
  notifications: number;
  deliveries: number;
  muted: number;
  silenced: number;
  rateLimited: number;
  /** Anomalies that went through LLM triage (verdict or skip). */
  triaged: number;
  /** Anomalies kept quiet by an `expected` verdict (the tenant's `suppress` policy). */
  expectedQuiet: number;
  /** Anomalies kept quiet because their series' profile says the move does not matter. */
  directionQuiet: number;
}

const DEFAULT_TICK_MS = 5000;
/** Most incident snapshots kept for the next write while writes fail; the oldest go first. */
const MAX_UNWRITTEN_INCIDENTS = 100_000;
/** Most deliveries kept for the next write while outbox writes fail; the oldest go first. */
const MAX_UNWRITTEN_DELIVERIES = 100_000;
/** Pause before a failed outbox write is tried again. */
const RETRY_WRITE_MS = 1000;

/**
 * The alerting path of the process: the live anomalies (the feed, which announces only what
 * ClickHouse stored) fold into incidents, each change of an incident is routed to the
 * subscriptions that want it, and the deliveries go to the outbox, whose dispatcher sends
 * them. The engine publishes to the feed and returns: scoring never waits on any of this.
 *
 * Enqueues are chained, so deliveries reach the outbox in the order the incidents changed
 * (an incident's `resolved` after its `opened`), and what is routed while one is being
 * written goes in the next write together; a failed enqueue is logged, its deliveries are
 * kept for the next write (tried again a second later, in their order), and the chain goes
 * on, for one outbox write that failed must not stop every later alert. Kept in memory
 * only: a crash before the outbox took them loses them.
 *
 * With an incident store, each write of the chain then stores the incidents that changed
 * (the tracker's snapshots, with the subscriptions the router told of each), taken at the
 * same instant as the deliveries: outbox first, incidents after, so a stored incident is
 * never ahead of the outbox. A crash between the two leaves an incident's previous state;
 * the change made again after the restart has the same notification id, so the outbox
 * (and the receiver, by idempotency key) keeps it once. Incidents whose write failed, or
 * whose deliveries' did, go with the next write. `start` restores the open incidents
 * before it follows the feed, and tells at once what time changed meanwhile (a resolution
 * or re-notification that came due).
 */
export class AlertingService {
  private readonly tickMs: number;
  private readonly clock: () => number;
  private readonly logger: Pick<LoggerService, 'log' | 'error'>;
  private readonly suppresses: AlertingServiceOptions['suppresses'];
  private readonly silence: AlertingServiceOptions['silence'];
  private readonly incidents: IncidentStore | undefined;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Deliveries routed and not yet handed to the outbox: the next write takes them all. */
  private waiting: NewDelivery[] = [];
  /** A write is chained and has not begun: what changes meanwhile goes in it. */
  private writeScheduled = false;
  /** Incident id -> its snapshot not stored yet (its write failed): the next write takes them. */
  private unwritten = new Map<string, StoredIncident>();
  readonly counts: AlertingCounts = {
    suppressed: 0,
    notifications: 0,
    deliveries: 0,
    muted: 0,
    silenced: 0,
    rateLimited: 0,
    triaged: 0,
    expectedQuiet: 0,
    directionQuiet: 0,
  };
  private readonly triage: AlertingServiceOptions['triage'];
  /** Anomalies waiting for their triage: stop() lets them reach their incidents first. */
  private readonly inTriage = new Set<Promise<void>>();

  constructor(
    private readonly feed: AnomalyFeed,
    private readonly tracker: IncidentTracker,
    private readonly router: AlertRouter,
    private readonly dispatcher: DeliveryDispatcher,
    options: AlertingServiceOptions = {},
  ) {
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    if (!(Number.isInteger(this.tickMs) && this.tickMs > 0)) {
      throw new RangeError(`tickMs must be a positive integer, got ${this.tickMs}`);
    }
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? new Logger(AlertingService.name);
    this.suppresses = options.suppresses;
    this.silence = options.silence;
    this.triage = options.triage;
    this.incidents = options.incidents;
    if (this.incidents && !tracker.recordsChanges) {
      throw new RangeError('an incident store needs a tracker that records its changes (recordChanges)');
    }
  }

  /**
   * Restores the open incidents a previous process stored, resumes the outbox's pending
   * deliveries, tells what came due while no process ran, then follows the feed.
   */
  async start(): Promise<void> {
    const restored = await this.restoreIncidents();
    await this.dispatcher.start();
    if (restored > 0) this.tick();
    this.unsubscribe = this.feed.subscribeAll((event) => this.observe(event));
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** Stops following the feed; what was routed reaches the outbox, then the dispatcher stops. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inTriage]);
    // Incidents whose write failed get one more try.
    this.scheduleWrite();
    await this.chain;
    await this.dispatcher.stop();
  }

  /** Forgets a tenant's incidents without telling anyone or storing them (its data was erased). */
  forgetTenant(tenant: TenantId): void {
    this.tracker.forgetTenant(tenant);
    this.silence?.watch.forgetTenant(tenant);
    for (const [id, stored] of this.unwritten)
      if (stored.incident.tenantId === tenant) this.unwritten.delete(id);
  }

  /** One anomaly the engine stored: into its incident, unless feedback on its series says it is noise. */
  observe(event: AnomalyEvent): void {
    const tenantId = parseTenantId(event.tenant_id);
    const ts = Date.parse(event.ts);
    const suppression = this.suppresses?.({
      tenantId,
      series: event.series,
      ts,
      value: event.value,
      score: event.score,
      detectors: event.detectors,
      context: { ts: event.context.ts.map((t) => Date.parse(t)), values: event.context.values },
    });
    if (suppression) {
      this.counts.suppressed++;
      return;
    }
    const anomaly: ObservedAnomaly = {
      tenantId,
      id: event.id,
      series: event.series,
      ts,
      value: event.value,
      score: event.score,
      severity: severityOf(event.severity),
      detectors: event.detectors,
    };
    if (this.triage?.settingsOf(tenantId)) {
      this.judge(event, anomaly);
      return;
    }
    this.route(this.tracker.observe(anomaly, this.clock()));
  }

  /** Resolves once every anomaly waiting for its triage went on (and what it routed is in the outbox). */
  async triaged(): Promise<void> {
    while (this.inTriage.size > 0) await Promise.all([...this.inTriage]);
    await this.chain;
  }

  private judge(event: AnomalyEvent, anomaly: ObservedAnomaly): void {
    const waiting = this.triage!.judge(event, anomaly.severity)
      .catch((error: unknown): TriageDecision => {
        this.logger.error(
          `triage of ${event.id} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        return {
          triage: { status: 'skipped', reason: 'failed' },
          severity: anomaly.severity,
          quiet: undefined,
        };
      })
      .then((decision) => {
        this.counts.triaged++;
        if (decision.quiet === 'expected') this.counts.expectedQuiet++;
        else if (decision.quiet === 'direction') this.counts.directionQuiet++;
        else {
          const triaged = { ...anomaly, severity: decision.severity, triage: decision.triage };
          this.route(this.tracker.observe(triaged, this.clock()));
        }
      })
      .finally(() => this.inTriage.delete(waiting));
    this.inTriage.add(waiting);
  }

  /** Whether the arrivals of `tenant` are worth reporting to `seen` (the ingest path asks first). */
  watches(tenant: TenantId): boolean {
    return this.silence?.watches(tenant) ?? false;
  }

  /**
   * The newest point of each series of one accepted request (or one message of the points
   * topic), arrived at `at` (default now): a silent series among them resolves its no_data incident.
   */
  seen(tenant: TenantId, arrivals: readonly SeriesArrival[], at = this.clock()): void {
    if (!this.silence) return;
    for (const series of this.silence.watch.seen(tenant, arrivals, at)) {
      this.route(this.tracker.resumed(series, this.clock()));
    }
  }

  /**
   * Incidents gone quiet resolve, open ones due are notified again, series gone silent
   * open no_data incidents, held updates go out.
   */
  tick(): void {
    const now = this.clock();
    if (this.silence && (this.silence.ready?.() ?? true)) {
      const { silent, forgotten } = this.silence.watch.tick(now);
      for (const series of silent) this.route(this.tracker.silent(series, now));
      for (const series of forgotten) this.route(this.tracker.resumed(series, now, true));
    }
    this.route(this.tracker.tick(now));
    this.enqueue(this.router.tick(now));
  }

  /** Dead deliveries revived by a person (POST /v1/deliveries/{id}/retry): stored, then sent. */
  resend(records: readonly DeliveryRecord[]): Promise<void> {
    return this.dispatcher.resend(records);
  }

  /** Resolves once every notification routed so far is in the outbox. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** The open incidents stored, back into the tracker, the router and the watch of silent series. */
  private async restoreIncidents(): Promise<number> {
    if (!this.incidents) return 0;
    const stored = await this.incidents.loadOpen();
    const byId = new Map(stored.map((s) => [s.incident.id, s]));
    const restored = this.tracker.restore(stored.map((s) => s.incident));
    for (const incident of restored) {
      const kept = byId.get(incident.id);
      this.router.restoreTold(incident.id, kept?.told ?? {});
      // After restoreTold: the held update waits out the interval since each subscription was told.
      if (kept?.held) this.router.restoreHeld(incident.id, kept.held);
      if (incident.kind === 'no_data') this.silence?.watch.restoreSilent(silentOf(incident));
    }
    if (restored.length > 0) this.logger.log(`${restored.length} open incidents restored`);
    return restored.length;
  }

  /** Routes what the tracker said; the incidents it changed are stored with the next write even when it said nothing. */
  private route(notifications: readonly Notification[]): void {
    const now = this.clock();
    this.counts.notifications += notifications.length;
    this.enqueue(notifications.map((notification) => this.router.route(notification, now)));
  }

  private enqueue(routedNotifications: readonly RoutedNotification[]): void {
    const deliveries: NewDelivery[] = [];
    for (const routed of routedNotifications) {
      this.counts.muted += routed.muted;
      this.counts.silenced += routed.silenced;
      this.counts.rateLimited += routed.rateLimited;
      deliveries.push(...routed.deliveries);
    }
    this.counts.deliveries += deliveries.length;
    this.waiting.push(...deliveries);
    this.scheduleWrite();
  }

  /**
   * Group commit: what is routed (and what incidents change) while a write is in flight goes
   * in the next one, so a burst of incidents costs a few writes, not one each, and order is kept.
   */
  private scheduleWrite(): void {
    if (this.writeScheduled) return;
    const incidentsToWrite =
      this.incidents !== undefined && (this.tracker.hasChanges || this.unwritten.size > 0);
    if (this.waiting.length === 0 && !incidentsToWrite) return;
    this.writeScheduled = true;
    this.chain = this.chain.then(() => this.write());
  }

  /**
   * One write of the chain: the deliveries routed so far into the outbox, then the incidents
   * changed so far. Both are taken at this one instant, so every change an incident row
   * holds has its deliveries in this write or an earlier one.
   */
  private async write(): Promise<void> {
    this.writeScheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    const incidents = this.takeIncidents();
    if (batch.length > 0) {
      try {
        await this.dispatcher.enqueue(batch);
      } catch (error) {
        this.logError(
          `${batch.length} deliveries could not be stored in the outbox (kept, tried again in ${RETRY_WRITE_MS} ms)`,
          error,
        );
        this.keepUnwritten(incidents);
        this.keepWaiting(batch);
        return;
      }
    }
    if (incidents.length === 0) return;
    try {
      await this.incidents!.write(incidents);
    } catch (error) {
      this.logError(`${incidents.length} incidents could not be stored (kept for the next write)`, error);
      this.keepUnwritten(incidents);
    }
  }

  /** The incidents to store now: those a failed write left, then the tracker's changes (newer, so they win). */
  private takeIncidents(): StoredIncident[] {
    if (!this.incidents) return [];
    const taken = this.unwritten;
    this.unwritten = new Map();
    for (const incident of this.tracker.changes()) {
      // The update held back goes with it; once sent it stays in the row until the incident's
      // next change, and sent again after a restart it has the same delivery ids: the outbox
      // keeps it once.
      const held = this.router.heldOf(incident.id);
      taken.set(incident.id, { incident, told: this.router.toldOf(incident.id), ...(held ? { held } : {}) });
    }
    return [...taken.values()];
  }

  /**
   * Deliveries whose outbox write failed, back in front of what came since (order kept),
   * tried again after a pause; beyond MAX_UNWRITTEN_DELIVERIES the oldest go, logged.
   */
  private keepWaiting(batch: readonly NewDelivery[]): void {
    this.waiting = [...batch, ...this.waiting];
    const excess = this.waiting.length - MAX_UNWRITTEN_DELIVERIES;
    if (excess > 0) {
      this.waiting.splice(0, excess);
      this.logger.error(`${excess} deliveries dropped: their outbox writes kept failing`);
    }
    setTimeout(() => this.scheduleWrite(), RETRY_WRITE_MS).unref();
  }

  private keepUnwritten(incidents: readonly StoredIncident[]): void {
    // Writes run one at a time, and this one took what was kept: nothing newer is in here yet.
    for (const stored of incidents) this.unwritten.set(stored.incident.id, stored);
    let dropped = 0;
    for (const id of this.unwritten.keys()) {
      if (this.unwritten.size <= MAX_UNWRITTEN_INCIDENTS) break;
      this.unwritten.delete(id);
      dropped++;
    }
    if (dropped > 0) this.logger.error(`${dropped} incident changes dropped: their writes kept failing`);
  }

  private logError(what: string, error: unknown): void {
    this.logger.error(
      `${what}: ${error instanceof Error ? error.message : String(error)}`,
      error instanceof Error ? error.stack : undefined,
    );
  }
}

/** A restored no_data incident as the watch of silent series knows it. */
function silentOf(incident: IncidentSnapshot): SilentSeries {
  return {
    tenantId: incident.tenantId,
    series: incident.latest.series,
    lastTs: incident.latest.ts,
    lastValue: incident.latest.value,
    lastArrivalAt: incident.openedAt,
    usualGapMs: incident.usualGapMs ?? 0,
  };
}

/** The engine grades severity; an event from an older engine with another word is taken as info. */
function severityOf(value: string): Severity {
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'info';
}
