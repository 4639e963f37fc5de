import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { drainPending } from 'chdb';
import { type ChdbConnection, createChdbConnection } from 'chdb/connection';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type BatchWriter } from './batch.writer';
import { ChdbBatchWriter } from './chdb-batch.writer';
import { ExecBatchWriter } from './exec-batch.writer';
import { describeCause, StorageException, StorageExceptionCode } from './storage.exception';

type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection'];

export interface ClickHouseOptions {
  /**
   * A ClickHouse server's HTTP(S) URL, `http[s]://[user:password@]host:port[/database]`
   * (SEISMO_CLICKHOUSE_URL). Absent: the embedded engine in `dataDir`.
   */
  readonly url?: string;
  /** Where the embedded engine keeps its files; created if missing, unused with a `url`. */
  readonly dataDir: string;
}

/** What repositories use of a connection: the client for reads, the writer for batches. */
export interface ClickHouseAccess {
  readonly client: ClickHouseClient;
  readonly writer: BatchWriter;
}

/**
 * The one ClickHouse connection of a process: an in-process chdb engine by default, a
 * server over HTTP when a URL is given. Callers get the same `@clickhouse/client` API
 * either way, and repositories do not know which one they talk to.
 *
 * The embedded engine binds one data directory per process: open one connection at
 * startup, pass it around, close it at shutdown. Inside, it holds three sessions of that
 * directory, as a chdb session runs one statement at a time (measured: two 200-ms queries
 * on one session take 430 ms, on two sessions 226 ms): the client's (reads, commands), so
 * that a dashboard query or a triage read never waits behind the engine's writes nor
 * they behind it, and the writer's two (ChdbBatchWriter: points apart from the small
 * rows). Closing waits until the engine has let go of the directory, so another one (a
 * test's) can be opened right after.
 */
export class ClickHouseConnection implements ClickHouseAccess {
  private constructor(
    readonly client: ClickHouseClient,
    readonly writer: BatchWriter,
    readonly mode: 'embedded' | 'server',
    /** The data directory, or the URL with its password masked: for logs and errors. */
    readonly target: string,
    /** The embedded sessions the writer uses, closed with the connection. */
    private readonly writeSessions: readonly ChdbConnection[] = [],
  ) {}

  static async open(options: ClickHouseOptions): Promise<ClickHouseConnection> {
    const connection = options.url
      ? ClickHouseConnection.server(options.url)
      : ClickHouseConnection.embedded(options.dataDir);
    // A SELECT rather than the /ping endpoint: it also proves the credentials and the
    // database, so a wrong URL fails here rather than at the first write.
    const ping = await connection.client.ping({ select: true });
    if (!ping.success) {
      await connection.close();
      throw new StorageException(
        StorageExceptionCode.CONNECTION_FAILED,
        `ClickHouse at ${connection.target} did not answer: ${describeCause(ping.error)}`,
        { cause: ping.error },
      );
    }
    return connection;
  }

  async close(): Promise<void> {
    await this.client.close();
    await Promise.all(this.writeSessions.map((session) => session.close()));
    // close() returns before the engine has released the directory if anything was still
    // running; until drainPending settles, opening another directory would be refused.
    if (this.mode === 'embedded') await drainPending();
    if (this.writer instanceof ChdbBatchWriter) this.writer.close();
  }

  private static embedded(dataDir: string): ClickHouseConnection {
    const path = resolve(dataDir);
    const sessions: ChdbConnection[] = [];
    try {
      mkdirSync(path, { recursive: true });
      // Sessions of one directory share its engine (the directory is bound once per
      // process); each runs its own statements. Writes see reads' rows and reads writes'.
      for (let i = 0; i < 3; i++) sessions.push(createChdbConnection({ path }));
      const [reads, binary, rows] = sessions;
      // chdb types its connection against @clickhouse/client-common 1.23.0, whose settings
      // list differs from the one @clickhouse/client 1.23.1 bundles: the same interface at
      // run time, two declarations to the type checker.
      const client = createClient({ connection: reads as unknown as ClientConnection });
      const writer = new ChdbBatchWriter({ binary: binary.chdb, rows: rows.chdb });
      return new ClickHouseConnection(client, writer, 'embedded', path, [binary, rows]);
    } catch (cause) {
      // Sessions left open would keep the directory bound: no other could be opened after.
      for (const session of sessions) void session.close();
      throw new StorageException(
        StorageExceptionCode.CONNECTION_FAILED,
        `cannot open the embedded ClickHouse in ${path}: ${describeCause(cause)}`,
        { cause },
      );
    }
  }

  private static server(url: string): ClickHouseConnection {
    const target = maskPassword(url);
    try {
      const client = createClient({ url });
      return new ClickHouseConnection(client, new ExecBatchWriter(client), 'server', target);
    } catch (cause) {
      throw new StorageException(
        StorageExceptionCode.CONNECTION_FAILED,
        `invalid ClickHouse URL ${target}: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
}

function maskPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
