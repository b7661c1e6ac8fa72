// Every write is either committed or reported: proven on a real tmpfs filled to the last page.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// SQLite only: what a file system does to a SQLite file (the PostgreSQL server owns its disk).
import type { StoreFileRecord } from '@alphaswarm/contracts';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKey, Keyring } from './crypto/fernet';
import { DatabaseError } from './database';
import { insertAdminUser } from './repo/admin-users';
import { appendAudit, newRunId } from './repo/audit';
import { deleteLink, pageLinks, recordHealth, replaceSecret, upsertLink } from './repo/integrations';
import { probeWrite } from './repo/probe';
import { reserveAdminAttempt } from './repo/sign-in';
import { createWizardSession, listWizardSessions, updateWizardState } from './repo/wizard';
import { forgetSecrets, rotateSecrets } from './rotation';
import { integrations } from './schema/sqlite';
import { sealSecret } from './secrets';
import { openStore, type SqliteStore as Store } from './sqlite';
import { isStorageFailure } from './store';
import { importStore } from './store-file';
import { mountTmpfs, type Tmpfs, tmpfsUnavailable } from './testing/tmpfs';

const NOW = '2026-05-27T20:00:00Z';
const KEY = generateKey();
const keyring = Keyring.fromEnv(KEY);

function link(org: string) {
  return {
    orgId: org,
    kind: 'huggingface' as const,
    namespace: org,
    status: 'healthy' as const,
    error: null,
    metadata: { type: 'user' },
    secret: sealSecret(keyring, { token: `hf_${org}` }),
    expiresAt: null,
  };
}

function record(org: string): StoreFileRecord {
  return {
    credential_key: `huggingface:org:${org}`,
    org_id: org,
    kind: 'huggingface',
    namespace: org,
    status: 'healthy',
    connected_at: NOW,
    last_health_at: null,
    last_health_status: null,
    error: null,
    metadata: {},
    secret: sealSecret(keyring, { token: `hf_${org}` }),
  };
}

/** Everything a write could have changed, read back through a fresh connection. */
function snapshot(path: string) {
  const s = openStore(path);
  try {
    const all = (table: string) => s.sqlite.prepare(`SELECT * FROM ${table} ORDER BY 1`).all();
    return {
      links: all('integrations'),
      wizard: all('wizard_sessions'),
      admins: all('admin_users'),
      audit: all('audit_events'),
      open: all('audit_open_runs'),
      probe: all('store_probe'),
    };
  } finally {
    void s.close();
  }
}

const unavailable = tmpfsUnavailable();
if (unavailable) console.warn(`\n*** SKIPPING the full-disk durability tests: ${unavailable} ***\n`);

