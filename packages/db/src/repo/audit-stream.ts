import { and, asc, count, desc, eq, gt, lt, lte, max, min, sql } from 'drizzle-orm';
import type { ChainRow } from '../audit/chain';
import { type AuditRecord, toAuditRecord } from '../audit/export-format';
import type { Database } from '../database';

/*
 * The streaming outbox and the checkpoints. The audit table is the outbox's log: a row is the entry
 * to stream, committed in the transaction of the audit write itself. Each sink has one cursor row
 * here (the last seq it took), leased by one process at a time, with its backoff.
 */

export interface OutboxClaim {
  records: AuditRecord[];
  /** Failed attempts in a row before this one. */
  attempts: number;
}

/** Rows after `afterSeq`, oldest first. */
export async function auditRowsAfter(db: Database, afterSeq: number, limit: number): Promise<ChainRow[]> {
  const { auditEvents } = db.t;
  return db.q
    .select()
    .from(auditEvents)
    .where(gt(auditEvents.seq, afterSeq))
    .orderBy(asc(auditEvents.seq))
    .limit(limit);
}

/**
 * Take (or keep) the sink's lease and return the records after its cursor, oldest first; null while
 * another process holds an unexpired lease or a backoff runs. An idle poll only reads: the lease is
 * written when there is something to send and it is not already held for at least half its length,
 * so polling never competes with audit appends for the writer.
 */
export async function claimOutbox(
  db: Database,
  sink: string,
  owner: string,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<OutboxClaim | null> {
  const at = now.toISOString();
  const { auditOutbox } = db.t;
  const [current] = await db.q.select().from(auditOutbox).where(eq(auditOutbox.sink, sink));
  const free = (row: typeof current) =>
    !row || row.leaseOwner === null || row.leaseOwner === owner || (row.leaseUntil ?? '') <= at;
  if (!free(current) || (current?.nextAttemptAt != null && current.nextAttemptAt > at)) return null;
  const rows = await auditRowsAfter(db, current?.deliveredSeq ?? 0, limit);
  if (rows.length === 0) return { records: [], attempts: current?.attempts ?? 0 };
  const renewBy = new Date(now.getTime() + leaseMs / 2).toISOString();
  if (current?.leaseOwner === owner && (current.leaseUntil ?? '') > renewBy) {
    return { records: rows.map(toAuditRecord), attempts: current.attempts };
  }
  const state = await db.write(async ({ q, t }) => {
    const { auditOutbox: table } = t;
    await q
      .insert(table)
      .values({ sink, deliveredSeq: 0, attempts: 0, updatedAt: at })
      .onConflictDoNothing({ target: table.sink });
    const [row] = await q.select().from(table).where(eq(table.sink, sink));
    if (!row || !free(row) || (row.nextAttemptAt !== null && row.nextAttemptAt > at)) return null;
    await q
      .update(table)
      .set({ leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs).toISOString(), updatedAt: at })
      .where(eq(table.sink, sink));
    return row;
  });
  if (!state) return null;
  // The cursor may have moved between the read and the lease (another process's last ack).
  const records =
    state.deliveredSeq === (current?.deliveredSeq ?? 0) ? rows : await auditRowsAfter(db, state.deliveredSeq, limit);
  return { records: records.map(toAuditRecord), attempts: state.attempts };
}

export async function ackOutbox(
  db: Database,
  sink: string,
  owner: string,
  throughSeq: number,
  now: Date,
): Promise<boolean> {
  return db.write(async ({ q, t }) => {
    const { auditOutbox } = t;
    const moved = await q
      .update(auditOutbox)
      .set({
        deliveredSeq: throughSeq,
        attempts: 0,
        nextAttemptAt: null,
        lastError: null,
        updatedAt: now.toISOString(),
      })
      .where(and(eq(auditOutbox.sink, sink), eq(auditOutbox.leaseOwner, owner)))
      .returning({ sink: auditOutbox.sink });
    return moved.length === 1;
  });
}

export async function failOutbox(
  db: Database,
  sink: string,
  owner: string,
  retryAt: Date,
  error: string,
): Promise<void> {
  await db.write(async ({ q, t }) => {
    const { auditOutbox } = t;
    await q
      .update(auditOutbox)
      .set({
        attempts: sql`${auditOutbox.attempts} + 1`,
        nextAttemptAt: retryAt.toISOString(),
        lastError: error.slice(0, 500),
        leaseOwner: null,
        leaseUntil: null,
      })
      .where(and(eq(auditOutbox.sink, sink), eq(auditOutbox.leaseOwner, owner)));
  });
}

