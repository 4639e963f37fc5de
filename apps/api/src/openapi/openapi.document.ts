import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { SEISMO_VERSION } from '@seismo/config';
import { ADMIN_AUTH, TENANT_AUTH } from './openapi.decorators';
import { SHARED_SCHEMAS } from './api.schemas';

/** Where the public contract says the document is. */
export const OPENAPI_JSON_PATH = '/openapi.json';

/**
 * Serves the contract the routes declare at /openapi.json (DocsController shows it at
 * /docs). Built from the controllers' decorators once, at start, so it cannot drift from
 * the routes the app actually mounts.
 */
export function serveOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Seismo')
    .setDescription(
      'Streaming anomaly detection: push metrics, every point is scored as it arrives, query what was found. ' +
        'Tenant routes take `Authorization: Bearer <api key>` and only ever see that tenant; each needs one scope ' +
        "(`x-seismo-scope`: ingest, read or admin), which a member's key has only as far as the member's role " +
        'allows (member: ingest and read; admin: all). Admin routes take the admin token. /health and /metrics ' +
        'need no credentials and expose no tenant data; /v1/feedback/{token}, the feedback links of alerts, ' +
        'takes no credentials either: its signed token is one.',
    )
    .setVersion(SEISMO_VERSION)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'SEISMO_ADMIN_TOKEN, or the token kept in the data directory',
      },
      ADMIN_AUTH,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: "a tenant's API key, as POST /v1/tenants or POST /v1/keys returned it",
      },
      TENANT_AUTH,
    )
    .build();
  config.components = { ...config.components, schemas: SHARED_SCHEMAS };
  const document = SwaggerModule.createDocument(app, config);
  // The JSON only: the UI SwaggerModule would mount needs @fastify/static (see DocsController).
  SwaggerModule.setup('docs', app, document, {
    ui: false,
    raw: ['json'],
    jsonDocumentUrl: OPENAPI_JSON_PATH,
  });
}
