import type { AppError } from '@alphaswarm/api';
import { createAdminClient } from '@alphaswarm/api/client';
import {
  allSigningKeys,
  generateKey,
  getAdminUser,
  insertConsoleSession,
  listAudit,
  listConsoleSessions,
  sql,
} from '@alphaswarm/db';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { decodeJwt, decodeProtectedHeader, importPKCS8, type JWTPayload, SignJWT } from 'jose';
import { generate } from 'otplib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { embeddedIdp } from '../src/auth/idp';
import { parseEnv } from '../src/env';
import { createLogger } from '../src/logger';
import { createRuntime } from '../src/runtime';
import { loadKeyring, productionProblems } from '../src/runtime/index';
import { cliInProcess } from './run-cli';
import { breakAuditWrites } from './support/database';
import { call, type Harness, startHarness } from './support/harness';

/**
 * The embedded IdP end to end: a real server on loopback, a real SQLite file, enrolment through
 * the CLI command, and TOTP codes from otplib at a controlled clock. The clock is the process
 * Date (faked, nothing else), so the server, jose and otplib all see the same time.
 */

const PASSWORD = 'correct horse battery staple';
const HF_TOKEN = 'hf_read_token_idp';
const CONNECT = '/admin/accounts/org-acme/integrations/huggingface';
const READ = '/admin/accounts/org-acme/integrations';
const T0 = Date.parse('2030-01-01T00:00:05Z');

const clock = {
  ms: T0,
  set(ms: number) {
    this.ms = ms;
    vi.setSystemTime(ms);
  },
  advance(seconds: number) {
    this.set(this.ms + seconds * 1000);
  },
  /** Move to 5 s into the next TOTP step, so every step-up in a test gets a code of its own. */
  nextStep() {
    this.set((Math.floor(this.ms / 30_000) + 1) * 30_000 + 5_000);
  },
  get seconds() {
    return Math.floor(this.ms / 1000);
  },
};

/** The code an authenticator app shows now (or `steps` periods away). */
function totp(secret: string, steps = 0): Promise<string> {
  return generate({ secret, epoch: clock.seconds + steps * 30 });
}

interface CliRun {
  out: string[];
  err: string[];
  exitCode: number;
}

async function cli(h: Harness, args: string[], stdin = ''): Promise<CliRun> {
  // The harness's database, on the test project's dialect.
  const run = await cliInProcess(args, { env: h.cliEnv, stdin });
  const lines = (s: string) => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));
  return { out: lines(run.stdout), err: lines(run.stderr), exitCode: run.code };
}

async function enrol(h: Harness, username: string, scopes: string[] = []): Promise<string> {
  const run = await cli(
    h,
    ['create-admin', username, '--password-stdin', ...(scopes.length ? ['--scopes', ...scopes] : [])],
    `${PASSWORD}\n`,
  );
  expect(run.err).toEqual([]);
  expect(run.exitCode).toBe(0);
  const secret = /secret:\s+([A-Z2-7]+)/.exec(run.out.join('\n'))?.[1];
  if (!secret) throw new Error('create-admin printed no secret');
  return secret;
}

const post = (h: Harness, path: string, body: unknown, token: string | null = null) =>
  call(h, 'POST', path, { token, body });

async function signIn(h: Harness, username: string, secret: string) {
  const login = await post(h, '/auth/login', { username, password: PASSWORD });
  expect(login.status).toBe(200);
  const step = await post(h, '/auth/step-up', { mfa_token: login.body.mfa_token, code: await totp(secret) });
  expect(step.status).toBe(200);
  return step.body as {
    access_token: string;
    refresh_token: string;
    expires_in: number;
    token_type: string;
    scope: string;
  };
}

