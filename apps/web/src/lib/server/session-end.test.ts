import { generateKey, Keyring, openStore } from '@alphaswarm/db';
import type { Cookies } from '@sveltejs/kit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SessionStore } from './session-store';

/*
 * How a console session ends (session.test.ts has how one lives): the cookie is deleted with the
 * attributes it was set with, a session signed out elsewhere is not brought back by a request
 * still holding it, and a pending action is dropped once its time is up.
 */

let s: typeof import('./session');
const store = new SessionStore(
  openStore(process.env.ALPHASWARM_ADMIN_DB_PATH as string),
  Keyring.fromEnv(generateKey()),
);

beforeAll(async () => {
  vi.resetModules();
  const { parseConsoleEnv } = await import('./env');
  const env = parseConsoleEnv({ ...process.env, ORIGIN: 'https://console.example' });
  vi.doMock('./env', () => ({ consoleEnv: () => env }));
  s = await import('./session');
});
afterAll(async () => {
  vi.doUnmock('./env');
  await store.close();
});

function jar(id?: string) {
  const values = new Map<string, string>();
  const deleted: [string, unknown][] = [];
  const cookies = {
    get: (name: string) => values.get(name),
    set: (name: string, value: string) => void values.set(name, value),
    delete: (name: string, opts: unknown) => {
      deleted.push([name, opts]);
      values.delete(name);
    },
  } as unknown as Cookies;
  if (id) values.set('__Host-as_session', id);
  return { cookies, values, deleted };
}

async function signedIn(): Promise<string> {
  const { cookies } = jar();
  // Loaded first (no cookie yet) so that the request's session lives in this test's store.
  await s.loadSession(cookies, { address: null, userAgent: null }, store);
  s.startSession(cookies, null, {
    username: 'admin',
    tokens: { access: 'a', refresh: 'r', accessExpiresAt: Date.now() + 600_000, source: 'embedded' },
  });
  await s.saveSession(cookies);
  return s.readSession(cookies)?.id as string;
}

const ROTATE = {
  path: 'integrations.rotate',
  input: { org_id: 'org-a', kind: 'docker_hub' },
  after: { label: 'Rotate', origin: '/orgs/org-a', location: '/orgs/org-a' },
} as const;

describe('ending a session', () => {
  it('deletes the cookie on the path and with the Secure flag it was set with', async () => {
    const id = await signedIn();
    const one = jar(id);
    const session = await s.loadSession(one.cookies, { address: null, userAgent: null }, store);
    s.endSession(one.cookies, session);
    expect(one.deleted).toEqual([['__Host-as_session', { path: '/', secure: true }]]);
    await s.saveSession(one.cookies);
    expect(await store.read(id)).toBeNull();
    // Without a session (already gone) the cookie still goes.
    const two = jar('stale-id');
    s.endSession(two.cookies, null);
    expect(two.values.size).toBe(0);
  });

  it('a request still holding a session signed out elsewhere does not bring it back, and drops its cookie', async () => {
    const id = await signedIn();
    const stays = jar(id);
    const leaves = jar(id);
    const held = await s.loadSession(stays.cookies, { address: null, userAgent: null }, store);
    const out = await s.loadSession(leaves.cookies, { address: null, userAgent: null }, store);
    s.endSession(leaves.cookies, out);
    await s.saveSession(leaves.cookies);
    s.addFlash(held as NonNullable<typeof held>, { notice: { text: 'late' } });
    await s.saveSession(stays.cookies);
    expect(await store.read(id)).toBeNull();
    expect(stays.values.size).toBe(0);
    expect(s.readSession(stays.cookies)).toBeNull();
  });

  it('a session started and ended within one request is never written', async () => {
    const { cookies } = jar();
    await s.loadSession(cookies, { address: null, userAgent: null }, store);
    const started = s.startSession(cookies, null, { username: 'admin' });
    s.endSession(cookies, started);
    await s.saveSession(cookies);
    expect(await store.read(started.id)).toBeNull();
  });

  it('a taken action is cleared in the database at once, the rest of the session kept; signed out elsewhere, there is none', async () => {
    const id = await signedIn();
    const first = jar(id);
    const held = await s.loadSession(first.cookies, { address: null, userAgent: null }, store);
    s.setPending(held as NonNullable<typeof held>, ROTATE);
    await s.saveSession(first.cookies);

    const one = jar(id);
    const two = jar(id);
    const onOne = await s.loadSession(one.cookies, { address: null, userAgent: null }, store);
    const onTwo = await s.loadSession(two.cookies, { address: null, userAgent: null }, store);
    expect(await s.takePending(onOne as NonNullable<typeof onOne>)).toEqual(ROTATE);
    // Before this request ends, another reads the session: signed in still, nothing pending.
    const meanwhile = await store.read(id);
    expect(meanwhile?.data).toMatchObject({ username: 'admin', tokens: { access: 'a' }, pending: null });

    const three = jar(id);
    const onThree = await s.loadSession(three.cookies, { address: null, userAgent: null }, store);
    s.setPending(onThree as NonNullable<typeof onThree>, ROTATE);
    await s.saveSession(three.cookies);
    s.endSession(one.cookies, onOne);
    await s.saveSession(one.cookies);
    expect(await s.takePending(onTwo as NonNullable<typeof onTwo>)).toBeNull();
  });

  it('a change written meanwhile that is not a take does not keep a request from taking the action', async () => {
    const id = await signedIn();
    const first = jar(id);
    const held = await s.loadSession(first.cookies, { address: null, userAgent: null }, store);
    s.setPending(held as NonNullable<typeof held>, ROTATE);
    await s.saveSession(first.cookies);
    const taker = jar(id);
    const other = jar(id);
    const onTaker = await s.loadSession(taker.cookies, { address: null, userAgent: null }, store);
    const onOther = await s.loadSession(other.cookies, { address: null, userAgent: null }, store);
    s.addFlash(onOther as NonNullable<typeof onOther>, { notice: { text: 'elsewhere' } });
    await s.saveSession(other.cookies);
    expect(await s.takePending(onTaker as NonNullable<typeof onTaker>)).toEqual(ROTATE);
    expect((await store.read(id))?.data).toMatchObject({ pending: null, flash: { notice: { text: 'elsewhere' } } });
  });

  it('a request that read no session saves nothing', async () => {
    const { cookies } = jar();
    await expect(s.saveSession(cookies)).resolves.toBeUndefined();
    expect(await s.loadSession(cookies, { address: null, userAgent: null }, store)).toBeNull();
    await s.saveSession(cookies);
    expect(s.readSession(cookies)).toBeNull();
  });

  it('a pending action is kept until the last millisecond of its time, then dropped', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const id = await signedIn();
      const { cookies } = jar(id);
      const session = await s.loadSession(cookies, { address: null, userAgent: null }, store);
      s.setPending(session as NonNullable<typeof session>, ROTATE);
      await s.saveSession(cookies);
      const ttl = 300_000;
      vi.advanceTimersByTime(ttl);
      const atEnd = await s.loadSession(jar(id).cookies, { address: null, userAgent: null }, store);
      expect(atEnd?.pending?.action).toEqual(ROTATE);
      vi.advanceTimersByTime(1);
      const after = await s.loadSession(jar(id).cookies, { address: null, userAgent: null }, store);
      expect(after?.pending).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
