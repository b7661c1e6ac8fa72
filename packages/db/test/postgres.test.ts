// PostgreSQL only: what several processes sharing one server need (migrations under a lock, one
// audit chain from many writers, append-only for every role), read-only sessions, TLS settings,
// and that both dialects agree byte for byte.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, Keyring } from '../src/crypto/fernet';
import { DatabaseError, type Store } from '../src/database';
import { openPostgresStore, parsePostgresUrl } from '../src/postgres';
import { appendAudit, listAudit, newRunId, verifyAudit } from '../src/repo/audit';
import { countLinks, upsertLink } from '../src/repo/integrations';
import { probeWrite } from '../src/repo/probe';
import { sealSecret } from '../src/secrets';
import { openStore } from '../src/sqlite';
import { isStorageFailure } from '../src/store';
import { exportStoreChunks, importStore } from '../src/store-file';
import { linkWrite } from '../src/testing/links';
import { createTestDatabase, databaseUrl } from '../src/testing/postgres';
import { sampleRecords } from './store-file-fixtures';
import { cluster, testDatabase } from './stores';

const NOW = '2026-05-27T20:00:00Z';
const event = (actor: string) =>
  ({ runId: newRunId(), actor, action: 'x', phase: 'event', outcome: 'success' }) as const;

describe('migrations', () => {
  it('replicas starting together on an empty database apply each migration once', async () => {
    const empty = await createTestDatabase(cluster(), { empty: true });
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(empty.url, { pool: 2 })));
      try {
        const [applied] = await stores[0]!.exec(sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
        const state = await stores[0]!.migrations();
        expect(applied?.n).toBe(state.expected);
        expect(state).toMatchObject({ pending: 0, ahead: false });
        expect(await verifyAudit(stores[1]!.db)).toMatchObject({ ok: true, checked: 0 });
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await empty.drop();
    }
  });

  it('a read-only session migrates nothing, reads, and refuses writes as a storage failure', async () => {
    const empty = await createTestDatabase(cluster(), { empty: true });
    try {
      const ro = await openPostgresStore(empty.url, { readOnly: true });
      try {
        expect(await ro.migrations()).toMatchObject({ applied: 0, pending: (await ro.migrations()).expected });
      } finally {
        await ro.close();
      }
      await (await openPostgresStore(empty.url)).close();
      const reader = await openPostgresStore(empty.url, { readOnly: true });
      try {
        expect(await countLinks(reader.db)).toBe(0);
        const error = await probeWrite(reader.db, NOW).catch((e: unknown) => e);
        expect(isStorageFailure(error), String(error)).toBe(true);
      } finally {
        await reader.close();
      }
    } finally {
      await empty.drop();
    }
  });
});

