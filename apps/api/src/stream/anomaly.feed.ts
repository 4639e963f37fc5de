import { Logger, type LoggerService } from '@nestjs/common';
import { type AnomalyEvent } from '@seismo/engine/pipeline/anomaly-event';
import { type TenantId } from '@seismo/storage';

export type AnomalyListener = (event: AnomalyEvent) => void;

export interface AnomalyFeedOptions {
  readonly logger?: Pick<LoggerService, 'error'>;
}

/**
 * The live anomalies of this process, per tenant: what the dashboard's stream shows. Its
 * sources are the engine's sink (embedded: FeedSink, after the write is durable) or the
 * `seismo.anomalies` topic (Kafka: AnomalyTopicConsumer). It keeps no history: a listener
 * gets the events published while it is subscribed, nothing from before.
 *
 * An event reaches the listeners of its own tenant only; subscribing takes a TenantId, which
 * comes from the caller's credentials. A sink or a consumer may publish one anomaly twice
 * (a batch replayed after a crash); events carry the anomaly's deterministic id, so a
 * listener can drop repeats.
 */
export class AnomalyFeed {
  private readonly listeners = new Map<string, Set<AnomalyListener>>();
  /** Listeners of every tenant's events: the process's own services (alerting), never a client. */
  private readonly everyTenant = new Set<AnomalyListener>();
  private readonly logger: Pick<LoggerService, 'error'>;

  constructor(options: AnomalyFeedOptions = {}) {
    this.logger = options.logger ?? new Logger(AnomalyFeed.name);
  }

  /** Calls `listener` with each event of `tenant` from now on; returns the unsubscribe, safe to call twice. */
  subscribe(tenant: TenantId, listener: AnomalyListener): () => void {
    let set = this.listeners.get(tenant);
    if (!set) {
      set = new Set();
      this.listeners.set(tenant, set);
    }
    // A listener subscribed twice is two subscriptions; a wrapper keeps them apart.
    const entry: AnomalyListener = (event) => listener(event);
    set.add(entry);
    return () => {
      const current = this.listeners.get(tenant);
      if (!current?.delete(entry)) return;
      if (current.size === 0) this.listeners.delete(tenant);
    };
  }

  /**
   * Calls `listener` with the events of every tenant: for a service of this process that
   * acts on all of them (alerting). Never for a client: a client's stream takes its tenant
   * from its credentials, through `subscribe`. Returns the unsubscribe.
   */
  subscribeAll(listener: AnomalyListener): () => void {
    const entry: AnomalyListener = (event) => listener(event);
    this.everyTenant.add(entry);
    return () => void this.everyTenant.delete(entry);
  }

  /** Whether anyone listens to `tenant`: publishers skip building events nobody reads. */
  watched(tenant: string): boolean {
    return this.everyTenant.size > 0 || this.listeners.has(tenant);
  }

  /**
   * Hands `event` to the listeners of its tenant. A listener that throws is logged and the
   * others still get the event: publishers are the engine's sink and a Kafka consumer, which
   * must not fail (and retry a durable batch) because of one dashboard connection.
   */
  publish(event: AnomalyEvent): void {
    const set = this.listeners.get(event.tenant_id);
    for (const listener of [...this.everyTenant, ...(set ?? [])]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error(
          `a listener of tenant ${event.tenant_id} failed on anomaly ${event.id}: ${error instanceof Error ? error.message : String(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
      }
    }
  }
}
