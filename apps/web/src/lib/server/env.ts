import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { env as raw } from '$env/dynamic/private';
import type { SsoSettings } from './sso';

const seconds = z.coerce
  .number()
  .int()
  .min(60)
  .max(7 * 86_400);
const url = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

const bool = z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((v) => v === 'on' || v === 'true' || v === '1');

const EnvSchema = z.object({
  /** `production` refuses a plain-http OIDC issuer. */
  ALPHASWARM_ENV: z.enum(['development', 'test', 'production', 'sandbox']).default('development'),
  /** The company's OIDC provider for console sign-in (authorization code + PKCE). */
  ALPHASWARM_CONSOLE_OIDC_ISSUER: url.optional(),
  ALPHASWARM_CONSOLE_OIDC_CLIENT_ID: z.string().min(1).max(255).optional(),
  /** Absent for a public client. */
  ALPHASWARM_CONSOLE_OIDC_CLIENT_SECRET: z.string().min(1).max(1024).optional(),
  ALPHASWARM_CONSOLE_OIDC_SCOPES: z
    .string()
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated OAuth scopes')
    .refine((v) => v.split(' ').includes('openid'), 'must include openid')
    .default('openid profile email'),
  /** What the sign-in button says: "Sign in with <this>" (default: the issuer's host name). */
  ALPHASWARM_CONSOLE_OIDC_NAME: z.string().min(1).max(64).optional(),
  /**
   * The embedded password + TOTP sign-in, kept as break-glass beside SSO; `off` removes it from
   * the console (turn the API's ALPHASWARM_ADMIN_EMBEDDED_IDP off too to close it everywhere).
   */
  ALPHASWARM_CONSOLE_EMBEDDED_SIGN_IN: bool.default(true),
  /** Where the admin tRPC API listens; the console is its only browser-facing client. */
  ALPHASWARM_ADMIN_API_URL: url.default('http://127.0.0.1:8700'),
  /**
   * Local address the console's connections to the API leave from (e.g. 127.0.0.2 beside an API
   * on loopback). The API trusts X-Forwarded-For only from ALPHASWARM_ADMIN_TRUSTED_PROXIES, so
   * binding the console to an address of its own keeps other local processes from posing as it.
   */
  ALPHASWARM_CONSOLE_API_SOURCE_ADDRESS: z.union([z.ipv4(), z.ipv6()]).optional(),
  /** The console's public origin (adapter-node reads it too); https turns on Secure cookies. */
  ORIGIN: url.optional(),
  /** A session idle longer than this is dropped. */
  ALPHASWARM_CONSOLE_SESSION_IDLE: seconds.default(2 * 3600),
  /** A session never outlives this, however active. */
  ALPHASWARM_CONSOLE_SESSION_MAX: seconds.default(12 * 3600),
  /** A step-up's pending action (which may hold a PAT) is forgotten after this. */
  ALPHASWARM_CONSOLE_PENDING_TTL: seconds.default(300),
  /**
   * Seals the sessions the console keeps in the database: a Fernet key, or a comma-separated ring
   * whose first key seals (rotation: put the new key first). Required in production.
   */
  ALPHASWARM_CONSOLE_SESSION_KEY: z
    .string()
    .max(45 * 16)
    .refine(
      (v) => v.split(',').every((k) => FERNET_KEY.test(k.trim())),
      'a Fernet key (44 characters of URL-safe base64) or a comma-separated list of them; generate one with `alphaswarm-admin generate-key`',
    )
    .optional(),
  /** The API's database, where the sessions live: the same three variables as the API. */
  ALPHASWARM_ADMIN_DATABASE_URL: z
    .string()
    .max(2048)
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL (unset: the SQLite file at ALPHASWARM_ADMIN_DB_PATH)')
    .optional(),
  ALPHASWARM_ADMIN_DB_PATH: z.string().min(1).max(4096).optional(),
  ALPHASWARM_ADMIN_DATABASE_POOL: z.coerce.number().int().min(1).max(1000).default(10),
  HOME: z.string().optional(),
  /**
   * adapter-node's cap on every request body (form actions, the store import upload), read here too
   * so the console can name it. Same syntax and default as adapter-node; unbounded values are refused.
   */
  BODY_SIZE_LIMIT: z
    .string()
    .regex(/^[1-9]\d{0,12}[KMG]?$/i, 'a number of bytes with an optional K, M or G suffix, e.g. 1M (never unbounded)')
    .default('512K'),
});

