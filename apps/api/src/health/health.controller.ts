import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { SEISMO_VERSION, type SeismoRole } from '@seismo/config';
import { DEFAULT_DETECTOR, detectorKinds } from '@seismo/detectors';
import { type FastifyReply } from 'fastify';
import { HEALTH } from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { type HealthChecks } from './health.probe';

const startedAt = Date.now();

export interface HealthReport {
  /** `unavailable` (with HTTP 503) when a check is down; `failing` names which. */
  status: 'ok' | 'unavailable';
  version: string;
  uptime_s: number;
  role: SeismoRole;
  mode: 'embedded' | 'kafka';
  detector: string;
  detectors: string[];
  checks: HealthChecks;
  failing: ReadonlyArray<keyof HealthChecks>;
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Get()
  @ApiOperation({
    summary: 'Health of ClickHouse, Kafka and the engine, version and detectors; no credentials',
    description:
      'Answers within about two seconds whatever is down; checks are shared by the callers of one second.',
  })
  @ApiOkResponse({ description: 'every check is up', schema: HEALTH })
  @ApiServiceUnavailableResponse({ description: 'a check is down: `failing` names it', schema: HEALTH })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const { checks, failing } = await this.runtime.health.check();
    if (failing.length > 0) void reply.status(503);
    return {
      status: failing.length > 0 ? 'unavailable' : 'ok',
      version: SEISMO_VERSION,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      role: this.runtime.role,
      mode: this.runtime.mode,
      detector: DEFAULT_DETECTOR,
      detectors: detectorKinds(),
      checks,
      failing,
    };
  }
}
