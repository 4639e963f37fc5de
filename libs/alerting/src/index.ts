export * from './channel';
export * from './notification';
export * from './alerting.exception';
export * from './subscriptions/glob';
export * from './subscriptions/subscription';
export * from './subscriptions/subscription.directory';
export * from './subscriptions/subscription.repository';
export * from './subscriptions/subscription.validator';
