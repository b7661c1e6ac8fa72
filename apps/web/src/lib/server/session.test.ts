import { readFileSync } from 'node:fs';
import { generateKey, Keyring, openStore, sql } from '@alphaswarm/db';
import type { Cookies } from '@sveltejs/kit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashId, SessionStore } from './session-store';

function jar(id?: string) {
  const set = new Map<string, { value: string; opts: Record<string, unknown> }>();
  const cookies = {
    get: (name: string) => set.get(name)?.value,
    set: (name: string, value: string, opts: Record<string, unknown>) => void set.set(name, { value, opts }),
    delete: (name: string) => void set.delete(name),
  } as unknown as Cookies;
  if (id) cookies.set('as_session', id, { path: '/' });
  return { cookies, set };
}

async function sessionModule(origin: string | undefined) {
  vi.resetModules();
  const { parseConsoleEnv } = await import('./env');
  const env = parseConsoleEnv({ ORIGIN: origin, ...process.env });
  vi.doMock('./env', () => ({ consoleEnv: () => env }));
  return import('./session');
}

const SEEN = { address: '192.0.2.1', userAgent: 'test-browser' };
const KEY = generateKey();
/** Each store is one console process (a replica, or the same console after a restart) on one database. */
const stores: SessionStore[] = [];
const replica = (key = KEY) => {
  const store = new SessionStore(openStore(process.env.ALPHASWARM_ADMIN_DB_PATH as string), Keyring.fromEnv(key));
  stores.push(store);
  return store;
};
afterAll(async () => {
  for (const s of stores) await s.close();
});

describe('session cookie', () => {
  afterEach(() => {
    vi.doUnmock('./env');
  });

  it('is __Host- prefixed and Secure when the console is served over https', async () => {
    const s = await sessionModule('https://console.example');
    const { cookies, set } = jar();
    const session = s.startSession(cookies, null, { username: 'admin' });
    const cookie = set.get('__Host-as_session');
    expect(cookie?.value).toBe(session.id);
    expect(cookie?.opts).toEqual({ path: '/', httpOnly: true, sameSite: 'strict', secure: true });
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is as_session over plain http (loopback), still HttpOnly and SameSite=Strict', async () => {
    const s = await sessionModule('http://127.0.0.1:3000');
    const { cookies, set } = jar();
    s.startSession(cookies, null);
    expect(set.get('as_session')?.opts).toEqual({ path: '/', httpOnly: true, sameSite: 'strict', secure: false });
  });
});

