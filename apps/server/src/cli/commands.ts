import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkStoreFile, exportStoreFile, importRecords, rotateKey } from '@alphaswarm/api';
import type { OnConflict } from '@alphaswarm/contracts';
import {
  describeMigrationLag,
  forgetSecrets,
  formatStoreFileProblem,
  generateKey,
  type IssuerName,
  isoNow,
  openDatabase,
  openDatabaseReadOnly,
  parsePostgresUrl,
  publishedSigningKeys,
  readOnlyReason,
  writeStoreFileAtomic,
} from '@alphaswarm/db';
import { ConfigError, type Env } from '../env';
import { type KeyedIssuer, signingIssuer } from '../issuers/keyed-issuer';
import {
  type IssuerFile,
  issuerFiles,
  PublishError,
  type PublishTarget,
  publicReadGuidance,
  publishedCopyWarnings,
  publishFiles,
  publishTarget,
} from '../issuers/publish';
import { createLogger } from '../logger';
import { bootstrap, type KeyringInfo, loadKeyring, productionProblems, productionWarnings } from '../runtime/index';
import { type AuditExportOptions, type AuditVerifyOptions, auditExport, auditVerify } from './audit';
import { audited, CliError, type CliIo, loadEnv, openExistingStore, openForReading, readFailure } from './context';
import { progress } from './progress';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function keyringFor(io: CliIo, info: KeyringInfo): KeyringInfo {
  if (info.warning) io.err(info.warning);
  return info;
}

export async function serveCommand(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger(env.ALPHASWARM_ADMIN_LOG_LEVEL);
  const boot = await bootstrap(env, logger);
  // Loaded here only: the other commands must not pay for the whole HTTP stack.
  const { serve } = await import('../serve');
  const serving = await serve(boot, logger);
  process.once('SIGINT', () => void serving.stop());
  process.once('SIGTERM', () => void serving.stop());
}

export function generateKeyCommand(io: CliIo): void {
  io.out(generateKey());
  io.err(
    'Set it as ALPHASWARM_ADMIN_INTEGRATIONS_KEY and keep a copy somewhere safe: without it the stored secrets cannot be decrypted. To rotate, put the new key first in the comma-separated list and run `alphaswarm-admin rotate-key`.',
  );
}

/**
 * Write every link to a store file. Refuses when a stored secret is readable by no configured key
 * (unless allowed). A database in a read-only location is exported too, without an audit record.
 */
export async function exportCommand(io: CliIo, opts: { out?: string; allowUnreadable?: boolean }): Promise<void> {
  const env = loadEnv();
  const target = resolve(opts.out ?? env.integrationsPath);
  const { keyring } = keyringFor(io, loadKeyring(env));
  // A SQLite file in a place the operator made read-only is still exported (PostgreSQL: no such place).
  const readOnly = !env.database.databaseUrl && existsSync(env.dbPath) ? readOnlyReason(env.dbPath) : null;
  const reading = readOnly ? await openForReading(io, env) : null;
  const store = reading ?? (await openExistingStore(env));
  try {
    const bar = progress('export');
    let count = 0;
    let unreadable = 0;
    const write = async () => {
      const file = exportStoreFile(
        { db: store.db, keyring, now: () => new Date() },
        {
          allowUnreadable: opts.allowUnreadable === true,
          onProgress: (done, total) => {
            count = done;
            bar.update(done, total);
          },
        },
      );
      await writeStoreFileAtomic(target, file.chunks);
      unreadable = file.unreadable;
      bar.finish();
      return count;
    };
    if (reading) {
      io.err(`note: the database is read-only (${readOnly}); this export is not recorded in its audit log.`);
      await write().catch((error) => {
        throw readFailure(reading, error);
      });
    } else {
      await audited(
        store.db,
        'store.export',
        opts.allowUnreadable ? { allow_unreadable: true } : {},
        write,
        (records) => ({ records, ...(unreadable ? { unreadable } : {}) }),
        io,
      );
    }
    io.out(`exported ${plural(count, 'link')} to ${target} (mode 0600)`);
    if (unreadable > 0) {
      io.err(
        `warning: ${plural(unreadable, 'secret')} that no configured key decrypts ${unreadable === 1 ? 'was' : 'were'} exported as stored (--allow-unreadable).`,
      );
    }
  } finally {
    await store.close();
  }
}

