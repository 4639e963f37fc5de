import { type SeismoConfig } from '@seismo/config';
import { createApiApp } from './api.app';
import { type RuntimeOptions, SeismoRuntime } from './runtime/seismo.runtime';

export interface RunningServer {
  readonly url: string;
  /** The admin token, when this start generated it (to be shown once); undefined otherwise. */
  readonly newAdminToken: string | undefined;
  /** What runs behind the server, for tests and embedding (its storage, its directory). */
  readonly runtime: SeismoRuntime;
  close(): Promise<void>;
}

/**
 * Starts what SEISMO_ROLE asks of this process, with its HTTP server: embedded, storage,
 * tenants, engine and API together; in Kafka mode the API, the engine (whose HTTP server
 * has only /health and /metrics), or both.
 */
export async function serve(config: SeismoConfig, options: RuntimeOptions = {}): Promise<RunningServer> {
  const runtime = await SeismoRuntime.start(config, options);
  try {
    const app = await createApiApp(config, runtime);
    await app.listen({ port: config.port, host: config.host });
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    return {
      url: `http://${host}:${port}`,
      newAdminToken: runtime.generatedAdminToken ? runtime.adminToken : undefined,
      runtime,
      close: async () => {
        await app.close();
        await runtime.close();
      },
    };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
