import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CF, CHECKS, DH, fileText, HF, KEY, keyring, sampleRecords } from '../../test/store-file-fixtures';
import { generateKey, InvalidToken, Keyring } from '../crypto/fernet';
import { sealSecret } from '../secrets';
import { verifiedUnderPrimary } from './common';
import { formatStoreFileProblem, validateStoreFile } from './validate';

describe('validateStoreFile', () => {
  /** Problems of `text`, the same whether it is given as a string or as bytes (the fast path). */
  function problemsOf(text: string, ring = keyring) {
    const result = validateStoreFile(text, ring, CHECKS);
    expect(result.ok).toBe(false);
    expect(validateStoreFile(Buffer.from(text), ring, CHECKS)).toEqual(result);
    return result.problems;
  }

  /** The result for a file refused as a whole: one problem, no record, no export time. */
  function refusedFile(field: string, message: string) {
    return { ok: false, records: [], problems: [{ index: null, field, message }], exportedAt: null };
  }

  it('accepts a well-formed file', () => {
    const records = sampleRecords();
    expect(validateStoreFile(fileText(records), keyring, CHECKS)).toEqual({
      ok: true,
      records,
      problems: [],
      exportedAt: '2026-05-27T20:00:00Z',
    });
  });

  it('reads bytes one record at a time: the whole file never becomes one string', () => {
    const bytes = Buffer.from(fileText(sampleRecords()));
    const wholeToString = bytes.toString;
    bytes.toString = function (this: Buffer, encoding?: BufferEncoding, start = 0, end = this.length) {
      if (start === 0 && end >= this.length) throw new Error('the whole file was made one string');
      return wholeToString.call(this, encoding, start, end);
    };
    const result = validateStoreFile(bytes, keyring, CHECKS);
    expect(result.problems).toEqual([]);
    expect(result.records).toHaveLength(7);
  });

  it('drops a byte-order mark where the file starts, and only there', () => {
    const records = sampleRecords();
    const withBom = validateStoreFile(`\uFEFF${fileText(records)}`, keyring, CHECKS);
    expect(withBom.problems).toEqual([]);
    expect(withBom.records).toHaveLength(7);
    records[0] = { ...records[0]!, namespace: 'acme\uFEFFquant' };
    const inside = validateStoreFile(fileText(records), keyring, CHECKS);
    expect(inside.records[0]?.namespace).toBe('acme\uFEFFquant');
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
    for (const empty of ['', ' \n\t ', '\uFEFF']) {
      expect(validateStoreFile(empty, keyring, CHECKS)).toEqual(
        refusedFile('', 'the file is empty (truncated?): expected a JSON store file'),
      );
    }
    expect(validateStoreFile('{"format": "alphaswarm.integrations",', keyring, CHECKS)).toEqual(
      refusedFile('', 'the file is truncated: its JSON ends at byte 37 before the document is complete'),
    );
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
    const holds = (text: string) => validateStoreFile(Buffer.from(text), keyring, CHECKS);
    expect(holds('[1, 2]')).toEqual(refusedFile('', 'the file holds an array instead of a store file object'));
    expect(holds('null')).toEqual(refusedFile('', 'the file holds null instead of a store file object'));
    expect(holds('42')).toEqual(refusedFile('', 'the file holds a number instead of a store file object'));
    expect(holds('"integrations"')).toEqual(refusedFile('', 'the file holds a string instead of a store file object'));
    expect(holds('true')).toEqual(refusedFile('', 'the file holds a boolean instead of a store file object'));
    expect(validateStoreFile(fileText([], { integrations: {} }), keyring, CHECKS)).toEqual(
      refusedFile('integrations', 'integrations must be an array of records'),
    );
  });

  it('checks exported_at, and still every record', () => {
    const [hf, , , , aws] = sampleRecords();
    const result = validateStoreFile(
      fileText([aws, { ...hf, secret: null }], { exported_at: '2026-05-27 20:00' }),
      keyring,
      CHECKS,
    );
    expect(result).toEqual({
      ok: false,
      records: [aws],
      problems: [
        { index: null, field: 'exported_at', message: 'exported_at must be an RFC 3339 UTC timestamp ending in Z' },
        {
          index: 1,
          credential_key: hf!.credential_key,
          field: 'secret',
          message: 'a huggingface link needs a secret unless its status is needs_reconnect',
        },
      ],
      exportedAt: null,
    });
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
        null,
        [aws],
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
    for (const i of [7, 8, 9]) expect(by(i)).toEqual([': a record must be a JSON object']);
  });

  it('names a bad field by its path, and quotes back only what is not a secret and is a string', () => {
    const [, , , , aws] = sampleRecords();
    const tweaks: Record<string, unknown>[] = [
      { error: { code: 5, message: 'x' } },
      { error: { message: 'x' } },
      { kind: 5 },
      { org_id: 5 },
      { connected_at: 5 },
      { secret: 5 },
      { secret: 'gAAAAA with a space' },
      { secret: `gAAAAA${'A'.repeat(65536)}` },
    ];
    const records = tweaks.map((tweak, i) => ({
      ...aws,
      org_id: `org-${i}`,
      credential_key: `cloud_aws:org:org-${i}`,
      ...tweak,
    }));
    expect(problemsOf(fileText(records)).map((p) => [p.index, p.field, p.message])).toEqual([
      [0, 'error.code', 'error.code: Invalid input: expected string, received number'],
      [1, 'error.code', 'error.code: Invalid input: expected string, received undefined'],
      [2, 'kind', expect.stringMatching(/^kind: Invalid option: expected one of "huggingface"/)],
      [3, 'org_id', 'org_id: Invalid input: expected string, received number'],
      [4, 'connected_at', 'connected_at must be an RFC 3339 UTC timestamp ending in Z'],
      [5, 'secret', 'secret must be a Fernet token string or null'],
      [6, 'secret', 'secret must be a Fernet token string or null'],
      [7, 'secret', 'secret is too long for a Fernet token of a credential'],
    ]);
  });

  it('ties each record problem to the record’s credential_key, cut to 128 characters, when it is a string', () => {
    const [, , , , aws] = sampleRecords();
    const long = `cloud_aws:org:${'x'.repeat(300)}`;
    const problems = problemsOf(
      fileText([
        { ...aws, status: 'fine' },
        { ...aws, org_id: 'org-b', credential_key: long },
        { ...aws, org_id: 'org-c', credential_key: 7 },
      ]),
    );
    expect(problems.map((p) => [p.index, p.credential_key])).toEqual([
      [0, 'cloud_aws:org:org-acme'],
      [1, long.slice(0, 128)],
      [2, undefined],
    ]);
    expect(problems[2]).not.toHaveProperty('credential_key');
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
    expect(problems.map((p) => [p.index, p.field, p.message])).toEqual([
      [0, 'secret', 'cloud_aws is federated and stores no secret, but the record carries one'],
      [1, 'secret', 'a huggingface link needs a secret unless its status is needs_reconnect'],
    ]);
  });

  it('returns only the records without a problem', () => {
    const records = sampleRecords();
    records[0] = { ...records[0]!, secret: keyring.encrypt('not json') };
    records[4] = { ...records[4]!, secret: sealSecret(keyring, HF) };
    const result = validateStoreFile(fileText(records), keyring, CHECKS);
    expect(result.ok).toBe(false);
    expect(result.records.map((r) => r.credential_key)).toEqual([1, 2, 3, 5, 6].map((i) => records[i]!.credential_key));
  });

  it('reports progress every 1000 records and at the end', () => {
    const [, , , , aws] = sampleRecords();
    const records = Array.from({ length: 2001 }, (_, i) => ({
      ...aws,
      org_id: `o${i}`,
      credential_key: `cloud_aws:org:o${i}`,
    }));
    const calls: [number, number][] = [];
    const result = validateStoreFile(fileText(records), keyring, {
      ...CHECKS,
      onProgress: (done, total) => calls.push([done, total]),
    });
    expect(result.ok).toBe(true);
    expect(calls).toEqual([
      [1000, 2001],
      [2000, 2001],
      [2001, 2001],
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

  it('says how to fix an unreadable secret, in the record and once for the file', () => {
    const records = sampleRecords();
    records[0] = { ...records[0]!, secret: sealSecret(Keyring.fromEnv(generateKey()), HF) };
    const ring = Keyring.fromEnv(`${generateKey()},${KEY}`);
    const problems = problemsOf(fileText(records), ring);
    expect(problems).toEqual([
      {
        index: null,
        field: 'secret',
        message:
          `1 secret cannot be decrypted with the configured key(s) (${ring.fingerprints().join(', ')}): ` +
          'integrations[0] huggingface:org:org-acme. The file was probably exported under another key: set ' +
          'ALPHASWARM_ADMIN_INTEGRATIONS_KEY to that key (or add it to the comma-separated list) and try again.',
      },
      {
        index: 0,
        credential_key: 'huggingface:org:org-acme',
        field: 'secret',
        message: `secret cannot be decrypted with the configured key(s) (${new InvalidToken('signature').message}); is ALPHASWARM_ADMIN_INTEGRATIONS_KEY the key the file was exported with?`,
      },
    ]);
    expect(ring.fingerprints()).toHaveLength(2);
  });

  it('remembers the secrets the first key reads as written, so an import keeps them without opening them again', () => {
    const ring = Keyring.fromEnv(`${generateKey()},${KEY}`);
    const records = sampleRecords(ring);
    records[1] = { ...records[1]!, secret: sealSecret(keyring, DH) };
    let token = sealSecret(ring, CF);
    while (!/[-_]/.test(token)) token = sealSecret(ring, CF);
    // The same token in the other base64 alphabet: it reads, but is not stored in that spelling.
    records[2] = { ...records[2]!, secret: token.replace(/-/g, '+').replace(/_/g, '/') };
    const result = validateStoreFile(fileText(records), ring, CHECKS);
    expect(result.problems).toEqual([]);
    expect(result.records.map((r) => verifiedUnderPrimary.get(r))).toEqual([
      { keyring: ring, token: records[0]!.secret },
      undefined,
      undefined,
      ...records.slice(3).map(() => undefined),
    ]);
  });

  it('wipes each decrypted secret once it is checked', () => {
    const ring = Keyring.fromEnv(KEY);
    const opened: Buffer[] = [];
    const decryptNoting = ring.decryptNoting.bind(ring);
    ring.decryptNoting = (token, opts) => {
      const result = decryptNoting(token, opts);
      opened.push(result.plaintext);
      return result;
    };
    const records = sampleRecords();
    records[0] = { ...records[0]!, secret: keyring.encrypt('not json') };
    records[1] = { ...records[1]!, secret: sealSecret(keyring, { pat: 'x' }) };
    validateStoreFile(fileText(records), ring, CHECKS);
    expect(opened).toHaveLength(3);
    for (const plaintext of opened) expect(plaintext.every((byte) => byte === 0)).toBe(true);
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

  it('names every field the decrypted secret gets wrong, by its path', () => {
    const records = sampleRecords();
    records[0] = { ...records[0]!, secret: sealSecret(keyring, 'hf_LEAKME') };
    records[1] = { ...records[1]!, secret: sealSecret(keyring, {}) };
    expect(problemsOf(fileText(records)).map((p) => [p.index, p.message])).toEqual([
      [0, 'secret decrypts, but not to a huggingface secret: check (root) (expected {token})'],
      [1, 'secret decrypts, but not to a docker_hub secret: check username, pat (expected {username, pat})'],
    ]);
    const schemas = {
      ...CHECKS.secretSchemas,
      huggingface: z.object({ token: z.object({ value: z.string() }) }),
      docker_hub: z.string(),
      // A kind whose descriptor gives no schema takes any JSON.
      cloud_cloudflare: null,
    };
    records[0] = { ...records[0]!, secret: sealSecret(keyring, { token: { value: 1 } }) };
    records[2] = { ...records[2]!, secret: sealSecret(keyring, ['any', { json: 1 }]) };
    const problems = validateStoreFile(fileText(records), keyring, { secretSchemas: schemas }).problems;
    expect(problems.map((p) => [p.index, p.message])).toEqual([
      [0, 'secret decrypts, but not to a huggingface secret: check token.value (expected {token})'],
      [1, 'secret decrypts, but not to a docker_hub secret: check (root)'],
    ]);
  });
});

describe('formatStoreFileProblem', () => {
  it('one line: where (the file, or the record and its link), then what', () => {
    expect(formatStoreFileProblem({ index: null, field: 'version', message: 'version 2 is not supported' })).toBe(
      'file: version 2 is not supported',
    );
    expect(
      formatStoreFileProblem({ index: 3, credential_key: 'huggingface:org:a', field: 'secret', message: 'bad' }),
    ).toBe('integrations[3] huggingface:org:a: bad');
    expect(formatStoreFileProblem({ index: 3, field: '', message: 'a record must be a JSON object' })).toBe(
      'integrations[3]: a record must be a JSON object',
    );
  });
});
