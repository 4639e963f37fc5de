import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type SeismoConfig } from '@seismo/config';
import { ApiModule } from './api.module';

/**
 * Builds the HTTP API (not yet listening), so `seismo serve` and the e2e tests boot the same app.
 * Shutdown belongs to the caller (`seismo serve` closes on SIGINT/SIGTERM and exits 0): Nest's own
 * signal hooks would re-raise the signal and end the process by it.
 */
export async function createApiApp(config: SeismoConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, new FastifyAdapter(), {
    logger: nestLogLevels(config.logLevel),
  });
  return app;
}

function nestLogLevels(
  level: SeismoConfig['logLevel'],
): Array<'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose'> {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const cut = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 }[level];
  return order.slice(0, cut + 1);
}
