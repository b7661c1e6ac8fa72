import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CHECKPOINT_ACTION, type SigningKey, signCheckpoint } from '@alphaswarm/api';
import {
  type AuditKeyRing,
  appendAudit,
  auditRowsAfter,
  auditTip,
  CHAIN_ARCHIVED,
  type Checkpoint,
  type Database,
  deleteArchivedAudit,
  firstAuditSeq,
  insertCheckpoint,
  isoNow,
  lastAuditSeqBefore,
  latestCheckpoint,
  lowestDelivered,
  newRunId,
  toAuditRecord,
  writeStoreFileAtomic,
} from '@alphaswarm/db';
import type { Clock } from './delivery';

/*
 * The server's audit housekeeping: signed checkpoints every N events or T minutes, and retention
 * (archive to a signed JSONL file, then delete). Both run in the background, never on a request.
 */

export const AUDIT_SYSTEM_ACTOR = 'system:audit';

export interface CheckpointSigner {
  signingKey(): Promise<{ kid: string; key: SigningKey }>;
}

export interface AuditHousekeeping {
  db: Database;
  keys: AuditKeyRing;
  signer: CheckpointSigner;
  now: () => Date;
}

/**
 * Sign the chain's tip and record it: in the checkpoints table and as an `audit.checkpoint` row
 * (so every sink receives it in order). Null when nothing was appended since the last checkpoint.
 */
export async function writeCheckpoint(deps: AuditHousekeeping): Promise<(Checkpoint & { jws: string }) | null> {
  const key = await deps.signer.signingKey();
  return deps.db.write(async (tx) => {
    await tx.lock('audit_chain');
    const tip = await auditTip(tx);
    const latest = await latestCheckpoint(tx);
    if (!tip || (latest && tip.seq <= latest.lastSeq + 1)) return null;
    const now = deps.now();
    const cp: Checkpoint = { last_seq: tip.seq, last_link: tip.link, time: isoNow(now) };
    const jws = await signCheckpoint(key, cp);
    await insertCheckpoint(tx, { lastSeq: cp.last_seq, lastLink: cp.last_link, time: cp.time, kid: key.kid, jws });
    await appendAudit(
      tx,
      {
        runId: newRunId(),
        actor: AUDIT_SYSTEM_ACTOR,
        action: CHECKPOINT_ACTION,
        phase: 'event',
        outcome: 'success',
        detail: { ...cp, kid: key.kid, jws },
      },
      cp.time,
      deps.keys,
    );
    return { ...cp, jws };
  });
}

export interface CheckpointEvery {
  events: number | null;
  ms: number | null;
}

/** Whether a checkpoint is due: N events since the last one, or T since it (with something new). */
export async function checkpointDue(db: Database, every: CheckpointEvery, now: Date): Promise<boolean> {
  const tip = await auditTip(db);
  if (!tip) return false;
  const latest = await latestCheckpoint(db);
  // The checkpoint's own row does not count as news.
  const since = latest ? tip.seq - latest.lastSeq - 1 : tip.seq;
  if (since <= 0) return false;
  if (every.events !== null && since >= every.events) return true;
  if (every.ms === null) return false;
  const from = latest ? Date.parse(latest.time) : Date.parse((await auditRowsAfter(db, 0, 1))[0]?.at ?? tip.at);
  return now.getTime() - from >= every.ms;
}

export function startCheckpointer(
  deps: AuditHousekeeping & { every: CheckpointEvery; clock: Clock; log: { warn(obj: object, msg: string): void } },
  pollMs = 5_000,
): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        if (await checkpointDue(deps.db, deps.every, deps.clock.now())) await writeCheckpoint(deps);
      } catch (error) {
        deps.log.warn({ err: { message: (error as Error).message } }, 'audit checkpoint failed; retrying');
      }
      await deps.clock.sleep(Math.min(pollMs, deps.every.ms ?? pollMs), stopping.signal);
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}

export interface RetentionOptions {
  days: number;
  dir: string;
  /** Sinks configured now: rows they have not taken yet are kept. */
  sinks: readonly string[];
}

/**
 * Archive every row older than the retention to a signed JSONL file (records, then a checkpoint of
 * the last one), then record the cut in the chain (`audit.archived` with the last archived seq and
 * link) and delete the archived rows, in one transaction. The chain stays verifiable across the
 * cut: the first kept row links to the archived tip the cut row names.
 */
export async function archiveExpired(
  deps: AuditHousekeeping,
  opts: RetentionOptions,
): Promise<{ file: string; rows: number; throughSeq: number } | null> {
  const now = deps.now();
  const cutoff = isoNow(new Date(now.getTime() - opts.days * 86_400_000));
  let through = await lastAuditSeqBefore(deps.db, cutoff);
  const delivered = await lowestDelivered(deps.db, opts.sinks);
  if (through !== null && delivered !== null) through = Math.min(through, delivered);
  const first = await firstAuditSeq(deps.db);
  if (through === null || first === null || through < first) return null;

  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const file = join(opts.dir, `audit-${String(first).padStart(12, '0')}-${String(through).padStart(12, '0')}.jsonl`);
  const hash = createHash('sha256');
  let last: { seq: number; link: string } | null = null;
  let rows = 0;
  const key = await deps.signer.signingKey();
  async function* lines(): AsyncIterable<string> {
    let after = first! - 1;
    for (;;) {
      const batch = (await auditRowsAfter(deps.db, after, 1000)).filter((r) => r.seq <= through!);
      if (batch.length === 0) break;
      const text = `${batch.map((r) => JSON.stringify(toAuditRecord(r))).join('\n')}\n`;
      hash.update(text);
      yield text;
      rows += batch.length;
      last = { seq: batch.at(-1)!.seq, link: batch.at(-1)!.hash };
      after = last.seq;
      if (after >= through!) break;
    }
    if (!last) return;
    const cp: Checkpoint = { last_seq: last.seq, last_link: last.link, time: isoNow(now) };
    yield `${JSON.stringify({ type: 'checkpoint', ...cp, jws: await signCheckpoint(key, cp) })}\n`;
  }
  await writeStoreFileAtomic(file, lines());
  const tip = last as { seq: number; link: string } | null;
  if (!tip) return null;
  await deps.db.write(async (tx) => {
    await tx.lock('audit_chain');
    await appendAudit(
      tx,
      {
        runId: newRunId(),
        actor: AUDIT_SYSTEM_ACTOR,
        action: CHAIN_ARCHIVED,
        phase: 'event',
        outcome: 'success',
        detail: {
          through_seq: tip.seq,
          through_link: tip.link,
          file: basename(file),
          sha256: hash.digest('hex'),
          rows,
        },
      },
      isoNow(now),
      deps.keys,
    );
    await deleteArchivedAudit(tx, {
      throughSeq: tip.seq,
      throughLink: tip.link,
      file: basename(file),
      archivedAt: isoNow(now),
    });
  });
  return { file, rows, throughSeq: tip.seq };
}

/** Retention runs at start and then hourly; an archive is a no-op when nothing is old enough. */
export const RETENTION_INTERVAL_MS = 3_600_000;

export function startRetention(
  deps: AuditHousekeeping & {
    retention: RetentionOptions;
    clock: Clock;
    log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  },
): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const done = await archiveExpired(deps, deps.retention);
        if (done)
          deps.log.info({ file: done.file, rows: done.rows, through_seq: done.throughSeq }, 'audit events archived');
      } catch (error) {
        deps.log.warn({ err: { message: (error as Error).message } }, 'audit retention failed; retrying later');
      }
      await deps.clock.sleep(RETENTION_INTERVAL_MS, stopping.signal);
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
