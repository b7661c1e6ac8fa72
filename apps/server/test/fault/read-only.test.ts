// A database the operator made read-only (file 0400 in a 0500 directory; root ignores the bits,
// so the CLI must honour them itself): the reading commands work, touch nothing, and say when the
// schema is behind; the writing ones refuse.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStoreFile } from '@alphaswarm/api';
import { generateKey, importStore, insertAdminUser, Keyring, openStore, sealSecret } from '@alphaswarm/db';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { audited } from '../../src/cli/context';
import { Cli } from '../../src/cli/io';
import { cliInProcess } from '../run-cli';

const KEY = generateKey();
const keyring = Keyring.fromEnv(KEY);

let dir: string;
let data: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fault-ro-'));
  data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  db = join(data, 'admin.db');
});
afterEach(() => {
  chmodSync(data, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]) {
  return cliInProcess(args, {
    cwd: dir,
    env: { HOME: dir, ALPHASWARM_ADMIN_DB_PATH: db, ALPHASWARM_ADMIN_INTEGRATIONS_KEY: KEY },
  });
}

function listing() {
  return readdirSync(data).map((f) => {
    const s = statSync(join(data, f));
    return { f, mode: (s.mode & 0o777).toString(8), mtime: s.mtimeMs, size: s.size };
  });
}

describe('fault: a read-only database', () => {
  it('audit-verify, export and list-admins work on it, changing nothing; a schema behind this build is named', async () => {
    const store = openStore(db);
    await importStore(
      store.db,
      [
        {
          credential_key: 'huggingface:org:org-a',
          org_id: 'org-a',
          kind: 'huggingface',
          namespace: 'a',
          status: 'healthy',
          connected_at: '2026-05-27T20:00:00Z',
          last_health_at: null,
          last_health_status: null,
          error: null,
          metadata: {},
          secret: sealSecret(keyring, { token: 'hf_a' }),
        },
      ],
      { keyring, onConflict: 'fail', now: new Date() },
    );
    const quiet = { write: () => true };
    await audited(
      new Cli({ env: {}, stdin: process.stdin, stdout: quiet, stderr: quiet }),
      store.db,
      'admin_users.create',
      {},
      () =>
        insertAdminUser(
          store.db,
          { username: 'alice', passwordHash: 'x', totpSecret: keyring.encrypt('S'), scopes: 'admin:cluster' },
          '2026-05-27T20:00:00Z',
        ),
      () => ({}),
    );
    // As a database written by the previous build: its newest migration not applied yet.
    store.sqlite.exec(
      'DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)',
    );
    store.close();
    chmodSync(db, 0o400);
    chmodSync(data, 0o500);
    const before = listing();
    const behind = `note: the database ${db} is 1 migration behind this build (read-only, so it was not migrated); run a writing command such as serve on a writable copy to migrate it.`;

    // The development audit-key warning (no ALPHASWARM_ADMIN_AUDIT_KEY here) is not what this test reads.
    const notes = (stderr: string) =>
      stderr
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('WARNING: ALPHASWARM_ADMIN_AUDIT_KEY'));
    const verify = await cli(['audit-verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain intact: 2 events verified/);
    expect(notes(verify.stderr)).toEqual([behind]);

    const exported = await cli(['export', '--out', join(dir, 'out.json')]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('exported 1 link');
    expect(notes(exported.stderr)).toEqual([
      behind,
      'note: the database is read-only (its directory has mode 0500); this export is not recorded in its audit log.',
    ]);
    expect(checkStoreFile(keyring, readFileSync(join(dir, 'out.json'))).ok).toBe(true);

    const admins = await cli(['list-admins']);
    expect(admins.code, admins.stderr).toBe(0);
    expect(admins.stdout).toMatch(/^alice\tadmin:cluster\tactive\t/);

    expect(listing()).toEqual(before);
    const refused = await cli(['forget-secrets', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `error: The database ${db} is read-only (its directory has mode 0500); this command writes to it. audit-verify, export and list-admins work on a read-only database.`,
    );
    expect(listing()).toEqual(before);
  });
});
