// kill -9 at known points of the real CLI (import, rotate-key) and the real server (connect,
// disconnect), then start-up as `serve` does it: nothing lost, nothing half-written, the audit
// chain verifies and every attempt has an outcome.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreFileRecord } from '@alphaswarm/contracts';
import {
  type AuditRow,
  generateKey,
  importStore,
  Keyring,
  listAudit,
  openSecret,
  openStore,
  type SqliteStore as Store,
  sealSecret,
  verifyAudit,
} from '@alphaswarm/db';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/env';
import { bootstrap } from '../../src/runtime/index';
import { BIN, cliInProcess } from '../run-cli';
import { freePort } from '../support/harness';
import { startTestOidc, type TestOidc } from '../support/oidc';
import { type ServerProcess, startServerProcess } from '../support/spawn';

const KEY = generateKey();
const keyring = Keyring.fromEnv(KEY);
/** Above the CLI's threshold for plain progress lines, which mark the points to kill at. */
const RECORDS = 10_000;
/** Subprocesses: a few CLI runs and server starts per test. */
const SLOW = { timeout: 120_000 };

let dir: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fault-kill-'));
  db = join(dir, 'admin.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    ALPHASWARM_ADMIN_DB_PATH: db,
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: KEY,
    ALPHASWARM_ADMIN_HEALTH_INTERVAL: '0',
    ...extra,
  };
}

/** Run the CLI and kill -9 it at the first stderr line `at` matches; resolves once it is gone. */
function killAt(args: string[], at: RegExp, extra: Record<string, string> = {}): Promise<{ killedAt: string | null }> {
  const child = spawn(BIN, args, { env: env(extra), stdio: ['ignore', 'ignore', 'pipe'] });
  let seen = '';
  let killedAt: string | null = null;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    seen += chunk;
    const line = seen.split('\n').find((l) => at.test(l));
    if (line && killedAt === null) {
      killedAt = line;
      // bin/alphaswarm-admin execs node: the child's pid is the CLI itself.
      child.kill('SIGKILL');
    }
  });
  return new Promise((done) => child.on('exit', () => done({ killedAt })));
}

/** Start-up as `serve` does it (recovery included); returns the store it opened. */
async function restart(): Promise<Store> {
  const boot = await bootstrap(parseEnv(env()), { info: () => undefined, warn: () => undefined });
  return boot.store as Store;
}

function expectEveryAttemptClosed(rows: AuditRow[]) {
  const attempts = rows.filter((r) => r.phase === 'attempt').map((r) => r.runId);
  const outcomes = rows.filter((r) => r.phase === 'outcome').map((r) => r.runId);
  expect(attempts.length).toBeGreaterThan(0);
  expect(new Set(outcomes)).toEqual(new Set(attempts));
}

const hfRecord = (i: number): StoreFileRecord => ({
  credential_key: `huggingface:org:org-${i}`,
  org_id: `org-${i}`,
  kind: 'huggingface',
  namespace: `ns-${i}`,
  status: 'healthy',
  connected_at: '2026-05-27T20:00:00Z',
  last_health_at: null,
  last_health_status: null,
  error: null,
  metadata: { type: 'user' },
  secret: sealSecret(keyring, { token: `hf_${i}` }),
});

