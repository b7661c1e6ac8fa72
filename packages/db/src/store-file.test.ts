import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreFileRecord } from '@alphaswarm/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKey, Keyring } from './crypto/fernet';
import { appendAudit, newRunId } from './repo/audit';
import { pageLinks, toPublic } from './repo/integrations';
import { openSecret, sealSecret } from './secrets';
import { openStore, type Store } from './sqlite';
import {
  exportStore,
  exportStoreChunks,
  ImportConflictError,
  importStore,
  StoreFileError,
  UnreadableExportError,
  validateStoreFile,
  writeStoreFileAtomic,
} from './store-file';

const NOW = new Date('2026-05-27T20:00:00Z');
const KEY = generateKey();
const keyring = Keyring.fromEnv(KEY);

let dir: string;
const stores: Store[] = [];
function store(name = 'admin.db'): Store {
  const s = openStore(join(dir, name));
  stores.push(s);
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-file-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const HF = { token: 'hf_SECRETSECRETSECRETSECRET' };
const DH = { username: 'acme-bot', pat: 'dckr_pat_SECRETSECRET' };
const CF = { api_token: 'cf-SECRETSECRETSECRET', token_id: 'tok-1' };

/** One link of every kind, with every optional field exercised somewhere. */
function sampleRecords(ring = keyring): StoreFileRecord[] {
  const base = {
    status: 'healthy' as const,
    connected_at: '2026-05-01T10:00:00Z',
    last_health_at: null,
    last_health_status: null,
    error: null,
  };
  return [
    {
      ...base,
      credential_key: 'huggingface:org:org-acme',
      org_id: 'org-acme',
      kind: 'huggingface',
      namespace: 'acme-quant',
      last_health_at: '2026-05-02T10:00:00Z',
      last_health_status: 'healthy',
      metadata: {
        type: 'org',
        auth_email: 'ops@example.com',
        orgs: ['acme-quant'],
        expires_at: '2026-09-01T00:00:00Z',
      },
      secret: sealSecret(ring, HF),
    },
    {
      ...base,
      credential_key: 'docker_hub:org:org-acme',
      org_id: 'org-acme',
      kind: 'docker_hub',
      namespace: 'acme',
      status: 'degraded',
      last_health_at: '2026-05-02T10:00:00Z',
      last_health_status: 'degraded',
      error: { code: 'expiring_soon', message: 'The Docker Hub PAT expires in 3 days.' },
      metadata: { username: 'acme-bot', namespace_type: 'org', nested: { a: [1, 2, { b: null }] } },
      secret: sealSecret(ring, DH),
    },
    {
      ...base,
      credential_key: 'cloud_cloudflare:org:org-acme',
      org_id: 'org-acme',
      kind: 'cloud_cloudflare',
      namespace: 'acc-123',
      metadata: { account_id: 'acc-123', expires_on: '2026-08-01T00:00:00Z' },
      secret: sealSecret(ring, CF),
    },
    {
      ...base,
      credential_key: 'huggingface:org:org.beta_2',
      org_id: 'org.beta_2',
      kind: 'huggingface',
      namespace: 'beta',
      status: 'needs_reconnect',
      error: { code: 'secret_unreadable', message: 'Reconnect this integration.' },
      metadata: {},
      secret: null,
    },
    {
      ...base,
      credential_key: 'cloud_aws:org:org-acme',
      org_id: 'org-acme',
      kind: 'cloud_aws',
      namespace: '123456789012',
      metadata: { role_arn: 'arn:aws:iam::123456789012:role/alphaswarm' },
      secret: null,
    },
    {
      ...base,
      credential_key: 'cloud_azure:org:org-acme',
      org_id: 'org-acme',
      kind: 'cloud_azure',
      namespace: 'tenant-1',
      metadata: { tenant_id: 't', client_id: 'c', subscriptions: ['s1'] },
      secret: null,
    },
    {
      ...base,
      credential_key: 'cloud_gcp:org:9lives',
      org_id: '9lives',
      kind: 'cloud_gcp',
      namespace: 'proj-1',
      metadata: { projects: ['proj-1'] },
      secret: null,
    },
  ];
}

function fileText(records: unknown[], header: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      format: 'alphaswarm.integrations',
      version: 1,
      exported_at: '2026-05-27T20:00:00Z',
      integrations: records,
      ...header,
    },
    null,
    2,
  );
}

