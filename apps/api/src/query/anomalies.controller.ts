import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { type StoredAnomaly } from '@seismo/storage';
import { type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { CurrentTenant, TenantGuard } from '../auth/tenant.guard';
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
  explanation?: string;
}

@Controller('v1/anomalies')
@UseGuards(TenantGuard)
export class AnomaliesController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
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
    ...(a.explanation ? { explanation: a.explanation } : {}),
  };
}
