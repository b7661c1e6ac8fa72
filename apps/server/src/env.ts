import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseRoleMap, RoleMapError } from '@alphaswarm/api';
import { DatabaseError, parsePostgresUrl, type StoreConfig } from '@alphaswarm/db';
import { z } from 'zod';
import { SCRYPT_N_DEFAULT, SCRYPT_N_MAX, SCRYPT_N_MIN } from './auth/idp/password';

const bool = z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((v) => v === 'on' || v === 'true' || v === '1');
const seconds = z.coerce.number().int().min(0).max(31_536_000);
const url = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

const EnvSchema = z.object({
  ALPHASWARM_ENV: z.enum(['development', 'test', 'production', 'sandbox']).default('development'),
  ALPHASWARM_ADMIN_DB_PATH: z.string().min(1).optional(),
  /** postgres://… selects PostgreSQL (several replicas); unset, the SQLite file at ALPHASWARM_ADMIN_DB_PATH. */
  ALPHASWARM_ADMIN_DATABASE_URL: z
    .string()
    .optional()
    .superRefine((url, ctx) => {
      if (url === undefined) return;
      try {
        parsePostgresUrl(url);
      } catch (error) {
        if (!(error instanceof DatabaseError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
      }
    }),
  /** Connections each process keeps to PostgreSQL at most. */
  ALPHASWARM_ADMIN_DATABASE_POOL: z.coerce.number().int().min(1).max(1000).default(10),
  ALPHASWARM_ADMIN_INTEGRATIONS_KEY: z.string().min(1).optional(),
  ALPHASWARM_ADMIN_INTEGRATIONS_PATH: z.string().min(1).optional(),
  ALPHASWARM_ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  ALPHASWARM_ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(8700),
  ALPHASWARM_ADMIN_PUBLIC_URL: url.optional(),
  /**
   * The `iss` of workload tokens: where clouds fetch its discovery and JWKS. Default
   * `<PUBLIC_URL>/workload`; set it to a static host that `publish-issuer` uploads to, so the
   * admin server itself stays internal.
   */
  ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL: url.optional(),
  /** The console's public origin, where hand-off links for a customer's cloud admin open. Default PUBLIC_URL. */
  ALPHASWARM_ADMIN_CONSOLE_URL: url.optional(),
  /**
   * The WebAuthn relying-party id of the embedded IdP's passkeys: the console's host name (default,
   * from ALPHASWARM_ADMIN_CONSOLE_URL) or a parent domain of it. Passkeys are bound to it for good.
   */
  ALPHASWARM_ADMIN_WEBAUTHN_RP_ID: z
    .string()
    .regex(
      /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
      'a lower-case domain name',
    )
    .optional(),
  /**
   * scrypt's cost N for new password hashes (a power of two; memory is 128 × N × 8 bytes). Each
   * stored hash keeps its own parameters, so raising it later needs no migration: passwords
   * hashed before keep verifying and are hashed at the new cost when they change.
   */
  ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: z.coerce
    .number()
    .int()
    .min(SCRYPT_N_MIN)
    .max(SCRYPT_N_MAX)
    .refine((n) => Number.isInteger(Math.log2(n)), 'a power of two, e.g. 32768 (2^15) or 131072 (2^17)')
    .default(SCRYPT_N_DEFAULT),
  ALPHASWARM_ADMIN_OIDC_ISSUER: url.optional(),
  ALPHASWARM_ADMIN_OIDC_AUDIENCE: z.string().min(1).optional(),
  ALPHASWARM_ADMIN_OIDC_JWKS_URL: url.optional(),
  /** Longest lifetime (`exp - iat`, seconds) of an external token this service accepts. */
  ALPHASWARM_ADMIN_OIDC_MAX_TOKEN_LIFETIME: z.coerce.number().int().min(60).max(31_536_000).default(86_400),
  /**
   * Whether a plain `integrations:use` scope (every org) is honoured. `off` accepts only
   * org-bound `integrations:use:org:<org_id>` scopes.
   */
  ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE: bool.default(true),
  ALPHASWARM_ADMIN_STEP_UP_MAX_AGE: seconds.default(600),
  /** `acr` values (space-separated, any of them) a mutation's token must carry; the RFC 9470 challenge names them. */
  ALPHASWARM_ADMIN_STEP_UP_ACR: z
    .string()
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}( [\x21\x23-\x5B\x5D-\x7E]{1,128}){0,7}$/, 'space-separated acr values')
    .optional(),
  /** Mutations need a phishing-resistant step-up (`acr` `phr`: a passkey), never a TOTP code alone. */
  ALPHASWARM_ADMIN_STEP_UP_REQUIRE_PHR: bool.default(false),
  /** Dotted path of the external issuer's claim holding groups or roles (`groups`, `realm_access.roles`). */
  ALPHASWARM_ADMIN_ROLE_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:/-]{1,64}(\.[A-Za-z0-9_:/-]{1,64}){0,3}$/, 'a claim name or dotted path (realm_access.roles)')
    .default('groups'),
  /** `<group or role>=<scope>` pairs, comma-separated: scopes admin:cluster, admin:read, admin:org:<org_id>. */
  ALPHASWARM_ADMIN_ROLE_MAP: z
    .string()
    .max(16_384)
    .default('')
    .transform((v, ctx) => {
      try {
        return parseRoleMap(v);
      } catch (error) {
        if (!(error instanceof RoleMapError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
        return z.NEVER;
      }
    }),
  ALPHASWARM_ADMIN_EMBEDDED_IDP: bool.optional(),
  /** On SIGTERM, how long requests in flight get to finish before they are cut. */
  ALPHASWARM_ADMIN_SHUTDOWN_GRACE: seconds.default(10),
  ALPHASWARM_ADMIN_HEALTH_INTERVAL: seconds.default(3600),
  /** Bearer token GET /metrics requires; unset: the route is open (restrict it at the network). */
  ALPHASWARM_ADMIN_METRICS_TOKEN: z.string().min(16).max(512).optional(),
  /** Days of health history kept; older rows are pruned by the sweep. */
  ALPHASWARM_ADMIN_HEALTH_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Where every alert is POSTed (CloudEvents, signed per Standard Webhooks with the secret below). */
  ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL: url.optional(),
  /** `whsec_` + base64 of 24–64 random bytes, as Standard Webhooks defines it. */
  ALPHASWARM_ADMIN_ALERT_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by base64 of at least 24 random bytes')
    .optional(),
  ALPHASWARM_ADMIN_HEALTH_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
  ALPHASWARM_ADMIN_HF_ENDPOINT: url.default('https://huggingface.co'),
  ALPHASWARM_ADMIN_DOCKERHUB_URL: url.default('https://hub.docker.com'),
  ALPHASWARM_ADMIN_AWS_REGION: z.string().min(1).default('us-east-1'),
  /**
   * The AWS SDK's own endpoint overrides, same names and precedence (per service over global). Read
   * here, not by the SDK, so the production gate sees them; the SDK is told to ignore ambient ones.
   */
  AWS_ENDPOINT_URL: url.optional(),
  AWS_ENDPOINT_URL_STS: url.optional(),
  AWS_ENDPOINT_URL_IAM: url.optional(),
  AWS_ENDPOINT_URL_EC2: url.optional(),
  /** Where `publish-issuer --to s3://…` uploads (an S3-compatible store); AWS's otherwise. */
  AWS_ENDPOINT_URL_S3: url.optional(),
  /**
   * Static AWS credentials for `publish-issuer --to s3://…`; when unset the SDK's own chain
   * (profile, SSO, instance role) applies.
   */
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  /** HTTPS URL where the operator hosts alphaswarm-aws-role.json once, for complete quick-create links. */
  ALPHASWARM_ADMIN_AWS_TEMPLATE_URL: z.url({ protocol: /^https$/ }).optional(),
  ALPHASWARM_ADMIN_GCP_STS_ENDPOINT: url.default('https://sts.googleapis.com'),
  ALPHASWARM_ADMIN_GCP_IAMCREDENTIALS_ENDPOINT: url.default('https://iamcredentials.googleapis.com'),
  ALPHASWARM_ADMIN_GCP_CRM_ENDPOINT: url.default('https://cloudresourcemanager.googleapis.com'),
  /** Where `publish-issuer --to gs://…` uploads: the Cloud Storage JSON API root. */
  ALPHASWARM_ADMIN_GCS_ENDPOINT: url.default('https://storage.googleapis.com'),
  /**
   * Where `publish-issuer --to azblob://account/…` uploads: the account's blob endpoint (e.g.
   * Azurite's http://127.0.0.1:10000/devstoreaccount1); https://<account>.blob.core.windows.net otherwise.
   */
  ALPHASWARM_ADMIN_AZURE_BLOB_ENDPOINT: url.optional(),
  ALPHASWARM_ADMIN_AZURE_AUTHORITY_HOST: url.default('https://login.microsoftonline.com'),
  ALPHASWARM_ADMIN_AZURE_ARM_ENDPOINT: url.default('https://management.azure.com'),
  ALPHASWARM_ADMIN_CLOUDFLARE_API_URL: url.default('https://api.cloudflare.com/client/v4'),
  ALPHASWARM_ADMIN_CLOUDFLARE_MAX_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** PEM file of extra CAs to trust for upstream TLS (private upstreams, sandbox fakes). */
  ALPHASWARM_ADMIN_UPSTREAM_CA_FILE: z.string().min(1).optional(),
  ALPHASWARM_ADMIN_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Peers (reverse proxies, the console's server) whose X-Forwarded-For names the real client:
   * comma-separated IPs. Anyone else's header is ignored, so it cannot be spoofed.
   */
  ALPHASWARM_ADMIN_TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /**
   * The audit chain's HMAC keys: one key or a comma-separated list whose first links new rows (the
   * rest verify older ones). Separate from the integrations key. Required in production.
   */
  ALPHASWARM_ADMIN_AUDIT_KEY: z.string().min(1).optional(),
  /** Sign a checkpoint every N events or T minutes, whichever comes first: `1000,15m`, `500`, `5m`. */
  ALPHASWARM_ADMIN_AUDIT_CHECKPOINT_EVERY: z
    .string()
    .default('1000,15m')
    .transform((v, ctx) => {
      const every: { events: number | null; ms: number | null } = { events: null, ms: null };
      for (const part of v.split(',').map((p) => p.trim())) {
        const m = /^(\d{1,9})(s|m|h)?$/.exec(part);
        const n = Number(m?.[1]);
        if (!m || n < 1) {
          ctx.addIssue({ code: 'custom', message: 'expected N events and/or a time like 15m (e.g. `1000,15m`)' });
          return z.NEVER;
        }
        if (m[2]) every.ms = n * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
        else every.events = n;
      }
      return every;
    }),
  /** Archive (signed JSONL) and delete audit events older than this many days; unset keeps them all. */
  ALPHASWARM_ADMIN_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  /** Where retention writes its archives (default: `audit-archive/` beside the database). */
  ALPHASWARM_ADMIN_AUDIT_ARCHIVE_DIR: z.string().min(1).optional(),
  /** Stream audit records as JSON batches to this HTTPS endpoint. */
  ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_URL: z.url({ protocol: /^https$/ }).optional(),
  /** Bearer token for the HTTPS sink. */
  ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_TOKEN: z.string().min(1).optional(),
  /** Or: HMAC-SHA256 key signing each batch (`X-AlphaSwarm-Signature: sha256=…` over `<timestamp>.<body>`). */
  ALPHASWARM_ADMIN_AUDIT_SINK_HTTPS_HMAC_KEY: z.string().min(16).optional(),
  /** Stream RFC 5424 syslog to `tcp://host:port` or `tls://host:port`. */
  ALPHASWARM_ADMIN_AUDIT_SINK_SYSLOG_URL: z.url({ protocol: /^(tcp|tls)$/ }).optional(),
  /** Stream OpenTelemetry logs (OTLP/HTTP, JSON) to this collector base URL (`/v1/logs` is appended). */
  ALPHASWARM_ADMIN_AUDIT_SINK_OTLP_URL: url.optional(),
  /** Extra headers for the OTLP sink: `name=value,name=value`. */
  ALPHASWARM_ADMIN_AUDIT_SINK_OTLP_HEADERS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const headers: Record<string, string> = {};
      for (const pair of v.split(',').filter((p) => p.trim())) {
        const at = pair.indexOf('=');
        if (at < 1) {
          ctx.addIssue({ code: 'custom', message: 'expected name=value pairs separated by commas' });
          return z.NEVER;
        }
        headers[pair.slice(0, at).trim().toLowerCase()] = pair.slice(at + 1).trim();
      }
      return headers;
    }),
  /** PEM file of extra CAs to trust for the audit sinks' TLS. */
  ALPHASWARM_ADMIN_AUDIT_SINK_CA_FILE: z.string().min(1).optional(),
  /** Seconds: the longest wait between retries of a failing sink (the backoff doubles from 1 s up to it). */
  ALPHASWARM_ADMIN_AUDIT_SINK_RETRY_MAX: z.coerce.number().int().min(1).max(3600).default(300),
  HOME: z.string().optional(),
});

