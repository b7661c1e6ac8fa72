export * from './sqlite';
export * as schema from './schema';
export * from './repo/integrations';
export * from './repo/audit';
export * from './repo/wizard';
export * from './repo/signing-keys';
export * from './crypto';
export * from './clock';
export * from './secrets';
