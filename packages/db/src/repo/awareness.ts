import { and, asc, count, desc, eq, gte, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Database, Tables } from '../database';

export type HealthHistoryRow = Tables['healthHistory']['$inferSelect'];
export type HealthHistoryWrite = Omit<HealthHistoryRow, 'id'>;
export type OutboxRow = Tables['alertOutbox']['$inferSelect'];
export type AlertEndpointRow = Tables['alertEndpoints']['$inferSelect'];

export async function appendHealthHistory(db: Database, row: HealthHistoryWrite): Promise<void> {
  const t = db.t.healthHistory;
  await db.write(({ q }) => q.insert(t).values(row));
}

/** Newest first; `beforeId` is the cursor (the last id of the previous page). */
export async function listHealthHistory(
  db: Database,
  opts: { orgId: string; kind: string; beforeId?: number | null; limit: number },
): Promise<HealthHistoryRow[]> {
  const t = db.t.healthHistory;
  return db.q
    .select()
    .from(t)
    .where(and(eq(t.orgId, opts.orgId), eq(t.kind, opts.kind), opts.beforeId ? lt(t.id, opts.beforeId) : undefined))
    .orderBy(desc(t.id))
    .limit(opts.limit);
}

/** Probes of one link on one UTC day with one result. */
export interface HealthDayCount {
  kind: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  result: string;
  n: number;
}

/**
 * An org's probes counted per link, UTC day and result since `from` (RFC 3339 UTC): one grouped
 * read served by the health_history_org_day index, so a timeline never loads a probe row. A
 * stored `at` is RFC 3339 UTC, so its first ten characters are its UTC day on both dialects.
 */
export async function healthByDay(
  db: Database,
  opts: { orgId: string; kind?: string | null; from: string },
): Promise<HealthDayCount[]> {
  const t = db.t.healthHistory;
  const day = sql<string>`substr(${t.at}, 1, 10)`;
  return db.q
    .select({ kind: t.kind, day, result: t.result, n: count() })
    .from(t)
    .where(and(eq(t.orgId, opts.orgId), gte(t.at, opts.from), opts.kind ? eq(t.kind, opts.kind) : undefined))
    .groupBy(t.kind, day, t.result)
    .orderBy(asc(t.kind), asc(day), asc(t.result));
}

/** Delete history older than `before` (RFC 3339); returns how many rows went. */
export async function pruneHealthHistory(db: Database, before: string): Promise<number> {
  const t = db.t.healthHistory;
  const gone = await db.write(({ q }) => q.delete(t).where(lt(t.at, before)).returning({ id: t.id }));
  return gone.length;
}

/** Record that `threshold` was announced for this expiry; false when it already was (by any process). */
export async function markAlertOnce(
  db: Database,
  mark: { credentialKey: string; expiresAt: string; threshold: number; at: string },
): Promise<boolean> {
  const t = db.t.alertMarks;
  const made = await db.write(({ q }) =>
    q.insert(t).values(mark).onConflictDoNothing().returning({ threshold: t.threshold }),
  );
  return made.length === 1;
}

/** Every mark of one key, oldest first (an upstream's outages are kept as marks of `upstream:<kind>`). */
export async function listAlertMarks(
  db: Database,
  credentialKey: string,
): Promise<{ expiresAt: string; threshold: number; at: string }[]> {
  const t = db.t.alertMarks;
  return db.q
    .select({ expiresAt: t.expiresAt, threshold: t.threshold, at: t.at })
    .from(t)
    .where(eq(t.credentialKey, credentialKey))
    .orderBy(asc(t.at), asc(t.threshold));
}

export async function enqueueAlert(
  db: Database,
  row: Pick<OutboxRow, 'id' | 'endpoint' | 'type' | 'subject' | 'body' | 'createdAt'>,
): Promise<void> {
  const t = db.t.alertOutbox;
  await db.write(({ q }) =>
    q.insert(t).values({ ...row, status: 'pending', attempts: 0, nextAttemptAt: row.createdAt }),
  );
}

/**
 * Claim up to `limit` due deliveries until `leaseUntil`: one statement whose condition is checked
 * again on each row it updates, so two processes never claim the same row; a claim whose process
 * died is claimable again once its lease has passed.
 */
