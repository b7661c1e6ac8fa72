// The CLI in-process (runCli with captured streams) against SQLite files in a temp directory, with
// Python's cryptography.fernet as the reference for the file format; a few runs of the compiled bin
// where the process itself is the point (exit codes, the one-line error, a terminal).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, Keyring, openStore } from '@alphaswarm/db';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, type CliRun, cliInProcess, cliProcess } from './run-cli';

const KEY = generateKey();
/** The interpreter itself: a version manager's `python3` shim costs a second per start. */
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

let dir: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-'));
  db = join(dir, 'admin.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function envOf(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  return { HOME: dir, ALPHASWARM_ADMIN_DB_PATH: db, ALPHASWARM_ADMIN_INTEGRATIONS_KEY: KEY, ...extra };
}

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return cliInProcess(args, { env: envOf(env), cwd: dir });
}

/** A failure: exit 1 and exactly one `error:` line on stderr, no stack trace. */
function expectError(run: CliRun, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

const HF = { token: 'hf_PLAINTEXTSECRETPLAINTEXTSECRET' };
const DH = { username: 'acme-bot', pat: 'dckr_pat_PLAINTEXTSECRET' };
const CF = { api_token: 'cf_PLAINTEXTSECRET', token_id: 'tok-1' };

function records(): Record<string, unknown>[] {
  const base = {
    status: 'healthy',
    connected_at: '2026-05-27T20:00:00Z',
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
      metadata: { type: 'org', auth_email: 'ops@example.com', orgs: ['acme-quant'] },
      plain: HF,
    },
    {
      ...base,
      credential_key: 'docker_hub:org:org-acme',
      org_id: 'org-acme',
      kind: 'docker_hub',
      namespace: 'acme',
      status: 'degraded',
      last_health_at: '2026-05-28T20:00:00Z',
      last_health_status: 'degraded',
      error: { code: 'expiring_soon', message: 'Expires in 3 days.' },
      metadata: { username: 'acme-bot', namespace_type: 'org' },
      plain: DH,
    },
    {
      ...base,
      credential_key: 'cloud_cloudflare:org:org-beta',
      org_id: 'org-beta',
      kind: 'cloud_cloudflare',
      namespace: 'acc-1',
      metadata: { account_id: 'acc-1', expires_on: '2026-08-01T00:00:00Z' },
      plain: CF,
    },
    {
      ...base,
      credential_key: 'cloud_aws:org:org-acme',
      org_id: 'org-acme',
      kind: 'cloud_aws',
      namespace: '123456789012',
      metadata: { role_arn: 'arn:aws:iam::123456789012:role/x' },
      plain: null,
    },
    {
      ...base,
      credential_key: 'cloud_gcp:org:org-beta',
      org_id: 'org-beta',
      kind: 'cloud_gcp',
      namespace: 'proj',
      metadata: { projects: ['proj'] },
      plain: null,
    },
  ];
}

const PY_WRITE = `
import json, sys
from cryptography.fernet import Fernet
req = json.load(sys.stdin)
f = Fernet(req["key"].encode())
recs = []
for r in req["records"]:
    p = r.pop("plain")
    r["secret"] = None if p is None else f.encrypt(json.dumps(p).encode()).decode()
    recs.append(r)
doc = {"format": "alphaswarm.integrations", "version": 1, "exported_at": "2026-05-27T20:00:00Z", "integrations": recs}
doc.update(req.get("header", {}))
json.dump(doc, sys.stdout, indent=2)
`;

const PY_READ = `
import json, sys
from cryptography.fernet import Fernet, InvalidToken
req = json.load(sys.stdin)
f = Fernet(req["key"].encode())
out = {}
for r in json.load(open(req["path"]))["integrations"]:
    try:
        out[r["credential_key"]] = None if r["secret"] is None else json.loads(f.decrypt(r["secret"].encode()))
    except InvalidToken:
        out[r["credential_key"]] = "InvalidToken"
print(json.dumps(out))
`;

/** Python writes each distinct file once per run; tests that want the same one get a copy. */
const written = new Map<string, string>();

