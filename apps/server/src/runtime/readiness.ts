import { isoNow, probeWrite } from '@alphaswarm/db';
import { SINK_LAG_DEGRADED_SECONDS } from '../audit/stream';
import type { Runtime } from '../runtime';

/**
 * At most one round of database checks per second, however often /readyz is asked (it is
 * unauthenticated): a write probe, and whether the schema is this build's.
 */
const CHECK_EVERY_MS = 1_000;
const lastCheck = new WeakMap<Runtime, { at: number; writable: boolean; migrations: boolean }>();

async function databaseChecks(rt: Runtime): Promise<{ writable: boolean; migrations: boolean }> {
  const now = rt.now().getTime();
  const last = lastCheck.get(rt);
  if (last && now - last.at < CHECK_EVERY_MS && now >= last.at) return last;
  let writable = true;
  try {
    await probeWrite(rt.store.db, isoNow(rt.now()));
  } catch {
    writable = false;
  }
  let migrations = false;
  try {
    const state = await rt.store.migrations();
    migrations = state.pending === 0 && !state.ahead;
  } catch {
    migrations = false;
  }
  const result = { at: now, writable, migrations };
  lastCheck.set(rt, result);
  return result;
}

export interface ReadinessBody {
  status: 'ready' | 'degraded' | 'not_ready';
  checks: Record<string, boolean>;
  /** Per configured audit sink: records not yet delivered, the oldest one's age, failures in a row. */
  audit_sinks?: { sink: string; pending: number; oldest_pending_seconds: number; attempts: number }[];
}

/**
 * Ready when the database answers, takes a committed write (a full disk or a read-only volume
 * makes every mutation fail), has exactly this build's migrations (a replica of an older or newer
 * build must not serve), and the keyring round-trips a secret. An audit sink that lags or fails
 * makes it `degraded`, still 200: our own log keeps the write-before-act guarantee, so a SIEM
 * being down must not take the service out of a load balancer.
 */
export async function readiness(rt: Runtime): Promise<[number, ReadinessBody]> {
  const checks: Record<string, boolean> = {
    database: await rt.store.ping(),
    writable: false,
    migrations: false,
    keyring: false,
  };
  if (checks.database) {
    const { writable, migrations } = await databaseChecks(rt);
    Object.assign(checks, { writable, migrations });
  }
  try {
    checks.keyring = rt.keyring.decrypt(rt.keyring.encrypt('ready')).toString() === 'ready';
  } catch {
    checks.keyring = false;
  }
  const ok = checks.database && checks.writable && checks.migrations && checks.keyring;
  const sinks = checks.database ? await sinkLag(rt) : null;
  if (sinks) checks.audit_sinks = sinks.every((s) => !sinkDegraded(s));
  const status = !ok ? 'not_ready' : checks.audit_sinks === false ? 'degraded' : 'ready';
  return [ok ? 200 : 503, { status, checks, ...(sinks ? { audit_sinks: sinks } : {}) }];
}

async function sinkLag(rt: Runtime): Promise<ReadinessBody['audit_sinks'] | null> {
  if (!rt.auditStream) return null;
  try {
    return (await rt.auditStream.lag()).map((l) => ({
      sink: l.sink,
      pending: l.pending,
      oldest_pending_seconds: l.oldestPendingSeconds,
      attempts: l.attempts,
    }));
  } catch {
    return null;
  }
}

function sinkDegraded(s: { oldest_pending_seconds: number; attempts: number }): boolean {
  return s.attempts > 0 || s.oldest_pending_seconds > SINK_LAG_DEGRADED_SECONDS;
}
