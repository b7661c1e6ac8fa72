// Everything SQLite-specific lives here: the driver, pragmas, the migrations folder, how a
// read-only file is opened, which driver errors mean "the disk cannot take writes".
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import * as schema from './schema';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Store {
  db: Db;
  path: string;
  /** The raw driver, for health checks and tests that must corrupt things on purpose. */
  sqlite: Database.Database;
  /** Opened with openStoreReadOnly: every write fails. */
  readOnly: boolean;
  close(): void;
}

export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

const MIGRATIONS = resolve(dirname(fileURLToPath(import.meta.url)), '../migrations');

/**
 * Open (creating if needed) the database at `path`, in WAL mode, with migrations applied.
 * Directories are created 0700. Fails with a DatabaseError a person can act on; a file or
 * directory an operator made read-only is refused rather than written (even by root).
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
    const readOnly = readOnlyReason(file);
    if (readOnly) {
      throw new DatabaseError(
        `The database ${file} is read-only (${readOnly}); this command writes to it. audit-verify, export and list-admins work on a read-only database.`,
      );
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
    guardWrites(sqlite);
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder: MIGRATIONS });
    if (file !== ':memory:') {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    }
    return { db, path: file, sqlite, readOnly: false, close: () => sqlite.close() };
  } catch (error) {
    sqlite.close();
    throw describeOpenError(file, error);
  }
}

function describeOpenError(file: string, error: unknown): DatabaseError {
  const message = (error as Error).message;
  if (/not a database|file is encrypted/i.test(message)) {
    return new DatabaseError(
      `${file} is not a SQLite database (is ALPHASWARM_ADMIN_DB_PATH pointing at the right file?).`,
    );
  }
  return new DatabaseError(`Cannot prepare the database ${file}: ${message}`);
}

/**
 * Why the operator meant `file` to stay untouched, or null: a read-only file system, no write
 * permission for this user, or no write bit at all on the file or its directory (which root
 * would otherwise ignore).
 */
export function readOnlyReason(file: string): string | null {
  if (!existsSync(file)) return null;
  const dir = dirname(file);
  for (const [target, what] of [
    [dir, 'its directory'],
    [file, 'the file'],
  ] as const) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'EROFS' ? 'the file system is mounted read-only' : `${what} is not writable by this user`;
    }
    if ((statSync(target).mode & 0o222) === 0) {
      return `${what} has mode 0${(statSync(target).mode & 0o777).toString(8)}`;
    }
  }
  return null;
}

/**
 * A writing statement (INSERT/UPDATE/DELETE … RETURNING) read with `.get()` stops after its
 * first row: in autocommit the commit happens when the statement is reset, and that result is
 * never checked, so a commit lost on a full disk looked like success. Such reads must run the
 * statement to its end (`.all()` or `.run()`); this makes the mistake fail every time instead of
 * only when the disk is full.
 */
function guardWrites(sqlite: Database.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    const statement = prepare(source);
    if (statement.reader && !statement.readonly) {
      statement.get = () => {
        throw new DatabaseError(
          'A statement that writes was read with .get(), which never checks its commit: read it with .all() or .run().',
        );
      };
    }
    return statement;
  }) as typeof sqlite.prepare;
}

/** Driver errors that mean the database cannot take writes now (disk full, I/O, read-only, locked). */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL)/;

/** True for a failure of the storage itself, as opposed to a bug or a constraint. */
export function isStorageFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Database.SqliteError && typeof code === 'string' && STORAGE_CODES.test(code);
}

export interface MigrationState {
  /** Migrations this build ships. */
  expected: number;
  /** Migrations recorded in the database. */
  applied: number;
  /** Shipped migrations the database has not had yet. */
  pending: number;
  /** The database was migrated by a newer build. */
  ahead: boolean;
}

/** How the database's schema compares to this build's migrations (without changing anything). */
export function migrationState(sqlite: Database.Database): MigrationState {
  const files = readMigrationFiles({ migrationsFolder: MIGRATIONS });
  const table = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .all();
  const applied =
    table.length === 0
      ? []
      : (sqlite.prepare('SELECT created_at AS at FROM __drizzle_migrations').all() as { at: number }[]).map((r) =>
          Number(r.at),
        );
  const last = applied.length ? Math.max(...applied) : 0;
  const pending = files.filter((m) => m.folderMillis > last).length;
  const newest = files.length ? Math.max(...files.map((m) => m.folderMillis)) : 0;
  return { expected: files.length, applied: applied.length, pending, ahead: last > newest };
}

/** One sentence about a schema that differs from this build's, or null. */
export function describeMigrationLag(path: string, state: MigrationState): string | null {
  if (state.ahead) {
    return `the database ${path} was migrated by a newer alphaswarm-admin (${state.applied} migrations, this build knows ${state.expected}); use that version.`;
  }
  if (state.pending > 0) {
    return `the database ${path} is ${state.pending} migration${state.pending === 1 ? '' : 's'} behind this build (read-only, so it was not migrated); run a writing command such as serve on a writable copy to migrate it.`;
  }
  return null;
}

export interface ReadOnlyStore extends Store {
  migrations: MigrationState;
  /** Why the file itself could not be read in place (then a private copy was read), or null. */
  copiedBecause: string | null;
}

/**
 * Open an existing database for reading only: no migration, no chmod, nothing created next to
 * it. A file in a location the operator made read-only is read through a private copy (with its
 * -wal, so committed changes not yet checkpointed are seen): SQLite cannot open a WAL database
 * in place there without its -shm, and root would otherwise create one.
 */
export function openStoreReadOnly(path: string): ReadOnlyStore {
  const file = resolve(path);
  if (!existsSync(file)) throw new DatabaseError(`No database at ${file}.`);
  const reason = readOnlyReason(file);
  let copyDir: string | null = null;
  let target = file;
  if (reason) {
    copyDir = mkdtempSync(join(tmpdir(), 'alphaswarm-readonly-'));
    target = join(copyDir, 'admin.db');
    try {
      copyFileSync(file, target);
      if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${target}-wal`);
      chmodSync(target, 0o600);
    } catch (error) {
      rmSync(copyDir, { recursive: true, force: true });
      throw new DatabaseError(`Cannot read the database ${file}: ${(error as Error).message}`);
    }
  }
  const cleanup = () => {
    if (copyDir) rmSync(copyDir, { recursive: true, force: true });
  };
  let sqlite: Database.Database;
  try {
    sqlite = new Database(target, { readonly: true, fileMustExist: true, timeout: 5_000 });
  } catch (error) {
    cleanup();
    throw new DatabaseError(`Cannot open the database ${file}: ${(error as Error).message}`);
  }
  try {
    guardWrites(sqlite);
    const db = drizzle(sqlite, { schema });
    const migrations = migrationState(sqlite);
    return {
      db,
      path: file,
      sqlite,
      readOnly: true,
      migrations,
      copiedBecause: reason,
      close: () => {
        sqlite.close();
        cleanup();
      },
    };
  } catch (error) {
    sqlite.close();
    cleanup();
    throw describeOpenError(file, error);
  }
}

/** True when the database answers a trivial query. */
export function storeIsUsable(store: Store): boolean {
  try {
    store.sqlite.prepare('SELECT 1').get();
    return true;
  } catch {
    return false;
  }
}
