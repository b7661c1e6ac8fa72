import {
  INTEGRATION_KINDS,
  type IntegrationKind,
  isSecretBearing,
  renderCredentialKey,
  STORE_FILE_FORMAT,
  STORE_FILE_VERSION,
  StoreFileRecord,
  Timestamp,
} from '@alphaswarm/contracts';
import type { z } from 'zod';
import { InvalidToken, isCanonicalToken, type Keyring } from '../crypto/fernet';
import {
  PAGE,
  preview,
  type StoreFileProblem,
  type StoreFileProgress,
  shortJson,
  verifiedUnderPrimary,
} from './common';
import { describeJsonError, locateRecords } from './json-scan';

/**
 * What each kind's decrypted secret must parse as (null: the kind holds none), from the kinds'
 * descriptors: the store file knows no kind by name.
 */
export type SecretSchemas = Record<IntegrationKind, z.ZodType | null>;

export interface ValidateOptions {
  secretSchemas: SecretSchemas;
  onProgress?: StoreFileProgress;
}

export interface ValidatedStoreFile {
  ok: boolean;
  records: StoreFileRecord[];
  problems: StoreFileProblem[];
  exportedAt: string | null;
}

/**
 * Check everything an import needs before it writes a row: JSON syntax, format and version,
 * every record's fields, identity, duplicates, and that every secret decrypts with `keyring`
 * to the JSON its kind expects. Problems never quote a secret or its plaintext.
 *
 * Pass the file as a Buffer for large files: records are then parsed one at a time from it and
 * the whole document never exists as one string or one object tree.
 */
export function validateStoreFile(input: string | Buffer, keyring: Keyring, opts: ValidateOptions): ValidatedStoreFile {
  if (typeof input !== 'string') {
    const located = locateRecords(input);
    // A file wrong at the top may also be malformed further down: the full parse says which first.
    if (located && headerProblem(located.header) === null) {
      const result = validateDocument(located.header, located.ranges.length / 2, keyring, opts, (i) =>
        JSON.parse(input.toString('utf8', located.ranges[2 * i], located.ranges[2 * i + 1])),
      );
      // A record that is not JSON: let the full parse below say where, with the usual message.
      if (result !== MALFORMED) return result;
    }
  }
  const text = (typeof input === 'string' ? input : input.toString('utf8')).replace(/^\uFEFF/, '');
  if (/^\s*$/.test(text)) return fileProblem('', 'the file is empty (truncated?): expected a JSON store file');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    return fileProblem('', describeJsonError(error as Error, text));
  }
  const raw = (doc as { integrations?: unknown } | null)?.integrations;
  const records = Array.isArray(raw) ? raw : [];
  const result = validateDocument(doc, records.length, keyring, opts, (i) => {
    const item = records[i];
    // Let the parsed copy go as soon as it is checked: a large file is then held about once.
    records[i] = undefined;
    return item;
  });
  return result === MALFORMED ? fileProblem('', 'malformed JSON') : result;
}

const MALFORMED = Symbol('malformed');

function fileProblem(field: string, message: string): ValidatedStoreFile {
  return { ok: false, records: [], problems: [{ index: null, field, message }], exportedAt: null };
}

/** A file that is not an object of our format and version: nothing else is worth checking. */
function headerProblem(doc: unknown): ValidatedStoreFile | null {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    const what = doc === null ? 'null' : Array.isArray(doc) ? 'an array' : `a ${typeof doc}`;
    return fileProblem('', `the file holds ${what} instead of a store file object`);
  }
  const file = doc as Record<string, unknown>;
  if (file.format !== STORE_FILE_FORMAT) {
    return fileProblem(
      'format',
      `format is ${shortJson(file.format)}, expected "${STORE_FILE_FORMAT}": this is not an integrations store file`,
    );
  }
  if (file.version !== STORE_FILE_VERSION) {
    return fileProblem(
      'version',
      `version ${shortJson(file.version)} is not supported: this build reads version ${STORE_FILE_VERSION}`,
    );
  }
  return null;
}

/** `doc` is the parsed file (its `integrations` possibly left out); `item(i)` yields record i. */
function validateDocument(
  doc: unknown,
  count: number,
  keyring: Keyring,
  opts: ValidateOptions,
  item: (index: number) => unknown,
): ValidatedStoreFile | typeof MALFORMED {
  const bad = headerProblem(doc);
  if (bad) return bad;
  const file = doc as Record<string, unknown>;
  const problems: StoreFileProblem[] = [];
  const exportedAt = Timestamp.safeParse(file.exported_at);
  if (!exportedAt.success) {
    problems.push({
      index: null,
      field: 'exported_at',
      message: 'exported_at must be an RFC 3339 UTC timestamp ending in Z',
    });
  }
  if (!Array.isArray(file.integrations)) {
    problems.push({ index: null, field: 'integrations', message: 'integrations must be an array of records' });
    return { ok: false, records: [], problems, exportedAt: null };
  }

  const records: StoreFileRecord[] = [];
  const seen = new Map<string, number>();
  const unreadable: { index: number; key: string }[] = [];
  for (let index = 0; index < count; index++) {
    let raw: unknown;
    try {
      raw = item(index);
    } catch (error) {
      if (error instanceof SyntaxError) return MALFORMED;
      throw error;
    }
    const before = problems.length;
    const record = checkRecord(raw, index, problems);
    if (record) {
      const key = record.credential_key;
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push({
          index,
          credential_key: key,
          field: 'credential_key',
          message: `duplicate link: integrations[${first}] already has ${key} (one link per org and kind)`,
        });
      } else {
        seen.set(key, index);
      }
      checkSecret(record, index, keyring, opts.secretSchemas[record.kind], problems, unreadable);
      if (problems.length === before) records.push(record);
    }
    if (opts.onProgress && (index + 1) % PAGE === 0) opts.onProgress(index + 1, count);
  }
  opts.onProgress?.(count, count);
  if (unreadable.length > 0) {
    // First, because it is the one to act on: the key is wrong, not the records.
    problems.unshift({
      index: null,
      field: 'secret',
      message:
        `${unreadable.length} secret${unreadable.length === 1 ? '' : 's'} cannot be decrypted with the configured key(s) ` +
        `(${keyring.fingerprints().join(', ')}): ${preview(unreadable.map((u) => `integrations[${u.index}] ${u.key}`))}. ` +
        'The file was probably exported under another key: set ALPHASWARM_ADMIN_INTEGRATIONS_KEY to that key ' +
        '(or add it to the comma-separated list) and try again.',
    });
  }
  return {
    ok: problems.length === 0,
    records,
    problems,
    exportedAt: exportedAt.success ? exportedAt.data : null,
  };
}

