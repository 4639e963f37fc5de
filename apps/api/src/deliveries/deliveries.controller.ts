import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import {
  AlertingException,
  AlertingExceptionCode,
  DELIVERY_STATUSES,
  type ListedDelivery,
  MAX_DELIVERY_LIMIT,
  publicTarget,
  revived,
} from '@seismo/alerting';
import { type AuditContext, type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { Audit, CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { ApiBadRequest, ApiNotFound } from '../openapi/openapi.decorators';
import { DELIVERIES, DELIVERY, ERROR, instantQuery } from '../openapi/api.schemas';
import { instant } from '../query/query-params';
import { SeismoRuntime } from '../runtime/seismo.runtime';

const query = z
  .object({
    status: z.enum(DELIVERY_STATUSES as [string, ...string[]]).optional(),
    subscription_id: z.string().min(1).max(256).optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_DELIVERY_LIMIT).default(100),
  })
  .strict();

export interface DeliveryBody {
  id: string;
  idempotency_key: string;
  subscription_id: string;
  channel: string;
  target: Record<string, unknown>;
  incident_id: string;
  notification_id: string;
  state: string;
  title: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string;
  created_at: string;
  next_attempt_at: string | null;
  sent_at: string | null;
}

/** The alert outbox: what was sent, what is still tried, what was given up (dead). */
@ApiTags('subscriptions')
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  @TenantAccess('read')
  @ApiOperation({
    summary: "The tenant's alert deliveries, newest first",
    description:
      'status: pending (being tried, next_attempt_at says when), sent, or dead (given up after its last attempt: last_status and last_error say why).',
  })
  @ApiQuery({ name: 'status', required: false, schema: { type: 'string', enum: [...DELIVERY_STATUSES] } })
  @ApiQuery({ name: 'subscription_id', required: false, schema: { type: 'string' } })
  @ApiQuery({ name: 'from', required: false, schema: instantQuery })
  @ApiQuery({ name: 'to', required: false, schema: instantQuery })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_DELIVERY_LIMIT, default: 100 },
  })
  @ApiOkResponse({ schema: DELIVERIES })
  @ApiBadRequest('a query parameter out of range or unknown')
  async list(
    @CurrentTenant() tenant: Tenant,
    @Query() raw: unknown,
  ): Promise<{ deliveries: DeliveryBody[] }> {
    const q = query.parse(raw);
    const found = await this.runtime.deliveries.list(tenant.id, {
      limit: q.limit,
      ...(q.status !== undefined ? { status: q.status as ListedDelivery['status'] } : {}),
      ...(q.subscription_id !== undefined ? { subscriptionId: q.subscription_id } : {}),
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
    });
    return { deliveries: found.map(toBody) };
  }

  @Post(':id/retry')
  @HttpCode(200)
  @TenantAccess('admin')
  @ApiOperation({
    summary: 'Send a dead delivery again',
    description:
      'The delivery is pending again with its attempts counted from 0, due now: the outbox sends it within seconds, ' +
      'with the same idempotency key (a receiver that did take it drops the repeat). Audited.',
  })
  @ApiParam({ name: 'id', description: 'the delivery id, as GET /v1/deliveries lists it' })
  @ApiOkResponse({ schema: DELIVERY })
  @ApiNotFound('no such delivery')
  @ApiConflictResponse({ description: 'the delivery is not dead (pending or sent)', schema: ERROR })
  async retry(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Param('id') id: string,
  ): Promise<DeliveryBody> {
    const found = await this.runtime.deliveries.get(tenant.id, id);
    if (!found) {
      throw new AlertingException(AlertingExceptionCode.UNKNOWN_DELIVERY, `no delivery ${id} in this tenant`);
    }
    if (found.status !== 'dead') {
      throw new AlertingException(
        AlertingExceptionCode.DELIVERY_NOT_DEAD,
        `delivery ${id} is ${found.status}: only a dead delivery can be retried`,
      );
    }
    const again = revived(found, Date.now());
    // Where this process alerts, its dispatcher stores it and takes it at once; elsewhere (a
    // standby in Kafka mode) it is stored, and the alerting process's dispatcher finds it
    // within its idle sweep (30 s).
    const alerting = this.runtime.alertingService;
    if (alerting) await alerting.resend([again]);
    else await this.runtime.deliveries.record([again]);
    await this.runtime.tenants.auditLog.append(by, [
      {
        tenantId: tenant.id,
        action: 'delivery.retried',
        target: id,
        details: {
          subscription_id: found.subscriptionId,
          attempts: found.attempts,
          last_error: found.lastError,
        },
      },
    ]);
    const { target, ...rest } = again;
    return toBody({ ...rest, channel: target.kind, target: publicTarget(target) });
  }
}

function toBody(d: ListedDelivery): DeliveryBody {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: d.id,
    idempotency_key: d.idempotencyKey,
    subscription_id: d.subscriptionId,
    channel: d.channel,
    target: d.target,
    incident_id: d.notification.incidentId,
    notification_id: d.notification.id,
    state: d.notification.state,
    title: d.notification.title,
    status: d.status,
    attempts: d.attempts,
    last_status: d.lastStatus,
    last_error: d.lastError,
    created_at: new Date(d.createdAt).toISOString(),
    next_attempt_at: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    sent_at: iso(d.sentAt),
  };
}
