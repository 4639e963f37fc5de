import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { parseInfluxPrecision } from '@seismo/ingest';
import { type Tenant } from '@seismo/tenancy';
import { CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { ApiBadRequest } from '../openapi/openapi.decorators';
import { ERROR, INFLUX_LINES, INGEST_ANSWER, POINTS, REMOTE_WRITE } from '../openapi/api.schemas';
import { type IngestAnswer, IngestService } from './ingest.service';

// Per route, not on the class: @HttpCode(202) makes a bare 202 of its own that would hide a class-level one.
const QUEUED = {
  description:
    "the valid points are queued for scoring; the others are named with their error (a point of a new series beyond the tenant's max_series among them)",
  schema: INGEST_ANSWER,
};

/**
 * The three ways in. Each answers 202 with `{accepted, rejected:[{index, error}]}`: a bad
 * point is named and refused, its neighbours are taken.
 */
@ApiTags('ingest')
@TenantAccess('ingest')
@ApiBadRequest('a body that cannot be read at all, or a bad parameter')
@ApiPayloadTooLargeResponse({
  description: "the body is larger than ingest takes, or holds more points than the tenant's points_burst",
  schema: ERROR,
})
@ApiTooManyRequestsResponse({
  description:
    "over the tenant's requests_per_second or points_per_second: nothing was taken; the Retry-After header " +
    '(whole seconds) says when the same request passes, `limit` names the limit',
  headers: { 'Retry-After': { description: 'whole seconds to wait', schema: { type: 'integer' } } },
  schema: ERROR,
})
@Controller()
export class PointsController {
  constructor(private readonly ingest: IngestService) {}

  @Post('v1/points')
  @HttpCode(202)
  @ApiAcceptedResponse(QUEUED)
  @ApiOperation({ summary: 'Push points as JSON' })
  @ApiConsumes('application/json')
  @ApiBody({ schema: POINTS })
  points(@CurrentTenant() tenant: Tenant, @Body() body: unknown): Promise<IngestAnswer> {
    return this.ingest.ingest(tenant.id, 'json', bytesOf(body));
  }

  /** Influx line protocol, as Telegraf sends it; `precision` as InfluxDB takes it (default ns). */
  @Post('v1/write')
  @HttpCode(202)
  @ApiAcceptedResponse(QUEUED)
  @ApiOperation({ summary: 'Push points in Influx line protocol (Telegraf, InfluxDB clients)' })
  @ApiConsumes('text/plain')
  @ApiBody({ schema: INFLUX_LINES })
  @ApiQuery({
    name: 'precision',
    required: false,
    description: "unit of the timestamps, as InfluxDB takes it (and 1.x's n, u, m, h)",
    schema: { type: 'string', enum: ['ns', 'us', 'ms', 's', 'n', 'u', 'm', 'h'], default: 'ns' },
  })
  influxWrite(
    @CurrentTenant() tenant: Tenant,
    @Body() body: Buffer,
    @Query('precision') precision?: string,
  ): Promise<IngestAnswer> {
    return this.ingest.ingest(tenant.id, 'influx', bytesOf(body), parseInfluxPrecision(precision));
  }

  /** Prometheus remote_write 1.0: snappy-compressed protobuf. */
  @Post('api/v1/write')
  @HttpCode(202)
  @ApiAcceptedResponse(QUEUED)
  @ApiOperation({ summary: 'Prometheus remote_write 1.0' })
  @ApiConsumes('application/x-protobuf')
  @ApiBody({ schema: REMOTE_WRITE })
  prometheusWrite(@CurrentTenant() tenant: Tenant, @Body() body: Buffer): Promise<IngestAnswer> {
    return this.ingest.ingest(tenant.id, 'remote_write', bytesOf(body));
  }
}

/**
 * The request's body as bytes, which every ingest parser leaves it as (api.app.ts); a
 * request without a body, or of a type no parser took, is empty, and its decoder says why
 * that is not a body it takes.
 */
function bytesOf(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return new Uint8Array(0);
}
