import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  StreamableFile,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { parseCustomerId } from '@seismo/billing';
import { parseTenantId, type TenantId } from '@seismo/storage';
import {
  type AuditContext,
  DEFAULT_GRACE_DAYS,
  describeValue,
  EXPECTED_POLICIES,
  type ExpectedPolicy,
  MAX_GRACE_DAYS,
  type KeyIdentity,
  TenancyException,
  TenancyExceptionCode,
  type Tenant,
  type TenantChanges,
  type TenantLlmChanges,
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
import {
  CLOSE_TENANT,
  CREATE_TENANT,
  CREATED_TENANT,
  ERASED_TENANT,
  TENANT,
  UPDATE_TENANT,
} from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { exportFileName, exportStream } from './tenant-export';

const retention = z
  .object({
    points_days: z.number().int().optional(),
    anomalies_days: z.number().int().optional(),
  })
  .strict();

/** LLM settings to set, merged into the current ones; ranges are checked by libs/tenancy. */
const llm = z
  .object({
    triage: z.boolean().optional(),
    /** null: back to the deployment's SEISMO_LLM_TENANT_DAILY_TOKENS. */
    daily_tokens: z.number().int().nullable().optional(),
    expected_policy: z.enum(EXPECTED_POLICIES).optional(),
    redact_labels: z.array(z.string()).optional(),
    profiling: z.boolean().optional(),
  })
  .strict();

/** `llm_triage` is `llm.triage` spelled as a flag of its own: given both, which one was meant is unclear. */
function oneTriage(body: { llm_triage?: boolean; llm?: { triage?: boolean } }): boolean {
  return body.llm_triage === undefined || body.llm?.triage === undefined;
}
const ONE_TRIAGE = { message: 'give llm_triage or llm.triage, not both', path: ['llm_triage'] };

const createTenant = z
  .object({
    name: z.string(),
    retention: retention.optional(),
    zero_retention: z.boolean().optional(),
    plan: z.enum(PLAN_NAMES).optional(),
    admin_email: z.string().optional(),
    llm_triage: z.boolean().optional(),
    llm: llm.optional(),
  })
  .strict()
  .refine(oneTriage, ONE_TRIAGE);

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
    llm_triage: z.boolean().optional(),
    llm: llm.optional(),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message:
      'nothing to change: give name, retention, zero_retention, plan, limits, billing, llm_triage or llm',
  })
  .refine(oneTriage, ONE_TRIAGE);

const closeTenant = z
  .object({ grace_days: z.number().int().min(0).max(MAX_GRACE_DAYS).default(DEFAULT_GRACE_DAYS) })
  .strict();

