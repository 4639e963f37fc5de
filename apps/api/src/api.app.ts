import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type SeismoConfig } from '@seismo/config';
import { DEFAULT_INGEST_LIMITS } from '@seismo/ingest';
import { errorCodes } from 'fastify';
import { ApiModule } from './api.module';
import { FEEDBACK_LINK_ROUTE } from './feedback/feedback-link.controller';
import { observeHttpDurations } from './metrics/http-duration.hook';
import { serveOpenApi } from './openapi/openapi.document';
import { type SeismoRuntime } from './runtime/seismo.runtime';

/** Bodies the ingest decoders read as bytes: Influx line protocol and Prometheus remote_write. */
const RAW_CONTENT_TYPES = ['text/plain', 'application/x-protobuf', 'application/octet-stream'];

/** The route whose JSON body goes to its decoder as bytes. */
const JSON_INGEST_ROUTE = '/v1/points';

/**
 * The longest path parameter routed (Fastify's default is 100): a feedback link's token is
 * over 200 characters, and a chart link's names a series key of up to 4096 characters
 * (SignedTokens refuses a token beyond 8192).
 */
const MAX_PARAM_LENGTH = 8192;

/**
 * Builds the HTTP API over a runtime (not yet listening), so `seismo serve` and the e2e
 * tests boot the same app. Shutdown belongs to the caller (`seismo serve` closes on
 * SIGINT/SIGTERM and exits 0): Nest's own signal hooks would re-raise the signal and end
 * the process by it.
 */
export async function createApiApp(
  config: SeismoConfig,
  runtime: SeismoRuntime,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: DEFAULT_INGEST_LIMITS.maxBodyBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  });
  const fastify = adapter.getInstance();
  fastify.addContentTypeParser(RAW_CONTENT_TYPES, { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  // JSON as fastify parses it (prototype poisoning refused), except for the JSON ingest
  // route, which takes its bytes: its decoder parses them itself and refuses a "__proto__"
  // label on its own, and skipping secure-json-parse's scans of every body is a tenth of
  // the cost of ingesting a point.
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if (request.routeOptions.url === JSON_INGEST_ROUTE) done(null, body);
    else json(request, (body as Buffer).toString('utf8'), done);
  });
  // A feedback link's Confirm button is an HTML form, posted as a form with no fields. Its
  // body says nothing (the token does), so it is not even read; any other route refuses
  // forms as it did before there was a parser for them.
  fastify.addContentTypeParser('application/x-www-form-urlencoded', (request, _payload, done) => {
    if (request.routeOptions.url === FEEDBACK_LINK_ROUTE) done(null, undefined);
    else done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
  });
  observeHttpDurations(fastify, runtime.metrics);
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule.over(runtime, config.ingestThreads),
    adapter,
    {
      logger: nestLogLevels(config.logLevel),
      // The parsers above are the app's; Nest's own would replace the JSON one.
      bodyParser: false,
    },
  );
  // An engine-only process has no public routes to document.
  if (runtime.role !== 'engine') serveOpenApi(app);
  return app;
}

function nestLogLevels(
  level: SeismoConfig['logLevel'],
): Array<'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose'> {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const cut = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 }[level];
  return order.slice(0, cut + 1);
}
