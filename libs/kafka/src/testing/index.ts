// The launcher moved up to @seismo/kafka (`npm run stack` uses it); re-exported so tests import one place.
export {
  DEFAULT_KAFKA_VERSION,
  KafkaBrokerStartError,
  isProcessAlive,
  removeAbandonedBrokerDirs,
  startKafkaBroker,
  type KafkaBroker,
  type KafkaBrokerOptions,
} from '../kafka-broker';
export { KAFKA_BROKER_HOOK_TIMEOUT_MS, randomTopicName, useKafkaBroker } from './use-kafka-broker';
