import { Logger } from '@nestjs/common';
import { type LlmConfig, type SeismoConfig } from '@seismo/config';
import {
  AlertRouter,
  ChartLinkSigner,
  chartLink,
  createChannels,
  DeliveryDispatcher,
  type DeliveryRepository,
  type FeedbackDirectory,
  FeedbackLinkSigner,
  feedbackLinks,
  FeedbackRepository,
  type IncidentRepository,
  IncidentTracker,
  type IncidentTrackerOptions,
  SilenceWatch,
  type SubscriptionDirectory,
} from '@seismo/alerting';
import { createLlmProvider, LlmTriage, ProfileRepository, TriageScheduler } from '@seismo/llm';
import {
  type AnomalyRepository,
  type ClickHouseAccess,
  emptyUsage,
  hourOf,
  parseDedupToken,
  parseTenantId,
  type PointRepository,
  type UsageRepository,
} from '@seismo/storage';
import { type TenantDirectory } from '@seismo/tenancy';
import { type AnomalyFeed } from '../stream/anomaly.feed';
import { AlertingService } from './alerting.service';
import { AnomalyTriager } from './anomaly.triager';
import { LlmTokenMeter } from './llm-token.meter';

/** A subscription whose receiver answered 410 Gone is muted this long (a year): it said to stop. */
const GONE_MUTE_MS = 365 * 24 * 3_600_000;

export interface AlertingParts {
  readonly feed: AnomalyFeed;
  readonly subscriptions: SubscriptionDirectory;
  readonly deliveries: DeliveryRepository;
  /** Where open incidents are kept across restarts; absent: in memory only (a restart starts them afresh). */
  readonly incidents?: IncidentRepository;
  /** The tenants: an erased one's incidents are forgotten, never told or stored again. */
  readonly tenants?: Pick<TenantDirectory, 'onGone'>;
  readonly usage: UsageRepository;
  readonly feedback: FeedbackDirectory;
  /**
   * Whether the arrivals reaching `service.seen` are current (Kafka mode: the points topic's
   * reader is caught up); absent: always (embedded, where ingest reports them as it accepts).
   */
  readonly arrivalsReady?: () => boolean;
  /** The deployment's admin token, which feedback links are signed with; absent: alerts carry no links. */
  readonly adminToken?: string;
  /** What LLM triage reads and writes; absent: no triage, whatever the configuration. */
  readonly triage?: {
    readonly connection: ClickHouseAccess;
    readonly tenants: TenantDirectory;
    readonly points: PointRepository;
    readonly anomalies: AnomalyRepository;
  };
}

/** LLM triage as it runs: for /metrics and the tests (the cost estimate's price is the runtime's `llmPrice`). */
export interface RunningTriage {
  readonly triage: LlmTriage;
  readonly scheduler: TriageScheduler<unknown>;
}

/** The running alerting path and what closes it. */
export interface RunningAlerting {
  readonly service: AlertingService;
  /** LLM triage, when configured. */
  readonly llm?: RunningTriage;
  close(): Promise<void>;
}

/**
 * Builds and starts the alerting path of an API process: channels, the outbox's dispatcher
 * (which resumes the deliveries a previous process left pending), the router over the
 * tenants' subscriptions and silences, the incident tracker on the live feed (its open
 * incidents, and whom the router told of each, restored from the incidents table), and
 * the watch for series gone silent, on the arrivals of tenants with a subscription.
 *
 * A delivery sent is metered (`alerts_delivered`) under a token naming the deliveries, so
 * a usage write retried counts them once. A receiver that answers 410 has its subscription
 * muted, audited as the system's doing.
 */
