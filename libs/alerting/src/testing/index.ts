export * from './memory-delivery.store';
