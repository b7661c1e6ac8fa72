// The database a test runs on: its vitest project's dialect (vitest.config.ts), a fresh one per
// call, and the few things a test must do that differ by dialect (breaking the audit write on
// purpose, editing an audit row, reading everything stored as text).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dialect, openDatabase, type Store, type StoreConfig, sql } from '@alphaswarm/db';
import { createTestDatabase } from '@alphaswarm/db/testing';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    dialect: Dialect;
    postgres?: { host: string; port: number; template: string };
  }
}

export const dialect: Dialect = inject('dialect');

export interface TestDatabase {
  dialect: Dialect;
  config: StoreConfig;
  /** A temporary directory of its own (the SQLite file lives there by default). */
  dir: string;
  /** The environment variables that point a process (the CLI, bootstrap) at this database. */
  env: Record<string, string>;
  open(): Promise<Store>;
  dispose(): Promise<void>;
}

/**
 * A new, empty, migrated database of this project's dialect (`empty`: not even migrated; for
 * SQLite, no file yet). `dbPath` places the SQLite file (ignored on PostgreSQL).
 */
export async function testDatabase(
  opts: { dbPath?: string; dir?: string; empty?: boolean } = {},
): Promise<TestDatabase> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'alphaswarm-test-'));
  const dbPath = opts.dbPath ?? join(dir, 'admin.db');
  const cluster = inject('postgres');
  const pg = dialect === 'postgres' && cluster ? await createTestDatabase(cluster, { empty: opts.empty }) : null;
  const config: StoreConfig = { dbPath, ...(pg ? { databaseUrl: pg.url, pool: 4 } : {}) };
  return {
    dialect,
    config,
    dir,
    env: {
      ALPHASWARM_ADMIN_DB_PATH: dbPath,
      ...(pg ? { ALPHASWARM_ADMIN_DATABASE_URL: pg.url, ALPHASWARM_ADMIN_DATABASE_POOL: '4' } : {}),
    },
    open: () => openDatabase(config),
    async dispose() {
      await pg?.drop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Make every audit append fail (as a full disk would) until the returned function undoes it. */
export async function breakAuditWrites(store: Store): Promise<() => Promise<void>> {
  if (store.dialect === 'sqlite') {
    await store.exec(
      sql`CREATE TRIGGER audit_down BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
    return async () => {
      await store.exec(sql`DROP TRIGGER audit_down`);
    };
  }
  await store.exec(
    sql.raw(
      `CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`,
    ),
  );
  await store.exec(
    sql`CREATE TRIGGER audit_down BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_down()`,
  );
  return async () => {
    await store.exec(sql`DROP TRIGGER audit_down ON audit_events`);
    await store.exec(sql`DROP FUNCTION audit_down()`);
  };
}

/** Let UPDATE through the append-only guard (to tamper on purpose) until the returned function restores it. */
export async function allowAuditUpdates(store: Store): Promise<() => Promise<void>> {
  if (store.dialect === 'sqlite') {
    await store.exec(sql`DROP TRIGGER audit_events_no_update`);
    return async () => {
      await store.exec(
        sql`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`,
      );
    };
  }
  await store.exec(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`);
  return async () => {
    await store.exec(sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`);
  };
}

/** Forget the newest applied migration, as if the database were one build behind. */
export async function forgetNewestMigration(store: Store): Promise<void> {
  const table = store.dialect === 'sqlite' ? sql`__drizzle_migrations` : sql`drizzle.__drizzle_migrations`;
  await store.exec(sql`DELETE FROM ${table} WHERE created_at = (SELECT max(created_at) FROM ${table})`);
}

const TABLES = [
  'integrations',
  'audit_events',
  'audit_open_runs',
  'wizard_sessions',
  'onboarding_shares',
  'signing_keys',
  'admin_users',
  'sign_in_address_limits',
  'sign_in_unknown_users',
  'used_token_ids',
  'refresh_sessions',
  'refresh_tokens',
];

/**
 * Everything the database holds, as text to search for a canary: on SQLite the bytes of the file
 * and its -wal (after a checkpoint), on PostgreSQL every row of every table.
 */
export async function storedText(store: Store, config: StoreConfig): Promise<string> {
  if (store.dialect === 'sqlite') {
    (store as Store & { sqlite: { pragma(p: string): unknown } }).sqlite.pragma('wal_checkpoint(FULL)');
    const dir = join(config.dbPath, '..');
    const base = config.dbPath.slice(dir.length + 1);
    return readdirSync(dir)
      .filter((f) => f.startsWith(base) && existsSync(join(dir, f)))
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('');
  }
  const parts: string[] = [];
  for (const table of TABLES) parts.push(JSON.stringify(await store.exec(sql`SELECT * FROM ${sql.identifier(table)}`)));
  return parts.join('\n');
}