export type RawEnv = z.infer<typeof EnvSchema>;

export interface Env extends RawEnv {
  production: boolean;
  dbPath: string;
  /** Where the data lives: PostgreSQL when ALPHASWARM_ADMIN_DATABASE_URL is set, else the SQLite file. */
  database: StoreConfig;
  integrationsPath: string;
  publicUrl: string;
  /** `iss` of workload tokens (ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL, default `<publicUrl>/workload`). */
  workloadIssuerUrl: string;
  /** Where hand-off links open (ALPHASWARM_ADMIN_CONSOLE_URL, default `publicUrl`). */
  consoleUrl: string;
  embeddedIdp: boolean;
  /** Where passkeys are used: the console's origin and the RP id; null when that origin is an IP address. */
  webauthn: { rpId: string; origin: string } | null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parse configuration once; the message names the offending variable. Nothing else reads process.env. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  const raw = result.data;
  if (raw.ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL && !raw.ALPHASWARM_ADMIN_ALERT_WEBHOOK_SECRET) {
    throw new ConfigError(
      'Invalid configuration: ALPHASWARM_ADMIN_ALERT_WEBHOOK_SECRET: required with ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL (whsec_ + base64).',
    );
  }
  const base = join(raw.HOME ?? homedir(), '.alphaswarm');
  const production = raw.ALPHASWARM_ENV === 'production';
  const publicUrl =
    raw.ALPHASWARM_ADMIN_PUBLIC_URL ?? `http://${raw.ALPHASWARM_ADMIN_HOST}:${raw.ALPHASWARM_ADMIN_PORT}`;
  const dbPath = raw.ALPHASWARM_ADMIN_DB_PATH ?? join(base, 'admin.db');
  const consoleUrl = raw.ALPHASWARM_ADMIN_CONSOLE_URL ?? publicUrl;
  return {
    ...raw,
    production,
    dbPath,
    database: {
      databaseUrl: raw.ALPHASWARM_ADMIN_DATABASE_URL,
      dbPath,
      pool: raw.ALPHASWARM_ADMIN_DATABASE_POOL,
    },
    integrationsPath: raw.ALPHASWARM_ADMIN_INTEGRATIONS_PATH ?? join(base, 'integrations.json'),
    publicUrl,
    workloadIssuerUrl: raw.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL ?? `${publicUrl}/workload`,
    consoleUrl,
    embeddedIdp: raw.ALPHASWARM_ADMIN_EMBEDDED_IDP ?? !production,
    webauthn: webauthnSettings(consoleUrl, raw.ALPHASWARM_ADMIN_WEBAUTHN_RP_ID),
  };
}

/**
 * Browsers accept a passkey only for an RP id equal to the page's host or a parent domain of it,
 * and never for an IP address: such a console has no passkeys unless given a host name.
 */
function webauthnSettings(consoleUrl: string, rpId: string | undefined): Env['webauthn'] {
  const { hostname, origin } = new URL(consoleUrl);
  const ip = /^\d+\.\d+\.\d+\.\d+$/.test(hostname) || hostname.startsWith('[');
  if (!rpId) return ip ? null : { rpId: hostname, origin };
  if (ip || (hostname !== rpId && !hostname.endsWith(`.${rpId}`))) {
    throw new ConfigError(
      `Invalid configuration: ALPHASWARM_ADMIN_WEBAUTHN_RP_ID: "${rpId}" must be the console's host name (${hostname}, from ALPHASWARM_ADMIN_CONSOLE_URL) or a parent domain of it.`,
    );
  }
  return { rpId, origin };
}
