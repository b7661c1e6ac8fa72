import { appendAudit, type Db, isoNow, newRunId } from '@alphaswarm/db';
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
  store: { db: Db };
  now: () => Date;
  logger: { error(obj: object, msg: string): void };
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

async function appendOutcome(rt: AuditSink, event: Parameters<typeof appendAudit>[1]): Promise<void> {
  try {
    await appendAudit(rt.store.db, event, isoNow(rt.now()));
  } catch (error) {
    // The action already happened; losing its outcome row is logged loudly but cannot undo it.
    rt.logger.error({ err: { message: (error as Error).message }, runId: event.runId }, 'audit outcome write failed');
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
        detail: { code: wireCode(error), status: error.status },
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
