// The rules of writing and reading the store file (export, atomic write, import, their errors) on
// small data: the mutation module `store-file-io` runs this spec (docs/mutation.md).
// store-file.test.ts stays the end-to-end check (round trips, a store larger than a page, Python).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreFileRecord } from '@alphaswarm/contracts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CF, CHECKS, fileText, HF, KEY, keyring, sampleRecords } from '../../test/store-file-fixtures';
import { testStore } from '../../test/stores';
import { generateKey, InvalidToken, Keyring } from '../crypto/fernet';
import type { Store } from '../database';
import { appendAudit, newRunId } from '../repo/audit';
import { pageLinks } from '../repo/integrations';
import { openSecret, sealSecret } from '../secrets';
import {
  exportStore,
  exportStoreChunks,
  hasLinkHistory,
  ImportConflictError,
  importStore,
  StoreFileError,
  UnreadableExportError,
  validateStoreFile,
  writeStoreFileAtomic,
} from '.';
import { preview, shortJson } from './common';

const NOW = new Date('2026-05-27T20:00:00.123Z');
const STAMP = '2026-05-27T20:00:00Z';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-file-io-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** One database per describe block, emptied between its tests. */
function database(): () => Store {
  let s: Store;
  beforeAll(async () => {
    s = await testStore();
  });
  afterAll(async () => {
    await s.close();
  });
  beforeEach(async () => {
    await s.db.write(async (tx) => {
      await tx.q.delete(tx.t.integrations);
    });
  });
  return () => s;
}

const byKey = (records: StoreFileRecord[]) =>
  [...records].sort((x, y) => (x.credential_key < y.credential_key ? -1 : 1));

/** A record as an export writes it: its fields in the file format's order. */
const line = (r: StoreFileRecord) =>
  JSON.stringify({
    credential_key: r.credential_key,
    org_id: r.org_id,
    kind: r.kind,
    namespace: r.namespace,
    status: r.status,
    connected_at: r.connected_at,
    last_health_at: r.last_health_at,
    last_health_status: r.last_health_status,
    error: r.error,
    metadata: r.metadata,
    secret: r.secret,
  });

async function collect(chunks: AsyncGenerator<string, number>): Promise<{ text: string; count: number }> {
  let text = '';
  for (;;) {
    const next = await chunks.next();
    if (next.done) return { text, count: next.value };
    text += next.value;
  }
}

describe('the messages', () => {
  it('a conflict names the links, counted in the right number, and the ways out', () => {
    const one = new ImportConflictError(['huggingface:org:a']);
    expect(one).toBeInstanceOf(StoreFileError);
    expect(one.name).toBe('ImportConflictError');
    expect(one.conflicts).toEqual(['huggingface:org:a']);
    expect(one.message).toBe(
      '1 link in the file already exists (huggingface:org:a); nothing was imported. Choose --on-conflict skip or replace.',
    );
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    expect(new ImportConflictError(keys).message).toBe(
      '12 links in the file already exist (k0, k1, k2, k3, k4, k5, k6, k7, k8, k9 and 2 more); nothing was imported. ' +
        'Choose --on-conflict skip or replace.',
    );
  });

  it('an unreadable export names the secrets, the fingerprints and both ways out', () => {
    const one = new UnreadableExportError(['huggingface:org:a'], ['fp_1']);
    expect(one).toBeInstanceOf(StoreFileError);
    expect(one.name).toBe('UnreadableExportError');
    expect([one.items, one.fingerprints]).toEqual([['huggingface:org:a'], ['fp_1']]);
    expect(one.message).toBe(
      '1 stored secret cannot be decrypted with the configured key (fingerprint fp_1): huggingface:org:a; ' +
        'nothing was exported. Set ALPHASWARM_ADMIN_INTEGRATIONS_KEY to the key they were stored with ' +
        '(or add it to the comma-separated list), or export them unreadable as they are with --allow-unreadable.',
    );
    expect(new UnreadableExportError(['a', 'b'], ['fp_1', 'fp_2']).message).toMatch(
      /^2 stored secrets cannot be decrypted with the configured keys \(fingerprint fp_1, fp_2\): a, b; /,
    );
    expect(new StoreFileError('x').name).toBe('StoreFileError');
  });

  it('quotes values short, and lists at most ten names', () => {
    expect(shortJson('x'.repeat(78))).toBe(`"${'x'.repeat(78)}"`);
    expect(shortJson('x'.repeat(79))).toBe(`"${'x'.repeat(76)}...`);
    expect(shortJson(undefined)).toBe('undefined');
    expect(shortJson({ a: [1] })).toBe('{"a":[1]}');
    const names = Array.from({ length: 11 }, (_, i) => `n${i}`);
    expect(preview(names.slice(0, 10))).toBe(names.slice(0, 10).join(', '));
    expect(preview(names)).toBe(`${names.slice(0, 10).join(', ')} and 1 more`);
    expect(preview(names, 2)).toBe('n0, n1 and 9 more');
  });
});

