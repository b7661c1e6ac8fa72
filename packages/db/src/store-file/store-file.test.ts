import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreFileRecord } from '@alphaswarm/contracts';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CF, CHECKS, DH, fileText, HF, KEY, keyring, sampleRecords } from '../../test/store-file-fixtures';
import { testStore } from '../../test/stores';
import { generateKey, Keyring } from '../crypto/fernet';
import type { Store } from '../database';
import { appendAudit, newRunId } from '../repo/audit';
import { countLinks, pageLinks, toPublic } from '../repo/integrations';
import { openSecret, sealSecret } from '../secrets';
import {
  exportStore,
  exportStoreChunks,
  ImportConflictError,
  importStore,
  StoreFileError,
  UnreadableExportError,
  validateStoreFile,
  writeStoreFileAtomic,
} from '.';

const NOW = new Date('2026-05-27T20:00:00Z');

let dir: string;
const stores: Store[] = [];
async function store(): Promise<Store> {
  const s = await testStore();
  stores.push(s);
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-file-'));
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function seeded(s: Store, records = sampleRecords()): Promise<void> {
  await importStore(s.db, records, { keyring, onConflict: 'fail', now: NOW });
}

async function snapshot(s: Store) {
  return {
    links: await s.exec(sql`SELECT * FROM integrations ORDER BY credential_key`),
    audit: await s.exec(sql`SELECT count(*) AS n FROM audit_events`),
  };
}

/** Python's cryptography.fernet, the reference the file format promises compatibility with. */
function python(script: string, input: unknown): unknown {
  const out = execFileSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  return JSON.parse(out);
}

describe('export', () => {
  it('round-trips every field into a fresh database', async () => {
    const a = await store();
    await seeded(a);
    const path = join(dir, 'out', '..', 'export.json');
    await writeStoreFileAtomic(path, exportStoreChunks(a.db, { now: NOW }));

    const checked = validateStoreFile(readFileSync(path), keyring, CHECKS);
    expect(checked.problems).toEqual([]);
    expect(checked.exportedAt).toBe('2026-05-27T20:00:00Z');
    const b = await store();
    const result = await importStore(b.db, checked.records, { keyring, onConflict: 'fail', now: NOW });
    expect(result).toMatchObject({ inserted: 7, replaced: 0, skipped: 0, conflicts: [] });

    const rowsA = await pageLinks(a.db, null, 100);
    const rowsB = await pageLinks(b.db, null, 100);
    expect(rowsB.map(toPublic)).toEqual(rowsA.map(toPublic));
    expect(rowsB.map((r) => r.expiresAt)).toEqual(rowsA.map((r) => r.expiresAt));
    expect(rowsB.find((r) => r.kind === 'huggingface' && r.orgId === 'org-acme')?.expiresAt).toBe(
      '2026-09-01T00:00:00Z',
    );
    expect(rowsB.find((r) => r.kind === 'cloud_cloudflare')?.expiresAt).toBe('2026-08-01T00:00:00Z');
    for (const [i, row] of rowsB.entries()) {
      const before = rowsA[i]!.secret;
      expect(row.secret === null).toBe(before === null);
      if (before !== null) expect(openSecret(keyring, row.secret!)).toEqual(openSecret(keyring, before));
    }
    // The sample records themselves come back field for field.
    const original = [...sampleRecords()].sort((x, y) => (x.credential_key < y.credential_key ? -1 : 1));
    const exported = (await exportStore(b.db, { now: NOW })).integrations;
    expect(exported.map(({ secret: _s, ...rest }) => rest)).toEqual(original.map(({ secret: _s, ...rest }) => rest));
  });

  it('refuses secrets no configured key reads, naming the fingerprint, unless they are allowed', async () => {
    const s = await store();
    await seeded(s);
    const other = Keyring.fromEnv(generateKey());
    const path = join(dir, 'export.json');
    const attempt = writeStoreFileAtomic(path, exportStoreChunks(s.db, { now: NOW, secrets: { keyring: other } }));
    await expect(attempt).rejects.toThrow(UnreadableExportError);
    await expect(attempt).rejects.toThrow(
      `3 stored secrets cannot be decrypted with the configured key (fingerprint ${other.fingerprints()[0]}): ` +
        'cloud_cloudflare:org:org-acme, docker_hub:org:org-acme, huggingface:org:org-acme; nothing was exported.',
    );
    expect(readdirSync(dir).filter((f) => f.includes('export'))).toEqual([]);

    // The right key among several passes; with the flag, unreadable ones go out as they are.
    const both = Keyring.fromEnv(`${generateKey()},${KEY}`);
    await writeStoreFileAtomic(path, exportStoreChunks(s.db, { now: NOW, secrets: { keyring: both } }));
    expect(validateStoreFile(readFileSync(path), keyring, CHECKS).ok).toBe(true);
    const seen: string[] = [];
    await writeStoreFileAtomic(
      path,
      exportStoreChunks(s.db, {
        now: NOW,
        secrets: { keyring: other, allowUnreadable: true, onUnreadable: (k) => seen.push(k) },
      }),
    );
    expect(seen).toHaveLength(3);
    expect(validateStoreFile(readFileSync(path), keyring, CHECKS).ok).toBe(true);
  });

  it('writes atomically with mode 0600, replacing an older file and leaving no temp file', async () => {
    const s = await store();
    await seeded(s);
    const path = join(dir, 'integrations.json');
    writeFileSync(path, 'old content', { mode: 0o644 });
    chmodSync(path, 0o644);
    await writeStoreFileAtomic(path, exportStoreChunks(s.db, { now: NOW }));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['integrations.json']);
    expect(JSON.parse(readFileSync(path, 'utf8')).integrations).toHaveLength(7);
  });

  it('exports an empty store as a valid file', async () => {
    const s = await store();
    const path = join(dir, 'empty.json');
    await writeStoreFileAtomic(path, exportStoreChunks(s.db, { now: NOW }));
    const checked = validateStoreFile(readFileSync(path, 'utf8'), keyring, CHECKS);
    expect(checked).toMatchObject({ ok: true, records: [] });
  });

  it('pages through more links than one page', async () => {
    const s = await store();
    const records: StoreFileRecord[] = Array.from({ length: 2500 }, (_, i) => ({
      ...sampleRecords()[4]!,
      org_id: `org-${i}`,
      credential_key: `cloud_aws:org:org-${i}`,
    }));
    await seeded(s, records);
    const seen: number[] = [];
    const chunks: string[] = [];
    for await (const chunk of exportStoreChunks(s.db, { now: NOW, onProgress: (d) => seen.push(d) }))
      chunks.push(chunk);
    expect(seen).toEqual([1000, 2000, 2500]);
    expect(validateStoreFile(chunks.join(''), keyring, CHECKS).records).toHaveLength(2500);
  });

  it('refuses a missing directory, a parent that is a file, and a directory that refuses new files', async () => {
    const s = await store();
    const chunks = () => exportStoreChunks(s.db, { now: NOW });
    await expect(writeStoreFileAtomic(join(dir, 'nope', 'x.json'), chunks())).rejects.toThrow(
      /Cannot write into .*nope: the directory does not exist/,
    );
    writeFileSync(join(dir, 'plain'), '');
    await expect(writeStoreFileAtomic(join(dir, 'plain', 'x.json'), chunks())).rejects.toThrow(/it is not a directory/);
    await expect(writeStoreFileAtomic(join(dir, 'plain', 'sub', 'x.json'), chunks())).rejects.toThrow(
      /a parent of it is a file/,
    );
    // Root ignores directory permission bits, so use a directory the kernel itself refuses to
    // create files in (sysfs), and a 0555 directory when not root.
    await expect(writeStoreFileAtomic('/sys/alphaswarm-export.json', chunks())).rejects.toThrow(
      /Cannot write into \/sys: (permission denied|the file system is read-only)/,
    );
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      writeFileSync(join(dir, 'marker'), '');
      rmSync(join(dir, 'marker'));
      chmodSync(dir, 0o755);
      const { mkdirSync } = await import('node:fs');
      mkdirSync(ro, { mode: 0o555 });
      await expect(writeStoreFileAtomic(join(ro, 'x.json'), chunks())).rejects.toThrow(StoreFileError);
    }
  });
});

