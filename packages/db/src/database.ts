// The handle every repository takes, the same on both dialects. SQL that differs by dialect
// lives only in sqlite.ts and postgres.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { DrizzleQueryError, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type * as pgSchema from './schema/pg';

export type Dialect = 'sqlite' | 'postgres';

/** Every table, as the PostgreSQL schema types it (the SQLite tables have the same shape). */
export type Tables = typeof pgSchema;

/**
 * The query builder. Typed as the PostgreSQL Drizzle database; on SQLite it is the SQLite one,
 * cast. Repositories use only what both share: queries written once in the portable builder and
 * always awaited (never `.get()`/`.all()`/`.run()`), changed rows counted from `.returning()`.
 */
export type Db = NodePgDatabase<Tables>;

export interface Database {
  readonly dialect: Dialect;
  /** Reads (autocommit); inside `write`, reads and writes of that transaction. */
  readonly q: Db;
  /** The tables of this dialect: always take them from here, never import a schema module. */
  readonly t: Tables;
  /**
   * One write transaction, committed when `fn` resolves, rolled back when it throws. Re-entrant:
   * inside a transaction, `write` (on the transaction or on the store) runs `fn` on that same
   * transaction.
   */
  write<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  /**
   * Serialise with every other holder of `name` until this transaction ends, in any process
   * (PostgreSQL: an advisory transaction lock; SQLite: the write transaction already does).
   * Only valid inside `write`.
   */
  lock(name: string): Promise<void>;
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

export interface Store {
  /** The handle repositories take. */
  readonly db: Database;
  readonly dialect: Dialect;
  /** Where the data lives, for messages: the file, or the URL without its password. */
  readonly location: string;
  /** Opened for reading only: every write fails. */
  readonly readOnly: boolean;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /** How the database's schema compares to this build's migrations (changes nothing). */
  migrations(): Promise<MigrationState>;
  /**
   * Run one raw statement in a write transaction and return its rows: for tests that must tamper
   * on purpose (drop a trigger, edit an audit row) and for maintenance. Build it with drizzle's
   * `sql` template so its parameters are bound the way the dialect wants.
   */
  exec(statement: SQL): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

/** The driver's error inside drizzle's wrapper (which quotes the query and its parameters). */
export function driverError(error: unknown): unknown {
  let e = error;
  while (e instanceof DrizzleQueryError && e.cause !== undefined) e = e.cause;
  return e;
}

/** A 64-bit advisory lock key for a name, the same in every process and every build. */
export function lockKey(name: string): string {
  return createHash('sha256').update(`alphaswarm-admin/lock\0${name}`).digest().readBigInt64BE(0).toString();
}

/** Runs one async function at a time, in call order. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

interface OpenTransaction {
  owner: object;
  tx: Database;
  active: boolean;
}

const current = new AsyncLocalStorage<OpenTransaction>();

/**
 * The transaction `owner` (a store) has open in this async context, if any. A context that
 * outlived its transaction (work started inside it and still running) finds it inactive.
 */
export function openTransaction(owner: object): Database | undefined {
  const open = current.getStore();
  return open && open.owner === owner && open.active ? open.tx : undefined;
}

/** Run `fn` as the body of `tx`: nested writes in it join `tx`, until it ends. */
export async function inTransaction<T>(owner: object, tx: Database, fn: (tx: Database) => Promise<T>): Promise<T> {
  const open: OpenTransaction = { owner, tx, active: true };
  try {
    return await current.run(open, async () => fn(tx));
  } finally {
    open.active = false;
  }
}

const prepared = new WeakMap<object, Map<string, unknown>>();

/**
 * A prepared statement built once per connection or transaction (`db.q`) and reused: for the hot
 * paths. `name` identifies it on PostgreSQL, where the server keeps it per connection.
 */
export function preparedFor<P>(db: Database, name: string, build: (q: Db, name: string) => P): P {
  let byName = prepared.get(db.q);
  if (!byName) {
    byName = new Map();
    prepared.set(db.q, byName);
  }
  let statement = byName.get(name) as P | undefined;
  if (statement === undefined) {
    statement = build(db.q, name);
    byName.set(name, statement);
  }
  return statement;
}
