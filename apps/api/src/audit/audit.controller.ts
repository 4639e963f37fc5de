import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AUDIT_ACTIONS, type AuditEntry, MAX_AUDIT_LIMIT, type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { AUDIT_LOG, instantQuery } from '../openapi/api.schemas';
import { ApiBadRequest } from '../openapi/openapi.decorators';
import { instant } from '../query/query-params';
import { SeismoRuntime } from '../runtime/seismo.runtime';

const query = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    action: z.enum(AUDIT_ACTIONS).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_AUDIT_LIMIT).default(100),
  })
  .strict();

export interface AuditEntryBody {
  id: string;
  at: string;
  actor: { type: string; member_id?: string; key_id?: string };
  action: string;
  target: string;
  source_ip: string;
  details: Readonly<Record<string, unknown>>;
}

/** Who changed the tenant's access and settings: tenant admins only. */
@ApiTags('audit')
@TenantAccess('admin')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  @ApiOperation({ summary: "The tenant's audit log, newest first" })
  @ApiQuery({ name: 'from', required: false, schema: instantQuery })
  @ApiQuery({ name: 'to', required: false, schema: instantQuery })
  @ApiQuery({ name: 'action', required: false, schema: { type: 'string', enum: [...AUDIT_ACTIONS] } })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_LIMIT, default: 100 },
  })
  @ApiOkResponse({ schema: AUDIT_LOG })
  @ApiBadRequest('a query parameter out of range or unknown')
  async list(@CurrentTenant() tenant: Tenant, @Query() raw: unknown): Promise<{ entries: AuditEntryBody[] }> {
    const q = query.parse(raw);
    const entries = await this.runtime.tenants.auditLog.find(tenant.id, {
      limit: q.limit,
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
    });
    return { entries: entries.map(entryBody) };
  }
}

function entryBody(entry: AuditEntry): AuditEntryBody {
  const actor = entry.actor;
  return {
    id: entry.id,
    at: new Date(entry.at).toISOString(),
    actor: {
      type: actor.kind,
      ...(actor.kind === 'member' ? { member_id: actor.memberId } : {}),
      ...(actor.kind === 'member' || actor.kind === 'service-key' ? { key_id: actor.keyId } : {}),
    },
    action: entry.action,
    target: entry.target,
    source_ip: entry.sourceIp,
    details: entry.details,
  };
}
