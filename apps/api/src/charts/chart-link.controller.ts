import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AlertingException, AlertingExceptionCode, ChartLinkSigner } from '@seismo/alerting';
import { type PointRange } from '@seismo/storage';
import { type FastifyReply } from 'fastify';
import { htmlUnlessJson, wantsJson } from '../feedback/feedback-link.controller';
import { FEEDBACK_PAGE_HEADERS } from '../feedback/feedback-link.pages';
import { ERROR, POINT_RANGE } from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { chartPage } from './chart.page';

/** The route of the chart links in alerts (chartLink in @seismo/alerting makes them). */
export const CHART_LINK_ROUTE = '/v1/charts/:token';

/** How far back from the alert's anomaly the chart starts, and how far past it it may end. */
const BEFORE_MS = 6 * 3_600_000;
const AFTER_MS = 3_600_000;
/** Beyond this many points the window comes back in time buckets (min, max, mean, top score). */
const MAX_POINTS = 600;

const HTML = { 'text/html': { schema: { type: 'string' } } };

/** A chart link's data, for `accept: application/json`: the window and what GET /v1/series/{series}/points answers for it. */
type ChartBody = { series: string; at: string; from: string; to: string } & PointRange;

/**
 * The chart links of alerts, `<SEISMO_PUBLIC_URL>/v1/charts/<token>`: the series of an
 * alert from 6 hours before its anomaly to 1 hour after (or now, if sooner), read-only. No
 * key: the signed token names the tenant, the series and the anomaly's time, and is the
 * credential; a closed or erased tenant's links stop.
 */
@ApiTags('query')
@Controller(CHART_LINK_ROUTE)
export class ChartLinkController {
  private readonly signer: ChartLinkSigner | undefined;

  constructor(private readonly runtime: SeismoRuntime) {
    // The key the links were signed with (alerting.start.ts): both derive it from the admin token.
    this.signer = runtime.adminToken ? new ChartLinkSigner(runtime.adminToken) : undefined;
  }

  @Get()
  @ApiOperation({
    summary: "A chart link's page: the alert's series around its anomaly, as an SVG",
    description:
      'No credentials: the token is one. With `accept: application/json`, the window and its points ' +
      '(raw, or bucketed beyond 600) as GET /v1/series/{series}/points answers them.',
  })
  @ApiParam({ name: 'token', description: "the link's signed token" })
  @ApiProduces('text/html', 'application/json')
  @ApiResponse({
    status: 200,
    description: 'the chart',
    content: { ...HTML, 'application/json': { schema: POINT_RANGE } },
  })
  @ApiResponse({
    status: 401,
    description: 'the token is malformed or its signature does not match (INVALID_CHART_TOKEN)',
    content: { ...HTML, 'application/json': { schema: ERROR } },
  })
  @ApiResponse({
    status: 404,
    description: 'the tenant was erased or closed (UNKNOWN_CHART)',
    content: { ...HTML, 'application/json': { schema: ERROR } },
  })
  @ApiResponse({
    status: 410,
    description: 'the link is genuine but older than its 30 days (EXPIRED_CHART_TOKEN)',
    content: { ...HTML, 'application/json': { schema: ERROR } },
  })
  async chart(
    @Param('token') token: string,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | ChartBody> {
    return htmlUnlessJson(
      accept,
      reply,
      async () => {
        if (!this.signer)
          throw new Error('chart links need the admin token, which this process does not have');
        const claim = this.signer.verify(token);
        const tenant = await this.runtime.tenants.find(claim.tenantId);
        if (!tenant || tenant.closure) {
          throw new AlertingException(
            AlertingExceptionCode.UNKNOWN_CHART,
            'the tenant this chart is of no longer exists',
          );
        }
        const from = claim.at - BEFORE_MS;
        const to = Math.max(claim.at + 1, Math.min(claim.at + AFTER_MS, Date.now()));
        const range = await this.runtime.points.range(tenant.id, claim.series, from, to, MAX_POINTS);
        if (wantsJson(accept)) {
          // The tenant's data, with the token as the credential: kept in no cache.
          void reply.headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
          return {
            series: claim.series,
            at: new Date(claim.at).toISOString(),
            from: new Date(from).toISOString(),
            to: new Date(to).toISOString(),
            ...range,
          };
        }
        void reply.headers(FEEDBACK_PAGE_HEADERS).status(200);
        return chartPage({
          series: claim.series,
          at: claim.at,
          from,
          to,
          range,
          zeroRetention: tenant.zeroRetention,
          expiresAt: claim.expiresAt,
        });
      },
      'chart link',
    );
  }
}
