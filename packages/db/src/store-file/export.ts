import {
  type IntegrationKind,
  STORE_FILE_FORMAT,
  STORE_FILE_VERSION,
  type StoreFileRecord,
} from '@alphaswarm/contracts';
import { isoNow } from '../clock';
import { InvalidToken, type Keyring } from '../crypto/fernet';
import type { Database } from '../database';
import { countLinks, type IntegrationRow, pageLinks } from '../repo/integrations';
import { type ExportSecretCheck, PAGE, type StoreFileProgress, UnreadableExportError } from './common';

function toRecord(row: IntegrationRow): StoreFileRecord {
  return {
    credential_key: row.credentialKey,
    org_id: row.orgId,
    kind: row.kind as IntegrationKind,
    namespace: row.namespace,
    status: row.status as StoreFileRecord['status'],
    connected_at: row.connectedAt,
    last_health_at: row.lastHealthAt,
    last_health_status: (row.lastHealthStatus as StoreFileRecord['last_health_status']) ?? null,
    error: row.error ?? null,
    metadata: row.metadata,
    // Already a Fernet token under the configured keyring: exported exactly as stored.
    secret: row.secret,
  };
}

/** Every link as a store-file record, a keyset page at a time. */
async function* recordPages(db: Database, pageSize = PAGE): AsyncGenerator<StoreFileRecord[]> {
  let after: string | null = null;
  for (;;) {
    const rows: IntegrationRow[] = await pageLinks(db, after, pageSize);
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.credentialKey;
    yield rows.map(toRecord);
  }
}

/**
 * The store file as JSON text, one chunk per page of links, so a large store is written without
 * ever holding the whole document. One record per line keeps the file diffable.
 */
export async function* exportStoreChunks(
  db: Database,
  opts: { now: Date; onProgress?: StoreFileProgress; pageSize?: number; secrets?: ExportSecretCheck },
): AsyncGenerator<string, number> {
  const total = await countLinks(db);
  yield `{\n  "format": ${JSON.stringify(STORE_FILE_FORMAT)},\n  "version": ${STORE_FILE_VERSION},\n  "exported_at": ${JSON.stringify(isoNow(opts.now))},\n  "integrations": [`;
  let done = 0;
  const unreadable: string[] = [];
  for await (const page of recordPages(db, opts.pageSize)) {
    let chunk = '';
    for (const record of page) {
      if (opts.secrets && record.secret !== null && !decrypts(opts.secrets.keyring, record.secret)) {
        unreadable.push(record.credential_key);
        opts.secrets.onUnreadable?.(record.credential_key);
      }
      chunk += `${done++ === 0 ? '' : ','}\n    ${JSON.stringify(record)}`;
    }
    yield chunk;
    opts.onProgress?.(done, Math.max(total, done));
  }
  // Before the closing bracket: a refused export never becomes a complete file.
  if (opts.secrets && unreadable.length > 0 && !opts.secrets.allowUnreadable) {
    throw new UnreadableExportError(unreadable, opts.secrets.keyring.fingerprints());
  }
  yield `${done === 0 ? '' : '\n  '}]\n}\n`;
  return done;
}

function decrypts(keyring: Keyring, token: string): boolean {
  try {
    keyring.decrypt(token).fill(0);
    return true;
  } catch (error) {
    if (error instanceof InvalidToken) return false;
    throw error;
  }
}

/** The whole store file as an object (for an API response). Prefer exportStoreChunks for files. */
export async function exportStore(
  db: Database,
  opts: { now: Date },
): Promise<{
  format: typeof STORE_FILE_FORMAT;
  version: typeof STORE_FILE_VERSION;
  exported_at: string;
  integrations: StoreFileRecord[];
}> {
  const records: StoreFileRecord[] = [];
  for await (const page of recordPages(db)) records.push(...page);
  return {
    format: STORE_FILE_FORMAT,
    version: STORE_FILE_VERSION,
    exported_at: isoNow(opts.now),
    integrations: records,
  };
}
