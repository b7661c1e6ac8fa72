export * from './history';
export * from './links';
export * from './ports';
export * from './postgres';
export * from './tmpfs';
