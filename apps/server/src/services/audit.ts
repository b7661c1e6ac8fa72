import { type AuditInput, appendAudit, type Database, isoNow, newRunId } from '@alphaswarm/db';
import { AppError, toAppError, wireCode } from '../errors';

export interface Actor {
  actor: string;
  clientIp: string | null;
}

export interface AuditTarget {
  orgId?: string | null;
  kind?: string | null;
  credentialKey?: string | null;
  /** Extra facts for the attempt row (counts, file names): never a secret. */
  detail?: Record<string, unknown>;
}

/** Where audit rows go: the server's runtime, or a CLI command's database. */
export interface AuditSink {
  store: { db: Database };
  now: () => Date;
  logger: { error(obj: object, msg: string): void };
  /** Bounds how many denied calls one address can write, so no one fills the audit log anonymously. */
  denials?: DenialThrottle;
  /** Where an outcome row waits when it cannot be written at the time (full disk). */
  outcomes?: OutcomeBacklog;
}

/**
 * Outcome rows whose write failed (the change itself was committed, or refused): kept in order
 * and written as soon as the database takes writes again, with the time the run ended. One lost
 * with the process leaves its run open, and start-up recovery closes it as `interrupted`.
 */
export class OutcomeBacklog {
  private readonly rows: { event: AuditInput; at: string }[] = [];

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.rows.length;
  }

  add(event: AuditInput, at: string): void {
    // Past the bound the oldest is dropped: its run stays open and recovery still closes it.
    if (this.rows.length >= this.max) this.rows.shift();
    this.rows.push({ event, at });
  }

  /** Write what it can, oldest first; stops at the first failure. Returns how many remain. */
  async flush(db: Database): Promise<number> {
    while (this.rows.length > 0) {
      const { event, at } = this.rows[0]!;
      try {
        await appendAudit(db, event, at);
      } catch {
        break;
      }
      this.rows.shift();
    }
    return this.rows.length;
  }
}

/**
 * At most `perMinute` denial rows per client address per minute; the rest are counted and the
 * count rides on that address's next recorded denial (`suppressed_since_last`), so nothing is
 * silently lost and an unauthenticated flood cannot grow the append-only table without bound.
 */
export class DenialThrottle {
  private readonly windows = new Map<string, { start: number; written: number; suppressed: number }>();

  constructor(
    private readonly perMinute = 30,
    private readonly maxAddresses = 10_000,
  ) {}

  /** null: do not write; otherwise how many were suppressed since the last written row. */
  admit(address: string | null, now: number): number | null {
    const key = address ?? 'unknown';
    let w = this.windows.get(key);
    if (!w || now - w.start >= 60_000) {
      const suppressed = w?.suppressed ?? 0;
      if (!w && this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value as string);
      w = { start: now, written: 0, suppressed };
      this.windows.set(key, w);
    }
    if (w.written >= this.perMinute) {
      w.suppressed++;
      return null;
    }
    w.written++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return suppressed;
  }
}

/**
 * Audit-first: the attempt is committed before `act` runs; if that write fails the action is
 * refused (fail closed) and nothing changes. The outcome is recorded after, success or not.
 */
export async function audited<T>(
  rt: AuditSink,
  who: Actor,
  action: string,
  target: AuditTarget,
  act: (runId: string) => Promise<T>,
  describe?: (result: T) => Record<string, unknown>,
): Promise<T> {
  const runId = newRunId();
  const { detail = {}, ...where } = target;
  const base = { runId, actor: who.actor, clientIp: who.clientIp, action, ...where };
  try {
    await appendAudit(rt.store.db, { ...base, phase: 'attempt', outcome: 'started', detail }, isoNow(rt.now()));
  } catch (error) {
    rt.logger.error(
      { err: { message: (error as Error).message }, action, runId },
      'audit write failed; action refused',
    );
    throw new AppError(
      'audit_unavailable',
      'The audit log could not be written, so the action was refused and nothing changed. Check the database, then retry.',
    );
  }
  let result: T;
  try {
    result = await act(runId);
  } catch (error) {
    const app = toAppError(error);
    await appendOutcome(rt, {
      ...base,
      phase: 'outcome',
      outcome: 'failure',
      detail: { ...detail, code: wireCode(app), status: app.status, message: app.message },
    });
    throw error;
  }
  await appendOutcome(rt, {
    ...base,
    phase: 'outcome',
    outcome: 'success',
    detail: { ...detail, ...describe?.(result) },
  });
  return result;
}

async function appendOutcome(rt: AuditSink, event: AuditInput): Promise<void> {
  const at = isoNow(rt.now());
  try {
    await appendAudit(rt.store.db, event, at);
  } catch (error) {
    // The action is over either way: its verdict waits for the database instead of being lost.
    rt.outcomes?.add(event, at);
    rt.logger.error(
      { err: { message: (error as Error).message }, runId: event.runId, queued: rt.outcomes !== undefined },
      'audit outcome write failed; kept to be written when the database takes writes again',
    );
  }
}

/** Denied calls are audited too; a failing audit write must not turn a 401 into a 500. */
export async function auditDenied(
  rt: AuditSink,
  who: Actor,
  action: string,
  target: AuditTarget,
  error: AppError,
): Promise<void> {
  const suppressed = rt.denials ? rt.denials.admit(who.clientIp, rt.now().getTime()) : 0;
  if (suppressed === null) return;
  try {
    await appendAudit(
      rt.store.db,
      {
        runId: newRunId(),
        actor: who.actor,
        clientIp: who.clientIp,
        action,
        phase: 'denied',
        outcome: 'denied',
        ...target,
        detail: {
          code: wireCode(error),
          status: error.status,
          ...(suppressed ? { suppressed_since_last: suppressed } : {}),
        },
      },
      isoNow(rt.now()),
    );
  } catch (auditError) {
    rt.logger.error(
      { err: { message: (auditError as Error).message }, action },
      'audit write for a denied call failed',
    );
  }
}
