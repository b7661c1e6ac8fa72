import type { RequestEvent } from '@sveltejs/kit';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { cookieJar, loopbackApi, settle, signedIn } from '$lib/server/testing';

/*
 * The front door's other duties (hooks.server.test.ts has the cross-site check, sign-in redirects
 * and headers): the hand-off page, the session written back after the page, the API client each
 * request gets, and what a server error leaves in the log. A loopback server plays the API.
 */

const api = loopbackApi(() => ({
  data: { integration: { status: 'healthy' }, audit_run_id: 'run_1' },
}));
let hooks: typeof import('./hooks.server');
let session: typeof import('$lib/server/session');
let errors: typeof import('$lib/server/errors');

beforeAll(async () => {
  session = await import('$lib/server/session');
  hooks = await import('./hooks.server');
  errors = await import('$lib/server/errors');
});

async function signedInId(): Promise<string> {
  const { cookies, s } = signedIn(session, { access: 'access-1', refresh: 'r' });
  await session.saveSession(cookies);
  return s.id;
}

async function request(
  path: string,
  id?: string,
  page: (event: RequestEvent) => Response = () => new Response('page'),
) {
  const url = new URL(path, 'http://127.0.0.1:3000');
  const event = {
    request: new Request(url, { headers: { 'user-agent': 'test-browser' } }),
    url,
    cookies: cookieJar(id ? { [session.cookieName()]: id } : {}),
    locals: {},
    getClientAddress: () => '192.0.2.7',
  } as unknown as RequestEvent;
  const { returned, location } = await settle(() =>
    hooks.handle({ event, resolve: async (e: RequestEvent) => page(e) } as never),
  );
  return { response: returned, event, location };
}

describe('the front door', () => {
  it('serves the hand-off page without a session, and tells robots never to index it', async () => {
    const { response } = await request('/handoff/hnd_secret-token');
    expect(response?.status).toBe(200);
    expect(response?.headers.get('x-robots-tag')).toBe('noindex, nofollow');
    const other = await request('/login');
    expect(other.response?.headers.get('x-robots-tag')).toBeNull();
    expect((await request('/orgs/handoff/x')).location).toBe('/login?next=%2Forgs%2Fhandoff%2Fx');
  });

  it('writes back what the page changed in the session, for the next request', async () => {
    const id = await signedInId();
    await request('/audit', id, (event) => {
      session.addFlash(event.locals.session as NonNullable<App.Locals['session']>, { notice: { text: 'saved' } });
      return new Response('page');
    });
    const next = await request('/audit', id);
    expect(next.event.locals.session?.flash).toEqual({ notice: { text: 'saved' } });
  });

  it('gives each request an API client: the session’s token and the browser’s address; signed out, nothing is sent', async () => {
    const { event } = await request('/audit', await signedInId());
    api.calls.length = 0;
    await event.locals.api.integrations.checkHealth.mutate({ org_id: 'org-a', kind: 'huggingface' });
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0]?.headers).toMatchObject({ authorization: 'Bearer access-1', 'x-forwarded-for': '192.0.2.7' });

    const out = await request('/login');
    api.calls.length = 0;
    const refused = await out.event.locals.api.integrations.checkHealth
      .mutate({ org_id: 'org-a', kind: 'huggingface' })
      .catch((e: unknown) => errors.toFailure(e));
    expect(refused).toMatchObject({ code: 'invalid_token', status: 401 });
    expect(api.calls).toEqual([]);
  });

  it('logs a server error by its name and the line it came from, never its message', () => {
    const error = new TypeError('SQLITE_FULL at /secret/path');
    error.stack =
      'TypeError: SQLITE_FULL at /secret/path\n    at write (/app/store.ts:10:5)\n    at main (/app/x.ts:1:1)';
    const logged: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void logged.push(a));
    try {
      const status = (s: number) =>
        hooks.handleError({ error, status: s, message: 'Internal Error', event: {} } as never);
      expect(status(503)).toEqual({ message: 'Something went wrong in the console; see its log.' });
      expect(status(499)).toEqual({ message: 'Internal Error' });
    } finally {
      spy.mockRestore();
    }
    expect(logged).toEqual([['console error', 'TypeError', 'at write (/app/store.ts:10:5)']]);
  });

  it('answers a thrown value that is not an Error, or one without frames, with the generic message', () => {
    const logged: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void logged.push(a));
    try {
      for (const error of [undefined, { name: 'Odd' }, Object.assign(new Error('x'), { stack: 'Error: x' })]) {
        expect(hooks.handleError({ error, status: 500, message: 'Internal Error', event: {} } as never)).toEqual({
          message: 'Something went wrong in the console; see its log.',
        });
      }
    } finally {
      spy.mockRestore();
    }
    expect(logged).toEqual([
      ['console error', undefined, undefined],
      ['console error', 'Odd', undefined],
      ['console error', 'Error', undefined],
    ]);
  });
});
