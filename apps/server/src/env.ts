import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const bool = z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((v) => v === 'on' || v === 'true' || v === '1');
const seconds = z.coerce.number().int().min(0).max(31_536_000);
const url = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

const EnvSchema = z.object({
  ALPHASWARM_ENV: z.enum(['development', 'test', 'production', 'sandbox']).default('development'),
  ALPHASWARM_ADMIN_DB_PATH: z.string().min(1).optional(),
  ALPHASWARM_ADMIN_INTEGRATIONS_KEY: z.string().min(1).optional(),
  ALPHASWARM_ADMIN_INTEGRATIONS_PATH: z.string().min(1).optional(),
  ALPHASWARM_ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  ALPHASWARM_ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(8700),
  ALPHASWARM_ADMIN_PUBLIC_URL: url.optional(),
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
  ALPHASWARM_ADMIN_EMBEDDED_IDP: bool.optional(),
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
  /** HTTPS URL where the operator hosts alphaswarm-aws-role.json once, for complete quick-create links. */
  ALPHASWARM_ADMIN_AWS_TEMPLATE_URL: z.url({ protocol: /^https$/ }).optional(),
  ALPHASWARM_ADMIN_GCP_STS_ENDPOINT: url.default('https://sts.googleapis.com'),
  ALPHASWARM_ADMIN_GCP_IAMCREDENTIALS_ENDPOINT: url.default('https://iamcredentials.googleapis.com'),
  ALPHASWARM_ADMIN_GCP_CRM_ENDPOINT: url.default('https://cloudresourcemanager.googleapis.com'),
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
  HOME: z.string().optional(),
});

export type RawEnv = z.infer<typeof EnvSchema>;

export interface Env extends RawEnv {
  production: boolean;
  dbPath: string;
  integrationsPath: string;
  publicUrl: string;
  embeddedIdp: boolean;
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
  return {
    ...raw,
    production,
    dbPath: raw.ALPHASWARM_ADMIN_DB_PATH ?? join(base, 'admin.db'),
    integrationsPath: raw.ALPHASWARM_ADMIN_INTEGRATIONS_PATH ?? join(base, 'integrations.json'),
    publicUrl,
    embeddedIdp: raw.ALPHASWARM_ADMIN_EMBEDDED_IDP ?? !production,
  };
}