describe.skipIf(unavailable !== null)('on a full disk, every write either commits or throws', () => {
  let fs: Tmpfs;
  let path: string;
  let store: Store;
  let n = 0;
  beforeAll(() => {
    fs = mountTmpfs(4 << 20);
  });
  afterAll(() => fs?.unmount());

  beforeEach(async () => {
    path = join(fs.dir, `admin-${n++}.db`);
    store = openStore(path);
    await upsertLink(store.db, link('org-a'), NOW);
    await createWizardSession(
      store.db,
      { orgId: 'org-a', kind: 'cloud_aws', createdBy: 'alice', expiresAt: '2026-05-28T20:00:00Z' },
      NOW,
    );
    await insertAdminUser(
      store.db,
      { username: 'alice', passwordHash: 'x', totpSecret: keyring.encrypt('JBSWY3DP'), scopes: 's' },
      NOW,
    );
    // An empty WAL: every commit from now on needs a page the file system no longer has.
    store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  });
  afterEach(() => {
    void store.close();
    fs.free();
    for (const f of readdirSync(fs.dir)) if (f.startsWith('admin-')) rmSync(join(fs.dir, f));
  });

  const writes: [string, (s: Store) => Promise<unknown>][] = [
    ['upsertLink (new link)', (s) => upsertLink(s.db, link('org-b'), NOW)],
    ['upsertLink (replace)', (s) => upsertLink(s.db, { ...link('org-a'), namespace: 'other' }, NOW)],
    ['deleteLink', (s) => deleteLink(s.db, 'org-a', 'huggingface')],
    [
      'recordHealth',
      (s) =>
        recordHealth(
          s.db,
          'huggingface:org:org-a',
          { status: 'unhealthy', error: null, metadata: {}, expiresAt: null },
          NOW,
        ),
    ],
    [
      'replaceSecret',
      async (s) => {
        const [row] = await pageLinks(s.db, null, 1);
        if (!(await replaceSecret(s.db, row!.credentialKey, row!.secret, 'x', {}, NOW))) throw new Error('no swap');
      },
    ],
    [
      'createWizardSession',
      (s) =>
        createWizardSession(
          s.db,
          { orgId: 'org-b', kind: 'cloud_gcp', createdBy: 'bob', expiresAt: '2026-05-28T20:00:00Z' },
          NOW,
        ),
    ],
    [
      'updateWizardState',
      async (s) => {
        const [row] = await listWizardSessions(s.db, 'org-a', NOW);
        await updateWizardState(s.db, row!, { steps: { x: 1 } }, NOW);
      },
    ],
    [
      'appendAudit',
      (s) =>
        appendAudit(s.db, { runId: newRunId(), actor: 'a', action: 'x', phase: 'attempt', outcome: 'started' }, NOW),
    ],
    [
      'reserveAdminAttempt',
      (s) => reserveAdminAttempt(s.db, 'alice', { maxAttempts: 5, lockSeconds: 900 }, new Date(NOW)),
    ],
    [
      'importStore',
      (s) => importStore(s.db, [record('org-c'), record('org-d')], { keyring, onConflict: 'fail', now: new Date(NOW) }),
    ],
    ['rotateSecrets', (s) => rotateSecrets(s.db, Keyring.fromEnv(`${generateKey()},${KEY}`), { now: new Date(NOW) })],
    ['forgetSecrets', (s) => forgetSecrets(s.db, { now: new Date(NOW) })],
    ['probeWrite', (s) => probeWrite(s.db, NOW)],
  ];

  it.each(writes)('%s', async (_name, write) => {
    await store.close();
    const before = snapshot(path);
    store = openStore(path);
    store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    fs.fill();
    const error = await write(store).then(
      () => null,
      (e: unknown) => e,
    );
    fs.free();
    await store.close();
    store = openStore(path);
    expect(error, 'the write reported success, so it must be stored').not.toBeNull();
    expect(isStorageFailure(error), String(error)).toBe(true);
    expect(snapshot(path)).toEqual(before);
  });
});

describe('a writing statement read with .get()', () => {
  it('fails every time, not only when the disk is full', async () => {
    const s = openStore(':memory:');
    try {
      const raw = drizzle(s.sqlite);
      expect(() =>
        raw
          .insert(integrations)
          .values({ ...link('org-x'), credentialKey: 'k', connectedAt: NOW, updatedAt: NOW })
          .returning()
          .get(),
      ).toThrow(DatabaseError);
      expect(() => s.sqlite.prepare('DELETE FROM integrations RETURNING *').get()).toThrow(
        /read it with \.all\(\) or \.run\(\)/,
      );
      expect(s.sqlite.prepare('SELECT count(*) AS n FROM integrations').get()).toEqual({ n: 0 });
    } finally {
      await s.close();
    }
  });

  it('appears nowhere in the sources, and repositories never pick a terminal call at all', () => {
    const root = resolve(fileURLToPath(import.meta.url), '../../../..');
    const offenders: string[] = [];
    const walk = (dir: string, check: (path: string, text: string) => void) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full, check);
        else if (/\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) check(full, readFileSync(full, 'utf8'));
      }
    };
    for (const dir of ['packages', 'apps']) {
      walk(join(root, dir), (path, text) => {
        // A statement chain from .returning( to its terminal call, across lines.
        for (const m of text.matchAll(/\.returning\([^;]*?\.(get|all|run|prepare)\(/gs)) {
          if (m[1] === 'get') offenders.push(relative(root, path));
        }
      });
    }
    // Queries written once for both dialects are awaited: .get/.all/.run exist only in SQLite.
    const here = resolve(fileURLToPath(import.meta.url), '..');
    for (const dir of ['repo', 'store-file']) {
      walk(join(here, dir), (path, text) => {
        if (/\)\s*\.(get|all|run)\(/.test(text)) offenders.push(relative(root, path));
      });
    }
    expect(offenders).toEqual([]);
  });
});
