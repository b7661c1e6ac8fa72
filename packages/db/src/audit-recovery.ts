import { hostname } from 'node:os';
import type { AuditKeyRing } from './audit/key-ring';
import { isoNow } from './clock';
import type { Database } from './database';
import { appendOutcomeIfOpen, attemptOf, dropOpenRun, listOpenRuns, type OpenRun, processOwner } from './repo/audit';

/** A run is never in flight this long; past it, its owner is presumed gone wherever it ran. */
export const OPEN_RUN_MAX_AGE_MS = 3600 * 1000;

export const INTERRUPTED = {
  code: 'interrupted',
  message:
    'The process stopped (or could not write to the database) before it recorded how this run ended; whether the change took effect is unknown: check the resource.',
} as const;

export interface RecoveryOptions {
  now: Date;
  /** This process: its own open runs are in flight (or waiting to be written), never closed here. */
  owner?: string;
  maxAgeMs?: number;
  /** Whether the process that opened a run still runs (default: asks the OS, for this host). */
  isAlive?: (owner: string) => boolean;
  /** The audit key ring the outcomes are linked under (null: the plain chain). */
  keys?: AuditKeyRing | null;
}

/**
 * Whether `owner` (`<host>/<pid>/<random>`) is a live process. One on another host cannot be
 * asked: it counts as alive, and only the age limit closes its runs.
 */
export function ownerIsAlive(owner: string, self = processOwner()): boolean {
  const parts = owner.split('/');
  if (parts.length < 3) return false;
  const pid = Number(parts.at(-2));
  const host = parts.slice(0, -2).join('/');
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // Our pid under another random part: an earlier process that had our pid.
  if (pid === process.pid) return owner === self;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Give every run whose writer is gone an outcome (`failure`, code `interrupted`), appended to
 * the chain like any row, so the log stays verifiable and no attempt stays without a verdict.
 * Run at start-up and periodically. Returns the run ids it closed.
 */
export async function closeInterruptedRuns(db: Database, opts: RecoveryOptions): Promise<string[]> {
  const self = opts.owner ?? processOwner();
  const alive = opts.isAlive ?? ((owner: string) => ownerIsAlive(owner, self));
  const oldest = opts.now.getTime() - (opts.maxAgeMs ?? OPEN_RUN_MAX_AGE_MS);
  const at = isoNow(opts.now);
  const closed: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: OpenRun[] = await listOpenRuns(db, after, 500);
    if (page.length === 0) return closed;
    after = page.at(-1)!.runId;
    for (const run of page) {
      if (await closeIfGone(db, run, { self, alive, oldest, at, keys: opts.keys ?? null })) closed.push(run.runId);
    }
  }
}

async function closeIfGone(
  db: Database,
  run: OpenRun,
  {
    self,
    alive,
    oldest,
    at,
    keys,
  }: { self: string; alive: (owner: string) => boolean; oldest: number; at: string; keys: AuditKeyRing | null },
): Promise<boolean> {
  if (run.owner === self) return false;
  if (Date.parse(run.openedAt) > oldest && alive(run.owner)) return false;
  const attempt = await attemptOf(db, run.runId);
  if (!attempt) {
    await dropOpenRun(db, run.runId);
    return false;
  }
  const row = await appendOutcomeIfOpen(
    db,
    {
      runId: run.runId,
      actor: attempt.actor,
      clientIp: attempt.clientIp,
      action: attempt.action,
      phase: 'outcome',
      outcome: 'failure',
      orgId: attempt.orgId,
      kind: attempt.kind,
      credentialKey: attempt.credentialKey,
      detail: { ...INTERRUPTED, recorded_by: 'recovery', opened_at: run.openedAt },
    },
    at,
    keys,
  );
  return row !== null;
}
