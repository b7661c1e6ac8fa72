// copy-db: a populated SQLite database moved into the test run's throwaway PostgreSQL, what the
// copy holds afterwards, and what it refuses (a filled target, a table it does not know, bad URLs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { INTEGRATION_KINDS } from '@alphaswarm/contracts';
import {
  AuditKeyRing,
  appendAudit,
  countAudit,
  countLinks,
  createWizardSession,
  generateKey,
  insertAdminUser,
  insertSigningKey,
  Keyring,
  model,
  newRunId,
  openPostgresStore,
  openSecret,
  openStore,
  publishedSigningKeys,
  type Store,
  sealSecret,
  sql,
  upsertLink,
  verifyAudit,
} from '@alphaswarm/db';
import { createTestDatabase, linkWrite } from '@alphaswarm/db/testing';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { copyDbCommand } from '../src/cli/copy-db';
import { Cli } from '../src/cli/io';
import './support/database';

const NOW = '2026-05-27T20:00:00Z';
const SECRET = 'canary-link-secret';
const PASSWORD = 'canary-url-password';
const INTEGRATIONS_KEY = generateKey();
const AUDIT_KEY = generateKey();
const keyring = Keyring.fromEnv(INTEGRATIONS_KEY);
const auditRing = AuditKeyRing.fromEnv(AUDIT_KEY);
const cluster = inject('postgres');
const LINKS = 300;

/** The URL of `name` on the test cluster, with a password (trust auth ignores it) that must never be printed. */
function urlOf(name: string): string {
  return `postgres://postgres:${PASSWORD}@${cluster!.host}:${cluster!.port}/${name}`;
}

async function populate(store: Store): Promise<void> {
  await store.db.write(async (tx) => {
    for (let i = 0; i < LINKS; i++) {
      await upsertLink(
        tx,
        linkWrite({
          orgId: `org-${String(i).padStart(4, '0')}`,
          kind: INTEGRATION_KINDS[i % INTEGRATION_KINDS.length]!,
          namespace: `ns-${i}`,
          metadata: { n: i, b: 'é', a: [1, 2] },
          secret: sealSecret(keyring, { token: `${SECRET}-${i}` }),
        }),
        NOW,
      );
    }
    for (let i = 0; i < 40; i++) {
      await appendAudit(
        tx,
        { runId: newRunId(), actor: 'cli:test', action: 'link.connect', phase: 'event', outcome: 'success' },
        NOW,
        auditRing,
      );
    }
  });
  await insertAdminUser(
    store.db,
    { username: 'alice', passwordHash: 'hash', totpSecret: sealSecret(keyring, 'JBSWY3DPEHPK3PXP'), scopes: 'admin' },
    NOW,
  );
  await insertSigningKey(store.db, {
    kid: 'kid-workload-1',
    issuer: 'workload',
    alg: 'ES256',
    privateKey: sealSecret(keyring, { d: 'private-half' }),
    publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
    createdAt: NOW,
    retiredAt: null,
    publishUntil: null,
  });
  await createWizardSession(
    store.db,
    { orgId: 'org-0001', kind: 'docker_hub', createdBy: 'alice', expiresAt: '2026-05-28T20:00:00Z' },
    NOW,
  );
}

/** Every row of every table of the model, in one order (its rows as JSON). */
async function everything(store: Store): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {};
  for (const key of Object.keys(model)) {
    const table = (store.db.t as unknown as Record<string, Parameters<typeof store.db.q.select>[0] & object>)[key];
    const rows = (await store.db.q.select().from(table as never)) as Record<string, unknown>[];
    all[key] = rows
      .map((row) => JSON.stringify(row))
      .sort()
      .map((row) => JSON.parse(row));
  }
  return all;
}

