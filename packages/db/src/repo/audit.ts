import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { and, asc, count, desc, eq, gt, gte, inArray, lt, lte, type SQL } from 'drizzle-orm';
import type { Database, Tables } from '../database';
import { isUniqueViolation } from '../store';

export type AuditRow = Tables['auditEvents']['$inferSelect'];

export const GENESIS_HASH = '0'.repeat(64);

export type AuditPhase = 'attempt' | 'outcome' | 'denied' | 'event';
export type AuditOutcome = 'started' | 'success' | 'failure' | 'denied';

export interface AuditInput {
  runId: string;
  actor: string;
  clientIp?: string | null;
  action: string;
  phase: AuditPhase;
  outcome: AuditOutcome;
  orgId?: string | null;
  kind?: string | null;
  credentialKey?: string | null;
  /** Never a secret: callers pass codes, ids and messages only. */
  detail?: Record<string, unknown>;
  /** Who writes an attempt (default: this process), so recovery can tell a live run from a dead one. */
  owner?: string;
}

let thisProcess: string | undefined;

/**
 * `<host>/<pid>/<random>`: the random part tells this process from an earlier one that had the
 * same pid (a restarted container is pid 1 again).
 */
export function processOwner(): string {
  thisProcess ??= `${hostname()}/${process.pid}/${randomBytes(6).toString('hex')}`;
  return thisProcess;
}

export function newRunId(): string {
  return `run_${randomUUID().replaceAll('-', '')}`;
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** Rows in the chain: the total the CLI's progress shows. */
export async function countAudit(db: Database): Promise<number> {
  const [row] = await db.q.select({ n: count() }).from(db.t.auditEvents);
  return row?.n ?? 0;
}

/** SHA-256 over the row's canonical form, which includes the previous row's hash. */
export function hashAuditRow(row: Omit<AuditRow, 'seq' | 'hash'>): string {
  const body = canonical({
    id: row.id,
    run_id: row.runId,
    at: row.at,
    actor: row.actor,
    client_ip: row.clientIp,
    action: row.action,
    phase: row.phase,
    outcome: row.outcome,
    org_id: row.orgId,
    kind: row.kind,
    credential_key: row.credentialKey,
    detail: row.detail,
    prev_hash: row.prevHash,
  });
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Append one event at the chain's tip, committed before this returns. Appenders are serialised
 * (the `audit_chain` lock: every process and replica), so each reads the tip the previous one
 * wrote; the unique prev_hash is a second guard (the loser re-reads the tip and tries again). An
 * attempt opens its run in audit_open_runs and an outcome closes it, in the same transaction as
 * the row.
 */
export async function appendAudit(db: Database, input: AuditInput, now: string): Promise<AuditRow> {
  return (await append(db, input, now, false))!;
}

/**
 * Append an outcome only while its run is still open (recovery: a run closed meanwhile by its
 * own process or by another recovering process gets no second verdict). Null when it was closed.
 */
export async function appendOutcomeIfOpen(db: Database, input: AuditInput, now: string): Promise<AuditRow | null> {
  return append(db, input, now, true);
}

async function append(db: Database, input: AuditInput, now: string, onlyIfOpen: boolean): Promise<AuditRow | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.write(async (tx) => {
        const { q, t } = tx;
        await tx.lock('audit_chain');
        if (input.phase === 'outcome') {
          const closed = await q
            .delete(t.auditOpenRuns)
            .where(eq(t.auditOpenRuns.runId, input.runId))
            .returning({ runId: t.auditOpenRuns.runId });
          if (onlyIfOpen && closed.length === 0) return null;
        }
        const [tip] = await q
          .select({ hash: t.auditEvents.hash })
          .from(t.auditEvents)
          .orderBy(desc(t.auditEvents.seq))
          .limit(1);
        const row = {
          id: randomUUID(),
          runId: input.runId,
          at: now,
          actor: input.actor,
          clientIp: input.clientIp ?? null,
          action: input.action,
          phase: input.phase,
          outcome: input.outcome,
          orgId: input.orgId ?? null,
          kind: input.kind ?? null,
          credentialKey: input.credentialKey ?? null,
          detail: input.detail ?? {},
          prevHash: tip?.hash ?? GENESIS_HASH,
        };
        if (input.phase === 'attempt') {
          await q
            .insert(t.auditOpenRuns)
            .values({ runId: input.runId, owner: input.owner ?? processOwner(), openedAt: now });
        }
        const [written] = await q
          .insert(t.auditEvents)
          .values({ ...row, hash: hashAuditRow(row) })
          .returning();
        return written!;
      });
    } catch (error) {
      if (!isUniqueViolation(error, 'audit_events', 'prev_hash') || attempt >= 20) throw error;
    }
  }
}

