import { readFileSync } from 'node:fs';
import type { Keyring, Store } from '@alphaswarm/db';
import { HttpClient, type ProviderContext, type UpstreamConfig } from '@alphaswarm/providers';
import { BearerVerifier, localIssuer, remoteIssuer, type TrustedIssuer } from './auth/verifier';
import type { Env } from './env';
import { ADMIN_TOKEN_MAX_TTL, type KeyedIssuer, signingIssuer, WORKLOAD_TOKEN_TTL } from './issuers/keyed-issuer';

export { ADMIN_TOKEN_MAX_TTL, WORKLOAD_TOKEN_TTL };

import type { Logger } from './logger';
import { DenialThrottle, OutcomeBacklog } from './services/audit';

/** Our embedded admin issuer's audience: the admin API itself. */
export const ADMIN_AUDIENCE = 'alphaswarm-admin';
/** Long-lived dependencies of every handler, built once at start; never module globals. */
export interface Runtime {
  env: Env;
  store: Store;
  keyring: Keyring;
  ephemeralKey: boolean;
  logger: Logger;
  http: HttpClient;
  upstreams: UpstreamConfig;
  now: () => Date;
  /** `<public url>/workload`: signs subject tokens for cloud federation. Never trusted for admin calls. */
  workload: KeyedIssuer;
  /** `<public url>`: the embedded admin IdP, when enabled. */
  adminIssuer: KeyedIssuer | null;
  trusted: TrustedIssuer[];
  verifier: BearerVerifier;
  denials: DenialThrottle;
  /** Audit outcomes waiting for a database that could not take them (see runtime/recovery.ts). */
  outcomes: OutcomeBacklog;
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
  const trusted: TrustedIssuer[] = [];
  if (input.env.ALPHASWARM_ADMIN_OIDC_ISSUER && input.env.ALPHASWARM_ADMIN_OIDC_AUDIENCE) {
    trusted.push(
      remoteIssuer({
        issuer: input.env.ALPHASWARM_ADMIN_OIDC_ISSUER,
        audience: input.env.ALPHASWARM_ADMIN_OIDC_AUDIENCE,
        ...(input.env.ALPHASWARM_ADMIN_OIDC_JWKS_URL ? { jwksUrl: input.env.ALPHASWARM_ADMIN_OIDC_JWKS_URL } : {}),
        maxTokenLifetime: input.env.ALPHASWARM_ADMIN_OIDC_MAX_TOKEN_LIFETIME,
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
      }),
    );
  }
  const verifier = new BearerVerifier(trusted, now);
  return {
    ...input,
    now,
    upstreams,
    http,
    workload,
    adminIssuer,
    trusted,
    verifier,
    denials: new DenialThrottle(),
    outcomes: new OutcomeBacklog(),
  };
}

export function providerContext(rt: Runtime, signal?: AbortSignal): ProviderContext {
  return {
    http: rt.http,
    upstreams: rt.upstreams,
    now: rt.now,
    workload: {
      issuer: rt.workload.issuer,
      mint: ({ sub, aud }) => rt.workload.sign({ sub, aud }, WORKLOAD_TOKEN_TTL),
    },
    ...(signal ? { signal } : {}),
  };
}
