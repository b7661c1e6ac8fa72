import { listAudit, listPasskeys, recoveryCodesLeft } from '@alphaswarm/db';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { cliInProcess } from './run-cli';
import { type Options, SoftAuthenticator } from './support/authenticator';
import { call, type Harness, startHarness } from './support/harness';

/**
 * Passkeys, recovery codes and change-password through the real server (HTTP on loopback, the
 * real @simplewebauthn/server checks, the test project's database), with a software
 * authenticator answering the ceremonies, under ALPHASWARM_ADMIN_STEP_UP_REQUIRE_PHR=true.
 */

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a different staple of horses';
const CONSOLE = 'http://localhost:5173';
const T0 = Date.parse('2030-01-01T00:00:05Z');
// A mutation whose authorisation is all that matters here: a stale or TOTP-only token gets the
// RFC 9470 challenge; a passkey token gets through to "no such link".
const MUTATION = 'integrations.disconnect';
const MUTATION_INPUT = { org_id: 'org-none', kind: 'huggingface' };

let h: Harness;
let secret = '';

async function cli(args: string[], stdin = '') {
  const run = await cliInProcess(args, { env: h.cliEnv, stdin });
  return { out: run.stdout, err: run.stderr, exitCode: run.code };
}

async function trpc(path: string, input: unknown, token?: string, method: 'GET' | 'POST' = 'POST') {
  const res = await fetch(`${h.url}/trpc/${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(input ?? {}) } : {}),
  });
  const body = (await res.json()) as {
    result?: { data: any };
    error?: { message: string; data: { app_code: string } };
  };
  return { status: res.status, headers: res.headers, data: body.result?.data, error: body.error };
}

const totp = () => generate({ secret, epoch: Math.floor(Date.now() / 1000) });
const nextStep = () => vi.setSystemTime((Math.floor(Date.now() / 30_000) + 1) * 30_000 + 5_000);

async function totpSignIn() {
  nextStep();
  const login = await call(h, 'POST', '/auth/login', { token: null, body: { username: 'alice', password: PASSWORD } });
  const step = await call(h, 'POST', '/auth/step-up', {
    token: null,
    body: { mfa_token: login.body.mfa_token, code: await totp() },
  });
  expect(step.status).toBe(200);
  return step.body as { access_token: string; refresh_token: string };
}

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  h = await startHarness({
    env: { ALPHASWARM_ADMIN_CONSOLE_URL: CONSOLE, ALPHASWARM_ADMIN_STEP_UP_REQUIRE_PHR: 'true' },
  });
  const run = await cli(['create-admin', 'alice', '--password-stdin'], `${PASSWORD}\n`);
  expect(run.exitCode).toBe(0);
  secret = /secret:\s+([A-Z2-7]+)/.exec(run.out)?.[1] ?? '';
});
afterAll(async () => {
  vi.useRealTimers();
  await h?.close();
});

it('passkeys: enrol after a fresh TOTP sign-in, username-less sign-in and step-up carry acr phr; REQUIRE_PHR refuses TOTP; another RP id, a replayed challenge and a cloned counter are refused', async () => {
  const totpTokens = await totpSignIn();
  // A TOTP-only step-up does not open a mutation: the challenge names the level to ask for.
  const refused = await trpc(MUTATION, MUTATION_INPUT, totpTokens.access_token);
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toMatch(/acr_values="phr", max_age=600$/);

  // Enrol: the first passkey needs only a fresh MFA (TOTP).
  const key = new SoftAuthenticator(CONSOLE, 'localhost');
  const reg = await trpc('auth.passkeyRegisterOptions', {}, totpTokens.access_token);
  expect(reg.data.options).toMatchObject({
    rp: { id: 'localhost' },
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const registered = await trpc(
    'auth.passkeyRegister',
    { challenge_id: reg.data.challenge_id, name: 'YubiKey', response: key.register(reg.data.options as Options) },
    totpTokens.access_token,
  );
  expect(registered.data).toMatchObject({ id: key.id, name: 'YubiKey', amr: 'hwk', last_used_at: null });
  // Username-less sign-in: no allowCredentials; the credential says who.
  const begin = await trpc('auth.passkeyOptions', { purpose: 'sign_in' });
  expect(begin.data.options).toMatchObject({ rpId: 'localhost', userVerification: 'required', allowCredentials: [] });
  const answer = key.assert(begin.data.options);
  const signedIn = await trpc('auth.passkeyAuthenticate', { challenge_id: begin.data.challenge_id, response: answer });
  expect(signedIn.status).toBe(200);
  const claims = decodeJwt(signedIn.data.access_token);
  expect(claims).toMatchObject({ sub: 'alice', acr: 'phr', amr: ['hwk', 'user', 'mfa'] });
  expect(claims.auth_time).toBe(Math.floor(Date.now() / 1000));
  const allowed = await trpc(MUTATION, MUTATION_INPUT, signedIn.data.access_token);
  expect(allowed.error?.data.app_code).toBe('not_found');
  // A second passkey, synced (backup-eligible): `swk`. Now that alice has one, adding another needs it.
  expect((await trpc('auth.passkeyRegisterOptions', {}, totpTokens.access_token)).status).toBe(401);
  const synced = new SoftAuthenticator(CONSOLE, 'localhost', true);
  const reg2 = await trpc('auth.passkeyRegisterOptions', {}, signedIn.data.access_token);
  expect(reg2.data.options.excludeCredentials).toEqual([{ id: key.id, type: 'public-key', transports: ['usb'] }]);
  const second = await trpc(
    'auth.passkeyRegister',
    { challenge_id: reg2.data.challenge_id, name: 'Phone', response: synced.register(reg2.data.options as Options) },
    signedIn.data.access_token,
  );
  expect(second.data.amr).toBe('swk');

  // The refreshed token keeps the level.
  const refreshed = await trpc('auth.refresh', { refresh_token: signedIn.data.refresh_token });
  expect(decodeJwt(refreshed.data.access_token)).toMatchObject({ acr: 'phr', amr: ['hwk', 'user', 'mfa'] });

  // The challenge was spent: the same answer again is refused, on any process.
  const replay = await trpc('auth.passkeyAuthenticate', { challenge_id: begin.data.challenge_id, response: answer });
  expect(replay.status).toBe(401);
  // A passkey answering for another RP id (a phishing site's) is refused.
  const phish = await trpc('auth.passkeyOptions', { purpose: 'sign_in' });
  const foreign = await trpc('auth.passkeyAuthenticate', {
    challenge_id: phish.data.challenge_id,
    response: key.assert(phish.data.options, { rpId: 'evil.example', origin: 'https://evil.example' }),
  });
  expect(foreign.status).toBe(401);
  // A cloned authenticator: a signature counter that did not grow past the one last seen (1).
  key.counter = 1;
  const clone = await trpc('auth.passkeyOptions', { purpose: 'sign_in' });
  const cloned = await trpc('auth.passkeyAuthenticate', {
    challenge_id: clone.data.challenge_id,
    response: key.assert(clone.data.options, { keepCounter: true }),
  });
  expect(cloned.status).toBe(401);

  // Step-up with a passkey in the TOTP session: the caller's passkeys only; the session gains acr phr.
  const up = await trpc('auth.passkeyOptions', { purpose: 'step_up' }, totpTokens.access_token);
  expect(up.data.options.allowCredentials.map((c: { id: string }) => c.id).sort()).toEqual([key.id, synced.id].sort());
  const stepped = await trpc(
    'auth.passkeyAuthenticate',
    { challenge_id: up.data.challenge_id, response: synced.assert(up.data.options) },
    totpTokens.access_token,
  );
  expect(stepped.status).toBe(200);
  const steppedClaims = decodeJwt(stepped.data.access_token);
  expect(steppedClaims).toMatchObject({
    acr: 'phr',
    amr: ['swk', 'user', 'mfa'],
    sid: decodeJwt(totpTokens.access_token).sid,
  });
  expect((await trpc(MUTATION, MUTATION_INPUT, stepped.data.access_token)).error?.data.app_code).toBe('not_found');

  // With a passkey enrolled and phr required, account changes need the passkey, not TOTP.
  const viaTotp = await trpc('auth.recoveryCodes', {}, totpTokens.access_token);
  expect(viaTotp.status).toBe(401);
  expect(viaTotp.headers.get('www-authenticate')).toMatch(/acr_values="phr"/);

  // Remove one (audited); the account page lists the other with its last use.
  const removed = await trpc('auth.passkeyRemove', { id: synced.id }, stepped.data.access_token);
  expect(removed.data).toEqual({ removed: true });
  const account = await trpc('auth.account', undefined, stepped.data.access_token, 'GET');
  expect(account.data.passkeys).toEqual([
    expect.objectContaining({ id: key.id, name: 'YubiKey', amr: 'hwk', last_used_at: expect.any(String) }),
  ]);
  // Canaries: neither the stored public key nor the authenticator's private key in audit rows or logs.
  const [stored] = await listPasskeys(h.store.db, 'alice');
  const audit = JSON.stringify(await listAudit(h.store.db, {}, { limit: 10_000 }));
  const logs = h.logs.join('\n');
  const privateBody = key.privatePem.split('\n').slice(1, -2).join('');
  for (const canary of [stored?.publicKey ?? 'missing', privateBody]) {
    expect(audit).not.toContain(canary);
    expect(logs).not.toContain(canary);
  }
  const events = (await listAudit(h.store.db, {}, { limit: 1000 })).map((e) => `${e.action}:${e.outcome}`);
  expect(events).toEqual(
    expect.arrayContaining([
      'auth.passkey_register:success',
      'auth.passkey_login:success',
      'auth.passkey_login:failure',
      'auth.passkey_remove:success',
      'auth.recovery_codes:denied',
    ]),
  );
});

it('recovery codes work once each in place of the TOTP code; change-password applies the rules and ends other sessions; reset-mfa clears passkeys and codes; no secret in audit or logs', async () => {
  // The passkey of the first test is still enrolled: generating codes needs a passkey step-up.
  const session = await totpSignIn();
  const rows = await listPasskeys(h.store.db, 'alice');
  expect(rows).toHaveLength(1);
  // Sign in with the first test's authenticator again is not possible (its key is gone with it),
  // so the account is put back to TOTP-only by the operator, as for a lost authenticator.
  const reset = await cli(['reset-mfa', 'alice']);
  expect(reset.exitCode).toBe(0);
  expect(await listPasskeys(h.store.db, 'alice')).toEqual([]);
  secret = /secret:\s+([A-Z2-7]+)/.exec(reset.out)?.[1] ?? '';
  expect((await trpc('auth.refresh', { refresh_token: session.refresh_token })).status).toBe(401);

  const fresh = await totpSignIn();
  const generated = await trpc('auth.recoveryCodes', {}, fresh.access_token);
  const codes: string[] = generated.data.codes;
  expect(codes).toHaveLength(10);
  expect(codes[0]).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);

  const withCode = async (code: string) => {
    const login = await call(h, 'POST', '/auth/login', {
      token: null,
      body: { username: 'alice', password: PASSWORD },
    });
    return call(h, 'POST', '/auth/step-up', {
      token: null,
      body: { mfa_token: login.body.mfa_token, recovery_code: code },
    });
  };
  const used = await withCode((codes[0] ?? '').toLowerCase());
  expect(used.status).toBe(200);
  expect(decodeJwt(used.body.access_token).acr).toBeUndefined();
  const again = await withCode(codes[0] ?? '');
  expect(again.status).toBe(401);
  expect(again.body.error.message).toMatch(/already used/);
  expect(await recoveryCodesLeft(h.store.db, 'alice')).toBe(9);
  // A new set replaces the old one.
  const regenerated = await trpc('auth.recoveryCodes', {}, fresh.access_token);
  expect((await withCode(codes[1] ?? '')).status).toBe(401);
  expect((await withCode(regenerated.data.codes[1])).status).toBe(200);

  // change-password: the rules, then every other session ends and the caller gets a new one.
  const common = await trpc('auth.changePassword', { new_password: 'password1234!' }, fresh.access_token);
  expect(common.status).toBe(400);
  expect(common.error?.message).toMatch(/commonly used/);
  const tooShort = await trpc('auth.changePassword', { new_password: 'short' }, fresh.access_token);
  expect(tooShort.error?.message).toMatch(/at least 12 characters/);
  const changed = await trpc('auth.changePassword', { new_password: NEW_PASSWORD }, fresh.access_token);
  expect(changed.status).toBe(200);
  expect((await trpc('auth.refresh', { refresh_token: fresh.refresh_token })).status).toBe(401);
  expect((await trpc('auth.refresh', { refresh_token: changed.data.refresh_token })).status).toBe(200);
  const oldPassword = await call(h, 'POST', '/auth/login', {
    token: null,
    body: { username: 'alice', password: PASSWORD },
  });
  expect(oldPassword.status).toBe(401);
  // The CLI (same rules, same function) sets it back.
  const back = await cli(['change-password', 'alice', '--password-stdin'], `${PASSWORD}\n`);
  expect(back.exitCode).toBe(0);
  expect(
    (await call(h, 'POST', '/auth/login', { token: null, body: { username: 'alice', password: PASSWORD } })).status,
  ).toBe(200);

  const audit = JSON.stringify(await listAudit(h.store.db, {}, { limit: 10_000 }));
  const logs = h.logs.join('\n');
  for (const canary of [...codes, ...regenerated.data.codes, NEW_PASSWORD, PASSWORD, secret]) {
    expect(audit).not.toContain(canary);
    expect(logs).not.toContain(canary);
  }
  expect(audit).toContain('admin_users.change_password');
});
