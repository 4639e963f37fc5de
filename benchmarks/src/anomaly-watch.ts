import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchClient } from './bench-client';
import { EventStreamParser } from './event-stream';

/** How often the fallback polls `GET /v1/anomalies`. */
export const POLL_INTERVAL_MS = 20;

export interface AnomalyWatchOptions {
  /** The series watched for: anomalies of others are ignored. */
  readonly watched: (series: string) => boolean;
  /** Range of the watched anomalies' timestamps, [from, to): what the fallback asks for. */
  readonly from: number;
  readonly to: number;
}

/**
 * When each watched series' first anomaly became visible to a client, on
 * `performance.now()`'s clock. Subscribes to the live stream (`GET /v1/anomalies/stream`)
 * when the server has it: an event is visible the moment it is sent. Otherwise polls
 * `GET /v1/anomalies` every POLL_INTERVAL_MS, which adds up to that much to each figure.
 */
export class AnomalyWatch {
  readonly seen = new Map<string, number>();
  private readonly stopping = new AbortController();
  private done: Promise<void> = Promise.resolve();

  private constructor(
    readonly method: 'stream' | 'poll',
    private readonly options: AnomalyWatchOptions,
  ) {}

  static async open(client: BenchClient, options: AnomalyWatchOptions): Promise<AnomalyWatch> {
    const probe = new AbortController();
    const stream = await client.anomalyStream(probe.signal);
    if (stream) {
      const watch = new AnomalyWatch('stream', options);
      watch.stopping.signal.addEventListener('abort', () => probe.abort());
      watch.done = watch.read(stream);
      // Marked handled here; close() still rethrows a failure of the stream.
      watch.done.catch(() => undefined);
      return watch;
    }
    const watch = new AnomalyWatch('poll', options);
    watch.done = watch.poll(client);
    watch.done.catch(() => undefined);
    return watch;
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await this.done;
  }

  private note(series: string, at: number): void {
    if (this.options.watched(series) && !this.seen.has(series)) this.seen.set(series, at);
  }

  private async read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const parser = new EventStreamParser();
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = performance.now();
        for (const data of parser.push(decoder.decode(value, { stream: true }))) {
          this.note((JSON.parse(data) as { series: string }).series, at);
        }
      }
    } catch (error) {
      if (!this.stopping.signal.aborted) throw error;
    }
  }

  private async poll(client: BenchClient): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const series = await client.anomalySeries(this.options.from, this.options.to);
      const at = performance.now();
      for (const name of series) this.note(name, at);
      await sleep(POLL_INTERVAL_MS);
    }
  }
}
