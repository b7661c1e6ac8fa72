// @alphaswarm/api: the tRPC API (routers, base procedures, domain services, the audit writer).
// apps/server hosts it; callers import its types (`AppRouter`, `RouterInputs`, `RouterOutputs`)
// and the typed client from `@alphaswarm/api/client`.

export {
  CHECKPOINT_ACTION,
  CHECKPOINT_ALG,
  CheckpointError,
  type PublicKey,
  readCheckpoints,
  readPublicKeys,
  type SigningKey,
  signCheckpoint,
  verifyCheckpoint,
} from './audit/checkpoint';
export {
  type Actor,
  type AuditEvent,
  type AuditSink,
  type AuditTarget,
  auditDenied,
  auditEvent,
  audited,
  auditedEvent,
  DenialThrottle,
  OutcomeBacklog,
  RECOVERY_INTERVAL_MS,
  recoverAudit,
  startAuditRecovery,
} from './audit/writer';
export {
  ALLOWED_ALGS,
  AUTH_TIME_SKEW_SECONDS,
  BearerVerifier,
  DISCOVERY_BACKOFF,
  localIssuer,
  type Principal,
  remoteIssuer,
  type TrustedIssuer,
  verifyBearer,
} from './auth/bearer';
export {
  type AdminAccess,
  adminOrgs,
  assertRequirement,
  MFA_METHODS,
  ORG_SERVICE_SCOPE_PREFIX,
  type Requirement,
  SERVICE_SCOPE,
  type ServiceBinding,
  serviceBinding,
} from './auth/requirements';
export {
  CLUSTER_SCOPE,
  type Grants,
  grantsOf,
  isAdminScope,
  ORG_ADMIN_SCOPE_PREFIX,
  parseRoleMap,
  READ_SCOPE,
  RoleMapError,
  type RoleMapping,
} from './auth/roles';
export type {
  AlertEndpoint,
  ApiConfig,
  ApiDeps,
  ApiLogger,
  ApiMetrics,
  IdentityProvider,
  IdpRequest,
  TokenVerifier,
} from './deps';
export { AppError, formatZod, toAppError, toTrpcError, trpcErrorBody, wireCode } from './errors';
export { type AppRouter, appRouter, createCaller, type RouterInputs, type RouterOutputs } from './root';
export { MAX_IMPORT_CHARS } from './routers/store/store.schema';
export {
  type Alert,
  type AwarenessDeps,
  EXPIRY_THRESHOLDS,
  emitAlert,
  type ProbeSource,
  verifyFailedAlert,
} from './services/awareness';
export { applyExpiryRule } from './services/expiry';
export {
  checkHealth,
  type ProbeDeps,
  type ProbeOutcome,
  probeAndRecord,
  type VerdictWriter,
  verdictWriter,
} from './services/health';
export {
  checkStoreFile,
  exportStoreFile,
  type ImportReport,
  importRecords,
  importStoreFile,
  rotateKey,
  type StoreDeps,
} from './services/store';
export { type Context, createContextInner, logCrash, type RequestInfo } from './trpc';
