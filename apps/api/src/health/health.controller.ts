import { Controller, Get } from '@nestjs/common';
import { SEISMO_VERSION } from '@seismo/config';
import { DEFAULT_DETECTOR, detectorKinds } from '@seismo/detectors';

const startedAt = Date.now();

export interface HealthReport {
  status: 'ok';
  version: string;
  uptime_s: number;
  detector: string;
  detectors: string[];
}

@Controller('health')
export class HealthController {
  @Get()
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