async function trpc(h: Harness, path: string, input: unknown, token?: string) {
  const res = await fetch(`${h.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as {
    result?: { data: any };
    error?: { message: string; data: { app_code: string } };
  };
  return { status: res.status, headers: res.headers, data: body.result?.data, error: body.error };
}

/** Every test starts with no lock, no failure count and an empty per-address window. */
async function startAfresh(h: Harness): Promise<void> {
  await h.store.exec(sql`UPDATE admin_users SET failed_attempts = 0, locked_until = NULL`);
  clock.advance(16 * 60);
  clock.nextStep();
}

/** A mutation that needs a fresh step-up: connecting a Hugging Face token to org-acme. */
function connectAs(h: Harness, token: string) {
  return trpc(h, 'integrations.connect.huggingface', { org_id: 'org-acme', token: HF_TOKEN }, token);
}

async function auditText(h: Harness): Promise<string> {
  return JSON.stringify(await listAudit(h.store.db, {}, { limit: 10_000 }));
}

async function authEvents(h: Harness, action: string) {
  return (await listAudit(h.store.db, { action }, { limit: 1000 })).filter((e) => e.action === action);
}

function tamper(token: string, change: (claims: JWTPayload) => JWTPayload): string {
  const [head, body, sig] = token.split('.');
  const claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8')) as JWTPayload;
  return `${head}.${Buffer.from(JSON.stringify(change(claims))).toString('base64url')}.${sig}`;
}

/** The IdP's routes are mounted by `listen` itself whenever the embedded IdP is on. */
async function startIdpHarness(hf?: HuggingFaceFake, env: Record<string, string> = {}): Promise<Harness> {
  return startHarness({ env, ...(hf ? { upstreams: { huggingfaceEndpoint: hf.url } } : {}) });
}

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  clock.set(T0);
});
afterAll(() => {
  vi.useRealTimers();
});

describe('embedded IdP: enrol → login → step-up → a mutating call', () => {
  let h: Harness;
  let hf: HuggingFaceFake;
  let secret: string;

  beforeAll(async () => {
    clock.set(T0);
    hf = await startHuggingFaceFake();
    hf.addToken(HF_TOKEN, hfProfile({ name: 'alice', role: 'read' }));
    h = await startIdpHarness(hf);
  });
  afterAll(async () => {
    await h.close();
    await hf.close();
  });

  it('create-admin prints the secret, the otpauth URI and a terminal QR code; stores a scrypt hash and a Fernet token', async () => {
    const run = await cli(h, ['create-admin', 'alice', '--password-stdin'], `${PASSWORD}\n`);
    expect(run.exitCode).toBe(0);
    const text = run.out.join('\n');
    secret = /secret:\s+([A-Z2-7]{32})\b/.exec(text)?.[1] ?? '';
    expect(secret).toHaveLength(32);
    expect(text).toContain(`otpauth://totp/AlphaSwarm%20Admin:alice?secret=${secret}&issuer=AlphaSwarm%20Admin`);
    expect(run.out.filter((l) => /[█▀▄]/.test(l)).length).toBeGreaterThan(10);

    const row = await getAdminUser(h.store.db, 'alice');
    expect(row).toMatchObject({ scopes: 'admin:cluster', disabledAt: null, failedAttempts: 0, lastTotpStep: 0 });
    // At the cost the configuration asks for (the harness: 2^14), r=8, p=1, a 32-byte salt and hash.
    expect(row?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{43}\$[\w-]{43}$/);
    expect(row?.totpSecret).toMatch(/^gAAAAA/);
    expect(h.keyring.decrypt(row?.totpSecret ?? '').toString()).toBe(secret);

    const audit = await authEvents(h, 'admin_users.create');
    expect(audit.map((e) => e.outcome).sort()).toEqual(['started', 'success']);
    expect(audit[0]?.actor).toMatch(/^cli:/);
    const all = await auditText(h);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(secret);

    const again = await cli(h, ['create-admin', 'alice', '--password-stdin'], `${PASSWORD}\n`);
    expect(again.exitCode).toBe(1);
    expect(again.err.join('\n')).toMatch(/^error: An admin named "alice" already exists/);
    const weak = await cli(h, ['create-admin', 'bob', '--password-stdin'], 'short\n');
    expect(weak.err.join('\n')).toMatch(/at least 12 characters/);
    const bad = await cli(h, ['create-admin', 'Bad Name', '--password-stdin'], `${PASSWORD}\n`);
    expect(bad.err.join('\n')).toMatch(/username is 1-64 characters/);
    expect(await getAdminUser(h.store.db, 'bob')).toBeUndefined();
  });

  it('login gives a first-factor token that opens nothing; step-up gives an access token; the mutation succeeds', async () => {
    clock.nextStep();
    const login = await post(h, '/auth/login', { username: 'alice', password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.body.expires_in).toBe(300);
    const mfa = decodeJwt(login.body.mfa_token);
    expect(mfa).toMatchObject({ iss: h.rt.env.publicUrl, aud: 'alphaswarm-admin:mfa', sub: 'alice', amr: ['pwd'] });
    expect(mfa.scope).toBeUndefined();
    expect((mfa.exp ?? 0) - (mfa.iat ?? 0)).toBeLessThanOrEqual(300);

    // The first factor alone can neither mutate nor read.
    const early = await call(h, 'POST', CONNECT, { token: login.body.mfa_token, body: { token: HF_TOKEN } });
    expect(early.status).toBe(401);
    expect(early.body.error.code).toBe('invalid_token');
    expect((await call(h, 'GET', READ, { token: login.body.mfa_token })).status).toBe(401);
    expect(hf.requests).toHaveLength(0);

    const step = await post(h, '/auth/step-up', { mfa_token: login.body.mfa_token, code: await totp(secret) });
    expect(step.status).toBe(200);
    expect(step.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'admin:cluster' });
    const header = decodeProtectedHeader(step.body.access_token);
    expect(header.alg).toBe('ES256');
    const access = decodeJwt(step.body.access_token);
    expect(access).toMatchObject({
      iss: h.rt.env.publicUrl,
      aud: 'alphaswarm-admin',
      sub: 'alice',
      scope: 'admin:cluster',
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: clock.seconds,
    });
    expect((access.exp ?? 0) - (access.iat ?? 0)).toBe(600);
    const refresh = decodeJwt(step.body.refresh_token);
    expect(refresh).toMatchObject({ aud: 'alphaswarm-admin:refresh', sub: 'alice', auth_time: clock.seconds });
    expect((refresh.exp ?? 0) - (refresh.iat ?? 0)).toBe(12 * 3600);
    const jwks = await call(h, 'GET', '/.well-known/jwks.json', { token: null });
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(header.kid);

    const connected = await call(h, 'POST', CONNECT, { token: step.body.access_token, body: { token: HF_TOKEN } });
    expect(connected.status).toBe(200);
    expect(connected.body.integration).toMatchObject({ org_id: 'org-acme', kind: 'huggingface', status: 'healthy' });
    const [outcome] = await listAudit(h.store.db, { action: 'integrations.connect.huggingface' }, { limit: 1 });
    expect(outcome).toMatchObject({ actor: 'alice', outcome: 'success' });

    const me = await fetch(`${h.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${step.body.access_token}` } });
    expect(((await me.json()) as { result: { data: unknown } }).result.data).toEqual({
      username: 'alice',
      scopes: ['admin:cluster'],
      auth_time: clock.seconds,
    });

    const logins = await authEvents(h, 'auth.login');
    const steps = await authEvents(h, 'auth.step_up');
    expect(logins[0]).toMatchObject({
      actor: 'alice',
      outcome: 'success',
      clientIp: expect.stringMatching(/127\.0\.0\.1/),
    });
    expect(steps[0]).toMatchObject({ actor: 'alice', outcome: 'success' });
    expect(await auditText(h)).not.toContain(PASSWORD);
  });

  it('the same through the tRPC auth router', async () => {
    clock.nextStep();
    const login = await trpc(h, 'auth.login', { username: 'alice', password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.data).toMatchObject({ expires_in: 300 });
    const step = await trpc(h, 'auth.stepUp', { mfa_token: login.data.mfa_token, code: await totp(secret) });
    expect(step.status).toBe(200);
    expect(step.data).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'admin:cluster' });
    const connected = await connectAs(h, step.data.access_token);
    expect(connected.status).toBe(200);
    expect(connected.data.audit_run_id).toMatch(/^run_/);

    const wrong = await trpc(h, 'auth.login', { username: 'alice', password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(wrong.error).toMatchObject({
      message: 'Invalid username or password.',
      data: { app_code: 'invalid_token' },
    });
  });

  it('stale auth_time: refresh keeps it → RFC 9470 challenge → step-up with the code alone → the retry succeeds', async () => {
    clock.nextStep();
    const first = await signIn(h, 'alice', secret);
    const authTime = clock.seconds;

    clock.advance(601);
    const refreshed = await post(h, '/auth/refresh', { refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token)).toMatchObject({ auth_time: authTime, amr: ['pwd', 'otp', 'mfa'] });
    expect(decodeJwt(refreshed.body.refresh_token).auth_time).toBe(authTime);

    const challenged = await call(h, 'POST', CONNECT, {
      token: refreshed.body.access_token,
      body: { token: HF_TOKEN },
    });
    expect(challenged.status).toBe(401);
    expect(challenged.body.error.code).toBe('insufficient_user_authentication');
    expect(challenged.headers.get('www-authenticate')).toMatch(
      /^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=600$/,
    );
    // Reads need no fresh MFA.
    expect((await call(h, 'GET', READ, { token: refreshed.body.access_token })).status).toBe(200);

    // Step-up again: no password, the bearer token says who, the code proves the second factor.
    const step = await post(h, '/auth/step-up', { code: await totp(secret) }, refreshed.body.access_token);
    expect(step.status).toBe(200);
    expect(decodeJwt(step.body.access_token).auth_time).toBe(clock.seconds);
    expect(decodeJwt(step.body.refresh_token).auth_time).toBe(clock.seconds);
    const retried = await call(h, 'POST', CONNECT, { token: step.body.access_token, body: { token: HF_TOKEN } });
    expect(retried.status).toBe(200);
    expect((await authEvents(h, 'auth.step_up'))[0]?.detail).toMatchObject({ via: 'access_token' });

    // The console's server side: refresh_token in the body, through tRPC.
    clock.advance(601);
    clock.nextStep();
    const again = await trpc(h, 'auth.refresh', { refresh_token: step.body.refresh_token });
    expect(again.status).toBe(200);
    const stale = await connectAs(h, again.data.access_token);
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toMatch(/error="insufficient_user_authentication".*max_age=600/);
    const stepped = await trpc(h, 'auth.stepUp', { code: await totp(secret), refresh_token: again.data.refresh_token });
    expect(stepped.status).toBe(200);
    const ok = await connectAs(h, stepped.data.access_token);
    expect(ok.status).toBe(200);
  });

  it('a session ends 12 h after its last step-up, however often it is refreshed', async () => {
    clock.nextStep();
    const tokens = await signIn(h, 'alice', secret);
    let refresh = tokens.refresh_token;
    for (let i = 0; i < 3; i++) {
      clock.advance(4 * 3600);
      const res = await post(h, '/auth/refresh', { refresh_token: refresh });
      if (i < 2) {
        expect(res.status).toBe(200);
        refresh = res.body.refresh_token;
      } else {
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('invalid_token');
      }
    }
  });

  it('tokens are not interchangeable, and tampered ones are refused', async () => {
    clock.nextStep();
    const login = await post(h, '/auth/login', { username: 'alice', password: PASSWORD });
    const tokens = (await post(h, '/auth/step-up', { mfa_token: login.body.mfa_token, code: await totp(secret) })).body;

    const refused = async (res: Promise<{ status: number; body: any }>) => {
      const r = await res;
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('invalid_token');
    };
    // Refresh token as an access token, mfa token as a refresh token, access token as an mfa token.
    await refused(call(h, 'GET', READ, { token: tokens.refresh_token }));
    await refused(post(h, '/auth/refresh', { refresh_token: login.body.mfa_token }));
    await refused(post(h, '/auth/refresh', { refresh_token: tokens.access_token }));
    clock.nextStep();
    await refused(post(h, '/auth/step-up', { mfa_token: tokens.access_token, code: await totp(secret) }));

    // Tampered claims with the original signature.
    await refused(
      call(h, 'POST', CONNECT, {
        token: tamper(tokens.access_token, (c) => ({ ...c, sub: 'root' })),
        body: { token: HF_TOKEN },
      }),
    );
    await refused(
      call(h, 'GET', READ, {
        token: tamper(tokens.access_token, (c) => ({ ...c, scope: 'admin:cluster integrations:use' })),
      }),
    );
    await refused(
      post(h, '/auth/refresh', {
        refresh_token: tamper(tokens.refresh_token, (c) => ({ ...c, auth_time: clock.seconds + 3600 })),
      }),
    );
    await refused(
      post(h, '/auth/step-up', {
        mfa_token: tamper(login.body.mfa_token, (c) => ({ ...c, sub: 'bob' })),
        code: await totp(secret),
      }),
    );
    // A flipped signature byte.
    const [a, b, sig = ''] = tokens.access_token.split('.');
    const flipped = `${a}.${b}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    await refused(call(h, 'GET', READ, { token: flipped }));
    // Our own tokens were never accepted for the external issuer's audience, nor the reverse.
    await refused(post(h, '/auth/step-up', { code: await totp(secret) }, await h.token()));
  });

  it('publishes discovery and JWKS; rotation keeps the previous key until its tokens expired, then refuses it', async () => {
    const discovery = await call(h, 'GET', '/.well-known/openid-configuration', { token: null });
    expect(discovery.status).toBe(200);
    expect(discovery.body).toMatchObject({
      issuer: h.rt.env.publicUrl,
      jwks_uri: `${h.rt.env.publicUrl}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['ES256'],
    });
    // Beside the admin keys: the audit checkpoint key (Ed25519), published for pinning.
    const published = (await call(h, 'GET', '/.well-known/jwks.json', { token: null })).body.keys as Record<
      string,
      unknown
    >[];
    expect(published.filter((k) => k.crv === 'Ed25519')).toMatchObject([{ kty: 'OKP', alg: 'EdDSA', use: 'sig' }]);
    const adminKeys = (keys: { kid: string; alg: string }[]) => keys.filter((k) => k.alg === 'ES256').map((k) => k.kid);
    const before = published.filter((k) => k.alg === 'ES256');
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(before[0]?.d).toBeUndefined();
    const oldKid = String(before[0]?.kid);

    clock.nextStep();
    const old = await signIn(h, 'alice', secret);
    // What a holder of the retired key could still sign: a fresh token with the old kid.
    const row = (await allSigningKeys(h.store.db)).find((k) => k.kid === oldKid)!;
    const oldKey = await importPKCS8(h.keyring.decrypt(row.privateKey).toString(), 'ES256');
    const forge = () =>
      new SignJWT({ scope: 'admin:cluster', amr: ['pwd', 'otp', 'mfa'], auth_time: clock.seconds })
        .setProtectedHeader({ alg: 'ES256', kid: oldKid })
        .setIssuer(h.rt.env.publicUrl)
        .setAudience('alphaswarm-admin')
        .setSubject('alice')
        .setIssuedAt()
        .setExpirationTime(clock.seconds + 600)
        .sign(oldKey);

    const rotatedAt = clock.ms;
    const newKid = await h.rt.adminIssuer!.rotate();
    expect(newKid).not.toBe(oldKid);
    const during = adminKeys((await call(h, 'GET', '/.well-known/jwks.json', { token: null })).body.keys);
    expect(during).toEqual([oldKid, newKid]);
    expect((await call(h, 'POST', CONNECT, { token: old.access_token, body: { token: HF_TOKEN } })).status).toBe(200);
    clock.nextStep();
    const fresh = await signIn(h, 'alice', secret);
    expect(decodeProtectedHeader(fresh.access_token).kid).toBe(newKid);
    expect(decodeProtectedHeader(fresh.refresh_token).kid).toBe(newKid);
    clock.advance(300);
    expect((await call(h, 'GET', READ, { token: await forge() })).status).toBe(200);

    // Past the overlap (longest admin token 900 s + 60 s): the old key is gone and refused.
    clock.set(rotatedAt + 961_000);
    const after = adminKeys((await call(h, 'GET', '/.well-known/jwks.json', { token: null })).body.keys);
    expect(after).toEqual([newKid]);
    const late = await call(h, 'GET', READ, { token: await forge() });
    expect(late.status).toBe(401);
    expect(late.body.error).toMatchObject({
      code: 'invalid_token',
      message: 'The bearer token was signed by an unknown key.',
    });
    // A refresh token signed before the rotation is ours alone to read: it still refreshes, now under the new key.
    const refreshed = await post(h, '/auth/refresh', { refresh_token: old.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(decodeProtectedHeader(refreshed.body.access_token).kid).toBe(newKid);
    expect((await call(h, 'GET', READ, { token: refreshed.body.access_token })).status).toBe(200);
  });

  it('plain HTTP answers malformed requests with 400 and wrong methods with 405', async () => {
    const notJson = await call(h, 'POST', '/auth/login', { token: null, body: 'username=alice' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_request');
    const noCode = await post(h, '/auth/step-up', { mfa_token: 'x', code: '12345' });
    expect(noCode.status).toBe(400);
    const nobody = await post(h, '/auth/step-up', { code: '123456' });
    expect(nobody.status).toBe(400);
    expect(nobody.body.error.message).toMatch(/mfa_token/);
    expect((await call(h, 'GET', '/auth/login', { token: null })).status).toBe(405);
  });
});

describe('embedded IdP: abuse resistance', () => {
  let h: Harness;
  let secret: string;

  beforeAll(async () => {
    clock.set(T0 + 86_400_000);
    h = await startIdpHarness();
    secret = await enrol(h, 'alice');
  });
  afterAll(() => h.close());
  afterEach(() => startAfresh(h));

  const login = async (username = 'alice', password = PASSWORD) => post(h, '/auth/login', { username, password });

  it('fails closed: no token of any kind leaves while its success cannot be audited', async () => {
    const expectRefused = (res: { status: number; body: any }, token: string) => {
      expect(res.status).toBe(503);
      expect(res.body.error).toEqual({
        code: 'audit_unavailable',
        message: 'The audit log could not be written, so no token was issued. Check the database, then retry.',
      });
      expect(JSON.stringify(res.body)).not.toContain(token);
    };

    let repair = await breakAuditWrites(h.store);
    expectRefused(await login(), 'mfa_token');
    await repair();
    const mfa = (await login()).body.mfa_token;

    repair = await breakAuditWrites(h.store);
    expectRefused(await post(h, '/auth/step-up', { mfa_token: mfa, code: await totp(secret) }), 'access_token');
    await repair();
    clock.nextStep();
    const tokens = await signIn(h, 'alice', secret);

    repair = await breakAuditWrites(h.store);
    expectRefused(await post(h, '/auth/refresh', { refresh_token: tokens.refresh_token }), 'access_token');
    await repair();
  });

  it('a TOTP code can be used once: replay refused, also with a new mfa token and under concurrency', async () => {
    const code = await totp(secret);
    const first = await post(h, '/auth/step-up', { mfa_token: (await login()).body.mfa_token, code });
    expect(first.status).toBe(200);
    const replay = await post(h, '/auth/step-up', { mfa_token: (await login()).body.mfa_token, code });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ code: 'invalid_token', message: expect.stringMatching(/already used/) });
    const replayViaSession = await post(h, '/auth/step-up', { code, refresh_token: first.body.refresh_token });
    expect(replayViaSession.status).toBe(401);

    clock.nextStep();
    const next = await totp(secret);
    const mfa = (await login()).body.mfa_token;
    // The two replays above were counted as failures: clear them so all five attempts raced below
    // fit under the lockout limit even when they are all in flight at once (as they are when each
    // database call is a round trip to a server).
    await h.store.exec(sql`UPDATE admin_users SET failed_attempts = 0`);
    const raced = await Promise.all(
      Array.from({ length: 5 }, () => post(h, '/auth/step-up', { mfa_token: mfa, code: next })),
    );
    expect(raced.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401]);

    const failures = (await authEvents(h, 'auth.step_up')).filter((e) => e.outcome === 'failure');
    expect(failures.map((e) => e.detail.reason)).toContain('replayed');
    const audit = await auditText(h);
    expect(audit).not.toContain(`"${code}"`);
    expect(audit).not.toContain(`"${next}"`);
  });

  it('accepts the codes of one step either side, not two', async () => {
    let mfa = (await login()).body.mfa_token;
    const attempt = async (steps: number) =>
      (await post(h, '/auth/step-up', { mfa_token: mfa, code: await totp(secret, steps) })).status;
    expect(await attempt(-2)).toBe(401);
    expect(await attempt(2)).toBe(401);
    expect(await attempt(-1)).toBe(200);
    clock.nextStep();
    mfa = (await login()).body.mfa_token;
    expect(await attempt(1)).toBe(200);
    // The step after that was just used: the current code is now a replay too.
    clock.nextStep();
    expect(await attempt(0)).toBe(401);
  });

  it('a wrong code is refused and audited without the code', async () => {
    const mfa = (await login()).body.mfa_token;
    const right = await totp(secret);
    const wrong = right === '000000' ? '111111' : '000000';
    const res = await post(h, '/auth/step-up', { mfa_token: mfa, code: wrong });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({
      code: 'invalid_token',
      message: expect.stringMatching(/code is not valid/),
    });
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const [event] = await authEvents(h, 'auth.step_up');
    expect(event).toMatchObject({
      actor: 'alice',
      outcome: 'failure',
      detail: { reason: 'wrong_code', via: 'mfa_token' },
    });
    expect(await auditText(h)).not.toContain(`"${wrong}"`);
    expect((await getAdminUser(h.store.db, 'alice'))?.failedAttempts).toBe(1);

    // The console tells a wrong code (stay, retry) from an ended session (sign in again) by data.field.
    const again = await trpc(h, 'auth.stepUp', { mfa_token: (await login()).body.mfa_token, code: wrong });
    expect(again.error?.data).toMatchObject({ app_code: 'invalid_token', field: 'code' });
    const spent = await trpc(h, 'auth.stepUp', { mfa_token: 'not.a.token', code: right });
    expect(spent.error?.data).toMatchObject({ app_code: 'invalid_token', field: null });
  });

  it('brute force on the password: the 5th failure locks the account for 15 minutes, audited; then it works again', async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await login('alice', `wrong password number ${i}`);
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({ code: 'invalid_token', message: 'Invalid username or password.' });
    }
    const locked = await login();
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('rate_limited');
    expect(Number(locked.headers.get('retry-after'))).toBe(15 * 60);
    const [lockout] = await authEvents(h, 'auth.lockout');
    expect(lockout).toMatchObject({
      actor: 'alice',
      outcome: 'denied',
      detail: { attempts: 5, last_factor: 'password' },
    });
    const denied = (await authEvents(h, 'auth.login')).filter((e) => e.outcome === 'denied');
    expect(denied[0]?.detail).toMatchObject({ reason: 'locked' });
    const failures = (await authEvents(h, 'auth.login')).filter((e) => e.outcome === 'failure');
    expect(failures.filter((e) => e.detail.reason === 'wrong_password').length).toBeGreaterThanOrEqual(5);
    expect(await auditText(h)).not.toContain('wrong password number');

    clock.advance(14 * 60);
    expect((await login()).status).toBe(429);
    clock.advance(61);
    clock.nextStep();
    await signIn(h, 'alice', secret);
    expect((await getAdminUser(h.store.db, 'alice'))?.failedAttempts).toBe(0);
  });

  it('brute force on the code: wrong codes count too, and the lock holds with the right code', async () => {
    const mfa = (await login()).body.mfa_token;
    for (let i = 0; i < 5; i++) {
      expect((await post(h, '/auth/step-up', { mfa_token: mfa, code: String(100000 + i) })).status).toBe(401);
    }
    const locked = await post(h, '/auth/step-up', { mfa_token: mfa, code: await totp(secret) });
    expect(locked.status).toBe(429);
    expect((await authEvents(h, 'auth.lockout'))[0]?.detail).toMatchObject({ last_factor: 'otp' });
  });

  it('unknown user: the same answer as a wrong password, and it locks the same way', async () => {
    const unknown = await login('mallory', PASSWORD);
    const wrong = await login('alice', 'not the right password');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.headers.get('www-authenticate')).toBe(wrong.headers.get('www-authenticate'));
    for (let i = 0; i < 4; i++) await login('mallory', PASSWORD);
    const locked = await login('mallory', PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body.error.message).toBe(
      await (async () => {
        for (let i = 0; i < 4; i++) await login('alice', 'not the right password');
        return (await login('alice')).body.error.message;
      })(),
    );
    const events = await authEvents(h, 'auth.login');
    expect(events.some((e) => e.detail.reason === 'unknown_user' && e.actor === 'anonymous')).toBe(true);
    expect(await auditText(h)).not.toContain('mallory');
  });

  it('per address: 20 failures within 5 minutes block every sign-in from it, audited', async () => {
    for (let i = 0; i < 20; i++) expect((await login(`nobody-${i}`, PASSWORD)).status).toBe(401);
    const blocked = await login();
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body.error.message).toMatch(/from this address/);
    expect((await post(h, '/auth/step-up', { mfa_token: 'x', code: '123456' })).status).toBe(429);
    expect((await authEvents(h, 'auth.login'))[0]).toMatchObject({
      outcome: 'denied',
      detail: { reason: 'address_rate_limited' },
    });
    clock.advance(5 * 60 + 1);
    clock.nextStep();
    await signIn(h, 'alice', secret);
  });

  it('disabled user: login, step-up and refresh refused; enable-admin restores', async () => {
    const session = await signIn(h, 'alice', secret);
    const pending = (await login()).body.mfa_token;
    const run = await cli(h, ['disable-admin', 'alice']);
    expect(run.out).toEqual(['Disabled admin "alice".']);

    const res = await login();
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/disabled/);
    clock.nextStep();
    expect((await post(h, '/auth/step-up', { mfa_token: pending, code: await totp(secret) })).status).toBe(401);
    expect((await post(h, '/auth/refresh', { refresh_token: session.refresh_token })).status).toBe(401);
    expect((await post(h, '/auth/step-up', { code: await totp(secret) }, session.access_token)).status).toBe(401);
    expect((await authEvents(h, 'admin_users.disable')).map((e) => e.outcome).sort()).toEqual(['started', 'success']);

    expect((await cli(h, ['enable-admin', 'alice'])).exitCode).toBe(0);
    clock.nextStep();
    await signIn(h, 'alice', secret);
    expect((await cli(h, ['disable-admin', 'nobody'])).err).toEqual(['error: No admin named "nobody".']);
  });

  it('reset-mfa: a new secret; the old one and every earlier session stop working', async () => {
    const session = await signIn(h, 'alice', secret);
    const run = await cli(h, ['reset-mfa', 'alice']);
    expect(run.exitCode).toBe(0);
    const fresh = /secret:\s+([A-Z2-7]+)/.exec(run.out.join('\n'))?.[1] ?? '';
    expect(fresh).not.toBe(secret);
    expect((await post(h, '/auth/refresh', { refresh_token: session.refresh_token })).body.error.message).toMatch(
      /session has ended/,
    );
    clock.nextStep();
    const mfa = (await login()).body.mfa_token;
    expect((await post(h, '/auth/step-up', { mfa_token: mfa, code: await totp(secret) })).status).toBe(401);
    expect((await post(h, '/auth/step-up', { mfa_token: mfa, code: await totp(fresh) })).status).toBe(200);
    secret = fresh;
    const list = await cli(h, ['list-admins']);
    expect(list.out[0]).toMatch(/^alice\tadmin:cluster\tactive\tcreated /);
  });
});