const FERNET_KEY = /^[A-Za-z0-9_-]{43}=$/;

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

export interface ConsoleEnv extends z.infer<typeof EnvSchema> {
  secureCookies: boolean;
  /** SSO through the company's IdP, when configured. */
  sso: SsoSettings | null;
  /** The name on the SSO button. */
  ssoName: string | null;
  /** BODY_SIZE_LIMIT in bytes. */
  bodySizeLimit: number;
  /** Where the sessions live: the API's database (PostgreSQL when a URL is set, else the SQLite file). */
  database: { databaseUrl: string | undefined; dbPath: string; pool: number };
}

/** The message names the offending variable. */
export function parseConsoleEnv(source: Record<string, string | undefined>): ConsoleEnv {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid console configuration: ${lines.join('; ')}`);
  }
  const e = result.data;
  const problems: string[] = [];
  if (e.ALPHASWARM_CONSOLE_OIDC_ISSUER) {
    if (!e.ALPHASWARM_CONSOLE_OIDC_CLIENT_ID)
      problems.push('ALPHASWARM_CONSOLE_OIDC_CLIENT_ID: required with an OIDC issuer');
    if (!e.ORIGIN)
      problems.push('ORIGIN: required with an OIDC issuer (the redirect URI is <ORIGIN>/login/sso/callback)');
    if (e.ALPHASWARM_ENV === 'production' && !e.ALPHASWARM_CONSOLE_OIDC_ISSUER.startsWith('https://')) {
      problems.push('ALPHASWARM_CONSOLE_OIDC_ISSUER: must be https in production');
    }
  } else if (!e.ALPHASWARM_CONSOLE_EMBEDDED_SIGN_IN) {
    problems.push(
      'ALPHASWARM_CONSOLE_EMBEDDED_SIGN_IN: cannot be off without ALPHASWARM_CONSOLE_OIDC_ISSUER (nobody could sign in)',
    );
  }
  if (e.ALPHASWARM_ENV === 'production' && !e.ALPHASWARM_CONSOLE_SESSION_KEY) {
    problems.push(
      'ALPHASWARM_CONSOLE_SESSION_KEY: required in production (it seals the sessions kept in the database; generate one with `alphaswarm-admin generate-key`)',
    );
  }
  if (problems.length) throw new Error(`Invalid console configuration: ${problems.join('; ')}`);
  const sso: SsoSettings | null =
    e.ALPHASWARM_CONSOLE_OIDC_ISSUER && e.ALPHASWARM_CONSOLE_OIDC_CLIENT_ID && e.ORIGIN
      ? {
          issuer: e.ALPHASWARM_CONSOLE_OIDC_ISSUER,
          clientId: e.ALPHASWARM_CONSOLE_OIDC_CLIENT_ID,
          clientSecret: e.ALPHASWARM_CONSOLE_OIDC_CLIENT_SECRET,
          scopes: e.ALPHASWARM_CONSOLE_OIDC_SCOPES,
          redirectUri: `${e.ORIGIN}/login/sso/callback`,
          allowHttp: e.ALPHASWARM_ENV !== 'production',
        }
      : null;
  const limit = result.data.BODY_SIZE_LIMIT;
  const unit = UNITS[limit.slice(-1).toUpperCase()];
  return {
    ...result.data,
    secureCookies: result.data.ORIGIN?.startsWith('https:') ?? false,
    sso,
    ssoName: sso ? (e.ALPHASWARM_CONSOLE_OIDC_NAME ?? new URL(sso.issuer).host) : null,
    bodySizeLimit: unit ? Number(limit.slice(0, -1)) * unit : Number(limit),
    database: {
      databaseUrl: e.ALPHASWARM_ADMIN_DATABASE_URL,
      // The API's default place, so a console beside it on one machine finds the same file.
      dbPath: e.ALPHASWARM_ADMIN_DB_PATH ?? join(e.HOME ?? homedir(), '.alphaswarm', 'admin.db'),
      pool: e.ALPHASWARM_ADMIN_DATABASE_POOL,
    },
  };
}

let parsed: ConsoleEnv | null = null;

/** Parsed once, at start (hooks.server.ts). Nothing else in the console reads the environment. */
export function consoleEnv(): ConsoleEnv {
  parsed ??= parseConsoleEnv(raw);
  return parsed;
}
