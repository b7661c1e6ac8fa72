import { readFileSync } from 'node:fs';
import {
  type ApiDeps,
  BearerVerifier,
  DenialThrottle,
  localIssuer,
  OutcomeBacklog,
  remoteIssuer,
  type TrustedIssuer,
} from '@alphaswarm/api';
import { type AuditKeyRing, type Keyring, type Store, signOutReader } from '@alphaswarm/db';
import { HttpClient, type UpstreamConfig } from '@alphaswarm/providers';
import type { Delivery } from './audit/delivery';
import type { AuditHousekeeping } from './audit/service';
import type { Sink } from './audit/sinks';
import { EmbeddedIdp } from './auth/idp/service';
import type { Env } from './env';
import { ADMIN_TOKEN_MAX_TTL, type KeyedIssuer, signingIssuer, WORKLOAD_TOKEN_TTL } from './issuers/keyed-issuer';
import { createMetrics, type Metrics } from './metrics';
import { alertEndpointsFromEnv } from './services/alerts';

export { ADMIN_TOKEN_MAX_TTL, WORKLOAD_TOKEN_TTL };

import type { Logger } from './logger';
import { loadAuditKeys, sinksFromEnv } from './runtime/audit-keys';
import { productionProblems } from './runtime/production';

/** Our embedded admin issuer's audience: the admin API itself. */
export const ADMIN_AUDIENCE = 'alphaswarm-admin';
/**
 * Long-lived dependencies of every handler, built once at start; never module globals. The API's
 * (`ApiDeps`) plus what only the host uses: its configuration, the store handle, the issuers.
 */
export interface Runtime extends ApiDeps {
  env: Env;
  store: Store;
  logger: Logger;
  /** `<public url>/workload`: signs subject tokens for cloud federation. Never trusted for admin calls. */
  workload: KeyedIssuer;
  /** `<public url>`: the embedded admin IdP's signing keys, when enabled. */
  adminIssuer: KeyedIssuer | null;
  trusted: TrustedIssuer[];
  verifier: BearerVerifier;
  /** The embedded IdP (one per runtime, so tRPC and /auth/* share one hash gate), when enabled. */
  idp: EmbeddedIdp | null;
  /** Prometheus metrics of this process (GET /metrics). */
  metrics: Metrics;
  /** Signs audit checkpoints (Ed25519); its public key is published with the admin issuer's. */
  auditSigner: KeyedIssuer;
  /** The audit sinks the environment configures. */
  auditSinks: Sink[];
  /** The background delivery to them, once started (serve): its lag shows on /readyz. */
  auditStream: Delivery | null;
  /** What checkpoints and retention need. */
  auditHousekeeping(): AuditHousekeeping;
}

export function upstreamsFromEnv(env: Env): UpstreamConfig {
  return {
    huggingfaceEndpoint: env.ALPHASWARM_ADMIN_HF_ENDPOINT,
    dockerHubUrl: env.ALPHASWARM_ADMIN_DOCKERHUB_URL,
    aws: {
      region: env.ALPHASWARM_ADMIN_AWS_REGION,
      ...awsEndpoints(env),
      ...(env.ALPHASWARM_ADMIN_AWS_TEMPLATE_URL ? { templateUrl: env.ALPHASWARM_ADMIN_AWS_TEMPLATE_URL } : {}),
    },
    gcp: {
      stsEndpoint: env.ALPHASWARM_ADMIN_GCP_STS_ENDPOINT,
      iamCredentialsEndpoint: env.ALPHASWARM_ADMIN_GCP_IAMCREDENTIALS_ENDPOINT,
      crmEndpoint: env.ALPHASWARM_ADMIN_GCP_CRM_ENDPOINT,
    },
    azure: {
      authorityHost: env.ALPHASWARM_ADMIN_AZURE_AUTHORITY_HOST,
      armEndpoint: env.ALPHASWARM_ADMIN_AZURE_ARM_ENDPOINT,
    },
    cloudflare: {
      apiUrl: env.ALPHASWARM_ADMIN_CLOUDFLARE_API_URL,
      maxTtlDays: env.ALPHASWARM_ADMIN_CLOUDFLARE_MAX_TTL_DAYS,
    },
    ...(env.ALPHASWARM_ADMIN_UPSTREAM_CA_FILE
      ? { tlsCa: readFileSync(env.ALPHASWARM_ADMIN_UPSTREAM_CA_FILE, 'utf8') }
      : {}),
  };
}

/** AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, for each service the provider calls. */
function awsEndpoints(env: Env): Pick<UpstreamConfig['aws'], 'stsEndpoint' | 'iamEndpoint' | 'ec2Endpoint'> {
  const sts = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  const iam = env.AWS_ENDPOINT_URL_IAM ?? env.AWS_ENDPOINT_URL;
  const ec2 = env.AWS_ENDPOINT_URL_EC2 ?? env.AWS_ENDPOINT_URL;
  return {
    ...(sts ? { stsEndpoint: sts } : {}),
    ...(iam ? { iamEndpoint: iam } : {}),
    ...(ec2 ? { ec2Endpoint: ec2 } : {}),
  };
}

