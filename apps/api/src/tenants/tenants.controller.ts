import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
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
  LIMIT_FIELDS,
  LIMIT_NAMES,
  type LimitChanges,
  type LimitName,
  PLAN_NAMES,
  type PlanName,
  resolveLimits,
  type TenantLimits,
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
    plan: z.enum(PLAN_NAMES).optional(),
    admin_email: z.string().optional(),
  })
  .strict();

/** Each limit a number (set it) or null (back to the plan's); checked in range by libs/tenancy. */
const limits = z
  .object(
    Object.fromEntries(
      Object.values(LIMIT_FIELDS).map((field) => [field, z.number().int().nullable().optional()]),
    ),
  )
  .strict();

const updateTenant = z
  .object({
    name: z.string().optional(),
    retention: retention.optional(),
    zero_retention: z.boolean().optional(),
    billing: z.object({ stripe_customer_id: z.string().nullable() }).strict().optional(),
    plan: z.enum(PLAN_NAMES).optional(),
    limits: limits.optional(),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'nothing to change: give name, retention, zero_retention, plan, limits or billing',
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
  plan: PlanName;
  /** The limits in force (plan and overrides). */
  limits: Record<string, number>;
  /** Only the limits set for this tenant over its plan's. */
  limit_overrides: Record<string, number>;
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
        ...(input.plan !== undefined ? { plan: input.plan } : {}),
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

  /** A tenant's settings and the limits in force: what its own keys may read of it. */
  @Get(':id')
  @TenantOrDeploymentAdminAccess('read')
  @ApiOperation({
    summary: "A tenant's name, retention, plan, limits and billing link",
    description:
      'With the admin token, any tenant; with a key, its own tenant only (another id answers 404).',
  })
  @ApiParam({ name: 'id', description: "the tenant's id" })
  @ApiOkResponse({ schema: TENANT })
  @ApiNotFound("no such tenant (or not the key's own)")
  async get(
    @CurrentIdentity() identity: KeyIdentity | undefined,
    @Param('id') rawId: string,
  ): Promise<TenantBody> {
    const id = identity ? ownTenant(identity, rawId) : knownTenantId(rawId);
    const tenant = this.runtime.tenants.get(id);
    if (!tenant) throw noTenant(rawId);
    return tenantBody(tenant, await this.runtime.billing.customerOf(id));
  }

  /**
   * A tenant's own admins may change their tenant; its id in the path must be theirs.
   * Another tenant's id answers 404 like an id that does not exist, so a key cannot even
   * learn which tenants exist.
   */
  @Patch(':id')
  @TenantOrDeploymentAdminAccess('admin')
  @ApiOperation({
    summary: "Change a tenant's name, retention, plan, limits or billing",
    description:
      'With the admin token, any tenant; with an admin-scoped key, its own tenant only, and not its plan, ' +
      'limits or billing (403). A new retention applies to the rows already stored too: the answer comes once ' +
      'they are rewritten, and what a shorter retention no longer keeps is gone. billing is the Stripe customer ' +
      'usage is billed to. Every change is in the audit log.',
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
    // Checked before anything is written, so a refused change leaves the rest unchanged too.
    // A tenant's own admins must not raise their own limits: plan and limits are the deployment's.
    if (identity && (input.plan !== undefined || input.limits !== undefined)) {
      throw new TenancyException(
        TenancyExceptionCode.FORBIDDEN,
        `${input.plan !== undefined ? 'plan' : 'limits'} can only be changed with the deployment admin token`,
      );
    }
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
    const changes = {
      ...tenantFields(input),
      ...(input.plan !== undefined ? { plan: input.plan } : {}),
      ...(input.limits !== undefined ? { limits: limitChanges(input.limits) } : {}),
    };
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

function limitChanges(input: Record<string, number | null | undefined>): LimitChanges {
  const changes: Partial<Record<LimitName, number | null>> = {};
  for (const name of LIMIT_NAMES) {
    const value = input[LIMIT_FIELDS[name]];
    if (value !== undefined) changes[name] = value;
  }
  return changes;
}

function snakeLimits(limits: Partial<TenantLimits>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of LIMIT_NAMES) {
    const value = limits[name];
    if (value !== undefined) out[LIMIT_FIELDS[name]] = value;
  }
  return out;
}

function tenantFields(input: z.infer<typeof createTenant> | z.infer<typeof updateTenant>): TenantChanges {
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
    plan: tenant.plan,
    limits: snakeLimits(resolveLimits(tenant.plan, tenant.limitOverrides)),
    limit_overrides: snakeLimits(tenant.limitOverrides),
  };
}
