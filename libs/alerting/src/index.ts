export * from './channel';
export * from './notification';
