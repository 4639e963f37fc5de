import { randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { type ClickHouseAccess, describeCause, type TenantId } from '@seismo/storage';
import { type AuditContext, type AuditLogRepository } from '@seismo/tenancy';
import { actorName } from '../actor-name';
import { AlertingException, AlertingExceptionCode } from '../alerting.exception';
import { publicTarget, type Silence, type Subscription } from './subscription';
import { SubscriptionRepository } from './subscription.repository';
import { validateSilence, validateSubscription } from './subscription.validator';

export interface SubscriptionDirectoryOptions {
  /** How often to re-read the tables (default 5000 ms): another process's change applies here within it. */
  readonly reloadMs?: number;
  readonly logger?: Pick<LoggerService, 'warn'>;
  /** SEISMO_ALLOW_PRIVATE_TARGETS: targets on private and loopback addresses are taken (default false). */
  readonly allowPrivateTargets?: boolean;
}

/** Who is asking: what they may see and change of the subscriptions. */
export interface SubscriptionViewer {
  /** May see and change every subscription of the tenant (the admin scope). */
  readonly admin: boolean;
  /** The member behind the key, whose own subscriptions they may list and mute. */
  readonly memberId?: string;
}

/**
 * Every subscription and silence, in memory, re-read every few seconds: the alert path
 * asks synchronously, without a query. Changes go through here with an AuditContext and
 * resolve once both the change and its audit entry are stored (as TenantDirectory does).
 */
export class SubscriptionDirectory {
  private subscriptions = new Map<string, Subscription>();
  private silences = new Map<string, Silence>();
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;

  private constructor(
    private readonly repository: SubscriptionRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly logger: Pick<LoggerService, 'warn'>,
    private readonly allowPrivate: boolean,
  ) {}

  static async open(
    access: ClickHouseAccess,
    auditLog: AuditLogRepository,
    options: SubscriptionDirectoryOptions = {},
  ): Promise<SubscriptionDirectory> {
    const directory = new SubscriptionDirectory(
      new SubscriptionRepository(access),
      auditLog,
      options.logger ?? new Logger(SubscriptionDirectory.name),
      options.allowPrivateTargets ?? false,
    );
    await directory.reload();
    directory.timer = setInterval(() => {
      if (directory.reloading) return;
      directory.reload().catch((error: unknown) => {
        directory.logger.warn(
          `reloading subscriptions failed, keeping the last ones: ${describeCause(error)}`,
        );
      });
    }, options.reloadMs ?? 5000).unref();
    return directory;
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the tables; resolves once a read begun after this call is applied. */
  reload(): Promise<void> {
    const next = (this.reloading ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        const { subscriptions, silences } = await this.repository.loadActive();
        this.subscriptions = new Map(subscriptions.map((s) => [s.id, s]));
        this.silences = new Map(silences.map((s) => [s.id, s]));
      })
      .finally(() => {
        if (this.reloading === next) this.reloading = undefined;
      });
    this.reloading = next;
    return next;
  }

  /** The tenant's subscriptions the viewer may see, oldest first. */
  list(tenant: TenantId, viewer: SubscriptionViewer = { admin: true }): Subscription[] {
    return [...this.subscriptions.values()]
      .filter((s) => s.tenantId === tenant && visible(s, viewer))
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** One subscription the viewer may see; UNKNOWN_SUBSCRIPTION otherwise, as if it did not exist. */
  get(tenant: TenantId, id: string, viewer: SubscriptionViewer = { admin: true }): Subscription {
    const found = this.subscriptions.get(id);
    if (!found || found.tenantId !== tenant || !visible(found, viewer)) {
      throw new AlertingException(
        AlertingExceptionCode.UNKNOWN_SUBSCRIPTION,
        `the tenant has no subscription ${id}`,
      );
    }
    return found;
  }

  /** The silences of the tenant that have not ended at `now` (current and planned). */
  silencesOf(tenant: TenantId, now = Date.now()): Silence[] {
    return [...this.silences.values()]
      .filter((s) => s.tenantId === tenant && s.endsAt > now)
      .sort((a, b) => a.startsAt - b.startsAt || a.id.localeCompare(b.id));
  }

  /**
   * Makes a subscription from the API's fields (validateSubscription). `memberExists`
   * checks an owner_member_id against the tenant's members. The answer holds the webhook's
   * signing secret: the only time it is shown.
   */
  async create(
    tenant: TenantId,
    input: unknown,
    by: AuditContext,
    memberExists: (memberId: string) => boolean,
  ): Promise<Subscription> {
    const valid = validateSubscription(input, undefined, { allowPrivate: this.allowPrivate });
    if (valid.ownerMemberId !== undefined && !memberExists(valid.ownerMemberId)) {
      throw new AlertingException(
        AlertingExceptionCode.INVALID_SUBSCRIPTION,
        `owner_member_id: the tenant has no member ${valid.ownerMemberId}`,
        'owner_member_id',
      );
    }
    const subscription: Subscription = {
      id: `sub_${randomBytes(12).toString('base64url')}`,
      tenantId: tenant,
      ...valid,
      createdAt: Date.now(),
    };
    await this.repository.writeSubscription(subscription);
    await this.audit(by, tenant, 'subscription.created', subscription.id, describe(subscription));
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  /**
   * Replaces a subscription's settings with `input` merged over its current ones (the
   * API's PATCH); a webhook keeps its signing secret unless its URL changes.
   */
  async update(
    tenant: TenantId,
    id: string,
    input: Record<string, unknown>,
    by: AuditContext,
  ): Promise<Subscription> {
    const current = this.get(tenant, id);
    const merged = { ...apiFields(current), ...input };
    const sameWebhook =
      current.target.kind === 'webhook' &&
      merged.channel === 'webhook' &&
      (merged.target as { url?: unknown } | undefined)?.url === current.target.url;
    const valid = validateSubscription(
      merged,
      sameWebhook && current.target.kind === 'webhook' ? current.target.secret : undefined,
      { allowPrivate: this.allowPrivate },
    );
    const subscription: Subscription = { ...current, ...valid };
    await this.repository.writeSubscription(subscription);
    await this.audit(by, tenant, 'subscription.updated', id, describe(subscription));
    this.subscriptions.set(id, subscription);
    return subscription;
  }

  async remove(tenant: TenantId, id: string, by: AuditContext): Promise<void> {
    const current = this.get(tenant, id);
    await this.repository.writeSubscription(current, true);
    await this.audit(by, tenant, 'subscription.removed', id, { name: current.name });
    this.subscriptions.delete(id);
  }

  /** Mutes until `until` (epoch ms), or unmutes with undefined. A member may mute their own. */
  async mute(
    tenant: TenantId,
    id: string,
    until: number | undefined,
    viewer: SubscriptionViewer,
    by: AuditContext,
  ): Promise<Subscription> {
    const current = this.get(tenant, id, viewer);
    const { mutedUntil: _previous, ...rest } = current;
    const subscription: Subscription = until === undefined ? rest : { ...rest, mutedUntil: until };
    await this.repository.writeSubscription(subscription);
    await this.audit(
      by,
      tenant,
      until === undefined ? 'subscription.unmuted' : 'subscription.muted',
      id,
      until === undefined ? {} : { until: new Date(until).toISOString() },
    );
    this.subscriptions.set(id, subscription);
    return subscription;
  }

  async createSilence(
    tenant: TenantId,
    input: unknown,
    by: AuditContext,
    now = Date.now(),
  ): Promise<Silence> {
    const valid = validateSilence(input, now);
    const silence: Silence = {
      id: `sil_${randomBytes(12).toString('base64url')}`,
      tenantId: tenant,
      ...valid,
      createdBy: actorName(by.actor),
      createdAt: now,
    };
    await this.repository.writeSilence(silence);
    await this.audit(by, tenant, 'silence.created', silence.id, {
      matchers: silence.matchers,
      starts_at: new Date(silence.startsAt).toISOString(),
      ends_at: new Date(silence.endsAt).toISOString(),
      comment: silence.comment,
    });
    this.silences.set(silence.id, silence);
    return silence;
  }

  async removeSilence(tenant: TenantId, id: string, by: AuditContext): Promise<void> {
    const current = this.silences.get(id);
    if (!current || current.tenantId !== tenant) {
      throw new AlertingException(AlertingExceptionCode.UNKNOWN_SILENCE, `the tenant has no silence ${id}`);
    }
    await this.repository.writeSilence(current, true);
    await this.audit(by, tenant, 'silence.removed', id, { comment: current.comment });
    this.silences.delete(id);
  }

  private async audit(
    by: AuditContext,
    tenantId: TenantId,
    action: Parameters<AuditLogRepository['append']>[1][number]['action'],
    target: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.auditLog.append(by, [{ tenantId, action, target, details }]);
    await this.reloading?.catch(() => undefined);
  }
}

function visible(subscription: Subscription, viewer: SubscriptionViewer): boolean {
  return viewer.admin || (viewer.memberId !== undefined && subscription.ownerMemberId === viewer.memberId);
}

/** A subscription's settings as the API takes them, for a PATCH merged over them. */
function apiFields(subscription: Subscription): Record<string, unknown> {
  const { filter, target } = subscription;
  return {
    name: subscription.name,
    channel: target.kind,
    target:
      target.kind === 'pagerduty'
        ? { routing_key: target.routingKey, ...(target.url ? { url: target.url } : {}) }
        : target.kind === 'email'
          ? { to: target.to }
          : { url: target.url },
    filter: {
      ...(filter.series !== undefined ? { series: filter.series } : {}),
      ...(filter.labels !== undefined ? { labels: filter.labels } : {}),
      ...(filter.minSeverity !== undefined ? { min_severity: filter.minSeverity } : {}),
      ...(filter.minScore !== undefined ? { min_score: filter.minScore } : {}),
      ...(filter.detectors !== undefined ? { detectors: filter.detectors } : {}),
    },
    rate_limit_per_hour: subscription.ratePerHour,
    ...(subscription.ownerMemberId !== undefined ? { owner_member_id: subscription.ownerMemberId } : {}),
  };
}

/** What the audit log keeps of a subscription: never a secret. */
function describe(subscription: Subscription): Record<string, unknown> {
  return {
    name: subscription.name,
    channel: subscription.target.kind,
    target: publicTarget(subscription.target),
    filter: subscription.filter,
    rate_per_hour: subscription.ratePerHour,
    ...(subscription.ownerMemberId ? { owner_member_id: subscription.ownerMemberId } : {}),
  };
}
