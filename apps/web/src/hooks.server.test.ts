import type { Cookies, RequestEvent } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import { handle, handleError } from './hooks.server';
import * as session from './lib/server/session';
import { cookieJar, settle, signedIn } from './lib/server/testing';

/*
 * The console's front door, called the way SvelteKit calls it: a request event in, a response (or
 * a thrown redirect) out. What it guards: state-changing requests from other sites, pages without
 * a session, and the headers every response carries.
 */

const ORIGIN = 'http://127.0.0.1:3000';

/** A session saved by an earlier request; the cookie jar of the next one. */
async function signedInJar(): Promise<Cookies> {
  const { cookies, s } = signedIn(session, { access: 'a', refresh: 'r' });
  await session.saveSession(cookies);
  return cookieJar({ [session.cookieName()]: s.id });
}

interface Call {
  method?: string;
  headers?: Record<string, string>;
  cookies?: Cookies;
  page?: () => Response;
}

async function request(path: string, call: Call = {}) {
  const url = new URL(path, ORIGIN);
  const event = {
    request: new Request(url, { method: call.method ?? 'GET', headers: call.headers ?? {} }),
    url,
    cookies: call.cookies ?? cookieJar(),
    locals: {},
    getClientAddress: () => '192.0.2.1',
  } as unknown as RequestEvent;
  let resolved = 0;
  const resolve = async () => {
    resolved++;
    return call.page ? call.page() : new Response('page');
  };
  const { returned, location } = await settle(() => handle({ event, resolve } as Parameters<typeof handle>[0]));
  return { response: returned, resolved, event, location };
}

describe('cross-site requests', () => {
  it('a state-changing request is served only when the browser says it comes from this origin', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const site of ['same-site', 'cross-site', 'none']) {
        const { response, resolved } = await request('/login', { method, headers: { 'sec-fetch-site': site } });
        expect(response?.status, `${method} ${site}`).toBe(403);
        expect(await response?.text()).toBe('Cross-site requests are forbidden');
        expect(response?.headers.get('x-frame-options')).toBe('DENY');
        expect(resolved).toBe(0);
      }
      const own = await request('/login', { method, headers: { 'sec-fetch-site': 'same-origin' } });
      expect(own.resolved, method).toBe(1);
    }
  });

  it('without fetch metadata, an Origin: null post is refused; one from our origin, or an old browser, passes', async () => {
    expect((await request('/login', { method: 'POST', headers: { origin: 'null' } })).response?.status).toBe(403);
    expect((await request('/login', { method: 'POST', headers: { origin: ORIGIN } })).resolved).toBe(1);
    expect((await request('/login', { method: 'POST' })).resolved).toBe(1);
  });

  it('reads are never refused for where they come from (links from elsewhere land on the console)', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const cross = { 'sec-fetch-site': 'cross-site', origin: 'null' };
      expect((await request('/login', { method, headers: cross })).resolved, method).toBe(1);
    }
  });
});

describe('pages without a session', () => {
  it('go to sign-in, remembering where the admin was going', async () => {
    expect((await request('/orgs/org-acme?tab=audit')).location).toBe('/login?next=%2Forgs%2Forg-acme%3Ftab%3Daudit');
    expect((await request('/audit')).location).toBe('/login?next=%2Faudit');
  });

  it('the home page and data requests go to plain sign-in', async () => {
    expect((await request('/')).location).toBe('/login');
    expect((await request('/orgs/org-acme/__data.json')).location).toBe('/login');
  });

  it('half-way through sign-in (password given, no tokens yet) is still signed out', async () => {
    const cookies = cookieJar();
    session.startSession(cookies, null, {
      username: 'admin',
      login: { mfaToken: 'm', expiresAt: Date.now() + 60_000 },
    });
    expect((await request('/audit', { cookies })).location).toBe('/login?next=%2Faudit');
  });

  it('sign-in itself and the built assets are served to anyone', async () => {
    expect((await request('/login')).resolved).toBe(1);
    expect((await request('/_app/immutable/entry/start.js')).resolved).toBe(1);
    expect((await request('/login/x')).location).toBe('/login?next=%2Flogin%2Fx');
  });

  it('a signed-in admin gets the page, with the session and an API client in locals', async () => {
    const { resolved, event } = await request('/audit', { cookies: await signedInJar() });
    expect(resolved).toBe(1);
    expect(event.locals.session?.username).toBe('admin');
    expect(event.locals.api).toBeDefined();
  });

  it('an unknown session cookie counts as none', async () => {
    const cookies = cookieJar();
    cookies.set('as_session', 'forged-session-id', { path: '/' });
    const { location, event } = await request('/audit', { cookies });
    expect(location).toBe('/login?next=%2Faudit');
    expect(event.locals.session).toBeNull();
  });
});

describe('response headers', () => {
  const SECURITY = {
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy':
      'camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-read=(), clipboard-write=(self)',
  };

  it('every response gets the security headers, a closed CSP and no-store unless the page set its own', async () => {
    const { response } = await request('/login');
    for (const [name, value] of Object.entries(SECURITY)) expect(response?.headers.get(name), name).toBe(value);
    expect(response?.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(response?.headers.get('cache-control')).toBe('no-store');

    const page = () =>
      new Response('page', {
        headers: { 'content-security-policy': "default-src 'self'", 'cache-control': 'max-age=60' },
      });
    const own = (await request('/login', { page })).response;
    expect(own?.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(own?.headers.get('cache-control')).toBe('max-age=60');
  });

  it('a response with immutable headers is copied to get them, body and status kept', async () => {
    const page = () => Response.redirect(`${ORIGIN}/elsewhere`, 302);
    const { response } = await request('/login', { page });
    expect(response?.status).toBe(302);
    expect(response?.headers.get('location')).toBe(`${ORIGIN}/elsewhere`);
    for (const [name, value] of Object.entries(SECURITY)) expect(response?.headers.get(name), name).toBe(value);
    expect(response?.headers.get('cache-control')).toBe('no-store');
  });
});

describe('errors', () => {
  it('a server failure shows a generic message; a 4xx keeps its own', () => {
    const args = (status: number, message: string) =>
      ({ error: new Error('SQLITE_FULL at /secret/path'), status, message, event: {} }) as Parameters<
        typeof handleError
      >[0];
    const original = console.error;
    const logged: unknown[][] = [];
    console.error = (...a: unknown[]) => void logged.push(a);
    try {
      expect(handleError(args(500, 'Internal Error'))).toEqual({
        message: 'Something went wrong in the console; see its log.',
      });
      expect(handleError(args(404, 'Not Found'))).toEqual({ message: 'Not Found' });
    } finally {
      console.error = original;
    }
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged)).not.toContain('SQLITE_FULL');
  });
});
