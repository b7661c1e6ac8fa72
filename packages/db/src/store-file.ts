import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  CloudflareSecret,
  DockerHubSecret,
  HuggingFaceSecret,
  INTEGRATION_KINDS,
  type IntegrationKind,
  isSecretBearing,
  type OnConflict,
  renderCredentialKey,
  STORE_FILE_FORMAT,
  STORE_FILE_VERSION,
  StoreFileRecord,
  Timestamp,
} from '@alphaswarm/contracts';
import { and, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { isoNow } from './clock';
import { InvalidToken, type Keyring } from './crypto/fernet';
import { countLinks, type IntegrationRow, pageLinks } from './repo/integrations';
import { auditEvents, integrations } from './schema';
import type { Db } from './sqlite';

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

const PAGE = 1000;
const SECRET_SCHEMAS: Partial<Record<IntegrationKind, z.ZodType>> = {
  huggingface: HuggingFaceSecret,
  docker_hub: DockerHubSecret,
  cloud_cloudflare: CloudflareSecret,
};

// ---------------------------------------------------------------------------------------------
// Export

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
async function* recordPages(db: Db, pageSize = PAGE): AsyncGenerator<StoreFileRecord[]> {
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
  db: Db,
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
  db: Db,
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

type Content = string | Iterable<string> | AsyncIterable<string>;

/**
 * Write `content` to `path` so a reader sees the old file or the complete new one, never a part:
 * temp file in the same directory (mode 0600), fsync, rename over the target, fsync the directory.
 */
export async function writeStoreFileAtomic(path: string, content: Content): Promise<{ bytes: number }> {
  const target = resolve(path);
  const dir = dirname(target);
  checkTargetDirectory(dir);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o600);
  } catch (error) {
    throw new StoreFileError(`Cannot write into ${dir}: ${describeFsError(error)}.`);
  }
  let bytes = 0;
  try {
    let pending: string[] = [];
    let pendingLength = 0;
    const flush = () => {
      if (pendingLength === 0) return;
      const buffer = Buffer.from(pending.join(''), 'utf8');
      let offset = 0;
      while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
      bytes += buffer.length;
      pending = [];
      pendingLength = 0;
    };
    const chunks = typeof content === 'string' ? [content] : content;
    for await (const chunk of chunks) {
      pending.push(chunk);
      pendingLength += chunk.length;
      if (pendingLength >= 1 << 20) flush();
    }
    flush();
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(temp, target);
  } catch (error) {
    if (fd !== -1) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already renamed or never created
    }
    // Only file-system failures are about the target; anything else (the source) passes through.
    if (!(error as NodeJS.ErrnoException).syscall) throw error;
    throw new StoreFileError(`Cannot write ${target}: ${describeFsError(error)}.`);
  }
  syncDirectory(dir);
  return { bytes };
}

function checkTargetDirectory(dir: string): void {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StoreFileError(`Cannot write into ${dir}: the directory does not exist.`);
    if (code === 'ENOTDIR')
      throw new StoreFileError(`Cannot write into ${dir}: a parent of it is a file, not a directory.`);
    throw new StoreFileError(`Cannot write into ${dir}: ${describeFsError(error)}.`);
  }
  if (!stat.isDirectory()) throw new StoreFileError(`Cannot write into ${dir}: it is not a directory.`);
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (the directory is read-only for this user)';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ENOENT':
      return 'the directory does not exist or refuses new files';
    case 'ENOTDIR':
      return 'a parent of the path is a file, not a directory';
    case 'EISDIR':
      return 'the target is a directory';
    default:
      return e.code ? `${e.code}` : String(e.message ?? e);
  }
}

// ---------------------------------------------------------------------------------------------
// Validate

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
export function validateStoreFile(
  input: string | Buffer,
  keyring: Keyring,
  opts: { onProgress?: StoreFileProgress } = {},
): ValidatedStoreFile {
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
  opts: { onProgress?: StoreFileProgress },
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
      checkSecret(record, index, keyring, problems, unreadable);
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Split a store file held as bytes into its top level (with `integrations` emptied) and the byte
 * ranges of the records, scanning once for strings and nesting ('"' and '\\' never occur inside a
 * multi-byte UTF-8 sequence, so bytes are enough). Returns null for anything irregular (not an
 * object, several `integrations` arrays, unbalanced, a stray comma, trailing bytes); the caller
 * then parses the whole text, which reports the problem the usual way.
 */
function locateRecords(buf: Buffer): { header: unknown; ranges: number[] } | null {
  const start = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let stringStart = -1;
  /** The last significant byte seen at depth 0 or 1 (a closed string counts as a quote). */
  let prev = -1;
  let key: string | null = null;
  let arrayOpen = -1;
  let arrayClose = -1;
  let elementStart = -1;
  let afterComma = false;
  const ranges: number[] = [];
  for (let i = start; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) {
        inString = false;
        if (depth === 1 && (prev === OPEN_OBJECT || prev === COMMA)) {
          try {
            key = JSON.parse(buf.toString('utf8', stringStart, i + 1)) as string;
          } catch {
            return null;
          }
        }
        if (depth <= 1) prev = QUOTE;
      }
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (depth === 0 && (prev !== -1 || c !== OPEN_OBJECT)) return null;
    const inRecords = depth === 2 && arrayOpen !== -1 && arrayClose === -1;
    if (inRecords) {
      if (c === COMMA) {
        if (elementStart === -1) return null;
        ranges.push(elementStart, i);
        elementStart = -1;
        afterComma = true;
        continue;
      }
      if (c === CLOSE_ARRAY) {
        if (elementStart !== -1) ranges.push(elementStart, i);
        else if (afterComma) return null;
        arrayClose = i;
        depth--;
        prev = c;
        continue;
      }
      if (elementStart === -1) elementStart = i;
    }
    if (c === QUOTE) {
      inString = true;
      stringStart = i;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === 1 && c === OPEN_ARRAY && prev === COLON && key === 'integrations') {
        if (arrayOpen !== -1) return null;
        arrayOpen = i;
      }
      depth++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth < 0) return null;
    }
    if (depth <= 1) prev = c;
  }
  if (depth !== 0 || inString || arrayClose === -1) return null;
  try {
    const header: unknown = JSON.parse(
      `${buf.toString('utf8', start, arrayOpen)}[]${buf.toString('utf8', arrayClose + 1)}`,
    );
    return { header, ranges };
  } catch {
    return null;
  }
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
    plaintext = keyring.decrypt(record.secret);
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
  const schema = SECRET_SCHEMAS[record.kind]!;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
    problems.push({
      ...at,
      message: `secret decrypts, but not to a ${record.kind} secret: check ${fields.join(', ')} (expected ${expectedSecretShape(record.kind)})`,
    });
  }
}

