import { Controller, Get, Logger, type OnModuleDestroy, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { type Tenant } from '@seismo/tenancy';
import { type FastifyReply } from 'fastify';
import { z } from 'zod';
import { CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { ANOMALY_STREAM } from '../openapi/api.schemas';
import { ApiBadRequest } from '../openapi/openapi.decorators';
import { AnomalyFeed } from './anomaly.feed';
import { SseConnection } from './sse.connection';

/** Comment lines this often keep proxies and load balancers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** Events one connection may have waiting for a slow client before it is disconnected. */
export const MAX_QUEUED_EVENTS = 1000;

const query = z
  .object({
    series: z.string().min(1).optional(),
    min_score: z.coerce.number().min(0).max(1).optional(),
  })
  .strict();

/**
 * The dashboard's live stream of anomalies, as Server-Sent Events. Written to Node's raw
 * response rather than through Nest's @Sse, for what @Sse does not do: comment heartbeats,
 * and a bounded queue per connection (its Observable would buffer without limit).
 */
@ApiTags('query')
@TenantAccess('read')
@Controller('v1/anomalies')
export class AnomalyStreamController implements OnModuleDestroy {
  private readonly logger = new Logger(AnomalyStreamController.name);
  private readonly streams = new Set<SseConnection>();

  constructor(private readonly feed: AnomalyFeed) {}

  @Get('stream')
  @ApiOperation({
    summary: "The tenant's anomalies as they are found, as Server-Sent Events",
    description:
      'Live only: no history (read the past from GET /v1/anomalies, also after a reconnect). ' +
      'Each event is `event: anomaly`, `id:` the anomaly id, `data:` its JSON. An anomaly may ' +
      'come more than once (a batch the engine wrote again after a crash): events with the ' +
      'same id are the same anomaly, so a client drops an id it has seen. A client that falls ' +
      `${MAX_QUEUED_EVENTS} events behind is disconnected. A comment line comes every ` +
      `${HEARTBEAT_MS / 1000} s.`,
  })
  @ApiQuery({
    name: 'series',
    required: false,
    schema: { type: 'string' },
    description: 'one series, exactly',
  })
  @ApiQuery({ name: 'min_score', required: false, schema: { type: 'number', minimum: 0, maximum: 1 } })
  @ApiOkResponse({
    description: 'a stream of `anomaly` events, each data line one of these',
    content: { 'text/event-stream': { schema: ANOMALY_STREAM } },
  })
  @ApiBadRequest('a query parameter out of range or unknown')
  stream(@CurrentTenant() tenant: Tenant, @Query() raw: unknown, @Res() reply: FastifyReply): void {
    // Parsed before the reply is taken over, so a bad query is an ordinary 400.
    const q = query.parse(raw);
    reply.hijack();
    let unsubscribe = (): void => undefined;
    const connection = new SseConnection(reply.raw, {
      heartbeatMs: HEARTBEAT_MS,
      maxQueuedFrames: MAX_QUEUED_EVENTS,
      onClose: (reason) => {
        unsubscribe();
        this.streams.delete(connection);
        if (reason === 'overflow') {
          this.logger.warn(
            `tenant ${tenant.id}: a stream client fell ${MAX_QUEUED_EVENTS} events behind and was disconnected`,
          );
        }
      },
    });
    this.streams.add(connection);
    unsubscribe = this.feed.subscribe(tenant.id, (event) => {
      if (q.series !== undefined && event.series !== q.series) return;
      if (q.min_score !== undefined && event.score < q.min_score) return;
      connection.send(event.id, 'anomaly', JSON.stringify(withoutTenant(event)));
    });
    connection.open();
  }

  /** Runs before the HTTP server closes, which would otherwise wait for every open stream. */
  onModuleDestroy(): void {
    for (const connection of this.streams) connection.close();
  }
}

/** The stream belongs to one tenant, named by the key: its events do not repeat it. */
function withoutTenant(event: AnomalyEvent): Omit<AnomalyEvent, 'tenant_id'> {
  const { tenant_id: _tenant, ...rest } = event;
  return rest;
}
