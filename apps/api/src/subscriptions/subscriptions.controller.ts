import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AlertingException, AlertingExceptionCode, instantField } from '@seismo/alerting';
import { type AuditContext, type KeyIdentity } from '@seismo/tenancy';
import { z } from 'zod';
import { Audit, CurrentIdentity, TenantAccess } from '../auth/tenant.guard';
import {
  CREATED_SUBSCRIPTION,
  MUTE,
  NEW_SUBSCRIPTION,
  SUBSCRIPTION,
  SUBSCRIPTIONS,
} from '../openapi/api.schemas';
import { ApiBadRequest, ApiNotFound } from '../openapi/openapi.decorators';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { subscriptionBody, type SubscriptionBody, viewerOf } from './subscription.body';

const mute = z.object({ until: instantField }).strict();

/**
 * Who is told of what, and where. Admins make, change and remove subscriptions; anyone
 * with the read scope lists the ones they may see (admins all, a member their own) and
 * mutes their own for a while.
 */
@ApiTags('subscriptions')
@Controller('v1/subscriptions')
export class SubscriptionsController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Post()
  @HttpCode(201)
  @TenantAccess('admin')
  @ApiOperation({
    summary: 'Subscribe a channel to the anomalies that match a filter',
    description:
      'channel: webhook, slack, email or pagerduty, with its target. A webhook subscription answers its signing ' +
      'secret (whsec_...) once, here. Outbound URLs must not be loopback or private addresses unless the ' +
      'deployment allows it (SEISMO_ALLOW_PRIVATE_TARGETS).',
  })
  @ApiBody({ schema: NEW_SUBSCRIPTION })
  @ApiCreatedResponse({ schema: CREATED_SUBSCRIPTION })
  @ApiBadRequest('a field missing, unknown or out of range, named in the answer')
  async create(
    @CurrentIdentity() identity: KeyIdentity,
    @Audit() by: AuditContext,
    @Body() body: unknown,
  ): Promise<SubscriptionBody & { secret?: string }> {
    const tenant = identity.tenant.id;
    const subscription = await this.runtime.subscriptions.create(tenant, body, by, (memberId) =>
      this.runtime.tenants.membersOf(tenant).some((member) => member.id === memberId),
    );
    const secret = subscription.target.kind === 'webhook' ? subscription.target.secret : undefined;
    return { ...subscriptionBody(subscription), ...(secret !== undefined ? { secret } : {}) };
  }

  @Get()
  @TenantAccess('read')
  @ApiOperation({ summary: "The subscriptions the caller may see: all for admins, a member's own otherwise" })
  @ApiOkResponse({ schema: SUBSCRIPTIONS })
  list(@CurrentIdentity() identity: KeyIdentity): { subscriptions: SubscriptionBody[] } {
    return {
      subscriptions: this.runtime.subscriptions
        .list(identity.tenant.id, viewerOf(identity))
        .map(subscriptionBody),
    };
  }

  @Get(':id')
  @TenantAccess('read')
  @ApiOperation({ summary: 'One subscription the caller may see' })
  @ApiParam({ name: 'id', description: 'sub_...' })
  @ApiOkResponse({ schema: SUBSCRIPTION })
  @ApiNotFound('no such subscription the caller may see')
  get(@CurrentIdentity() identity: KeyIdentity, @Param('id') id: string): SubscriptionBody {
    return subscriptionBody(this.runtime.subscriptions.get(identity.tenant.id, id, viewerOf(identity)));
  }

  @Patch(':id')
  @TenantAccess('admin')
  @ApiOperation({
    summary: 'Change a subscription: the fields given replace the current ones',
    description:
      'A webhook keeps its signing secret unless its URL changes (the answer then holds the new one).',
  })
  @ApiParam({ name: 'id', description: 'sub_...' })
  @ApiBody({ schema: NEW_SUBSCRIPTION })
  @ApiOkResponse({ schema: CREATED_SUBSCRIPTION })
  @ApiBadRequest('a field unknown or out of range, named in the answer')
  @ApiNotFound('no such subscription')
  async update(
    @CurrentIdentity() identity: KeyIdentity,
    @Audit() by: AuditContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<SubscriptionBody & { secret?: string }> {
    if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length === 0) {
      throw new AlertingException(
        AlertingExceptionCode.INVALID_SUBSCRIPTION,
        'body: nothing to change',
        'body',
      );
    }
    const before = this.runtime.subscriptions.get(identity.tenant.id, id);
    const after = await this.runtime.subscriptions.update(
      identity.tenant.id,
      id,
      body as Record<string, unknown>,
      by,
    );
    const newSecret =
      after.target.kind === 'webhook' &&
      (before.target.kind !== 'webhook' || before.target.secret !== after.target.secret)
        ? after.target.secret
        : undefined;
    return { ...subscriptionBody(after), ...(newSecret !== undefined ? { secret: newSecret } : {}) };
  }

  @Delete(':id')
  @HttpCode(204)
  @TenantAccess('admin')
  @ApiOperation({ summary: 'Remove a subscription' })
  @ApiParam({ name: 'id', description: 'sub_...' })
  @ApiNoContentResponse({ description: 'removed' })
  @ApiNotFound('no such subscription')
  async remove(@CurrentIdentity() identity: KeyIdentity, @Audit() by: AuditContext, @Param('id') id: string) {
    await this.runtime.subscriptions.remove(identity.tenant.id, id, by);
  }

  @Post(':id/mute')
  @HttpCode(200)
  @TenantAccess('read')
  @ApiOperation({ summary: 'Mute a subscription until an instant (admins: any; a member: their own)' })
  @ApiParam({ name: 'id', description: 'sub_...' })
  @ApiBody({ schema: MUTE })
  @ApiOkResponse({ schema: SUBSCRIPTION })
  @ApiBadRequest('until missing or not an instant')
  @ApiNotFound('no such subscription the caller may see')
  async mute(
    @CurrentIdentity() identity: KeyIdentity,
    @Audit() by: AuditContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<SubscriptionBody> {
    const parsed = mute.safeParse(body ?? {});
    if (!parsed.success) {
      throw new AlertingException(
        AlertingExceptionCode.INVALID_SUBSCRIPTION,
        `until: ${parsed.error.issues[0].message}`,
        'until',
      );
    }
    const viewer = viewerOf(identity);
    return subscriptionBody(
      await this.runtime.subscriptions.mute(identity.tenant.id, id, parsed.data.until, viewer, by),
    );
  }

  @Delete(':id/mute')
  @TenantAccess('read')
  @ApiOperation({ summary: 'Unmute a subscription (admins: any; a member: their own)' })
  @ApiParam({ name: 'id', description: 'sub_...' })
  @ApiOkResponse({ schema: SUBSCRIPTION })
  @ApiNotFound('no such subscription the caller may see')
  async unmute(
    @CurrentIdentity() identity: KeyIdentity,
    @Audit() by: AuditContext,
    @Param('id') id: string,
  ): Promise<SubscriptionBody> {
    const viewer = viewerOf(identity);
    return subscriptionBody(
      await this.runtime.subscriptions.mute(identity.tenant.id, id, undefined, viewer, by),
    );
  }
}
