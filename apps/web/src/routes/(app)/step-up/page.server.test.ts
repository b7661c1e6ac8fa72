import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ActionFailure, type Cookies, isRedirect } from '@sveltejs/kit';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

/*
 * The step-up page replays the mutation that needed a fresh MFA: once, and only after the code
 * was accepted. A loopback server plays the API and records every procedure called.
 */

let api: Server;
let apiUrl = '';
const calls: { path: string; input: unknown }[] = [];
let page: typeof import('./+page.server');
let session: typeof import('$lib/server/session');
let client: typeof import('$lib/server/api');

beforeAll(async () => {
  api = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname.replace('/trpc/', '');
      calls.push({ path, input: JSON.parse(body || 'null') });
      const data =
        path === 'auth.stepUp'
          ? { access_token: 'fresh', refresh_token: 'refresh-2', expires_in: 900, token_type: 'Bearer', scope: '' }
          : { integration: { status: 'healthy' }, audit_run_id: 'run_1' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: { data } }));
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  // The console's configuration is parsed once; this test points it at the loopback API.
  vi.resetModules();
  const { parseConsoleEnv } = await import('$lib/server/env');
  const env = parseConsoleEnv({ ...process.env, ALPHASWARM_ADMIN_API_URL: apiUrl });
  vi.doMock('$lib/server/env', () => ({ consoleEnv: () => env }));
  session = await import('$lib/server/session');
  client = await import('$lib/server/api');
  page = await import('./+page.server');
});
afterAll(async () => {
  vi.doUnmock('$lib/server/env');
  await new Promise((r) => api.close(r));
});
beforeEach(() => {
  calls.length = 0;
});

function jar(): Cookies {
  const values = new Map<string, string>();
  return {
    get: (name: string) => values.get(name),
    set: (name: string, value: string) => void values.set(name, value),
    delete: (name: string) => void values.delete(name),
  } as unknown as Cookies;
}

const CHECK = {
  path: 'integrations.checkHealth',
  input: { org_id: 'org-a', kind: 'huggingface' },
  after: { label: 'Re-check Hugging Face for org-a', origin: '/orgs/org-a', location: '/orgs/org-a#huggingface' },
} as const;

function signedInWithPending() {
  const cookies = jar();
  const s = session.startSession(cookies, null, { username: 'admin' });
  s.tokens = { access: 'stale', refresh: 'refresh-1', accessExpiresAt: Date.now() + 600_000, source: 'embedded' };
  session.setPending(s, CHECK);
  return { cookies, s };
}

async function verify(s: ReturnType<typeof signedInWithPending>, code: string) {
  const form = new FormData();
  form.set('code', code);
  const event = {
    request: new Request('http://console.test/step-up', { method: 'POST', body: form }),
    locals: { session: s.s, api: client.adminApi(async () => s.s.tokens?.access ?? '', '192.0.2.1') },
    cookies: s.cookies,
    getClientAddress: () => '192.0.2.1',
  };
  try {
    return { result: await (page.actions.verify as (e: never) => Promise<unknown>)(event as never), location: null };
  } catch (thrown) {
    if (!isRedirect(thrown)) throw thrown;
    return { result: null, location: thrown.location };
  }
}

describe('step-up and replay', () => {
  it('a good code steps up, then replays the pending action once and goes to its result', async () => {
    const s = signedInWithPending();
    expect(await verify(s, '123 456')).toEqual({ result: null, location: '/orgs/org-a#huggingface' });
    expect(calls.map((c) => c.path)).toEqual(['auth.stepUp', 'integrations.checkHealth']);
    expect(calls[0]?.input).toEqual({ code: '123456', refresh_token: 'refresh-1' });
    expect(s.s.tokens?.access).toBe('fresh');
    expect(s.s.pending).toBeNull();
    expect(session.takeFlash(s.s).notice).toEqual({ text: 'Re-checked Hugging Face: healthy.', run_id: 'run_1' });

    // Posting the form again steps up again but replays nothing: the action was taken off first.
    calls.length = 0;
    expect((await verify(s, '654321')).location).toBe('/');
    expect(calls.map((c) => c.path)).toEqual(['auth.stepUp']);
    expect(session.takeFlash(s.s).notice?.text).toBe('Verified. You can retry your action now.');
  });

  it('a malformed code never reaches the API and keeps the pending action', async () => {
    const s = signedInWithPending();
    const { result } = await verify(s, '12ab56');
    expect((result as ActionFailure<{ message: string }>).status).toBe(400);
    expect(calls).toEqual([]);
    expect(s.s.pending?.action).toEqual(CHECK);
  });

  it('a pending action expires: after its TTL nothing is replayed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const first = signedInWithPending();
      await session.saveSession(first.cookies);
      vi.setSystemTime(Date.now() + 301_000);
      // The next request reads the session without its expired action.
      const cookies = jar();
      cookies.set(session.cookieName(), first.s.id, { path: '/' });
      const loaded = await session.loadSession(cookies, { address: '192.0.2.1', userAgent: null });
      expect(loaded?.pending).toBeNull();
      const s = { cookies, s: loaded as NonNullable<typeof loaded> };
      expect((await verify(s, '123456')).location).toBe('/');
      expect(calls.map((c) => c.path)).toEqual(['auth.stepUp']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('cancel forgets the pending action and goes back where it came from', async () => {
    const s = signedInWithPending();
    let location = '';
    try {
      await (page.actions.cancel as (e: never) => unknown)({ locals: { session: s.s } } as never);
    } catch (thrown) {
      if (isRedirect(thrown)) location = thrown.location;
    }
    expect(location).toBe('/orgs/org-a');
    expect(s.s.pending).toBeNull();
  });
});
