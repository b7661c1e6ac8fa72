import { copyDatabase, openPostgresStore, parsePostgresUrl, type Store } from '@alphaswarm/db';
import { loadAuditKeys } from '../runtime/audit-keys';
import { describeVerdict } from './audit';
import { loadEnv, openExistingStore } from './context';
import type { Cli } from './io';
import { progress } from './progress';

/**
 * `copy-db --to <postgres-url>`: every table of the configured database into an empty PostgreSQL
 * database (migrated first), in one transaction, verified (row counts, audit chain) before it
 * commits. Only the URL without its password is ever printed.
 */
export async function copyDbCommand(cli: Cli, opts: { to: string }): Promise<void> {
  // A malformed URL is refused before anything is opened, in words that never quote the password.
  const where = parsePostgresUrl(opts.to).location;
  const env = loadEnv(cli);
  const { ring, warning } = loadAuditKeys(env, []);
  if (warning) cli.err(warning);
  const source = await openExistingStore(env);
  let target: Store | null = null;
  try {
    target = await openPostgresStore(opts.to, { pool: 2 });
    const bar = progress('copy-db', cli);
    const result = await copyDatabase(source, target, {
      onProgress: (done, total) => bar.update(done, total),
      verify: { ring, requireKeyed: true },
    }).finally(() => bar.finish());
    cli.out(
      `copied ${result.rows} rows in ${result.tables.length} tables from ${source.location} (${source.dialect}) to ${where}, in one transaction:`,
    );
    for (const table of result.tables) cli.out(`  ${table.name}: ${table.rows}`);
    cli.out(`row counts match; ${describeVerdict(result.audit, 0)}`);
  } finally {
    await target?.close();
    await source.close();
  }
}