describe('fault: kill -9 during CLI work', () => {
  it('import, killed while validating, mid-transaction and at its last row: all or nothing', SLOW, async () => {
    const file = join(dir, 'big.json');
    const records = Array.from({ length: RECORDS }, (_, i) => hfRecord(i));
    writeFileSync(
      file,
      JSON.stringify({
        format: 'alphaswarm.integrations',
        version: 1,
        exported_at: '2026-05-27T20:00:00Z',
        integrations: records,
      }),
    );
    for (const point of [/^validate: /, /^import: \d+\//, new RegExp(`^import: ${RECORDS}/${RECORDS}`)]) {
      const { killedAt } = await killAt(['import', file, '--on-conflict', 'replace'], point);
      expect(killedAt, `no stderr line matched ${point}`).not.toBeNull();
      const store = await restart();
      try {
        const n = Number(store.sqlite.prepare('SELECT count(*) FROM integrations').pluck().get());
        expect([0, RECORDS], `killed at "${killedAt}"`).toContain(n);
        if (n > 0) {
          for (const i of [0, 4321, RECORDS - 1]) {
            const row = store.sqlite
              .prepare('SELECT secret, namespace FROM integrations WHERE org_id = ?')
              .get(`org-${i}`) as {
              secret: string;
              namespace: string;
            };
            expect(row.namespace).toBe(`ns-${i}`);
            expect(openSecret(keyring, row.secret)).toEqual({ token: `hf_${i}` });
          }
        }
        const audit = await listAudit(store.db, { action: 'store.import' }, { limit: 100 });
        if (audit.length > 0) expectEveryAttemptClosed(audit);
        expect((await verifyAudit(store.db)).ok).toBe(true);
      } finally {
        store.close();
      }
    }
  });

  it(
    'rotate-key, killed mid-transaction: every secret under the old key, or every one under the new',
    SLOW,
    async () => {
      const seed = openStore(db);
      await importStore(
        seed.db,
        Array.from({ length: RECORDS }, (_, i) => hfRecord(i)),
        {
          keyring,
          onConflict: 'fail',
          now: new Date(),
        },
      );
      seed.close();
      const next = generateKey();
      const { killedAt } = await killAt(['rotate-key'], /^rotate-key: \d+\//, {
        ALPHASWARM_ADMIN_INTEGRATIONS_KEY: `${next},${KEY}`,
      });
      expect(killedAt).not.toBeNull();
      const store = await restart();
      try {
        const secrets = store.sqlite.prepare('SELECT secret FROM integrations').pluck().all() as string[];
        expect(secrets).toHaveLength(RECORDS);
        const readable = (ring: Keyring) =>
          secrets.filter((s) => {
            try {
              ring.decrypt(s);
              return true;
            } catch {
              return false;
            }
          }).length;
        const underNew = readable(Keyring.fromEnv(next));
        expect([0, RECORDS]).toContain(underNew);
        expect(readable(keyring) + underNew).toBe(RECORDS);
        const audit = await listAudit(store.db, { action: 'store.rotate_key' }, { limit: 10 });
        expectEveryAttemptClosed(audit);
        const outcome = audit.find((a) => a.phase === 'outcome')!;
        expect(outcome.outcome).toBe('failure');
        expect(outcome.detail).toMatchObject({ code: 'interrupted' });
      } finally {
        store.close();
      }
    },
  );
});

