import { readFileSync } from 'node:fs';
import { AuditKey, AuditKeyRing, InvalidAuditKey } from '@alphaswarm/db';
import { httpsSink, otlpSink, type Sink, syslogSink } from '../audit/sinks';
import { ConfigError, type Env } from '../env';

const KEY_VAR = 'ALPHASWARM_ADMIN_AUDIT_KEY';

export interface AuditKeysInfo {
  ring: AuditKeyRing;
  /** A loud warning for the caller to log, or null. */
  warning: string | null;
}

/**
 * Outside production only, without a key: a fixed, publicly known development key, so the chain
 * stays verifiable across restarts of a throwaway setup. It protects nothing, says so at start, and
 * production refuses to start without a real key.
 */
const DEVELOPMENT_KEY = new AuditKey(Buffer.alloc(32, 0x5a));

/**
 * The audit key ring from ALPHASWARM_ADMIN_AUDIT_KEY. It must not share a key with the integrations
 * keyring: whoever holds the key that decrypts stored secrets must not also be able to re-link the
 * audit chain. Errors name the variable and the entry's position, never a key.
 */
export function loadAuditKeys(env: Env, integrationFingerprints: readonly string[]): AuditKeysInfo {
  const value = env.ALPHASWARM_ADMIN_AUDIT_KEY;
  if (value === undefined) {
    if (env.production) {
      throw new ConfigError(
        `${KEY_VAR} is not set: production refuses to start without the key that makes the audit chain tamper-evident; generate one with \`alphaswarm-admin generate-key\` (not the integrations key), set it, and keep a copy.`,
      );
    }
    return {
      ring: new AuditKeyRing([DEVELOPMENT_KEY]),
      warning: `WARNING: ${KEY_VAR} is not set, so the audit chain is keyed with a publicly known development key: anyone with database access can rewrite it undetected. Set ${KEY_VAR} for anything but a throwaway run.`,
    };
  }
  let ring: AuditKeyRing;
  try {
    ring = AuditKeyRing.fromEnv(value);
  } catch (error) {
    if (error instanceof InvalidAuditKey) throw new ConfigError(`${KEY_VAR}: ${error.message}`);
    throw error;
  }
  const shared = ring.ids().findIndex((id) => integrationFingerprints.includes(`fp_${id.slice(3)}`));
  if (shared >= 0) {
    throw new ConfigError(
      `${KEY_VAR}: key ${shared + 1} is also in ALPHASWARM_ADMIN_INTEGRATIONS_KEY; the audit key must be a separate key.`,
    );
  }
  return { ring, warning: null };
}

export function isDevelopmentAuditKey(ring: AuditKeyRing): boolean {
  return ring.primary.id === DEVELOPMENT_KEY.id;
}

/** The sinks the environment configures (none by default). */
export function sinksFromEnv(env: Env, now: () => Date): Sink[] {
  const ca = env.ALPHASWARM_ADMIN_AUDIT_SINK_CA_FILE
    ? readFileSync(env.ALPHASWARM_ADMIN_AUDIT_SINK_CA_FILE, 'utf8')
    : undefined;
  const tls = ca ? { ca } : {};
  const sinks: Sink[] = [];
  if (env.ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_URL) {
    const token = env.ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_TOKEN;
    const hmacKey = env.ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_HMAC_KEY;
    if (token && hmacKey) {
      throw new ConfigError(
        'ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_TOKEN and ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_HMAC_KEY: set one of them, not both.',
      );
    }
    sinks.push(
      httpsSink({
        url: env.ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_URL,
        ...(token ? { auth: { bearer: token } } : hmacKey ? { auth: { hmacKey } } : {}),
        tls,
        now,
      }),
    );
  }
  if (env.ALPHASWARM_ADMIN_AUDIT_SINK_SYSLOG_URL) {
    sinks.push(syslogSink({ url: env.ALPHASWARM_ADMIN_AUDIT_SINK_SYSLOG_URL, tls }));
  }
  if (env.ALPHASWARM_ADMIN_AUDIT_SINK_OTLP_URL) {
    sinks.push(
      otlpSink({
        url: env.ALPHASWARM_ADMIN_AUDIT_SINK_OTLP_URL,
        headers: env.ALPHASWARM_ADMIN_AUDIT_SINK_OTLP_HEADERS,
        tls,
        now,
      }),
    );
  }
  return sinks;
}
