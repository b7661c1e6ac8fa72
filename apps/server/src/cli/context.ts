import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { type Alert, AppError, audited as auditedCore, emitAlert, OutcomeBacklog } from '@alphaswarm/api';
import type { AuditAction } from '@alphaswarm/contracts';
import {
  type Database,
  DatabaseError,
  describeMigrationLag,
  ImportConflictError,
  InvalidKey,
  openDatabase,
  openDatabaseReadOnly,
  type Store,
  StoreFileError,
  UnreadableSecretsError,
} from '@alphaswarm/db';
import { ConfigError, type Env, parseEnv } from '../env';
import { loadAuditKeys } from '../runtime/audit-keys';
import { alertEndpointsFromEnv } from '../services/alerts';
import type { Cli } from './io';

/** A failure the CLI reports as one `error:` line, with this exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The audited actor: the operating-system user running the command. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

export function loadEnv(cli: Cli): Env {
  return parseEnv(cli.io.env);
}

function noSqliteFile(env: Env): void {
  if (!env.database.databaseUrl && !existsSync(env.dbPath)) {
    throw new CliError(`No database at ${env.dbPath} (set ALPHASWARM_ADMIN_DB_PATH to the right file).`);
  }
}

/** Open an existing database: commands that read or rewrite data must not create an empty SQLite file. */
export async function openExistingStore(env: Env): Promise<Store> {
  noSqliteFile(env);
  return openDatabase(env.database);
}

/** A database opened only to read, and what differs between its schema and this build's. */
export type ReadingStore = Store & { lag: string | null };

/**
 * Open the database for a command that only reads (audit-verify, export from a read-only file,
 * list-admins): no migration, nothing created (SQLite: no chmod; PostgreSQL: a read-only
 * session); a schema behind this build is named.
 */
export async function openForReading(cli: Cli, env: Env): Promise<ReadingStore> {
  noSqliteFile(env);
  const store = await openDatabaseReadOnly(env.database);
  const lag = describeMigrationLag(store, await store.migrations());
  if (lag) cli.err(`note: ${lag}`);
  return Object.assign(store, { lag });
}

/** A read that failed on a schema this build does not know: say why instead of quoting SQL. */
export function readFailure(store: ReadingStore, error: unknown): unknown {
  const message = String((error as { cause?: Error })?.cause?.message ?? (error as Error)?.message);
  if (store.lag && /no such (table|column)|(relation|column) .* does not exist/.test(message))
    return new CliError(`cannot read it: ${store.lag}`);
  return error;
}

/**
 * A CLI command's change, audited first exactly as an API call is (fail closed), as `cli:<os user>`.
 * An outcome the database refused is retried once the work is done; if it still cannot be written,
 * the command says so, and the next start of the server records the run as interrupted.
 */
export async function audited<T>(
  cli: Cli,
  db: Database,
  action: AuditAction,
  detail: Record<string, unknown>,
  work: () => Promise<T>,
  outcome: (result: T) => Record<string, unknown>,
): Promise<T> {
  const outcomes = new OutcomeBacklog();
  // The writer's log lines are not printed: the command's one error line (or the warning below) says it.
  const auditKeys = loadAuditKeys(loadEnv(cli), []).ring;
  const sink = {
    db,
    now: () => cli.now(),
    logger: { warn: () => undefined, error: () => undefined },
    outcomes,
    auditKeys,
  };
  try {
    return await auditedCore(sink, { actor: cliActor(), clientIp: null }, action, { detail }, () => work(), outcome);
  } finally {
    if ((await outcomes.flush(db, auditKeys)) > 0) {
      cli.err(
        `warning: the audit outcome of ${action} could not be written (is the disk full?); the server records this run as interrupted (within a minute if it runs, else when it starts).`,
      );
    }
  }
}

/**
 * Raise an alert from a command (a key rotated, the audit chain found broken): audited as
 * `alert.fired` and queued for every configured endpoint, which the server's dispatcher delivers.
 * Best effort: the command's own result stands even if the alert cannot be written.
 */
export async function cliAlert(cli: Cli, db: Database, alert: Alert): Promise<void> {
  const env = loadEnv(cli);
  const problems: string[] = [];
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    error: (_obj: object, msg: string) => problems.push(msg),
  };
  try {
    await emitAlert(
      {
        db,
        now: () => cli.now(),
        logger,
        auditKeys: loadAuditKeys(env, []).ring,
        config: { publicUrl: env.publicUrl, alertEndpoints: alertEndpointsFromEnv(env) },
      },
      alert,
    );
  } catch (error) {
    problems.push((error as Error).name);
  }
  if (problems.length > 0) cli.err(`warning: the ${alert.type} alert could not be recorded (${problems[0]}).`);
}

const KNOWN = [
  AppError,
  CliError,
  ConfigError,
  DatabaseError,
  StoreFileError,
  ImportConflictError,
  UnreadableSecretsError,
  InvalidKey,
];

/** One line for stderr; never a stack trace. Known errors carry messages written for operators. */
export function describeError(error: unknown): string {
  const text = KNOWN.some((k) => error instanceof k)
    ? (error as Error).message
    : `unexpected ${(error as Error)?.name ?? 'failure'}: ${(error as Error)?.message ?? String(error)}`;
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : 1;
}
