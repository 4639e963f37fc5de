import { Body, Controller, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { parseCustomerId } from '@seismo/billing';
import { parseTenantId, type TenantId } from '@seismo/storage';
import {
  type AuditContext,
  describeValue,
  type KeyIdentity,
  TenancyException,
  TenancyExceptionCode,
  type Tenant,
  type TenantChanges,
} from '@seismo/tenancy';
import { z } from 'zod';
import { AdminGuard } from '../auth/admin.guard';
import { Audit, CurrentIdentity, TenantOrDeploymentAdminAccess } from '../auth/tenant.guard';
import { ApiAdminAuth, ApiBadRequest, ApiNotFound } from '../openapi/openapi.decorators';
import { CREATE_TENANT, CREATED_TENANT, TENANT, UPDATE_TENANT } from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';

const retention = z
  .object({
    points_days: z.number().int().optional(),
    anomalies_days: z.number().int().optional(),
  })
  .strict();

const createTenant = z
  .object({
    name: z.string(),
    retention: retention.optional(),
    zero_retention: z.boolean().optional(),
    admin_email: z.string().optional(),
  })
  .strict();

const updateTenant = z
  .object({
    name: z.string().optional(),
    retention: retention.optional(),
    zero_retention: z.boolean().optional(),
    billing: z.object({ stripe_customer_id: z.string().nullable() }).strict().optional(),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'nothing to change: give name, retention, zero_retention or billing',
  });

export interface CreatedTenantBody {
  id: string;
  name: string;
  /** Shown once: only its hash is kept. */
  api_key: string;
  key_id: string;
  admin_member_id?: string;
}

export interface TenantBody {
  id: string;
  name: string;
  retention: { points_days: number; anomalies_days: number };
  zero_retention: boolean;
  billing: { stripe_customer_id: string | null };
}

@ApiTags('tenants')
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Post()
  @HttpCode(201)
  @UseGuards(AdminGuard)
  @ApiAdminAuth()
  @ApiOperation({
    summary: 'Create a tenant and its API key (shown once)',
    description:
      'With admin_email, the tenant gets its first admin member and the key is theirs; without, the key is a ' +
      'service key. The key has every scope either way.',
  })
  @ApiBody({ schema: CREATE_TENANT })
  @ApiCreatedResponse({ schema: CREATED_TENANT })
  @ApiBadRequest('an unknown or malformed field')
  async create(@Audit() by: AuditContext, @Body() body: unknown): Promise<CreatedTenantBody> {
    const input = createTenant.parse(body ?? {});
    const { tenant, apiKey, key, admin } = await this.runtime.tenants.create(
      {
        name: input.name,
        ...tenantFields(input),
        ...(input.admin_email !== undefined ? { adminEmail: input.admin_email } : {}),
      },
      by,
    );
    return {
      id: tenant.id,
      name: tenant.name,
      api_key: apiKey,
      key_id: key.id,
      ...(admin ? { admin_member_id: admin.id } : {}),
    };
  }

  /**
   * A tenant's own admins may change their tenant; its id in the path must be theirs.
   * Another tenant's id answers 404 like an id that does not exist, so a key cannot even
   * learn which tenants exist.
   */
  @Patch(':id')
  @TenantOrDeploymentAdminAccess('admin')
  @ApiOperation({
    summary: "Change a tenant's name, retention or billing",
    description:
      'With the admin token, any tenant; with an admin-scoped key, its own tenant only. New retention applies to ' +
      'what is stored from then on. billing (the Stripe customer usage is billed to) takes the admin token: a ' +
      "tenant's own key gets 403 for it. Every change is in the audit log.",
  })
  @ApiParam({ name: 'id', description: "the tenant's id" })
  @ApiBody({ schema: UPDATE_TENANT })
  @ApiOkResponse({ schema: TENANT })
  @ApiBadRequest('an unknown or out-of-range field, or nothing to change')
  @ApiNotFound("no such tenant (or not the key's own)")
  async update(
    @CurrentIdentity() identity: KeyIdentity | undefined,
    @Audit() by: AuditContext,
    @Param('id') rawId: string,
    @Body() body: unknown,
  ): Promise<TenantBody> {
    const input = updateTenant.parse(body ?? {});
    const id = identity ? ownTenant(identity, rawId) : knownTenantId(rawId);
    // Checked before anything is written, so a refused billing change leaves the rest unchanged too.
    let customerId: string | null | undefined;
    if (input.billing) {
      if (identity) {
        throw new TenancyException(
          TenancyExceptionCode.FORBIDDEN,
          "billing: only the deployment's admin token may change which Stripe customer a tenant is billed to",
        );
      }
      const raw = input.billing.stripe_customer_id;
      customerId = raw === null ? null : parseCustomerId(raw, 'billing.stripe_customer_id');
    }
    const changes = tenantFields(input);
    let tenant: Tenant | undefined;
    if (Object.keys(changes).length > 0) tenant = await this.runtime.tenants.updateTenant(id, changes, by);
    else {
      tenant = this.runtime.tenants.get(id);
      if (!tenant) throw noTenant(rawId);
    }
    const billing = this.runtime.billing;
    let linked = await billing.customerOf(id);
    if (customerId !== undefined && customerId !== linked) {
      await billing.link(id, customerId);
      await this.runtime.tenants.auditLog.append(by, [
        {
          tenantId: id,
          action: 'tenant.billing_changed',
          target: id,
          details: { stripe_customer_id: { from: linked, to: customerId } },
        },
      ]);
      linked = customerId;
    }
    return tenantBody(tenant, linked);
  }
}

function tenantFields(input: z.infer<typeof updateTenant>): TenantChanges {
  return {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.retention?.points_days !== undefined ? { pointsDays: input.retention.points_days } : {}),
    ...(input.retention?.anomalies_days !== undefined
      ? { anomaliesDays: input.retention.anomalies_days }
      : {}),
    ...(input.zero_retention !== undefined ? { zeroRetention: input.zero_retention } : {}),
  };
}

function ownTenant(identity: KeyIdentity, rawId: string): TenantId {
  if (rawId !== identity.tenant.id) throw noTenant(rawId);
  return identity.tenant.id;
}

/** An id that is not even well formed names no tenant: 404, as for any other unknown id. */
function knownTenantId(rawId: string): TenantId {
  try {
    return parseTenantId(rawId);
  } catch {
    throw noTenant(rawId);
  }
}

function noTenant(rawId: string): TenancyException {
  return new TenancyException(TenancyExceptionCode.UNKNOWN_TENANT, `no tenant ${describeValue(rawId)}`);
}

function tenantBody(tenant: Tenant, stripeCustomerId: string | null): TenantBody {
  return {
    id: tenant.id,
    name: tenant.name,
    retention: { points_days: tenant.pointsDays, anomalies_days: tenant.anomaliesDays },
    zero_retention: tenant.zeroRetention,
    billing: { stripe_customer_id: stripeCustomerId },
  };
}
