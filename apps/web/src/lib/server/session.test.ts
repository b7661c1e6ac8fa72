import type { Cookies } from '@sveltejs/kit';
import { afterEach, describe, expect, it, vi } from 'vitest';

function jar() {
  const set = new Map<string, { value: string; opts: Record<string, unknown> }>();
  const cookies = {
    get: (name: string) => set.get(name)?.value,
    set: (name: string, value: string, opts: Record<string, unknown>) => void set.set(name, { value, opts }),
    delete: (name: string) => void set.delete(name),
  } as unknown as Cookies;
  return { cookies, set };
}

async function sessionModule(origin: string | undefined) {
  vi.resetModules();
  const { parseConsoleEnv } = await import('./env');
  const env = parseConsoleEnv({ ORIGIN: origin });
  vi.doMock('./env', () => ({ consoleEnv: () => env }));
  return import('./session');
}

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

  it('gets a new id on every privilege change and forgets the old one', async () => {
    const s = await sessionModule(undefined);
    const { cookies } = jar();
    const before = s.startSession(cookies, null, { username: 'admin' });
    const after = s.startSession(cookies, before, { username: 'admin' });
    expect(after.id).not.toBe(before.id);
    expect(s.readSession(cookies)?.id).toBe(after.id);
    const stale = jar();
    stale.cookies.set('as_session', before.id, { path: '/' });
    expect(s.readSession(stale.cookies)).toBeNull();
  });

  it('signing out drops the session', async () => {
    const s = await sessionModule(undefined);
    const { cookies, set } = jar();
    const session = s.startSession(cookies, null);
    s.endSession(cookies, session);
    expect(set.size).toBe(0);
    const again = jar();
    again.cookies.set('as_session', session.id, { path: '/' });
    expect(s.readSession(again.cookies)).toBeNull();
  });

  it('drops a session idle too long, or older than its absolute limit however active, and its cookie', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const s = await sessionModule(undefined);
      const idle = jar();
      s.startSession(idle.cookies, null);
      vi.advanceTimersByTime(2 * 3600 * 1000);
      expect(s.readSession(idle.cookies)).not.toBeNull();
      vi.advanceTimersByTime(2 * 3600 * 1000 + 1);
      expect(s.readSession(idle.cookies)).toBeNull();
      expect(idle.set.size).toBe(0);

      const busy = jar();
      const session = s.startSession(busy.cookies, null);
      for (let hour = 1; hour <= 12; hour++) {
        vi.advanceTimersByTime(3600 * 1000);
        expect(s.readSession(busy.cookies)?.id, `hour ${hour}`).toBe(session.id);
      }
      vi.advanceTimersByTime(1);
      expect(s.readSession(busy.cookies)).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a flash is shown once; flashes added before it is shown add up', async () => {
    const s = await sessionModule(undefined);
    const session = s.startSession(jar().cookies, null);
    s.addFlash(session, { notice: { text: 'one' } });
    s.addFlash(session, { failure: { failure: { code: 'x', message: 'm', status: 400 } as never, values: {} } });
    expect(Object.keys(s.takeFlash(session)).sort()).toEqual(['failure', 'notice']);
    expect(s.takeFlash(session)).toEqual({});
    expect(s.takeFlash(null)).toEqual({});
  });
});
