import { Logger, type LoggerService } from '@nestjs/common';
import {
  type AlertRouter,
  type DeliveryDispatcher,
  type DeliveryRecord,
  type IncidentTracker,
  type NewDelivery,
  type Notification,
  type ObservedAnomaly,
  type RoutedNotification,
  type SeriesArrival,
  SEVERITIES,
  type Severity,
  type SilenceWatch,
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
   * a tenant are watched only while `watches` says so (it has a subscription).
   */
  readonly silence?: { readonly watch: SilenceWatch; readonly watches: (tenant: TenantId) => boolean };
  /**
   * LLM triage (anomaly.triager.ts); absent: none. An anomaly of a tenant it triages waits
   * for its decision (within the triager's wait) before it joins an incident; scoring and
   * storing never do.
   */
  readonly triage?: {
    settingsOf(tenant: TenantId): unknown;
    judge(event: AnomalyEvent, severity: Severity): Promise<TriageDecision>;
  };
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

/**
 * The alerting path of the process: the live anomalies (the feed, which announces only what
 * ClickHouse stored) fold into incidents, each change of an incident is routed to the
 * subscriptions that want it, and the deliveries go to the outbox, whose dispatcher sends
 * them. The engine publishes to the feed and returns: scoring never waits on any of this.
 *
 * Enqueues are chained, so deliveries reach the outbox in the order the incidents changed
 * (an incident's `resolved` after its `opened`), and what is routed while one is being
 * written goes in the next write together; a failed enqueue is logged and the chain goes
 * on, for one outbox write that failed must not stop every later alert.
 */
export class AlertingService {
  private readonly tickMs: number;
  private readonly clock: () => number;
  private readonly logger: Pick<LoggerService, 'log' | 'error'>;
  private readonly suppresses: AlertingServiceOptions['suppresses'];
  private readonly silence: AlertingServiceOptions['silence'];
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Deliveries routed and not yet handed to the outbox: the next write takes them all. */
  private waiting: NewDelivery[] = [];
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
  }

  /** Resumes the outbox's pending deliveries, then follows the feed. */
  async start(): Promise<void> {
    await this.dispatcher.start();
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
    await this.chain;
    await this.dispatcher.stop();
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

  /** The newest point of each series of one accepted request: a silent series among them resolves its no_data incident. */
  seen(tenant: TenantId, arrivals: readonly SeriesArrival[]): void {
    if (!this.silence) return;
    const now = this.clock();
    for (const series of this.silence.watch.seen(tenant, arrivals, now)) {
      this.route(this.tracker.resumed(series, now));
    }
  }

  /**
   * Incidents gone quiet resolve, open ones due are notified again, series gone silent
   * open no_data incidents, held updates go out.
   */
  tick(): void {
    const now = this.clock();
    if (this.silence) {
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

  private route(notifications: readonly Notification[]): void {
    if (notifications.length === 0) return;
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
    if (deliveries.length === 0) return;
    this.counts.deliveries += deliveries.length;
    // Group commit: what is routed while an outbox write is in flight goes in the next one,
    // so a burst of incidents costs a few writes, not one each, and order is kept.
    const joinsNext = this.waiting.length > 0;
    this.waiting.push(...deliveries);
    if (joinsNext) return;
    this.chain = this.chain.then(() => {
      const batch = this.waiting;
      this.waiting = [];
      return this.dispatcher.enqueue(batch).catch((error: unknown) => {
        this.logger.error(
          `${batch.length} deliveries could not be stored in the outbox: ${error instanceof Error ? error.message : String(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
      });
    });
  }
}

/** The engine grades severity; an event from an older engine with another word is taken as info. */
function severityOf(value: string): Severity {
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'info';
}
