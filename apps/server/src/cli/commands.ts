import { existsSync, readFileSync } from 'node:fs';
import { checkStoreFile, exportStoreFile, importRecords, rotateKey } from '@alphaswarm/api';
import type { OnConflict } from '@alphaswarm/contracts';
import {
  describeMigrationLag,
  forgetSecrets,
  formatStoreFileProblem,
  type IssuerName,
  isoNow,
  openDatabase,
  openDatabaseReadOnly,
  type PostgresStore,
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
  type PublishOptions,
  type PublishTarget,
  publicReadGuidance,
  publishedCopyWarnings,
  publishFiles,
  publishTarget,
} from '../issuers/publish';
import { type KeyringInfo, loadKeyring, productionProblems, productionWarnings } from '../runtime/index';
import { type AuditExportOptions, type AuditVerifyOptions, auditExport, auditVerify } from './audit';
import { audited, CliError, loadEnv, openExistingStore, openForReading, readFailure } from './context';
import type { Cli } from './io';
import { progress } from './progress';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function keyringFor(cli: Cli, info: KeyringInfo): KeyringInfo {
  if (info.warning) cli.err(info.warning);
  return info;
}

/**
 * Write every link to a store file. Refuses when a stored secret is readable by no configured key
 * (unless allowed). A database in a read-only location is exported too, without an audit record.
 */