export async function importCommand(
  io: CliIo,
  file: string,
  opts: { dryRun?: boolean; onConflict: OnConflict },
): Promise<void> {
  const env = loadEnv();
  const path = resolve(file);
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `Cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message)}.`,
    );
  }
  const { keyring } = keyringFor(io, loadKeyring(env));
  const checkBar = progress('validate');
  const checked = checkStoreFile(keyring, content, checkBar.update);
  checkBar.finish();
  content = Buffer.alloc(0);
  if (!checked.ok) {
    for (const problem of checked.problems) io.out(formatStoreFileProblem(problem));
    throw new CliError(
      `${path} cannot be imported (${plural(checked.problems.length, 'problem')}, listed on stdout; nothing was imported): ${formatStoreFileProblem(checked.problems[0]!)}`,
    );
  }
  const store = await openDatabase(env.database);
  try {
    const run = async () => {
      const bar = progress('import');
      const result = await importRecords({ db: store.db, keyring, now: () => new Date() }, checked.records, {
        onConflict: opts.onConflict,
        dryRun: opts.dryRun === true,
        onProgress: bar.update,
      });
      bar.finish();
      return result;
    };
    // A dry run writes nothing, not even audit events.
    const result = opts.dryRun
      ? await run()
      : await audited(
          store.db,
          'store.import',
          { records: checked.records.length, on_conflict: opts.onConflict },
          run,
          (r) => ({ inserted: r.inserted, replaced: r.replaced, skipped: r.skipped }),
        );
    const counts = `${result.inserted} inserted, ${result.replaced} replaced, ${result.skipped} skipped`;
    if (opts.dryRun) {
      io.out(
        `dry run: ${path} is valid (${plural(checked.records.length, 'link')}); importing would give ${counts}. Nothing was written.`,
      );
    } else {
      io.out(`imported ${path}: ${counts}`);
    }
    if (result.conflicts.length > 0) {
      io.out(
        `already present (${opts.onConflict === 'skip' ? 'skipped' : 'replaced'}): ${result.conflicts.join(', ')}`,
      );
    }
  } finally {
    await store.close();
  }
}

export async function rotateKeyCommand(io: CliIo): Promise<void> {
  const env = loadEnv();
  if (!env.ALPHASWARM_ADMIN_INTEGRATIONS_KEY) {
    throw new CliError(
      'rotate-key needs ALPHASWARM_ADMIN_INTEGRATIONS_KEY: the new key first, then the old one(s), comma-separated (generate a key with `alphaswarm-admin generate-key`).',
    );
  }
  const info = loadKeyring(env);
  const store = await openExistingStore(env);
  try {
    const bar = progress('rotate-key');
    const result = await audited(
      store.db,
      'store.rotate_key',
      { key: info.fingerprints[0], keys: info.fingerprints.length },
      async () => {
        const r = await rotateKey(
          { db: store.db, keyring: info.keyring, now: () => new Date() },
          { onProgress: bar.update },
        );
        bar.finish();
        return r;
      },
      (r) => ({ links: r.links, signing_keys: r.signingKeys, admin_users: r.adminUsers }),
    );
    io.out(
      `re-encrypted ${plural(result.total, 'secret')} under key ${info.fingerprints[0]} (links ${result.links}, signing keys ${result.signingKeys}, admin users ${result.adminUsers}).`,
    );
    if (info.fingerprints.length > 1)
      io.out('The old key(s) can now be removed from ALPHASWARM_ADMIN_INTEGRATIONS_KEY.');
  } finally {
    await store.close();
  }
}

/**
 * Start signing with a fresh key for one of our issuers. The previous key stays in the JWKS until
 * its last token expired, so clouds (workload) and sessions (admin) keep verifying meanwhile.
 */
/** Where a command publishes the workload issuer, and the clock it reads (injectable for tests). */
export interface PublishDeps {
  env?: Env;
  now?: () => Date;
}

function targetOf(opts: { out?: string | undefined; to?: string | undefined }): PublishTarget {
  try {
    return publishTarget(opts);
  } catch (error) {
    throw error instanceof PublishError ? new CliError(error.message) : error;
  }
}

