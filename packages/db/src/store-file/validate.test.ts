import { describe, expect, it } from 'vitest';
import { CF, CHECKS, fileText, HF, KEY, keyring, sampleRecords } from '../../test/store-file-fixtures';
import { generateKey, Keyring } from '../crypto/fernet';
import { sealSecret } from '../secrets';
import { validateStoreFile } from './validate';

describe('validateStoreFile', () => {
  /** Problems of `text`, the same whether it is given as a string or as bytes (the fast path). */
  function problemsOf(text: string, ring = keyring) {
    const result = validateStoreFile(text, ring, CHECKS);
    expect(result.ok).toBe(false);
    expect(validateStoreFile(Buffer.from(text), ring, CHECKS)).toEqual(result);
    return result.problems;
  }

  it('accepts a well-formed file', () => {
    const result = validateStoreFile(fileText(sampleRecords()), keyring, CHECKS);
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
      const fromText = validateStoreFile(text.replace(/^\uFEFF/, ''), keyring, CHECKS);
      expect(fromText.problems).toEqual([]);
      expect(validateStoreFile(Buffer.from(text), keyring, CHECKS)).toEqual(fromText);
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
      const fromText = validateStoreFile(text, keyring, CHECKS);
      expect(validateStoreFile(Buffer.from(text), keyring, CHECKS), text.slice(-40)).toEqual(fromText);
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

  it('refuses what the import could not store: deep or huge metadata, control characters in names', () => {
    const [, , , , aws] = sampleRecords();
    // Too deep for JSON.stringify: spliced into the file as text.
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const bad = [
      { ...aws, metadata: 'DEEP' },
      { ...aws, metadata: { note: 'x'.repeat(257 * 1024) } },
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
