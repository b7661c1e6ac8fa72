import type { ActionFailure } from '@sveltejs/kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { cookieJar, loopbackApi, settle } from '$lib/server/testing';

/*
 * The sign-in page's server side: where a signed-in admin is sent (only ever a path of this
 * console), which step it shows, and the TOTP step ending in that same safe redirect. A loopback
 * server plays the API's sign-in procedures.
 */

const ORIGIN = 'http://127.0.0.1:3000';
const api = loopbackApi(() => ({
  data: { access_token: 'access', refresh_token: 'refresh', expires_in: 900, token_type: 'Bearer', scope: '' },
}));
let page: typeof import('./+page.server');
let session: typeof import('$lib/server/session');

beforeAll(async () => {
  session = await import('$lib/server/session');
  page = await import('./+page.server');
});

async function redirected(run: () => unknown): Promise<string> {
  const { location } = await settle(run);
  if (location === null) throw new Error('expected a redirect');
  return location;
}

const HOSTILE_NEXT = ['//evil.example', '//evil.example/orgs', '/\\evil.example', 'https://evil.example/', '/login'];

describe('sign-in page load', () => {
  const load = (locals: object, next?: string) => {
    const url = new URL(`/login${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`, ORIGIN);
    return page.load({ locals, url } as never);
  };
  const signedIn = () => ({ session: { tokens: { access: 'a' } } });

  it('a signed-in admin goes on to next when it is a path of this console', async () => {
    expect(await redirected(() => load(signedIn(), '/orgs/org-acme?tab=1'))).toBe('/orgs/org-acme?tab=1');
    expect(await redirected(() => load(signedIn()))).toBe('/');
  });

  it.each(HOSTILE_NEXT)('a signed-in admin is never sent off the console: next=%s lands on /', async (next) => {
    expect(await redirected(() => load(signedIn(), next))).toBe('/');
  });

  it('shows the password step, or the code step while a password step is pending', async () => {
    expect(await load({ session: null })).toMatchObject({ step: 'password', username: '' });
    const pending = { session: { username: 'admin', login: { mfaToken: 'm', expiresAt: Date.now() + 60_000 } } };
    expect(await load(pending)).toMatchObject({ step: 'totp', username: 'admin' });
    const lapsed = { session: { username: 'admin', login: { mfaToken: 'm', expiresAt: Date.now() - 1 } } };
    expect(await load(lapsed)).toMatchObject({ step: 'password', username: '' });
  });
});

describe('sign-in code step', () => {
  async function totp(code: string, next: string | null, login = true) {
    const cookies = cookieJar();
    const s = session.startSession(cookies, null, {
      username: 'admin',
      ...(login ? { login: { mfaToken: 'mfa-1', expiresAt: Date.now() + 60_000 } } : {}),
    });
    const form = new FormData();
    form.set('code', code);
    const url = new URL(`/login${next === null ? '' : `?next=${encodeURIComponent(next)}`}`, ORIGIN);
    const event = {
      request: new Request(url, { method: 'POST', body: form }),
      cookies,
      locals: { session: s },
      url,
      getClientAddress: () => '192.0.2.1',
    };
    const totpAction = page.actions.totp as (e: never) => Promise<unknown>;
    return { cookies, run: () => totpAction(event as never) };
  }

  it('a good code signs in under a new session id and goes to next, only if it stays on the console', async () => {
    const ok = await totp('123 456', '/audit');
    expect(await redirected(ok.run)).toBe('/audit');
    expect(api.calls.at(-1)?.input).toEqual({ code: '123456', mfa_token: 'mfa-1' });
    expect(session.readSession(ok.cookies)?.tokens).toMatchObject({ access: 'access', refresh: 'refresh' });
    for (const next of HOSTILE_NEXT) {
      expect(await redirected((await totp('123456', next)).run), next).toBe('/');
    }
  });

  it('a code that is not 6-8 digits, or no pending password step, never reaches the API', async () => {
    const bad = (await (await totp('12345', '/audit')).run()) as ActionFailure<{ message: string; step: string }>;
    expect(bad.status).toBe(400);
    expect(bad.data).toMatchObject({ step: 'totp', message: 'Enter the 6-digit code from your authenticator app.' });
    const lapsed = (await (await totp('123456', '/audit', false)).run()) as ActionFailure<{ step: string }>;
    expect(lapsed.status).toBe(400);
    expect(lapsed.data).toMatchObject({ step: 'password' });
    expect(api.calls).toEqual([]);
  });
});
