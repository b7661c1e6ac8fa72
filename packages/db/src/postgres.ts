// Everything PostgreSQL-specific lives here: the driver and its pool, TLS from the URL, the
// migrations under an advisory lock, transactions and advisory locks, which driver errors mean
// "the database cannot take writes".
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import {
  type Database,
  DatabaseError,
  type Db,
  driverError,
  inTransaction,
  lockKey,
  type MigrationState,
  openTransaction,
  type Store,
  type Tables,
} from './database';
import { migrationStateOf, pendingMigrations } from './migrations';
import * as schema from './schema/pg';

const tables: Tables = schema;

/** A LISTEN connection that drops is re-opened after this long, doubling up to the max. */
const LISTEN_BACKOFF = { initialMs: 500, maxMs: 5_000 };

/** Held while migrating, so replicas starting together apply each migration once. */
const MIGRATION_LOCK = lockKey('migrations');

export interface PostgresOptions {
  /** Connections in the pool (ALPHASWARM_ADMIN_DATABASE_POOL). */
  pool?: number;
  /** Every transaction of the session is read-only; nothing is migrated. */
  readOnly?: boolean;
  /** Apply pending migrations first, under an advisory lock (default: unless read-only). */
  migrate?: boolean;
}

export interface PostgresStore extends Store {
  readonly dialect: 'postgres';
  /** Apply pending migrations under the migration lock; returns how many were applied. */
  migrate(): Promise<number>;
  /**
   * One raw statement (or a multi-statement script without parameters) on a pooled connection,
   * outside the repositories: for libraries that bring their own SQL (the pg-boss job queue). A
   * script that fails inside its own BEGIN is rolled back before the connection goes back.
   */
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  /**
   * Hear NOTIFY on `channel` over a connection of its own (outside the pool). `state(true)` once
   * LISTEN holds: from then until `state(false)` (the connection was lost; it is re-opened with
   * backoff) nothing sent on the channel is missed. A server that refuses LISTEN itself leaves it
   * off for good.
   */
  listen(channel: string, handlers: ChannelHandlers): { close(): Promise<void> };
}

export interface ChannelHandlers {
  message(payload: string): void;
  state(listening: boolean): void;
}

export interface PostgresConnection {
  /** The URL without the TLS parameters, which `ssl` carries instead. */
  connectionString: string;
  ssl: false | ConnectionOptions;
  /** The URL without its password, for messages. */
  location: string;
}

const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;

/**
 * Read a `postgres://` URL the way libpq does for TLS: `sslmode` disable (the default), require
 * (encrypted, server not verified), verify-ca (its certificate chains to `sslrootcert`, or the
 * system CAs), verify-full (that, and the host name matches); `sslrootcert`, `sslcert`, `sslkey`
 * name PEM files. Throws a DatabaseError that never quotes the password.
 */