async function seeded(s: Store, records = sampleRecords()): Promise<void> {
  await importStore(s.db, records, { keyring, onConflict: 'fail', now: NOW });
}

function snapshot(s: Store) {
  return {
    links: s.sqlite.prepare('SELECT * FROM integrations ORDER BY credential_key').all(),
    audit: s.sqlite.prepare('SELECT count(*) AS n FROM audit_events').get(),
  };
}

/** Python's cryptography.fernet, the reference the file format promises compatibility with. */
function python(script: string, input: unknown): unknown {
  const out = execFileSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  return JSON.parse(out);
}

describe('export', () => {
  it('round-trips every field into a fresh database', async () => {
    const a = store('a.db');
    await seeded(a);
    const path = join(dir, 'out', '..', 'export.json');
    await writeStoreFileAtomic(path, exportStoreChunks(a.db, { now: NOW }));

    const checked = validateStoreFile(readFileSync(path), keyring);
    expect(checked.problems).toEqual([]);
    expect(checked.exportedAt).toBe('2026-05-27T20:00:00Z');
    const b = store('b.db');
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
    const s = store();
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
    expect(validateStoreFile(readFileSync(path), keyring).ok).toBe(true);
    const seen: string[] = [];
    await writeStoreFileAtomic(
      path,
      exportStoreChunks(s.db, {
        now: NOW,
        secrets: { keyring: other, allowUnreadable: true, onUnreadable: (k) => seen.push(k) },
      }),
    );
    expect(seen).toHaveLength(3);
    expect(validateStoreFile(readFileSync(path), keyring).ok).toBe(true);
  });

  it('writes atomically with mode 0600, replacing an older file and leaving no temp file', async () => {
    const s = store();
    await seeded(s);
    const path = join(dir, 'integrations.json');
    writeFileSync(path, 'old content', { mode: 0o644 });
    chmodSync(path, 0o644);
    await writeStoreFileAtomic(path, exportStoreChunks(s.db, { now: NOW }));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['admin.db', 'admin.db-shm', 'admin.db-wal', 'integrations.json'].sort());
    expect(JSON.parse(readFileSync(path, 'utf8')).integrations).toHaveLength(7);
  });

  it('exports an empty store as a valid file', async () => {
    const s = store();
    const path = join(dir, 'empty.json');
    await writeStoreFileAtomic(path, exportStoreChunks(s.db, { now: NOW }));
    const checked = validateStoreFile(readFileSync(path, 'utf8'), keyring);
    expect(checked).toMatchObject({ ok: true, records: [] });
  });

  it('pages through more links than one page', async () => {
    const s = store();
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
    expect(validateStoreFile(chunks.join(''), keyring).records).toHaveLength(2500);
  });

  it('refuses a missing directory, a parent that is a file, and a directory that refuses new files', async () => {
    const s = store();
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

describe('validateStoreFile', () => {
  /** Problems of `text`, the same whether it is given as a string or as bytes (the fast path). */
  function problemsOf(text: string, ring = keyring) {
    const result = validateStoreFile(text, ring);
    expect(result.ok).toBe(false);
    expect(validateStoreFile(Buffer.from(text), ring)).toEqual(result);
    return result.problems;
  }

  it('accepts a well-formed file', () => {
    const result = validateStoreFile(fileText(sampleRecords()), keyring);
    expect(result.problems).toEqual([]);
    expect(result.records).toHaveLength(7);
  });

  it('reads bytes record by record, exactly as the text', () => {
    const records = sampleRecords();
    const tricky = {
      ...records[1]!,
      namespace: 'quote " bracket ] brace } comma , colon : backslash \\ ünïcödé ✓',
      metadata: { nested: [[1, [2]], { '"integrations"': [], 'a,b': '}]' }], empty: [], obj: {} },
    };
    const variants = [
      fileText([records[0], tricky, ...records.slice(2)]),
      `\uFEFF${fileText(records)}`,
      JSON.stringify({
        others: [1, [2, 3], { integrations: [] }],
        integrations: records,
        exported_at: '2026-05-27T20:00:00Z',
        version: 1,
        format: 'alphaswarm.integrations',
      }),
      fileText(records).replace('"integrations"', '"integr\\u0061tions"'),
      fileText([]),
    ];
    for (const text of variants) {
      const fromText = validateStoreFile(text.replace(/^\uFEFF/, ''), keyring);
      expect(fromText.problems).toEqual([]);
      expect(validateStoreFile(Buffer.from(text), keyring)).toEqual(fromText);
    }
  });

  it('reads irregular bytes the same way as the text', () => {
    const ok = fileText(sampleRecords().slice(4, 6));
    const variants = [
      ok.replace(/}\n {2}\]/, '},\n  ]'), // trailing comma
      ok.replace('"integrations": [', '"integrations": [,'),
      ok.replace('"integrations": [', '"integrations": [] , "integrations": ['), // twice: the last wins
      `${ok} x`,
      `${ok}{}`,
      ok.replace('"cloud_aws"', 'cloud_aws'),
      ok.replace(/}\n {2}\]/, '} 7\n  ]'),
      ok.slice(0, -20),
      '[]',
      '"integrations"',
    ];
    for (const text of variants) {
      const fromText = validateStoreFile(text, keyring);
      expect(validateStoreFile(Buffer.from(text), keyring), text.slice(-40)).toEqual(fromText);
    }
  });

  it('reports malformed JSON with its line and column, without quoting the text', () => {
    const text = fileText(sampleRecords()).replace('"namespace": "acme"', '"namespace": acme');
    const [problem] = problemsOf(text);
    expect(problem?.message).toMatch(
      /^malformed JSON at line \d+, column \d+ \(position \d+\)|^malformed JSON: Unexpected token/,
    );
    const bad = '{"format": "alphaswarm.integrations", "x": 1,}';
    expect(problemsOf(bad)[0]?.message).toBe(
      'malformed JSON at line 1, column 46 (position 45): Expected double-quoted property name',
    );
    const leaky = `{"integrations": [{"secret": "gAAAAAleak"} x]}`;
    expect(JSON.stringify(problemsOf(leaky))).not.toContain('leak');
  });

  it('reports a truncated file', () => {
    const text = fileText(sampleRecords());
    for (const cut of [text.length - 3, Math.floor(text.length / 2), 10]) {
      const [problem] = problemsOf(text.slice(0, cut));
      expect(problem?.message).toMatch(/the file is truncated/);
      expect(problem?.message).not.toContain('gAAAA');
    }
    expect(problemsOf('')[0]?.message).toMatch(/empty/);
  });

  it('refuses another format or version before looking at records', () => {
    expect(problemsOf(fileText([], { format: 'something.else' }))).toEqual([
      {
        index: null,
        field: 'format',
        message: expect.stringMatching(/format is "something.else", expected "alphaswarm.integrations"/),
      },
    ]);
    expect(problemsOf(fileText([], { version: 2 }))).toEqual([
      { index: null, field: 'version', message: 'version 2 is not supported: this build reads version 1' },
    ]);
    expect(problemsOf('[1, 2]')[0]?.message).toBe('the file holds an array instead of a store file object');
    expect(problemsOf('null')[0]?.message).toBe('the file holds null instead of a store file object');
    expect(problemsOf(fileText([], { integrations: {} }))[0]?.field).toBe('integrations');
  });

  it('reports each bad record field', () => {
    const [hf, dh, , , aws] = sampleRecords();
    const problems = problemsOf(
      fileText([
        { ...aws, kind: 'gitlab', credential_key: 'gitlab:org:org-acme' },
        { ...aws, org_id: '-bad org', credential_key: 'cloud_aws:org:-bad org' },
        { ...hf, connected_at: '2026-05-01 10:00' },
        { ...dh, last_health_at: '2026-05-01T10:00:00+02:00' },
        { ...aws, org_id: 'org-x' },
        { ...aws, status: 'fine' },
        { ...aws, namespace: undefined },
        'not a record',
      ]),
    );
    const by = (i: number) => problems.filter((p) => p.index === i).map((p) => `${p.field}: ${p.message}`);
    expect(by(0)).toEqual([
      expect.stringMatching(/^kind: unknown kind "gitlab": expected one of huggingface, docker_hub/),
    ]);
    expect(by(1)).toEqual([
      expect.stringMatching(/^org_id: invalid org_id "-bad org": org_id must be 1-64 characters/),
    ]);
    expect(by(2)).toEqual([
      'connected_at: connected_at must be an RFC 3339 UTC timestamp ending in Z, got "2026-05-01 10:00"',
    ]);
    expect(by(3)[0]).toMatch(/^last_health_at: last_health_at must be an RFC 3339 UTC timestamp/);
    expect(by(4)).toEqual([
      'credential_key: credential_key "cloud_aws:org:org-acme" does not match kind and org_id (expected "cloud_aws:org:org-x")',
    ]);
    expect(by(5)[0]).toMatch(/^status: status:/);
    expect(by(6)).toEqual(['namespace: namespace is missing']);
    expect(by(7)).toEqual([': a record must be a JSON object']);
  });

  it('refuses what the import could not store: deep or huge metadata, control characters in names', async () => {
    const [, , , , aws] = sampleRecords();
    // Too deep for JSON.stringify: spliced into the file as text.
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    let deepest: unknown = 'ok';
    for (let i = 0; i < 31; i++) deepest = { a: deepest };
    const bad = [
      { ...aws, metadata: 'DEEP' },
      { ...aws, metadata: { note: 'x'.repeat(5 * 1024 * 1024) } },
      { ...aws, namespace: 'acme\u0000' },
      { ...aws, namespace: 'acme\r\nInjected: yes' },
      { ...aws, metadata: { 'role\narn': 'x' } },
      { ...aws, metadata: { list: ['fine', 'bell\u0007'] } },
    ].map((r, i) => ({ ...r, org_id: `org-${i}`, credential_key: `cloud_aws:org:org-${i}` }));
    const by = (problems: { index: number | null; field: string; message: string }[], i: number) =>
      problems.filter((p) => p.index === i).map((p) => `${p.field}: ${p.message}`);
    const problems = problemsOf(fileText(bad).replace('"DEEP"', deep));
    expect(by(problems, 0)).toEqual(['metadata: metadata is nested deeper than 32 levels']);
    expect(by(problems, 1)).toEqual(['metadata: metadata is larger than 256 KiB']);
    expect(by(problems, 2)).toEqual(['namespace: must not contain control characters or invalid Unicode']);
    expect(by(problems, 3)).toEqual(['namespace: must not contain control characters or invalid Unicode']);
    expect(by(problems, 4)).toEqual([
      'metadata: a key in metadata must not contain control characters (NUL, CR, LF, …)',
    ]);
    expect(by(problems, 5)).toEqual(['metadata: metadata.list.1 must not contain control characters (NUL, CR, LF, …)']);

    // What passes validation imports, at the very limits too.
    const edge = { ...aws, metadata: { deepest, note: 'x'.repeat(200 * 1024) } };
    const checked = validateStoreFile(fileText([edge]), keyring);
    expect(checked.problems).toEqual([]);
    const s = store();
    await expect(importStore(s.db, checked.records, { keyring, onConflict: 'fail', now: NOW })).resolves.toMatchObject({
      inserted: 1,
    });
  });

  it('reports duplicate links', () => {
    const [hf] = sampleRecords();
    const problems = problemsOf(fileText([hf, { ...hf, namespace: 'other' }]));
    expect(problems).toEqual([
      {
        index: 1,
        credential_key: 'huggingface:org:org-acme',
        field: 'credential_key',
        message: 'duplicate link: integrations[0] already has huggingface:org:org-acme (one link per org and kind)',
      },
    ]);
  });

  it('checks which kinds carry a secret', () => {
    const [hf, , , , aws] = sampleRecords();
    const problems = problemsOf(
      fileText([
        { ...aws, secret: sealSecret(keyring, HF) },
        { ...hf, secret: null },
        { ...hf, org_id: 'gone', credential_key: 'huggingface:org:gone', secret: null, status: 'needs_reconnect' },
      ]),
    );
    expect(problems.map((p) => [p.index, p.message])).toEqual([
      [0, 'cloud_aws is federated and stores no secret, but the record carries one'],
      [1, 'a huggingface link needs a secret unless its status is needs_reconnect'],
    ]);
  });

  it('names every record whose secret does not decrypt, and the key variable, never the secret', () => {
    const other = Keyring.fromEnv(generateKey());
    const records = sampleRecords();
    records[0] = { ...records[0]!, secret: sealSecret(other, HF) };
    records[2] = { ...records[2]!, secret: sealSecret(other, CF) };
    const problems = problemsOf(fileText(records));
    expect(problems.filter((p) => p.index !== null).map((p) => p.credential_key)).toEqual([
      'huggingface:org:org-acme',
      'cloud_cloudflare:org:org-acme',
    ]);
    const summary = problems.find((p) => p.index === null)!;
    expect(summary.message).toMatch(/^2 secrets cannot be decrypted with the configured key\(s\) \(fp_[0-9a-f]{12}\)/);
    expect(summary.message).toContain(
      'integrations[0] huggingface:org:org-acme, integrations[2] cloud_cloudflare:org:org-acme',
    );
    expect(summary.message).toContain('ALPHASWARM_ADMIN_INTEGRATIONS_KEY');
    const all = JSON.stringify(problems);
    for (const secret of [records[0]!.secret!, HF.token, CF.api_token, KEY]) expect(all).not.toContain(secret);
  });

  it('checks the decrypted secret against its kind without echoing it', () => {
    const records = sampleRecords();
    records[0] = { ...records[0]!, secret: sealSecret(keyring, { pat: 'hf_LEAKME' }) };
    records[1] = { ...records[1]!, secret: keyring.encrypt('not json LEAKME') };
    records[2] = { ...records[2]!, secret: 'gAAAAA-not-a-token' };
    const problems = problemsOf(fileText(records));
    expect(problems.map((p) => [p.index, p.message])).toEqual([
      [0, 'secret decrypts, but not to a huggingface secret: check token (expected {token})'],
      [1, 'secret decrypts, but not to JSON'],
      [2, 'secret is not a well-formed Fernet token'],
    ]);
    expect(JSON.stringify(problems)).not.toContain('LEAKME');
  });
});

