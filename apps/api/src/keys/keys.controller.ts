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
import { type ApiKeyInfo, type AuditContext, type ListedApiKey, SCOPES, type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { Audit, CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { API_KEYS, CREATED_API_KEY, NEW_API_KEY } from '../openapi/api.schemas';
import { ApiBadRequest, ApiNotFound } from '../openapi/openapi.decorators';
import { SeismoRuntime } from '../runtime/seismo.runtime';

const newKey = z
  .object({
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    member_id: z.string().optional(),
  })
  .strict();

export interface ApiKeyBody {
  id: string;
  name: string;
  scopes: readonly string[];
  member_id?: string;
  created_at: string;
  last_used_at?: string;
}

/**
 * The caller's tenant's API keys: tenant admins only. A key is shown once, at creation,
 * and then known by its public id. Rotation: make a new key, move clients to it, revoke
 * the old one; any number of keys may be active meanwhile.
 */
@ApiTags('keys')
@TenantAccess('admin')
@Controller('v1/keys')
export class KeysController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  @ApiOperation({ summary: "The tenant's active keys (never the secrets), oldest first" })
  @ApiOkResponse({ schema: API_KEYS })
  list(@CurrentTenant() tenant: Tenant): { keys: ApiKeyBody[] } {
    return { keys: this.runtime.tenants.keysOf(tenant.id).map(keyBody) };
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Make a key, shown once',
    description:
      "A member's key may use its scopes only as far as the member's role allows, now and after any role " +
      'change; a key with scopes beyond the role is refused. Without member_id it is a service key.',
  })
  @ApiBody({ schema: NEW_API_KEY })
  @ApiCreatedResponse({ schema: CREATED_API_KEY })
  @ApiBadRequest('a missing name, an empty or unknown scope, an unknown member, or scopes beyond its role')
  async create(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Body() body: unknown,
  ): Promise<ApiKeyBody & { api_key: string }> {
    const input = newKey.parse(body ?? {});
    const { key, apiKey } = await this.runtime.tenants.createKey(
      tenant.id,
      {
        name: input.name,
        scopes: input.scopes,
        ...(input.member_id !== undefined ? { memberId: input.member_id } : {}),
      },
      by,
    );
    return { ...keyBody(key), api_key: apiKey };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key: it stops working at once' })
  @ApiParam({ name: 'id', description: "the key's public id (key_...)" })
  @ApiNoContentResponse({ description: 'revoked' })
  @ApiNotFound('the tenant has no such active key')
  async revoke(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Param('id') id: string,
  ): Promise<void> {
    await this.runtime.tenants.revokeKey(tenant.id, id, by);
  }
}

function keyBody(key: ApiKeyInfo | ListedApiKey): ApiKeyBody {
  const lastUsedAt = 'lastUsedAt' in key ? key.lastUsedAt : undefined;
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    ...(key.memberId !== undefined ? { member_id: key.memberId } : {}),
    created_at: new Date(key.createdAt).toISOString(),
    ...(lastUsedAt !== undefined ? { last_used_at: new Date(lastUsedAt).toISOString() } : {}),
  };
}
