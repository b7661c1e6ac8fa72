import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Cookies, isRedirect, type RequestEvent } from '@sveltejs/kit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/*
 * The front door's other duties (hooks.server.test.ts has the cross-site check, sign-in redirects
 * and headers): the hand-off page, the session written back after the page, the API client each
 * request gets, and what a server error leaves in the log. A loopback server plays the API.
 */

let api: Server;
const seen: IncomingHttpHeaders[] = [];
let hooks: typeof import('./hooks.server');
let session: typeof import('$lib/server/session');
let errors: typeof import('$lib/server/errors');

beforeAll(async () => {
  api = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ result: { data: { integration: { status: 'healthy' }, audit_run_id: 'run_1' } } }]));
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  vi.resetModules();
  const { parseConsoleEnv } = await import('$lib/server/env');
  const env = parseConsoleEnv({
    ...process.env,
    ALPHASWARM_ADMIN_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
  });
  vi.doMock('$lib/server/env', () => ({ consoleEnv: () => env }));
  session = await import('$lib/server/session');
  hooks = await import('./hooks.server');
  errors = await import('$lib/server/errors');
});
afterAll(async () => {
  vi.doUnmock('$lib/server/env');
  await new Promise((r) => api.close(r));
});

function jar(): Cookies {
  const values = new Map<string, string>();
  return {
    get: (name: string) => values.get(name),
    set: (name: string, value: string) => void values.set(name, value),
    delete: (name: string) => void values.delete(name),
  } as unknown as Cookies;
}

async function signedIn(): Promise<string> {
  const cookies = jar();
  const s = session.startSession(cookies, null, { username: 'admin' });
  s.tokens = { access: 'access-1', refresh: 'r', accessExpiresAt: Date.now() + 600_000, source: 'embedded' };
  await session.saveSession(cookies);
  return s.id;
}

async function request(
  path: string,
  id?: string,
  page: (event: RequestEvent) => Response = () => new Response('page'),
) {
  const cookies = jar();
  if (id) cookies.set(session.cookieName(), id, { path: '/' });
  const url = new URL(path, 'http://127.0.0.1:3000');
  const event = {
    request: new Request(url, { headers: { 'user-agent': 'test-browser' } }),
    url,
    cookies,
    locals: {},
    getClientAddress: () => '192.0.2.7',
  } as unknown as RequestEvent;
  try {
    const response = await hooks.handle({ event, resolve: async (e: RequestEvent) => page(e) } as never);
    return { response, event, location: null as string | null };
  } catch (thrown) {
    if (!isRedirect(thrown)) throw thrown;
    return { response: null, event, location: thrown.location };
  }
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
    const id = await signedIn();
    await request('/audit', id, (event) => {
      session.addFlash(event.locals.session as NonNullable<App.Locals['session']>, { notice: { text: 'saved' } });
      return new Response('page');
    });
    const next = await request('/audit', id);
    expect(next.event.locals.session?.flash).toEqual({ notice: { text: 'saved' } });
  });

  it('gives each request an API client: the session’s token and the browser’s address; signed out, nothing is sent', async () => {
    const { event } = await request('/audit', await signedIn());
    seen.length = 0;
    await event.locals.api.integrations.checkHealth.mutate({ org_id: 'org-a', kind: 'huggingface' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ authorization: 'Bearer access-1', 'x-forwarded-for': '192.0.2.7' });

    const out = await request('/login');
    seen.length = 0;
    const refused = await out.event.locals.api.integrations.checkHealth
      .mutate({ org_id: 'org-a', kind: 'huggingface' })
      .catch((e: unknown) => errors.toFailure(e));
    expect(refused).toMatchObject({ code: 'invalid_token', status: 401 });
    expect(seen).toEqual([]);
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
