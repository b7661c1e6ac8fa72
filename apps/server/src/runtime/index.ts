export { type BootLog, type Bootstrapped, bootstrap, FIRST_START_ACTOR, importOnFirstStart } from './bootstrap';
export { type KeyringInfo, loadKeyring } from './keyring';
export { assertProductionReady, productionProblems, productionWarnings } from './production';