describe('writeStoreFileAtomic', () => {
  async function* slow(chunks: string[], between: () => void) {
    for (const [i, chunk] of chunks.entries()) {
      if (i > 0) between();
      yield chunk;
    }
  }

  it('writes a string, a list or an async stream of chunks, and counts bytes, not characters', async () => {
    const path = join(dir, 'f.json');
    expect(await writeStoreFileAtomic(path, 'ünï ✓')).toEqual({ bytes: 9 });
    expect(readFileSync(path, 'utf8')).toBe('ünï ✓');
    expect(await writeStoreFileAtomic(path, ['a', '', 'bc'])).toEqual({ bytes: 3 });
    expect(readFileSync(path, 'utf8')).toBe('abc');
    expect(
      await writeStoreFileAtomic(
        path,
        slow(['x', 'y'], () => {}),
      ),
    ).toEqual({ bytes: 2 });
    expect(readFileSync(path, 'utf8')).toBe('xy');
    expect(await writeStoreFileAtomic(path, [])).toEqual({ bytes: 0 });
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('builds the new file beside the old one, private, in pieces of 1 MiB, and renames it over at the end', async () => {
    const path = join(dir, 'integrations.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    const mib = 'x'.repeat(1 << 20);
    const seen: { files: string[]; tempSize: number; tempMode: number; target: string }[] = [];
    const look = () => {
      const files = readdirSync(dir).sort();
      const temp = files.find((f) => f !== 'integrations.json')!;
      const stat = statSync(join(dir, temp));
      seen.push({ files, tempSize: stat.size, tempMode: stat.mode & 0o777, target: readFileSync(path, 'utf8') });
    };
    await writeStoreFileAtomic(path, slow(['a', mib.slice(1), 'b', 'c'], look));
    expect(seen).toHaveLength(3);
    expect(seen[0]!.files).toEqual([
      expect.stringMatching(new RegExp(`^\\.integrations\\.json\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`)),
      'integrations.json',
    ]);
    // Nothing is written before a MiB is pending; then that MiB at once; the rest at the end.
    expect(seen.map((s) => [s.tempSize, s.tempMode, s.target])).toEqual([
      [0, 0o600, 'old'],
      [1 << 20, 0o600, 'old'],
      [1 << 20, 0o600, 'old'],
    ]);
    expect(readFileSync(path, 'utf8')).toBe(`a${mib.slice(1)}bc`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['integrations.json']);
  });

  it('leaves the old file and no temp file when the source fails, and passes the source’s error on as it is', async () => {
    const path = join(dir, 'integrations.json');
    writeFileSync(path, 'old');
    const failure = new InvalidToken('signature');
    async function* failing() {
      yield 'x'.repeat(1 << 20);
      throw failure;
    }
    await expect(writeStoreFileAtomic(path, failing())).rejects.toBe(failure);
    expect(readdirSync(dir)).toEqual(['integrations.json']);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });

  it('says which directory cannot take the file, and why', async () => {
    await expect(writeStoreFileAtomic(join(dir, 'nope', 'x.json'), 'x')).rejects.toThrow(
      new StoreFileError(`Cannot write into ${join(dir, 'nope')}: the directory does not exist.`),
    );
    writeFileSync(join(dir, 'plain'), '');
    await expect(writeStoreFileAtomic(join(dir, 'plain', 'x.json'), 'x')).rejects.toThrow(
      new StoreFileError(`Cannot write into ${join(dir, 'plain')}: it is not a directory.`),
    );
    await expect(writeStoreFileAtomic(join(dir, 'plain', 'sub', 'x.json'), 'x')).rejects.toThrow(
      new StoreFileError(`Cannot write into ${join(dir, 'plain', 'sub')}: a parent of it is a file, not a directory.`),
    );
    // Even root cannot create files in sysfs.
    await expect(writeStoreFileAtomic('/sys/alphaswarm-export.json', 'x')).rejects.toThrow(
      /^Cannot write into \/sys: (permission denied \(the directory is read-only for this user\)|the file system is read-only)\.$/,
    );
  });

  it('says why the target cannot be replaced, and removes its temp file', async () => {
    mkdirSync(join(dir, 'empty'));
    const error = await writeStoreFileAtomic(join(dir, 'empty'), 'x').catch((e: unknown) => e);
    expect(error).toEqual(new StoreFileError(`Cannot write ${join(dir, 'empty')}: the target is a directory.`));
    expect(error).toBeInstanceOf(StoreFileError);
    // Any other failure by its code: a name too long for the temp file beside it.
    const long = 'x'.repeat(250);
    await expect(writeStoreFileAtomic(join(dir, long), 'x')).rejects.toThrow(
      new StoreFileError(`Cannot write into ${dir}: ENAMETOOLONG.`),
    );
    expect(readdirSync(dir)).toEqual(['empty']);
  });
});

describe('export', () => {
  const store = database();

  async function seed(records: StoreFileRecord[]) {
    await importStore(store().db, records, { keyring, onConflict: 'fail', now: NOW });
  }

  it('one record per line, in key order, the header first, whatever the page size', async () => {
    const records = sampleRecords();
    await seed(records);
    for (const pageSize of [2, 7, 1000]) {
      const progress: [number, number][] = [];
      const { text, count } = await collect(
        exportStoreChunks(store().db, { now: NOW, pageSize, onProgress: (d, t) => progress.push([d, t]) }),
      );
      expect(count).toBe(7);
      expect(text).toBe(
        `{\n  "format": "alphaswarm.integrations",\n  "version": 1,\n  "exported_at": "${STAMP}",\n  "integrations": [` +
          byKey(records)
            .map((r, i) => `${i === 0 ? '' : ','}\n    ${line(r)}`)
            .join('') +
          '\n  ]\n}\n',
      );
      expect(progress).toEqual(
        pageSize === 2
          ? [
              [2, 7],
              [4, 7],
              [6, 7],
              [7, 7],
            ]
          : [[7, 7]],
      );
    }
    expect(await exportStore(store().db, { now: NOW })).toEqual({
      format: 'alphaswarm.integrations',
      version: 1,
      exported_at: STAMP,
      integrations: byKey(records),
    });
  });

  it('an empty store is an empty list', async () => {
    const progress: [number, number][] = [];
    const { text, count } = await collect(
      exportStoreChunks(store().db, { now: NOW, onProgress: (d, t) => progress.push([d, t]) }),
    );
    expect(count).toBe(0);
    expect(text).toBe(
      `{\n  "format": "alphaswarm.integrations",\n  "version": 1,\n  "exported_at": "${STAMP}",\n  "integrations": []\n}\n`,
    );
    expect(progress).toEqual([]);
    expect((await exportStore(store().db, { now: NOW })).integrations).toEqual([]);
  });

  it('a link added while it runs is exported, and progress never counts past the total', async () => {
    const records = sampleRecords();
    await seed(records.slice(0, 3));
    const progress: [number, number][] = [];
    const chunks = exportStoreChunks(store().db, {
      now: NOW,
      pageSize: 2,
      onProgress: (d, t) => progress.push([d, t]),
    });
    let text = '';
    for await (const chunk of chunks) {
      text += chunk;
      if (progress.length === 1) await seed([{ ...records[3]!, org_id: 'zz', credential_key: 'huggingface:org:zz' }]);
    }
    // Progress follows each page the consumer takes; the link came in after the second was read.
    expect(progress).toEqual([
      [2, 3],
      [3, 3],
      [4, 4],
    ]);
    expect(validateStoreFile(text, keyring, CHECKS).records).toHaveLength(4);
  });

  it('with a keyring, refuses before the closing bracket when a secret does not open, naming each', async () => {
    const records = sampleRecords();
    const otherKey = generateKey();
    const other = Keyring.fromEnv(otherKey);
    records[0] = { ...records[0]!, secret: sealSecret(other, HF) };
    records[2] = { ...records[2]!, secret: sealSecret(other, CF) };
    // Stored as they are: each under the first key of the keyring importing it.
    await importStore(store().db, [records[0]!, records[2]!], { keyring: other, onConflict: 'fail', now: NOW });
    await seed([records[1]!, ...records.slice(3)]);
    const opened: Buffer[] = [];
    const ring = Keyring.fromEnv(KEY);
    const decrypt = ring.decrypt.bind(ring);
    ring.decrypt = (token, opts) => {
      const plaintext = decrypt(token, opts);
      opened.push(plaintext);
      return plaintext;
    };
    const chunks: string[] = [];
    const unreadable: string[] = [];
    const error = await (async () => {
      for await (const chunk of exportStoreChunks(store().db, {
        now: NOW,
        secrets: { keyring: ring, onUnreadable: (k) => unreadable.push(k) },
      })) {
        chunks.push(chunk);
      }
    })().catch((e: unknown) => e);
    expect(error).toEqual(
      new UnreadableExportError(['cloud_cloudflare:org:org-acme', 'huggingface:org:org-acme'], ring.fingerprints()),
    );
    expect(unreadable).toEqual(['cloud_cloudflare:org:org-acme', 'huggingface:org:org-acme']);
    expect(chunks.join('')).not.toMatch(/\]\n}\n$/);
    // The one secret that opened was wiped at once; the null ones were never opened.
    expect(opened).toHaveLength(1);
    expect(opened[0]!.every((b) => b === 0)).toBe(true);

    unreadable.length = 0;
    const allowed = await collect(
      exportStoreChunks(store().db, {
        now: NOW,
        secrets: { keyring, allowUnreadable: true, onUnreadable: (k) => unreadable.push(k) },
      }),
    );
    expect(allowed.count).toBe(7);
    expect(unreadable).toHaveLength(2);
    expect(JSON.parse(allowed.text).integrations).toEqual(byKey(records));
    // A keyring holding both keys reads every secret; without a keyring nothing is checked.
    const both = Keyring.fromEnv(`${KEY},${otherKey}`);
    expect((await collect(exportStoreChunks(store().db, { now: NOW, secrets: { keyring: both } }))).count).toBe(7);
    expect((await collect(exportStoreChunks(store().db, { now: NOW }))).count).toBe(7);
  });
});

describe('importStore', () => {
  const store = database();
  const rows = async () => pageLinks(store().db, null, 2000);

  it('stores every field of every record, the secret under the first key and the expiry from metadata', async () => {
    const [hf, dh, cf, , aws] = sampleRecords();
    const records = [
      hf!,
      { ...dh!, metadata: { token_expires_at: '2026-07-01T00:00:00.500Z', expires_at: 7 } },
      { ...cf!, metadata: { expires_at: 'soon', expires_on: '2026-08-01' } },
      { ...aws!, metadata: { expires_at: null } },
    ];
    const result = await importStore(store().db, records, { keyring, onConflict: 'fail', now: NOW });
    expect(result).toEqual({ dryRun: false, inserted: 4, replaced: 0, skipped: 0, conflicts: [] });
    const stored = await rows();
    expect(stored.map((r) => [r.credentialKey, r.expiresAt, r.updatedAt])).toEqual([
      ['cloud_aws:org:org-acme', null, STAMP],
      ['cloud_cloudflare:org:org-acme', '2026-08-01T00:00:00Z', STAMP],
      ['docker_hub:org:org-acme', '2026-07-01T00:00:00Z', STAMP],
      ['huggingface:org:org-acme', '2026-09-01T00:00:00Z', STAMP],
    ]);
    expect((await exportStore(store().db, { now: NOW })).integrations).toEqual(byKey(records));
    expect(stored.find((r) => r.kind === 'docker_hub')?.error).toEqual(dh!.error);
    expect(stored.find((r) => r.kind === 'cloud_aws')?.error).toBeNull();
  });

  it('does not open again a secret validation proved under the first key of the same keyring', async () => {
    const olderKey = generateKey();
    const older = Keyring.fromEnv(olderKey);
    const ring = Keyring.fromEnv(`${KEY},${olderKey}`);
    const records = sampleRecords();
    records[1] = { ...records[1]!, secret: sealSecret(older, { username: 'u', pat: 'p' }) };
    const checked = validateStoreFile(fileText(records), ring, CHECKS);
    expect(checked.problems).toEqual([]);
    const opened: string[] = [];
    const underPrimary = ring.underPrimary.bind(ring);
    ring.underPrimary = (token) => {
      opened.push(token);
      return underPrimary(token);
    };
    await importStore(store().db, checked.records, { keyring: ring, onConflict: 'fail', now: NOW });
    expect(opened).toEqual([records[1]!.secret]);
    const stored = new Map((await rows()).map((r) => [r.credentialKey, r.secret]));
    expect(stored.get('huggingface:org:org-acme')).toBe(records[0]!.secret);
    expect(stored.get('cloud_cloudflare:org:org-acme')).toBe(records[2]!.secret);
    // Under the second key: re-encrypted under the first, same plaintext and timestamp.
    const moved = stored.get('docker_hub:org:org-acme')!;
    expect(openSecret(keyring, moved)).toEqual({ username: 'u', pat: 'p' });
    expect(keyring.extractTimestamp(moved)).toBe(older.extractTimestamp(records[1]!.secret!));
  });

  it('opens a proved secret again under another keyring, or when its token changed since', async () => {
    const checked = validateStoreFile(fileText(sampleRecords()), keyring, CHECKS);
    const [hf] = checked.records;
    const newKey = generateKey();
    await importStore(store().db, [hf!], {
      keyring: Keyring.fromEnv(`${newKey},${KEY}`),
      onConflict: 'fail',
      now: NOW,
    });
    const [row] = await rows();
    expect(openSecret(Keyring.fromEnv(newKey), row!.secret!)).toEqual(HF);

    const token = hf!.secret!;
    hf!.secret = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
    await expect(importStore(store().db, [hf!], { keyring, onConflict: 'replace', now: NOW })).rejects.toBeInstanceOf(
      InvalidToken,
    );
    expect((await rows())[0]?.secret).toBe(row!.secret);
  });

  it('fail: any existing link aborts and writes nothing; skip keeps them; replace overwrites every field', async () => {
    const records = sampleRecords();
    await importStore(store().db, records.slice(0, 2), { keyring, onConflict: 'fail', now: NOW });
    const before = await rows();
    const later = new Date('2026-06-01T00:00:00Z');
    const changed: StoreFileRecord[] = records.map((r) => ({
      ...r,
      namespace: `${r.namespace}-new`,
      status: 'degraded',
      connected_at: '2026-05-30T00:00:00Z',
      last_health_at: '2026-05-31T00:00:00Z',
      last_health_status: 'degraded',
      error: { code: 'c', message: 'm' },
      metadata: { expires_at: '2027-01-01T00:00:00Z' },
      secret: r.secret === null ? null : keyring.encrypt(JSON.stringify({ token: 'new', username: 'n', pat: 'p' })),
    }));
    const error = await importStore(store().db, [changed[3]!, changed[1]!, changed[0]!], {
      keyring,
      onConflict: 'fail',
      now: later,
    }).catch((e: unknown) => e);
    expect(error).toEqual(new ImportConflictError(['docker_hub:org:org-acme', 'huggingface:org:org-acme']));
    expect(await rows()).toEqual(before);

    expect(await importStore(store().db, changed.slice(1, 4), { keyring, onConflict: 'skip', now: later })).toEqual({
      dryRun: false,
      inserted: 2,
      replaced: 0,
      skipped: 1,
      conflicts: ['docker_hub:org:org-acme'],
    });
    const afterSkip = await rows();
    expect(afterSkip).toHaveLength(4);
    expect(afterSkip.find((r) => r.kind === 'docker_hub')).toEqual(before.find((r) => r.kind === 'docker_hub'));

    expect(await importStore(store().db, changed.slice(0, 2), { keyring, onConflict: 'replace', now: later })).toEqual({
      dryRun: false,
      inserted: 0,
      replaced: 2,
      skipped: 0,
      conflicts: ['huggingface:org:org-acme', 'docker_hub:org:org-acme'],
    });
    const replaced = (await exportStore(store().db, { now: NOW })).integrations;
    expect(replaced.filter((r) => r.org_id === 'org-acme' && r.kind !== 'cloud_cloudflare')).toEqual(
      byKey(changed.slice(0, 2)),
    );
    for (const row of (await rows()).filter((r) => ['huggingface', 'docker_hub'].includes(r.kind))) {
      expect([row.expiresAt, row.updatedAt]).toEqual(['2027-01-01T00:00:00Z', '2026-06-01T00:00:00Z']);
    }
  });

  it('a dry run gives the same answer, writes nothing, and works on a database it cannot write', async () => {
    const records = sampleRecords();
    await importStore(store().db, records.slice(0, 3), { keyring, onConflict: 'fail', now: NOW });
    const before = await rows();
    const readOnly = await (
      store() as Store & { database: { openReadOnly(): Promise<Store> } }
    ).database.openReadOnly();
    try {
      for (const [onConflict, expected] of [
        ['replace', { inserted: 4, replaced: 3, skipped: 0 }],
        ['skip', { inserted: 4, replaced: 0, skipped: 3 }],
      ] as const) {
        expect(await importStore(readOnly.db, records, { keyring, onConflict, dryRun: true, now: NOW })).toEqual({
          dryRun: true,
          ...expected,
          conflicts: records.slice(0, 3).map((r) => r.credential_key),
        });
      }
      await expect(
        importStore(readOnly.db, records, { keyring, onConflict: 'fail', dryRun: true, now: NOW }),
      ).rejects.toBeInstanceOf(ImportConflictError);
    } finally {
      await readOnly.close();
    }
    expect(await rows()).toEqual(before);
  });

  it('in batches of 500 within one transaction, with progress every 1000 and at the end', async () => {
    const [, , , , aws] = sampleRecords();
    const records = Array.from({ length: 1001 }, (_, i) => ({
      ...aws!,
      org_id: `o${String(i).padStart(4, '0')}`,
      credential_key: `cloud_aws:org:o${String(i).padStart(4, '0')}`,
      namespace: `ns-${i}`,
    }));
    await importStore(store().db, records.slice(0, 500), { keyring, onConflict: 'fail', now: NOW });
    const progress: [number, number][] = [];
    const result = await importStore(store().db, records, {
      keyring,
      onConflict: 'replace',
      now: NOW,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(result).toMatchObject({ inserted: 501, replaced: 500 });
    expect(result.conflicts).toEqual(records.slice(0, 500).map((r) => r.credential_key));
    expect(progress).toEqual([
      [1000, 1001],
      [1001, 1001],
    ]);
    expect((await rows()).map((r) => [r.credentialKey, r.namespace])).toEqual(
      records.map((r) => [r.credential_key, r.namespace]),
    );
    // Skipping through the batch path as well: nothing new, nothing changed.
    const skipped = await importStore(
      store().db,
      records.slice(500).map((r) => ({ ...r, namespace: 'x' })),
      { keyring, onConflict: 'skip', now: NOW },
    );
    expect(skipped).toMatchObject({ inserted: 0, skipped: 501 });
    expect((await rows()).every((r) => r.namespace !== 'x')).toBe(true);
  });

  it('is all or nothing: a link written twice, or a secret that does not open, undoes the whole import', async () => {
    const records = sampleRecords();
    await importStore(store().db, [records[4]!], { keyring, onConflict: 'fail', now: NOW });
    const before = await rows();
    // Validation refuses a link twice; here it stands for one created by someone else meanwhile.
    await expect(
      importStore(store().db, [records[5]!, records[0]!, records[0]!], { keyring, onConflict: 'fail', now: NOW }),
    ).rejects.toThrow(
      new StoreFileError(
        'A link in the file was created by someone else during the import; nothing was imported. Run it again.',
      ),
    );
    const forged = { ...records[1]!, secret: sealSecret(Keyring.fromEnv(generateKey()), { username: 'u', pat: 'p' }) };
    const error = await importStore(store().db, [records[5]!, forged], { keyring, onConflict: 'fail', now: NOW }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidToken);
    expect(await rows()).toEqual(before);
  });
});

describe('hasLinkHistory', () => {
  it('is true once an audit event names a link or an import succeeded, and only then', async () => {
    for (const last of [
      { action: 'store.import', outcome: 'success' as const },
      { action: 'link.remove', outcome: 'failure' as const, credentialKey: 'huggingface:org:a' },
    ]) {
      const s = await testStore();
      try {
        const event = (fields: { action: string; outcome: 'success' | 'failure'; credentialKey?: string }) =>
          appendAudit(s.db, { runId: newRunId(), actor: 't', phase: 'event', ...fields }, STAMP);
        expect(await hasLinkHistory(s.db)).toBe(false);
        await event({ action: 'store.import', outcome: 'failure' });
        await event({ action: 'admin.login', outcome: 'success' });
        expect(await hasLinkHistory(s.db)).toBe(false);
        await event(last);
        expect(await hasLinkHistory(s.db)).toBe(true);
      } finally {
        await s.close();
      }
    }
  });
});