async function publish(env: Env, target: PublishTarget, files: IssuerFile[]): Promise<string[]> {
  try {
    return await publishFiles(target, files, {
      region: env.ALPHASWARM_ADMIN_AWS_REGION,
      endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
      credentials:
        env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? {
              accessKeyId: env.AWS_ACCESS_KEY_ID,
              secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
              sessionToken: env.AWS_SESSION_TOKEN,
            }
          : undefined,
    });
  } catch (error) {
    throw error instanceof PublishError ? new CliError(error.message) : error;
  }
}

async function workloadIssuerFor(env: Env, now: () => Date): Promise<{ issuer: KeyedIssuer; close(): Promise<void> }> {
  if (!env.ALPHASWARM_ADMIN_INTEGRATIONS_KEY) {
    throw new CliError(
      'This command needs ALPHASWARM_ADMIN_INTEGRATIONS_KEY: private signing keys are stored encrypted with it.',
    );
  }
  const info = loadKeyring(env);
  const store = await openExistingStore(env);
  return { issuer: signingIssuer('workload', env, store.db, info.keyring, now), close: () => store.close() };
}

/**
 * Write the workload issuer's discovery document and JWKS (every key still published) for a
 * static host, so the admin server itself never has to face the internet.
 */
export async function publishIssuerCommand(
  io: CliIo,
  opts: { out?: string; to?: string },
  deps: PublishDeps = {},
): Promise<void> {
  const env = deps.env ?? loadEnv();
  const target = targetOf(opts);
  const { issuer, close } = await workloadIssuerFor(env, deps.now ?? (() => new Date()));
  try {
    const jwks = await issuer.jwks();
    const written = await publish(env, target, issuerFiles(issuer, jwks));
    for (const w of written) io.out(`wrote ${w}`);
    io.out(
      `issuer ${issuer.issuer} with ${plural(jwks.keys.length, 'key')}: ${jwks.keys.map((k) => k.kid).join(', ')}`,
    );
    io.out(publicReadGuidance(target, issuer.issuer));
    if (!env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL) {
      io.err(
        `note: ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL is not set, so tokens still name ${issuer.issuer} as their issuer; set it to the URL these files are served under.`,
      );
    }
  } finally {
    await close();
  }
}

export async function rotateSigningKeyCommand(
  io: CliIo,
  opts: { issuer: IssuerName; out?: string; to?: string },
  deps: PublishDeps = {},
): Promise<void> {
  const env = deps.env ?? loadEnv();
  if (!env.ALPHASWARM_ADMIN_INTEGRATIONS_KEY) {
    throw new CliError(
      'rotate-signing-key needs ALPHASWARM_ADMIN_INTEGRATIONS_KEY: private signing keys are stored encrypted with it.',
    );
  }
  const publishing = Boolean(opts.out || opts.to);
  if (publishing && opts.issuer !== 'workload') {
    throw new CliError('--out and --to publish the workload issuer; the admin issuer is served by the server itself.');
  }
  if (opts.issuer === 'workload' && env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL && !publishing) {
    throw new CliError(
      `The workload issuer is served from ${env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL}: pass --out DIR or --to s3://bucket/prefix so the new key is published before it signs anything.`,
    );
  }
  const target = publishing ? targetOf(opts) : null;
  const info = loadKeyring(env);
  const store = await openExistingStore(env);
  try {
    const issuer = signingIssuer(opts.issuer, env, store.db, info.keyring, deps.now ?? (() => new Date()));
    const kid = await audited(
      store.db,
      'signing_keys.rotate',
      { issuer: opts.issuer },
      () =>
        issuer.rotate(
          target
            ? async (jwks) => {
                for (const w of await publish(env, target, issuerFiles(issuer, jwks))) io.out(`wrote ${w}`);
              }
            : undefined,
        ),
      (k) => ({ kid: k }),
    );
    io.out(
      `${issuer.issuer} now signs with key ${kid}; the previous key stays published for ${issuer.options.maxTokenTtlSeconds + 60} s${target ? ' (run publish-issuer after that to drop it from the published copy)' : ''}. Running servers pick it up within 30 s.`,
    );
  } finally {
    await store.close();
  }
}