/** A store file written by Python's cryptography.fernet. */
function pythonFile(
  name: string,
  recs = records(),
  opts: { key?: string; header?: Record<string, unknown> } = {},
): string {
  const input = JSON.stringify({ key: opts.key ?? KEY, records: recs, header: opts.header ?? {} });
  let text = written.get(input);
  if (text === undefined) {
    text = execFileSync(PYTHON, ['-c', PY_WRITE], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
    written.set(input, text);
  }
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function pythonRead(path: string, key: string): Record<string, unknown> {
  return JSON.parse(execFileSync(PYTHON, ['-c', PY_READ], { input: JSON.stringify({ key, path }), encoding: 'utf8' }));
}

function query<T = Record<string, unknown>>(sql: string): T[] {
  const store = openStore(db);
  try {
    return store.sqlite.prepare(sql).all() as T[];
  } finally {
    store.close();
  }
}

function state() {
  if (!existsSync(db)) return { links: [], audit: [] };
  return {
    links: query('SELECT * FROM integrations ORDER BY credential_key'),
    audit: query('SELECT seq, action, phase, outcome FROM audit_events ORDER BY seq'),
  };
}

function auditOf(action: string) {
  return query<{ actor: string; phase: string; outcome: string; detail: string }>(
    `SELECT actor, phase, outcome, detail FROM audit_events WHERE action = '${action}' ORDER BY seq`,
  ).map((r) => ({ ...r, detail: JSON.parse(r.detail) }));
}

async function seed(): Promise<void> {
  const run = await cli(['import', pythonFile('seed.json')]);
  expect(run.code, run.stderr).toBe(0);
}

const COMMANDS = [
  'serve',
  'migrate',
  'rotate-signing-key',
  'publish-issuer',
  'generate-key',
  'export',
  'import',
  'rotate-key',
  'forget-secrets',
  'check-production',
  'audit-verify',
  'audit-export',
  'copy-db',
  'create-admin',
  'reset-mfa',
  'change-password',
  'disable-admin',
  'enable-admin',
  'list-admins',
];

describe('help and keys', () => {
  it('every command has its help', async () => {
    for (const command of COMMANDS) {
      const run = await cli([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: alphaswarm-admin ${command}`);
    }
  });

  it('generate-key prints a key Python accepts', async () => {
    const run = await cli(['generate-key']);
    expect(run.code).toBe(0);
    const key = run.stdout.trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    const check = `from cryptography.fernet import Fernet; import sys; f = Fernet(sys.argv[1].encode()); print(f.decrypt(f.encrypt(b"ok")).decode())`;
    expect(execFileSync(PYTHON, ['-c', check, key], { encoding: 'utf8' }).trim()).toBe('ok');
    expect(run.stderr).toContain('ALPHASWARM_ADMIN_INTEGRATIONS_KEY');
  });

  it('reports usage errors on one line', async () => {
    expectError(await cli(['import']), /missing required argument 'file'/);
    expectError(await cli(['import', 'x.json', '--on-conflict', 'merge']), /Allowed choices are fail, skip, replace/);
    expectError(await cli(['frobnicate']), /unknown command 'frobnicate'/);
  });
});

describe('the compiled bin', () => {
  const bin = (args: string[]) => cliProcess(args, { env: envOf({}), cwd: dir });

  it('lists every command with exit 0, and a usage error is one line with exit 1', () => {
    const help = bin(['--help']);
    expect(help.code, help.stderr).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expectError(bin(['frobnicate']), /^error: unknown command 'frobnicate'/);
  });

  it("a command's failure is its one error line and exit 1; success is exit 0", () => {
    expectError(bin(['forget-secrets']), /^error: forget-secrets discards every stored link secret/);
    expectError(bin(['export', '--out', 'x.json']), /^error: No database at /);
    const key = bin(['generate-key']);
    expect(key.code, key.stderr).toBe(0);
    expect(key.stdout).toMatch(/^[A-Za-z0-9_-]{43}=\n$/);
  });
});

describe('export and import', () => {
  it('imports a file written by Python, and exports a file Python decrypts', async () => {
    const run = await cli(['import', pythonFile('python.json')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/imported .*python\.json: 5 inserted, 0 replaced, 0 skipped/);
    expect(run.stdout + run.stderr).not.toContain('PLAINTEXTSECRET');

    const out = await cli(['export', '--out', 'exported.json']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/exported 5 links to .*exported\.json \(mode 0600\)/);
    expect(pythonRead(join(dir, 'exported.json'), KEY)).toEqual({
      'huggingface:org:org-acme': HF,
      'docker_hub:org:org-acme': DH,
      'cloud_cloudflare:org:org-beta': CF,
      'cloud_aws:org:org-acme': null,
      'cloud_gcp:org:org-beta': null,
    });
    expect(readFileSync(join(dir, 'exported.json'), 'utf8')).not.toContain('PLAINTEXTSECRET');

    expect(auditOf('store.import').map((e) => [e.actor, e.phase, e.outcome])).toEqual([
      [expect.stringMatching(/^cli:/), 'attempt', 'started'],
      [expect.stringMatching(/^cli:/), 'outcome', 'success'],
    ]);
    expect(auditOf('store.import')[1]!.detail).toEqual({
      records: 5,
      on_conflict: 'fail',
      inserted: 5,
      replaced: 0,
      skipped: 0,
    });
    expect(auditOf('store.export').map((e) => e.outcome)).toEqual(['started', 'success']);
  });

  it('round-trips every field through export and import into a fresh database', async () => {
    await seed();
    expect((await cli(['export', '--out', 'a.json'])).code).toBe(0);
    const fresh = join(dir, 'fresh.db');
    const imported = await cli(['import', 'a.json'], { ALPHASWARM_ADMIN_DB_PATH: fresh });
    expect(imported.code, imported.stderr).toBe(0);
    expect((await cli(['export', '--out', 'b.json'], { ALPHASWARM_ADMIN_DB_PATH: fresh })).code).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
    const strip = (doc: { integrations: Record<string, unknown>[] }) =>
      doc.integrations.map(({ secret: _s, ...rest }) => rest);
    expect(strip(b)).toEqual(strip(a));
    const expected = records()
      .map(({ plain: _p, ...rest }) => rest)
      .sort((x, y) => String(x.credential_key).localeCompare(String(y.credential_key)));
    expect(strip(a)).toEqual(expected);
    expect(pythonRead(join(dir, 'b.json'), KEY)).toEqual(pythonRead(join(dir, 'a.json'), KEY));
  });

  it('writes the export atomically, mode 0600, to ALPHASWARM_ADMIN_INTEGRATIONS_PATH by default', async () => {
    await seed();
    const target = join(dir, 'store', 'integrations.json');
    execFileSync('mkdir', ['-p', join(dir, 'store')]);
    writeFileSync(target, '{"old": true}', { mode: 0o644 });
    const run = await cli(['export'], { ALPHASWARM_ADMIN_INTEGRATIONS_PATH: target });
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'store'))).toEqual(['integrations.json']);
    expect(JSON.parse(readFileSync(target, 'utf8')).integrations).toHaveLength(5);
  });

  it('shows plain progress counts without a terminal, and a bar on one', async () => {
    // AWS links hold no secret, so there is nothing for Python to encrypt: the file is written here
    // (Python's files are the tests above), without a Python start and a 10,000-record round trip.
    const { plain: _none, ...aws } = records()[3]!;
    const path = join(dir, 'many.json');
    writeFileSync(
      path,
      JSON.stringify({
        format: 'alphaswarm.integrations',
        version: 1,
        exported_at: '2026-05-27T20:00:00Z',
        integrations: Array.from({ length: 10_000 }, (_, i) => ({
          ...aws,
          org_id: `org-${i}`,
          credential_key: `cloud_aws:org:org-${i}`,
          secret: null,
        })),
      }),
    );
    const plain = await cli(['import', path]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^validate: 1000\/10000$/m);
    expect(plain.stderr).toMatch(/^import: 10000\/10000$/m);

    // `script` gives the CLI a pseudo-terminal.
    const env = { ...process.env, ALPHASWARM_ADMIN_DB_PATH: db, ALPHASWARM_ADMIN_INTEGRATIONS_KEY: KEY, HOME: dir };
    const tty = spawnSync('script', ['-qec', `${BIN} export --out ${join(dir, 'tty.json')}`, '/dev/null'], {
      encoding: 'utf8',
      env,
    });
    expect(tty.status, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(/\rexport \[#{30}\] 100% 10000\/10000/);
  });

  it('stays quiet about progress for small jobs without a terminal', async () => {
    await seed();
    const run = await cli(['export', '--out', 'x.json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  });
});

describe('import refuses bad input and changes nothing', () => {
  const cases: [string, () => string, RegExp, RegExp?][] = [
    [
      'malformed JSON',
      () => {
        const path = pythonFile('m.json');
        writeFileSync(path, readFileSync(path, 'utf8').replace('"namespace": "acme"', '"namespace": acme'));
        return path;
      },
      /cannot be imported \(1 problem, listed on stdout; nothing was imported\): file: malformed JSON/,
    ],
    [
      'a truncated file',
      () => {
        const path = pythonFile('t.json');
        const text = readFileSync(path, 'utf8');
        writeFileSync(path, text.slice(0, Math.floor(text.length * 0.6)));
        return path;
      },
      /file: the file is truncated/,
    ],
    [
      'another format',
      () => pythonFile('f.json', records(), { header: { format: 'acme.backup' } }),
      /format is "acme.backup", expected "alphaswarm.integrations"/,
    ],
    [
      'another version',
      () => pythonFile('v.json', records(), { header: { version: 2 } }),
      /version 2 is not supported: this build reads version 1/,
    ],
    [
      'an unknown kind',
      () =>
        pythonFile('k.json', [
          ...records(),
          { ...records()[3]!, kind: 'gitlab', credential_key: 'gitlab:org:org-acme' },
        ]),
      /integrations\[5\] gitlab:org:org-acme: unknown kind "gitlab"/,
    ],
    [
      'duplicate credential keys',
      () => pythonFile('d.json', [...records(), { ...records()[0]!, namespace: 'other' }]),
      /integrations\[5\] huggingface:org:org-acme: duplicate link: integrations\[0\] already has huggingface:org:org-acme/,
    ],
    [
      'secrets encrypted under another key',
      () => pythonFile('w.json', records(), { key: generateKey() }),
      /file: 3 secrets cannot be decrypted with the configured key\(s\) \(fp_\w+\): integrations\[0\] huggingface:org:org-acme, integrations\[1\] docker_hub:org:org-acme, integrations\[2\] cloud_cloudflare:org:org-beta\. The file was probably exported under another key: set ALPHASWARM_ADMIN_INTEGRATIONS_KEY/,
      /^integrations\[0\] huggingface:org:org-acme: secret cannot be decrypted with the configured key\(s\)/m,
    ],
  ];

  it.each(cases)('%s', async (_name, make, errorPattern, stdoutPattern) => {
    await seed();
    const before = state();
    const path = make();
    const run = await cli(['import', path, '--on-conflict', 'replace']);
    expectError(run, errorPattern);
    expect(run.stderr).toMatch(/nothing was imported/);
    if (stdoutPattern) expect(run.stdout).toMatch(stdoutPattern);
    expect(run.stdout + run.stderr).not.toContain('PLAINTEXTSECRET');
    expect(run.stdout + run.stderr).not.toContain(KEY);
    expect(state()).toEqual(before);
  });

  it('a database file that is not SQLite', async () => {
    writeFileSync(db, 'this is not a database, just text '.repeat(200));
    const before = readFileSync(db);
    const run = await cli(['import', pythonFile('ok.json')]);
    expectError(run, /admin\.db is not a SQLite database \(is ALPHASWARM_ADMIN_DB_PATH pointing at the right file\?\)/);
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('a key that is not 32 bytes of url-safe base64, named by position and never echoed', async () => {
    await seed();
    const before = state();
    const bad = 'dGhpcyBpcyBub3QgYSBrZXk=';
    const run = await cli(['import', pythonFile('ok.json')], { ALPHASWARM_ADMIN_INTEGRATIONS_KEY: `${KEY},${bad}` });
    expectError(
      run,
      /ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key 2 of 2 is not valid: a Fernet key is 32 bytes of url-safe base64/,
    );
    expect(run.stderr).not.toContain(bad);
    expect(run.stderr).not.toContain(KEY);
    expect(state()).toEqual(before);
  });

  it('a file that does not exist', async () => {
    expectError(await cli(['import', 'missing.json']), /Cannot read .*missing\.json: no such file/);
    expect(existsSync(db)).toBe(false);
  });
});

describe('on-conflict policies', () => {
  function changed(): string {
    const next = [...records(), { ...records()[4]!, org_id: 'org-new', credential_key: 'cloud_gcp:org:org-new' }];
    return pythonFile(
      'changed.json',
      next.map((r) => ({ ...r, namespace: `${r.namespace}-v2` })),
    );
  }

  it('fail: refuses, names the existing links, changes no link and audits the failure', async () => {
    await seed();
    const before = state();
    const run = await cli(['import', changed()]);
    expectError(
      run,
      /5 links in the file already exist \(huggingface:org:org-acme, docker_hub:org:org-acme, .*\); nothing was imported\. Choose --on-conflict skip or replace/,
    );
    expect(state().links).toEqual(before.links);
    expect(
      auditOf('store.import')
        .slice(2)
        .map((e) => [e.phase, e.outcome, e.detail.code]),
    ).toEqual([
      ['attempt', 'started', undefined],
      ['outcome', 'failure', 'conflict'],
    ]);
  });

  it('skip: keeps existing links and adds the new one', async () => {
    await seed();
    const run = await cli(['import', changed(), '--on-conflict', 'skip']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1 inserted, 0 replaced, 5 skipped/);
    const links = query<{ credential_key: string; namespace: string }>(
      'SELECT credential_key, namespace FROM integrations',
    );
    expect(links).toHaveLength(6);
    expect(links.filter((l) => l.namespace.endsWith('-v2'))).toEqual([
      { credential_key: 'cloud_gcp:org:org-new', namespace: 'proj-v2' },
    ]);
  });

  it('replace: overwrites existing links', async () => {
    await seed();
    const run = await cli(['import', changed(), '--on-conflict', 'replace']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1 inserted, 5 replaced, 0 skipped/);
    const links = query<{ namespace: string }>('SELECT namespace FROM integrations');
    expect(links).toHaveLength(6);
    expect(links.every((l) => l.namespace.endsWith('-v2'))).toBe(true);
    expect(auditOf('store.import').at(-1)!.detail).toMatchObject({ inserted: 1, replaced: 5, skipped: 0 });
  });

  it('dry run: reports what would happen and writes nothing, not even audit', async () => {
    await seed();
    const before = state();
    const run = await cli(['import', changed(), '--dry-run', '--on-conflict', 'replace']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /dry run: .* is valid \(6 links\); importing would give 1 inserted, 5 replaced, 0 skipped\. Nothing was written\./,
    );
    expect(state()).toEqual(before);
    const failing = await cli(['import', changed(), '--dry-run']);
    expectError(failing, /5 links in the file already exist/);
    expect(state()).toEqual(before);
  });
});

describe('export failures', () => {
  it('refuses a target whose directory refuses new files (/sys, as root ignores permission bits)', async () => {
    await seed();
    const before = state().links;
    const run = await cli(['export', '--out', '/sys/alphaswarm-integrations.json']);
    expectError(run, /Cannot write into \/sys: (permission denied|the file system is read-only)/);
    expect(existsSync('/sys/alphaswarm-integrations.json')).toBe(false);
    expect(state().links).toEqual(before);
    // Failed attempts are audited too (audit-first).
    expect(auditOf('store.export').map((e) => e.outcome)).toEqual(['started', 'failure']);
  });

  it('refuses a target under a regular file and a missing directory', async () => {
    await seed();
    writeFileSync(join(dir, 'plain'), 'x');
    expectError(
      await cli(['export', '--out', 'plain/integrations.json']),
      /Cannot write into .*plain: it is not a directory/,
    );
    expectError(
      await cli(['export', '--out', 'missing/integrations.json']),
      /Cannot write into .*missing: the directory does not exist/,
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses to export from a database that does not exist', async () => {
    expectError(await cli(['export', '--out', 'x.json']), /No database at .*admin\.db \(set ALPHASWARM_ADMIN_DB_PATH/);
    expect(existsSync(db)).toBe(false);
  });
});

/** A Cloudflare onboarding session holding its API token as the wizard seals it. */
function wizardSession(id: string, opts: { key?: string; expiresInMs?: number } = {}): void {
  const store = openStore(db);
  try {
    const at = new Date();
    store.sqlite
      .prepare(
        'INSERT INTO wizard_sessions (id, org_id, kind, created_by, created_at, updated_at, expires_at, state, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)',
      )
      .run(
        id,
        'org-beta',
        'cloud_cloudflare',
        'alice',
        at.toISOString(),
        at.toISOString(),
        new Date(at.getTime() + (opts.expiresInMs ?? 3_600_000)).toISOString(),
        JSON.stringify({
          params: {
            account_id: 'acc-1',
            api_token: { sealed: Keyring.fromEnv(opts.key ?? KEY).encrypt(JSON.stringify('cf_WIZARDSECRET')) },
          },
          steps: {},
        }),
      );
  } finally {
    store.close();
  }
}

const sessions = () =>
  query<{ id: string; state: string; version: number }>(
    'SELECT id, state, version FROM wizard_sessions ORDER BY id',
  ).map((r) => ({ ...r, state: JSON.parse(r.state) }));

describe('rotate-key', () => {
  it('re-encrypts under the new key: Python then decrypts with the new key only', async () => {
    await seed();
    const next = generateKey();
    const run = await cli(['rotate-key'], { ALPHASWARM_ADMIN_INTEGRATIONS_KEY: `${next},${KEY}` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /re-encrypted 3 secrets under key fp_\w{12} \(links 3, signing keys 0, admin users 0, onboarding sessions 0\)/,
    );
    expect(run.stdout).toContain('The old key(s) can now be removed');
    expect((await cli(['export', '--out', 'rotated.json'], { ALPHASWARM_ADMIN_INTEGRATIONS_KEY: next })).code).toBe(0);
    const path = join(dir, 'rotated.json');
    expect(pythonRead(path, next)).toMatchObject({
      'huggingface:org:org-acme': HF,
      'docker_hub:org:org-acme': DH,
      'cloud_cloudflare:org:org-beta': CF,
    });
    expect(pythonRead(path, KEY)).toMatchObject({ 'huggingface:org:org-acme': 'InvalidToken' });
    expect(auditOf('store.rotate_key').map((e) => [e.phase, e.outcome])).toEqual([
      ['attempt', 'started'],
      ['outcome', 'success'],
    ]);
    expect(auditOf('store.rotate_key')[1]!.detail).toMatchObject({
      links: 3,
      signing_keys: 0,
      admin_users: 0,
      keys: 2,
    });
  });

  it('re-seals the API token an onboarding session holds, and deletes expired sessions', async () => {
    await seed();
    wizardSession('wiz_live');
    wizardSession('wiz_old', { expiresInMs: -60_000 });
    const next = generateKey();
    const run = await cli(['rotate-key'], { ALPHASWARM_ADMIN_INTEGRATIONS_KEY: `${next},${KEY}` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /re-encrypted 4 secrets .*\(links 3, signing keys 0, admin users 0, onboarding sessions 1\)/,
    );
    const [live, ...rest] = sessions();
    expect(rest).toEqual([]);
    expect(live).toMatchObject({ id: 'wiz_live', version: 1, state: { params: { account_id: 'acc-1' } } });
    const sealed = live!.state.params.api_token.sealed as string;
    expect(JSON.parse(Keyring.fromEnv(next).decrypt(sealed).toString())).toBe('cf_WIZARDSECRET');
    expect(() => Keyring.fromEnv(KEY).decrypt(sealed)).toThrow();
    expect(auditOf('store.rotate_key')[1]!.detail).toMatchObject({ wizard_sessions: 1 });
  });

  it('names an onboarding session whose secret no configured key reads, and changes nothing', async () => {
    await seed();
    wizardSession('wiz_lost', { key: generateKey() });
    const before = { links: state().links, sessions: sessions() };
    const run = await cli(['rotate-key'], { ALPHASWARM_ADMIN_INTEGRATIONS_KEY: `${generateKey()},${KEY}` });
    expectError(run, /1 stored secret cannot be decrypted with any configured key \(wizard_session:wiz_lost\)/);
    expect({ links: state().links, sessions: sessions() }).toEqual(before);
  });

  it('changes nothing when the old key is not in the list', async () => {
    await seed();
    const before = state().links;
    const run = await cli(['rotate-key'], { ALPHASWARM_ADMIN_INTEGRATIONS_KEY: generateKey() });
    expectError(
      run,
      /3 stored secrets cannot be decrypted with any configured key \(.*huggingface:org:org-acme.*\); nothing was re-encrypted/,
    );
    expect(state().links).toEqual(before);
    expect(auditOf('store.rotate_key').map((e) => e.outcome)).toEqual(['started', 'failure']);
  });
});

describe('forget-secrets', () => {
  it('refuses without --yes and changes nothing', async () => {
    await seed();
    const before = state();
    expectError(await cli(['forget-secrets']), /Run it again with --yes to confirm/);
    expect(state()).toEqual(before);
  });

  it('drops every secret, marks those links needs_reconnect and audits it', async () => {
    await seed();
    const run = await cli(['forget-secrets', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/forgot 3 secrets/);
    const links = query<{ kind: string; status: string; secret: string | null; error: string | null }>(
      'SELECT kind, status, secret, error FROM integrations ORDER BY credential_key',
    );
    for (const link of links) {
      if (['huggingface', 'docker_hub', 'cloud_cloudflare'].includes(link.kind)) {
        expect(link).toMatchObject({ status: 'needs_reconnect', secret: null });
        expect(JSON.parse(link.error!).code).toBe('secret_unreadable');
      } else {
        expect(link.status).toBe('healthy');
      }
    }
    expect(auditOf('store.forget_secrets').map((e) => [e.phase, e.outcome, e.detail])).toEqual([
      ['attempt', 'started', {}],
      ['outcome', 'success', { links: 3 }],
    ]);
  });

  it('deletes the onboarding sessions holding a secret', async () => {
    await seed();
    wizardSession('wiz_lost', { key: generateKey() });
    const run = await cli(['forget-secrets', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^deleted 1 onboarding session holding a secret; those wizards start over\.$/m);
    expect(sessions()).toEqual([]);
    expect(auditOf('store.forget_secrets')[1]!.detail).toEqual({ links: 3, wizard_sessions: 1 });
  });
});

describe('check-production', () => {
  it('lists every problem of a development configuration and exits 1', async () => {
    const run = await cli(['check-production'], {
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined,
      ALPHASWARM_ADMIN_HF_ENDPOINT: 'http://127.0.0.1:9999',
      AWS_ENDPOINT_URL_STS: 'https://localhost:4566',
    });
    expectError(run, /not production-ready: 6 problems \(listed on stdout\)/);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^- ALPHASWARM_ENV is "development"/),
      expect.stringMatching(/^- ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set.*alphaswarm-admin generate-key/),
      expect.stringMatching(/^- ALPHASWARM_ADMIN_PUBLIC_URL is not set/),
      expect.stringMatching(/^- The embedded IdP is on .*ALPHASWARM_ADMIN_EMBEDDED_IDP=on/),
      expect.stringMatching(
        /^- ALPHASWARM_ADMIN_HF_ENDPOINT is http:\/\/127\.0\.0\.1:9999: upstream credentials must not travel over plain http/,
      ),
      expect.stringMatching(/^- AWS_ENDPOINT_URL_STS points at a loopback address \(https:\/\/localhost:4566\)/),
    ]);
  });

  it('flags a sandbox, an http public URL, a missing OIDC issuer and a bad key', async () => {
    const run = await cli(['check-production'], {
      ALPHASWARM_ENV: 'sandbox',
      ALPHASWARM_ADMIN_PUBLIC_URL: 'http://admin.example.com',
      ALPHASWARM_ADMIN_EMBEDDED_IDP: 'off',
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: 'short',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/ALPHASWARM_ENV is "sandbox"/);
    expect(run.stdout).toMatch(/ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key 1 of 1 is not valid/);
    expect(run.stdout).toMatch(/ALPHASWARM_ADMIN_PUBLIC_URL is http:\/\/admin\.example\.com: it must be https/);
    expect(run.stdout).toMatch(/ALPHASWARM_ADMIN_OIDC_ISSUER and ALPHASWARM_ADMIN_OIDC_AUDIENCE must be set/);
    expect(run.stdout).not.toContain('short');
  });

  it('passes a production configuration', async () => {
    const run = await cli(['check-production'], {
      ALPHASWARM_ENV: 'production',
      ALPHASWARM_ADMIN_PUBLIC_URL: 'https://admin.example.com',
      ALPHASWARM_ADMIN_OIDC_ISSUER: 'https://login.example.com',
      ALPHASWARM_ADMIN_OIDC_AUDIENCE: 'alphaswarm-admin',
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^production-ready/);
    // The external issuer could grant the platform-wide service scope, and it would be honoured.
    expect(run.stdout).toMatch(
      /^! warning: .*https:\/\/login\.example\.com.*"integrations:use".*every org.*ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE=off/m,
    );
  });
});

describe('audit-verify', () => {
  it('passes an intact chain and names the first tampered row', async () => {
    // A real audit key: without one the CLI warns that the chain is keyed with the development key.
    const keyed = { ALPHASWARM_ADMIN_AUDIT_KEY: generateKey() };
    expect((await cli(['import', pythonFile('seed.json')], keyed)).code).toBe(0);
    await cli(['export', '--out', 'x.json'], keyed);
    const ok = await cli(['audit-verify'], keyed);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/audit chain intact: 4 events verified, tip seq 4 link [0-9a-f]{64}/);

    // An attacker with file access gets past the append-only trigger; the hash chain still tells.
    const store = openStore(db);
    store.sqlite.exec('DROP TRIGGER audit_events_no_update');
    store.sqlite.prepare(`UPDATE audit_events SET detail = '{"records":0}' WHERE seq = 3`).run();
    const id = (store.sqlite.prepare('SELECT id FROM audit_events WHERE seq = 3').get() as { id: string }).id;
    store.close();
    const broken = await cli(['audit-verify'], keyed);
    expectError(
      broken,
      new RegExp(
        `audit chain diverges \\(rewritten\\) at seq 3: seq 3 \\(id ${id}\\) does not match its link: the row was rewritten\\. 2 events before it verified`,
      ),
    );
  });
});

describe('keys and environments', () => {
  it('production without a key refuses, naming the variable and generate-key', async () => {
    const run = await cli(['import', pythonFile('ok.json')], {
      ALPHASWARM_ENV: 'production',
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined,
    });
    expectError(
      run,
      /ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set: production refuses to start .*alphaswarm-admin generate-key/,
    );
    expect(existsSync(db)).toBe(false);
  });

  it('outside production, no key means an ephemeral key and a loud warning', async () => {
    const federated = records().filter((r) => r.plain === null);
    const run = await cli(['import', pythonFile('fed.json', federated)], {
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /^WARNING: ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set, so an EPHEMERAL encryption key \(fp_\w+\) is in use/m,
    );
    expect(run.stdout).toMatch(/2 inserted/);
  });
});

describe('rotate-signing-key', () => {
  it('starts a new workload key, keeps the old one published, and a running issuer follows within 30 s', async () => {
    const { Keyring, publishedSigningKeys } = await import('@alphaswarm/db');
    const { signingIssuer } = await import('../src/issuers/keyed-issuer');
    const store = openStore(db);
    let clock = Date.now();
    const running = signingIssuer(
      'workload',
      { publicUrl: 'http://127.0.0.1:8700', workloadIssuerUrl: 'http://127.0.0.1:8700/workload' },
      store.db,
      Keyring.fromEnv(KEY),
      () => new Date(clock),
    );
    const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;
    try {
      const before = kidOf(await running.sign({ sub: 'org:acme:cloud_aws', aud: 'sts.amazonaws.com' }, 300));
      const run = await cli(['rotate-signing-key', '--issuer', 'workload']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/now signs with key workload-/);
      const published = (await publishedSigningKeys(store.db, 'workload', new Date().toISOString())).map((k) => k.kid);
      expect(published).toContain(before);
      expect(published).toHaveLength(2);
      expect(kidOf(await running.sign({ sub: 's', aud: 'a' }, 300))).toBe(before);
      clock += 31_000;
      const after = kidOf(await running.sign({ sub: 's', aud: 'a' }, 300));
      expect(after).not.toBe(before);
      expect(published).toContain(after);
      expect(auditOf('signing_keys.rotate').map((e) => e.outcome)).toEqual(['started', 'success']);
    } finally {
      store.close();
    }
  });

  it('refuses without a configured key', async () => {
    openStore(db).close();
    expectError(
      await cli(['rotate-signing-key'], { ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined }),
      /ALPHASWARM_ADMIN_INTEGRATIONS_KEY/,
    );
  });
});
