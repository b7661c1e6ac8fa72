import { emitAlert } from '@alphaswarm/api';
import { isoNow, listAlertMarks, markAlertOnce } from '@alphaswarm/db';
import type { Runtime } from '../runtime';

/*
 * Upstream outages, per kind: a complete sweep in which no probe of a kind reached its upstream
 * (timeouts, 5xx: never a verdict on a credential) opens an outage; the next complete sweep that
 * still reaches nothing — the upstream was unreachable for a whole interval — announces it once;
 * the first sweep that reaches it again closes it and, if it was announced, announces the recovery.
 * The state lives in alert_marks under `upstream:<kind>` (keyed by the outage's start), so a
 * restart neither repeats an alert nor forgets an outage, and two processes announce it once.
 */

const OPENED = 0;
const ANNOUNCED = 1;
const CLOSED = 2;

export interface KindReach {
  reached: number;
  unreachable: number;
}

export async function trackUpstreamOutages(rt: Runtime, byKind: Record<string, KindReach>): Promise<void> {
  const at = isoNow(rt.now());
  for (const [kind, tally] of Object.entries(byKind)) {
    const key = `upstream:${kind}`;
    try {
      const marks = await listAlertMarks(rt.store.db, key);
      const outages = new Map<string, Set<number>>();
      for (const m of marks) outages.set(m.expiresAt, (outages.get(m.expiresAt) ?? new Set()).add(m.threshold));
      const open = [...outages.entries()].find(([, t]) => t.has(OPENED) && !t.has(CLOSED));
      const mark = (since: string, threshold: number) =>
        markAlertOnce(rt.store.db, { credentialKey: key, expiresAt: since, threshold, at });
      if (tally.reached === 0 && tally.unreachable > 0) {
        if (!open) {
          await mark(at, OPENED);
          continue;
        }
        const [since] = open;
        if (await mark(since, ANNOUNCED)) {
          await emitAlert(rt, {
            type: 'com.alphaswarm.upstream.unreachable',
            subject: null,
            kind,
            data: { kind, since, probes_failed: tally.unreachable },
          });
        }
      } else if (tally.reached > 0 && open) {
        const [since, thresholds] = open;
        if ((await mark(since, CLOSED)) && thresholds.has(ANNOUNCED)) {
          await emitAlert(rt, {
            type: 'com.alphaswarm.upstream.recovered',
            subject: null,
            kind,
            data: { kind, since, until: at },
          });
        }
      }
    } catch (error) {
      rt.logger.error({ err: { message: (error as Error).message }, kind }, 'upstream outage could not be tracked');
    }
  }
}