describe('importStore', () => {
  it('imports what passes validation, at the very limits too', async () => {
    const [, , , , aws] = sampleRecords();
    let deepest: unknown = 'ok';
    for (let i = 0; i < 31; i++) deepest = { a: deepest };
    const edge = { ...aws, metadata: { deepest, note: 'x'.repeat(200 * 1024) } };
    const checked = validateStoreFile(fileText([edge]), keyring, CHECKS);
    expect(checked.problems).toEqual([]);
    const s = await store();
    await expect(importStore(s.db, checked.records, { keyring, onConflict: 'fail', now: NOW })).resolves.toMatchObject({
      inserted: 1,
    });
  });

  it('fails on any existing link and changes nothing', async () => {
    const s = await store();
    const [hf, dh, ...rest] = sampleRecords();
    await seeded(s, [hf!]);
    await appendAudit(
      s.db,
      { runId: newRunId(), actor: 't', action: 'x', phase: 'event', outcome: 'success' },
      '2026-05-27T20:00:00Z',
    );
    const before = await snapshot(s);
    const error = await importStore(s.db, [dh!, hf!, ...rest], { keyring, onConflict: 'fail', now: NOW }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ImportConflictError);
    expect(error.conflicts).toEqual(['huggingface:org:org-acme']);
    expect(error.message).toMatch(
      /1 link in the file already exists \(huggingface:org:org-acme\); nothing was imported/,
    );
    expect(await snapshot(s)).toEqual(before);
  });

  it('skips or replaces existing links as asked', async () => {
    const s = await store();
    const records = sampleRecords();
    await seeded(s, records.slice(0, 2));
    const changed = records.map((r) => ({ ...r, namespace: `${r.namespace}-new` }));

    const skipped = await importStore(s.db, changed, { keyring, onConflict: 'skip', now: NOW });
    expect(skipped).toMatchObject({
      inserted: 5,
      skipped: 2,
      replaced: 0,
      conflicts: ['huggingface:org:org-acme', 'docker_hub:org:org-acme'],
    });
    let rows = await pageLinks(s.db, null, 100);
    expect(rows).toHaveLength(7);
    expect(rows.find((r) => r.credentialKey === 'huggingface:org:org-acme')?.namespace).toBe('acme-quant');

    const replaced = await importStore(
      s.db,
      changed.map((r) => ({ ...r, namespace: `${r.namespace}2` })),
      { keyring, onConflict: 'replace', now: NOW },
    );
    expect(replaced).toMatchObject({ inserted: 0, skipped: 0, replaced: 7 });
    rows = await pageLinks(s.db, null, 100);
    expect(rows.every((r) => r.namespace.endsWith('-new2'))).toBe(true);
  });

  it('dry run reports the same counts and writes nothing', async () => {
    const s = await store();
    const records = sampleRecords();
    await seeded(s, records.slice(0, 3));
    const before = await snapshot(s);
    const result = await importStore(s.db, records, { keyring, onConflict: 'replace', dryRun: true, now: NOW });
    expect(result).toMatchObject({ dryRun: true, inserted: 4, replaced: 3, skipped: 0 });
    expect(await snapshot(s)).toEqual(before);
    await expect(
      importStore(s.db, records, { keyring, onConflict: 'fail', dryRun: true, now: NOW }),
    ).rejects.toBeInstanceOf(ImportConflictError);
    expect(await snapshot(s)).toEqual(before);
  });

  it('re-encrypts secrets under the first key, keeping their timestamps', async () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const oldRing = Keyring.fromEnv(oldKey);
    const records = sampleRecords(oldRing);
    expect(validateStoreFile(fileText(records), Keyring.fromEnv(newKey), CHECKS).ok).toBe(false);
    const both = Keyring.fromEnv(`${newKey},${oldKey}`);
    const checked = validateStoreFile(fileText(records), both, CHECKS);
    expect(checked.problems).toEqual([]);
    const s = await store();
    await importStore(s.db, checked.records, { keyring: both, onConflict: 'fail', now: NOW });
    const newOnly = Keyring.fromEnv(newKey);
    const rows = await pageLinks(s.db, null, 100);
    const withSecret = rows.filter((r) => r.secret !== null);
    expect(withSecret).toHaveLength(3);
    for (const row of withSecret) {
      const original = records.find((r) => r.credential_key === row.credentialKey)!.secret!;
      expect(openSecret(newOnly, row.secret!)).toEqual(openSecret(oldRing, original));
      expect(newOnly.extractTimestamp(row.secret!)).toBe(oldRing.extractTimestamp(original));
      expect(() => oldRing.decrypt(row.secret!)).toThrow();
    }
  });

  it('stores secrets already under the first key as they are, and still refuses one that does not open', async () => {
    const records = sampleRecords();
    const checked = validateStoreFile(fileText(records), keyring, CHECKS);
    const s = await store();
    await importStore(s.db, checked.records, { keyring, onConflict: 'fail', now: NOW });
    const stored = new Map((await pageLinks(s.db, null, 100)).map((r) => [r.credentialKey, r.secret]));
    for (const r of records) expect(stored.get(r.credential_key)).toBe(r.secret);
    // Records that did not come through validation are opened by the import itself.
    const [hf] = sampleRecords();
    const token = hf!.secret!;
    const forged = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
    const bad = { ...hf!, credential_key: 'huggingface:org:org-forged', org_id: 'org-forged', secret: forged };
    await expect(importStore(s.db, [bad], { keyring, onConflict: 'fail', now: NOW })).rejects.toThrow(/signature/);
    expect(await countLinks(s.db)).toBe(records.length);
  });

  it('is all or nothing: a failure in a late batch undoes the earlier ones', async () => {
    const s = await store();
    await seeded(s, [sampleRecords()[4]!]);
    const before = await snapshot(s);
    const records: StoreFileRecord[] = Array.from({ length: 1200 }, (_, i) => ({
      ...sampleRecords()[0]!,
      org_id: `org-${i}`,
      credential_key: `huggingface:org:org-${i}`,
    }));
    // Validation would have refused this record; importStore still must not leave a partial write.
    records[1100] = { ...records[1100]!, secret: sealSecret(Keyring.fromEnv(generateKey()), HF) };
    await expect(importStore(s.db, records, { keyring, onConflict: 'replace', now: NOW })).rejects.toThrow(
      /invalid Fernet token/,
    );
    expect(await snapshot(s)).toEqual(before);
  });
});

