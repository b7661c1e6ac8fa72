export * from './history';
export * from './ports';
export * from './postgres';
export * from './tmpfs';