export async function releaseOutbox(db: Database, sink: string, owner: string): Promise<void> {
  await db.write(async ({ q, t }) => {
    const { auditOutbox } = t;
    await q
      .update(auditOutbox)
      .set({ leaseOwner: null, leaseUntil: null })
      .where(and(eq(auditOutbox.sink, sink), eq(auditOutbox.leaseOwner, owner)));
  });
}

export interface SinkLag {
  sink: string;
  /** Records not yet acknowledged by the sink. */
  pending: number;
  /** Age in seconds of the oldest of them (0 when none). */
  oldestPendingSeconds: number;
  attempts: number;
  lastError: string | null;
}

export async function outboxLag(db: Database, sink: string, now: Date): Promise<SinkLag> {
  const { auditOutbox, auditEvents } = db.t;
  const [row] = await db.q.select().from(auditOutbox).where(eq(auditOutbox.sink, sink));
  const delivered = row?.deliveredSeq ?? 0;
  const [pending] = await db.q
    .select({ n: count(), oldest: min(auditEvents.at) })
    .from(auditEvents)
    .where(gt(auditEvents.seq, delivered));
  const oldest = pending?.oldest ? Date.parse(pending.oldest) : now.getTime();
  return {
    sink,
    pending: Number(pending?.n ?? 0),
    oldestPendingSeconds: Math.max(0, Math.floor((now.getTime() - oldest) / 1000)),
    attempts: row?.attempts ?? 0,
    lastError: row?.lastError ?? null,
  };
}

/** The lowest cursor of the given sinks: rows after it must be kept (retention stops there). */
export async function lowestDelivered(db: Database, sinks: readonly string[]): Promise<number | null> {
  if (sinks.length === 0) return null;
  const { auditOutbox } = db.t;
  const rows = await db.q.select({ sink: auditOutbox.sink, seq: auditOutbox.deliveredSeq }).from(auditOutbox);
  const bySink = new Map(rows.map((r) => [r.sink, r.seq]));
  return Math.min(...sinks.map((s) => bySink.get(s) ?? 0));
}

export type CheckpointRow = { lastSeq: number; lastLink: string; time: string; kid: string; jws: string };

export async function latestCheckpoint(db: Database): Promise<CheckpointRow | undefined> {
  const { auditCheckpoints } = db.t;
  const [row] = await db.q.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.lastSeq)).limit(1);
  return row;
}

export async function listCheckpoints(db: Database): Promise<CheckpointRow[]> {
  const { auditCheckpoints } = db.t;
  return db.q.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.lastSeq));
}

/** The chain's tip: seq and link of the newest row, or null for an empty chain. */
export async function auditTip(db: Database): Promise<{ seq: number; link: string; at: string } | null> {
  const { auditEvents } = db.t;
  const [row] = await db.q
    .select({ seq: auditEvents.seq, link: auditEvents.hash, at: auditEvents.at })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return row ?? null;
}

export async function insertCheckpoint(db: Database, row: CheckpointRow): Promise<void> {
  await db.write(({ q, t }) => q.insert(t.auditCheckpoints).values(row));
}

/** The oldest seq still in the table (retention may have cut the head), or null when empty. */
export async function firstAuditSeq(db: Database): Promise<number | null> {
  const { auditEvents } = db.t;
  const [row] = await db.q.select({ seq: min(auditEvents.seq) }).from(auditEvents);
  return row?.seq ?? null;
}

/** The newest seq of a row written before `at`, or null. */
export async function lastAuditSeqBefore(db: Database, at: string): Promise<number | null> {
  const { auditEvents } = db.t;
  const [row] = await db.q
    .select({ seq: max(auditEvents.seq) })
    .from(auditEvents)
    .where(lt(auditEvents.at, at));
  return row?.seq ?? null;
}

/**
 * Record a retention cut and delete the rows it covers (the append-only trigger lets exactly those
 * through). Call inside the transaction that appended the `audit.archived` row.
 */
export async function deleteArchivedAudit(
  db: Database,
  cut: { throughSeq: number; throughLink: string; file: string; archivedAt: string },
): Promise<number> {
  return db.write(async ({ q, t }) => {
    await q.insert(t.auditArchives).values(cut);
    const gone = await q
      .delete(t.auditEvents)
      .where(lte(t.auditEvents.seq, cut.throughSeq))
      .returning({ seq: t.auditEvents.seq });
    return gone.length;
  });
}
