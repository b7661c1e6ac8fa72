import type { OnConflict, StoreFileRecord } from '@alphaswarm/contracts';
import { and, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import { isoNow } from '../clock';
import type { Keyring } from '../crypto/fernet';
import { type Database, preparedFor } from '../database';
import { isUniqueViolation } from '../store';
import { ImportConflictError, PAGE, StoreFileError, type StoreFileProgress, verifiedUnderPrimary } from './common';

export interface ImportResult {
  dryRun: boolean;
  inserted: number;
  replaced: number;
  skipped: number;
  /** Credential keys that already existed (replaced or skipped, per the policy). */
  conflicts: string[];
}

export interface ImportOptions {
  /** Re-encrypts every secret under the first key, keeping its timestamp. */
  keyring: Keyring;
  onConflict: OnConflict;
  dryRun?: boolean;
  now: Date;
  onProgress?: StoreFileProgress;
}

/** Rows per statement: 13 parameters each stays far below both dialects' limits. */
const BATCH = 500;

/**
 * Write validated records in ONE transaction: everything or nothing. With `fail`, any link that
 * already exists aborts the import (ImportConflictError lists them); a dry run computes the same
 * result and writes nothing.
 */
export async function importStore(
  db: Database,
  records: readonly StoreFileRecord[],
  opts: ImportOptions,
): Promise<ImportResult> {
  const now = isoNow(opts.now);
  // A dry run only reads: it takes no write lock and works on a database that cannot write.
  if (opts.dryRun) return (await plan(db, records, opts)).result;
  try {
    return await db.write(async (tx) => {
      const { result, existing } = await plan(tx, records, opts);
      const rows = opts.onConflict === 'skip' ? records.filter((r) => !existing.has(r.credential_key)) : records;
      await insertAll(tx, rows, opts, now);
      return result;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'integrations')) {
      throw new StoreFileError(
        'A link in the file was created by someone else during the import; nothing was imported. Run it again.',
      );
    }
    throw error;
  }
}

/** Which links exist already, and what the import does about them (ImportConflictError for `fail`). */
async function plan(
  db: Database,
  records: readonly StoreFileRecord[],
  opts: ImportOptions,
): Promise<{ result: ImportResult; existing: Set<string> }> {
  const { integrations } = db.t;
  const existing = new Set<string>();
  const keys = records.map((r) => r.credential_key);
  for (let i = 0; i < keys.length; i += BATCH) {
    const rows = await db.q
      .select({ key: integrations.credentialKey })
      .from(integrations)
      .where(inArray(integrations.credentialKey, keys.slice(i, i + BATCH)));
    for (const row of rows) existing.add(row.key);
  }
  const conflicts = keys.filter((k) => existing.has(k));
  if (conflicts.length > 0 && opts.onConflict === 'fail') throw new ImportConflictError(conflicts);
  const result: ImportResult = {
    dryRun: opts.dryRun === true,
    inserted: records.length - conflicts.length,
    replaced: opts.onConflict === 'replace' ? conflicts.length : 0,
    skipped: opts.onConflict === 'skip' ? conflicts.length : 0,
    conflicts,
  };
  return { result, existing };
}

const COLUMNS = [
  'credentialKey',
  'orgId',
  'kind',
  'namespace',
  'status',
  'connectedAt',
  'lastHealthAt',
  'lastHealthStatus',
  'error',
  'metadata',
  'secret',
  'expiresAt',
  'updatedAt',
] as const;
type RowParams = Record<(typeof COLUMNS)[number], string | null>;

/**
 * Full batches through one prepared multi-row insert (no query built per batch, one round trip
 * per batch on PostgreSQL), the rest through a prepared single-row one.
 */
async function insertAll(tx: Database, rows: readonly StoreFileRecord[], opts: ImportOptions, now: string) {
  const full = rows.length - (rows.length % BATCH);
  const batch = full > 0 ? preparedInsert(tx, opts.onConflict, BATCH) : undefined;
  // One parameter object refilled for every batch, its keys made once: no garbage per row.
  const values: Record<string, string | null> = {};
  for (let i = 0; i < rows.length; i++) {
    const params = toParams(rows[i]!, opts.keyring, now);
    const names = PLACEHOLDERS[i < full ? i % BATCH : 0]!;
    for (let c = 0; c < COLUMNS.length; c++) values[names[c]!] = params[COLUMNS[c]!];
    if (i >= full) await preparedInsert(tx, opts.onConflict, 1).execute(values);
    else if (i % BATCH === BATCH - 1) await batch!.execute(values);
    if ((i + 1) % PAGE === 0 || i + 1 === rows.length) opts.onProgress?.(i + 1, rows.length);
  }
}

/** `PLACEHOLDERS[slot][column]`: the parameter name of a column of the slot-th row of a batch. */
const PLACEHOLDERS = Array.from({ length: BATCH }, (_, slot) => COLUMNS.map((column) => `${slot}.${column}`));

function preparedInsert(tx: Database, onConflict: OnConflict, size: number) {
  return preparedFor(tx, `import_${onConflict}_${size}`, (q, name) => {
    const { integrations } = tx.t;
    const rows = Array.from({ length: size }, (_, i) => {
      const p = (column: keyof RowParams) => sql.placeholder(PLACEHOLDERS[i]![COLUMNS.indexOf(column)]!);
      return {
        credentialKey: p('credentialKey'),
        orgId: p('orgId'),
        kind: p('kind'),
        namespace: p('namespace'),
        status: p('status'),
        connectedAt: p('connectedAt'),
        lastHealthAt: p('lastHealthAt'),
        lastHealthStatus: p('lastHealthStatus'),
        // JSON columns are encoded by toParams, so a null error stays SQL NULL as upsertLink writes it.
        error: sql`${p('error')}`,
        metadata: sql`${p('metadata')}`,
        secret: p('secret'),
        expiresAt: p('expiresAt'),
        updatedAt: p('updatedAt'),
      };
    });
    const insert = q.insert(integrations).values(rows);
    if (onConflict === 'replace') {
      return insert
        .onConflictDoUpdate({
          target: integrations.credentialKey,
          set: {
            namespace: sql`excluded.namespace`,
            status: sql`excluded.status`,
            connectedAt: sql`excluded.connected_at`,
            lastHealthAt: sql`excluded.last_health_at`,
            lastHealthStatus: sql`excluded.last_health_status`,
            error: sql`excluded.error`,
            metadata: sql`excluded.metadata`,
            secret: sql`excluded.secret`,
            expiresAt: sql`excluded.expires_at`,
            updatedAt: sql`excluded.updated_at`,
          },
        })
        .prepare(name);
    }
    if (onConflict === 'skip') return insert.onConflictDoNothing().prepare(name);
    // A link created by someone else since the existence check fails the unique constraint, which
    // rolls everything back.
    return insert.prepare(name);
  });
}

function toParams(r: StoreFileRecord, keyring: Keyring, now: string): RowParams {
  return {
    credentialKey: r.credential_key,
    orgId: r.org_id,
    kind: r.kind,
    namespace: r.namespace,
    status: r.status,
    connectedAt: r.connected_at,
    lastHealthAt: r.last_health_at,
    lastHealthStatus: r.last_health_status ?? null,
    error: r.error === null ? null : JSON.stringify(r.error),
    metadata: JSON.stringify(r.metadata),
    secret: r.secret === null ? null : underPrimary(r, r.secret, keyring),
    expiresAt: expiryFromMetadata(r.metadata),
    updatedAt: now,
  };
}

/**
 * The secret under the current primary key from now on: a token already under it is kept as it
 * is once proven to decrypt (by validateStoreFile with this keyring, or here), any other is
 * re-encrypted keeping its original timestamp.
 */
function underPrimary(record: StoreFileRecord, token: string, keyring: Keyring): string {
  const verified = verifiedUnderPrimary.get(record);
  if (verified?.keyring === keyring && verified.token === token) return token;
  return keyring.underPrimary(token);
}

/** The file has no expiry column: the providers record it in metadata under one of these names. */
function expiryFromMetadata(metadata: Record<string, unknown>): string | null {
  for (const name of ['expires_at', 'token_expires_at', 'expires_on']) {
    const value = metadata[name];
    if (typeof value !== 'string') continue;
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return isoNow(new Date(ms));
  }
  return null;
}

/**
 * True when this database has ever held links: an audit event names a link, or an import
 * succeeded. The old JSON store is imported only into a database that never did, so removing
 * every link and restarting does not bring stale links back.
 */
export async function hasLinkHistory(db: Database): Promise<boolean> {
  const { auditEvents } = db.t;
  const rows = await db.q
    .select({ seq: auditEvents.seq })
    .from(auditEvents)
    .where(
      or(
        isNotNull(auditEvents.credentialKey),
        and(eq(auditEvents.action, 'store.import'), eq(auditEvents.outcome, 'success')),
      ),
    )
    .limit(1);
  return rows.length > 0;
}
