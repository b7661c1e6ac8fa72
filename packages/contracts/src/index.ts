export * from './api';
export * from './credential-key';
export * from './errors';
export * from './integration';
export * from './kinds';
export * from './store-file';
export * from './text';
export * from './wizard';
