import {
  type IntegrationKind,
  type IntegrationStatus,
  type PublicIntegration,
  renderCredentialKey,
} from '@alphaswarm/contracts';
import { and, asc, count, eq, gt, inArray, isNotNull, like, sql } from 'drizzle-orm';
import { integrations } from '../schema';
import type { Db } from '../sqlite';

export type IntegrationRow = typeof integrations.$inferSelect;

/** The only way a row leaves the store for a caller: public fields picked one by one. */
export function toPublic(row: IntegrationRow): PublicIntegration {
  return {
    org_id: row.orgId,
    kind: row.kind as IntegrationKind,
    namespace: row.namespace,
    credential_key: row.credentialKey,
    status: row.status as IntegrationStatus,
    connected_at: row.connectedAt,
    last_health_at: row.lastHealthAt,
    last_health_status: (row.lastHealthStatus as IntegrationStatus | null) ?? null,
    error: row.error ?? null,
    metadata: row.metadata,
  };
}

function prepareGetLink(db: Db) {
  return db
    .select()
    .from(integrations)
    .where(and(eq(integrations.orgId, sql.placeholder('org')), eq(integrations.kind, sql.placeholder('kind'))))
    .prepare();
}
/** The hottest read (every get, health check and issue): prepared once per connection. */
const getLinkStatements = new WeakMap<Db, ReturnType<typeof prepareGetLink>>();

export async function getLink(db: Db, orgId: string, kind: IntegrationKind): Promise<IntegrationRow | undefined> {
  let statement = getLinkStatements.get(db);
  if (!statement) {
    statement = prepareGetLink(db);
    getLinkStatements.set(db, statement);
  }
  return statement.get({ org: orgId, kind });
}

export async function listLinks(db: Db, orgId: string): Promise<IntegrationRow[]> {
  return db.select().from(integrations).where(eq(integrations.orgId, orgId)).orderBy(asc(integrations.kind)).all();
}

/** Keyset pages over every link, for export, sweeps and rotation. */
export async function pageLinks(db: Db, afterKey: string | null, limit: number): Promise<IntegrationRow[]> {
  return db
    .select()
    .from(integrations)
    .where(afterKey === null ? undefined : gt(integrations.credentialKey, afterKey))
    .orderBy(asc(integrations.credentialKey))
    .limit(limit)
    .all();
}

/** Keyset pages over the links that carry a ciphertext (rotation, unreadable-secret scans). */
export function pageSecretLinks(db: Db, afterKey: string | null, limit: number): { key: string; secret: string }[] {
  return db
    .select({ key: integrations.credentialKey, secret: integrations.secret })
    .from(integrations)
    .where(
      and(isNotNull(integrations.secret), afterKey === null ? undefined : gt(integrations.credentialKey, afterKey)),
    )
    .orderBy(asc(integrations.credentialKey))
    .limit(limit)
    .all() as { key: string; secret: string }[];
}

export async function countLinks(db: Db): Promise<number> {
  return db.select({ n: count() }).from(integrations).get()?.n ?? 0;
}

export interface OrgSummary {
  org_id: string;
  total: number;
  by_status: Partial<Record<IntegrationStatus, number>>;
}

/** Orgs that have at least one link, with counts by status. */
export async function listOrgs(
  db: Db,
  opts: { search?: string; afterOrg?: string | null; limit: number; orgIds?: string[] },
): Promise<OrgSummary[]> {
  const conditions = [];
  if (opts.orgIds) conditions.push(inArray(integrations.orgId, opts.orgIds));
  if (opts.search) conditions.push(like(integrations.orgId, `%${opts.search.replace(/[%_\\]/g, (c) => `\\${c}`)}%`));
  if (opts.afterOrg) conditions.push(gt(integrations.orgId, opts.afterOrg));
  const orgs = await db
    .selectDistinct({ orgId: integrations.orgId })
    .from(integrations)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(asc(integrations.orgId))
    .limit(opts.limit)
    .all();
  if (orgs.length === 0) return [];
  const ids = orgs.map((o) => o.orgId);
  const counts = await db
    .select({ orgId: integrations.orgId, status: integrations.status, n: count() })
    .from(integrations)
    .where(sql`${integrations.orgId} in ${ids}`)
    .groupBy(integrations.orgId, integrations.status)
    .all();
  return ids.map((id) => {
    const rows = counts.filter((c) => c.orgId === id);
    return {
      org_id: id,
      total: rows.reduce((a, r) => a + r.n, 0),
      by_status: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    };
  });
}

