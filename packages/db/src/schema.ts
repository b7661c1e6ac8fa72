import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** One link per (org, kind). `secret` is a Fernet token or null; nothing else is sensitive. */
export const integrations = sqliteTable(
  'integrations',
  {
    credentialKey: text('credential_key').primaryKey(),
    orgId: text('org_id').notNull(),
    kind: text('kind').notNull(),
    namespace: text('namespace').notNull(),
    status: text('status').notNull(),
    connectedAt: text('connected_at').notNull(),
    lastHealthAt: text('last_health_at'),
    lastHealthStatus: text('last_health_status'),
    error: text('error', { mode: 'json' }).$type<{ code: string; message: string } | null>(),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    secret: text('secret'),
    expiresAt: text('expires_at'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('integrations_org_kind').on(t.orgId, t.kind), index('integrations_expires').on(t.expiresAt)],
);

/**
 * Append-only, hash-chained. `prev_hash` is unique, so two concurrent writers can never both
 * extend the same tip: the loser's insert fails and it retries on the new tip.
 */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    id: text('id').notNull().unique(),
    runId: text('run_id').notNull(),
    at: text('at').notNull(),
    actor: text('actor').notNull(),
    clientIp: text('client_ip'),
    action: text('action').notNull(),
    phase: text('phase').notNull(),
    outcome: text('outcome').notNull(),
    orgId: text('org_id'),
    kind: text('kind'),
    credentialKey: text('credential_key'),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull().unique(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_run').on(t.runId), index('audit_org_at').on(t.orgId, t.at), index('audit_at').on(t.at)],
);

/**
 * Audit runs whose attempt row has no outcome row yet, and which process wrote the attempt.
 * Kept in the same transaction as those rows, so recovery after a crash or a full disk finds
 * them without scanning the log, and can tell a live writer's run from a dead one's.
 */
export const auditOpenRuns = sqliteTable(
  'audit_open_runs',
  {
    runId: text('run_id').primaryKey(),
    /** `<host>/<pid>/<random>` of the writing process; '' when unknown (runs from before this table). */
    owner: text('owner').notNull(),
    openedAt: text('opened_at').notNull(),
  },
  (t) => [index('audit_open_runs_opened').on(t.openedAt)],
);

/** One row rewritten by the readiness probe: proves the database takes a committed write. */
export const storeProbe = sqliteTable('store_probe', {
  id: integer('id').primaryKey(),
  at: text('at').notNull(),
});

export const wizardSessions = sqliteTable(
  'wizard_sessions',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    kind: text('kind').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    /** Step results; a Cloudflare token in it is kept only as a Fernet token. */
    state: text('state', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** Bumped by every write: the optimistic lock (timestamps have one-second resolution). */
    version: integer('version').notNull().default(0),
  },
  (t) => [index('wizard_org_kind').on(t.orgId, t.kind), index('wizard_expires').on(t.expiresAt)],
);

/** JWT signing keys of our two issuers ('admin' and 'workload'); private halves Fernet-encrypted. */
export const signingKeys = sqliteTable(
  'signing_keys',
  {
    kid: text('kid').primaryKey(),
    issuer: text('issuer').notNull(),
    alg: text('alg').notNull(),
    privateKey: text('private_key').notNull(),
    publicJwk: text('public_jwk', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: text('created_at').notNull(),
    /** Stops signing at this time; still published until `publish_until`. */
    retiredAt: text('retired_at'),
    publishUntil: text('publish_until'),
  },
  (t) => [index('signing_keys_issuer').on(t.issuer, t.createdAt)],
);

export const adminUsers = sqliteTable('admin_users', {
  username: text('username').primaryKey(),
  passwordHash: text('password_hash').notNull(),
  /** Fernet token of the base32 TOTP secret. */
  totpSecret: text('totp_secret').notNull(),
  scopes: text('scopes').notNull(),
  createdAt: text('created_at').notNull(),
  disabledAt: text('disabled_at'),
  failedAttempts: integer('failed_attempts').notNull().default(0),
  lockedUntil: text('locked_until'),
  /** Highest TOTP time step accepted: a code can be used once. */
  lastTotpStep: integer('last_totp_step').notNull().default(0),
  updatedAt: text('updated_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`),
});

/**
 * Failed sign-in attempts per client address, in fixed windows. An attempt is reserved here
 * (one conditional upsert) before its password hash or code check runs, so concurrent requests
 * and several processes share one budget; a success gives its reservation back.
 */
export const signInAddressLimits = sqliteTable(
  'sign_in_address_limits',
  {
    address: text('address').primaryKey(),
    attempts: integer('attempts').notNull(),
    windowStart: text('window_start').notNull(),
    /** When this row stops mattering (end of its window); pruned after. */
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [index('sign_in_address_limits_expires').on(t.expiresAt)],
);

/**
 * The account lockout rule of `admin_users` for names that have no row, so an unknown name locks
 * exactly like a real one. Keyed by a hash: what someone typed as a username is not kept.
 */
export const signInUnknownUsers = sqliteTable(
  'sign_in_unknown_users',
  {
    nameHash: text('name_hash').primaryKey(),
    failedAttempts: integer('failed_attempts').notNull(),
    lockedUntil: text('locked_until'),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [index('sign_in_unknown_users_expires').on(t.expiresAt)],
);

/** Single-use tokens already spent (the embedded IdP's mfa_token), kept until they would have expired. */
export const usedTokenIds = sqliteTable(
  'used_token_ids',
  {
    jti: text('jti').primaryKey(),
    usedAt: text('used_at').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [index('used_token_ids_expires').on(t.expiresAt)],
);

/**
 * A signed-in session of the embedded IdP: one family of refresh tokens. Revoking it (sign-out,
 * or a refresh token presented twice) ends every token of the family at once.
 */
export const refreshSessions = sqliteTable(
  'refresh_sessions',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    revokedAt: text('revoked_at'),
    revokedReason: text('revoked_reason'),
  },
  (t) => [index('refresh_sessions_expires').on(t.expiresAt), index('refresh_sessions_user').on(t.username)],
);

/** Each refresh token is single use: `used_at` is claimed by exactly one refresh. */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    jti: text('jti').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => refreshSessions.id, { onDelete: 'cascade' }),
    issuedAt: text('issued_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    usedAt: text('used_at'),
  },
  (t) => [index('refresh_tokens_session').on(t.sessionId), index('refresh_tokens_expires').on(t.expiresAt)],
);

/**
 * One row per health probe of a link (connect, re-check, sweep, rotate): what it found, how long
 * it took, the error's code and message (never a secret), the expiry seen. Pruned by age.
 */
export const healthHistory = sqliteTable(
  'health_history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    credentialKey: text('credential_key').notNull(),
    orgId: text('org_id').notNull(),
    kind: text('kind').notNull(),
    at: text('at').notNull(),
    source: text('source').notNull(),
    result: text('result').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    expiresAt: text('expires_at'),
  },
  (t) => [index('health_history_link').on(t.orgId, t.kind, t.id), index('health_history_at').on(t.at)],
);

/**
 * The alert outbox: one row per (alert, endpoint), written with the change that caused it and
 * delivered at least once by whichever process claims it (`lease_until`). It is the delivery log.
 */
export const alertOutbox = sqliteTable(
  'alert_outbox',
  {
    id: text('id').primaryKey(),
    endpoint: text('endpoint').notNull(),
    type: text('type').notNull(),
    subject: text('subject'),
    body: text('body').notNull(),
    createdAt: text('created_at').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: text('next_attempt_at').notNull(),
    leaseUntil: text('lease_until'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    deliveredAt: text('delivered_at'),
  },
  (t) => [index('alert_outbox_due').on(t.status, t.nextAttemptAt), index('alert_outbox_created').on(t.createdAt)],
);

/** Expiry-countdown thresholds already announced for one expiry of one link: each fires once, across restarts. */
export const alertMarks = sqliteTable(
  'alert_marks',
  {
    credentialKey: text('credential_key').notNull(),
    expiresAt: text('expires_at').notNull(),
    threshold: integer('threshold').notNull(),
    at: text('at').notNull(),
  },
  (t) => [uniqueIndex('alert_marks_once').on(t.credentialKey, t.expiresAt, t.threshold)],
);

/**
 * Managed alert endpoints (`notifications.*`): a Standard Webhooks receiver or a Slack incoming
 * webhook. `secret` is Fernet-sealed like link secrets (a Slack URL is a secret too: it is in it).
 */
export const alertEndpoints = sqliteTable('alert_endpoints', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  type: text('type').notNull(),
  secret: text('secret').notNull(),
  /** The host shown in lists (a Slack URL's path is its secret, so never the whole URL). */
  host: text('host').notNull(),
  eventTypes: text('event_types', { mode: 'json' }).$type<string[]>().notNull(),
  createdAt: text('created_at').notNull(),
});
