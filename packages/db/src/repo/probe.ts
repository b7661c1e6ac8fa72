import { storeProbe } from '../schema';
import type { Db } from '../sqlite';

/**
 * Commit one small write (the readiness probe). Throws what the write throws: a database that
 * answers reads but cannot commit (full disk, read-only volume) is not ready.
 */
export async function probeWrite(db: Db, now: string): Promise<void> {
  db.insert(storeProbe)
    .values({ id: 1, at: now })
    .onConflictDoUpdate({ target: storeProbe.id, set: { at: now } })
    .run();
}
