// Audit recovery lives with the one audit writer in @alphaswarm/api; start-up and serve run it from here.
export { RECOVERY_INTERVAL_MS, recoverAudit, startAuditRecovery } from '@alphaswarm/api';
export { type BootLog, type Bootstrapped, bootstrap, FIRST_START_ACTOR, importOnFirstStart } from './bootstrap';
export { type KeyringInfo, loadKeyring } from './keyring';
export { assertProductionReady, productionProblems, productionWarnings } from './production';
export { readiness } from './readiness';
