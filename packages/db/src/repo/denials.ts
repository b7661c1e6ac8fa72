import { lte, sql } from 'drizzle-orm';
import type { Database } from '../database';

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const WINDOW_MS = 60_000;

/**
 * One denied call from `address` asks to be audited: at most `perMinute` are let through per
 * fixed one-minute window, the rest only counted. One conditional upsert decides and counts, so
 * concurrent requests and every process on the database share the budget. Returns null (do not
 * write) or how many were suppressed since the last row written for this address.
 */
export async function admitDenial(db: Database, address: string, perMinute: number, now: Date): Promise<number | null> {
  const t = db.t.auditDenialWindows;
  const start = iso(now.getTime());
  const end = iso(now.getTime() + WINDOW_MS);
  const stale = sql`${t.windowStart} <= ${iso(now.getTime() - WINDOW_MS)}`;
  const open = sql`(${stale} OR ${t.written} < ${perMinute})`;
  const rows = await db.write(({ q }) =>
    q
      .insert(t)
      .values({ address, windowStart: start, written: 1, suppressed: 0, admitted: 1, carried: 0, expiresAt: end })
      .onConflictDoUpdate({
        target: t.address,
        set: {
          written: sql`CASE WHEN ${stale} THEN 1 WHEN ${t.written} < ${perMinute} THEN ${t.written} + 1 ELSE ${t.written} END`,
          suppressed: sql`CASE WHEN ${open} THEN 0 ELSE ${t.suppressed} + 1 END`,
          admitted: sql`CASE WHEN ${open} THEN 1 ELSE 0 END`,
          carried: sql`CASE WHEN ${open} THEN ${t.suppressed} ELSE 0 END`,
          windowStart: sql`CASE WHEN ${stale} THEN ${start} ELSE ${t.windowStart} END`,
          expiresAt: sql`CASE WHEN ${stale} THEN ${end} ELSE ${t.expiresAt} END`,
        },
      })
      .returning({ admitted: t.admitted, carried: t.carried }),
  );
  const row = rows[0];
  return row && row.admitted === 1 ? row.carried : null;
}

/** Forget windows that ended: an address quiet for a minute starts afresh (its count was carried or is 0). */
export async function pruneDenialWindows(db: Database, now: Date): Promise<void> {
  const t = db.t.auditDenialWindows;
  // A window with a suppressed count still owes it to the next written row: kept until then.
  await db.write(({ q }) => q.delete(t).where(sql`${lte(t.expiresAt, iso(now.getTime()))} AND ${t.suppressed} = 0`));
}