export interface LinkWrite {
  orgId: string;
  kind: IntegrationKind;
  namespace: string;
  status: IntegrationStatus;
  error: { code: string; message: string } | null;
  metadata: Record<string, unknown>;
  /** Fernet token, or null for federated kinds. */
  secret: string | null;
  expiresAt: string | null;
}

/**
 * Create the link, or replace it in place (same credential_key, new connected_at): the
 * "token expired upstream" runbook. One statement, so concurrent connects leave one row.
 */
export async function upsertLink(db: Db, write: LinkWrite, now: string): Promise<IntegrationRow> {
  const credentialKey = renderCredentialKey({ kind: write.kind, org_id: write.orgId });
  const values = {
    credentialKey,
    orgId: write.orgId,
    kind: write.kind,
    namespace: write.namespace,
    status: write.status,
    connectedAt: now,
    lastHealthAt: now,
    lastHealthStatus: write.status,
    error: write.error,
    metadata: write.metadata,
    secret: write.secret,
    expiresAt: write.expiresAt,
    updatedAt: now,
  };
  const { credentialKey: _pk, orgId: _o, kind: _k, ...update } = values;
  const [row] = db
    .insert(integrations)
    .values(values)
    .onConflictDoUpdate({ target: integrations.credentialKey, set: update })
    .returning()
    .all();
  return row!;
}

function prepareRecordHealth(db: Db) {
  return db
    .update(integrations)
    .set({
      status: sql`${sql.placeholder('status')}`,
      lastHealthAt: sql`${sql.placeholder('now')}`,
      lastHealthStatus: sql`${sql.placeholder('status')}`,
      error: sql`${sql.placeholder('error')}`,
      metadata: sql`${sql.placeholder('metadata')}`,
      expiresAt: sql`${sql.placeholder('expiresAt')}`,
      updatedAt: sql`${sql.placeholder('now')}`,
    })
    .where(eq(integrations.credentialKey, sql.placeholder('key')))
    .returning()
    .prepare();
}
/** Written once per link per sweep: prepared once per connection. */
const recordHealthStatements = new WeakMap<Db, ReturnType<typeof prepareRecordHealth>>();

/** Record a probe's verdict. Every field is written: pass the stored metadata/expiry to keep them. */
export async function recordHealth(
  db: Db,
  credentialKey: string,
  result: {
    status: IntegrationStatus;
    error: { code: string; message: string } | null;
    metadata: Record<string, unknown>;
    expiresAt: string | null;
  },
  now: string,
): Promise<IntegrationRow | undefined> {
  let statement = recordHealthStatements.get(db);
  if (!statement) {
    statement = prepareRecordHealth(db);
    recordHealthStatements.set(db, statement);
  }
  return statement.all({
    key: credentialKey,
    status: result.status,
    now,
    error: result.error === null ? null : JSON.stringify(result.error),
    metadata: JSON.stringify(result.metadata),
    expiresAt: result.expiresAt,
  })[0];
}

/** Swap the ciphertext only if it is still the one the caller read (no lost update). */
export async function replaceSecret(
  db: Db,
  credentialKey: string,
  expected: string | null,
  next: string,
  changes: { expiresAt?: string | null; metadata?: Record<string, unknown> },
  now: string,
): Promise<boolean> {
  const res = db
    .update(integrations)
    .set({
      secret: next,
      updatedAt: now,
      ...(changes.expiresAt !== undefined ? { expiresAt: changes.expiresAt } : {}),
      ...(changes.metadata ? { metadata: changes.metadata } : {}),
    })
    .where(
      and(
        eq(integrations.credentialKey, credentialKey),
        expected === null ? sql`${integrations.secret} is null` : eq(integrations.secret, expected),
      ),
    )
    .run();
  return res.changes === 1;
}

export async function deleteLink(db: Db, orgId: string, kind: IntegrationKind): Promise<IntegrationRow | undefined> {
  return db
    .delete(integrations)
    .where(and(eq(integrations.orgId, orgId), eq(integrations.kind, kind)))
    .returning()
    .all()[0];
}

/** Lost-key runbook: drop every ciphertext and mark those links needs_reconnect. */
export async function forgetAllSecrets(db: Db, now: string): Promise<string[]> {
  const rows = db
    .update(integrations)
    .set({
      secret: null,
      status: 'needs_reconnect',
      error: {
        code: 'secret_unreadable',
        message: 'The stored secret was discarded (lost encryption key). Reconnect this integration.',
      },
      updatedAt: now,
    })
    .where(isNotNull(integrations.secret))
    .returning({ key: integrations.credentialKey })
    .all();
  return rows.map((r) => r.key);
}
