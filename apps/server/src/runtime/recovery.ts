import { closeInterruptedRuns, type Store } from '@alphaswarm/db';
import type { OutcomeBacklog } from '../services/audit';

/** How often a running server retries waiting outcomes and closes runs of processes that died. */
export const RECOVERY_INTERVAL_MS = 60_000;

export interface RecoveryLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Give every audit attempt its outcome: first the outcomes this process still holds (written
 * when the database refused them), then `interrupted` for the runs of processes that are gone.
 * A database that still cannot write is logged and left for the next pass.
 */
export async function recoverAudit(
  store: Pick<Store, 'db'>,
  log: RecoveryLog,
  opts: { now: Date; outcomes?: OutcomeBacklog },
): Promise<{ waiting: number; interrupted: string[] }> {
  let waiting = 0;
  let interrupted: string[] = [];
  try {
    waiting = (await opts.outcomes?.flush(store.db)) ?? 0;
    interrupted = await closeInterruptedRuns(store.db, { now: opts.now });
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
  rt: { store: Pick<Store, 'db'>; logger: RecoveryLog; now: () => Date; outcomes: OutcomeBacklog },
  intervalMs = RECOVERY_INTERVAL_MS,
): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const pass = () =>
    recoverAudit(rt.store, rt.logger, { now: rt.now(), outcomes: rt.outcomes }).finally(() => {
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
