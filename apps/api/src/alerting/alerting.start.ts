import { Logger } from '@nestjs/common';
import { type SeismoConfig } from '@seismo/config';
import {
  AlertRouter,
  createChannels,
  DeliveryDispatcher,
  type DeliveryRepository,
  type FeedbackDirectory,
  IncidentTracker,
  SilenceWatch,
  type SubscriptionDirectory,
} from '@seismo/alerting';
import { emptyUsage, hourOf, parseDedupToken, type UsageRepository } from '@seismo/storage';
import { type AnomalyFeed } from '../stream/anomaly.feed';
import { AlertingService } from './alerting.service';

/** A subscription whose receiver answered 410 Gone is muted this long (a year): it said to stop. */
const GONE_MUTE_MS = 365 * 24 * 3_600_000;

export interface AlertingParts {
  readonly feed: AnomalyFeed;
  readonly subscriptions: SubscriptionDirectory;
  readonly deliveries: DeliveryRepository;
  readonly usage: UsageRepository;
  readonly feedback: FeedbackDirectory;
}

/** The running alerting path and what closes it. */
export interface RunningAlerting {
  readonly service: AlertingService;
  close(): Promise<void>;
}

/**
 * Builds and starts the alerting path of an API process: channels, the outbox's dispatcher
 * (which resumes the deliveries a previous process left pending), the router over the
 * tenants' subscriptions and silences, the incident tracker on the live feed, and the watch
 * for series gone silent, on the arrivals of tenants with a subscription.
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
  const { tickMs, resolveAfterMs, renotifyAfterMs, noDataAfterMs } = config.incidents;
  const tracker = new IncidentTracker({ policy: { resolveAfterMs, renotifyAfterMs } });
  const service = new AlertingService(parts.feed, tracker, router, dispatcher, {
    suppresses: (candidate) => parts.feedback.suppresses(candidate),
    silence: {
      watch: new SilenceWatch({ minSilenceMs: noDataAfterMs }),
      watches: (tenant) => parts.subscriptions.list(tenant).length > 0,
    },
    tickMs,
  });
  try {
    await service.start();
  } catch (error) {
    channels.close();
    throw error;
  }
  return {
    service,
    close: async () => {
      await service.stop();
      channels.close();
    },
  };
}
