export * from './http';
export * from './types';
export * from './registry';
