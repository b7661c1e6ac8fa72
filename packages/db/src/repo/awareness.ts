import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { alertEndpoints, alertMarks, alertOutbox, healthHistory } from '../schema';
import type { Db } from '../sqlite';

export type HealthHistoryRow = typeof healthHistory.$inferSelect;
export type HealthHistoryWrite = Omit<HealthHistoryRow, 'id'>;
export type OutboxRow = typeof alertOutbox.$inferSelect;

export async function appendHealthHistory(db: Db, row: HealthHistoryWrite): Promise<void> {
  db.insert(healthHistory).values(row).run();
}

/** Newest first; `beforeId` is the cursor (the last id of the previous page). */
export async function listHealthHistory(
  db: Db,
  opts: { orgId: string; kind: string; beforeId?: number | null; limit: number },
): Promise<HealthHistoryRow[]> {
  return db
    .select()
    .from(healthHistory)
    .where(
      and(
        eq(healthHistory.orgId, opts.orgId),
        eq(healthHistory.kind, opts.kind),
        opts.beforeId ? lt(healthHistory.id, opts.beforeId) : undefined,
      ),
    )
    .orderBy(desc(healthHistory.id))
    .limit(opts.limit)
    .all();
}

/** Delete history older than `before` (RFC 3339); returns how many rows went. */
export async function pruneHealthHistory(db: Db, before: string): Promise<number> {
  return db.delete(healthHistory).where(lt(healthHistory.at, before)).run().changes;
}

/** Record that `threshold` was announced for this expiry; false when it already was (by any process). */
export async function markAlertOnce(
  db: Db,
  mark: { credentialKey: string; expiresAt: string; threshold: number; at: string },
): Promise<boolean> {
  return db.insert(alertMarks).values(mark).onConflictDoNothing().run().changes === 1;
}

export async function enqueueAlert(
  db: Db,
  row: Pick<OutboxRow, 'id' | 'endpoint' | 'type' | 'subject' | 'body' | 'createdAt'>,
): Promise<void> {
  db.insert(alertOutbox)
    .values({ ...row, status: 'pending', attempts: 0, nextAttemptAt: row.createdAt })
    .run();
}

/**
 * Claim up to `limit` due deliveries until `leaseUntil`: one statement, so two processes never
 * claim the same row; a claim whose process died is claimable again once its lease has passed.
 */
export async function claimDueAlerts(
  db: Db,
  opts: { now: string; leaseUntil: string; limit: number },
): Promise<OutboxRow[]> {
  const due = db
    .select({ id: alertOutbox.id })
    .from(alertOutbox)
    .where(
      and(
        eq(alertOutbox.status, 'pending'),
        lte(alertOutbox.nextAttemptAt, opts.now),
        or(isNull(alertOutbox.leaseUntil), lt(alertOutbox.leaseUntil, opts.now)),
      ),
    )
    .orderBy(asc(alertOutbox.nextAttemptAt))
    .limit(opts.limit);
  return db
    .update(alertOutbox)
    .set({ leaseUntil: opts.leaseUntil })
    .where(and(inArray(alertOutbox.id, due), or(isNull(alertOutbox.leaseUntil), lt(alertOutbox.leaseUntil, opts.now))))
    .returning()
    .all();
}

/** The verdict of one delivery attempt: delivered, retry at `nextAttemptAt`, or given up (`failed`). */
export async function settleAlert(
  db: Db,
  id: string,
  result: {
    status: 'delivered' | 'pending' | 'failed';
    lastStatus: number | null;
    lastError: string | null;
    nextAttemptAt?: string;
    at: string;
  },
): Promise<void> {
  db.update(alertOutbox)
    .set({
      status: result.status,
      attempts: sql`${alertOutbox.attempts} + 1`,
      lastStatus: result.lastStatus,
      lastError: result.lastError,
      leaseUntil: null,
      ...(result.nextAttemptAt ? { nextAttemptAt: result.nextAttemptAt } : {}),
      ...(result.status === 'delivered' ? { deliveredAt: result.at } : {}),
    })
    .where(eq(alertOutbox.id, id))
    .run();
}

/** The delivery log, newest first. */
export async function listAlertDeliveries(db: Db, opts: { endpoint?: string; limit: number }): Promise<OutboxRow[]> {
  return db
    .select()
    .from(alertOutbox)
    .where(opts.endpoint ? eq(alertOutbox.endpoint, opts.endpoint) : undefined)
    .orderBy(desc(alertOutbox.createdAt), desc(alertOutbox.id))
    .limit(opts.limit)
    .all();
}

/** Deliver again (same id and body, so a receiver can deduplicate): due now, with a fresh retry window. */
export async function redeliverAlert(db: Db, id: string, now: string): Promise<boolean> {
  return (
    db
      .update(alertOutbox)
      .set({ status: 'pending', nextAttemptAt: now, leaseUntil: null, createdAt: now, attempts: 0 })
      .where(eq(alertOutbox.id, id))
      .run().changes === 1
  );
}

export type AlertEndpointRow = typeof alertEndpoints.$inferSelect;

export async function insertAlertEndpoint(db: Db, row: AlertEndpointRow): Promise<void> {
  db.insert(alertEndpoints).values(row).run();
}

export async function listAlertEndpoints(db: Db): Promise<AlertEndpointRow[]> {
  return db.select().from(alertEndpoints).orderBy(asc(alertEndpoints.createdAt), asc(alertEndpoints.id)).all();
}

export async function getAlertEndpoint(db: Db, id: string): Promise<AlertEndpointRow | undefined> {
  return db.select().from(alertEndpoints).where(eq(alertEndpoints.id, id)).get();
}

/** Remove an endpoint and its undelivered alerts (the delivery log of what was sent stays). */
export async function deleteAlertEndpoint(db: Db, id: string): Promise<boolean> {
  return db.transaction((tx) => {
    tx.delete(alertOutbox)
      .where(and(eq(alertOutbox.endpoint, id), eq(alertOutbox.status, 'pending')))
      .run();
    return tx.delete(alertEndpoints).where(eq(alertEndpoints.id, id)).run().changes === 1;
  });
}

export async function getAlertDelivery(db: Db, id: string): Promise<OutboxRow | undefined> {
  return db.select().from(alertOutbox).where(eq(alertOutbox.id, id)).get();
}
