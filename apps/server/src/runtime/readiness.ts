import { isoNow, probeWrite } from '@alphaswarm/db';
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

/**
 * Ready when the database answers, takes a committed write (a full disk or a read-only volume
 * makes every mutation fail), has exactly this build's migrations (a replica of an older or newer
 * build must not serve), and the keyring round-trips a secret.
 */
export async function readiness(
  rt: Runtime,
): Promise<[number, { status: 'ready' | 'not_ready'; checks: Record<string, boolean> }]> {
  const checks = { database: await rt.store.ping(), writable: false, migrations: false, keyring: false };
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
  return [ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks }];
}