export type OpenRun = Tables['auditOpenRuns']['$inferSelect'];

/** Runs with an attempt and no outcome yet, a keyset page (by run id) at a time. */
export async function listOpenRuns(db: Database, afterRunId: string | null, limit: number): Promise<OpenRun[]> {
  const { auditOpenRuns } = db.t;
  return db.q
    .select()
    .from(auditOpenRuns)
    .where(afterRunId === null ? undefined : gt(auditOpenRuns.runId, afterRunId))
    .orderBy(asc(auditOpenRuns.runId))
    .limit(limit);
}

/** Forget an open run whose attempt row does not exist (nothing to give an outcome to). */
export async function dropOpenRun(db: Database, runId: string): Promise<void> {
  await db.write(({ q, t }) => q.delete(t.auditOpenRuns).where(eq(t.auditOpenRuns.runId, runId)));
}

/** The attempt row of a run (what an outcome written by someone else repeats). */
export async function attemptOf(db: Database, runId: string): Promise<AuditRow | undefined> {
  const { auditEvents } = db.t;
  const [row] = await db.q
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.runId, runId), eq(auditEvents.phase, 'attempt')))
    .limit(1);
  return row;
}

export interface AuditFilter {
  orgId?: string;
  /** Only events of these orgs (an org-scoped admin's view). */
  orgIds?: string[];
  kind?: string;
  action?: string;
  outcome?: AuditOutcome;
  runId?: string;
  from?: string;
  to?: string;
}

/** Newest first, keyset-paginated by seq. */
export async function listAudit(
  db: Database,
  filter: AuditFilter,
  page: { beforeSeq?: number; limit: number },
): Promise<AuditRow[]> {
  const { auditEvents } = db.t;
  const where: SQL[] = [];
  if (filter.orgId) where.push(eq(auditEvents.orgId, filter.orgId));
  if (filter.orgIds) where.push(inArray(auditEvents.orgId, filter.orgIds));
  if (filter.kind) where.push(eq(auditEvents.kind, filter.kind));
  if (filter.action) where.push(eq(auditEvents.action, filter.action));
  if (filter.outcome) where.push(eq(auditEvents.outcome, filter.outcome));
  if (filter.runId) where.push(eq(auditEvents.runId, filter.runId));
  if (filter.from) where.push(gte(auditEvents.at, filter.from));
  if (filter.to) where.push(lte(auditEvents.at, filter.to));
  if (page.beforeSeq !== undefined) where.push(lt(auditEvents.seq, page.beforeSeq));
  return db.q
    .select()
    .from(auditEvents)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditEvents.seq))
    .limit(page.limit);
}

export interface AuditVerdict {
  ok: boolean;
  checked: number;
  tip: string;
  broken?: { seq: number; id: string; reason: string };
}

/**
 * Walk the chain oldest first. An edited row fails its own hash; a deleted or reordered row
 * breaks the next row's link to its predecessor.
 */
export async function verifyAudit(db: Database, onProgress?: (checked: number) => void): Promise<AuditVerdict> {
  const { auditEvents } = db.t;
  let prev = GENESIS_HASH;
  let checked = 0;
  let lastSeq = 0;
  for (;;) {
    const batch = await db.q
      .select()
      .from(auditEvents)
      .where(lastSeq ? gte(auditEvents.seq, lastSeq + 1) : undefined)
      .orderBy(asc(auditEvents.seq))
      .limit(1000);
    if (batch.length === 0) break;
    for (const row of batch) {
      if (row.prevHash !== prev) {
        return {
          ok: false,
          checked,
          tip: prev,
          broken: {
            seq: row.seq,
            id: row.id,
            reason: 'its prev_hash does not match the previous row: a row before it was deleted, inserted or reordered',
          },
        };
      }
      const { seq: _s, hash, ...rest } = row;
      if (hashAuditRow(rest) !== hash) {
        return {
          ok: false,
          checked,
          tip: prev,
          broken: { seq: row.seq, id: row.id, reason: 'its content does not match its hash: the row was edited' },
        };
      }
      prev = hash;
      checked++;
      lastSeq = row.seq;
    }
    onProgress?.(checked);
  }
  return { ok: true, checked, tip: prev };
}
