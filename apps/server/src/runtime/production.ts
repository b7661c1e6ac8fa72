import { isIPv4, isIPv6 } from 'node:net';
import { SCRYPT_N_DEFAULT } from '../auth/idp/password';
import { ConfigError, type Env } from '../env';
import type { KeyringInfo } from './keyring';

/** Every variable that points us at an upstream: each kind's base URLs and the AWS SDK's endpoint overrides. */
const UPSTREAM_VARS = [
  'ALPHASWARM_ADMIN_HF_ENDPOINT',
  'ALPHASWARM_ADMIN_DOCKERHUB_URL',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_IAM',
  'AWS_ENDPOINT_URL_EC2',
  'ALPHASWARM_ADMIN_GCP_STS_ENDPOINT',
  'ALPHASWARM_ADMIN_GCP_IAMCREDENTIALS_ENDPOINT',
  'ALPHASWARM_ADMIN_GCP_CRM_ENDPOINT',
  'ALPHASWARM_ADMIN_AZURE_AUTHORITY_HOST',
  'ALPHASWARM_ADMIN_AZURE_ARM_ENDPOINT',
  'ALPHASWARM_ADMIN_CLOUDFLARE_API_URL',
] as const satisfies readonly (keyof Env)[];

/** This machine, however spelled: localhost names, 127/8, ::1, the unspecified address, IPv4-mapped forms. */
function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIPv4(host)) return host.startsWith('127.') || host === '0.0.0.0';
  if (!isIPv6(host)) return false;
  if (host === '::1' || host === '::') return true;
  // The URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(host);
  return mapped !== null && (mapped[1]!.padStart(4, '0').startsWith('7f') || mapped[1] === '0');
}

/**
 * Everything that makes this configuration unfit for production, each a sentence naming the
 * variable to change. `keyring` is null when no keyring could be loaded (the key problem is then
 * reported from the variable itself).
 */
