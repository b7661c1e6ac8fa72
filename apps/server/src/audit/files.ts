import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type ChainVerdict, ChainVerifier, type ChainVerifierOptions, fromAuditRecord } from '@alphaswarm/db';

/** A records file that cannot be read as audit records; the message names the line. */
export class RecordsFileError extends Error {
  override readonly name = 'RecordsFileError';
}

/**
 * Verify an exported (or archived, or SIEM-kept) audit JSONL file offline: every line an audit
 * record, in seq order. Lines that are not records (an archive's signed trailer) are skipped. The
 * file may start anywhere (an export `--since`); `firstSeq` says where.
 */
export async function verifyRecordsFile(
  path: string,
  opts: ChainVerifierOptions,
): Promise<ChainVerdict & { firstSeq: number | null }> {
  const verifier = new ChainVerifier({ ...opts, partial: true });
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  let firstSeq: number | null = null;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new RecordsFileError(`${path} line ${n} is not JSON (audit-verify reads the JSONL format of audit-export)`);
    }
    if ((value as { type?: unknown }).type !== undefined) continue;
    const row = fromAuditRecord(value);
    if (typeof row === 'string') throw new RecordsFileError(`${path} line ${n} is not an audit record: ${row}`);
    firstSeq ??= row.seq;
    if (!verifier.push(row)) break;
  }
  lines.close();
  return { ...verifier.finish(), firstSeq };
}
