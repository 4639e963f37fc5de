import { setTimeout as sleep } from 'node:timers/promises';
import { type SeriesBatch, SeriesCsvReader } from '@seismo/series-csv';
import { openInput } from './input.source';
import { type PointBody, type PointsClient } from './points.client';
import { ReplayTimeline } from './replay.timeline';

export interface ReplayOptions {
  /** A `timestamp,value` CSV file; read twice, so not standard input. */
  readonly path: string;
  readonly series: string;
  /** Times faster than recorded; `Infinity`: as fast as the server takes the points. */
  readonly speed: number;
  /** Points per request at most. */
  readonly batchSize: number;
  readonly client: PointsClient;
  /** Where progress and refused points are told, a line at a time (stderr). */
  readonly report: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface ReplaySummary {
  readonly points: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Timestamps sent for the first and last points (epoch ms); NaN for an empty file. */
  readonly from: number;
  readonly to: number;
}

/** The server's window for late points; older ones are refused. */
const SERVER_WINDOW_MS = 7 * 86_400_000;
/** Refused points shown one by one; past this only counted, so a wholly wrong file does not flood the terminal. */
const REFUSALS_SHOWN = 20;
const PROGRESS_EVERY_MS = 2_000;

/**
 * Replays a series CSV to a Seismo server as a live stream (see `ReplayTimeline` for
 * where the points land in time). The file is read twice, each time streaming: first
 * for its time span, which also checks every row, so a bad line stops the replay before
 * anything is sent, with the file and line named; then to send the points, in file
 * order, in batches of at most `batchSize`, each sent once its points are due.
 */
export class CsvReplayer {
  private sent = 0;
  private accepted = 0;
  private rejected = 0;
  private lastProgress = 0;

  constructor(private readonly options: ReplayOptions) {}

  async run(): Promise<ReplaySummary> {
    const { path, speed, report } = this.options;
    const span = await timeSpan(path);
    if (span.rows === 0) return { points: 0, accepted: 0, rejected: 0, from: NaN, to: NaN };
    const timeline = new ReplayTimeline(span.first, span.last, speed, Date.now());
    const oldest = (span.last - span.first) * (1 - 1 / speed);
    if (oldest > SERVER_WINDOW_MS) {
      report(
        `seismo: replay: ${path} spans ${days(span.last - span.first)} days; at this speed its first ` +
          `${days(oldest - SERVER_WINDOW_MS)} days are more than 7 days old when sent, which the server refuses`,
      );
    }
    await this.send(timeline);
    this.progress(true);
    return {
      points: this.sent,
      accepted: this.accepted,
      rejected: this.rejected,
      from: timeline.timestampOf(span.first),
      to: timeline.timestampOf(span.last),
    };
  }

  private async send(timeline: ReplayTimeline): Promise<void> {
    const { path, series, batchSize, signal } = this.options;
    const points: PointBody[] = [];
    const lines: number[] = [];
    for await (const batch of readCsv(path)) {
      for (let i = 0; i < batch.length; i++) {
        const due = timeline.dueAt(batch.times[i]);
        if (due > Date.now()) {
          // Points already due go out now rather than wait for this one.
          if (points.length > 0) await this.flush(points, lines);
          await pause(due - Date.now(), signal);
        }
        points.push({ series, ts: timeline.timestampOf(batch.times[i]), value: batch.values[i] });
        lines.push(batch.lines[i]);
        if (points.length >= batchSize) await this.flush(points, lines);
      }
    }
    if (points.length > 0) await this.flush(points, lines);
  }

  /** Sends `points` (their CSV lines in `lines`), reports what was refused, and empties both. */
  private async flush(points: PointBody[], lines: number[]): Promise<void> {
    const { client, signal, path, report } = this.options;
    let answer;
    try {
      answer = await client.send(points, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
    this.sent += points.length;
    this.accepted += answer.accepted;
    for (const { index, error } of answer.rejected) {
      this.rejected++;
      if (this.rejected <= REFUSALS_SHOWN)
        report(`seismo: replay: ${path}:${lines[index]}: refused: ${error}`);
      else if (this.rejected === REFUSALS_SHOWN + 1)
        report('seismo: replay: more points refused; counting them only');
    }
    points.length = 0;
    lines.length = 0;
    this.progress(false);
  }

  private progress(final: boolean): void {
    const now = Date.now();
    if (!final && now - this.lastProgress < PROGRESS_EVERY_MS) return;
    this.lastProgress = now;
    this.options.report(
      `seismo: replay: ${this.sent} points sent, ${this.accepted} accepted, ${this.rejected} refused${final ? ', done' : ''}`,
    );
  }
}

/** The rows of a series CSV, batch by batch; a batch is valid until the next is asked for. */
async function* readCsv(path: string): AsyncGenerator<SeriesBatch> {
  const input = await openInput(path);
  const reader = new SeriesCsvReader(input.name);
  try {
    for await (const chunk of input.stream) yield await reader.push(chunk as Buffer);
    yield await reader.end();
  } finally {
    input.stream.destroy();
  }
}

/** Earliest and latest timestamps: rows need not be in time order. */
async function timeSpan(path: string): Promise<{ first: number; last: number; rows: number }> {
  let first = Infinity;
  let last = -Infinity;
  let rows = 0;
  for await (const batch of readCsv(path)) {
    for (let i = 0; i < batch.length; i++) {
      first = Math.min(first, batch.times[i]);
      last = Math.max(last, batch.times[i]);
    }
    rows += batch.length;
  }
  return { first, last, rows };
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    // timers/promises rejects with its own AbortError; the caller wants the reason it aborted with.
    throw signal?.aborted ? signal.reason : error;
  }
}

function days(ms: number): string {
  return (ms / 86_400_000).toFixed(1);
}
