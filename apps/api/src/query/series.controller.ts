import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { type PointRange } from '@seismo/storage';
import { type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { CurrentTenant, TenantGuard } from '../auth/tenant.guard';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { instant } from './query-params';

const DAY = 86_400_000;

const range = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    max_points: z.coerce.number().int().min(10).max(10_000).default(1000),
  })
  .strict();

@Controller('v1/series')
@UseGuards(TenantGuard)
export class SeriesController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  async list(@CurrentTenant() tenant: Tenant) {
    const series = await this.runtime.series.list(tenant.id);
    return {
      series: series.map((s) => ({
        series: s.series,
        first_seen: new Date(s.firstSeen).toISOString(),
        last_seen: new Date(s.lastSeen).toISOString(),
        points: s.points,
      })),
    };
  }

  /** A chart's worth of one series: raw points, or time buckets (min, max, avg, top score) for long ranges. */
  @Get(':series/points')
  async points(
    @CurrentTenant() tenant: Tenant,
    @Param('series') series: string,
    @Query() raw: unknown,
  ): Promise<{ series: string } & PointRange> {
    const q = range.parse(raw);
    const to = q.to ?? Date.now() + 60_000;
    const from = q.from ?? to - DAY;
    return { series, ...(await this.runtime.points.range(tenant.id, series, from, to, q.max_points)) };
  }
}
