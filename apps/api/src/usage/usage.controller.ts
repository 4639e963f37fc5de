import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DAY_MS, HOUR_MS, type UsageCounts, type UsageGranularity } from '@seismo/storage';
import { type Tenant } from '@seismo/tenancy';
import { z } from 'zod';
import { CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { ApiBadRequest } from '../openapi/openapi.decorators';
import { instantQuery, USAGE } from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { instant } from '../query/query-params';

const query = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    granularity: z.enum(['hour', 'day']).default('day'),
  })
  .strict();

/** How far back `from` defaults: a day of hours, or 30 days. */
const DEFAULT_SPAN: Record<UsageGranularity, number> = { hour: 24 * HOUR_MS, day: 30 * DAY_MS };

export interface UsageBody {
  from: string;
  to: string;
  granularity: UsageGranularity;
  totals: UsageCounts & { llm_cost_usd: number };
  buckets: Array<{ start: string } & UsageCounts>;
}

/**
 * The tenant's own metering: the counters the engine writes per hour with each batch, the
 * same ones billing sends to Stripe. The current hour is included as it stands.
 */
@ApiTags('usage')
@TenantAccess('read')
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  @ApiOperation({
    summary: "The tenant's usage per hour or UTC day, and the totals over the range",
    description:
      'Buckets start at from rounded down to the hour (or UTC day); only buckets with usage are listed. ' +
      'active_series counts the distinct series that had a point scored in the bucket (in the whole range, for ' +
      'totals), so it does not add up across buckets. totals.llm_cost_usd estimates what the LLM tokens cost at ' +
      "the deployment's model price (SEISMO_LLM_PRICE_IN/OUT, USD per million tokens).",
  })
  @ApiQuery({
    name: 'from',
    required: false,
    schema: instantQuery,
    description: 'default: to minus 24 h (hour) or 30 days (day)',
  })
  @ApiQuery({ name: 'to', required: false, schema: instantQuery, description: 'exclusive; default: now' })
  @ApiQuery({
    name: 'granularity',
    required: false,
    schema: { type: 'string', enum: ['hour', 'day'], default: 'day' },
  })
  @ApiOkResponse({ schema: USAGE })
  @ApiBadRequest('a query parameter unknown, malformed, or a range that is empty or too long')
  async usage(@CurrentTenant() tenant: Tenant, @Query() raw: unknown): Promise<UsageBody> {
    const q = query.parse(raw);
    const to = q.to ?? Date.now();
    const from = q.from ?? to - DEFAULT_SPAN[q.granularity];
    // Totals over exactly the buckets' span: from rounded down to the bucket, as they are.
    const size = q.granularity === 'day' ? DAY_MS : HOUR_MS;
    const [buckets, totals] = await Promise.all([
      this.runtime.usage.buckets(tenant.id, { from, to, granularity: q.granularity }),
      this.runtime.usage.total(tenant.id, Math.floor(from / size) * size, to),
    ]);
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      granularity: q.granularity,
      totals: { ...totals, llm_cost_usd: this.costOf(totals) },
      buckets: buckets.map((b) => ({ start: new Date(b.start).toISOString(), ...b.counts })),
    };
  }

  /** The tokens' cost at the configured price, to the micro-dollar; 0 without LLM triage. */
  private costOf(counts: UsageCounts): number {
    const price = this.runtime.llmPrice;
    if (!price) return 0;
    const usd =
      (counts.llm_tokens_in * price.inPerMillion + counts.llm_tokens_out * price.outPerMillion) / 1e6;
    return Math.round(usd * 1e6) / 1e6;
  }
}
