import type { ActionFailure } from '@sveltejs/kit';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { cookieJar, loopbackApi, settle, signedIn } from '$lib/server/testing';

/*
 * The step-up page replays the mutation that needed a fresh MFA: once, and only after the code
 * was accepted. A loopback server plays the API and records every procedure called.
 */

const api = loopbackApi(({ path }) => ({
  data:
    path === 'auth.stepUp'
      ? { access_token: 'fresh', refresh_token: 'refresh-2', expires_in: 900, token_type: 'Bearer', scope: '' }
      : { integration: { status: 'healthy' }, audit_run_id: 'run_1' },
}));
const calls = api.calls;
let page: typeof import('./+page.server');
let session: typeof import('$lib/server/session');
let client: typeof import('$lib/server/api');

beforeAll(async () => {
  session = await import('$lib/server/session');
  client = await import('$lib/server/api');
  page = await import('./+page.server');
});

const CHECK = {
  path: 'integrations.checkHealth',
  input: { org_id: 'org-a', kind: 'huggingface' },
  after: { label: 'Re-check Hugging Face for org-a', origin: '/orgs/org-a', location: '/orgs/org-a#huggingface' },
} as const;

function signedInWithPending() {
  const signed = signedIn(session, { access: 'stale', refresh: 'refresh-1' });
  session.setPending(signed.s, CHECK);
  return signed;
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
  const { returned, location } = await settle(() =>
    (page.actions.verify as (e: never) => Promise<unknown>)(event as never),
  );
  return { result: returned, location };
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
      const cookies = cookieJar({ [session.cookieName()]: first.s.id });
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
    const { location } = await settle(() =>
      (page.actions.cancel as (e: never) => unknown)({ locals: { session: s.s } } as never),
    );
    expect(location).toBe('/orgs/org-a');
    expect(s.s.pending).toBeNull();
  });
});
