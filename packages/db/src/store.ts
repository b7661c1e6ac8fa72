import type { Store } from './database';
import { isPostgresStorageFailure, isPostgresUniqueViolation, openPostgresStore } from './postgres';
import { isSqliteStorageFailure, isSqliteUniqueViolation, openStore, openStoreReadOnly } from './sqlite';

/** Where the data lives: a PostgreSQL URL when one is configured, else a SQLite file. */
export interface StoreConfig {
  /** postgres://… (ALPHASWARM_ADMIN_DATABASE_URL); unset selects SQLite. */
  databaseUrl?: string | undefined;
  /** The SQLite file (ALPHASWARM_ADMIN_DB_PATH). */
  dbPath: string;
  /** PostgreSQL pool size (ALPHASWARM_ADMIN_DATABASE_POOL). */
  pool?: number;
}

/** Open the configured database with its migrations applied (PostgreSQL: under an advisory lock). */
export async function openDatabase(config: StoreConfig): Promise<Store> {
  if (config.databaseUrl) return openPostgresStore(config.databaseUrl, { pool: config.pool ?? 10 });
  return openStore(config.dbPath);
}

/**
 * Open the configured database for reading only: nothing migrated, nothing written (a SQLite
 * file in a read-only place is read through a private copy; a PostgreSQL session is read-only).
 */
export async function openDatabaseReadOnly(config: StoreConfig): Promise<Store> {
  if (config.databaseUrl) {
    return openPostgresStore(config.databaseUrl, { pool: Math.min(config.pool ?? 10, 2), readOnly: true });
  }
  return openStoreReadOnly(config.dbPath);
}

/** True for a failure of the storage itself (disk full, read-only, connection lost), not a bug or a constraint. */
export function isStorageFailure(error: unknown): boolean {
  return isSqliteStorageFailure(error) || isPostgresStorageFailure(error);
}

/** A unique or primary key constraint of `table` (on `column`, when given) refused a row. */
export function isUniqueViolation(error: unknown, table: string, column?: string): boolean {
  return isSqliteUniqueViolation(error, table, column) || isPostgresUniqueViolation(error, table, column);
}
