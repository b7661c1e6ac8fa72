import type { AuditAction } from '@alphaswarm/contracts';
import {
  type AuditInput,
  type AuditKeyRing,
  type AuditOutcome,
  type AuditPhase,
  admitDenial,
  appendAudit,
  closeInterruptedRuns,
  type Database,
  isoNow,
  newRunId,
  pruneDenialWindows,
} from '@alphaswarm/db';
import type { ApiMetrics } from '../deps';
import { AppError, toAppError, wireCode } from '../errors';

/*
 * The one audit writer: API procedures, REST (through them), the embedded IdP, the CLI and the
 * system (first-start import, recovery) all write through here. Two paths:
 *  - fail closed: `audited` commits the attempt before the action and refuses it when that write
 *    fails; its outcome is written after, or waits in the backlog until the database takes it.
 *    `auditedEvent` is the same for a single row (a sign-in that issues a token).
 *  - tolerant: `auditEvent` / `auditDenied` for failures and denials, through the per-address
 *    throttle; a row that cannot be written is logged and the caller still gets its answer.
 */

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

export interface AuditLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where audit rows go: the API's context, the server's runtime, or a CLI command's database. */
export interface AuditSink {
  db: Database;
  now: () => Date;
  logger: AuditLog;
  /** Bounds how many denied calls one address can write, so no one fills the audit log anonymously. */
  denials?: DenialThrottle;
  /** Where an outcome row waits when it cannot be written at the time (full disk). */
  outcomes?: OutcomeBacklog;
  /** The keys the chain is linked under (ALPHASWARM_ADMIN_AUDIT_KEY). */
  auditKeys: AuditKeyRing | null;
  metrics?: Pick<ApiMetrics, 'auditAppend'>;
}

/** Every append of this writer, timed for the audit-append latency metric. */
async function append(sink: AuditSink, event: AuditInput, at: string): Promise<void> {
  const started = performance.now();
  await appendAudit(sink.db, event, at, sink.auditKeys);
  sink.metrics?.auditAppend((performance.now() - started) / 1000);
}

/**
 * Outcome rows whose write failed (the change itself was committed, or refused): kept in order
 * and written as soon as the database takes writes again, with the time the run ended. One lost
 * with the process leaves its run open, and recovery closes it as `interrupted`.
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
  async flush(db: Database, keys: AuditKeyRing | null): Promise<number> {
    while (this.rows.length > 0) {
      const { event, at } = this.rows[0]!;
      try {
        await appendAudit(db, event, at, keys);
      } catch {
        break;
      }
      this.rows.shift();
    }
    return this.rows.length;
  }
}

/**
 * At most `perMinute` throttled rows per client address per minute; the rest are counted and the
 * count rides on that address's next written row (`suppressed_since_last`), so nothing is
 * silently lost and an unauthenticated flood cannot grow the append-only table without bound.
 * The windows live in the database, so every replica draws on one budget per address.
 */
export class DenialThrottle {
  private prunedAt = 0;

  constructor(private readonly perMinute = 30) {}

  /** null: do not write; otherwise how many were suppressed since the last written row. */
  async admit(db: Database, address: string | null, now: Date): Promise<number | null> {
    if (now.getTime() - this.prunedAt >= 60_000) {
      this.prunedAt = now.getTime();
      await pruneDenialWindows(db, now);
    }
    return admitDenial(db, address ?? 'unknown', this.perMinute, now);
  }
}

function auditUnavailable(refused: string): AppError {
  return new AppError(
    'audit_unavailable',
    `The audit log could not be written, so ${refused}. Check the database, then retry.`,
  );
}

/**
 * Audit-first: the attempt is committed before `act` runs; if that write fails the action is
 * refused (fail closed) and nothing changes. The outcome is recorded after, success or not.
 */
export async function audited<T>(
  sink: AuditSink,
  who: Actor,
  action: AuditAction,
  target: AuditTarget,
  act: (runId: string) => Promise<T>,
  describe?: (result: T) => Record<string, unknown>,
): Promise<T> {
  const runId = newRunId();
  const { detail = {}, ...where } = target;
  const base = { runId, actor: who.actor, clientIp: who.clientIp, action, ...where };
  try {
    await append(sink, { ...base, phase: 'attempt', outcome: 'started', detail }, isoNow(sink.now()));
  } catch (error) {
    sink.logger.error(
      { err: { message: (error as Error).message }, action, runId },
      'audit write failed; action refused',
    );
    throw auditUnavailable('the action was refused and nothing changed');
  }
  let result: T;
  try {
    result = await act(runId);
  } catch (error) {
    const app = toAppError(error);
    await appendOutcome(sink, {
      ...base,
      phase: 'outcome',
      outcome: 'failure',
      detail: { ...detail, code: wireCode(app), status: app.status, message: app.message },
    });
    throw error;
  }
  await appendOutcome(sink, {
    ...base,
    phase: 'outcome',
    outcome: 'success',
    detail: { ...detail, ...describe?.(result) },
  });
  return result;
}

async function appendOutcome(sink: AuditSink, event: AuditInput): Promise<void> {
  const at = isoNow(sink.now());
  try {
    await append(sink, event, at);
  } catch (error) {
    // The action is over either way: its verdict waits for the database instead of being lost.
    sink.outcomes?.add(event, at);
    sink.logger.error(
      { err: { message: (error as Error).message }, runId: event.runId, queued: sink.outcomes !== undefined },
      'audit outcome write failed; kept to be written when the database takes writes again',
    );
  }
}