describe('Python interoperability', () => {
  const WRITE = `
import json, sys
from cryptography.fernet import Fernet
req = json.load(sys.stdin)
f = Fernet(req["key"].encode())
recs = []
for r in req["records"]:
    s = r.pop("plain")
    r["secret"] = None if s is None else f.encrypt(json.dumps(s).encode()).decode()
    recs.append(r)
print(json.dumps({"format": "alphaswarm.integrations", "version": 1, "exported_at": "2026-05-27T20:00:00Z", "integrations": recs}, indent=2))
`;
  const READ = `
import json, sys
from cryptography.fernet import Fernet
req = json.load(sys.stdin)
f = Fernet(req["key"].encode())
doc = json.load(open(req["path"]))
print(json.dumps({r["credential_key"]: (None if r["secret"] is None else json.loads(f.decrypt(r["secret"].encode()))) for r in doc["integrations"]}))
`;

  it('imports a file written by Python and reads its secrets', async () => {
    const plain = [HF, DH, CF, null, null, null, null];
    const records = sampleRecords().map((r, i) => ({ ...r, secret: undefined, plain: plain[i] ?? null }));
    const text = execFileSync('python3', ['-c', WRITE], {
      input: JSON.stringify({ key: KEY, records }),
      encoding: 'utf8',
    });
    const checked = validateStoreFile(text, keyring, CHECKS);
    expect(checked.problems).toEqual([]);
    const s = await store();
    await importStore(s.db, checked.records, { keyring, onConflict: 'fail', now: NOW });
    const rows = await pageLinks(s.db, null, 100);
    const secrets = Object.fromEntries(rows.map((r) => [r.credentialKey, r.secret && openSecret(keyring, r.secret)]));
    expect(secrets['huggingface:org:org-acme']).toEqual(HF);
    expect(secrets['docker_hub:org:org-acme']).toEqual(DH);
    expect(secrets['cloud_cloudflare:org:org-acme']).toEqual(CF);
    expect(secrets['cloud_aws:org:org-acme']).toBeNull();
  });

  it('writes a file Python decrypts with the key', async () => {
    const s = await store();
    await seeded(s);
    const path = join(dir, 'for-python.json');
    await writeStoreFileAtomic(path, exportStoreChunks(s.db, { now: NOW }));
    const secrets = python(READ, { key: KEY, path }) as Record<string, unknown>;
    expect(secrets).toMatchObject({
      'huggingface:org:org-acme': HF,
      'docker_hub:org:org-acme': DH,
      'cloud_cloudflare:org:org-acme': CF,
      'cloud_gcp:org:9lives': null,
    });
  });
});