describe('the audit chain with many writers', () => {
  it('stays one line and verifies when two pools append concurrently', async () => {
    const database = await testDatabase();
    const [a, b] = [await database.open(), await database.open()];
    try {
      const writers = [a, b].flatMap((store, s) =>
        Array.from({ length: 4 }, async (_, w) => {
          for (let i = 0; i < 10; i++) await appendAudit(store.db, event(`writer-${s}-${w}`), NOW);
        }),
      );
      await Promise.all(writers);
      expect(await verifyAudit(a.db)).toMatchObject({ ok: true, checked: 80 });
      const rows = (await listAudit(b.db, {}, { limit: 1000 })).reverse();
      expect(new Set(rows.map((r) => r.prevHash)).size).toBe(80);
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    } finally {
      await a.close();
      await b.close();
      await database.dispose();
    }
  });

  it("an append waits for another process's hold on the chain and extends its row", async () => {
    const database = await testDatabase();
    const [a, b] = [await database.open(), await database.open()];
    try {
      let waiting = 0;
      const holder = a.db.write(async (tx) => {
        await tx.lock('audit_chain');
        const first = await appendAudit(tx, event('holder'), NOW);
        // The other append blocks on the lock, visible from here as an ungranted advisory lock.
        const waiter = appendAudit(b.db, event('waiter'), NOW);
        for (let i = 0; i < 500 && waiting === 0; i++) {
          const { rows } = await tx.q.execute<{ n: number }>(
            sql`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
          );
          waiting = rows[0]?.n ?? 0;
        }
        return { first, waiter };
      });
      const { first, waiter } = await holder;
      expect(waiting).toBe(1);
      expect((await waiter).prevHash).toBe(first.hash);
    } finally {
      await a.close();
      await b.close();
      await database.dispose();
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE even to its owner, and the documented role has no such right', async () => {
    const database = await testDatabase();
    const owner = await database.open();
    const role = `app_${Math.random().toString(36).slice(2, 10)}`;
    let app: Store | undefined;
    try {
      await appendAudit(owner.db, event('alice'), NOW);
      for (const statement of [
        sql`UPDATE audit_events SET actor = 'mallory'`,
        sql`DELETE FROM audit_events`,
        sql`TRUNCATE audit_events`,
      ]) {
        await expect(owner.exec(statement)).rejects.toThrow(/audit_events is append-only/);
      }

      const name = new URL(database.config.databaseUrl!).pathname.slice(1);
      const doc = readFileSync(join(import.meta.dirname, '../../../docs/postgresql.md'), 'utf8');
      const grants = /```sql\n([\s\S]*?)```/.exec(doc)![1]!;
      const admin = new pg.Client({ connectionString: database.config.databaseUrl });
      await admin.connect();
      try {
        await admin.query(
          grants.replaceAll('alphaswarm_app', role).replaceAll('DATABASE alphaswarm ', `DATABASE ${name} `),
        );
      } finally {
        await admin.end();
      }
      // Nothing pending: the role starts without any schema privilege.
      app = await openPostgresStore(database.config.databaseUrl!.replace('postgres@', `${role}:change-me@`));
      await appendAudit(app.db, event('app'), NOW);
      await probeWrite(app.db, NOW);
      expect(await verifyAudit(app.db)).toMatchObject({ ok: true, checked: 2 });
      for (const statement of [sql`UPDATE audit_events SET actor = 'mallory'`, sql`DELETE FROM audit_events`]) {
        await expect(app.exec(statement)).rejects.toThrow(/permission denied for table audit_events/);
      }
    } finally {
      await app?.close();
      await owner.close();
      await database.dispose();
      const admin = new pg.Client({ connectionString: databaseUrl(cluster(), 'postgres') });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await admin.end();
    }
  });
});

describe('a database that turns read-only under a running store (a standby after failover)', () => {
  it('fails writes as a storage failure, and works again once it takes writes', async () => {
    const database = await testDatabase();
    const store = await database.open();
    const name = new URL(database.config.databaseUrl!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: databaseUrl(cluster(), 'postgres') });
    await admin.connect();
    const reconnect = () =>
      admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    try {
      await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
      await reconnect();
      let error: unknown;
      // The pool notices its terminated connections as it uses them.
      for (let i = 0; i < 10 && !/read-only/.test(String((error as { cause?: unknown })?.cause ?? error)); i++) {
        error = await probeWrite(store.db, NOW).catch((e: unknown) => e);
      }
      expect(isStorageFailure(error), String(error)).toBe(true);
      await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
      await reconnect();
      let ok = false;
      for (let i = 0; i < 10 && !ok; i++)
        ok = await probeWrite(store.db, NOW).then(
          () => true,
          () => false,
        );
      expect(ok).toBe(true);
    } finally {
      await admin.end();
      await store.close();
      await database.dispose();
    }
  });
});

describe('the database URL', () => {
  it('reads sslmode as libpq does, refuses what would fall back to plain text, and never shows the password', () => {
    const url = 'postgres://app:s3cr3t@db.internal:5432/alphaswarm';
    expect(parsePostgresUrl(url)).toMatchObject({
      ssl: false,
      location: 'postgres://app:***@db.internal:5432/alphaswarm',
    });
    expect(parsePostgresUrl(`${url}?sslmode=require`).ssl).toEqual({ rejectUnauthorized: false });
    expect(parsePostgresUrl(`${url}?sslmode=verify-full`).ssl).toEqual({});
    const verifyCa = parsePostgresUrl(`${url}?sslmode=verify-ca&application_name=x`);
    expect(verifyCa.ssl).toMatchObject({ checkServerIdentity: expect.any(Function) });
    expect(verifyCa.connectionString).toBe(`${url}?application_name=x`);
    for (const bad of [`${url}?sslmode=prefer`, `${url}?sslmode=allow`, `${url}?sslmode=bogus`]) {
      expect(() => parsePostgresUrl(bad)).toThrow(/is not supported: use disable, require, verify-ca, verify-full/);
    }
    expect(() => parsePostgresUrl(`${url}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`)).toThrow(
      /sslrootcert=\/nonexistent\/ca.pem in the database URL cannot be read: ENOENT/,
    );
    expect(() => parsePostgresUrl('mysql://app:s3cr3t@db/x')).toThrow(/must start with postgres:\/\//);
    for (const thrown of [
      () => parsePostgresUrl('mysql://app:s3cr3t@db/x'),
      () => parsePostgresUrl('not a url s3cr3t'),
    ]) {
      expect(() => thrown()).toThrow(DatabaseError);
      try {
        thrown();
      } catch (error) {
        expect((error as Error).message).not.toContain('s3cr3t');
      }
    }
  });

  it('asks the server for TLS when told to, and names what failed without the password', async () => {
    const { host, port } = cluster();
    const error = await openPostgresStore(`postgres://postgres:s3cr3t@${host}:${port}/postgres?sslmode=require`).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(
      /^Cannot connect to the PostgreSQL database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres: The server does not support SSL connections/,
    );
    const refused = await openPostgresStore(`postgres://postgres:s3cr3t@127.0.0.1:1/postgres`).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/connection refused \(is the server running and listening there\?\)$/);
    expect((refused as Error).message).not.toContain('s3cr3t');
  });
});

describe('both dialects', () => {
  let pgStore: Store;
  let sqliteStore: Store;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const database = await testDatabase();
    pgStore = await database.open();
    sqliteStore = openStore(join(database.dir, 'admin.db'));
    dispose = () => database.dispose();
  });
  afterAll(async () => {
    await pgStore.close();
    await sqliteStore.close();
    await dispose();
  });

  it('export the same data byte for byte, in the same order', async () => {
    const keyring = Keyring.fromEnv(generateKey());
    const [hf, , , , aws] = sampleRecords(keyring);
    // Orders a locale-aware collation would change: case, punctuation, digits.
    const orgs = ['org-a', 'org_a', 'org.a', 'orgA', 'Org-b', 'org-a1', '9lives', 'org-B'];
    const records = orgs.flatMap((org) => [
      { ...hf!, org_id: org, credential_key: `huggingface:org:${org}`, secret: sealSecret(keyring, { token: 'hf_x' }) },
      { ...aws!, org_id: org, credential_key: `cloud_aws:org:${org}`, metadata: { z: 1, a: { y: [2, 1], b: null } } },
    ]);
    const exported: string[] = [];
    for (const store of [sqliteStore, pgStore]) {
      await importStore(store.db, records, { keyring, onConflict: 'fail', now: new Date(NOW) });
      await upsertLink(
        store.db,
        linkWrite({
          orgId: 'org-z',
          kind: 'docker_hub',
          namespace: 'z',
          status: 'degraded',
          error: { code: 'c', message: 'm' },
          metadata: { b: 1, a: 2 },
        }),
        NOW,
      );
      let text = '';
      for await (const chunk of exportStoreChunks(store.db, { now: new Date(NOW), pageSize: 5 })) text += chunk;
      exported.push(text);
    }
    expect(exported[1]).toBe(exported[0]);
    const keys = [...records.map((r) => r.credential_key), 'docker_hub:org:org-z'];
    expect(JSON.parse(exported[0]!).integrations.map((r: { credential_key: string }) => r.credential_key)).toEqual(
      keys.sort(),
    );
  });
});
