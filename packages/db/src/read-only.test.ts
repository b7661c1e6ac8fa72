import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// SQLite only: a database file in a place the operator made read-only (PostgreSQL's read-only
// sessions are in test/postgres.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeMigrationLag } from './migrations';
import { listAdminUsers } from './repo/admin-users';
import { appendAudit, newRunId, verifyAudit } from './repo/audit';
import { countLinks, upsertLink } from './repo/integrations';
import { openStore, openStoreReadOnly } from './sqlite';
import { linkWrite } from './testing/links';
import { mountTmpfs, tmpfsUnavailable } from './testing/tmpfs';

const NOW = '2026-05-27T20:00:00Z';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'read-only-'));
});
afterEach(() => {
  chmodSync(dir, 0o700);
  for (const f of readdirSync(dir, { recursive: true }) as string[]) chmodSync(join(dir, f), 0o700);
  rmSync(dir, { recursive: true, force: true });
});

async function fill(path: string) {
  const store = openStore(path);
  await upsertLink(store.db, linkWrite({ orgId: 'org-a', kind: 'cloud_aws', namespace: '1' }), NOW);
  await appendAudit(store.db, { runId: newRunId(), actor: 'a', action: 'x', phase: 'event', outcome: 'success' }, NOW);
  return store;
}

function listing(path: string) {
  return readdirSync(path).map((f) => {
    const s = statSync(join(path, f));
    return { f, mode: s.mode, mtime: s.mtimeMs, size: s.size };
  });
}

describe('a database file the operator made read-only', () => {
  it('is read in place of nothing: no migration, no chmod, no file created; writers refuse it', async () => {
    const data = join(dir, 'data');
    mkdirSync(data);
    const path = join(data, 'admin.db');
    await (await fill(path)).close();
    chmodSync(path, 0o400);
    chmodSync(data, 0o500);
    const before = listing(data);

    const store = openStoreReadOnly(path);
    try {
      expect(store.copiedBecause).toBe('its directory has mode 0500');
      expect(store.migrationState).toMatchObject({ pending: 0, ahead: false });
      expect(await countLinks(store.db)).toBe(1);
      expect(await listAdminUsers(store.db)).toEqual([]);
      expect(await verifyAudit(store.db)).toMatchObject({ ok: true, checked: 1 });
      expect(() => store.sqlite.prepare('DELETE FROM integrations').run()).toThrow(/readonly/);
    } finally {
      await store.close();
    }
    expect(listing(data)).toEqual(before);
    expect(() => openStore(path)).toThrow(
      /is read-only \(its directory has mode 0500\); this command writes to it\. audit-verify, export and list-admins work on a read-only database\./,
    );
    expect(listing(data)).toEqual(before);
  });

  it('says when its schema is behind this build', async () => {
    const path = join(dir, 'admin.db');
    const store = await fill(path);
    store.sqlite.exec(
      'DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)',
    );
    await store.close();
    chmodSync(path, 0o400);
    const ro = openStoreReadOnly(path);
    try {
      expect(ro.migrationState.pending).toBe(1);
      expect(describeMigrationLag(ro, ro.migrationState)).toBe(
        `the database ${path} is 1 migration behind this build (read-only, so it was not migrated); run a writing command such as serve on a writable copy to migrate it.`,
      );
    } finally {
      await ro.close();
    }
  });

  const unavailable = tmpfsUnavailable();
  if (unavailable) console.warn(`\n*** SKIPPING the read-only file system test: ${unavailable} ***\n`);
  it.skipIf(unavailable !== null)(
    'on a read-only file system, with changes still in its -wal, every committed row is seen',
    async () => {
      const fs = mountTmpfs(4 << 20);
      try {
        const source = join(dir, 'live.db');
        const live = await fill(source);
        // A copy taken while the writer runs (as after kill -9): the last commits live only in -wal.
        copyFileSync(source, join(fs.dir, 'admin.db'));
        copyFileSync(`${source}-wal`, join(fs.dir, 'admin.db-wal'));
        await live.close();
        fs.setReadOnly(true);
        const store = openStoreReadOnly(join(fs.dir, 'admin.db'));
        try {
          expect(store.copiedBecause).toBe('the file system is mounted read-only');
          expect(await countLinks(store.db)).toBe(1);
          expect(await verifyAudit(store.db)).toMatchObject({ ok: true, checked: 1 });
        } finally {
          await store.close();
        }
        expect(readdirSync(fs.dir).sort()).toEqual(['admin.db', 'admin.db-wal']);
      } finally {
        fs.unmount();
      }
    },
  );
});
