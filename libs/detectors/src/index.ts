export * from './detector';
export * from './errors';
export * from './point';
export * from './registry';
export { BaseDetector } from './base.detector';
export { EwmaDetector } from './ewma.detector';
export * from './codec';
