import { copyDatabase, openPostgresStore, parsePostgresUrl, type Store } from '@alphaswarm/db';
import type { Command } from 'commander';
import { loadAuditKeys } from '../runtime/audit-keys';
import { describeVerdict } from './audit';
import type { CliIo } from './context';
import { loadEnv, openExistingStore } from './context';
import { progress } from './progress';

/**
 * `copy-db --to <postgres-url>`: every table of the configured database into an empty PostgreSQL
 * database (migrated first), in one transaction, verified (row counts, audit chain) before it
 * commits. Only the URL without its password is ever printed.
 */
export async function copyDbCommand(io: CliIo, opts: { to: string }): Promise<void> {
  // A malformed URL is refused before anything is opened, in words that never quote the password.
  const where = parsePostgresUrl(opts.to).location;
  const env = loadEnv();
  const { ring, warning } = loadAuditKeys(env, []);
  if (warning) io.err(warning);
  const source = await openExistingStore(env);
  let target: Store | null = null;
  try {
    target = await openPostgresStore(opts.to, { pool: 2 });
    const bar = progress('copy-db');
    const result = await copyDatabase(source, target, {
      onProgress: (done, total) => bar.update(done, total),
      verify: { ring, requireKeyed: true },
    }).finally(() => bar.finish());
    io.out(
      `copied ${result.rows} rows in ${result.tables.length} tables from ${source.location} (${source.dialect}) to ${where}, in one transaction:`,
    );
    for (const table of result.tables) io.out(`  ${table.name}: ${table.rows}`);
    io.out(`row counts match; ${describeVerdict(result.audit, 0)}`);
  } finally {
    await target?.close();
    await source.close();
  }
}

export function registerCopyDbCommand(
  program: Command,
  action: <A extends unknown[]>(fn: (...args: A) => unknown) => (...args: A) => Promise<void>,
  io: CliIo,
): void {
  program
    .command('copy-db')
    .description(
      'Copy every table of this database (links with their ciphertexts, audit chain, admin users, signing keys, wizard sessions, ...) into an empty PostgreSQL database, migrated first, in one verified transaction.',
    )
    .requiredOption('--to <postgres-url>', 'the PostgreSQL database to fill: postgres://user:password@host:5432/db')
    .action(action((opts: { to: string }) => copyDbCommand(io, opts)));
}
