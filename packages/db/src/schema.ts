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
