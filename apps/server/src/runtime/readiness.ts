import { isoNow, probeWrite, storeIsUsable } from '@alphaswarm/db';
import type { Runtime } from '../runtime';

/** At most one write probe per second, however often /readyz is asked (it is unauthenticated). */
const PROBE_EVERY_MS = 1_000;
const lastProbe = new WeakMap<Runtime, { at: number; ok: boolean }>();

async function writable(rt: Runtime): Promise<boolean> {
  const now = rt.now().getTime();
  const last = lastProbe.get(rt);
  if (last && now - last.at < PROBE_EVERY_MS && now >= last.at) return last.ok;
  let ok = true;
  try {
    await probeWrite(rt.store.db, isoNow(rt.now()));
  } catch {
    ok = false;
  }
  lastProbe.set(rt, { at: now, ok });
  return ok;
}

/**
 * Ready when the database answers, takes a committed write (a full disk or a read-only volume
 * makes every mutation fail), and the keyring round-trips a secret.
 */
export async function readiness(
  rt: Runtime,
): Promise<[number, { status: 'ready' | 'not_ready'; checks: Record<string, boolean> }]> {
  const checks = { database: storeIsUsable(rt.store), writable: false, keyring: false };
  checks.writable = checks.database && (await writable(rt));
  try {
    checks.keyring = rt.keyring.decrypt(rt.keyring.encrypt('ready')).toString() === 'ready';
  } catch {
    checks.keyring = false;
  }
  const ok = checks.database && checks.writable && checks.keyring;
  return [ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks }];
}
