export * from './admin-token';
export * from './api-key';
export * from './tenancy.exception';
export * from './tenant';
export * from './tenant.directory';
export * from './tenant.repository';
export * from './tenant.validator';
