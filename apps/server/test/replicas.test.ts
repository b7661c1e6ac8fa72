// Two API replicas (`serve` from the compiled bin, as deployed) on one PostgreSQL database behind a
// loopback round-robin balancer (issue 12, "How it is tested"): links, TOTP replay, the login limit
// and the health sweep hold across replicas, and kill -9 of one loses nothing it acknowledged.
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKey, isoNow, Keyring, reserveAddressAttempt, sealSecret, sql, upsertLink } from '@alphaswarm/db';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliInProcess } from './run-cli';
import { dialect, type TestDatabase, testDatabase } from './support/database';
import { freePort } from './support/harness';
import { startTestOidc, type TestOidc } from './support/oidc';
import { type RoundRobin, startRoundRobin } from './support/round-robin';

const KEY = generateKey();
const PASSWORD = 'correct horse battery staple';
const LINK_TOKEN = 'hf_replicaSuiteToken0000000000000';
/** Links the sweep probes, each with a token of its own so that probes can be counted per link. */
const SWEPT = 8;
const sweepToken = (i: number) => `hf_swept_${i}`;

interface Replica {
  url: string;
  child: ChildProcess;
  stdout: string[];
  exited: Promise<unknown>;
}

describe.runIf(dialect === 'postgres')('two API replicas on one PostgreSQL', () => {
  let database: TestDatabase;
  let oidc: TestOidc;
  let hf: HuggingFaceFake;
  let lb: RoundRobin;
  let secret: string;
  const replicas: Replica[] = [];

  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: database.dir,
    ...database.env,
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: KEY,
  });

  async function startReplica(): Promise<Replica> {
    const port = await freePort();
    const child = spawn(BIN, ['serve'], {
      env: {
        ...env(),
        ALPHASWARM_ADMIN_PORT: String(port),
        ALPHASWARM_ADMIN_PUBLIC_URL: `http://127.0.0.1:${port}`,
        ALPHASWARM_ADMIN_HF_ENDPOINT: hf.url,
        ALPHASWARM_ADMIN_OIDC_ISSUER: oidc.issuer,
        ALPHASWARM_ADMIN_OIDC_AUDIENCE: oidc.audience,
        // The balancer (and this test) connect from loopback and say who the client is.
        ALPHASWARM_ADMIN_TRUSTED_PROXIES: '127.0.0.1',
        ALPHASWARM_ADMIN_HEALTH_INTERVAL: '12',
        ALPHASWARM_ADMIN_HEALTH_CONCURRENCY: '2',
        ALPHASWARM_ADMIN_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: string[] = [];
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.push(...chunk.split('\n')));
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise((done) => child.on('exit', done));
    const url = `http://127.0.0.1:${port}`;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`);
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return { url, child, stdout, exited };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`serve did not become ready: ${stderr}`);
  }

  async function api(base: string, method: string, path: string, body?: unknown, from?: string) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(path.startsWith('/auth/') ? {} : { authorization: `Bearer ${await oidc.mint()}` }),
        ...(from ? { 'x-forwarded-for': from } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, body: json };
  }
  const link = (org: string) => `/admin/accounts/${org}/integrations/huggingface`;

  beforeAll(async () => {
    database = await testDatabase();
    oidc = await startTestOidc();
    hf = await startHuggingFaceFake({ tokens: { [LINK_TOKEN]: hfProfile({ name: 'replica-user' }) } });
    const store = await database.open();
    const keyring = Keyring.fromEnv(KEY);
    try {
      for (let i = 0; i < SWEPT; i++) {
        hf.addToken(sweepToken(i), hfProfile({ name: 'swept' }));
        await upsertLink(
          store.db,
          {
            orgId: `org-swept-${i}`,
            kind: 'huggingface',
            namespace: 'swept',
            status: 'healthy',
            error: null,
            metadata: {},
            secret: sealSecret(keyring, { token: sweepToken(i) }),
            expiresAt: null,
          },
          isoNow(new Date()),
        );
      }
    } finally {
      await store.close();
    }
    const enrol = await cliInProcess(['create-admin', 'alice', '--password-stdin'], {
      env: env(),
      cwd: database.dir,
      stdin: `${PASSWORD}\n`,
    });
    expect(enrol.code).toBe(0);
    secret = /secret:\s+([A-Z2-7]+)/.exec(enrol.stdout)?.[1] ?? '';
    // Both start together on a database where pg-boss has never run.
    replicas.push(...(await Promise.all([startReplica(), startReplica()])));
    lb = await startRoundRobin(replicas.map((r) => r.url));
  });
  afterAll(async () => {
    for (const r of replicas) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      await r.exited;
    }
    await lb?.close();
    await hf?.close();
    await oidc?.close();
    await database?.dispose();
  });

  it('concurrent connects and disconnects of the same and of different links, through both replicas', async () => {
    const orgs = Array.from({ length: 8 }, (_, i) => `org-r${i}`);
    const different = await Promise.all(orgs.map((org) => api(lb.url, 'POST', link(org), { token: LINK_TOKEN })));
    expect(different.map((r) => r.status)).toEqual(orgs.map(() => 200));
    const same = await Promise.all(
      Array.from({ length: 6 }, () => api(lb.url, 'POST', link('org-same'), { token: LINK_TOKEN })),
    );
    expect(same.map((r) => r.status)).toEqual(Array(6).fill(200));
    const mixed = await Promise.all([
      ...Array.from({ length: 4 }, () => api(lb.url, 'DELETE', link('org-same'))),
      ...orgs.slice(0, 4).map((org) => api(lb.url, 'DELETE', link(org))),
    ]);
    const sameGone = mixed.slice(0, 4).map((r) => r.status);
    expect(sameGone.filter((s) => s === 200)).toHaveLength(1);
    expect(sameGone.filter((s) => s === 404)).toHaveLength(3);
    expect(mixed.slice(4).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // Either replica answers the same.
    for (const r of replicas) {
      expect((await api(r.url, 'GET', link('org-same'))).status).toBe(404);
      expect((await api(r.url, 'GET', link('org-r0'))).status).toBe(404);
      expect((await api(r.url, 'GET', link('org-r7'))).body.integration.status).toBe('healthy');
    }
    expect(lb.served.every((n) => n > 0)).toBe(true);
  });

  it('a TOTP code used on one replica is refused on the other', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const code = await generate({ secret });
    const stepUp = async (base: string) => {
      const login = await api(base, 'POST', '/auth/login', { username: 'alice', password: PASSWORD }, '198.51.100.1');
      expect(login.status).toBe(200);
      return api(base, 'POST', '/auth/step-up', { mfa_token: login.body.mfa_token, code }, '198.51.100.1');
    };
    expect((await stepUp(a.url)).status).toBe(200);
    const replay = await stepUp(b.url);
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/already used/);
  });

  it('the 20-attempt login limit per address holds across replicas', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const from = '203.0.113.20';
    // Eighteen attempts taken as a replica takes them (each real one costs a password hash), then
    // the nineteenth on one replica and the twentieth on the other: the next is refused on both.
    const store = await database.open();
    try {
      for (let i = 0; i < 18; i++)
        expect((await reserveAddressAttempt(store.db, from, { limit: 20, windowSeconds: 300 }, new Date())).ok).toBe(
          true,
        );
    } finally {
      await store.close();
    }
    for (const r of [a, b]) {
      const wrong = await api(r.url, 'POST', '/auth/login', { username: 'alice', password: 'not it' }, from);
      expect(wrong.status).toBe(401);
    }
    for (const r of [a, b]) {
      const blocked = await api(r.url, 'POST', '/auth/login', { username: 'alice', password: PASSWORD }, from);
      expect(blocked.status).toBe(429);
      expect(blocked.body.error.message).toMatch(/from this address/);
    }
  });

  it('each link is probed once per sweep interval across both replicas', async () => {
    const finished = () =>
      replicas.flatMap((r) => r.stdout).filter((line) => line.includes('"msg":"health sweep finished"')).length;
    const probes = () =>
      Array.from(
        { length: SWEPT },
        (_, i) => hf.requests.filter((r) => r.headers.authorization === `Bearer ${sweepToken(i)}`).length,
      );
    const store = await database.open();
    try {
      // Between two sweeps (none of their jobs pending, the last one logged), every link has been
      // probed exactly as many times as there were sweeps.
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        const sweeps = finished();
        const counts = probes();
        const [pending] = await store.exec(
          sql`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'alphaswarm-sweep-%' AND state < 'completed'`,
        );
        if (sweeps >= 1 && sweeps === finished() && pending?.n === 0) {
          expect(counts).toEqual(Array(SWEPT).fill(sweeps));
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('no sweep finished');
    } finally {
      await store.close();
    }
  });

  it('kill -9 of one replica in the middle of a batch of connects: every acknowledged write is there, whole; the chain verifies', async () => {
    const [a, b] = replicas as [Replica, Replica];
    hf.knobs.delayMs = 30;
    const orgs = Array.from({ length: 16 }, (_, i) => `org-k${i}`);
    const answered = new Map<string, number>();
    let firstAnswer: () => void = () => undefined;
    const first = new Promise<void>((r) => {
      firstAnswer = r;
    });
    const connects = orgs.map((org, i) =>
      new Promise((r) => setTimeout(r, i * 3))
        .then(() => api(lb.url, 'POST', link(org), { token: LINK_TOKEN }))
        .then((r) => {
          answered.set(org, r.status);
          if (r.status === 200) firstAnswer();
        })
        .catch(() => undefined),
    );
    await first;
    a.child.kill('SIGKILL');
    await a.exited;
    await Promise.all(connects);
    hf.knobs.delayMs = 0;
    const acknowledged = orgs.filter((org) => answered.get(org) === 200);
    expect(acknowledged.length).toBeGreaterThan(0);
    // Some were cut: the balancer answered 502 for the dead replica, or the connection dropped.
    expect(acknowledged.length).toBeLessThan(orgs.length);
    for (const org of orgs) {
      const read = await api(b.url, 'GET', link(org));
      if (acknowledged.includes(org)) expect(read.status).toBe(200);
      // Present or absent, never half there: what reads back is a whole link.
      expect([200, 404], `${org}: ${JSON.stringify(read.body)}`).toContain(read.status);
      if (read.status === 200)
        expect(read.body.integration).toMatchObject({ status: 'healthy', namespace: 'replica-user' });
    }
    const verify = await cliInProcess(['audit-verify'], { env: env(), cwd: database.dir });
    expect(verify.code).toBe(0);
  });
});
