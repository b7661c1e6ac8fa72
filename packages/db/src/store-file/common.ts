import type { Keyring } from '../crypto/fernet';

/** A store file that cannot be written, read or imported. The message never contains a secret. */
export class StoreFileError extends Error {
  override readonly name: string = 'StoreFileError';
}

/** `onConflict: 'fail'` met links that already exist; nothing was written. */
export class ImportConflictError extends StoreFileError {
  override readonly name = 'ImportConflictError';
  constructor(readonly conflicts: string[]) {
    super(
      `${conflicts.length} link${conflicts.length === 1 ? '' : 's'} in the file already exist${conflicts.length === 1 ? 's' : ''} ` +
        `(${preview(conflicts)}); nothing was imported. Choose --on-conflict skip or replace.`,
    );
  }
}

/**
 * Export met stored secrets that no configured key decrypts: the file would carry ciphertext
 * nobody can read with these keys. Nothing was written.
 */
export class UnreadableExportError extends StoreFileError {
  override readonly name = 'UnreadableExportError';
  constructor(
    readonly items: string[],
    readonly fingerprints: string[],
  ) {
    super(
      `${items.length} stored secret${items.length === 1 ? '' : 's'} cannot be decrypted with the configured key${fingerprints.length === 1 ? '' : 's'} ` +
        `(fingerprint ${fingerprints.join(', ')}): ${preview(items)}; nothing was exported. ` +
        'Set ALPHASWARM_ADMIN_INTEGRATIONS_KEY to the key they were stored with (or add it to the comma-separated list), ' +
        'or export them unreadable as they are with --allow-unreadable.',
    );
  }
}

/** How an export treats secrets: each is decrypted once to prove a configured key reads it. */
export interface ExportSecretCheck {
  keyring: Keyring;
  /** Export secrets no key reads as they are (default: refuse with UnreadableExportError). */
  allowUnreadable?: boolean;
  onUnreadable?: (credentialKey: string) => void;
}

export interface StoreFileProblem {
  /** Position in `integrations`, or null for a problem with the whole file. */
  index: number | null;
  credential_key?: string;
  /** Dotted path inside the record (or the file), '' when it is about the whole thing. */
  field: string;
  message: string;
}

export type StoreFileProgress = (done: number, total: number) => void;

export const PAGE = 1000;

export function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function preview(items: string[], max = 10): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/**
 * Secrets validateStoreFile found readable by a keyring's first key, by record: an import with that
 * keyring stores them as they are without opening them a second time (it opens any other).
 */
export const verifiedUnderPrimary = new WeakMap<object, { keyring: Keyring; token: string }>();