describe('embedded IdP: attempts are reserved before the hash, in the database', () => {
  let h: Harness;
  let secret: string;

  beforeAll(async () => {
    clock.set(T0 + 7 * 86_400_000);
    // The test's requests stand for many clients behind a trusted proxy.
    h = await startIdpHarness(undefined, { ALPHASWARM_ADMIN_TRUSTED_PROXIES: '127.0.0.1' });
    secret = await enrol(h, 'alice');
  });
  afterAll(() => h.close());
  afterEach(() => startAfresh(h));

  const from = (address: string, path: string, body: unknown) =>
    fetch(`${h.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify(body),
    });
  const hashes = () => embeddedIdp(h.rt).hashes.stats;

  it('one batched tRPC request cannot carry many logins: 400, nothing evaluated, no token', async () => {
    const runs = hashes().runs;
    const calls = 40;
    const input = Object.fromEntries(
      Array.from({ length: calls }, (_, i) => [
        String(i),
        { username: 'alice', password: i === calls - 1 ? PASSWORD : `wrong password ${i}` },
      ]),
    );
    const res = await fetch(`${h.url}/trpc/${Array(calls).fill('auth.login').join(',')}?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain('mfa_token');
    expect(text).toContain('cannot be batched');
    expect(hashes().runs).toBe(runs);
    expect(await authEvents(h, 'auth.login')).toEqual([]);
    expect((await getAdminUser(h.store.db, 'alice'))?.failedAttempts).toBe(0);
    // Batching itself still works for everything else, and a batch of one (what the typed client
    // sends) is a single attempt like any other.
    const system = await fetch(`${h.url}/trpc/system.info,system.info?batch=1&input=${encodeURIComponent('{}')}`);
    expect(system.status).toBe(200);
    const client = createAdminClient({ url: h.url, token: 'none' });
    const one = await client.auth.login.mutate({ username: 'alice', password: 'wrong password' }).catch((e) => e);
    expect(one.data).toMatchObject({ httpStatus: 401, app_code: 'invalid_token' });
    expect(hashes().runs).toBe(runs + 1);
  });

  it('30 parallel wrong logins for one account from 30 addresses: at most 5 are evaluated, then it is locked', async () => {
    const runs = hashes().runs;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        from(`198.51.100.${i + 1}`, '/auth/login', { username: 'alice', password: `wrong password ${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(25);
    expect(hashes().runs - runs).toBeLessThanOrEqual(5);
    // Whatever was evaluated counted; the right password now meets the lock (or the in-flight cap).
    const right = await from('198.51.100.200', '/auth/login', { username: 'alice', password: PASSWORD });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a flood from one address is refused at the door; a real sign-in from another completes meanwhile', async () => {
    const runs = hashes().runs;
    hashes().peakWaiting = 0; // measure this flood only
    const flood = Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        from('203.0.113.66', '/auth/login', { username: `nobody-${i}`, password: 'guess guess guess' }),
      ),
    );
    const login = await from('192.0.2.10', '/auth/login', { username: 'alice', password: PASSWORD });
    expect(login.status).toBe(200);
    const { mfa_token } = (await login.json()) as { mfa_token: string };
    const step = await from('192.0.2.10', '/auth/step-up', { mfa_token, code: await totp(secret) });
    expect(step.status).toBe(200);
    const statuses = (await flood).map((r) => r.status);
    // At most 2 hashes of one address run or wait at once, and never more than 20 per window:
    // the real sign-in never had more than those 2 ahead of it.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(40);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(hashes().runs - runs).toBeLessThanOrEqual(21);
    expect(hashes().peakWaiting).toBeLessThanOrEqual(2);
    const [event] = (await authEvents(h, 'auth.login')).filter((e) => e.outcome === 'success');
    expect(event?.clientIp).toBe('192.0.2.10');
  });

  it('two processes on one database share the limits', async () => {
    const store = await h.database.open();
    try {
      const other = createRuntime({
        env: h.rt.env,
        store,
        keyring: h.keyring,
        ephemeralKey: false,
        logger: createLogger('silent'),
      });
      const req = { clientIp: '192.0.2.77' };
      const wrong = { username: 'mallory', password: 'not it at all' };
      const status = (p: Promise<unknown>) =>
        p.then(
          () => 200,
          (e: AppError) => e.status,
        );
      for (let i = 0; i < 3; i++) expect(await status(embeddedIdp(h.rt).login(wrong, req))).toBe(401);
      for (let i = 0; i < 2; i++) expect(await status(embeddedIdp(other).login(wrong, req))).toBe(401);
      // The fifth failure happened in the other process: this one sees the lock.
      expect(await status(embeddedIdp(h.rt).login(wrong, req))).toBe(429);
      expect(await status(embeddedIdp(other).login(wrong, req))).toBe(429);
    } finally {
      await store.close();
    }
  });

  it('refresh tokens rotate: a spent one presented again ends the whole session', async () => {
    const first = await signIn(h, 'alice', secret);
    const second = await post(h, '/auth/refresh', { refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    const third = await post(h, '/auth/refresh', { refresh_token: second.body.refresh_token });
    expect(third.status).toBe(200);

    // The first token again: refused, and the family is revoked, so the newest one dies too.
    const replay = await post(h, '/auth/refresh', { refresh_token: first.refresh_token });
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/session has ended/);
    expect((await post(h, '/auth/refresh', { refresh_token: third.body.refresh_token })).status).toBe(401);
    clock.nextStep();
    const stepUp = await post(h, '/auth/step-up', { code: await totp(secret) }, third.body.access_token);
    expect(stepUp.status).toBe(401);
    const reuse = (await authEvents(h, 'auth.refresh')).filter((e) => e.detail.reason === 'refresh_token_reused');
    expect(reuse).toHaveLength(1);
    expect(reuse[0]).toMatchObject({ actor: 'alice', outcome: 'denied', detail: { session_revoked: true } });

    // Concurrent presentations of one token: exactly one rotates.
    clock.nextStep();
    const fresh = await signIn(h, 'alice', secret);
    const raced = await Promise.all(
      Array.from({ length: 4 }, () => post(h, '/auth/refresh', { refresh_token: fresh.refresh_token })),
    );
    expect(raced.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it('sign-out revokes the refresh tokens (HTTP and tRPC); a used mfa_token cannot open a second session', async () => {
    const session = await signIn(h, 'alice', secret);
    const out = await post(h, '/auth/logout', { refresh_token: session.refresh_token });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ signed_out: true });
    expect((await post(h, '/auth/refresh', { refresh_token: session.refresh_token })).status).toBe(401);
    clock.nextStep();
    expect((await post(h, '/auth/step-up', { code: await totp(secret) }, session.access_token)).status).toBe(401);
    expect((await post(h, '/auth/logout', { refresh_token: 'not-a-token' })).status).toBe(401);
    const [logout] = (await authEvents(h, 'auth.logout')).filter((e) => e.outcome === 'success');
    expect(logout).toMatchObject({ actor: 'alice', clientIp: '127.0.0.1' });

    clock.nextStep();
    const other = await signIn(h, 'alice', secret);
    expect((await trpc(h, 'auth.logout', { refresh_token: other.refresh_token })).data).toEqual({ signed_out: true });
    expect((await trpc(h, 'auth.refresh', { refresh_token: other.refresh_token })).status).toBe(401);

    clock.nextStep();
    const login = await post(h, '/auth/login', { username: 'alice', password: PASSWORD });
    const mfa = login.body.mfa_token;
    expect((await post(h, '/auth/step-up', { mfa_token: mfa, code: await totp(secret) })).status).toBe(200);
    clock.nextStep();
    const again = await post(h, '/auth/step-up', { mfa_token: mfa, code: await totp(secret) });
    expect(again.status).toBe(401);
    expect(again.body.error.message).toMatch(/already completed/);
  });

  it('sign out everywhere: console sessions gone, refresh and earlier access tokens refused (cached ones too), audited', async () => {
    const one = await signIn(h, 'alice', secret);
    clock.nextStep();
    const two = await signIn(h, 'alice', secret);
    const row = (hash: string, subject: string) =>
      insertConsoleSession(h.store.db, {
        idHash: hash.repeat(64),
        subject,
        createdAt: new Date(clock.ms),
        expiresAt: new Date(clock.ms + 3_600_000),
        address: '192.0.2.1',
        userAgent: 'Firefox',
        data: 'sealed',
      });
    await row('a', 'alice');
    await row('b', 'alice');
    await row('c', 'https://sso.example#alice');
    const get = async (path: string, input: unknown, token: string) => {
      const url = `${h.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as { result?: { data: any } } };
    };
    const listed = await get('sessions.list', { current: 'b'.repeat(64) }, two.access_token);
    expect(listed.body.result?.data.sessions).toEqual([
      expect.objectContaining({ address: '192.0.2.1', user_agent: 'Firefox', current: false }),
      expect.objectContaining({ current: true }),
    ]);
    expect(JSON.stringify(listed.body)).not.toMatch(/aaaa|sealed/);
    // Verified once, so the verifier has it cached.
    expect((await get('system.whoami', {}, two.access_token)).status).toBe(200);

    // Not step-up gated: an admin whose MFA went stale (a refresh keeps auth_time) can still protect themselves.
    clock.advance(590);
    const refreshed = await post(h, '/auth/refresh', { refresh_token: one.refresh_token });
    clock.advance(20);
    const out = await trpc(h, 'sessions.signOutEverywhere', {}, refreshed.body.access_token);
    expect(out.data.console_sessions).toBe(2);
    // Both sign-ins of this test, and any an earlier test left open.
    expect(out.data.refresh_sessions).toBeGreaterThanOrEqual(2);
    expect((await get('system.whoami', {}, two.access_token)).status).toBe(401);
    expect((await post(h, '/auth/refresh', { refresh_token: two.refresh_token })).status).toBe(401);
    expect((await listConsoleSessions(h.store.db, 'alice', new Date(clock.ms))).length).toBe(0);
    expect((await listConsoleSessions(h.store.db, 'https://sso.example#alice', new Date(clock.ms))).length).toBe(1);
    const [audited] = (await authEvents(h, 'sessions.signOutEverywhere')).filter((e) => e.outcome === 'success');
    expect(audited).toMatchObject({ actor: 'alice' });

    // A sign-in after it works.
    clock.advance(2);
    clock.nextStep();
    const again = await signIn(h, 'alice', secret);
    expect((await get('system.whoami', {}, again.access_token)).status).toBe(200);
  });

  it('IdP failures share the denied-call audit budget: 30 rows per address per minute, the rest counted', async () => {
    // Step-ups with a token that is no token: refused before any code is tried, so never rate-limited.
    const bad = (address: string) => from(address, '/auth/step-up', { mfa_token: 'junk', code: '000000' });
    const denied = (address: string) =>
      fetch(`${h.url}/admin/accounts/org-x/integrations`, {
        headers: { authorization: 'Bearer junk', 'x-forwarded-for': address },
      });
    const rows = async () =>
      (await listAudit(h.store.db, {}, { limit: 10_000 })).filter((e) => e.clientIp === '203.0.113.99');
    for (let i = 0; i < 20; i++) expect((await denied('203.0.113.99')).status).toBe(401);
    for (let i = 0; i < 80; i++) expect((await bad('203.0.113.99')).status).toBe(401);
    expect(await rows()).toHaveLength(30);
    // Another address has its own budget.
    expect((await bad('203.0.113.100')).status).toBe(401);
    expect((await listAudit(h.store.db, { action: 'auth.step_up' }, { limit: 1 }))[0]?.clientIp).toBe('203.0.113.100');
    clock.advance(61);
    await bad('203.0.113.99');
    const [latest] = await rows();
    expect(latest).toMatchObject({
      action: 'auth.step_up',
      detail: { reason: 'bad_token', suppressed_since_last: 70 },
    });
  });
});

