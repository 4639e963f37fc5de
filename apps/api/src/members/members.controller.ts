import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { type AuditContext, type Member, ROLES, type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { Audit, CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { ERROR, MEMBER, MEMBER_ROLE, MEMBERS, NEW_MEMBER } from '../openapi/api.schemas';
import { ApiBadRequest, ApiNotFound } from '../openapi/openapi.decorators';
import { SeismoRuntime } from '../runtime/seismo.runtime';

// The shape; the email's syntax is checked (and normalized) by libs/tenancy, which names the field.
const newMember = z.object({ email: z.string(), role: z.enum(ROLES) }).strict();
const roleChange = z.object({ role: z.enum(ROLES) }).strict();

export interface MemberBody {
  id: string;
  email: string;
  role: string;
  created_at: string;
}

/** The people of the caller's tenant and their roles: tenant admins only. Every change is audited. */
@ApiTags('members')
@TenantAccess('admin')
@Controller('v1/members')
export class MembersController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  @ApiOperation({ summary: "The tenant's members, oldest first" })
  @ApiOkResponse({ schema: MEMBERS })
  list(@CurrentTenant() tenant: Tenant): { members: MemberBody[] } {
    return { members: this.runtime.tenants.membersOf(tenant.id).map(memberBody) };
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Add a member (no key is made: POST /v1/keys with their member_id)' })
  @ApiBody({ schema: NEW_MEMBER })
  @ApiCreatedResponse({ schema: MEMBER })
  @ApiBadRequest('an email that is not an address, an unknown role, or an unknown field')
  @ApiConflictResponse({ description: 'the tenant already has a member with this email', schema: ERROR })
  async add(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Body() body: unknown,
  ): Promise<MemberBody> {
    const input = newMember.parse(body ?? {});
    return memberBody(await this.runtime.tenants.addMember(tenant.id, input, by));
  }

  @Patch(':id')
  @ApiOperation({
    summary: "Change a member's role",
    description:
      'Takes effect at once on every key of the member: a key keeps its scopes but may use only those the role allows.',
  })
  @ApiParam({ name: 'id', description: "the member's id" })
  @ApiBody({ schema: MEMBER_ROLE })
  @ApiOkResponse({ schema: MEMBER })
  @ApiBadRequest('an unknown role or field')
  @ApiNotFound('the tenant has no such member')
  @ApiConflictResponse({ description: "the member is the tenant's last admin", schema: ERROR })
  async changeRole(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<MemberBody> {
    const input = roleChange.parse(body ?? {});
    return memberBody(await this.runtime.tenants.changeRole(tenant.id, id, input.role, by));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member; every key of theirs is revoked' })
  @ApiParam({ name: 'id', description: "the member's id" })
  @ApiNoContentResponse({ description: 'removed' })
  @ApiNotFound('the tenant has no such member')
  @ApiConflictResponse({ description: "the member is the tenant's last admin", schema: ERROR })
  async remove(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Param('id') id: string,
  ): Promise<void> {
    await this.runtime.tenants.removeMember(tenant.id, id, by);
  }
}

function memberBody(member: Member): MemberBody {
  return {
    id: member.id,
    email: member.email,
    role: member.role,
    created_at: new Date(member.createdAt).toISOString(),
  };
}
