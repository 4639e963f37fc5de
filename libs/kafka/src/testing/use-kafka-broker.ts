import { randomBytes } from 'node:crypto';
import { startKafkaBroker, type KafkaBroker, type KafkaBrokerOptions } from '../kafka-broker';

/**
 * Jest hooks' timeout for starting a broker. The first start of a version also builds its jars
 * (deploy/kafka/build.sh: a download and one training start, about a minute here); later starts
 * take seconds.
 */
export const KAFKA_BROKER_HOOK_TIMEOUT_MS = 5 * 60_000;

/**
 * One broker per test file: starts it in beforeAll, stops it in afterAll, and returns a getter for
 * use inside tests and hooks. Tests in the file share it, so each should use its own topics and
 * groups (randomTopicName) rather than clean up after itself. Call it at the top of a describe
 * block or of the file.
 *
 *   const kafka = useKafkaBroker();
 *   it('...', async () => { const client = new Kafka({ brokers: kafka().brokers }); ... });
 */
export function useKafkaBroker(options: KafkaBrokerOptions = {}): () => KafkaBroker {
  let broker: KafkaBroker | undefined;
  beforeAll(async () => {
    broker = await startKafkaBroker(options);
  }, KAFKA_BROKER_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await broker?.stop();
  }, KAFKA_BROKER_HOOK_TIMEOUT_MS);
  return () => {
    if (!broker)
      throw new Error('the Kafka broker is not started: use it inside tests or hooks, not at load');
    return broker;
  };
}

/** A topic (or group) name no other test will pick: `prefix.` and 12 random hex digits. */
export function randomTopicName(prefix = 'test'): string {
  return `${prefix}.${randomBytes(6).toString('hex')}`;
}