export function parsePostgresUrl(url: string): PostgresConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseError('the database URL is not a URL: expected postgres://user:password@host:5432/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DatabaseError(
      `the database URL must start with postgres:// or postgresql:// (not ${parsed.protocol}//); leave it unset for SQLite`,
    );
  }
  const location = redact(parsed);
  const params = parsed.searchParams;
  const mode = params.get('sslmode') ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new DatabaseError(
      `sslmode=${mode} in the database URL is not supported: use ${SSL_MODES.join(', ')}` +
        (mode === 'prefer' || mode === 'allow' ? ' (this client never falls back from one to the other)' : ''),
    );
  }
  const file = (name: string): string | undefined => {
    const path = params.get(name);
    if (path === null) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new DatabaseError(
        `${name}=${path} in the database URL cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  };
  const ca = file('sslrootcert');
  const cert = file('sslcert');
  const key = file('sslkey');
  for (const name of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey']) params.delete(name);
  let ssl: false | ConnectionOptions = false;
  if (mode !== 'disable') {
    ssl = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
    // libpq: require with a root certificate verifies the chain, like verify-ca.
    if (mode === 'require' && !ca) ssl.rejectUnauthorized = false;
    else if (mode !== 'verify-full') ssl.checkServerIdentity = () => undefined;
  }
  return { connectionString: parsed.toString(), ssl, location };
}

function redact(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password) copy.password = '***';
  copy.search = '';
  return copy.toString();
}

/**
 * Connect to PostgreSQL 14+ at `url` with a pool, checking the connection works; unless
 * read-only, apply pending migrations first under an advisory lock.
 */
export async function openPostgresStore(url: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
  const connection = parsePostgresUrl(url);
  const client: pg.ClientConfig = {
    connectionString: connection.connectionString,
    ssl: connection.ssl,
    connectionTimeoutMillis: 10_000,
    application_name: 'alphaswarm-admin',
    ...(opts.readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
  };
  const pool = new pg.Pool({ ...client, max: opts.pool ?? 10 });
  // A connection that dies (server restart, failover, terminated backend) must not take the
  // process with it, idle in the pool or checked out between two queries of a transaction: the
  // query that needs it fails and says why, the pool replaces it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const store = new PostgresStoreImpl(pool, client, connection.location, opts.readOnly === true);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw describeConnectError(connection.location, error);
  }
  try {
    if (opts.migrate ?? !opts.readOnly) await store.migrate();
  } catch (error) {
    await pool.end();
    if (error instanceof DatabaseError) throw error;
    throw new DatabaseError(`Cannot migrate the database ${connection.location}: ${(error as Error).message}`);
  }
  return store;
}

function describeConnectError(location: string, error: unknown): DatabaseError {
  const e = error as { code?: string; message?: string };
  const why =
    e.code === 'ECONNREFUSED'
      ? 'connection refused (is the server running and listening there?)'
      : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
        ? 'the host name does not resolve'
        : e.code === '28P01' || e.code === '28000'
          ? `the server refused the credentials (${e.message})`
          : e.code === '3D000'
            ? `${e.message} (create it, or fix the URL's path)`
            : (e.message ?? String(error));
  return new DatabaseError(`Cannot connect to the PostgreSQL database ${location}: ${why}`);
}

class PostgresStoreImpl implements PostgresStore {
  readonly dialect = 'postgres' as const;
  readonly db: Database;
  readonly #q: Db;

  constructor(
    private readonly pool: pg.Pool,
    private readonly clientConfig: pg.ClientConfig,
    readonly location: string,
    readonly readOnly: boolean,
  ) {
    this.#q = drizzle(pool, { schema });
    this.db = {
      dialect: 'postgres',
      q: this.#q,
      t: tables,
      write: (fn) => this.write(fn),
      lock: async () => {
        throw new DatabaseError('lock() is only valid inside write().');
      },
    };
  }

  write<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    const open = openTransaction(this);
    return open ? fn(open) : this.#transaction(fn);
  }

  /**
   * BEGIN … COMMIT on one pooled connection. A connection that cannot even roll back (it died
   * mid-transaction) is destroyed rather than returned to the pool.
   */
  async #transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const tx: Database = {
        dialect: 'postgres',
        q: this.#queriesOn(client),
        t: tables,
        write: (inner) => this.write(inner),
        lock: async (name) => {
          await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(name)]);
        },
      };
      const result = await inTransaction(this, tx, fn);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback;
      });
      // drizzle's wrapper quotes the query's parameters (ciphertexts, password hashes): callers
      // get the driver's own error, whose message is the server's.
      throw driverError(error);
    } finally {
      client.release(broken);
    }
  }

  /** One query builder per pooled connection, so statements prepared on it are reused. */
  readonly #sessions = new WeakMap<pg.PoolClient, Db>();
  #queriesOn(client: pg.PoolClient): Db {
    let q = this.#sessions.get(client);
    if (!q) {
      q = drizzle(client) as unknown as Db;
      this.#sessions.set(client, q);
    }
    return q;
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async migrations(): Promise<MigrationState> {
    return migrationStateOf('postgres', await appliedMigrations(this.pool));
  }

  /**
   * One transaction holding the migration lock decides what is pending and applies it, so a
   * replica that waited for the lock finds nothing left to do. Nothing pending: no DDL at all, so
   * a role that may not change the schema can still start.
   */
  async migrate(): Promise<number> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
      const pending = pendingMigrations('postgres', await appliedMigrations(client));
      if (pending.length > 0) {
        await client.query('CREATE SCHEMA IF NOT EXISTS drizzle');
        await client.query(
          'CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
        );
        for (const migration of pending) {
          for (const statement of migration.sql) if (statement.trim()) await client.query(statement);
          await client.query('INSERT INTO drizzle.__drizzle_migrations ("hash", "created_at") VALUES ($1, $2)', [
            migration.hash,
            migration.folderMillis,
          ]);
        }
      }
      await client.query('COMMIT');
      return pending.length;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async query(text: string, values?: unknown[]): Promise<{ rows: any[] }> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await client.query(text, values);
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Closes each LISTEN connection still open (close() ends them before the pool). */
  readonly #listeners = new Set<() => Promise<void>>();

  listen(channel: string, handlers: ChannelHandlers): { close(): Promise<void> } {
    let closed = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    let delayMs = LISTEN_BACKOFF.initialMs;
    const open = async () => {
      const c = new pg.Client(this.clientConfig);
      client = c;
      let lost = false;
      const drop = (again: boolean) => {
        if (lost) return;
        lost = true;
        handlers.state(false);
        c.end().catch(() => undefined);
        if (closed || !again) return;
        retry = setTimeout(open, delayMs);
        retry.unref();
        delayMs = Math.min(delayMs * 2, LISTEN_BACKOFF.maxMs);
      };
      c.on('error', () => drop(true));
      c.on('end', () => drop(true));
      c.on('notification', (n) => {
        if (n.channel === channel) handlers.message(n.payload ?? '');
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${c.escapeIdentifier(channel)}`);
      } catch (error) {
        // Unreachable now: try again. Refused by the server (a role or a proxy without LISTEN,
        // such as a transaction pooler): every read goes to the database, as without it.
        drop(isPostgresStorageFailure(error));
        return;
      }
      if (closed || lost) return;
      delayMs = LISTEN_BACKOFF.initialMs;
      handlers.state(true);
    };
    const close = async () => {
      closed = true;
      this.#listeners.delete(close);
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
    this.#listeners.add(close);
    void open();
    return { close };
  }

  async exec(statement: SQL): Promise<Record<string, unknown>[]> {
    return this.write(async (tx) => (await tx.q.execute(statement)).rows);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((close) => close()));
    await this.pool.end();
  }
}

/** Journal times of the migrations recorded in the database. */
async function appliedMigrations(client: pg.Pool | pg.PoolClient): Promise<number[]> {
  const table = await client.query("SELECT to_regclass('drizzle.__drizzle_migrations') AS t");
  if (table.rows[0]?.t === null) return [];
  const rows = await client.query<{ at: string }>('SELECT created_at AS at FROM drizzle.__drizzle_migrations');
  return rows.rows.map((r) => Number(r.at));
}

/**
 * SQLSTATE classes and codes that mean the database cannot take writes now: connection lost
 * (08), out of disk or memory or connections (53), shut down or starting (57P01-57P03), I/O
 * (58), a read-only transaction or standby (25006).
 */
const STORAGE_STATES = /^(08...|53...|57P0[123]|58...|25006)$/;
/** The driver's own failures to reach the server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);
const NETWORK_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/** True for a failure of the database or the way to it, as opposed to a bug or a constraint. */
export function isPostgresStorageFailure(error: unknown): boolean {
  const e = driverError(error) as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (e instanceof pg.DatabaseError) return typeof e.code === 'string' && STORAGE_STATES.test(e.code);
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  return typeof e.message === 'string' && NETWORK_MESSAGES.test(e.message);
}

/** A unique or primary key constraint of `table` (on `column`, when given) refused a row. */
export function isPostgresUniqueViolation(error: unknown, table: string, column?: string): boolean {
  const e = driverError(error);
  if (!(e instanceof pg.DatabaseError) || e.code !== '23505' || e.table !== table) return false;
  if (!column) return true;
  const columns = /^Key \((.*?)\)=/.exec(e.detail ?? '')?.[1]?.split(', ') ?? [];
  return columns.includes(column);
}

/** The tables of the current schema (drizzle keeps its journal in its own schema) (copy-db). */
export const POSTGRES_TABLES: SQL = sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`;

/**
 * Move the identity sequence of `table.column` past the rows copied in with their own values, so
 * the next append continues after them (copy-db).
 */
export function resetPostgresIdentity(table: string, column: string): SQL {
  const t = sql.identifier(table);
  const c = sql.identifier(column);
  return sql`SELECT setval(pg_get_serial_sequence(${table}, ${column}), coalesce((SELECT max(${c}) FROM ${t}), 1), (SELECT count(*) > 0 FROM ${t}))`;
}
