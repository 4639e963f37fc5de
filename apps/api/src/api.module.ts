import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuditController } from './audit/audit.controller';
import { AdminGuard } from './auth/admin.guard';
import { TenantGuard } from './auth/tenant.guard';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { HealthController } from './health/health.controller';
import { INGEST_THREADS, IngestService } from './ingest/ingest.service';
import { KeysController } from './keys/keys.controller';
import { MembersController } from './members/members.controller';
import { PointsController } from './ingest/points.controller';
import { MetricsController } from './metrics/metrics.controller';
import { DocsController } from './openapi/docs.controller';
import { AnomaliesController } from './query/anomalies.controller';
import { SeriesController } from './query/series.controller';
import { SeismoRuntime } from './runtime/seismo.runtime';
import { AnomalyFeed } from './stream/anomaly.feed';
import { AnomalyStreamController } from './stream/anomaly-stream.controller';
import { TenantsController } from './tenants/tenants.controller';
import { UsageController } from './usage/usage.controller';
import { SilencesController } from './subscriptions/silences.controller';
import { DeliveriesController } from './deliveries/deliveries.controller';
import { FeedbackController } from './feedback/feedback.controller';
import { ChartLinkController } from './charts/chart-link.controller';
import { FeedbackLinkController } from './feedback/feedback-link.controller';
import { SubscriptionsController } from './subscriptions/subscriptions.controller';

/**
 * The HTTP API over a running SeismoRuntime (storage, tenants, queue, engine). An engine-only
 * process (SEISMO_ROLE=engine) serves what operations need of it and nothing else.
 */
@Module({})
export class ApiModule {
  /** `ingestThreads`: the decoding threads of the ingest routes (SEISMO_INGEST_THREADS). */
  static over(runtime: SeismoRuntime, ingestThreads = 0): DynamicModule {
    const operations = [HealthController, MetricsController];
    const providers = [
      { provide: SeismoRuntime, useValue: runtime },
      { provide: APP_FILTER, useClass: ApiExceptionFilter },
    ];
    if (runtime.role === 'engine') return { module: ApiModule, controllers: operations, providers };
    return {
      module: ApiModule,
      controllers: [
        ...operations,
        DocsController,
        TenantsController,
        PointsController,
        AnomaliesController,
        AnomalyStreamController,
        SeriesController,
        MembersController,
        KeysController,
        AuditController,
        UsageController,
        SubscriptionsController,
        SilencesController,
        DeliveriesController,
        FeedbackController,
        FeedbackLinkController,
        ChartLinkController,
      ],
      providers: [
        ...providers,
        { provide: AnomalyFeed, useValue: runtime.feed },
        { provide: INGEST_THREADS, useValue: ingestThreads },
        IngestService,
        TenantGuard,
        AdminGuard,
      ],
    };
  }
}
