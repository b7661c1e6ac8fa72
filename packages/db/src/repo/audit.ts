import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { and, asc, count, desc, eq, gt, gte, inArray, lt, lte, type SQL } from 'drizzle-orm';
import {
  CHAIN_UPGRADED,
  type ChainVerdict,
  ChainVerifier,
  type ChainVerifierOptions,
  GENESIS_LINK,
  KEY_ROTATED,
  linkRow,
  plainLink,
} from '../audit/chain';
import type { AuditKey, AuditKeyRing } from '../audit/key-ring';
import type { Database, Tables } from '../database';
import { isUniqueViolation } from '../store';

export type AuditRow = Tables['auditEvents']['$inferSelect'];

export const GENESIS_HASH = GENESIS_LINK;

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

/** Rows in the chain: the total the CLI's progress shows. */
export async function countAudit(db: Database): Promise<number> {
  const [row] = await db.q.select({ n: count() }).from(db.t.auditEvents);
  return row?.n ?? 0;
}

/** The plain SHA-256 link of the chain before it was keyed (what `audit-verify` used to trust). */
export function hashAuditRow(row: Omit<AuditRow, 'seq' | 'hash'>): string {
  return plainLink(row);
}

/**
 * Append one event at the chain's tip, committed before this returns. Appenders are serialised
 * (the `audit_chain` lock: every process and replica), so each reads the tip the previous one
 * wrote; the unique prev_hash is a second guard (the loser re-reads the tip and tries again). An
 * attempt opens its run in audit_open_runs and an outcome closes it, in the same transaction as
 * the row.
 */
export async function appendAudit(
  db: Database,
  input: AuditInput,
  now: string,
  keys?: AuditKeyRing | null,
): Promise<AuditRow> {
  return (await append(db, input, now, false, keys ?? null))!;
}

/**
 * Append an outcome only while its run is still open (recovery: a run closed meanwhile by its
 * own process or by another recovering process gets no second verdict). Null when it was closed.
 */
export async function appendOutcomeIfOpen(
  db: Database,
  input: AuditInput,
  now: string,
  keys?: AuditKeyRing | null,
): Promise<AuditRow | null> {
  return append(db, input, now, true, keys ?? null);
}

type Tip = { seq: number; hash: string; keyId: string | null };

async function readTip(tx: Database): Promise<Tip | undefined> {
  const { auditEvents } = tx.t;
  const [tip] = await tx.q
    .select({ seq: auditEvents.seq, hash: auditEvents.hash, keyId: auditEvents.keyId })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return tip;
}

type NewRow = Omit<AuditRow, 'seq' | 'hash'>;

async function insertLinked(tx: Database, row: NewRow, key: AuditKey | null): Promise<AuditRow> {
  const [written] = await tx.q
    .insert(tx.t.auditEvents)
    .values({ ...row, hash: linkRow(row, key) })
    .returning();
  return written!;
}

function systemRow(
  now: string,
  prevHash: string,
  key: AuditKey,
  action: string,
  detail: Record<string, unknown>,
): NewRow {
  return {
    id: randomUUID(),
    runId: newRunId(),
    at: now,
    actor: 'system:audit',
    clientIp: null,
    action,
    phase: 'event',
    outcome: 'success',
    orgId: null,
    kind: null,
    credentialKey: null,
    detail,
    prevHash,
    keyId: key.id,
  };
}

/**
 * Keep the chain's key in step with the ring, in the append's transaction: a plain chain gets its
 * upgrade anchor (the old tip's seq and link, linked under the key), a tip under another key gets
 * the rotation row, before anything else is linked under the new key.
 */
async function bridgeKey(
  tx: Database,
  tip: Tip | undefined,
  keys: AuditKeyRing,
  now: string,
): Promise<Tip | undefined> {
  const key = keys.primary;
  if (!tip || tip.keyId === key.id) return tip;
  const detail = tip.keyId === null ? { anchor_seq: tip.seq, anchor_link: tip.hash } : { from: tip.keyId, to: key.id };
  const written = await insertLinked(
    tx,
    systemRow(now, tip.hash, key, tip.keyId === null ? CHAIN_UPGRADED : KEY_ROTATED, detail),
    key,
  );
  return { seq: written.seq, hash: written.hash, keyId: key.id };
}

/**
 * Record the ring's key in the chain now (at start), so an upgrade or a rotation is in the log
 * before the first action is. Returns the row written, if one was needed.
 */
export async function anchorAuditKey(db: Database, keys: AuditKeyRing, now: string): Promise<boolean> {
  return db.write(async (tx) => {
    await tx.lock('audit_chain');
    const tip = await readTip(tx);
    return (await bridgeKey(tx, tip, keys, now)) !== tip;
  });
}

async function append(
  db: Database,
  input: AuditInput,
  now: string,
  onlyIfOpen: boolean,
  keys: AuditKeyRing | null,
): Promise<AuditRow | null> {
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
        let tip = await readTip(tx);
        if (keys) tip = await bridgeKey(tx, tip, keys, now);
        const row: NewRow = {
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
          keyId: keys?.primary.id ?? null,
        };
        if (input.phase === 'attempt') {
          await q
            .insert(t.auditOpenRuns)
            .values({ runId: input.runId, owner: input.owner ?? processOwner(), openedAt: now });
        }
        return insertLinked(tx, row, keys?.primary ?? null);
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

export interface AuditVerdict extends ChainVerdict {
  /** The first divergence in the shape the console shows. */
  broken?: { seq: number; id: string; reason: string };
}

/**
 * Walk the chain oldest first, a batch at a time: every link recomputed (keyed ones under `ring`),
 * every checkpoint given matched; the first divergence is named.
 */
export async function verifyAudit(
  db: Database,
  opts: ChainVerifierOptions & { onProgress?: (checked: number) => void } = {},
): Promise<AuditVerdict> {
  const { onProgress, ...verifierOptions } = opts;
  const verifier = new ChainVerifier(verifierOptions);
  let after = 0;
  let checked = 0;
  for (;;) {
    const batch = await auditRowsBetween(db, after, 1000, {});
    if (batch.length === 0) break;
    if (!batch.every((row) => verifier.push(row))) break;
    checked += batch.length;
    after = batch.at(-1)!.seq;
    onProgress?.(checked);
  }
  const verdict = verifier.finish();
  const d = verdict.divergence;
  return d ? { ...verdict, broken: { seq: d.seq, id: d.id ?? '', reason: d.message } } : verdict;
}

/** Rows after `afterSeq` in seq order, optionally within `[since, until)` by time. */
export async function auditRowsBetween(
  db: Database,
  afterSeq: number,
  limit: number,
  range: { since?: string | undefined; until?: string | undefined },
): Promise<AuditRow[]> {
  const { auditEvents } = db.t;
  const where: SQL[] = [gt(auditEvents.seq, afterSeq)];
  if (range.since) where.push(gte(auditEvents.at, range.since));
  if (range.until) where.push(lt(auditEvents.at, range.until));
  return db.q
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(asc(auditEvents.seq))
    .limit(limit);
}
