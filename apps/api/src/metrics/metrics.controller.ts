import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { SeismoRuntime } from '../runtime/seismo.runtime';

/**
 * Prometheus scrapes this without credentials, as it does /health: every metric is an
 * aggregate over all tenants, and no label names a tenant, a series or a key.
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics; no credentials',
    description:
      'Aggregate counts over all tenants (ingest, HTTP, engine, queue, process): no label names a tenant, a series or a key.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const metrics = this.runtime.metrics;
    await reply.type(metrics.contentType).send(await metrics.exposition());
  }
}