export interface AuditEvent {
  phase: Extract<AuditPhase, 'event' | 'denied'>;
  outcome: AuditOutcome;
  detail: Record<string, unknown>;
}

/**
 * One row that records something that happened (a failed sign-in step, a lockout, a sign-out).
 * Throttled per client address unless `throttled: false` (rows that must always exist: lockouts,
 * revocations). Never throws: a row the database refuses is logged, and the caller answers anyway.
 */
export async function auditEvent(
  sink: AuditSink,
  who: Actor,
  action: AuditAction,
  event: AuditEvent,
  opts: { throttled?: boolean; target?: AuditTarget | (() => Promise<AuditTarget>) } = {},
): Promise<void> {
  let suppressed = 0;
  if (opts.throttled !== false && sink.denials) {
    let admitted: number | null = 0;
    try {
      admitted = await sink.denials.admit(sink.db, who.clientIp, sink.now());
    } catch (error) {
      // The database refused the count too (full disk): the row below is tried, and its failure logged.
      sink.logger.error({ err: { message: (error as Error).message }, action }, 'denial bound not updated');
    }
    // A suppressed row costs nothing more: its target (which may need the request body) is never worked out.
    if (admitted === null) return;
    suppressed = admitted;
  }
  try {
    const { detail: _ignored, ...where } =
      typeof opts.target === 'function' ? await opts.target() : (opts.target ?? {});
    await append(
      sink,
      {
        runId: newRunId(),
        actor: who.actor,
        clientIp: who.clientIp,
        action,
        phase: event.phase,
        outcome: event.outcome,
        ...where,
        detail: { ...event.detail, ...(suppressed ? { suppressed_since_last: suppressed } : {}) },
      },
      isoNow(sink.now()),
    );
  } catch (error) {
    sink.logger.error({ err: { message: (error as Error).message }, action }, `audit write for ${action} failed`);
  }
}

/** A denied call (401, 403, 404 of scope): throttled; a failing write must not turn a 401 into a 500. */
export function auditDenied(
  sink: AuditSink,
  who: Actor,
  action: AuditAction,
  target: AuditTarget | (() => Promise<AuditTarget>),
  error: AppError,
): Promise<void> {
  return auditEvent(
    sink,
    who,
    action,
    { phase: 'denied', outcome: 'denied', detail: { code: wireCode(error), status: error.status } },
    { target },
  );
}

/**
 * A single row that must exist before its effect leaves (a sign-in step that issues a token):
 * if it cannot be written, nothing is issued (`refused` says what, for the message).
 */
export async function auditedEvent(
  sink: AuditSink,
  who: Actor,
  action: AuditAction,
  detail: Record<string, unknown>,
  refused: string,
): Promise<void> {
  try {
    await append(
      sink,
      {
        runId: newRunId(),
        actor: who.actor,
        clientIp: who.clientIp,
        action,
        phase: 'event',
        outcome: 'success',
        detail,
      },
      isoNow(sink.now()),
    );
  } catch (error) {
    sink.logger.error({ err: { message: (error as Error).message }, action }, `audit write failed; ${refused}`);
    throw auditUnavailable(refused);
  }
}

/** How often a running server retries waiting outcomes and closes runs of processes that died. */
export const RECOVERY_INTERVAL_MS = 60_000;

/**
 * Give every audit attempt its outcome: first the outcomes this process still holds (written
 * when the database refused them), then `interrupted` for the runs of processes that are gone.
 * A database that still cannot write is logged and left for the next pass.
 */
export async function recoverAudit(
  store: { db: Database; auditKeys: AuditKeyRing | null },
  log: AuditLog,
  opts: { now: Date; outcomes?: OutcomeBacklog },
): Promise<{ waiting: number; interrupted: string[] }> {
  let waiting = 0;
  let interrupted: string[] = [];
  try {
    waiting = (await opts.outcomes?.flush(store.db, store.auditKeys)) ?? 0;
    interrupted = await closeInterruptedRuns(store.db, { now: opts.now, keys: store.auditKeys });
  } catch (error) {
    log.error({ err: { message: (error as Error).message } }, 'audit recovery could not write; retrying later');
    waiting = opts.outcomes?.size ?? 0;
  }
  if (interrupted.length > 0) {
    log.warn(
      { count: interrupted.length, run_ids: interrupted.slice(0, 20) },
      `${interrupted.length} audited run(s) of a process that stopped had no outcome; recorded them as interrupted`,
    );
  }
  if (waiting > 0) log.warn({ count: waiting }, `${waiting} audit outcome(s) still wait for the database`);
  return { waiting, interrupted };
}

/** Run recoverAudit every `intervalMs`, never overlapping; `stop` makes a last attempt. */
export function startAuditRecovery(
  rt: { db: Database; auditKeys: AuditKeyRing | null; logger: AuditLog; now: () => Date; outcomes: OutcomeBacklog },
  intervalMs = RECOVERY_INTERVAL_MS,
): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const pass = () =>
    recoverAudit(rt, rt.logger, { now: rt.now(), outcomes: rt.outcomes }).finally(() => {
      running = null;
    });
  const timer = setInterval(() => {
    running ??= pass();
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await pass();
    },
  };
}
