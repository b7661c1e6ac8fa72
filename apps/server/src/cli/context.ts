import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { AppError, audited as auditedCore, OutcomeBacklog } from '@alphaswarm/api';
import type { AuditAction } from '@alphaswarm/contracts';
import {
  DatabaseError,
  type Db,
  describeMigrationLag,
  ImportConflictError,
  InvalidKey,
  openStore,
  openStoreReadOnly,
  type ReadOnlyStore,
  type Store,
  StoreFileError,
  UnreadableSecretsError,
} from '@alphaswarm/db';
import { ConfigError, type Env, parseEnv } from '../env';
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

/** Open an existing database: commands that read or rewrite data must not create an empty one. */
export function openExistingStore(env: Env): Store {
  if (!existsSync(env.dbPath)) {
    throw new CliError(`No database at ${env.dbPath} (set ALPHASWARM_ADMIN_DB_PATH to the right file).`);
  }
  return openStore(env.dbPath);
}

/**
 * Open the database for a command that only reads (audit-verify, export from a read-only file,
 * list-admins): no migration, no chmod, nothing created; a schema behind this build is named.
 */
export function openForReading(cli: Cli, env: Env): ReadOnlyStore {
  if (!existsSync(env.dbPath)) {
    throw new CliError(`No database at ${env.dbPath} (set ALPHASWARM_ADMIN_DB_PATH to the right file).`);
  }
  const store = openStoreReadOnly(env.dbPath);
  const lag = describeMigrationLag(store.path, store.migrations);
  if (lag) cli.err(`note: ${lag}`);
  return store;
}

/** A read that failed on a schema this build does not know: say why instead of quoting SQL. */
export function readFailure(store: ReadOnlyStore, error: unknown): unknown {
  const lag = describeMigrationLag(store.path, store.migrations);
  if (lag && /no such (table|column)/.test(String((error as Error)?.message)))
    return new CliError(`cannot read it: ${lag}`);
  return error;
}

/**
 * A CLI command's change, audited first exactly as an API call is (fail closed), as `cli:<os user>`.
 * An outcome the database refused is retried once the work is done; if it still cannot be written,
 * the command says so, and the next start of the server records the run as interrupted.
 */
export async function audited<T>(
  cli: Cli,
  db: Db,
  action: AuditAction,
  detail: Record<string, unknown>,
  work: () => Promise<T>,
  outcome: (result: T) => Record<string, unknown>,
): Promise<T> {
  const outcomes = new OutcomeBacklog();
  // The writer's log lines are not printed: the command's one error line (or the warning below) says it.
  const sink = { db, now: () => cli.now(), logger: { warn: () => undefined, error: () => undefined }, outcomes };
  try {
    return await auditedCore(sink, { actor: cliActor(), clientIp: null }, action, { detail }, () => work(), outcome);
  } finally {
    if ((await outcomes.flush(db)) > 0) {
      cli.err(
        `warning: the audit outcome of ${action} could not be written (is the disk full?); the server records this run as interrupted (within a minute if it runs, else when it starts).`,
      );
    }
  }
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
