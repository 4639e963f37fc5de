import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { OPENAPI_JSON_PATH } from './openapi.document';

/** Swagger UI's own build, as @nestjs/swagger depends on it; its package.json only, not the 1.4 MB bundle. */
const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));

/** The only files /docs serves, by name: no path from the URL ever reaches the file system. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Kept out of the page so a Content-Security-Policy without 'unsafe-inline' can serve it. */
const INIT_JS = `window.onload = () => {
  window.ui = SwaggerUIBundle({
    url: '${OPENAPI_JSON_PATH}',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Seismo API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * Swagger UI at /docs, reading /openapi.json. Served by these few routes rather than by
 * SwaggerModule's UI, which mounts @fastify/static: that plugin requires an ES-module-only
 * dependency (content-disposition 3) that Jest's CommonJS runtime cannot load, so every
 * in-process e2e spec would fail to boot. A fixed list of files also exposes no directory.
 */
@ApiExcludeController()
@Controller('docs')
export class DocsController {
  @Get()
  page(@Res() reply: FastifyReply): void {
    void reply.type('text/html; charset=utf-8').send(PAGE);
  }

  @Get('init.js')
  init(@Res() reply: FastifyReply): void {
    void reply.type('application/javascript; charset=utf-8').send(INIT_JS);
  }

  @Get(':asset')
  asset(@Param('asset') name: string, @Res() reply: FastifyReply): void {
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) throw new NotFoundException(`no such file under /docs: ${name}`);
    void reply
      .type(type)
      .header('cache-control', 'public, max-age=86400')
      .send(createReadStream(join(SWAGGER_UI_DIR, name)));
  }
}
