import { Body, Controller, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import {
  InfluxLineDecoder,
  JsonPointsDecoder,
  parseInfluxPrecision,
  RemoteWriteDecoder,
} from '@seismo/ingest';
import { type Tenant } from '@seismo/tenancy';
import { CurrentTenant, TenantGuard } from '../auth/tenant.guard';
import { type IngestAnswer, IngestService } from './ingest.service';

/**
 * The three ways in. Each answers 202 with `{accepted, rejected:[{index, error}]}`: a bad
 * point is named and refused, its neighbours are taken.
 */
@Controller()
@UseGuards(TenantGuard)
export class PointsController {
  private readonly json = new JsonPointsDecoder();
  private readonly influx = new InfluxLineDecoder();
  private readonly remoteWrite = new RemoteWriteDecoder();

  constructor(private readonly ingest: IngestService) {}

  @Post('v1/points')
  @HttpCode(202)
  points(@CurrentTenant() tenant: Tenant, @Body() body: unknown): Promise<IngestAnswer> {
    return this.ingest.ingest(tenant.id, this.json.decode(body, Date.now()));
  }

  /** Influx line protocol, as Telegraf sends it; `precision` as InfluxDB takes it (default ns). */
  @Post('v1/write')
  @HttpCode(202)
  influxWrite(
    @CurrentTenant() tenant: Tenant,
    @Body() body: Buffer,
    @Query('precision') precision?: string,
  ): Promise<IngestAnswer> {
    const decoded = this.influx.decode(body ?? Buffer.alloc(0), Date.now(), parseInfluxPrecision(precision));
    return this.ingest.ingest(tenant.id, decoded);
  }

  /** Prometheus remote_write 1.0: snappy-compressed protobuf. */
  @Post('api/v1/write')
  @HttpCode(202)
  prometheusWrite(@CurrentTenant() tenant: Tenant, @Body() body: Buffer): Promise<IngestAnswer> {
    return this.ingest.ingest(tenant.id, this.remoteWrite.decode(body ?? Buffer.alloc(0), Date.now()));
  }
}