describe('embedded IdP: configuration', () => {
  it('off: no /auth routes, no discovery, and the tRPC auth router says so', async () => {
    const h = await startIdpHarness(undefined, { ALPHASWARM_ADMIN_EMBEDDED_IDP: 'off' });
    try {
      expect(h.rt.adminIssuer).toBeNull();
      expect((await post(h, '/auth/login', { username: 'alice', password: PASSWORD })).status).toBe(404);
      expect((await call(h, 'GET', '/.well-known/jwks.json', { token: null })).status).toBe(404);
      expect((await call(h, 'GET', '/.well-known/openid-configuration', { token: null })).status).toBe(404);
      const res = await trpc(h, 'auth.login', { username: 'alice', password: PASSWORD });
      expect(res.status).toBe(404);
      expect(res.error?.message).toMatch(/ALPHASWARM_ADMIN_EMBEDDED_IDP/);
    } finally {
      await h.close();
    }
  });

  it('production: off unless ALPHASWARM_ADMIN_EMBEDDED_IDP=on, and check-production wants an https public URL', () => {
    const base = {
      ALPHASWARM_ENV: 'production',
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: generateKey(),
      ALPHASWARM_ADMIN_AUDIT_KEY: generateKey(),
      HOME: '/nonexistent',
    };
    const off = parseEnv({ ...base, ALPHASWARM_ADMIN_PUBLIC_URL: 'https://admin.example.com' });
    expect(off.embeddedIdp).toBe(false);
    const store = { db: null } as never;
    const rt = createRuntime({
      env: off,
      store,
      keyring: loadKeyring(off).keyring,
      ephemeralKey: false,
      logger: createLogger('silent'),
    });
    expect(rt.adminIssuer).toBeNull();
    expect(productionProblems(off, loadKeyring(off)).join(' ')).toMatch(/ALPHASWARM_ADMIN_OIDC_ISSUER/);

    const plain = parseEnv({
      ...base,
      ALPHASWARM_ADMIN_EMBEDDED_IDP: 'on',
      ALPHASWARM_ADMIN_PUBLIC_URL: 'http://admin.example.com',
    });
    expect(plain.embeddedIdp).toBe(true);
    expect(productionProblems(plain, loadKeyring(plain)).join(' ')).toMatch(
      /ALPHASWARM_ADMIN_PUBLIC_URL is http:\/\/admin\.example\.com: it must be https/,
    );

    const good = parseEnv({
      ...base,
      ALPHASWARM_ADMIN_EMBEDDED_IDP: 'on',
      ALPHASWARM_ADMIN_PUBLIC_URL: 'https://admin.example.com',
    });
    const problems = productionProblems(good, loadKeyring(good)).join(' ');
    expect(problems).not.toMatch(/ALPHASWARM_ADMIN_PUBLIC_URL|EMBEDDED_IDP|OIDC_ISSUER/);

    const dev = parseEnv({ HOME: '/nonexistent' });
    expect(dev.embeddedIdp).toBe(true);
    expect(dev.publicUrl).toBe('http://127.0.0.1:8700');
  });
});