export function createRuntime(input: {
  env: Env;
  store: Store;
  keyring: Keyring;
  /** Default: from ALPHASWARM_ADMIN_AUDIT_KEY (as bootstrap loads it). */
  auditKeys?: AuditKeyRing;
  ephemeralKey: boolean;
  logger: Logger;
  now?: () => Date;
  upstreams?: UpstreamConfig;
  http?: HttpClient;
}): Runtime {
  const now = input.now ?? (() => new Date());
  const upstreams = input.upstreams ?? upstreamsFromEnv(input.env);
  const http = input.http ?? new HttpClient(upstreams.tlsCa ? { ca: upstreams.tlsCa } : {});
  const workload = signingIssuer('workload', input.env, input.store.db, input.keyring, now);
  const adminIssuer = input.env.embeddedIdp
    ? signingIssuer('admin', input.env, input.store.db, input.keyring, now)
    : null;
  const auditKeys = input.auditKeys ?? loadAuditKeys(input.env, input.keyring.fingerprints()).ring;
  const auditSigner = signingIssuer('audit', input.env, input.store.db, input.keyring, now);
  const trusted: TrustedIssuer[] = [];
  if (input.env.ALPHASWARM_ADMIN_OIDC_ISSUER && input.env.ALPHASWARM_ADMIN_OIDC_AUDIENCE) {
    trusted.push(
      remoteIssuer({
        issuer: input.env.ALPHASWARM_ADMIN_OIDC_ISSUER,
        audience: input.env.ALPHASWARM_ADMIN_OIDC_AUDIENCE,
        ...(input.env.ALPHASWARM_ADMIN_OIDC_JWKS_URL ? { jwksUrl: input.env.ALPHASWARM_ADMIN_OIDC_JWKS_URL } : {}),
        maxTokenLifetime: input.env.ALPHASWARM_ADMIN_OIDC_MAX_TOKEN_LIFETIME,
        roles:
          input.env.ALPHASWARM_ADMIN_ROLE_MAP.size > 0
            ? { claim: input.env.ALPHASWARM_ADMIN_ROLE_CLAIM, map: input.env.ALPHASWARM_ADMIN_ROLE_MAP }
            : null,
        now,
      }),
    );
  }
  if (adminIssuer) {
    trusted.push(
      localIssuer({
        issuer: adminIssuer.issuer,
        audience: ADMIN_AUDIENCE,
        jwks: () => adminIssuer.jwks(),
        maxTokenLifetime: ADMIN_TOKEN_MAX_TTL,
        signOuts: signOutReader(input.store),
      }),
    );
  }
  const verifier = new BearerVerifier(trusted, now);
  const { env } = input;
  const rt: Runtime = {
    ...input,
    db: input.store.db,
    now,
    upstreams,
    http,
    workload,
    subjectTokens: {
      issuer: workload.issuer,
      mint: ({ sub, aud }) => workload.sign({ sub, aud }, WORKLOAD_TOKEN_TTL),
      jwks: () => workload.jwks(),
    },
    adminIssuer,
    trusted,
    verifier,
    idp: null,
    metrics: createMetrics({ db: input.store.db, now }),
    denials: new DenialThrottle(),
    outcomes: new OutcomeBacklog(),
    auditKeys,
    auditSigner,
    auditSinks: sinksFromEnv(env, now),
    auditStream: null,
    auditHousekeeping: () => ({ db: input.store.db, keys: auditKeys, signer: auditSigner, now }),
    config: {
      environment: env.ALPHASWARM_ENV,
      publicUrl: env.publicUrl,
      consoleUrl: env.consoleUrl,
      stepUpMaxAge: env.ALPHASWARM_ADMIN_STEP_UP_MAX_AGE,
      stepUpAcr: env.ALPHASWARM_ADMIN_STEP_UP_REQUIRE_PHR
        ? ['phr']
        : (env.ALPHASWARM_ADMIN_STEP_UP_ACR?.split(' ') ?? []),
      platformServiceScope: env.ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE,
      healthRetentionDays: env.ALPHASWARM_ADMIN_HEALTH_RETENTION_DAYS,
      alertEndpoints: alertEndpointsFromEnv(env),
    },
    productionProblems: () =>
      productionProblems(env, {
        keyring: input.keyring,
        ephemeral: input.ephemeralKey,
        fingerprints: input.keyring.fingerprints(),
        warning: null,
      }),
  };
  // The IdP audits and limits through the runtime it belongs to.
  rt.idp = adminIssuer ? new EmbeddedIdp(rt, adminIssuer) : null;
  return rt;
}