const eraseQuery = z.object({ confirm: z.string() }).strict();

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
  status: 'active' | 'closed';
  closed_at?: string;
  purge_after?: string;
  retention: { points_days: number; anomalies_days: number };
  zero_retention: boolean;
  billing: { stripe_customer_id: string | null };
  plan: PlanName;
  /** The limits in force (plan and overrides). */
  limits: Record<string, number>;
  /** Only the limits set for this tenant over its plan's. */
  limit_overrides: Record<string, number>;
  llm: {
    triage: boolean;
    /** null: the deployment's SEISMO_LLM_TENANT_DAILY_TOKENS. */
    daily_tokens: number | null;
    expected_policy: ExpectedPolicy;
    redact_labels: readonly string[];
    profiling: boolean;
  };
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
    summary: "A tenant's name, retention, plan, limits, billing link and LLM settings",
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
    summary: "Change a tenant's name, retention, plan, limits, billing or LLM settings",
    description:
      'With the admin token, any tenant; with an admin-scoped key, its own tenant only, and not its plan, ' +
      'limits, billing or LLM settings (403). llm_triage is llm.triage (give one of them); llm is merged into ' +
      'the current settings. A new retention applies to the rows already stored too: the answer comes once ' +
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
    // A tenant's own admins must not raise their own limits: plan and limits are the deployment's,
    // and so is LLM triage, which spends the deployment's LLM budget.
    const deploymentOnly = (['plan', 'limits', 'llm_triage', 'llm'] as const).find(
      (field) => input[field] !== undefined,
    );
    if (identity && deploymentOnly !== undefined) {
      throw new TenancyException(
        TenancyExceptionCode.FORBIDDEN,
        `${deploymentOnly} can only be changed with the deployment admin token`,
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

  /**
   * Offboarding: the tenant's keys stop at once, and its data is erased once the grace
   * period is over, unless the deployment admin reopens it before.
   */
  @Post(':id/close')
  @HttpCode(200)
  @TenantOrDeploymentAdminAccess('admin')
  @ApiOperation({
    summary: 'Close a tenant: its keys stop at once, its data is erased after the grace period',
    description:
      `grace_days (default ${DEFAULT_GRACE_DAYS}, at most ${MAX_GRACE_DAYS}) is how long the data is kept; until ` +
      'then the deployment admin may reopen the tenant. With an admin-scoped key, its own tenant only; that key ' +
      'stops working with the others.',
  })
  @ApiParam({ name: 'id', description: "the tenant's id" })
  @ApiBody({ schema: CLOSE_TENANT, required: false })
  @ApiOkResponse({ schema: TENANT })
  @ApiBadRequest('grace_days out of range, or an unknown field')
  @ApiNotFound("no such tenant (or not the key's own)")
  async close(
    @CurrentIdentity() identity: KeyIdentity | undefined,
    @Audit() by: AuditContext,
    @Param('id') rawId: string,
    @Body() body: unknown,
  ): Promise<TenantBody> {
    const input = closeTenant.parse(body ?? {});
    const id = identity ? ownTenant(identity, rawId) : knownTenantId(rawId);
    const tenant = await this.runtime.tenants.closeTenant(id, input.grace_days, by);
    return tenantBody(tenant, await this.runtime.billing.customerOf(id));
  }

  /** Undoes a closing within its grace period: the tenant's keys work again. */
  @Post(':id/reopen')
  @HttpCode(200)
  @UseGuards(AdminGuard)
  @ApiAdminAuth()
  @ApiOperation({ summary: 'Reopen a closed tenant before its data is erased (deployment admin)' })
  @ApiParam({ name: 'id', description: "the tenant's id" })
  @ApiOkResponse({ schema: TENANT })
  @ApiNotFound('no such tenant (erased already, or never was)')
  async reopen(@Audit() by: AuditContext, @Param('id') rawId: string): Promise<TenantBody> {
    const id = knownTenantId(rawId);
    const tenant = await this.runtime.tenants.reopenTenant(id, by);
    return tenantBody(tenant, await this.runtime.billing.customerOf(id));
  }

  /**
   * Everything the tenant has, streamed as gzip NDJSON (tenant-export.ts has the layout).
   * Recorded in the audit log before the first byte goes out.
   */
  @Get(':id/export')
  @TenantOrDeploymentAdminAccess('admin')
  @ApiOperation({
    summary: 'Download everything a tenant has, as gzip-compressed NDJSON',
    description:
      'One line per record, each with a type: point, anomaly, series_hour, usage_hour, audit, member, api_key, ' +
      'api_key_use, billing_link, billing_send, tenant. The first line describes the export, the last one ' +
      '({"type":"end","counts":{...}}) counts the records of each type: a download without it was cut short. ' +
      'No secret is included (no key or password hashes).',
  })
  @ApiParam({ name: 'id', description: "the tenant's id" })
  @ApiProduces('application/gzip')
  @ApiOkResponse({
    description: 'the gzip-compressed NDJSON export',
    schema: { type: 'string', format: 'binary' },
  })
  @ApiNotFound("no such tenant (or not the key's own)")
  async export(
    @CurrentIdentity() identity: KeyIdentity | undefined,
    @Audit() by: AuditContext,
    @Param('id') rawId: string,
  ): Promise<StreamableFile> {
    const id = identity ? ownTenant(identity, rawId) : knownTenantId(rawId);
    if (!this.runtime.tenants.get(id)) throw noTenant(rawId);
    const now = Date.now();
    await this.runtime.tenants.auditLog.append(by, [{ tenantId: id, action: 'tenant.exported', target: id }]);
    return new StreamableFile(exportStream(id, this.runtime.tenantData.export(id), now), {
      type: 'application/gzip',
      disposition: `attachment; filename="${exportFileName(id, now)}"`,
    });
  }

  /**
   * Erases the tenant and everything it has, at once and for good. `confirm` must repeat
   * the id, so that a mistyped or replayed request cannot erase a tenant by accident.
   */
  @Delete(':id')
  @TenantOrDeploymentAdminAccess('admin')
  @ApiOperation({
    summary: 'Erase a tenant and everything it has, now',
    description:
      'Points, anomalies, hourly summaries, usage, detector checkpoints, audit log, members, keys and billing ' +
      'records are deleted from storage, then the tenant; its keys stop at once. Only one audit entry remains, ' +
      "saying who erased it and when. With an admin-scoped key, its own tenant only. `confirm` must be the tenant's id.",
  })
  @ApiParam({ name: 'id', description: "the tenant's id" })
  @ApiQuery({ name: 'confirm', required: true, description: "the tenant's id again" })
  @ApiOkResponse({ schema: ERASED_TENANT })
  @ApiBadRequest('confirm missing or not the id')
  @ApiNotFound("no such tenant (or not the key's own)")
  async erase(
    @CurrentIdentity() identity: KeyIdentity | undefined,
    @Audit() by: AuditContext,
    @Param('id') rawId: string,
    @Query() query: unknown,
  ): Promise<{ id: string; erased_rows: Record<string, number> }> {
    const id = identity ? ownTenant(identity, rawId) : knownTenantId(rawId);
    const { confirm } = eraseQuery.parse(query ?? {});
    if (confirm !== id) {
      throw new TenancyException(
        TenancyExceptionCode.INVALID_TENANT,
        `confirm: must repeat the id of the tenant to erase (${id}), got ${describeValue(confirm)}`,
        'confirm',
      );
    }
    return { id, erased_rows: { ...(await this.runtime.eraser.erase(id, by)) } };
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
    ...(input.llm_triage !== undefined || input.llm !== undefined
      ? { llm: llmChanges(input.llm_triage, input.llm ?? {}) }
      : {}),
  };
}

function llmChanges(triage: boolean | undefined, input: z.infer<typeof llm>): TenantLlmChanges {
  const given = triage ?? input.triage;
  return {
    ...(given !== undefined ? { triage: given } : {}),
    ...(input.daily_tokens !== undefined ? { dailyTokens: input.daily_tokens } : {}),
    ...(input.expected_policy !== undefined ? { expectedPolicy: input.expected_policy } : {}),
    ...(input.redact_labels !== undefined ? { redactLabels: input.redact_labels } : {}),
    ...(input.profiling !== undefined ? { profiling: input.profiling } : {}),
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
    status: tenant.closure ? 'closed' : 'active',
    ...(tenant.closure
      ? {
          closed_at: new Date(tenant.closure.closedAt).toISOString(),
          purge_after: new Date(tenant.closure.purgeAfter).toISOString(),
        }
      : {}),
    retention: { points_days: tenant.pointsDays, anomalies_days: tenant.anomaliesDays },
    zero_retention: tenant.zeroRetention,
    billing: { stripe_customer_id: stripeCustomerId },
    plan: tenant.plan,
    limits: snakeLimits(resolveLimits(tenant.plan, tenant.limitOverrides)),
    limit_overrides: snakeLimits(tenant.limitOverrides),
    llm: {
      triage: tenant.llm.triage,
      daily_tokens: tenant.llm.dailyTokens ?? null,
      expected_policy: tenant.llm.expectedPolicy,
      redact_labels: tenant.llm.redactLabels,
      profiling: tenant.llm.profiling,
    },
  };
}
