# One image for every Seismo process: SEISMO_ROLE (all, api, engine) and the other SEISMO_*
# variables decide what a container runs. docker-compose.yml builds it.
FROM node:20-slim AS build
WORKDIR /app
# `npm ci` runs the `prepare` script, which builds: the whole source must be here first.
COPY . .
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    SEISMO_HOST=0.0.0.0 \
    SEISMO_PORT=8080 \
    SEISMO_DATA_DIR=/var/lib/seismo
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The migrator finds its files by walking up from dist/ to deploy/clickhouse/migrations.
COPY --from=build /app/deploy/clickhouse/migrations ./deploy/clickhouse/migrations
# The data directory: the generated admin token, and embedded ClickHouse when no SEISMO_CLICKHOUSE_URL.
RUN mkdir -p /var/lib/seismo && chown node:node /var/lib/seismo
VOLUME /var/lib/seismo
USER node
EXPOSE 8080
CMD ["node", "bin/seismo.js", "serve"]