export async function forgetSecretsCommand(io: CliIo, opts: { yes?: boolean }): Promise<void> {
  if (!opts.yes) {
    throw new CliError(
      'forget-secrets discards every stored link secret and marks those links needs_reconnect; this cannot be undone. Run it again with --yes to confirm.',
    );
  }
  const env = loadEnv();
  const store = await openExistingStore(env);
  try {
    const result = await audited(
      store.db,
      'store.forget_secrets',
      {},
      () => forgetSecrets(store.db, { now: new Date() }),
      (r) => ({ links: r.count }),
    );
    io.out(
      `forgot ${plural(result.count, 'secret')}; those links are now needs_reconnect: re-run their connect wizards.`,
    );
  } finally {
    await store.close();
  }
}

/**
 * Bring the database's schema to this build's migrations and exit (both dialects). On PostgreSQL
 * under the advisory lock `serve` takes too, so it is safe while replicas start.
 */
export async function migrateCommand(io: CliIo): Promise<void> {
  const env = loadEnv();
  let before = 0;
  if (env.database.databaseUrl || existsSync(env.dbPath)) {
    const reading = await openDatabaseReadOnly(env.database);
    try {
      const state = await reading.migrations();
      if (state.ahead) throw new CliError(describeMigrationLag(reading, state)!);
      before = state.applied;
    } finally {
      await reading.close();
    }
  }
  const store = await openDatabase(env.database);
  try {
    const after = await store.migrations();
    const applied = after.applied - before;
    io.out(
      applied > 0
        ? `migrated ${store.location} (${store.dialect}): applied ${plural(applied, 'migration')}, ${after.applied} of ${after.expected} now.`
        : `${store.location} (${store.dialect}) is current: ${plural(after.applied, 'migration')}, nothing to apply.`,
    );
  } finally {
    await store.close();
  }
}

export async function checkProductionCommand(io: CliIo, deps: PublishDeps = {}): Promise<void> {
  const env = deps.env ?? loadEnv();
  let keyring: KeyringInfo | null = null;
  let keyError: string | undefined;
  try {
    keyring = loadKeyring({ ...env, production: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    keyError = error.message;
  }
  const problems = productionProblems(env, keyring, keyError);
  const warnings = [...productionWarnings(env), ...(await publishedIssuerWarnings(env, deps.now))].map(
    (w) => `! warning: ${w}`,
  );
  if (problems.length === 0) {
    const database = env.database.databaseUrl ? parsePostgresUrl(env.database.databaseUrl).location : env.dbPath;
    io.out(`production-ready (encryption key ${keyring?.fingerprints[0]}, database ${database})`);
    for (const warning of warnings) io.out(warning);
    return;
  }
  for (const problem of problems) io.out(`- ${problem}`);
  for (const warning of warnings) io.out(warning);
  throw new CliError(`not production-ready: ${plural(problems.length, 'problem')} (listed on stdout).`);
}

/** A workload issuer served from a static copy: does that copy hold exactly the keys it should? */
async function publishedIssuerWarnings(env: Env, now: (() => Date) | undefined): Promise<string[]> {
  if (!env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL) return [];
  if (!env.database.databaseUrl && !existsSync(env.dbPath)) return [];
  const store = await openDatabaseReadOnly(env.database);
  let kids: string[];
  try {
    const at = isoNow((now ?? (() => new Date()))());
    kids = (await publishedSigningKeys(store.db, 'workload', at)).map((k) => k.kid);
  } catch {
    return [];
  } finally {
    await store.close();
  }
  return publishedCopyWarnings(env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL, kids);
}

export async function auditVerifyCommand(io: CliIo, opts: AuditVerifyOptions): Promise<void> {
  const env = loadEnv();
  let reading: Awaited<ReturnType<typeof openForReading>> | null = null;
  try {
    await auditVerify(io, env, opts, async () => {
      reading = await openForReading(io, env);
      return reading;
    });
  } catch (error) {
    throw reading ? readFailure(reading, error) : error;
  }
}

export async function auditExportCommand(io: CliIo, opts: AuditExportOptions): Promise<void> {
  const env = loadEnv();
  await auditExport(io, opts, () => openForReading(io, env));
}