describe('importStore', () => {
  it('fails on any existing link and changes nothing', async () => {
    const s = store();
    const [hf, dh, ...rest] = sampleRecords();
    await seeded(s, [hf!]);
    await appendAudit(
      s.db,
      { runId: newRunId(), actor: 't', action: 'x', phase: 'event', outcome: 'success' },
      '2026-05-27T20:00:00Z',
    );
    const before = snapshot(s);
    const error = await importStore(s.db, [dh!, hf!, ...rest], { keyring, onConflict: 'fail', now: NOW }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ImportConflictError);
    expect(error.conflicts).toEqual(['huggingface:org:org-acme']);
    expect(error.message).toMatch(
      /1 link in the file already exists \(huggingface:org:org-acme\); nothing was imported/,
    );
    expect(snapshot(s)).toEqual(before);
  });

  it('skips or replaces existing links as asked', async () => {
    const s = store();
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
    const s = store();
    const records = sampleRecords();
    await seeded(s, records.slice(0, 3));
    const before = snapshot(s);
    const result = await importStore(s.db, records, { keyring, onConflict: 'replace', dryRun: true, now: NOW });
    expect(result).toMatchObject({ dryRun: true, inserted: 4, replaced: 3, skipped: 0 });
    expect(snapshot(s)).toEqual(before);
    await expect(
      importStore(s.db, records, { keyring, onConflict: 'fail', dryRun: true, now: NOW }),
    ).rejects.toBeInstanceOf(ImportConflictError);
    expect(snapshot(s)).toEqual(before);
  });

  it('re-encrypts secrets under the first key, keeping their timestamps', async () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const oldRing = Keyring.fromEnv(oldKey);
    const records = sampleRecords(oldRing);
    expect(validateStoreFile(fileText(records), Keyring.fromEnv(newKey)).ok).toBe(false);
    const both = Keyring.fromEnv(`${newKey},${oldKey}`);
    const checked = validateStoreFile(fileText(records), both);
    expect(checked.problems).toEqual([]);
    const s = store();
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

  it('is all or nothing: a failure in a late batch undoes the earlier ones', async () => {
    const s = store();
    await seeded(s, [sampleRecords()[4]!]);
    const before = snapshot(s);
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
    expect(snapshot(s)).toEqual(before);
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
    const checked = validateStoreFile(text, keyring);
    expect(checked.problems).toEqual([]);
    const s = store();
    await importStore(s.db, checked.records, { keyring, onConflict: 'fail', now: NOW });
    const rows = await pageLinks(s.db, null, 100);
    const secrets = Object.fromEntries(rows.map((r) => [r.credentialKey, r.secret && openSecret(keyring, r.secret)]));
    expect(secrets['huggingface:org:org-acme']).toEqual(HF);
    expect(secrets['docker_hub:org:org-acme']).toEqual(DH);
    expect(secrets['cloud_cloudflare:org:org-acme']).toEqual(CF);
    expect(secrets['cloud_aws:org:org-acme']).toBeNull();
  });

  it('writes a file Python decrypts with the key', async () => {
    const s = store();
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