function expectedSecretShape(kind: IntegrationKind): string {
  const schema = SECRET_SCHEMAS[kind] as z.ZodObject | undefined;
  return schema ? `{${Object.keys(schema.shape).join(', ')}}` : 'no secret';
}

/** JSON.parse errors, minus the excerpt V8 adds (it may be part of a secret), plus line:column. */
function describeJsonError(error: Error, text: string): string {
  const message = error.message;
  const match = /at position (\d+)/.exec(message);
  const position = match ? Number(match[1]) : undefined;
  const end = text.trimEnd().length;
  if (/Unexpected end of JSON input|Unterminated string/.test(message) || (position !== undefined && position >= end)) {
    return `the file is truncated: its JSON ends at byte ${end} before the document is complete`;
  }
  const what = message.replace(/ in JSON at position \d+.*$/s, '').replace(/, (\.\.\.)?".*$/s, '');
  if (position === undefined) return `malformed JSON: ${what}`;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `malformed JSON at line ${line}, column ${column} (position ${position}): ${what}`;
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function preview(items: string[], max = 10): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** One line per problem, for a report. */
export function formatStoreFileProblem(p: StoreFileProblem): string {
  const where = p.index === null ? 'file' : `integrations[${p.index}]${p.credential_key ? ` ${p.credential_key}` : ''}`;
  return `${where}: ${p.message}`;
}

// ---------------------------------------------------------------------------------------------
// Import

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

const INSERT_BATCH = 500;

/**
 * Write validated records in ONE transaction: everything or nothing. With `fail`, any link that
 * already exists aborts the import (ImportConflictError lists them); a dry run computes the same
 * result and writes nothing.
 */
export async function importStore(
  db: Db,
  records: readonly StoreFileRecord[],
  opts: ImportOptions,
): Promise<ImportResult> {
  const now = isoNow(opts.now);
  try {
    return writeImport(db, records, opts, now);
  } catch (error) {
    if (/UNIQUE constraint failed: integrations/.test((error as Error).message)) {
      throw new StoreFileError(
        'A link in the file was created by someone else during the import; nothing was imported. Run it again.',
      );
    }
    throw error;
  }
}

function writeImport(db: Db, records: readonly StoreFileRecord[], opts: ImportOptions, now: string): ImportResult {
  return db.transaction((tx) => {
    const existing = new Set<string>();
    const keys = records.map((r) => r.credential_key);
    for (let i = 0; i < keys.length; i += INSERT_BATCH) {
      const batch = keys.slice(i, i + INSERT_BATCH);
      for (const row of tx
        .select({ key: integrations.credentialKey })
        .from(integrations)
        .where(inArray(integrations.credentialKey, batch))
        .all()) {
        existing.add(row.key);
      }
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
    if (result.dryRun) return result;

    const rows = opts.onConflict === 'skip' ? records.filter((r) => !existing.has(r.credential_key)) : records;
    // One prepared statement run per row: far less garbage than building a query per batch.
    const insert = prepareInsert(tx, opts.onConflict);
    for (let i = 0; i < rows.length; i++) {
      insert.run(toParams(rows[i]!, opts.keyring, now));
      if ((i + 1) % PAGE === 0 || i + 1 === rows.length) opts.onProgress?.(i + 1, rows.length);
    }
    return result;
  });
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type RowParams = Record<keyof typeof integrations.$inferInsert, string | null>;

function prepareInsert(tx: Tx, onConflict: OnConflict) {
  const p = (name: keyof RowParams) => sql.placeholder(name);
  const insert = tx.insert(integrations).values({
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
  });
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
      .prepare();
  }
  if (onConflict === 'skip') return insert.onConflictDoNothing().prepare();
  // A link created by someone else since the existence check fails the unique constraint, which
  // rolls everything back.
  return insert.prepare();
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
    // Under the current primary key from now on; rotate keeps the token's original timestamp.
    secret: r.secret === null ? null : keyring.rotate(r.secret),
    expiresAt: expiryFromMetadata(r.metadata),
    updatedAt: now,
  };
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
export async function hasLinkHistory(db: Db): Promise<boolean> {
  const row = db
    .select({ seq: auditEvents.seq })
    .from(auditEvents)
    .where(
      or(
        isNotNull(auditEvents.credentialKey),
        and(eq(auditEvents.action, 'store.import'), eq(auditEvents.outcome, 'success')),
      ),
    )
    .limit(1)
    .get();
  return row !== undefined;
}
