// The database a test runs on: its project's dialect (vitest.config.ts), a fresh one per call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Dialect, Store } from '../src/database';
import { openDatabase, openDatabaseReadOnly, type StoreConfig } from '../src/store';
import { createTestDatabase } from '../src/testing/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    dialect: Dialect;
    postgres?: { host: string; port: number; template: string };
  }
}

export const dialect: Dialect = inject('dialect');

/** The PostgreSQL project's cluster (only there). */
export function cluster(): { host: string; port: number; template: string } {
  const provided = inject('postgres');
  if (!provided) throw new Error('no PostgreSQL cluster in this project');
  return provided;
}

export interface TestDatabase {
  config: StoreConfig;
  /** A temporary directory of its own (the SQLite file lives there). */
  dir: string;
  open(): Promise<Store>;
  openReadOnly(): Promise<Store>;
  dispose(): Promise<void>;
}

/** A new, empty, migrated database of this project's dialect. */
export async function testDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'alphaswarm-db-test-'));
  const cluster = inject('postgres');
  const pg = dialect === 'postgres' && cluster ? await createTestDatabase(cluster) : null;
  const config: StoreConfig = { dbPath: join(dir, 'admin.db'), ...(pg ? { databaseUrl: pg.url, pool: 4 } : {}) };
  return {
    config,
    dir,
    open: () => openDatabase(config),
    openReadOnly: () => openDatabaseReadOnly(config),
    async dispose() {
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A store on a fresh database; `close` also disposes of the database. */
export async function testStore(): Promise<Store & { database: TestDatabase }> {
  const database = await testDatabase();
  const store = await database.open();
  const close = store.close.bind(store);
  return Object.assign(store, {
    database,
    async close() {
      await close();
      await database.dispose();
    },
  });
}

/**
 * Two handles on one fresh database, standing for two processes or replicas sharing it; `close`
 * closes both and disposes of the database.
 */
export async function twoHandles(): Promise<{ a: Store; b: Store; close(): Promise<void> }> {
  const database = await testDatabase();
  const a = await database.open();
  const b = await database.open();
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await database.dispose();
    },
  };
}
