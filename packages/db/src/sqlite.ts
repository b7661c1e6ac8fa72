// Everything SQLite-specific lives here: the driver, pragmas, the migrations folder.
import { accessSync, chmodSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Store {
  db: Db;
  path: string;
  /** The raw driver, for health checks and tests that must corrupt things on purpose. */
  sqlite: Database.Database;
  close(): void;
}

export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

const MIGRATIONS = resolve(dirname(fileURLToPath(import.meta.url)), '../migrations');

/**
 * Open (creating if needed) the database at `path`, in WAL mode, with migrations applied.
 * Directories are created 0700. Fails with a DatabaseError a person can act on.
 */
export function openStore(path: string): Store {
  const file = path === ':memory:' ? path : resolve(path);
  if (file !== ':memory:') {
    const dir = dirname(file);
    if (!existsSync(dir)) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (error) {
        throw new DatabaseError(`Cannot create the database directory ${dir}: ${(error as Error).message}`);
      }
    }
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      throw new DatabaseError(`The database directory ${dir} is not writable by this process.`);
    }
  }
  let sqlite: Database.Database;
  try {
    sqlite = new Database(file, { timeout: 5_000 });
  } catch (error) {
    throw new DatabaseError(`Cannot open the database ${file}: ${(error as Error).message}`);
  }
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder: MIGRATIONS });
    if (file !== ':memory:') {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    }
    return { db, path: file, sqlite, close: () => sqlite.close() };
  } catch (error) {
    sqlite.close();
    const message = (error as Error).message;
    if (/not a database|file is encrypted/i.test(message)) {
      throw new DatabaseError(
        `${file} is not a SQLite database (is ALPHASWARM_ADMIN_DB_PATH pointing at the right file?).`,
      );
    }
    throw new DatabaseError(`Cannot prepare the database ${file}: ${message}`);
  }
}

/** True when the database answers a trivial query (readiness probe). */
export function storeIsUsable(store: Store): boolean {
  try {
    store.sqlite.prepare('SELECT 1').get();
    return true;
  } catch {
    return false;
  }
}
