export * from './descriptors';
export * from './http';
export * from './registry';
export * from './types';
