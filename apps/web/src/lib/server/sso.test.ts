import { type DemoIdp, startDemoIdp } from '@alphaswarm/server/demo-idp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SsoAttempt, SsoClient, SsoError } from './sso';

/*
 * The console's OIDC client against a real OpenID Provider (panva's oidc-provider) on loopback;
 * the browser's part (following redirects, posting the IdP's sign-in form) is done with fetch.
 */

const decodeJwt = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

const REDIRECT = 'http://127.0.0.1:9/login/sso/callback';
const AUDIENCE = 'urn:alphaswarm:admin-api';
let idp: DemoIdp;
let sso: SsoClient;

beforeAll(async () => {
  idp = await startDemoIdp({
    audience: AUDIENCE,
    clients: [{ client_id: 'console', client_secret: 'console-secret-canary', redirect_uris: [REDIRECT] }],
    users: [
      {
        username: 'mfa',
        password: 'pw-mfa',
        name: 'M',
        email: 'm@example.com',
        groups: ['platform-admins'],
        mfa: true,
      },
      {
        username: 'plain',
        password: 'pw-plain',
        name: 'P',
        email: 'p@example.com',
        groups: ['platform-admins'],
        mfa: false,
      },
    ],
  });
  sso = new SsoClient({
    issuer: idp.issuer,
    clientId: 'console',
    clientSecret: 'console-secret-canary',
    scopes: 'openid profile email',
    redirectUri: REDIRECT,
    allowHttp: true,
  });
});
afterAll(() => idp.close());

/** A browser: follows the IdP's redirects with its cookies, signs in, and stops at our redirect URI. */
function browser() {
  const jar = new Map<string, string>();
  const go = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair && at > 0) jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return res;
  };
  return async function authorize(start: URL, user?: { username: string; password: string }): Promise<URL> {
    let url = start.href;
    for (let hop = 0; hop < 10; hop++) {
      if (url.startsWith(REDIRECT)) return new URL(url);
      const res = await go(url);
      const location = res.headers.get('location');
      if (location) {
        url = new URL(location, url).href;
        continue;
      }
      if (!user) throw new Error(`the IdP asked for a sign-in at ${url}`);
      const form = new URLSearchParams({ username: user.username, password: user.password });
      const posted = await go(url, {
        method: 'POST',
        body: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      url = new URL(posted.headers.get('location') ?? url, url).href;
    }
    throw new Error('too many redirects');
  };
}

const MFA = { username: 'mfa', password: 'pw-mfa' };
const PLAIN = { username: 'plain', password: 'pw-plain' };

async function refused(p: Promise<unknown>): Promise<string> {
  const error = await p.then(
    () => null,
    (e) => e,
  );
  expect(error).toBeInstanceOf(SsoError);
  return (error as SsoError).message;
}

describe('console SSO (authorization code + PKCE) against oidc-provider', () => {
  it('signs in with a JWT access token for the API, carrying groups, amr and auth_time; refreshes it', async () => {
    const { url, attempt } = await sso.start({ purpose: 'login', next: '/', now: new Date() });
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT);
    // The answer as the console's own finish page gets it: the callback's query on another path.
    const back = await browser()(url, MFA);
    expect(back.pathname).toBe('/login/sso/callback');
    const tokens = await sso.finish(new URL(`/login/sso/finish${back.search}`, back), attempt);
    expect(tokens.claims).toMatchObject({ sub: 'mfa', iss: idp.issuer, aud: 'console', nonce: attempt.nonce });
    expect(decodeJwt(tokens.access)).toMatchObject({
      iss: idp.issuer,
      aud: AUDIENCE,
      sub: 'mfa',
      groups: ['platform-admins'],
      amr: ['pwd', 'otp', 'mfa'],
    });
    expect(tokens.refresh).toBeTruthy();
    const renewed = await sso.refresh(tokens.refresh as string);
    expect(renewed.access).not.toBe(tokens.access);
    expect(decodeJwt(renewed.access)).toMatchObject({
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: decodeJwt(tokens.access).auth_time,
    });
  });

  it('refuses a tampered state, a wrong nonce, a replayed code, a wrong or missing PKCE verifier', async () => {
    const authorize = browser();
    const first = await sso.start({ purpose: 'login', next: '/', now: new Date() });
    const back = await authorize(first.url, MFA);
    const tampered = new URL(back);
    tampered.searchParams.set('state', `${first.attempt.state}x`);
    expect(await refused(sso.finish(tampered, first.attempt))).toMatch(/state mismatch/);
    // The same code, with its state, but a nonce this session never sent.
    expect(await refused(sso.finish(back, { ...first.attempt, nonce: 'not-the-one-sent' }))).toMatch(/nonce mismatch/);
    // The code was redeemed by the nonce check above: presenting it again is refused by the IdP.
    expect(await refused(sso.finish(back, first.attempt))).toMatch(/invalid_grant/);

    const second = await sso.start({ purpose: 'login', next: '/', now: new Date() });
    const back2 = await authorize(second.url);
    const other: SsoAttempt = {
      ...second.attempt,
      verifier: (await sso.start({ purpose: 'login', next: '/', now: new Date() })).attempt.verifier,
    };
    expect(await refused(sso.finish(back2, other))).toMatch(/invalid_grant/);
    expect(await refused(sso.finish(back2, null))).toMatch(/No sign-in was started/);
  });

  it('steps up with max_age=0: a fresh multi-factor sign-in passes, one without MFA is refused saying what the IdP must send', async () => {
    const authorize = browser();
    const login = await sso.start({ purpose: 'login', next: '/', now: new Date() });
    await sso.finish(await authorize(login.url, MFA), login.attempt);
    const step = await sso.start({ purpose: 'step_up', next: '/orgs', maxAge: 0, now: new Date() });
    expect(step.url.searchParams.get('max_age')).toBe('0');
    // An existing IdP session is not enough: max_age=0 makes the IdP ask again.
    await expect(authorize(step.url)).rejects.toThrow(/asked for a sign-in/);
    const fresh = await sso.finish(await authorize(step.url, MFA), step.attempt);
    expect(fresh.claims.auth_time).toBeGreaterThanOrEqual(step.attempt.startedAt);

    const plain = browser();
    const weak = await sso.start({ purpose: 'step_up', next: '/', maxAge: 0, now: new Date() });
    const message = await refused(sso.finish(await plain(weak.url, PLAIN), weak.attempt));
    expect(message).toMatch(/without multi-factor authentication \(amr: pwd\)/);
    expect(message).toMatch(/"amr" claim containing one of mfa, otp, hwk, swk/);

    const strict = await sso.start({ purpose: 'step_up', next: '/', maxAge: 0, acrValues: 'phr', now: new Date() });
    expect(strict.url.searchParams.get('acr_values')).toBe('phr');
    expect(await refused(sso.finish(await browser()(strict.url, MFA), strict.attempt))).toMatch(
      /at level "mfa"; changes need acr phr/,
    );
  });

  it('refuses a plain-http issuer unless told it is not production', () => {
    expect(() => new SsoClient({ ...sso.settings, allowHttp: false })).toThrow(/must use https in production/);
  });
});