describe.runIf(cluster)('alphaswarm-admin copy-db', () => {
  const saved = { ...process.env };
  let dir: string;
  let source: Store;
  let out: string[];
  let err: string[];
  const lines = (text: string, into: () => string[]) => {
    into().push(...text.split('\n').filter((l) => l !== ''));
  };
  // The environment each test sets in process.env, read when a command runs.
  const io = new Cli({
    get env() {
      return process.env;
    },
    stdin: Readable.from([]),
    stdout: { write: (c: string) => lines(c, () => out) },
    stderr: { write: (c: string) => lines(c, () => err) },
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alphaswarm-copy-db-'));
    out = [];
    err = [];
    process.env = {
      PATH: saved.PATH,
      HOME: saved.HOME,
      ALPHASWARM_ADMIN_DB_PATH: join(dir, 'admin.db'),
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: INTEGRATIONS_KEY,
      ALPHASWARM_ADMIN_AUDIT_KEY: AUDIT_KEY,
    };
    source = await openStore(join(dir, 'admin.db'));
    await populate(source);
  });
  afterEach(async () => {
    process.env = { ...saved };
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every table into an empty database: same rows and ciphertexts, same kids, a chain that verifies and grows', async () => {
    const empty = await createTestDatabase(cluster!, { empty: true });
    try {
      await copyDbCommand(io, { to: urlOf(empty.name) });
      expect(out[0]).toMatch(new RegExp(`^copied ${LINKS + 40 + 3} rows in ${Object.keys(model).length} tables `));
      expect(out).toContain(`  integrations: ${LINKS}`);
      expect(out).toContain('  audit_events: 40');
      expect(out.at(-1)).toMatch(/^row counts match; audit chain intact: 40 events verified, tip seq 40 /);
      const printed = [...out, ...err].join('\n');
      expect(printed).toContain('postgres:***@');
      expect(printed).not.toContain(PASSWORD);
      expect(printed).not.toContain(SECRET);

      const target = await openPostgresStore(urlOf(empty.name), { pool: 2 });
      try {
        expect(await everything(target)).toEqual(await everything(source));
        const links = (await everything(target)).integrations as { secret: string }[];
        expect(links.map((l) => (openSecret(keyring, l.secret) as { token: string }).token).sort()).toEqual(
          Array.from({ length: LINKS }, (_, i) => `${SECRET}-${i}`).sort(),
        );
        expect((await publishedSigningKeys(target.db, 'workload', NOW)).map((k) => k.kid)).toEqual(['kid-workload-1']);
        expect(await verifyAudit(target.db, { ring: auditRing, requireKeyed: true })).toMatchObject({ ok: true });
        const next = await appendAudit(
          target.db,
          { runId: newRunId(), actor: 'cli:test', action: 'x', phase: 'event', outcome: 'success' },
          NOW,
          auditRing,
        );
        expect(next.seq).toBe(41);
        expect(await verifyAudit(target.db, { ring: auditRing, requireKeyed: true })).toMatchObject({
          ok: true,
          checked: 41,
        });
      } finally {
        await target.close();
      }
    } finally {
      await empty.drop();
    }
  });

  it('refuses a target with rows, and a source table it does not know, changing nothing', async () => {
    const filled = await createTestDatabase(cluster!);
    try {
      const target = await openPostgresStore(filled.url, { pool: 2 });
      try {
        await upsertLink(target.db, linkWrite({ orgId: 'org-x', kind: 'docker_hub', namespace: 'ns' }), NOW);
        await expect(copyDbCommand(io, { to: urlOf(filled.name) })).rejects.toThrow(
          /^the target database is not empty \(rows in integrations\): copy-db only fills an empty database\. Nothing was copied\.$/,
        );
        expect([await countLinks(target.db), await countAudit(target.db)]).toEqual([1, 0]);

        await target.exec(sql`DELETE FROM integrations`);
        await source.exec(sql`CREATE TABLE extra_notes (id integer primary key)`);
        await expect(copyDbCommand(io, { to: urlOf(filled.name) })).rejects.toThrow(
          /^the source database has a table this build does not know \(extra_notes\)/,
        );
        expect([await countLinks(target.db), await countAudit(target.db)]).toEqual([0, 0]);
      } finally {
        await target.close();
      }
    } finally {
      await filled.drop();
    }
  });

  it('says what is wrong with a bad URL without printing its password', async () => {
    const bad = await copyDbCommand(io, { to: `mysql://root:${PASSWORD}@localhost/db` }).catch((e: Error) => e);
    expect(String(bad)).toMatch(/must start with postgres:\/\/ or postgresql:\/\//);
    const refused = await copyDbCommand(io, { to: `postgres://root:${PASSWORD}@127.0.0.1:1/db` }).catch(
      (e: Error) => e,
    );
    expect(String(refused)).toMatch(
      /Cannot connect to the PostgreSQL database postgres:\/\/root:\*\*\*@127\.0\.0\.1:1\/db: connection refused/,
    );
    expect([String(bad), String(refused), ...out, ...err].join('\n')).not.toContain(PASSWORD);
  });
});