function checkRecord(item: unknown, index: number, problems: StoreFileProblem[]): StoreFileRecord | undefined {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    problems.push({ index, field: '', message: 'a record must be a JSON object' });
    return undefined;
  }
  const candidate = item as Record<string, unknown>;
  const key = typeof candidate.credential_key === 'string' ? candidate.credential_key.slice(0, 128) : undefined;
  const parsed = StoreFileRecord.safeParse(item);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.join('.');
      problems.push({
        index,
        ...(key !== undefined ? { credential_key: key } : {}),
        field,
        message: recordIssueMessage(field, issue, candidate),
      });
    }
    return undefined;
  }
  // Keep the objects JSON.parse made (same values, the schema only adds defaults) and drop zod's
  // copy while it is young: a large file is then held once, not twice, until the import is done.
  const record: StoreFileRecord = {
    ...parsed.data,
    metadata: candidate.metadata as StoreFileRecord['metadata'],
  };
  const expected = renderCredentialKey({ kind: record.kind, org_id: record.org_id });
  if (record.credential_key !== expected) {
    problems.push({
      index,
      credential_key: record.credential_key,
      field: 'credential_key',
      message: `credential_key ${shortJson(record.credential_key)} does not match kind and org_id (expected "${expected}")`,
    });
    return undefined;
  }
  return record;
}

function recordIssueMessage(field: string, issue: z.core.$ZodIssue, record: Record<string, unknown>): string {
  // Our own checks (limits, control characters) already name the field.
  if (issue.code === 'custom') return issue.message;
  // Only non-secret fields are ever quoted back.
  if (issue.path.length === 1 && !(field in record) && field !== 'last_health_status') return `${field} is missing`;
  if (field === 'kind' && typeof record.kind === 'string') {
    return `unknown kind ${shortJson(record.kind)}: expected one of ${INTEGRATION_KINDS.join(', ')}`;
  }
  if (field === 'org_id' && typeof record.org_id === 'string')
    return `invalid org_id ${shortJson(record.org_id)}: ${issue.message}`;
  if (field === 'secret') {
    return issue.code === 'too_big'
      ? 'secret is too long for a Fernet token of a credential'
      : 'secret must be a Fernet token string or null';
  }
  if (field === 'connected_at' || field === 'last_health_at') {
    const value = record[field];
    return `${field} must be an RFC 3339 UTC timestamp ending in Z${typeof value === 'string' ? `, got ${shortJson(value)}` : ''}`;
  }
  return `${field}: ${issue.message}`;
}

function checkSecret(
  record: StoreFileRecord,
  index: number,
  keyring: Keyring,
  schema: z.ZodType | null,
  problems: StoreFileProblem[],
  unreadable: { index: number; key: string }[],
): void {
  const at = { index, credential_key: record.credential_key, field: 'secret' };
  if (!isSecretBearing(record.kind)) {
    if (record.secret !== null) {
      problems.push({ ...at, message: `${record.kind} is federated and stores no secret, but the record carries one` });
    }
    return;
  }
  if (record.secret === null) {
    if (record.status !== 'needs_reconnect') {
      problems.push({ ...at, message: `a ${record.kind} link needs a secret unless its status is needs_reconnect` });
    }
    return;
  }
  let plaintext: Buffer;
  try {
    const opened = keyring.decryptNoting(record.secret);
    plaintext = opened.plaintext;
    if (opened.primary && isCanonicalToken(record.secret)) {
      verifiedUnderPrimary.set(record, { keyring, token: record.secret });
    }
  } catch (error) {
    if (!(error instanceof InvalidToken)) throw error;
    if (error.reason === 'malformed') {
      problems.push({ ...at, message: 'secret is not a well-formed Fernet token' });
    } else {
      unreadable.push({ index, key: record.credential_key });
      problems.push({
        ...at,
        message: `secret cannot be decrypted with the configured key(s) (${error.message}); is ALPHASWARM_ADMIN_INTEGRATIONS_KEY the key the file was exported with?`,
      });
    }
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(plaintext.toString('utf8'));
  } catch {
    problems.push({ ...at, message: 'secret decrypts, but not to JSON' });
    return;
  } finally {
    plaintext.fill(0);
  }
  if (!schema) return;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
    const expected = 'shape' in schema ? ` (expected {${Object.keys((schema as z.ZodObject).shape).join(', ')}})` : '';
    problems.push({
      ...at,
      message: `secret decrypts, but not to a ${record.kind} secret: check ${fields.join(', ')}${expected}`,
    });
  }
}

/** One line per problem, for a report. */
export function formatStoreFileProblem(p: StoreFileProblem): string {
  const where = p.index === null ? 'file' : `integrations[${p.index}]${p.credential_key ? ` ${p.credential_key}` : ''}`;
  return `${where}: ${p.message}`;
}