describe('sessions in the database', () => {
  let s: Awaited<ReturnType<typeof sessionModule>>;
  beforeAll(async () => {
    s = await sessionModule(undefined);
  });
  afterAll(() => {
    vi.doUnmock('./env');
  });

  /** One request on `store`: load, work, save (what hooks.server.ts does). */
  async function request<T>(
    store: SessionStore,
    id: string | undefined,
    work: (session: ReturnType<typeof s.readSession>, cookies: Cookies) => T,
  ) {
    const { cookies, set } = jar(id);
    const session = await s.loadSession(cookies, SEEN, store);
    const result = work(session, cookies);
    await s.saveSession(cookies);
    return { result, id: set.get('as_session')?.value, cookies: set };
  }

  async function signedIn(store: SessionStore, init: Parameters<typeof s.startSession>[2] = {}) {
    const { id } = await request(store, undefined, (_, cookies) =>
      s.startSession(cookies, null, {
        username: 'admin',
        tokens: { access: 'a', refresh: 'r', accessExpiresAt: Date.now() + 600_000, source: 'embedded' },
        ...init,
      }),
    );
    return id as string;
  }

  it('written by one replica, read by another, and still there after a restart (a new store on the database)', async () => {
    const a = replica();
    const id = await signedIn(a);
    const onB = await request(replica(), id, (session) => session);
    expect(onB.result).toMatchObject({ id, username: 'admin', tokens: { access: 'a', refresh: 'r' } });
    await a.close();
    const afterRestart = await request(replica(), id, (session) => session?.tokens?.access);
    expect(afterRestart.result).toBe('a');
  });

  it('gets a new id on every privilege change, and the old id opens nothing anywhere', async () => {
    const a = replica();
    const before = await signedIn(a);
    const { id: after } = await request(a, before, (session, cookies) =>
      s.startSession(cookies, session, { username: 'admin' }),
    );
    expect(after).not.toBe(before);
    expect((await request(replica(), before, (session) => session)).result).toBeNull();
    expect((await request(replica(), after, (session) => session?.username)).result).toBe('admin');
    const out = await request(a, after, (session, cookies) => s.endSession(cookies, session));
    expect(out.cookies.size).toBe(0);
    expect((await request(replica(), after, (session) => session)).result).toBeNull();
  });

  it('a tampered row, or one sealed under another key, is no session', async () => {
    const a = replica();
    const id = await signedIn(a);
    expect((await request(replica(generateKey()), id, (session) => session)).result).toBeNull();
    // Another key first in the ring still reads it (rotation), and the row is still good for its own key.
    expect((await request(replica(`${generateKey()},${KEY}`), id, (session) => session?.username)).result).toBe(
      'admin',
    );
    await a.store.exec(
      sql`UPDATE console_sessions SET data = substr(data, 1, 40) || 'AAAA' || substr(data, 45) WHERE id_hash = ${hashId(id)}`,
    );
    expect((await request(a, id, (session) => session)).result).toBeNull();
  });

  it('concurrent requests on two replicas keep each other’s changes: a flash added while another takes one, a pending action', async () => {
    const a = replica();
    const b = replica();
    const id = await signedIn(a, { flash: { notice: { text: 'old' } } });
    // Two requests read the same version; each changes its own field.
    const one = jar(id);
    const two = jar(id);
    const onA = await s.loadSession(one.cookies, SEEN, a);
    const onB = await s.loadSession(two.cookies, SEEN, b);
    expect(s.takeFlash(onA).notice?.text).toBe('old');
    s.addFlash(onB as NonNullable<typeof onB>, { notice: { text: 'new' } });
    const rotate = {
      path: 'integrations.rotate',
      input: { org_id: 'org-a', kind: 'docker_hub' },
      after: { label: 'Rotate', origin: '/orgs/org-a', location: '/orgs/org-a#docker_hub' },
    } as const;
    s.setPending(onB as NonNullable<typeof onB>, rotate);
    await s.saveSession(two.cookies);
    await s.saveSession(one.cookies);
    const after = (await request(a, id, (session) => session)).result;
    expect(after?.flash).toEqual({ notice: { text: 'new' } });
    expect(after?.pending?.action).toEqual(rotate);
  });

  it('a pending action is taken once: two requests replaying it at once, on two replicas, get it once between them', async () => {
    const a = replica();
    const b = replica();
    const rotate = {
      path: 'integrations.rotate',
      input: { org_id: 'org-a', kind: 'docker_hub' },
      after: { label: 'Rotate', origin: '/orgs/org-a', location: '/orgs/org-a#docker_hub' },
    } as const;
    const id = await signedIn(a);
    await request(a, id, (session) => s.setPending(session as NonNullable<typeof session>, rotate));
    // Both read the session holding it (two step-ups in flight), and each adds a flash of its own.
    const one = jar(id);
    const two = jar(id);
    const onA = (await s.loadSession(one.cookies, SEEN, a)) as NonNullable<Awaited<ReturnType<typeof s.loadSession>>>;
    const onB = (await s.loadSession(two.cookies, SEEN, b)) as NonNullable<Awaited<ReturnType<typeof s.loadSession>>>;
    s.addFlash(onA, { notice: { text: 'from a' } });
    s.addFlash(onB, { failure: { failure: { message: 'from b' } } as never });
    // One after the other, both having read it: SQLite serialises two processes' writes the same
    // way (two connections of one process at once would only wait on each other's lock).
    expect(await s.takePending(onA)).toEqual(rotate);
    expect(await s.takePending(onB)).toBeNull();
    await s.saveSession(one.cookies);
    await s.saveSession(two.cookies);
    const after = (await request(a, id, (session) => session)).result;
    expect(after?.pending).toBeNull();
    expect(after?.flash).toMatchObject({ notice: { text: 'from a' }, failure: { failure: { message: 'from b' } } });
  });

  it('a PAT held for a step-up is sealed: never in clear in the database file', async () => {
    const a = replica();
    const canary = 'hf_CANARYcanaryCANARY0123456789abcdef';
    const id = await signedIn(a);
    await request(a, id, (session) =>
      s.setPending(session as NonNullable<typeof session>, {
        path: 'integrations.connect.huggingface',
        input: { org_id: 'org-a', token: canary },
        after: { label: 'Connect', origin: '/orgs/org-a/connect/huggingface', location: '/orgs/org-a' },
      }),
    );
    expect((await request(replica(), id, (session) => session?.pending?.action)).result).toMatchObject({
      input: { token: canary },
    });
    const path = process.env.ALPHASWARM_ADMIN_DB_PATH as string;
    for (const file of [path, `${path}-wal`]) {
      const bytes = readFileSync(file);
      expect(bytes.length).toBeGreaterThan(0);
      expect(bytes.includes(Buffer.from(canary)), file).toBe(false);
      expect(bytes.includes(Buffer.from(id)), file).toBe(false);
    }
  });

  it('drops a session idle too long, or older than its absolute limit however active, and its cookie', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const a = replica();
      const idle = await signedIn(a);
      vi.advanceTimersByTime(2 * 3600 * 1000 - 1);
      expect((await request(a, idle, (session) => session?.id)).result).toBe(idle);
      vi.advanceTimersByTime(2 * 3600 * 1000 + 1);
      const gone = await request(replica(), idle, (session) => session);
      expect(gone.result).toBeNull();
      expect(gone.cookies.size).toBe(0);

      const busy = await signedIn(a);
      for (let hour = 1; hour <= 12; hour++) {
        vi.advanceTimersByTime(3600 * 1000 - (hour === 12 ? 1 : 0));
        expect((await request(hour % 2 ? a : replica(), busy, (session) => session?.id)).result, `hour ${hour}`).toBe(
          busy,
        );
      }
      vi.advanceTimersByTime(1);
      expect((await request(a, busy, (session) => session)).result).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a flash is shown once; flashes added before it is shown add up', async () => {
    const session = s.startSession(jar().cookies, null);
    s.addFlash(session, { notice: { text: 'one' } });
    s.addFlash(session, { failure: { failure: { code: 'x', message: 'm', status: 400 } as never, values: {} } });
    expect(Object.keys(s.takeFlash(session)).sort()).toEqual(['failure', 'notice']);
    expect(s.takeFlash(session)).toEqual({});
    expect(s.takeFlash(null)).toEqual({});
  });
});