describe('fault: kill -9 of the server during connect and disconnect', () => {
  let oidc: TestOidc;
  let hf: HuggingFaceFake;
  const TOKEN = 'hf_faultSuiteToken000000000000000';
  beforeAll(async () => {
    oidc = await startTestOidc();
    hf = await startHuggingFaceFake({ tokens: { [TOKEN]: hfProfile({ name: 'fault-user' }) } });
  });
  afterAll(async () => {
    await hf?.close();
    await oidc?.close();
  });

  async function serve(): Promise<ServerProcess> {
    const port = await freePort();
    const server = startServerProcess(BIN, ['serve'], {
      port,
      probe: '/healthz',
      timeoutMs: 60_000,
      env: env({
        ALPHASWARM_ADMIN_PORT: String(port),
        ALPHASWARM_ADMIN_HF_ENDPOINT: hf.url,
        ALPHASWARM_ADMIN_OIDC_ISSUER: oidc.issuer,
        ALPHASWARM_ADMIN_OIDC_AUDIENCE: oidc.audience,
        ALPHASWARM_ADMIN_LOG_LEVEL: 'warn',
      }),
    });
    await server.ready;
    return server;
  }

  async function request(url: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await oidc.mint()}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('connect waiting on a hung upstream, a burst of connects, a burst of disconnects', SLOW, async () => {
    // 1. A connect waits on Hugging Face, which does not answer: kill -9 then.
    let server = await serve();
    hf.knobs.delayMs = 60_000;
    const seen = hf.requests.length;
    const hung = request(server.url, 'POST', '/admin/accounts/org-hung/integrations/huggingface', {
      token: TOKEN,
    }).catch(() => null);
    while (hf.requests.length === seen) await new Promise((r) => setTimeout(r, 10));
    server.child.kill('SIGKILL');
    await server.exited;
    expect(await hung).toBeNull();
    hf.reset();

    // 2. Twenty connects in flight against a slowish upstream: kill -9 at the first answer.
    server = await serve();
    hf.knobs.delayMs = 40;
    const orgs = Array.from({ length: 20 }, (_, i) => `org-k${i}`);
    const answered = new Map<string, number>();
    let firstAnswer: () => void;
    const first = new Promise<void>((r) => {
      firstAnswer = r;
    });
    const connects = orgs.map((org, i) =>
      new Promise((r) => setTimeout(r, i * 5))
        .then(() => request(server.url, 'POST', `/admin/accounts/${org}/integrations/huggingface`, { token: TOKEN }))
        .then((r) => {
          answered.set(org, r.status);
          firstAnswer();
        })
        .catch(() => undefined),
    );
    await first;
    server.child.kill('SIGKILL');
    await server.exited;
    await Promise.all(connects);
    hf.reset();

    // 3. Disconnect every link that is there, all at once: kill -9 at the first answer.
    server = await serve();
    const present = orgs.filter((org) => answered.get(org) === 200);
    expect(present.length).toBeGreaterThan(0);
    for (const org of present) {
      expect((await request(server.url, 'GET', `/admin/accounts/${org}/integrations/huggingface`)).status).toBe(200);
    }
    const all = [...orgs];
    const disconnected = new Map<string, number>();
    let firstGone: () => void;
    const gone = new Promise<void>((r) => {
      firstGone = r;
    });
    const disconnects = all.map((org) =>
      request(server.url, 'DELETE', `/admin/accounts/${org}/integrations/huggingface`)
        .then((r) => {
          disconnected.set(org, r.status);
          if (r.status === 200) firstGone();
        })
        .catch(() => undefined),
    );
    await gone;
    server.child.kill('SIGKILL');
    await server.exited;
    await Promise.all(disconnects);

    const store = await restart();
    try {
      expect(store.sqlite.prepare("SELECT count(*) FROM integrations WHERE org_id = 'org-hung'").pluck().get()).toBe(0);
      for (const org of orgs) {
        const row = store.sqlite.prepare('SELECT * FROM integrations WHERE org_id = ?').get(org) as
          | { secret: string; namespace: string; status: string }
          | undefined;
        // Whatever was answered is what is stored; a disconnect cut off before its answer may or may
        // not have committed; a link that is there is there whole.
        const gone = disconnected.get(org);
        if (gone === 200) expect(row, org).toBeUndefined();
        else if (gone !== undefined && answered.get(org) === 200) expect(row, org).toBeDefined();
        if (row) {
          expect(openSecret(keyring, row.secret)).toEqual({ token: TOKEN });
          expect(row).toMatchObject({ namespace: 'fault-user', status: 'healthy' });
        }
      }
      const audit = await listAudit(store.db, {}, { limit: 1000 });
      expectEveryAttemptClosed(audit);
      const hungRun = audit.find((a) => a.orgId === 'org-hung' && a.phase === 'outcome');
      expect(hungRun).toMatchObject({ outcome: 'failure', detail: { code: 'interrupted', recorded_by: 'recovery' } });
    } finally {
      store.close();
    }
    const verified = await cliInProcess(['audit-verify'], { env: env(), cwd: dir });
    expect(verified.code, verified.stderr).toBe(0);
  });
});
