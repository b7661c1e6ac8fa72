import {
  type IntegrationKind,
  type IntegrationStatus,
  type PublicIntegration,
  renderCredentialKey,
} from '@alphaswarm/contracts';
import { and, asc, count, eq, getTableColumns, gt, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { type Database, preparedFor, type Tables } from '../database';

export type IntegrationRow = Tables['integrations']['$inferSelect'];

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

/** The hottest read (every get, health check and issue): prepared once per connection. */
export async function getLink(db: Database, orgId: string, kind: IntegrationKind): Promise<IntegrationRow | undefined> {
  const statement = preparedFor(db, 'get_link', (q, name) => {
    const { integrations } = db.t;
    return q
      .select()
      .from(integrations)
      .where(and(eq(integrations.orgId, sql.placeholder('org')), eq(integrations.kind, sql.placeholder('kind'))))
      .prepare(name);
  });
  const [row] = await statement.execute({ org: orgId, kind });
  return row;
}

export async function listLinks(db: Database, orgId: string): Promise<IntegrationRow[]> {
  const { integrations } = db.t;
  return db.q.select().from(integrations).where(eq(integrations.orgId, orgId)).orderBy(asc(integrations.kind));
}

/** Keyset pages over every link, for export, sweeps and rotation. */
export async function pageLinks(db: Database, afterKey: string | null, limit: number): Promise<IntegrationRow[]> {
  const { integrations } = db.t;
  return db.q
    .select()
    .from(integrations)
    .where(afterKey === null ? undefined : gt(integrations.credentialKey, afterKey))
    .orderBy(asc(integrations.credentialKey))
    .limit(limit);
}

/** The links with these credential keys (those that still exist), in key order. */
export async function linksByKeys(db: Database, keys: readonly string[]): Promise<IntegrationRow[]> {
  if (keys.length === 0) return [];
  const { integrations } = db.t;
  return db.q
    .select()
    .from(integrations)
    .where(inArray(integrations.credentialKey, [...keys]))
    .orderBy(asc(integrations.credentialKey));
}

/** Keyset pages over the links that carry a ciphertext (rotation, unreadable-secret scans). */
export async function pageSecretLinks(
  db: Database,
  afterKey: string | null,
  limit: number,
): Promise<{ key: string; secret: string }[]> {
  const { integrations } = db.t;
  return (await db.q
    .select({ key: integrations.credentialKey, secret: integrations.secret })
    .from(integrations)
    .where(
      and(isNotNull(integrations.secret), afterKey === null ? undefined : gt(integrations.credentialKey, afterKey)),
    )
    .orderBy(asc(integrations.credentialKey))
    .limit(limit)) as { key: string; secret: string }[];
}

export async function countLinks(db: Database): Promise<number> {
  const [row] = await db.q.select({ n: count() }).from(db.t.integrations);
  return row?.n ?? 0;
}

export interface OrgSummary {
  org_id: string;
  total: number;
  by_status: Partial<Record<IntegrationStatus, number>>;
}

/** Orgs that have at least one link, with counts by status. */
export async function listOrgs(
  db: Database,
  opts: { search?: string; afterOrg?: string | null; limit: number; orgIds?: string[] },
): Promise<OrgSummary[]> {
  const { integrations } = db.t;
  const conditions = [];
  if (opts.orgIds) conditions.push(inArray(integrations.orgId, opts.orgIds));
  if (opts.search) {
    // Case-insensitive on both dialects (SQLite's LIKE folds ASCII case, PostgreSQL's does not);
    // the escape character is named, since SQLite has no default one.
    const pattern = `%${opts.search.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    conditions.push(sql`lower(${integrations.orgId}) like ${pattern} escape '\\'`);
  }
  if (opts.afterOrg) conditions.push(gt(integrations.orgId, opts.afterOrg));
  const orgs = await db.q
    .selectDistinct({ orgId: integrations.orgId })
    .from(integrations)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(asc(integrations.orgId))
    .limit(opts.limit);
  if (orgs.length === 0) return [];
  const ids = orgs.map((o) => o.orgId);
  const counts = await db.q
    .select({ orgId: integrations.orgId, status: integrations.status, n: count() })
    .from(integrations)
    .where(inArray(integrations.orgId, ids))
    .groupBy(integrations.orgId, integrations.status);
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
export async function upsertLink(db: Database, write: LinkWrite, now: string): Promise<IntegrationRow> {
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
  const [row] = await db.write(({ q, t }) =>
    q
      .insert(t.integrations)
      .values(values)
      .onConflictDoUpdate({ target: t.integrations.credentialKey, set: update })
      .returning(),
  );
  return row!;
}

/** Record a probe's verdict. Every field is written: pass the stored metadata/expiry to keep them. */
export async function recordHealth(
  db: Database,
  credentialKey: string,
  result: {
    status: IntegrationStatus;
    error: { code: string; message: string } | null;
    metadata: Record<string, unknown>;
    expiresAt: string | null;
  },
  now: string,
): Promise<IntegrationRow | undefined> {
  return db.write(async (tx) => {
    // Written once per link per sweep: prepared once per connection.
    const statement = preparedFor(tx, 'record_health', (q, name) => {
      const { integrations } = tx.t;
      return q
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
        .prepare(name);
    });
    const [row] = await statement.execute({
      key: credentialKey,
      status: result.status,
      now,
      error: result.error === null ? null : JSON.stringify(result.error),
      metadata: JSON.stringify(result.metadata),
      expiresAt: result.expiresAt,
    });
    return row;
  });
}

/** A probe's verdict and the history row that goes with it (the row's link fields come from the update). */
export interface VerdictWrite {
  credentialKey: string;
  result: Parameters<typeof recordHealth>[2];
  now: string;
  history: { source: string; latencyMs: number };
}

/** Most verdicts one transaction takes: the write lock is held for one batch, not a whole sweep. */
export const MAX_VERDICTS_PER_WRITE = 500;

/**
 * Record many probes' verdicts, each with its history row, in one transaction: all or none. A link
 * deleted since its probe gets neither (its entry is undefined). In the order given.
 */
export async function recordVerdicts(db: Database, verdicts: VerdictWrite[]): Promise<(IntegrationRow | undefined)[]> {
  if (verdicts.length > MAX_VERDICTS_PER_WRITE) {
    throw new RangeError(`At most ${MAX_VERDICTS_PER_WRITE} verdicts per write, not ${verdicts.length}.`);
  }
  const keys = new Set(verdicts.map((v) => v.credentialKey));
  // PostgreSQL: a statement is a round trip, and a sweep's writer commits one group at a time, so
  // two statements per verdict made the writer, not the upstream, set a sweep's pace. A link twice
  // in one group (a throttled probe and its retry) keeps the order of the row-at-a-time path.
  if (db.dialect === 'postgres' && keys.size === verdicts.length) return recordVerdictsTogether(db, verdicts);
  return db.write(async (tx) => {
    // SQLite: one prepared row at a time; building and preparing a multi-row insert per batch cost
    // a sweep more CPU than executing it.
    const insertHistory = preparedFor(tx, 'insert_health_history', (q, name) => {
      const p = (key: string) => sql.placeholder(key);
      return q
        .insert(tx.t.healthHistory)
        .values({
          credentialKey: p('credentialKey'),
          orgId: p('orgId'),
          kind: p('kind'),
          at: p('at'),
          source: p('source'),
          result: p('result'),
          latencyMs: p('latencyMs'),
          errorCode: p('errorCode'),
          errorMessage: p('errorMessage'),
          expiresAt: p('expiresAt'),
        })
        .prepare(name);
    });
    const rows: (IntegrationRow | undefined)[] = [];
    for (const v of verdicts) {
      const row = await recordHealth(tx, v.credentialKey, v.result, v.now);
      rows.push(row);
      if (!row) continue;
      await insertHistory.execute({
        credentialKey: row.credentialKey,
        orgId: row.orgId,
        kind: row.kind,
        at: v.now,
        source: v.history.source,
        result: row.status,
        latencyMs: Math.max(0, Math.round(v.history.latencyMs)),
        errorCode: row.error?.code ?? null,
        errorMessage: row.error?.message.slice(0, 2000) ?? null,
        expiresAt: row.expiresAt,
      });
    }
    return rows;
  });
}

/**
 * Every verdict of a group in one UPDATE, their history rows in one INSERT: each column travels
 * as one array parameter, so the statements' text (and their plans) are the same for every group.
 */
async function recordVerdictsTogether(db: Database, verdicts: VerdictWrite[]): Promise<(IntegrationRow | undefined)[]> {
  const column = <T>(values: T[], type: string) => sql`${sql.param(values)}::${sql.raw(type)}[]`;
  return db.write(async (tx) => {
    const { integrations, healthHistory } = tx.t;
    const updated = await tx.q
      .update(integrations)
      .set({
        status: sql`v.status`,
        lastHealthAt: sql`v.now`,
        lastHealthStatus: sql`v.status`,
        error: sql`v.error::json`,
        metadata: sql`v.metadata::json`,
        expiresAt: sql`v.expires_at`,
        updatedAt: sql`v.now`,
      })
      .from(
        sql`unnest(${column(
          verdicts.map((v) => v.credentialKey),
          'text',
        )}, ${column(
          verdicts.map((v) => v.result.status),
          'text',
        )}, ${column(
          verdicts.map((v) => v.now),
          'text',
        )}, ${column(
          verdicts.map((v) => (v.result.error === null ? null : JSON.stringify(v.result.error))),
          'text',
        )}, ${column(
          verdicts.map((v) => JSON.stringify(v.result.metadata)),
          'text',
        )}, ${column(
          verdicts.map((v) => v.result.expiresAt),
          'text',
        )}) AS v(key, status, now, error, metadata, expires_at)`,
      )
      .where(eq(integrations.credentialKey, sql`v.key`))
      .returning(getTableColumns(integrations));
    const byKey = new Map(updated.map((row) => [row.credentialKey, row as IntegrationRow]));
    const written = verdicts.flatMap((v) => {
      const row = byKey.get(v.credentialKey);
      return row ? [{ v, row }] : [];
    });
    if (written.length > 0) {
      const history = (pick: (w: (typeof written)[number]) => unknown, type: string) => column(written.map(pick), type);
      await tx.q.execute(
        sql`INSERT INTO ${healthHistory} (credential_key, org_id, kind, at, source, result, latency_ms, error_code, error_message, expires_at)
            SELECT * FROM unnest(${history((w) => w.row.credentialKey, 'text')}, ${history((w) => w.row.orgId, 'text')},
              ${history((w) => w.row.kind, 'text')}, ${history((w) => w.v.now, 'text')}, ${history((w) => w.v.history.source, 'text')},
              ${history((w) => w.row.status, 'text')}, ${history((w) => Math.max(0, Math.round(w.v.history.latencyMs)), 'int')},
              ${history((w) => w.row.error?.code ?? null, 'text')}, ${history((w) => w.row.error?.message.slice(0, 2000) ?? null, 'text')},
              ${history((w) => w.row.expiresAt, 'text')})`,
      );
    }
    return verdicts.map((v) => byKey.get(v.credentialKey));
  });
}

/** Swap the ciphertext only if it is still the one the caller read (no lost update). */
export async function replaceSecret(
  db: Database,
  credentialKey: string,
  expected: string | null,
  next: string,
  changes: { expiresAt?: string | null; metadata?: Record<string, unknown> },
  now: string,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.integrations)
      .set({
        secret: next,
        updatedAt: now,
        ...(changes.expiresAt !== undefined ? { expiresAt: changes.expiresAt } : {}),
        ...(changes.metadata ? { metadata: changes.metadata } : {}),
      })
      .where(
        and(
          eq(t.integrations.credentialKey, credentialKey),
          expected === null ? isNull(t.integrations.secret) : eq(t.integrations.secret, expected),
        ),
      )
      .returning({ key: t.integrations.credentialKey }),
  );
  return rows.length === 1;
}

export async function deleteLink(
  db: Database,
  orgId: string,
  kind: IntegrationKind,
): Promise<IntegrationRow | undefined> {
  const [row] = await db.write(({ q, t }) =>
    q
      .delete(t.integrations)
      .where(and(eq(t.integrations.orgId, orgId), eq(t.integrations.kind, kind)))
      .returning(),
  );
  return row;
}

/** Lost-key runbook: drop every ciphertext and mark those links needs_reconnect. */
export async function forgetAllSecrets(db: Database, now: string): Promise<string[]> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.integrations)
      .set({
        secret: null,
        status: 'needs_reconnect',
        error: {
          code: 'secret_unreadable',
          message: 'The stored secret was discarded (lost encryption key). Reconnect this integration.',
        },
        updatedAt: now,
      })
      .where(isNotNull(t.integrations.secret))
      .returning({ key: t.integrations.credentialKey }),
  );
  return rows.map((r) => r.key);
}
