import { type KafkaBroker, startKafkaBroker } from '@seismo/kafka';

export { type KafkaBroker };

/**
 * A real single-node Kafka for the pipeline benchmarks: the test broker, with the log
 * segments production has (1 GiB) rather than the tests' 8 MiB, so that a run of millions
 * of points does not time segment rolls.
 */
export function startBenchBroker(): Promise<KafkaBroker> {
  return startKafkaBroker({
    heapMb: 1024,
    config: {
      'log.segment.bytes': 1024 * 1024 * 1024,
      'log.index.size.max.bytes': 10 * 1024 * 1024,
    },
  });
}
