import { type ChainRow, eventColumns } from './chain';

/**
 * One audit row as it leaves the database: an `audit-export` line, an archive line, and the body of
 * what a sink delivers. It carries every byte its link covers plus the link, so a copy kept
 * elsewhere verifies offline (`audit-verify` on the file).
 */
export interface AuditRecord {
  seq: number;
  id: string;
  run_id: string;
  at: string;
  actor: string;
  client_ip: string | null;
  action: string;
  phase: string;
  outcome: string;
  org_id: string | null;
  kind: string | null;
  credential_key: string | null;
  detail: unknown;
  prev_link: string;
  link: string;
  key_id: string | null;
}

export function toAuditRecord(row: ChainRow): AuditRecord {
  return {
    seq: row.seq,
    ...eventColumns(row),
    prev_link: row.prevHash,
    link: row.hash,
    key_id: row.keyId,
  };
}

const TEXT = ['id', 'run_id', 'at', 'actor', 'action', 'phase', 'outcome', 'prev_link', 'link'] as const;
const NULLABLE = ['client_ip', 'org_id', 'kind', 'credential_key', 'key_id'] as const;

/** The row an exported line stands for, or a reason it is not one (named by the caller with its line). */
export function fromAuditRecord(value: unknown): ChainRow | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'seq is not a positive integer';
  for (const f of TEXT) if (typeof r[f] !== 'string') return `${f} is not a string`;
  for (const f of NULLABLE) if (r[f] !== null && typeof r[f] !== 'string') return `${f} is not a string or null`;
  if (!('detail' in r)) return 'detail is missing';
  const rec = r as unknown as AuditRecord;
  return {
    seq: rec.seq,
    id: rec.id,
    runId: rec.run_id,
    at: rec.at,
    actor: rec.actor,
    clientIp: rec.client_ip,
    action: rec.action,
    phase: rec.phase,
    outcome: rec.outcome,
    orgId: rec.org_id,
    kind: rec.kind,
    credentialKey: rec.credential_key,
    detail: rec.detail,
    prevHash: rec.prev_link,
    hash: rec.link,
    keyId: rec.key_id,
  };
}

export const CSV_COLUMNS = [
  'seq',
  'id',
  'run_id',
  'at',
  'actor',
  'client_ip',
  'action',
  'phase',
  'outcome',
  'org_id',
  'kind',
  'credential_key',
  'detail',
  'prev_link',
  'link',
  'key_id',
] as const satisfies readonly (keyof AuditRecord)[];

function csvCell(value: unknown): string {
  if (value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Quote always when needed; a leading = + - @ would run as a formula in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) || safe !== text ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function csvLine(record: AuditRecord): string {
  return CSV_COLUMNS.map((c) => csvCell(record[c])).join(',');
}

export type AuditExportFormat = 'jsonl' | 'csv';

/**
 * One export, as `audit-export` writes it and the console downloads it: the header line (CSV only)
 * and one line per record. The only formatter of audit exports.
 */
export function exportHeader(format: AuditExportFormat): string | null {
  return format === 'csv' ? csvHeader() : null;
}

export function exportLine(record: AuditRecord, format: AuditExportFormat): string {
  return format === 'csv' ? csvLine(record) : JSON.stringify(record);
}
