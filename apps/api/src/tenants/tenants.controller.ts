import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AdminGuard } from '../auth/admin.guard';
import { ApiAdminAuth, ApiBadRequest } from '../openapi/openapi.decorators';
import { CREATE_TENANT, CREATED_TENANT } from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';

const createTenant = z
  .object({
    name: z.string(),
    retention: z
      .object({
        points_days: z.number().int().optional(),
        anomalies_days: z.number().int().optional(),
      })
      .strict()
      .optional(),
    zero_retention: z.boolean().optional(),
  })
  .strict();

export interface CreatedTenantBody {
  id: string;
  name: string;
  /** Shown once: only its hash is kept. */
  api_key: string;
}

@ApiTags('tenants')
@ApiAdminAuth()
@Controller('v1/tenants')
@UseGuards(AdminGuard)
export class TenantsController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a tenant and its API key (shown once)' })
  @ApiBody({ schema: CREATE_TENANT })
  @ApiCreatedResponse({ schema: CREATED_TENANT })
  @ApiBadRequest('an unknown or malformed field')
  async create(@Body() body: unknown): Promise<CreatedTenantBody> {
    const input = createTenant.parse(body ?? {});
    const { tenant, apiKey } = await this.runtime.tenants.create({
      name: input.name,
      ...(input.retention?.points_days !== undefined ? { pointsDays: input.retention.points_days } : {}),
      ...(input.retention?.anomalies_days !== undefined
        ? { anomaliesDays: input.retention.anomalies_days }
        : {}),
      ...(input.zero_retention !== undefined ? { zeroRetention: input.zero_retention } : {}),
    });
    return { id: tenant.id, name: tenant.name, api_key: apiKey };
  }
}
