export * from './stripe-mock';
export * from './stripe-proxy';
