export { type BootLog, type Bootstrapped, bootstrap, FIRST_START_ACTOR, importOnFirstStart } from './bootstrap';
export { type KeyringInfo, loadKeyring } from './keyring';
export { assertProductionReady, productionProblems, productionWarnings } from './production';
export { readiness } from './readiness';
export { RECOVERY_INTERVAL_MS, recoverAudit, startAuditRecovery } from './recovery';
