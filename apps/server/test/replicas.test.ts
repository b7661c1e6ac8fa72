// Two API replicas (`serve` from the compiled bin, as deployed) and two console replicas (the built
// console, `node build`) on one PostgreSQL database, each pair behind a loopback round-robin
// balancer (issue 12, "How it is tested"): links, TOTP replay, the login limit and the health sweep
// hold across API replicas, kill -9 of one loses nothing it acknowledged, and a console sign-in or
// step-up started on one console replica completes on the other.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKey, isoNow, Keyring, reserveAddressAttempt, sealSecret, sql, upsertLink } from '@alphaswarm/db';
import { linkWrite } from '@alphaswarm/db/testing';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliInProcess } from './run-cli';
import { dialect, type TestDatabase, testDatabase } from './support/database';
import { freePort, TEST_PASSWORD_COST } from './support/harness';
import { startTestOidc, type TestOidc } from './support/oidc';
import { type RoundRobin, startRoundRobin } from './support/round-robin';
import { type ServerProcess, startServerProcess } from './support/spawn';

const KEY = generateKey();
const PASSWORD = 'correct horse battery staple';
const LINK_TOKEN = 'hf_replicaSuiteToken0000000000000';
/** Links the sweep probes, each with a token of its own so that probes can be counted per link. */
const SWEPT = 8;
const sweepToken = (i: number) => `hf_swept_${i}`;
/** The console's production build (`pnpm --filter @alphaswarm/web build`; scripts/test.sh builds it before vitest). */
const CONSOLE_ENTRY = resolve(fileURLToPath(import.meta.url), '../../../web/build/index.js');
const CONSOLE_SESSION_KEY = generateKey();
/** The console's admin: a TOTP secret of its own, so its codes never collide with alice's replay test. */
const CONSOLE_ADMIN = 'bob';
const CONSOLE_PASSWORD = 'bob has a long password too';
/** The replicas' step-up max age: the console's sign-in goes stale within the run. */
const MAX_AGE = 5;
/**
 * The API half's bearer tokens say their MFA happened this far ahead of the minting (the verifier
 * allows a minute of clock skew), so that none of its assertions depends on how fast a loaded
 * machine answers within the short max age above.
 */
const AUTH_TIME_AHEAD = 50;

/** An API replica (`serve`), or a console replica (adapter-node's server from the build), ready once it serves the sign-in page. */
type Replica = ServerProcess;
type ConsoleReplica = ServerProcess;

/**
 * A browser without JavaScript, reduced to what the console sees of one: a cookie jar shared by
 * every replica (one origin behind the balancer), and form posts as such a browser sends them
 * (`Origin: null` under the console's no-referrer policy, with `Sec-Fetch-Site: same-origin`).
 */