export function productionProblems(env: Env, keyring: KeyringInfo | null, keyError?: string): string[] {
  const problems: string[] = [];
  if (env.ALPHASWARM_ENV === 'sandbox') {
    problems.push(
      'ALPHASWARM_ENV is "sandbox": loopback fakes and a seeded admin are for local use only; set ALPHASWARM_ENV=production.',
    );
  } else if (!env.production) {
    problems.push(`ALPHASWARM_ENV is "${env.ALPHASWARM_ENV}"; set ALPHASWARM_ENV=production.`);
  }

  if (keyError !== undefined) {
    problems.push(keyError);
  } else if (!env.ALPHASWARM_ADMIN_INTEGRATIONS_KEY) {
    problems.push(
      'ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set: stored secrets would be encrypted with an ephemeral key and lost on restart; generate one with `alphaswarm-admin generate-key`.',
    );
  } else if (keyring?.ephemeral) {
    problems.push('The encryption key is ephemeral: set ALPHASWARM_ADMIN_INTEGRATIONS_KEY.');
  }

  if (!env.ALPHASWARM_ADMIN_PUBLIC_URL) {
    problems.push(
      `ALPHASWARM_ADMIN_PUBLIC_URL is not set (it defaults to ${env.publicUrl}): set the https URL where clouds and admins reach this service.`,
    );
  } else if (!env.ALPHASWARM_ADMIN_PUBLIC_URL.startsWith('https://')) {
    problems.push(
      `ALPHASWARM_ADMIN_PUBLIC_URL is ${env.ALPHASWARM_ADMIN_PUBLIC_URL}: it must be https (clouds only trust an https OIDC issuer, and admin tokens must not travel in clear).`,
    );
  } else if (isLoopback(env.ALPHASWARM_ADMIN_PUBLIC_URL)) {
    problems.push(
      `ALPHASWARM_ADMIN_PUBLIC_URL is a loopback address (${env.ALPHASWARM_ADMIN_PUBLIC_URL}): clouds cannot reach our OIDC issuer there.`,
    );
  }

  if (env.embeddedIdp && env.ALPHASWARM_ADMIN_EMBEDDED_IDP !== true) {
    problems.push(
      'The embedded IdP is on by default outside production: in production trust an external OIDC issuer, or opt in explicitly with ALPHASWARM_ADMIN_EMBEDDED_IDP=on.',
    );
  }
  if (!env.embeddedIdp) {
    const missing = (['ALPHASWARM_ADMIN_OIDC_ISSUER', 'ALPHASWARM_ADMIN_OIDC_AUDIENCE'] as const).filter(
      (name) => !env[name],
    );
    if (missing.length > 0) {
      problems.push(
        `${missing.join(' and ')} must be set: the embedded IdP is off, so admin tokens come from an external OIDC issuer.`,
      );
    }
  }
  if (env.ALPHASWARM_ADMIN_OIDC_ISSUER && !env.ALPHASWARM_ADMIN_OIDC_ISSUER.startsWith('https://')) {
    problems.push(`ALPHASWARM_ADMIN_OIDC_ISSUER is ${env.ALPHASWARM_ADMIN_OIDC_ISSUER}: it must be https.`);
  }
  if (env.ALPHASWARM_ADMIN_OIDC_JWKS_URL && !env.ALPHASWARM_ADMIN_OIDC_JWKS_URL.startsWith('https://')) {
    problems.push(`ALPHASWARM_ADMIN_OIDC_JWKS_URL is ${env.ALPHASWARM_ADMIN_OIDC_JWKS_URL}: it must be https.`);
  }

  for (const name of UPSTREAM_VARS) {
    const value = env[name];
    if (value === undefined) continue;
    if (!value.startsWith('https://')) {
      problems.push(`${name} is ${value}: upstream credentials must not travel over plain http.`);
    } else if (isLoopback(value)) {
      problems.push(`${name} points at a loopback address (${value}): a sandbox fake, not the real upstream.`);
    }
  }
  if (env.ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N < SCRYPT_N_DEFAULT) {
    problems.push(
      `ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N is ${env.ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N}: new password hashes need at least ${SCRYPT_N_DEFAULT} (2^15); unset it or raise it.`,
    );
  }
  return problems;
}

/**
 * Risks this configuration accepts knowingly, each a sentence: reported by check-production but
 * not a reason to refuse start-up. Only configuration is known here, so the platform-wide service
 * scope is flagged whenever an external issuer could grant it and this service would honour it.
 */
export function productionWarnings(env: Env): string[] {
  const warnings: string[] = [];
  if (env.ALPHASWARM_ADMIN_OIDC_ISSUER && env.ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE) {
    warnings.push(
      `A token from ${env.ALPHASWARM_ADMIN_OIDC_ISSUER} with the plain "integrations:use" scope can pull the credentials of every org: grant services "integrations:use:org:<org_id>" instead, then set ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE=off.`,
    );
  }
  const url = env.database.databaseUrl;
  if (url) {
    const { hostname, searchParams } = new URL(url);
    const loopback = hostname === 'localhost' || hostname.startsWith('127.') || hostname === '[::1]' || hostname === '';
    if (!loopback && searchParams.get('sslmode') !== 'verify-full') {
      warnings.push(
        `ALPHASWARM_ADMIN_DATABASE_URL reaches ${hostname} with sslmode=${searchParams.get('sslmode') ?? 'disable'}: nothing proves the server is the one you meant; use sslmode=verify-full (with sslrootcert for a private CA).`,
      );
    }
  }
  return warnings;
}

/** Refuse to run in production with any problem (the server's start-up gate). */
export function assertProductionReady(env: Env, keyring: KeyringInfo | null): void {
  const problems = productionProblems(env, keyring);
  if (problems.length > 0) {
    throw new ConfigError(
      `Not production-ready (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join(' ')}`,
    );
  }
}