export async function exportCommand(cli: Cli, opts: { out?: string; allowUnreadable?: boolean }): Promise<void> {
  const env = loadEnv(cli);
  const target = cli.path(opts.out ?? env.integrationsPath);
  const { keyring } = keyringFor(cli, loadKeyring(env));
  // A SQLite file in a place the operator made read-only is still exported (PostgreSQL: no such place).
  const readOnly = !env.database.databaseUrl && existsSync(env.dbPath) ? readOnlyReason(env.dbPath) : null;
  const reading = readOnly ? await openForReading(cli, env) : null;
  const store = reading ?? (await openExistingStore(env));
  try {
    const bar = progress('export', cli);
    let count = 0;
    let unreadable = 0;
    const write = async () => {
      const file = exportStoreFile(
        { db: store.db, keyring, now: () => cli.now() },
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
      cli.err(`note: the database is read-only (${readOnly}); this export is not recorded in its audit log.`);
      await write().catch((error) => {
        throw readFailure(reading, error);
      });
    } else {
      await audited(
        cli,
        store.db,
        'store.export',
        opts.allowUnreadable ? { allow_unreadable: true } : {},
        write,
        (records) => ({ records, ...(unreadable ? { unreadable } : {}) }),
      );
    }
    cli.out(`exported ${plural(count, 'link')} to ${target} (mode 0600)`);
    if (unreadable > 0) {
      cli.err(
        `warning: ${plural(unreadable, 'secret')} that no configured key decrypts ${unreadable === 1 ? 'was' : 'were'} exported as stored (--allow-unreadable).`,
      );
    }
  } finally {
    await store.close();
  }
}

export async function importCommand(
  cli: Cli,
  file: string,
  opts: { dryRun?: boolean; onConflict: OnConflict },
): Promise<void> {
  const env = loadEnv(cli);
  const path = cli.path(file);
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `Cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message)}.`,
    );
  }
  const { keyring } = keyringFor(cli, loadKeyring(env));
  const checkBar = progress('validate', cli);
  const checked = checkStoreFile(keyring, content, checkBar.update);
  checkBar.finish();
  content = Buffer.alloc(0);
  if (!checked.ok) {
    for (const problem of checked.problems) cli.out(formatStoreFileProblem(problem));
    throw new CliError(
      `${path} cannot be imported (${plural(checked.problems.length, 'problem')}, listed on stdout; nothing was imported): ${formatStoreFileProblem(checked.problems[0]!)}`,
    );
  }
  const store = await openDatabase(env.database);
  try {
    const run = async () => {
      const bar = progress('import', cli);
      const result = await importRecords({ db: store.db, keyring, now: () => cli.now() }, checked.records, {
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
          cli,
          store.db,
          'store.import',
          { records: checked.records.length, on_conflict: opts.onConflict },
          run,
          (r) => ({ inserted: r.inserted, replaced: r.replaced, skipped: r.skipped }),
        );
    const counts = `${result.inserted} inserted, ${result.replaced} replaced, ${result.skipped} skipped`;
    if (opts.dryRun) {
      cli.out(
        `dry run: ${path} is valid (${plural(checked.records.length, 'link')}); importing would give ${counts}. Nothing was written.`,
      );
    } else {
      cli.out(`imported ${path}: ${counts}`);
    }
    if (result.conflicts.length > 0) {
      cli.out(
        `already present (${opts.onConflict === 'skip' ? 'skipped' : 'replaced'}): ${result.conflicts.join(', ')}`,
      );
    }
  } finally {
    await store.close();
  }
}

export async function rotateKeyCommand(cli: Cli): Promise<void> {
  const env = loadEnv(cli);
  if (!env.ALPHASWARM_ADMIN_INTEGRATIONS_KEY) {
    throw new CliError(
      'rotate-key needs ALPHASWARM_ADMIN_INTEGRATIONS_KEY: the new key first, then the old one(s), comma-separated (generate a key with `alphaswarm-admin generate-key`).',
    );
  }
  const info = loadKeyring(env);
  const store = await openExistingStore(env);
  try {
    const bar = progress('rotate-key', cli);
    const result = await audited(
      cli,
      store.db,
      'store.rotate_key',
      { key: info.fingerprints[0], keys: info.fingerprints.length },
      async () => {
        const r = await rotateKey(
          { db: store.db, keyring: info.keyring, now: () => cli.now() },
          { onProgress: bar.update },
        );
        bar.finish();
        return r;
      },
      (r) => ({
        links: r.links,
        signing_keys: r.signingKeys,
        admin_users: r.adminUsers,
        wizard_sessions: r.wizardSessions,
      }),
    );
    cli.out(
      `re-encrypted ${plural(result.total, 'secret')} under key ${info.fingerprints[0]} (links ${result.links}, signing keys ${result.signingKeys}, admin users ${result.adminUsers}, onboarding sessions ${result.wizardSessions}).`,
    );
    if (info.fingerprints.length > 1)
      cli.out('The old key(s) can now be removed from ALPHASWARM_ADMIN_INTEGRATIONS_KEY.');
  } finally {
    await store.close();
  }
}

/**
 * Start signing with a fresh key for one of our issuers. The previous key stays in the JWKS until
 * its last token expired, so clouds (workload) and sessions (admin) keep verifying meanwhile.
 */
function targetOf(opts: { out?: string | undefined; to?: string | undefined }): PublishTarget {
  try {
    return publishTarget(opts);
  } catch (error) {
    throw error instanceof PublishError ? new CliError(error.message) : error;
  }
}

/**
 * Tokens for Cloud Storage and Azure Blob Storage from each cloud's own credential chain
 * (gcloud application-default credentials, a service account, workload identity; az login,
 * environment, managed identity), loaded only when publishing there.
 */
async function bearerStores(env: Env, target: PublishTarget): Promise<Omit<PublishOptions, 's3'>> {
  if (target.kind === 'gcs') {
    const { GoogleAuth } = await import('google-auth-library');
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/devstorage.read_write'] });
    return {
      gcs: {
        endpoint: env.ALPHASWARM_ADMIN_GCS_ENDPOINT,
        token: async () => {
          const token = await auth.getAccessToken().catch(() => null);
          if (!token) {
            throw new PublishError(
              'No Google credentials: run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS.',
            );
          }
          return token;
        },
      },
    };
  }
  if (target.kind === 'azblob') {
    const { DefaultAzureCredential } = await import('@azure/identity');
    const credential = new DefaultAzureCredential({ authorityHost: env.ALPHASWARM_ADMIN_AZURE_AUTHORITY_HOST });
    return {
      azblob: {
        endpoint: env.ALPHASWARM_ADMIN_AZURE_BLOB_ENDPOINT,
        token: async () => {
          const token = await credential.getToken('https://storage.azure.com/.default').catch(() => null);
          if (!token)
            throw new PublishError('No Azure credentials: run `az login`, or set AZURE_CLIENT_ID and its secret.');
          return token.token;
        },
      },
    };
  }
  return {};
}

async function publish(env: Env, target: PublishTarget, files: IssuerFile[]): Promise<string[]> {
  try {
    return await publishFiles(target, files, {
      s3: {
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
      },
      ...(await bearerStores(env, target)),
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
export async function publishIssuerCommand(cli: Cli, opts: { out?: string; to?: string }): Promise<void> {
  const env = loadEnv(cli);
  const target = targetOf(opts);
  const { issuer, close } = await workloadIssuerFor(env, () => cli.now());
  try {
    const jwks = await issuer.jwks();
    const written = await publish(env, target, issuerFiles(issuer, jwks));
    for (const w of written) cli.out(`wrote ${w}`);
    cli.out(
      `issuer ${issuer.issuer} with ${plural(jwks.keys.length, 'key')}: ${jwks.keys.map((k) => k.kid).join(', ')}`,
    );
    cli.out(publicReadGuidance(target, issuer.issuer));
    if (!env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL) {
      cli.err(
        `note: ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL is not set, so tokens still name ${issuer.issuer} as their issuer; set it to the URL these files are served under.`,
      );
    }
  } finally {
    await close();
  }
}

export async function rotateSigningKeyCommand(
  cli: Cli,
  opts: { issuer: IssuerName; out?: string; to?: string },
): Promise<void> {
  const env = loadEnv(cli);
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
      `The workload issuer is served from ${env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL}: pass --out DIR or --to s3://bucket/prefix (or gs://…, azblob://…) so the new key is published before it signs anything.`,
    );
  }
  const target = publishing ? targetOf(opts) : null;
  const info = loadKeyring(env);
  const store = await openExistingStore(env);
  try {
    const issuer = signingIssuer(opts.issuer, env, store.db, info.keyring, () => cli.now());
    const kid = await audited(
      cli,
      store.db,
      'signing_keys.rotate',
      { issuer: opts.issuer },
      () =>
        issuer.rotate(
          target
            ? async (jwks) => {
                for (const w of await publish(env, target, issuerFiles(issuer, jwks))) cli.out(`wrote ${w}`);
              }
            : undefined,
        ),
      (k) => ({ kid: k }),
    );
    cli.out(
      `${issuer.issuer} now signs with key ${kid}; the previous key stays published for ${issuer.options.maxTokenTtlSeconds + 60} s${target ? ' (run publish-issuer after that to drop it from the published copy)' : ''}. Running servers pick it up within 30 s.`,
    );
  } finally {
    await store.close();
  }
}

export async function forgetSecretsCommand(cli: Cli, opts: { yes?: boolean }): Promise<void> {
  if (!opts.yes) {
    throw new CliError(
      'forget-secrets discards every stored link secret and marks those links needs_reconnect; this cannot be undone. Run it again with --yes to confirm.',
    );
  }
  const env = loadEnv(cli);
  const store = await openExistingStore(env);
  try {
    const result = await audited(
      cli,
      store.db,
      'store.forget_secrets',
      {},
      () => forgetSecrets(store.db, { now: cli.now() }),
      (r) => ({ links: r.count, ...(r.wizardSessions ? { wizard_sessions: r.wizardSessions } : {}) }),
    );
    cli.out(
      `forgot ${plural(result.count, 'secret')}; those links are now needs_reconnect: re-run their connect wizards.`,
    );
    if (result.wizardSessions > 0) {
      cli.out(
        `deleted ${plural(result.wizardSessions, 'onboarding session')} holding a secret; those wizards start over.`,
      );
    }
  } finally {
    await store.close();
  }
}

/**
 * Bring the database's schema to this build's migrations and exit (both dialects). On PostgreSQL
 * under the advisory lock `serve` takes too, so it is safe while replicas start.
 */
export async function migrateCommand(cli: Cli): Promise<void> {
  const env = loadEnv(cli);
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
    if (store.dialect === 'postgres') {
      const { installJobQueue } = await import('../services/sweep-jobs');
      await installJobQueue(store as PostgresStore);
    }
    const after = await store.migrations();
    const applied = after.applied - before;
    cli.out(
      applied > 0
        ? `migrated ${store.location} (${store.dialect}): applied ${plural(applied, 'migration')}, ${after.applied} of ${after.expected} now.`
        : `${store.location} (${store.dialect}) is current: ${plural(after.applied, 'migration')}, nothing to apply.`,
    );
  } finally {
    await store.close();
  }
}

export async function checkProductionCommand(cli: Cli): Promise<void> {
  const env = loadEnv(cli);
  let keyring: KeyringInfo | null = null;
  let keyError: string | undefined;
  try {
    keyring = loadKeyring({ ...env, production: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    keyError = error.message;
  }
  const problems = productionProblems(env, keyring, keyError);
  const warnings = [...productionWarnings(env), ...(await publishedIssuerWarnings(env, () => cli.now()))].map(
    (w) => `! warning: ${w}`,
  );
  if (problems.length === 0) {
    const database = env.database.databaseUrl ? parsePostgresUrl(env.database.databaseUrl).location : env.dbPath;
    cli.out(`production-ready (encryption key ${keyring?.fingerprints[0]}, database ${database})`);
    for (const warning of warnings) cli.out(warning);
    return;
  }
  for (const problem of problems) cli.out(`- ${problem}`);
  for (const warning of warnings) cli.out(warning);
  throw new CliError(`not production-ready: ${plural(problems.length, 'problem')} (listed on stdout).`);
}

/** A workload issuer served from a static copy: does that copy hold exactly the keys it should? */
async function publishedIssuerWarnings(env: Env, now: () => Date): Promise<string[]> {
  if (!env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL) return [];
  if (!env.database.databaseUrl && !existsSync(env.dbPath)) return [];
  const store = await openDatabaseReadOnly(env.database);
  let kids: string[];
  try {
    const at = isoNow(now());
    kids = (await publishedSigningKeys(store.db, 'workload', at)).map((k) => k.kid);
  } catch {
    return [];
  } finally {
    await store.close();
  }
  return publishedCopyWarnings(env.ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL, kids);
}

export async function auditVerifyCommand(cli: Cli, opts: AuditVerifyOptions): Promise<void> {
  const env = loadEnv(cli);
  let reading: Awaited<ReturnType<typeof openForReading>> | null = null;
  try {
    await auditVerify(cli, env, opts, async () => {
      reading = await openForReading(cli, env);
      return reading;
    });
  } catch (error) {
    throw reading ? readFailure(reading, error) : error;
  }
}

export async function auditExportCommand(cli: Cli, opts: AuditExportOptions): Promise<void> {
  const env = loadEnv(cli);
  await auditExport(cli, opts, () => openForReading(cli, env));
}