export async function claimDueAlerts(
  db: Database,
  opts: { now: string; leaseUntil: string; limit: number },
): Promise<OutboxRow[]> {
  const t = db.t.alertOutbox;
  const free = or(isNull(t.leaseUntil), lt(t.leaseUntil, opts.now));
  return db.write(({ q }) => {
    const due = q
      .select({ id: t.id })
      .from(t)
      .where(and(eq(t.status, 'pending'), lte(t.nextAttemptAt, opts.now), free))
      .orderBy(asc(t.nextAttemptAt))
      .limit(opts.limit);
    return q
      .update(t)
      .set({ leaseUntil: opts.leaseUntil })
      .where(and(inArray(t.id, due), eq(t.status, 'pending'), free))
      .returning();
  });
}

/** The verdict of one delivery attempt: delivered, retry at `nextAttemptAt`, or given up (`failed`). */
export async function settleAlert(
  db: Database,
  id: string,
  result: {
    status: 'delivered' | 'pending' | 'failed';
    lastStatus: number | null;
    lastError: string | null;
    nextAttemptAt?: string;
    at: string;
  },
): Promise<void> {
  const t = db.t.alertOutbox;
  await db.write(({ q }) =>
    q
      .update(t)
      .set({
        status: result.status,
        attempts: sql`${t.attempts} + 1`,
        lastStatus: result.lastStatus,
        lastError: result.lastError,
        leaseUntil: null,
        ...(result.nextAttemptAt ? { nextAttemptAt: result.nextAttemptAt } : {}),
        ...(result.status === 'delivered' ? { deliveredAt: result.at } : {}),
      })
      .where(eq(t.id, id)),
  );
}

/** The delivery log, newest first. */
export async function listAlertDeliveries(
  db: Database,
  opts: { endpoint?: string; limit: number },
): Promise<OutboxRow[]> {
  const t = db.t.alertOutbox;
  return db.q
    .select()
    .from(t)
    .where(opts.endpoint ? eq(t.endpoint, opts.endpoint) : undefined)
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(opts.limit);
}

/** Deliver again (same id and body, so a receiver can deduplicate): due now, with a fresh retry window. */
export async function redeliverAlert(db: Database, id: string, now: string): Promise<boolean> {
  const t = db.t.alertOutbox;
  const rows = await db.write(({ q }) =>
    q
      .update(t)
      .set({ status: 'pending', nextAttemptAt: now, leaseUntil: null, createdAt: now, attempts: 0 })
      .where(eq(t.id, id))
      .returning({ id: t.id }),
  );
  return rows.length === 1;
}

export async function insertAlertEndpoint(db: Database, row: AlertEndpointRow): Promise<void> {
  const t = db.t.alertEndpoints;
  await db.write(({ q }) => q.insert(t).values(row));
}

export async function listAlertEndpoints(db: Database): Promise<AlertEndpointRow[]> {
  const t = db.t.alertEndpoints;
  return db.q.select().from(t).orderBy(asc(t.createdAt), asc(t.id));
}

export async function getAlertEndpoint(db: Database, id: string): Promise<AlertEndpointRow | undefined> {
  const t = db.t.alertEndpoints;
  const rows = await db.q.select().from(t).where(eq(t.id, id)).limit(1);
  return rows[0];
}

/** Remove an endpoint and its undelivered alerts (the delivery log of what was sent stays). */
export async function deleteAlertEndpoint(db: Database, id: string): Promise<boolean> {
  const { alertEndpoints, alertOutbox } = db.t;
  return db.write(async ({ q }) => {
    await q.delete(alertOutbox).where(and(eq(alertOutbox.endpoint, id), eq(alertOutbox.status, 'pending')));
    const gone = await q.delete(alertEndpoints).where(eq(alertEndpoints.id, id)).returning({ id: alertEndpoints.id });
    return gone.length === 1;
  });
}

export async function getAlertDelivery(db: Database, id: string): Promise<OutboxRow | undefined> {
  const t = db.t.alertOutbox;
  const rows = await db.q.select().from(t).where(eq(t.id, id)).limit(1);
  return rows[0];
}
