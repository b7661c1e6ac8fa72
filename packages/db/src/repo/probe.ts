import type { Database } from '../database';

/**
 * Commit one small write (the readiness probe). Throws what the write throws: a database that
 * answers reads but cannot commit (full disk, read-only volume) is not ready.
 */
export async function probeWrite(db: Database, now: string): Promise<void> {
  await db.write(({ q, t }) =>
    q
      .insert(t.storeProbe)
      .values({ id: 1, at: now })
      .onConflictDoUpdate({ target: t.storeProbe.id, set: { at: now } }),
  );
}
