import { type SeismoConfig } from '@seismo/config';
import { createApiApp } from './api.app';

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the embedded server: the API (and, as it lands, the engine) in this one process. */
export async function serve(config: SeismoConfig): Promise<RunningServer> {
  const app = await createApiApp(config);
  await app.listen({ port: config.port, host: config.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
