import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type PointRange, type SeriesHour, SeriesHourRepository } from '@seismo/storage';
import { type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { ApiBadRequest } from '../openapi/openapi.decorators';
import { instantQuery, POINT_RANGE, SERIES_HOURS, SERIES_LIST } from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { instant } from './query-params';

const DAY = 86_400_000;

const hourRange = z.object({ from: instant.optional(), to: instant.optional() }).strict();

const range = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    max_points: z.coerce.number().int().min(10).max(10_000).default(1000),
  })
  .strict();

@ApiTags('query')
@TenantAccess('read')
@Controller('v1/series')
export class SeriesController {
  private readonly hours: SeriesHourRepository;

  constructor(private readonly runtime: SeismoRuntime) {
    this.hours = new SeriesHourRepository(runtime.connection);
  }

  @Get()
  @ApiOperation({ summary: "The tenant's series with stored points" })
  @ApiOkResponse({ schema: SERIES_LIST })
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
  @ApiOperation({ summary: 'Points of one series over a time range (default: the last day)' })
  @ApiParam({ name: 'series', description: 'the series name, URL-encoded: cpu%7Bhost%3D%22a%22%7D' })
  @ApiQuery({ name: 'from', required: false, schema: instantQuery })
  @ApiQuery({ name: 'to', required: false, schema: instantQuery })
  @ApiQuery({
    name: 'max_points',
    required: false,
    schema: { type: 'integer', minimum: 10, maximum: 10000, default: 1000 },
    description: 'beyond this many points the range comes back in time buckets',
  })
  @ApiOkResponse({ schema: POINT_RANGE })
  @ApiBadRequest('a query parameter out of range or unknown')
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

  /** What remains of a zero-retention tenant's points: count, sum, min, max and average per hour. */
  @Get(':series/hourly')
  @ApiOperation({
    summary: 'Hourly summaries of one series (zero-retention tenants), default: the last 7 days',
  })
  @ApiParam({ name: 'series', description: 'the series name, URL-encoded' })
  @ApiQuery({ name: 'from', required: false, schema: instantQuery })
  @ApiQuery({ name: 'to', required: false, schema: instantQuery })
  @ApiOkResponse({ schema: SERIES_HOURS })
  @ApiBadRequest('a query parameter out of range or unknown')
  async hourly(
    @CurrentTenant() tenant: Tenant,
    @Param('series') series: string,
    @Query() raw: unknown,
  ): Promise<{ series: string; hours: SeriesHour[] }> {
    const q = hourRange.parse(raw);
    const to = q.to ?? Date.now() + 60_000;
    const from = q.from ?? to - 7 * DAY;
    return { series, hours: await this.hours.range(tenant.id, series, from, to) };
  }
}
