// The database as operators meet it: /readyz saying whether the schema is this build's (while
// /livez does not look), and the `migrate` command, on both dialects.
import { sql } from '@alphaswarm/db';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateCommand } from '../src/cli/commands';
import { ConfigError, parseEnv } from '../src/env';
import { productionWarnings } from '../src/runtime/index';
import { forgetNewestMigration, testDatabase } from './support/database';
import { call, type Harness, startHarness } from './support/harness';

describe('/readyz', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('is ready with this build’s schema, and not while the database is a migration behind', async () => {
    let now = Date.parse('2026-05-27T20:00:00Z');
    h = await startHarness({ now: () => new Date(now) });
    const ready = await call(h, 'GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { database: true, writable: true, migrations: true, keyring: true },
    });
    await forgetNewestMigration(h.store);
    now += 2_000;
    const behind = await call(h, 'GET', '/readyz', { token: null });
    expect(behind.status).toBe(503);
    expect(behind.body).toEqual({
      status: 'not_ready',
      checks: { database: true, writable: true, migrations: false, keyring: true },
    });
    // Liveness checks no dependency: the replica is alive, only not ready; /healthz is its alias.
    for (const path of ['/livez', '/healthz']) {
      const live = await call(h, 'GET', path, { token: null });
      expect([path, live.status, live.body]).toEqual([path, 200, { status: 'ok' }]);
    }
  });
});

describe('alphaswarm-admin migrate', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  /** Run the command with the environment a shell would give it; its stdout lines, or its error. */
  async function migrate(env: Record<string, string>): Promise<string[] | Error> {
    process.env = { PATH: saved.PATH, HOME: saved.HOME, ...env };
    const out: string[] = [];
    return migrateCommand({ out: (line) => out.push(line), err: () => undefined }).then(
      () => out,
      (error: Error) => error,
    );
  }

  it('brings a new database to this build, then finds nothing to do; refuses a newer schema', async () => {
    const database = await testDatabase({ empty: true });
    try {
      const first = await migrate(database.env);
      expect(first).toEqual([
        expect.stringMatching(/^migrated .* \((sqlite|postgres)\): applied (\d+) migrations, \2 of \2 now\.$/),
      ]);
      const again = await migrate(database.env);
      expect(again).toEqual([expect.stringMatching(/ is current: \d+ migrations, nothing to apply\.$/)]);

      const store = await database.open();
      const table = store.dialect === 'sqlite' ? sql`__drizzle_migrations` : sql`drizzle.__drizzle_migrations`;
      await store.exec(sql`INSERT INTO ${table} (hash, created_at) VALUES ('future', ${Date.parse('2099-01-01')})`);
      await store.close();
      const newer = await migrate(database.env);
      expect(newer).toBeInstanceOf(Error);
      expect((newer as Error).message).toMatch(
        /was migrated by a newer alphaswarm-admin \(\d+ migrations, this build knows \d+\); use that version\.$/,
      );
    } finally {
      await database.dispose();
    }
  });
});

describe('ALPHASWARM_ADMIN_DATABASE_URL', () => {
  const env = (url: string) => parseEnv({ HOME: '/nonexistent', ALPHASWARM_ADMIN_DATABASE_URL: url });

  it('selects PostgreSQL with its pool size; a bad one stops start-up naming the variable, never the password', () => {
    expect(env('postgres://app:s3cr3t@db.internal/alphaswarm').database).toMatchObject({
      databaseUrl: 'postgres://app:s3cr3t@db.internal/alphaswarm',
      pool: 10,
    });
    expect(parseEnv({ HOME: '/nonexistent' }).database.databaseUrl).toBeUndefined();
    for (const bad of ['postgres://app:s3cr3t@db/x?sslmode=prefer', 'mysql://app:s3cr3t@db/x']) {
      let error: unknown;
      try {
        env(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^Invalid configuration: ALPHASWARM_ADMIN_DATABASE_URL: /);
      expect((error as Error).message).not.toContain('s3cr3t');
    }
    expect(() => parseEnv({ HOME: '/nonexistent', ALPHASWARM_ADMIN_DATABASE_POOL: '0' })).toThrow(
      /ALPHASWARM_ADMIN_DATABASE_POOL/,
    );
  });

  it('warns in check-production when a remote server is not verified', () => {
    expect(productionWarnings(env('postgres://app:x@db.internal/a?sslmode=require')).join(' ')).toMatch(
      /reaches db\.internal with sslmode=require: .* use sslmode=verify-full/,
    );
    expect(productionWarnings(env('postgres://app:x@db.internal/a?sslmode=verify-full'))).toEqual([]);
    expect(productionWarnings(env('postgres://app:x@127.0.0.1:5432/a'))).toEqual([]);
  });
});
