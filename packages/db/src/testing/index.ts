export * from './postgres';
export * from './tmpfs';
