// Everything SQLite-specific lives here: the driver, pragmas, the migrations, how a read-only
// file is opened, how writes are serialised, which driver errors mean "the disk cannot take
// writes".
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
import Driver from 'better-sqlite3';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import {
  type Database,
  DatabaseError,
  type Db,
  driverError,
  inTransaction,
  type MigrationState,
  Mutex,
  openTransaction,
  type Store,
  type Tables,
} from './database';
import { migrationStateOf, pendingMigrations } from './migrations';
import * as schema from './schema/sqlite';

// The SQLite tables have the shape of the PostgreSQL ones (both are generated from one model).
const tables = schema as unknown as Tables;
const sqliteDialect = new SQLiteSyncDialect();

export interface SqliteStore extends Store {
  readonly dialect: 'sqlite';
  readonly path: string;
  /**
   * The raw driver of the writing connection, for what only SQLite has (WAL checkpoints in
   * tests that must find bytes in the file). Never write through it.
   */
  readonly sqlite: Driver.Database;
}

export interface ReadOnlyStore extends SqliteStore {
  migrationState: MigrationState;
  /** Why the file itself could not be read in place (then a private copy was read), or null. */
  copiedBecause: string | null;
}

/**
 * Open (creating if needed) the database at `path`, in WAL mode, with migrations applied.
 * Directories are created 0700. Fails with a DatabaseError a person can act on; a file or
 * directory an operator made read-only is refused rather than written (even by root).
 */
