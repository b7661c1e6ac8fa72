import type {
  AccountResult,
  ChangePasswordInput,
  LoginInput,
  LoginResult,
  LogoutInput,
  LogoutResult,
  Passkey,
  PasskeyAuthInput,
  PasskeyOptionsInput,
  PasskeyOptionsResult,
  PasskeyRegisterInput,
  PasskeyRemoveInput,
  RecoveryCodesResult,
  RefreshInput,
  StepUpInput,
  TokenResult,
} from '@alphaswarm/contracts';
import type { AuditKeyRing, Database, Keyring } from '@alphaswarm/db';
import type { HttpClient, UpstreamConfig, WorkloadTokenSource } from '@alphaswarm/providers';
import type { DenialThrottle, OutcomeBacklog } from './audit/writer';
import type { Principal } from './auth/bearer';

/*
 * What the API needs from its host (apps/server builds it once at start): every handler gets
 * these from its context, never from a module global, so a test builds them without a request.
 */

export interface ApiConfig {
  /** ALPHASWARM_ENV: development, test, sandbox or production. */
  environment: string;
  /** The admin issuer's URL (ALPHASWARM_ADMIN_PUBLIC_URL). */
  publicUrl: string;
  /** The console's public origin (ALPHASWARM_ADMIN_CONSOLE_URL): hand-off links point there. */
  consoleUrl: string;
  /** Seconds an MFA stays fresh for mutations. */
  stepUpMaxAge: number;
  /**
   * `acr` values a mutation's token must carry, any of them (ALPHASWARM_ADMIN_STEP_UP_ACR, or
   * `phr` with ALPHASWARM_ADMIN_STEP_UP_REQUIRE_PHR); empty: any MFA will do.
   */
  stepUpAcr?: string[];
  /** Whether a plain `integrations:use` scope (every org) is honoured. */
  platformServiceScope: boolean;
  /** Days of probe history kept (ALPHASWARM_ADMIN_HEALTH_RETENTION_DAYS): the longest timeline there is to read. */
  healthRetentionDays: number;
  /** Where alerts are queued (each endpoint's outbox rows); none: alerts are audited only. */
  alertEndpoints?: AlertEndpoint[];
}

/** An alert destination as the API sees it: an id for its outbox rows and its event-type filter. */
export interface AlertEndpoint {
  id: string;
  accepts(type: string): boolean;
}

export interface ApiLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Turns a bearer token into a principal (or throws invalid_token). */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
  /** `sub` has just signed out everywhere through this process: forget what was kept about it. */
  signedOutEverywhere?(sub: string): void;
}

/** The request a sign-in step comes from. */
export interface IdpRequest {
  clientIp: string | null;
  /** The raw Authorization header, read by step-up when no token is in the body. */
  authorization?: string | undefined;
}

/** The embedded identity provider, implemented by the host; the `auth` router reaches it through here. */
export interface IdentityProvider {
  login(input: LoginInput, req: IdpRequest): Promise<LoginResult>;
  stepUp(input: StepUpInput, req: IdpRequest): Promise<TokenResult>;
  refresh(input: RefreshInput, req: IdpRequest): Promise<TokenResult>;
  logout(input: LogoutInput, req: IdpRequest): Promise<LogoutResult>;
  passkeyOptions(input: PasskeyOptionsInput, req: IdpRequest): Promise<PasskeyOptionsResult>;
  passkeyAuthenticate(input: PasskeyAuthInput, req: IdpRequest): Promise<TokenResult>;
  /** The signed-in admin's own account: each of these checks the caller's MFA is fresh. */
  account(principal: Principal): Promise<AccountResult>;
  passkeyRegisterOptions(principal: Principal, req: IdpRequest): Promise<PasskeyOptionsResult>;
  passkeyRegister(principal: Principal, input: PasskeyRegisterInput, req: IdpRequest): Promise<Passkey>;
  passkeyRemove(principal: Principal, input: PasskeyRemoveInput, req: IdpRequest): Promise<{ removed: true }>;
  recoveryCodes(principal: Principal, req: IdpRequest): Promise<RecoveryCodesResult>;
  changePassword(principal: Principal, input: ChangePasswordInput, req: IdpRequest): Promise<TokenResult>;
}

/**
 * What the API reports for the host's metrics (Prometheus in apps/server). Labels are kind ids,
 * statuses and error codes: never an org, a namespace or anything a caller typed.
 */
export interface ApiMetrics {
  /** One health probe: the verdict recorded, its wall time, and the upstream's error code when it failed. */
  probe(kind: string, result: string, seconds: number, upstreamError: string | null): void;
  /** One committed audit append. */
  auditAppend(seconds: number): void;
}

export interface ApiDeps {
  /** The database every repository takes. */
  db: Database;
  /** Seals and opens stored secrets (the first key encrypts). */
  keyring: Keyring;
  /** The clock. */
  now: () => Date;
  /** The one bounded HTTP client (its dispatcher, TLS trust and deadlines) every upstream call goes through. */
  http: HttpClient;
  upstreams: UpstreamConfig;
  /** Our workload issuer: mints the subject tokens clouds exchange. */
  subjectTokens: WorkloadTokenSource;
  config: ApiConfig;
  logger: ApiLogger;
  verifier: TokenVerifier;
  /** The embedded IdP, or null when it is off. */
  idp: IdentityProvider | null;
  denials: DenialThrottle;
  outcomes: OutcomeBacklog;
  /** The audit chain's HMAC keys (ALPHASWARM_ADMIN_AUDIT_KEY): the first links, all verify. */
  auditKeys: AuditKeyRing;
  /** A throwaway key encrypts (never in production): secrets stored now die with the process. */
  ephemeralKey: boolean;
  /** Where probes and audit appends are counted (absent: not counted). */
  metrics?: ApiMetrics;
  /** Everything that makes this deployment unfit for production, each a sentence (store.status). */
  productionProblems(): string[];
}