export async function startAlerting(config: SeismoConfig, parts: AlertingParts): Promise<RunningAlerting> {
  const logger = new Logger('Alerting');
  const channels = createChannels({
    allowPrivateTargets: config.allowPrivateTargets,
    ...(config.smtp ? { smtp: config.smtp } : {}),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
  });
  const dispatcher = new DeliveryDispatcher(parts.deliveries, {
    channelFor: (kind) => channels.channelFor(kind),
    delivered: (tenant, count, batch) => {
      const row = { ...emptyUsage(tenant, hourOf(Date.now())), alertsDelivered: count };
      parts.usage.insertBatch([row], parseDedupToken(batch)).catch((error: unknown) => {
        logger.error(`metering ${count} deliveries of ${tenant} failed: ${String(error)}`);
      });
    },
    onGone: (delivery) => {
      parts.subscriptions
        .mute(
          delivery.tenantId,
          delivery.subscriptionId,
          Date.now() + GONE_MUTE_MS,
          { admin: true },
          { actor: { kind: 'system' }, sourceIp: '' },
        )
        .catch((error: unknown) => {
          logger.error(
            `muting subscription ${delivery.subscriptionId} (its receiver is gone) failed: ${String(error)}`,
          );
        });
    },
  });
  const router = new AlertRouter({
    subscriptionsOf: (tenant) => parts.subscriptions.list(tenant),
    silencesOf: (tenant, now) => parts.subscriptions.silencesOf(tenant, now),
  });
  const llm =
    config.llm && parts.triage
      ? startTriage(config.llm, parts.triage, parts.usage, parts.feedback, logger)
      : undefined;
  const { tickMs, resolveAfterMs, renotifyAfterMs, noDataAfterMs } = config.incidents;
  const linksFor = alertLinks(config.publicUrl, parts.adminToken);
  const tracker = new IncidentTracker({
    policy: { resolveAfterMs, renotifyAfterMs },
    ...(linksFor ? { linksFor } : {}),
    recordChanges: parts.incidents !== undefined,
  });
  const service = new AlertingService(parts.feed, tracker, router, dispatcher, {
    suppresses: (candidate) => parts.feedback.suppresses(candidate),
    silence: {
      watch: new SilenceWatch({ minSilenceMs: noDataAfterMs }),
      watches: (tenant) => parts.subscriptions.list(tenant).length > 0,
      ...(parts.arrivalsReady ? { ready: parts.arrivalsReady } : {}),
    },
    tickMs,
    ...(llm ? { triage: llm.triager } : {}),
    ...(parts.incidents ? { incidents: parts.incidents } : {}),
  });
  const unsubscribeGone = parts.tenants?.onGone((tenant) => service.forgetTenant(tenant));
  try {
    await service.start();
  } catch (error) {
    unsubscribeGone?.();
    llm?.unsubscribeGone();
    await llm?.scheduler.stop();
    channels.close();
    throw error;
  }
  return {
    service,
    ...(llm ? { llm: { triage: llm.triage, scheduler: llm.scheduler } } : {}),
    close: async () => {
      unsubscribeGone?.();
      llm?.unsubscribeGone();
      // Candidates waiting for the LLM go on at once, marked skipped (stopped), before the outbox stops.
      await llm?.scheduler.stop();
      await service.stop();
      await llm?.triager.flush();
      await llm?.meter.flush();
      channels.close();
    },
  };
}

/**
 * The links of an alert, under the deployment's public URL: a chart of the series the
 * incident's latest anomaly is of, centred on it (GET /v1/charts/{token}), and one-click
 * feedback on that anomaly (GET /v1/feedback/{token} asks to confirm, the POST records).
 * Both are signed with a key derived from the admin token and good for 30 days: a person
 * following a link from Slack or an email sends no key. Undefined without a public URL or
 * the admin token to sign with: alerts carry no links then.
 */
export function alertLinks(
  publicUrl: string | undefined,
  adminToken: string | undefined,
): IncidentTrackerOptions['linksFor'] {
  if (publicUrl === undefined || adminToken === undefined) return undefined;
  const feedback = new FeedbackLinkSigner(adminToken);
  const charts = new ChartLinkSigner(adminToken);
  return (tenant, anomalyId, series, at) => ({
    series: chartLink({ tenantId: tenant, series, at }, publicUrl, charts),
    feedback: feedbackLinks(tenant, anomalyId, publicUrl, feedback),
  });
}

/**
 * LLM triage for the tenants that opted in: the configured provider behind one scheduler
 * (queue, concurrency, timeouts, retries, breaker, daily budgets: the deployment's and each
 * tenant's, its own or the default), tokens metered as `llm_tokens_in`/`llm_tokens_out`
 * (LlmTokenMeter: written every 5 s, under a token naming the calls, so a retried write
 * counts once).
 */
function startTriage(
  config: LlmConfig,
  parts: NonNullable<AlertingParts['triage']>,
  usage: UsageRepository,
  feedback: FeedbackDirectory,
  logger: Logger,
): RunningTriage & { triager: AnomalyTriager; meter: LlmTokenMeter; unsubscribeGone: () => void } {
  const meter = new LlmTokenMeter(usage);
  const scheduler = new TriageScheduler<unknown>({
    queueSize: config.queueSize,
    concurrency: config.concurrency,
    timeoutMs: config.timeoutMs,
    budgets: {
      globalDailyTokens: config.dailyTokens,
      tenantDailyTokens: (tenant) =>
        parts.tenants.get(parseTenantId(tenant))?.llm.dailyTokens ?? config.tenantDailyTokens,
    },
  });
  const triage = new LlmTriage(createLlmProvider(config), scheduler, {
    profiles: new ProfileRepository(parts.connection),
    logPrompts: config.logPrompts,
    meter: (tenant, spent, key) => meter.add(parseTenantId(tenant), spent, key),
  });
  const triager = new AnomalyTriager({
    llm: triage,
    tenant: (id) => parts.tenants.get(id),
    points: parts.points,
    anomalies: parts.anomalies,
    feedback: new FeedbackRepository(parts.connection),
    waitMs: config.waitMs,
    labelsOf: (tenant, series) => feedback.labelCountOf(tenant, series),
  });
  // An erased tenant's cached answers and profiles go with it (its stored rows go with its data).
  const unsubscribeGone = parts.tenants.onGone((tenant) => {
    scheduler.forgetTenant(tenant);
    triage.forgetTenant(tenant);
  });
  logger.log(`LLM triage: ${config.provider} ${config.model}, for the tenants that turned it on`);
  return { triage, scheduler, triager, meter, unsubscribeGone };
}
