import { existsSync, readFileSync } from 'node:fs';
import { audited, checkStoreFile, importRecords, recoverAudit } from '@alphaswarm/api';
import {
  type AuditKeyRing,
  anchorAuditKey,
  countLinks,
  formatStoreFileProblem,
  hasLinkHistory,
  isoNow,
  type Keyring,
  markUnreadableSecrets,
  openDatabase,
  type Store,
  StoreFileError,
} from '@alphaswarm/db';
import type { Env } from '../env';
import { loadAuditKeys } from './audit-keys';
import { loadKeyring } from './keyring';
import { assertProductionReady } from './production';

/** What start-up needs from a logger; a pino Logger fits. */
export interface BootLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What start-up hands to `createRuntime` (../runtime.ts) and the server. */
export interface Bootstrapped {
  env: Env;
  store: Store;
  keyring: Keyring;
  /** The audit chain's keys (ALPHASWARM_ADMIN_AUDIT_KEY). */
  auditKeys: AuditKeyRing;
  /** True when no key is configured and a throwaway one was minted (never in production). */
  ephemeralKey: boolean;
  /** Key fingerprints, first = the one that encrypts. */
  fingerprints: string[];
  /** Links imported from ALPHASWARM_ADMIN_INTEGRATIONS_PATH on this start, or null if none was. */
  firstStartImported: number | null;
  /** Links newly marked needs_reconnect because no configured key decrypts their secret. */
  unreadable: string[];
  /** Audit runs of processes that stopped before recording an outcome, now closed as interrupted. */
  interrupted: string[];
}

export const FIRST_START_ACTOR = 'system:first-start';

/**
 * Start-up: keyring (refusing production without a key or with any production problem),
 * the database with migrations (on PostgreSQL under an advisory lock, so replicas starting
 * together apply each once), an outcome for every audited run a stopped process left open,
 * the old JSON store imported on first start, and links whose secret no key decrypts flagged
 * needs_reconnect.
 */
export async function bootstrap(env: Env, log: BootLog, opts: { now?: () => Date } = {}): Promise<Bootstrapped> {
  const clock = opts.now ?? (() => new Date());
  const keys = loadKeyring(env);
  if (keys.warning) log.warn({ fingerprint: keys.fingerprints[0] }, keys.warning);
  if (env.production) assertProductionReady(env, keys);
  const audit = loadAuditKeys(env, keys.fingerprints);
  if (audit.warning) log.warn({ audit_key: audit.ring.primary.id }, audit.warning);
  const store = await openDatabase(env.database);
  try {
    // An upgraded build or a rotated key is recorded in the chain before anything else is written.
    if (await anchorAuditKey(store.db, audit.ring, isoNow(clock()))) {
      log.info({ audit_key: audit.ring.primary.id }, 'audit chain: key recorded (upgrade anchor or rotation)');
    }
    const { interrupted } = await recoverAudit(
      { db: store.db, auditKeys: audit.ring },
      { warn: (obj, msg) => log.warn(obj, msg), error: (obj, msg) => log.warn(obj, msg) },
      { now: clock() },
    );
    const firstStartImported = await importOnFirstStart(store, env, keys.keyring, log, clock, audit.ring);
    const unreadable = await markUnreadableSecrets(store.db, keys.keyring, clock());
    if (unreadable.length > 0) {
      log.warn(
        { count: unreadable.length, credential_keys: unreadable.slice(0, 20) },
        `${unreadable.length} link(s) have a secret no configured key decrypts; marked needs_reconnect (restore the key in ALPHASWARM_ADMIN_INTEGRATIONS_KEY, or reconnect them).`,
      );
    }
    log.info({ db: store.location, dialect: store.dialect, fingerprints: keys.fingerprints }, 'store ready');
    return {
      env,
      store,
      keyring: keys.keyring,
      auditKeys: audit.ring,
      ephemeralKey: keys.ephemeral,
      fingerprints: keys.fingerprints,
      firstStartImported,
      unreadable,
      interrupted,
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Import the old JSON store into a database that has never held links (so disconnecting every
 * link and restarting does not bring them back). All or nothing: a file with any problem stops
 * start-up rather than importing part of it.
 */
export async function importOnFirstStart(
  store: Store,
  env: Env,
  keyring: Keyring,
  log: BootLog,
  clock: () => Date = () => new Date(),
  auditKeys: AuditKeyRing | null = null,
): Promise<number | null> {
  const path = env.integrationsPath;
  if (!existsSync(path) || (await countLinks(store.db)) > 0) return null;
  if (await hasLinkHistory(store.db)) {
    log.info({ path }, `not importing the old store ${path}: this database has held links before`);
    return null;
  }

  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    throw new StoreFileError(
      `Cannot read the old store ${path} (ALPHASWARM_ADMIN_INTEGRATIONS_PATH): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
    );
  }
  const checked = checkStoreFile(keyring, content);
  if (!checked.ok) {
    const shown = checked.problems.slice(0, 5).map(formatStoreFileProblem).join('; ');
    throw new StoreFileError(
      `The old store ${path} (ALPHASWARM_ADMIN_INTEGRATIONS_PATH) cannot be imported on first start, ${checked.problems.length} problem(s): ${shown}${checked.problems.length > 5 ? '; ...' : ''}. Fix it (check with \`alphaswarm-admin import --dry-run\`) or move it away, then start again.`,
    );
  }
  // Audited like any import, by the system: attempt first (fail closed), then its outcome.
  const sink = {
    db: store.db,
    keyring,
    auditKeys,
    now: clock,
    logger: { warn: log.warn.bind(log), error: log.warn.bind(log) },
  };
  let runId = '';
  const { inserted } = await audited(
    sink,
    { actor: FIRST_START_ACTOR, clientIp: null },
    'store.import',
    { detail: { source: 'first_start', records: checked.records.length } },
    (run) => {
      runId = run;
      return importRecords(sink, checked.records, { dryRun: false, onConflict: 'fail' });
    },
    (result) => ({ inserted: result.inserted }),
  );
  log.info(
    { path, count: inserted, audit_run_id: runId },
    `imported ${inserted} link(s) from the old store ${path} on first start`,
  );
  return inserted;
}
