export * from './partitioner';
export * from './point-batch';
export * from './point-batch.codec';
