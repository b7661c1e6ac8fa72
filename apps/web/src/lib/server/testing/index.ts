import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Cookies, isRedirect } from '@sveltejs/kit';
import { afterAll, beforeAll, beforeEach, expect, vi } from 'vitest';
import type { Session } from '../session';

/*
 * What the console's server-side specs share: a cookie jar, a loopback server playing the API with
 * the console's configuration pointed at it, a signed-in session, and SvelteKit's way of ending a
 * load or action with a thrown redirect. Only specs import this; nothing the build ships does.
 */

/** A request's cookies, in memory; `names` lists the cookies it holds. */
export function cookieJar(initial: Record<string, string> = {}): Cookies & { names: () => string[] } {
  const values = new Map(Object.entries(initial));
  return {
    get: (name: string) => values.get(name),
    set: (name: string, value: string) => void values.set(name, value),
    delete: (name: string) => void values.delete(name),
    names: () => [...values.keys()],
  } as unknown as Cookies & { names: () => string[] };
}

/** A procedure call that reached the API: its path (`auth.stepUp`), its input, the request's headers. */
export interface ApiCall {
  path: string;
  input: unknown;
  headers: IncomingHttpHeaders;
}

/** The API's output for a call, or its error as the API's error formatter shapes it. */
export type ApiAnswer =
  | { data: unknown }
  | { refused: { status: number; app_code: string; field?: string | null; message: string } };

/**
 * A loopback server playing the API, answering each call with `answer`, and the console's
 * configuration (`consoleEnv`) parsed with its address and `env` over the environment. Modules
 * read the configuration when imported, so a spec imports the console's modules in its own
 * `beforeAll`, registered after this call. `calls` is emptied before each test.
 */
export function loopbackApi(answer: (call: ApiCall) => ApiAnswer, env: Record<string, string> = {}) {
  const api = { url: '', calls: [] as ApiCall[] };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const batch = url.searchParams.get('batch') === '1';
      const sent = body ? JSON.parse(body) : null;
      const call = {
        path: url.pathname.replace('/trpc/', ''),
        input: batch ? sent?.['0'] : sent,
        headers: req.headers,
      };
      api.calls.push(call);
      const out = answer(call);
      const status = 'refused' in out ? out.refused.status : 200;
      const reply =
        'refused' in out
          ? {
              error: {
                message: out.refused.message,
                code: -32001,
                data: { app_code: out.refused.app_code, field: out.refused.field ?? null, httpStatus: status },
              },
            }
          : { result: { data: out.data } };
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(batch ? [reply] : reply));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The configuration is parsed once per module instance: fresh modules see this one.
    vi.resetModules();
    const { parseConsoleEnv } = await import('$lib/server/env');
    const parsed = parseConsoleEnv({ ...process.env, ALPHASWARM_ADMIN_API_URL: api.url, ...env });
    vi.doMock('$lib/server/env', () => ({ consoleEnv: () => parsed }));
  });
  beforeEach(() => {
    api.calls.length = 0;
  });
  afterAll(async () => {
    vi.doUnmock('$lib/server/env');
    await new Promise((r) => server.close(r));
  });
  return api;
}

/**
 * An admin signed in with the embedded IdP (unless `tokens` says otherwise), in a fresh jar; not
 * saved yet. `sessions` is the spec's instance of `$lib/server/session`.
 */
export function signedIn(
  sessions: Pick<typeof import('../session'), 'startSession'>,
  tokens: Partial<NonNullable<Session['tokens']>> = {},
) {
  const cookies = cookieJar();
  const s = sessions.startSession(cookies, null, { username: 'admin' });
  s.tokens = {
    access: 'access',
    refresh: 'refresh',
    accessExpiresAt: Date.now() + 600_000,
    source: 'embedded',
    ...tokens,
  };
  return { cookies, s };
}

/**
 * Runs a hook, load or action as SvelteKit would: what it returned, or where the 303 redirect it
 * threw goes (then `returned` is null).
 */
export async function settle<T>(run: () => T | Promise<T>) {
  try {
    return { returned: (await run()) as Awaited<T> | null, location: null as string | null };
  } catch (thrown) {
    if (!isRedirect(thrown)) throw thrown;
    expect(thrown.status).toBe(303);
    return { returned: null, location: thrown.location as string | null };
  }
}
