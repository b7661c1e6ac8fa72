import { existsSync, readFileSync } from 'node:fs';
import { checkStoreFile, exportStoreFile, importRecords, rotateKey } from '@alphaswarm/api';
import type { OnConflict } from '@alphaswarm/contracts';
import {
  forgetSecrets,
  formatStoreFileProblem,
  type IssuerName,
  isoNow,
  openStore,
  readOnlyReason,
  verifyAudit,
  writeStoreFileAtomic,
} from '@alphaswarm/db';
import { ConfigError } from '../env';
import { signingIssuer } from '../issuers/keyed-issuer';
import { type KeyringInfo, loadKeyring, productionProblems, productionWarnings } from '../runtime/index';
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
  const readOnly = existsSync(env.dbPath) ? readOnlyReason(env.dbPath) : null;
  const reading = readOnly ? openForReading(cli, env) : null;
  const store = reading ?? openExistingStore(env);
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
    store.close();
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
  const store = openStore(env.dbPath);
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
    store.close();
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
  const store = openExistingStore(env);
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
    store.close();
  }
}

/**
 * Start signing with a fresh key for one of our issuers. The previous key stays in the JWKS until
 * its last token expired, so clouds (workload) and sessions (admin) keep verifying meanwhile.
 */
export async function rotateSigningKeyCommand(cli: Cli, opts: { issuer: IssuerName }): Promise<void> {
  const env = loadEnv(cli);
  if (!env.ALPHASWARM_ADMIN_INTEGRATIONS_KEY) {
    throw new CliError(
      'rotate-signing-key needs ALPHASWARM_ADMIN_INTEGRATIONS_KEY: private signing keys are stored encrypted with it.',
    );
  }
  const info = loadKeyring(env);
  const store = openExistingStore(env);
  try {
    const issuer = signingIssuer(opts.issuer, env, store.db, info.keyring, () => cli.now());
    const kid = await audited(
      cli,
      store.db,
      'signing_keys.rotate',
      { issuer: opts.issuer },
      () => issuer.rotate(),
      (k) => ({ kid: k }),
    );
    cli.out(
      `${issuer.issuer} now signs with key ${kid}; the previous key stays published for ${issuer.options.maxTokenTtlSeconds + 60} s. Running servers pick it up within 30 s.`,
    );
  } finally {
    store.close();
  }
}

export async function forgetSecretsCommand(cli: Cli, opts: { yes?: boolean }): Promise<void> {
  if (!opts.yes) {
    throw new CliError(
      'forget-secrets discards every stored link secret and marks those links needs_reconnect; this cannot be undone. Run it again with --yes to confirm.',
    );
  }
  const env = loadEnv(cli);
  const store = openExistingStore(env);
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
    store.close();
  }
}

export function checkProductionCommand(cli: Cli): void {
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
  const warnings = productionWarnings(env).map((w) => `! warning: ${w}`);
  if (problems.length === 0) {
    cli.out(`production-ready (encryption key ${keyring?.fingerprints[0]}, database ${env.dbPath})`);
    for (const warning of warnings) cli.out(warning);
    return;
  }
  for (const problem of problems) cli.out(`- ${problem}`);
  for (const warning of warnings) cli.out(warning);
  throw new CliError(`not production-ready: ${plural(problems.length, 'problem')} (listed on stdout).`);
}

export async function auditVerifyCommand(cli: Cli): Promise<void> {
  const env = loadEnv(cli);
  const store = openForReading(cli, env);
  try {
    const bar = progress('audit-verify', cli);
    let verdict: Awaited<ReturnType<typeof verifyAudit>>;
    try {
      const total = Number(store.sqlite.prepare('SELECT count(*) AS n FROM audit_events').pluck().get());
      verdict = await verifyAudit(store.db, (checked) => bar.update(checked, total));
    } catch (error) {
      throw readFailure(store, error);
    }
    bar.finish();
    if (!verdict.ok && verdict.broken) {
      const b = verdict.broken;
      throw new CliError(
        `audit chain broken at seq ${b.seq} (id ${b.id}): ${b.reason}. ${plural(verdict.checked, 'event')} before it verified.`,
      );
    }
    cli.out(
      `audit chain intact: ${plural(verdict.checked, 'event')} verified, tip ${verdict.tip} (at ${isoNow(cli.now())})`,
    );
  } finally {
    store.close();
  }
}
