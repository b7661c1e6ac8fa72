import { readFileSync } from 'node:fs';
import { CheckpointError, readCheckpoints, readPublicKeys } from '@alphaswarm/api';
import {
  type AuditRecord,
  auditRowsBetween,
  type ChainVerdict,
  ChainVerifier,
  type Checkpoint,
  type Database,
  exportHeader,
  exportLine,
  toAuditRecord,
  writeStoreFileAtomic,
} from '@alphaswarm/db';
import { RecordsFileError, verifyRecordsFile } from '../audit/files';
import type { Env } from '../env';
import { loadAuditKeys } from '../runtime/audit-keys';
import { CliError } from './context';
import type { Cli } from './io';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

/** The externally kept checkpoints, every signature checked against the pinned public key. */
export async function loadCheckpoints(opts: { checkpoints?: string; publicKey?: string }): Promise<Checkpoint[]> {
  if (!opts.checkpoints) {
    if (opts.publicKey) throw new CliError('--public-key is used with --checkpoints FILE.');
    return [];
  }
  if (!opts.publicKey) {
    throw new CliError(
      '--checkpoints needs --public-key FILE: the pinned checkpoint key (PEM, JWK, or the JWKS published at /.well-known/jwks.json).',
    );
  }
  try {
    const keys = await readPublicKeys(readText(opts.publicKey, 'public key file'));
    return await readCheckpoints(readText(opts.checkpoints, 'checkpoints file'), keys);
  } catch (error) {
    if (error instanceof CheckpointError) throw new CliError(`${error.message} (checkpoints not trusted)`);
    throw error;
  }
}

/** Walk the database's chain a batch at a time. */
export async function verifyDatabaseChain(
  db: Database,
  verifier: ChainVerifier,
  onProgress?: (checked: number) => void,
): Promise<ChainVerdict> {
  let after = 0;
  let checked = 0;
  for (;;) {
    const batch = await auditRowsBetween(db, after, 1000, {});
    if (batch.length === 0) break;
    for (const row of batch) if (!verifier.push(row)) return verifier.finish();
    checked += batch.length;
    after = batch.at(-1)!.seq;
    onProgress?.(checked);
  }
  return verifier.finish();
}

export function describeVerdict(verdict: ChainVerdict, checkpoints: number, firstSeq?: number | null): string {
  if (!verdict.ok && verdict.divergence) {
    const d = verdict.divergence;
    const range = d.missing ? ` Missing: seq ${d.missing.fromSeq}..${d.missing.toSeq}.` : '';
    return `audit chain diverges (${d.kind}) at seq ${d.seq}: ${d.message}.${range} ${plural(verdict.checked, 'event')} before it verified.`;
  }
  const from = firstSeq && firstSeq > 1 ? ` from seq ${firstSeq}` : '';
  const plain = verdict.plain > 0 ? ` (${verdict.plain} from before the chain was keyed, by SHA-256 only)` : '';
  const cps = checkpoints > 0 ? `; ${plural(checkpoints, 'checkpoint')} matched` : '';
  return `audit chain intact: ${plural(verdict.checked, 'event')} verified${from}${plain}, tip seq ${verdict.tip.seq} link ${verdict.tip.link}${cps}`;
}

export interface AuditVerifyOptions {
  checkpoints?: string;
  publicKey?: string;
  file?: string;
}

/**
 * `audit-verify`: the database (or an exported JSONL file) against the audit key and, given
 * `--checkpoints FILE --public-key FILE`, against checkpoints kept elsewhere. Exit 1 naming the
 * first divergence.
 */
export async function auditVerify(
  cli: Cli,
  env: Env,
  opts: AuditVerifyOptions,
  openDb: () => Promise<{ db: Database; close(): Promise<void> | void }>,
  /** Called when the database's chain (not a file's) does not verify, before the command fails. */
  onBroken?: (verdict: ChainVerdict) => Promise<void>,
): Promise<void> {
  const checkpoints = await loadCheckpoints(opts);
  const { ring, warning } = loadAuditKeys(env, []);
  if (warning) cli.err(warning);
  if (opts.file) {
    let verdict: Awaited<ReturnType<typeof verifyRecordsFile>>;
    try {
      verdict = await verifyRecordsFile(cli.path(opts.file), { ring, checkpoints, requireKeyed: true });
    } catch (error) {
      if (error instanceof RecordsFileError) throw new CliError(error.message);
      throw error;
    }
    if (!verdict.ok) throw new CliError(describeVerdict(verdict, checkpoints.length));
    cli.out(describeVerdict(verdict, checkpoints.length, verdict.firstSeq));
    return;
  }
  const store = await openDb();
  try {
    const verdict = await verifyDatabaseChain(store.db, new ChainVerifier({ ring, checkpoints, requireKeyed: true }));
    if (!verdict.ok) {
      await onBroken?.(verdict);
      throw new CliError(describeVerdict(verdict, checkpoints.length));
    }
    cli.out(describeVerdict(verdict, checkpoints.length));
  } finally {
    await store.close();
  }
}

function instant(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new CliError(
      `${flag} takes an RFC 3339 time such as 2026-01-31T00:00:00Z or a date 2026-01-31; got ${JSON.stringify(value).slice(0, 60)}.`,
    );
  }
  return new Date(ms).toISOString();
}

export interface AuditExportOptions {
  since?: string;
  until?: string;
  format: 'jsonl' | 'csv';
  out?: string;
}

/**
 * `audit-export`: rows in seq order, `--since` inclusive, `--until` exclusive, one record per line
 * with its link (JSONL verifies offline with `audit-verify --file`). Stdout without `--out`; a file
 * is written atomically, mode 0600.
 */
export async function auditExport(
  cli: Cli,
  opts: AuditExportOptions,
  openDb: () => Promise<{ db: Database; close(): Promise<void> | void }>,
): Promise<void> {
  const since = instant('--since', opts.since);
  const until = instant('--until', opts.until);
  if (since && until && since >= until) throw new CliError('--since must be before --until.');
  const store = await openDb();
  let count = 0;
  async function* lines(): AsyncIterable<string> {
    const header = exportHeader(opts.format);
    if (header) yield `${header}\n`;
    let after = 0;
    for (;;) {
      const batch = await auditRowsBetween(store.db, after, 1000, { since, until });
      if (batch.length === 0) return;
      const records: AuditRecord[] = batch.map(toAuditRecord);
      count += records.length;
      yield `${records.map((r) => exportLine(r, opts.format)).join('\n')}\n`;
      after = batch.at(-1)!.seq;
    }
  }
  try {
    if (opts.out) {
      const target = cli.path(opts.out);
      await writeStoreFileAtomic(target, lines());
      cli.err(`exported ${plural(count, 'audit event')} to ${target}`);
    } else {
      for await (const chunk of lines()) cli.io.stdout.write(chunk);
    }
  } finally {
    await store.close();
  }
}
