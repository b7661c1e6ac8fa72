// SQLite only: databases made by earlier builds keep working, and async write transactions over a
// synchronous driver serialise, roll back and nest as they should.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Driver from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../src/migrations';
import { appendAudit, listAudit, listOpenRuns, newRunId, verifyAudit } from '../src/repo/audit';
import { countLinks, getLink, upsertLink } from '../src/repo/integrations';
import { openStore } from '../src/sqlite';

const NOW = '2026-05-27T20:00:00Z';
const link = (org: string) => ({
  orgId: org,
  kind: 'cloud_aws' as const,
  namespace: '1',
  status: 'healthy' as const,
  error: null,
  metadata: { n: 1 },
  secret: null,
  expiresAt: null,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlite-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every SQLite migration this build ships. */
const ALL = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER.sqlite, 'meta/_journal.json'), 'utf8')).entries.length;

/** A database as the previous build made it: drizzle's own migrator, the first `count` migrations. */
function previousBuild(path: string, count: number): Driver.Database {
  const folder = join(dir, 'migrations');
  cpSync(MIGRATIONS_FOLDER.sqlite, folder, { recursive: true });
  const journal = JSON.parse(readFileSync(join(folder, 'meta/_journal.json'), 'utf8'));
  journal.entries = journal.entries.slice(0, count);
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify(journal));
  const sqlite = new Driver(path);
  sqlite.pragma('journal_mode = WAL');
  migrate(drizzle(sqlite), { migrationsFolder: folder });
  return sqlite;
}

describe('a database made by the previous build', () => {
  it('opens with its data and its migration history, and gets only the migrations it lacks', async () => {
    const path = join(dir, 'admin.db');
    const old = previousBuild(path, 4);
    old
      .prepare(
        `INSERT INTO audit_events (id, run_id, at, actor, action, phase, outcome, detail, prev_hash, hash)
         VALUES ('e1', 'run_old', ?, 'alice', 'x', 'attempt', 'started', '{}', ?, 'h1')`,
      )
      .run(NOW, '0'.repeat(64));
    const recorded = old.prepare('SELECT hash, created_at FROM __drizzle_migrations ORDER BY id').all();
    old.close();

    const store = openStore(path);
    try {
      const after = store.sqlite.prepare('SELECT hash, created_at FROM __drizzle_migrations ORDER BY id').all();
      expect(after.slice(0, 4)).toEqual(recorded);
      expect(after).toHaveLength(ALL);
      expect(await store.migrations()).toMatchObject({ pending: 0, ahead: false, applied: ALL });
      // The fifth migration registered the open run of the old attempt.
      expect(await listOpenRuns(store.db, null, 10)).toEqual([{ runId: 'run_old', owner: '', openedAt: NOW }]);
      expect((await listAudit(store.db, {}, { limit: 10 }))[0]).toMatchObject({ id: 'e1', actor: 'alice' });
    } finally {
      await store.close();
    }
    // Opening again applies nothing.
    const again = openStore(path);
    expect(again.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get()).toEqual({ n: ALL });
    await again.close();
  });
});

describe('write transactions', () => {
  it('serialise concurrent writers, each seeing the one before (no nested BEGIN, no lost update)', async () => {
    const store = openStore(join(dir, 'admin.db'));
    try {
      await Promise.all([
        ...Array.from({ length: 40 }, (_, i) =>
          appendAudit(
            store.db,
            { runId: newRunId(), actor: `a${i}`, action: 'x', phase: 'event', outcome: 'success' },
            NOW,
          ),
        ),
        ...Array.from({ length: 20 }, (_, i) => upsertLink(store.db, link(`org-${i}`), NOW)),
      ]);
      expect(await verifyAudit(store.db)).toMatchObject({ ok: true, checked: 40 });
      expect(await countLinks(store.db)).toBe(20);
    } finally {
      await store.close();
    }
  });

  it('roll back everything on a throw, join an enclosing transaction, and keep uncommitted rows from readers', async () => {
    const store = openStore(join(dir, 'admin.db'));
    try {
      const error = await store.db
        .write(async (tx) => {
          await upsertLink(tx, link('org-a'), NOW);
          // A nested write joins this transaction (it would deadlock on the store otherwise).
          await store.db.write((inner) => upsertLink(inner, link('org-b'), NOW));
          // Readers use their own connection: they see only what is committed.
          expect(await getLink(store.db, 'org-a', 'cloud_aws')).toBeUndefined();
          expect(await getLink(tx, 'org-b', 'cloud_aws')).toMatchObject({ orgId: 'org-b' });
          throw new Error('changed my mind');
        })
        .catch((e: Error) => e);
      expect(error).toMatchObject({ message: 'changed my mind' });
      expect(await countLinks(store.db)).toBe(0);
      expect(await store.exec(sql`SELECT count(*) AS n FROM integrations`)).toEqual([{ n: 0 }]);
      await upsertLink(store.db, link('org-c'), NOW);
      expect(await countLinks(store.db)).toBe(1);
    } finally {
      await store.close();
    }
  });
});
