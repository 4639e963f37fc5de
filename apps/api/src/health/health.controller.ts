import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SEISMO_VERSION } from '@seismo/config';
import { DEFAULT_DETECTOR, detectorKinds } from '@seismo/detectors';
import { HEALTH } from '../openapi/api.schemas';

const startedAt = Date.now();

export interface HealthReport {
  status: 'ok';
  version: string;
  uptime_s: number;
  detector: string;
  detectors: string[];
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  @Get()
  @ApiOperation({ summary: 'Liveness, version and detectors; no credentials' })
  @ApiOkResponse({ schema: HEALTH })
  check(): HealthReport {
    return {
      status: 'ok',
      version: SEISMO_VERSION,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      detector: DEFAULT_DETECTOR,
      detectors: detectorKinds(),
    };
  }
}
