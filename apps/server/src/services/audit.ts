import { appendAudit, isoNow, newRunId } from '@alphaswarm/db';
import { AppError, toAppError, wireCode } from '../errors';
import type { Runtime } from '../runtime';

export interface Actor {
  actor: string;
  clientIp: string | null;
}

export interface AuditTarget {
  orgId?: string | null;
  kind?: string | null;
  credentialKey?: string | null;
}

/**
 * Audit-first: the attempt is committed before `act` runs; if that write fails the action is
 * refused (fail closed) and nothing changes. The outcome is recorded after, success or not.
 */
export async function audited<T>(
  rt: Runtime,
  who: Actor,
  action: string,
  target: AuditTarget,
  act: (runId: string) => Promise<T>,
  describe?: (result: T) => Record<string, unknown>,
): Promise<T> {
  const runId = newRunId();
  const base = { runId, actor: who.actor, clientIp: who.clientIp, action, ...target };
  try {
    await appendAudit(rt.store.db, { ...base, phase: 'attempt', outcome: 'started' }, isoNow(rt.now()));
  } catch (error) {
    rt.logger.error({ err: { message: (error as Error).message }, action, runId }, 'audit write failed; action refused');
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
    await appendOutcome(rt, { ...base, phase: 'outcome', outcome: 'failure', detail: { code: wireCode(app), status: app.status, message: app.message } });
    throw error;
  }
  await appendOutcome(rt, { ...base, phase: 'outcome', outcome: 'success', detail: describe?.(result) ?? {} });
  return result;
}

async function appendOutcome(rt: Runtime, event: Parameters<typeof appendAudit>[1]): Promise<void> {
  try {
    await appendAudit(rt.store.db, event, isoNow(rt.now()));
  } catch (error) {
    // The action already happened; losing its outcome row is logged loudly but cannot undo it.
    rt.logger.error({ err: { message: (error as Error).message }, runId: event.runId }, 'audit outcome write failed');
  }
}

/** Denied calls are audited too; a failing audit write must not turn a 401 into a 500. */
export async function auditDenied(rt: Runtime, who: Actor, action: string, target: AuditTarget, error: AppError): Promise<void> {
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
    rt.logger.error({ err: { message: (auditError as Error).message }, action }, 'audit write for a denied call failed');
  }
}
