import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type AnomalyTriageJson, readTriageJson } from '@seismo/llm';
import { type StoredAnomaly } from '@seismo/storage';
import { type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { ApiBadRequest } from '../openapi/openapi.decorators';
import { ANOMALIES, instantQuery } from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { instant } from './query-params';

const query = z
  .object({
    series: z.string().min(1).optional(),
    from: instant.optional(),
    to: instant.optional(),
    min_score: z.coerce.number().min(0).max(1).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
  })
  .strict();

export interface AnomalyBody {
  id: string;
  series: string;
  ts: string;
  value: number;
  score: number;
  severity: string;
  detectors: readonly string[];
  /** LLM triage's verdict (or why there is none); absent for a tenant without triage. */
  explanation?: AnomalyTriageJson;
}

@ApiTags('query')
@TenantAccess('read')
@Controller('v1/anomalies')
export class AnomaliesController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  @ApiOperation({ summary: "The tenant's anomalies, newest first" })
  @ApiQuery({
    name: 'series',
    required: false,
    schema: { type: 'string' },
    description: 'one series, e.g. cpu{host="a"}',
  })
  @ApiQuery({ name: 'from', required: false, schema: instantQuery })
  @ApiQuery({ name: 'to', required: false, schema: instantQuery })
  @ApiQuery({ name: 'min_score', required: false, schema: { type: 'number', minimum: 0, maximum: 1 } })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
  })
  @ApiOkResponse({ schema: ANOMALIES })
  @ApiBadRequest('a query parameter out of range or unknown')
  async list(@CurrentTenant() tenant: Tenant, @Query() raw: unknown): Promise<{ anomalies: AnomalyBody[] }> {
    const q = query.parse(raw);
    const found = await this.runtime.anomalies.find(tenant.id, {
      limit: q.limit,
      ...(q.series !== undefined ? { series: q.series } : {}),
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
      ...(q.min_score !== undefined ? { minScore: q.min_score } : {}),
    });
    return { anomalies: found.map(toBody) };
  }
}

function toBody(a: StoredAnomaly): AnomalyBody {
  return {
    id: a.id,
    series: a.series,
    ts: new Date(a.ts).toISOString(),
    value: a.value,
    score: a.score,
    severity: a.severity,
    detectors: a.detectors,
    ...(a.explanation ? { explanation: readTriageJson(a.explanation) } : {}),
  };
}
