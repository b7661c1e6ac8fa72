export { bootstrap, importOnFirstStart, FIRST_START_ACTOR, type BootLog, type Runtime } from './bootstrap';
export { loadKeyring, type KeyringInfo } from './keyring';
export { assertProductionReady, productionProblems } from './production';
export * from './db-store';
