import type { Database } from '../database';

/** A probe as a test states it: org, kind, time (ISO) and result. */
export type ProbeRow = [orgId: string, kind: string, at: string, result: string];

/** Health-history rows written directly, in one write: a transaction per probe costs more than a test. */
export function insertProbes(db: Database, rows: ProbeRow[]): Promise<unknown> {
  return db.write(({ q, t }) =>
    q.insert(t.healthHistory).values(
      rows.map(([orgId, kind, at, result]) => ({
        credentialKey: `${kind}:org:${orgId}`,
        orgId,
        kind,
        at,
        source: 'sweep',
        result,
        latencyMs: 40,
        errorCode: null,
        errorMessage: null,
        expiresAt: null,
      })),
    ),
  );
}
