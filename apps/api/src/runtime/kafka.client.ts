import { Logger } from '@nestjs/common';
import { type SeismoConfig } from '@seismo/config';
import { Kafka, type KafkaConfig, type LogEntry, logLevel } from 'kafkajs';

/**
 * kafkajs logs every retried request and rebalance step at INFO, and the expected errors of
 * a group's first join at ERROR: Seismo's `info` shows only its warnings, and each level is
 * one step quieter than Seismo's own.
 */
const KAFKAJS_LEVEL: Record<SeismoConfig['logLevel'], logLevel> = {
  fatal: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.WARN,
  debug: logLevel.INFO,
  trace: logLevel.DEBUG,
};

/** A kafkajs client for SEISMO_KAFKA_BROKERS whose log lines go through Nest's logger. */
export function createKafkaClient(
  config: SeismoConfig,
  overrides: Omit<KafkaConfig, 'brokers' | 'logLevel' | 'logCreator'> = {},
): Kafka {
  if (!config.kafkaBrokers) throw new Error('a Kafka client needs SEISMO_KAFKA_BROKERS');
  const logger = new Logger('kafkajs');
  const level = KAFKAJS_LEVEL[config.logLevel];
  return new Kafka({
    clientId: 'seismo',
    brokers: [...config.kafkaBrokers],
    ...overrides,
    logLevel: level,
    logCreator: () => (entry: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...details } = entry.log;
      const line = `${entry.namespace}: ${message}${Object.keys(details).length > 0 ? ` ${JSON.stringify(details)}` : ''}`;
      // Connection logs each error answer of a request as ERROR, also those its caller retries
      // (a group coordinator still loading): what retries cannot fix reaches Seismo as an error.
      if (entry.namespace === 'Connection' && entry.level <= logLevel.WARN) {
        if (level >= logLevel.INFO) logger.debug(line);
      } else if (entry.level <= logLevel.ERROR) logger.error(line);
      else if (entry.level === logLevel.WARN) logger.warn(line);
      else if (entry.level === logLevel.INFO) logger.log(line);
      else logger.debug(line);
    },
  });
}
