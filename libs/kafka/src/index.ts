export {
  DEFAULT_KAFKA_VERSION,
  KafkaBrokerStartError,
  isProcessAlive,
  removeAbandonedBrokerDirs,
  startKafkaBroker,
  type KafkaBroker,
  type KafkaBrokerOptions,
} from './kafka-broker';
