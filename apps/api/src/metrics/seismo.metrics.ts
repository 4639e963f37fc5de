import { type BreakerState, SKIP_REASONS, type TriageCounts } from '@seismo/llm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the LLM gauges read on each scrape: the triage scheduler. */
export interface TriageSource {
  readonly counts: TriageCounts;
  state(): BreakerState;
}

/** What the engine gauges read on each scrape: the engine's BatchProcessor. */
export interface EngineStateSource {
  seriesCount(): number;
  stateBytes(): number;
}

/** What the queue gauges read on each scrape, from whichever queue this process runs over. */
export interface QueueDepthSource {
  readonly partitions: number;
  /** Bytes of uncommitted messages a partition holds: only a queue that holds them (embedded) knows. */
  readonly pendingBytes?: (partition: number) => number;
  /**
   * Messages the engine has not taken yet, by partition (index = partition); absent in a
   * process that runs no engine. Kafka answers it over the network, so it may fail.
   */
  readonly lag?: () => Promise<readonly number[]>;
}

/**
 * Every metric `GET /metrics` exposes, in one registry per runtime: the global registry
 * would be shared by two servers in one process (the e2e tests boot several) and refuse
 * the second registration of each name.
 *
 * Labels are bounded on purpose: ingest format, route pattern (never the raw URL, which
 * carries series names), status code and partition. No tenant, series or key appears in a
 * label, so the endpoint needs no credentials: it shows aggregate counts only.
 */
export class SeismoMetrics {
  readonly registry = new Registry();

  readonly ingestedPoints = new Counter({
    name: 'seismo_ingest_points_total',
    help: 'Points received over HTTP, by format and outcome (accepted into the queue, or rejected with a reason)',
    labelNames: ['format', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly httpRequestDuration = new Histogram({
    name: 'seismo_http_request_duration_seconds',
    help: 'HTTP request duration, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly batchWriteDuration = new Histogram({
    name: 'seismo_engine_batch_write_seconds',
    help: 'Time storage took over one write of a processed engine batch (one observation per attempt, failed ones too)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly storedPoints = new Counter({
    name: 'seismo_engine_points_stored_total',
    help: 'Points scored by the engine and stored (points of zero-retention tenants are scored but not stored)',
    registers: [this.registry],
  });

  readonly anomalies = new Counter({
    name: 'seismo_engine_anomalies_total',
    help: 'Anomalies found by the engine and stored',
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'seismo_engine_dead_letters_total',
    help: 'Queue messages, or points within them, the engine refused (the reason is in the log)',
    registers: [this.registry],
  });

  /**
   * LLM triage, read at scrape time from its scheduler: jobs by outcome (done, cached, or
   * the reason they were skipped), tokens spent, the queue and the circuit breaker.
   */
  observeTriage(triage: TriageSource): void {
    new Gauge({
      name: 'seismo_llm_jobs',
      help: 'LLM triage and profiling jobs since start, by outcome (done, cached, or why they were skipped)',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      collect() {
        const counts = triage.counts;
        this.set({ outcome: 'done' }, counts.done);
        this.set({ outcome: 'cached' }, counts.cached);
        for (const reason of SKIP_REASONS) this.set({ outcome: reason }, counts[reason]);
      },
    });
    new Gauge({
      name: 'seismo_llm_tokens',
      help: 'LLM tokens spent since start, by direction',
      labelNames: ['direction'] as const,
      registers: [this.registry],
      collect() {
        this.set({ direction: 'in' }, triage.counts.tokensIn);
        this.set({ direction: 'out' }, triage.counts.tokensOut);
      },
    });
    new Gauge({
      name: 'seismo_llm_queue',
      help: 'LLM jobs waiting (queued) and being worked on (in_flight)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.set({ state: 'queued' }, triage.counts.queued);
        this.set({ state: 'in_flight' }, triage.counts.inFlight);
      },
    });
    new Gauge({
      name: 'seismo_llm_circuit_open',
      help: '1 while the LLM circuit breaker is open (calls are skipped), 0.5 half-open, 0 closed',
      registers: [this.registry],
      collect() {
        const state = triage.state();
        this.set(state === 'open' ? 1 : state === 'half_open' ? 0.5 : 0);
      },
    });
  }

  /**
   * Gauges of the engine's detector state, read at scrape time from what holds it: only
   * a process that runs an engine has them.
   */
  observeEngine(engine: EngineStateSource): void {
    new Gauge({
      name: 'seismo_engine_series',
      help: 'Series (tenant and name) whose detector state this engine holds',
      registers: [this.registry],
      collect() {
        this.set(engine.seriesCount());
      },
    });
    new Gauge({
      name: 'seismo_engine_state_bytes',
      help: 'Bytes of encoded detector state this engine holds (what a full checkpoint of it weighs)',
      registers: [this.registry],
      collect() {
        this.set(engine.stateBytes());
      },
    });
  }

  /**
   * Refusals by a tenant's limits; `reason` is a LimitReason (limits/limit.reason.ts),
   * `stage` where it happened. Points for the point and series limits, requests for
   * the request rate.
   */
  readonly limitRejections = new Counter({
    name: 'seismo_limit_rejections_total',
    help: "Input refused by a tenant's limits, by reason (requests_per_second, points_per_second, points_burst, max_series) and stage (ingest, engine)",
    labelNames: ['reason', 'stage'] as const,
    registers: [this.registry],
  });

  readonly billingEvents = new Counter({
    name: 'seismo_billing_meter_events_total',
    help:
      'Stripe meter events by outcome: delivered, duplicate (Stripe already had the identifier: delivered earlier), ' +
      "expired (the hour left Stripe's 35-day window unsent; see seismo billing reconcile), failed (an attempt that will be retried)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly billingLastRun = new Gauge({
    name: 'seismo_billing_last_success_timestamp_seconds',
    help: 'When the billing worker last completed a run (0: not yet); a stale value means Stripe or ClickHouse is failing',
    registers: [this.registry],
  });

  constructor(queue: QueueDepthSource) {
    const { pendingBytes, lag } = queue;
    if (pendingBytes) {
      new Gauge({
        name: 'seismo_queue_pending_bytes',
        help: 'Bytes of uncommitted messages in the queue between ingest and the engine, by partition',
        labelNames: ['partition'] as const,
        registers: [this.registry],
        // Read at scrape time: the log knows the figure exactly, so nothing has to keep it in step.
        collect() {
          for (let partition = 0; partition < queue.partitions; partition++) {
            this.set({ partition: String(partition) }, pendingBytes(partition));
          }
        },
      });
    }
    if (lag) {
      new Gauge({
        name: 'seismo_engine_consumer_lag_messages',
        help: 'Messages in the queue the engine has not committed yet, by partition (Kafka: high watermark minus the group offset)',
        labelNames: ['partition'] as const,
        registers: [this.registry],
        async collect() {
          // A queue that cannot answer (Kafka down) leaves the gauge empty, not stale: /health names the failure.
          this.reset();
          const byPartition = await lag().catch(() => undefined);
          byPartition?.forEach((messages, partition) => this.set({ partition: String(partition) }, messages));
        },
      });
    }
    // Process metrics (CPU, memory, GC, event-loop lag) under their usual names, unprefixed,
    // so the stock Node.js dashboards and alerts read them as they are.
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric, gauges collected now. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
