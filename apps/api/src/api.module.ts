import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AdminGuard } from './auth/admin.guard';
import { TenantGuard } from './auth/tenant.guard';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { HealthController } from './health/health.controller';
import { IngestService } from './ingest/ingest.service';
import { PointsController } from './ingest/points.controller';
import { MetricsController } from './metrics/metrics.controller';
import { DocsController } from './openapi/docs.controller';
import { AnomaliesController } from './query/anomalies.controller';
import { SeriesController } from './query/series.controller';
import { SeismoRuntime } from './runtime/seismo.runtime';
import { AnomalyFeed } from './stream/anomaly.feed';
import { AnomalyStreamController } from './stream/anomaly-stream.controller';
import { TenantsController } from './tenants/tenants.controller';

/** The HTTP API over a running SeismoRuntime (storage, tenants, queue, engine). */
@Module({})
export class ApiModule {
  static over(runtime: SeismoRuntime): DynamicModule {
    return {
      module: ApiModule,
      controllers: [
        HealthController,
        MetricsController,
        DocsController,
        TenantsController,
        PointsController,
        AnomaliesController,
        AnomalyStreamController,
        SeriesController,
      ],
      providers: [
        { provide: SeismoRuntime, useValue: runtime },
        { provide: AnomalyFeed, useValue: runtime.feed },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        IngestService,
        TenantGuard,
        AdminGuard,
      ],
    };
  }
}
