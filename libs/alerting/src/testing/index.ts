export * from './memory-delivery.store';
export * from './memory-incident.store';
