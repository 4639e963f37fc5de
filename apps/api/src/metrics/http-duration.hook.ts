import { type FastifyInstance } from 'fastify';
import { type SeismoMetrics } from './seismo.metrics';

/** The route label of requests no route matched: raw URLs would make one time series each. */
const UNMATCHED = 'unmatched';

/**
 * Times every request, at the Fastify level rather than in a Nest interceptor: requests a
 * guard refuses (401), bodies the parser refuses (400, 413) and unknown paths (404) never
 * reach an interceptor, and they are exactly the answers an operator wants to see.
 */
export function observeHttpDurations(fastify: FastifyInstance, metrics: SeismoMetrics): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED,
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
}