function plainBrowser() {
  const jar = new Map<string, string>();
  const request = async (base: string, path: string, form?: Record<string, string>) => {
    const res = await fetch(`${base}${path}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        // A browser's navigation asks for HTML (SvelteKit answers other clients' form posts in JSON).
        accept: 'text/html,application/xhtml+xml',
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form
          ? {
              'content-type': 'application/x-www-form-urlencoded',
              origin: 'null',
              'sec-fetch-site': 'same-origin',
            }
          : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (!value || /max-age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), html: await res.text() };
  };
  return {
    get: (base: string, path: string) => request(base, path),
    post: (base: string, path: string, form: Record<string, string>) => request(base, path, form),
  };
}

/**
 * A TOTP code the IdP takes now, never a step used before for this secret: the current step, or
 * the next one (the IdP accepts an authenticator one step ahead), so two uses within one step
 * need no wait.
 */
function totpCodes(secret: string) {
  let last = -1;
  return async () => {
    const now = Math.floor(Date.now() / 30_000);
    const step = Math.max(now, last + 1);
    if (step > now + 1) throw new Error('a third TOTP code within one 30 s step');
    last = step;
    return generate({ secret, epoch: step * 30 });
  };
}

describe.runIf(dialect === 'postgres')('two API replicas and two console replicas on one PostgreSQL', () => {
  let database: TestDatabase;
  let oidc: TestOidc;
  let hf: HuggingFaceFake;
  let lb: RoundRobin;
  let consoleLb: RoundRobin;
  let secret: string;
  let consoleSecret: string;
  const replicas: Replica[] = [];
  const consoles: ConsoleReplica[] = [];
  const browser = plainBrowser();
  let nextCode: () => Promise<string>;
  /** When the console admin's sign-in completed: its MFA is stale MAX_AGE seconds later. */
  let signedInAt = 0;

  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: database.dir,
    ...database.env,
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: KEY,
    ...TEST_PASSWORD_COST,
  });

  async function startReplica(port: number): Promise<Replica> {
    const replica = startServerProcess(BIN, ['serve'], {
      port,
      probe: '/readyz',
      env: {
        ...env(),
        ALPHASWARM_ADMIN_PORT: String(port),
        // One public address for every replica, as behind a real balancer: the embedded IdP's issuer,
        // so a sign-in's steps may land on either replica.
        ALPHASWARM_ADMIN_PUBLIC_URL: lb.url,
        ALPHASWARM_ADMIN_HF_ENDPOINT: hf.url,
        ALPHASWARM_ADMIN_OIDC_ISSUER: oidc.issuer,
        ALPHASWARM_ADMIN_OIDC_AUDIENCE: oidc.audience,
        // The balancer (and this test) connect from loopback and say who the client is.
        ALPHASWARM_ADMIN_TRUSTED_PROXIES: '127.0.0.1',
        ALPHASWARM_ADMIN_HEALTH_INTERVAL: '12',
        ALPHASWARM_ADMIN_HEALTH_CONCURRENCY: '2',
        ALPHASWARM_ADMIN_STEP_UP_MAX_AGE: String(MAX_AGE),
        ALPHASWARM_ADMIN_LOG_LEVEL: 'info',
      },
    });
    await replica.ready;
    return replica;
  }

  function startConsole(port: number): ConsoleReplica {
    return startServerProcess(process.execPath, [CONSOLE_ENTRY], {
      port,
      probe: '/login',
      isUp: (r) => r.status === 200,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: database.dir,
        ...database.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        // The public origin is the balancer's: a browser only ever sees that one.
        ORIGIN: consoleLb.url,
        ALPHASWARM_ENV: 'test',
        ALPHASWARM_ADMIN_API_URL: lb.url,
        ALPHASWARM_CONSOLE_SESSION_KEY: CONSOLE_SESSION_KEY,
        NODE_ENV: 'production',
      },
    });
  }

  async function api(base: string, method: string, path: string, body?: unknown, from?: string) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(path.startsWith('/auth/')
          ? {}
          : {
              authorization: `Bearer ${await oidc.mint({ auth_time: Math.floor(Date.now() / 1000) + AUTH_TIME_AHEAD })}`,
            }),
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
    if (!existsSync(CONSOLE_ENTRY)) {
      throw new Error(
        `The console is not built (no ${CONSOLE_ENTRY}): run \`pnpm --filter @alphaswarm/web build\` first (scripts/test.sh does).`,
      );
    }
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
          linkWrite({
            orgId: `org-swept-${i}`,
            kind: 'huggingface',
            namespace: 'swept',
            secret: sealSecret(keyring, { token: sweepToken(i) }),
          }),
          isoNow(new Date()),
        );
      }
    } finally {
      await store.close();
    }
    const enrol = (username: string, password: string) =>
      cliInProcess(['create-admin', username, '--password-stdin'], {
        env: env(),
        cwd: database.dir,
        stdin: `${password}\n`,
      }).then((run) => {
        expect(run.code).toBe(0);
        return /secret:\s+([A-Z2-7]+)/.exec(run.stdout)?.[1] ?? '';
      });
    // Both balancers first, so that every replica knows its public address; then all four replicas
    // and both enrolments at once. Both API replicas start together on a database where pg-boss
    // has never run. The tests start once all four answer: a console still starting would take
    // the CPU the first burst of connects needs.
    const apiPorts = [await freePort(), await freePort()];
    const consolePorts = [await freePort(), await freePort()];
    lb = await startRoundRobin(apiPorts.map((port) => `http://127.0.0.1:${port}`));
    consoleLb = await startRoundRobin(consolePorts.map((port) => `http://127.0.0.1:${port}`));
    consoles.push(...consolePorts.map(startConsole));
    const started = await Promise.allSettled([
      Promise.all(apiPorts.map(startReplica)).then((r) => replicas.push(...r)),
      ...consoles.map((c) => c.ready),
      enrol('alice', PASSWORD).then((s) => {
        secret = s;
      }),
      enrol(CONSOLE_ADMIN, CONSOLE_PASSWORD).then((s) => {
        consoleSecret = s;
      }),
    ]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
  });
  afterAll(async () => {
    for (const r of [...replicas, ...consoles]) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      await r.exited;
    }
    await lb?.close();
    await consoleLb?.close();
    await hf?.close();
    await oidc?.close();
    await database?.dispose();
  });

  it('a console sign-in started on one console replica continues on the other', async () => {
    const [a, b] = consoles as [ConsoleReplica, ConsoleReplica];
    nextCode = totpCodes(consoleSecret);
    // Through the balancer, which hands the password step to A and the TOTP step to B.
    const password = await browser.post(consoleLb.url, '/login?/password', {
      username: CONSOLE_ADMIN,
      password: CONSOLE_PASSWORD,
    });
    expect(password.status).toBe(200);
    expect(password.html).toContain('name="code"');
    const totp = await browser.post(consoleLb.url, '/login?/totp', { code: await nextCode() });
    expect(totp, totp.html).toMatchObject({ status: 303, location: '/' });
    expect(consoleLb.served).toEqual([1, 1]);
    signedInAt = Date.now();
    for (const c of [a, b]) {
      const home = await browser.get(c.url, '/');
      expect(home.status).toBe(200);
      expect(home.html).toMatch(`Signed in as <strong>${CONSOLE_ADMIN}</strong>`);
    }
  });

  it('concurrent connects and disconnects of the same and of different links, through both replicas', async () => {
    const orgs = Array.from({ length: 8 }, (_, i) => `org-r${i}`);
    const different = await Promise.all(orgs.map((org) => api(lb.url, 'POST', link(org), { token: LINK_TOKEN })));
    expect(
      different.map((r) => r.status),
      JSON.stringify(different.map((r) => r.body)),
    ).toEqual(orgs.map(() => 200));
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

  it('a step-up started on one console replica completes on the other: the action runs once, its outcome is shown once', async () => {
    const [a, b] = consoles as [ConsoleReplica, ConsoleReplica];
    const org = 'org-console';
    const connected = await api(lb.url, 'POST', link(org), { token: LINK_TOKEN });
    expect(connected.status).toBe(200);
    const credentialKey: string = connected.body.integration.credential_key;
    // Until the sign-in's MFA is older than the max age (the tests above usually took that long).
    await new Promise((r) => setTimeout(r, Math.max(0, signedInAt + (MAX_AGE + 1) * 1000 - Date.now())));

    const disconnect = await browser.post(a.url, `/orgs/${org}/disconnect/huggingface`, {});
    expect(disconnect, disconnect.html).toMatchObject({ status: 303, location: '/step-up' });
    const prompt = await browser.get(b.url, '/step-up');
    expect(prompt.status).toBe(200);
    expect(prompt.html).toContain(`Disconnect Hugging Face from ${org}`);
    const verify = await browser.post(b.url, '/step-up?/verify', { code: await nextCode() });
    expect(verify.status, verify.html).toBe(303);
    const done = /^\/orgs\/org-console\/disconnect\/huggingface\?done=(run_[\w-]+)$/.exec(verify.location ?? '');
    expect(done, String(verify.location)).not.toBeNull();
    const runId = done?.[1];
    // The outcome, written on B, is shown on A, once.
    const shown = await browser.get(a.url, verify.location ?? '');
    expect(shown.status).toBe(200);
    expect(shown.html).toContain(`<code>${credentialKey}</code>`);
    expect((await browser.get(b.url, verify.location ?? '')).html).not.toContain(credentialKey);

    expect((await api(lb.url, 'GET', link(org))).status).toBe(404);
    const store = await database.open();
    try {
      // The stale attempt on A refused, then the replay on B: one success, the run B redirected to.
      const rows = await store.exec(
        sql`SELECT run_id, outcome FROM audit_events WHERE org_id = ${org} AND action = 'integrations.disconnect' ORDER BY seq`,
      );
      expect(
        rows.filter((r) => r.outcome === 'denied'),
        JSON.stringify(rows),
      ).toHaveLength(1);
      expect(rows.filter((r) => r.outcome === 'success').map((r) => r.run_id)).toEqual([runId]);
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