export function openStore(path: string): SqliteStore {
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
  let writer: Driver.Database;
  try {
    writer = new Driver(file, { timeout: 5_000 });
  } catch (error) {
    throw new DatabaseError(`Cannot open the database ${file}: ${(error as Error).message}`);
  }
  let reader: Driver.Database | undefined;
  try {
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = NORMAL');
    writer.pragma('foreign_keys = ON');
    guardWrites(writer);
    migrate(writer);
    if (file !== ':memory:') {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
      // WAL: a reader sees only committed data and never waits for the writer.
      reader = new Driver(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
      guardWrites(reader);
    }
    return new SqliteStoreImpl(file, writer, reader ?? writer, false);
  } catch (error) {
    reader?.close();
    writer.close();
    throw describeOpenError(file, error);
  }
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
  let driver: Driver.Database;
  try {
    driver = new Driver(target, { readonly: true, fileMustExist: true, timeout: 5_000 });
  } catch (error) {
    cleanup();
    throw new DatabaseError(`Cannot open the database ${file}: ${(error as Error).message}`);
  }
  try {
    guardWrites(driver);
    const store = new SqliteStoreImpl(file, driver, driver, true, cleanup) as SqliteStoreImpl & ReadOnlyStore;
    store.migrationState = migrationStateOf('sqlite', appliedMigrations(driver));
    store.copiedBecause = reason;
    return store;
  } catch (error) {
    driver.close();
    cleanup();
    throw describeOpenError(file, error);
  }
}

class SqliteStoreImpl implements SqliteStore {
  readonly dialect = 'sqlite' as const;
  readonly db: Database;
  readonly location: string;
  readonly #mutex = new Mutex();
  readonly #writerDb: Db;

  constructor(
    readonly path: string,
    readonly sqlite: Driver.Database,
    private readonly reader: Driver.Database,
    readonly readOnly: boolean,
    private readonly cleanup: () => void = () => undefined,
  ) {
    this.location = path;
    this.#writerDb = drizzle(sqlite, { schema }) as unknown as Db;
    const readerDb = reader === sqlite ? this.#writerDb : (drizzle(reader, { schema }) as unknown as Db);
    this.db = {
      dialect: 'sqlite',
      q: readerDb,
      t: tables,
      write: (fn) => this.write(fn),
      lock: async () => {
        throw new DatabaseError('lock() is only valid inside write().');
      },
    };
  }

  /**
   * better-sqlite3 is synchronous and its transactions cannot span an await: one write
   * transaction at a time per store (the mutex), BEGIN IMMEDIATE on the writing connection so
   * other processes wait on the file lock (busy timeout) rather than fail mid-transaction.
   */
  write<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    const open = openTransaction(this);
    if (open) return fn(open);
    return this.#mutex.run(async () => {
      const tx: Database = {
        dialect: 'sqlite',
        q: this.#writerDb,
        t: tables,
        write: (inner) => this.write(inner),
        // The write transaction already excludes every other writer of the file.
        lock: async () => undefined,
      };
      this.sqlite.exec('BEGIN IMMEDIATE');
      try {
        const result = await inTransaction(this, tx, fn);
        this.sqlite.exec('COMMIT');
        return result;
      } catch (error) {
        // A failed COMMIT (full disk) may leave the transaction open, or SQLite may have ended it.
        // The error to report is the one that stopped the transaction, not a failed rollback.
        if (this.sqlite.inTransaction) {
          try {
            this.sqlite.exec('ROLLBACK');
          } catch {}
        }
        throw error;
      }
    });
  }

  async ping(): Promise<boolean> {
    try {
      this.reader.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  async migrations(): Promise<MigrationState> {
    return migrationStateOf('sqlite', appliedMigrations(this.reader));
  }

  exec(statement: SQL): Promise<Record<string, unknown>[]> {
    return this.write(async () => {
      const query = sqliteDialect.sqlToQuery(statement);
      const prepared = this.sqlite.prepare(query.sql);
      if (prepared.reader) return prepared.all(...query.params) as Record<string, unknown>[];
      prepared.run(...query.params);
      return [];
    });
  }

  async close(): Promise<void> {
    if (this.reader !== this.sqlite) this.reader.close();
    this.sqlite.close();
    this.cleanup();
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
function guardWrites(sqlite: Driver.Database): void {
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

/** Journal times of the migrations recorded in the database. */
function appliedMigrations(sqlite: Driver.Database): number[] {
  const table = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .all();
  if (table.length === 0) return [];
  return (sqlite.prepare('SELECT created_at AS at FROM __drizzle_migrations').all() as { at: number }[]).map((r) =>
    Number(r.at),
  );
}

/**
 * Apply pending migrations in one IMMEDIATE transaction, deciding what is pending inside it: two
 * processes opening a new database at once cannot both apply the same migration.
 */
function migrate(sqlite: Driver.Database): void {
  sqlite.exec(
    'CREATE TABLE IF NOT EXISTS __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)',
  );
  sqlite.exec('BEGIN IMMEDIATE');
  try {
    const record = sqlite.prepare('INSERT INTO __drizzle_migrations ("hash", "created_at") VALUES (?, ?)');
    for (const migration of pendingMigrations('sqlite', appliedMigrations(sqlite))) {
      for (const statement of migration.sql) if (statement.trim()) sqlite.exec(statement);
      record.run(migration.hash, migration.folderMillis);
    }
    sqlite.exec('COMMIT');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw error;
  }
}

/** Driver errors that mean the database cannot take writes now (disk full, I/O, read-only, locked). */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL)/;

/** True for a failure of the storage itself, as opposed to a bug or a constraint. */
export function isSqliteStorageFailure(error: unknown): boolean {
  const e = driverError(error);
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Driver.SqliteError && typeof code === 'string' && STORAGE_CODES.test(code);
}

/** A unique or primary key constraint of `table` (on `column`, when given) refused a row. */
export function isSqliteUniqueViolation(error: unknown, table: string, column?: string): boolean {
  const e = driverError(error);
  if (!(e instanceof Driver.SqliteError) || !/^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(e.code)) return false;
  const failed = /constraint failed: (.*)$/.exec(e.message)?.[1]?.split(', ') ?? [];
  return failed.some((c) => (column ? c === `${table}.${column}` : c.startsWith(`${table}.`)));
}

/** The tables of a SQLite database, without SQLite's own and drizzle's migration journal (copy-db). */
export const SQLITE_TABLES: SQL = sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '__drizzle_migrations' ORDER BY name`;
