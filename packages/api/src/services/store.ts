import type { OnConflict, StoreFileRecord } from '@alphaswarm/contracts';
import {
  countLinks,
  exportStoreChunks,
  ImportConflictError,
  type ImportResult,
  importStore,
  type Keyring,
  rotateSecrets,
  type StoreFileProblem,
  type StoreFileProgress,
  validateStoreFile,
} from '@alphaswarm/db';
import { secretSchemas } from '@alphaswarm/providers';
import type { ApiDeps } from '../deps';

/*
 * The store file and the keyring, for every surface: the `store` router, the CLI (export, import,
 * rotate-key) and start-up's first-start import. Each surface adds only its own concerns (files,
 * progress bars, messages, audit of its own shape).
 */

export type StoreDeps = Pick<ApiDeps, 'db' | 'keyring' | 'now'>;

export interface StoreExport {
  /** The JSON v1 file, in chunks; reading them does the export. */
  chunks: AsyncIterable<string>;
  /** Secrets exported as stored because no configured key reads them (counted as the chunks are read). */
  readonly unreadable: number;
}

/**
 * Every link as a store file; secrets only as Fernet tokens under the current key. A stored secret
 * no configured key reads fails the export (UnreadableExportError) unless `allowUnreadable`.
 */
export function exportStoreFile(
  deps: StoreDeps,
  opts: { allowUnreadable?: boolean; onProgress?: StoreFileProgress } = {},
): StoreExport {
  let unreadable = 0;
  const chunks = exportStoreChunks(deps.db, {
    now: deps.now(),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    secrets: {
      keyring: deps.keyring,
      allowUnreadable: opts.allowUnreadable === true,
      onUnreadable: () => unreadable++,
    },
  });
  return {
    chunks,
    get unreadable() {
      return unreadable;
    },
  };
}

/** Check a whole file first (schema, keys, that every secret decrypts): a dry run applies exactly these checks. */
export function checkStoreFile(keyring: Keyring, content: string | Buffer, onProgress?: StoreFileProgress) {
  return validateStoreFile(content, keyring, { secretSchemas, ...(onProgress ? { onProgress } : {}) });
}

export interface ImportChoice {
  dryRun: boolean;
  onConflict: OnConflict;
  onProgress?: StoreFileProgress;
}

/** Write checked records in one transaction, or nothing (a dry run writes nothing at all). */
export function importRecords(
  deps: StoreDeps,
  records: readonly StoreFileRecord[],
  choice: ImportChoice,
): Promise<ImportResult> {
  return importStore(deps.db, records, {
    keyring: deps.keyring,
    onConflict: choice.onConflict,
    dryRun: choice.dryRun,
    now: deps.now(),
    ...(choice.onProgress ? { onProgress: choice.onProgress } : {}),
  });
}

export interface ImportReport {
  ok: boolean;
  dry_run: boolean;
  inserted: number;
  replaced: number;
  skipped: number;
  /** Credential keys that already exist. */
  conflicts: string[];
  problems: StoreFileProblem[];
}

/**
 * Check a whole file, then import it (or report what importing would do): a report either way,
 * naming every problem of the file or every conflict the policy refused.
 */
export async function importStoreFile(deps: StoreDeps, content: string, choice: ImportChoice): Promise<ImportReport> {
  const base = { dry_run: choice.dryRun, inserted: 0, replaced: 0, skipped: 0, conflicts: [] as string[] };
  const checked = checkStoreFile(deps.keyring, content);
  if (!checked.ok) return { ok: false, ...base, problems: checked.problems };
  try {
    const { inserted, replaced, skipped, conflicts } = await importRecords(deps, checked.records, choice);
    return { ok: true, ...base, inserted, replaced, skipped, conflicts, problems: [] };
  } catch (error) {
    if (!(error instanceof ImportConflictError)) throw error;
    return {
      ok: false,
      ...base,
      conflicts: error.conflicts,
      problems: [{ index: null, field: 'integrations', message: error.message }],
    };
  }
}

/** Re-encrypt every stored secret under the keyring's first key, in one transaction. */
export function rotateKey(deps: StoreDeps, opts: { onProgress?: (done: number, total: number) => void } = {}) {
  return rotateSecrets(deps.db, deps.keyring, {
    now: deps.now(),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}

export async function storeStatus(deps: Pick<ApiDeps, 'db' | 'keyring' | 'ephemeralKey' | 'productionProblems'>) {
  return {
    fingerprints: deps.keyring.fingerprints(),
    ephemeral: deps.ephemeralKey,
    production_problems: deps.productionProblems(),
    links: await countLinks(deps.db),
  };
}
