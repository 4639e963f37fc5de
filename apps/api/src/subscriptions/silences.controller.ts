import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { type AuditContext, type Tenant } from '@seismo/tenancy';
import { Audit, CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { NEW_SILENCE, SILENCE, SILENCES } from '../openapi/api.schemas';
import { ApiBadRequest, ApiNotFound } from '../openapi/openapi.decorators';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { silenceBody, type SilenceBody } from './subscription.body';

/** Maintenance windows: what matches a silence does not notify while it lasts. Admins make and remove them. */
@ApiTags('subscriptions')
@Controller('v1/silences')
export class SilencesController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Post()
  @HttpCode(201)
  @TenantAccess('admin')
  @ApiOperation({
    summary: 'Silence the series that match, from starts_at (default now) to ends_at',
    description: 'matchers: series (a glob on the metric name) and/or labels (name to glob, ! negates).',
  })
  @ApiBody({ schema: NEW_SILENCE })
  @ApiCreatedResponse({ schema: SILENCE })
  @ApiBadRequest('matchers missing, or ends_at not after starts_at and now')
  async create(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Body() body: unknown,
  ): Promise<SilenceBody> {
    return silenceBody(await this.runtime.subscriptions.createSilence(tenant.id, body, by));
  }

  @Get()
  @TenantAccess('read')
  @ApiOperation({ summary: 'The silences in force or planned, soonest first' })
  @ApiOkResponse({ schema: SILENCES })
  list(@CurrentTenant() tenant: Tenant): { silences: SilenceBody[] } {
    return { silences: this.runtime.subscriptions.silencesOf(tenant.id).map(silenceBody) };
  }

  @Delete(':id')
  @HttpCode(204)
  @TenantAccess('admin')
  @ApiOperation({ summary: 'End a silence now' })
  @ApiParam({ name: 'id', description: 'sil_...' })
  @ApiNoContentResponse({ description: 'removed' })
  @ApiNotFound('no such silence')
  async remove(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Param('id') id: string,
  ): Promise<void> {
    await this.runtime.subscriptions.removeSilence(tenant.id, id, by);
  }
}
