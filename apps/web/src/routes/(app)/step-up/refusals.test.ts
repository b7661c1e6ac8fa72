import type { ActionFailure } from '@sveltejs/kit';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cookieJar, loopbackApi, settle, signedIn as signedInAdmin } from '$lib/server/testing';

/*
 * What the step-up page shows about the action it is holding, and what it does when the API
 * refuses: a wrong code is tried again, a dead sign-in ends the session, and a replay that still
 * wants a step-up keeps its action. A loopback server plays the API; each test scripts its answers.
 */

/** The API's error for a procedure, as its error formatter shapes it; anything not listed succeeds. */
let refusals: Record<string, { status: number; app_code: string; field?: string; message: string }> = {};
const api = loopbackApi(
  ({ path }) => {
    const refused = refusals[path];
    if (refused) return { refused };
    return {
      data:
        path === 'auth.stepUp'
          ? { access_token: 'fresh', refresh_token: 'r2', expires_in: 900, token_type: 'Bearer', scope: '' }
          : { integration: { status: 'healthy' }, audit_run_id: 'run_1' },
    };
  },
  {
    ALPHASWARM_CONSOLE_OIDC_ISSUER: 'https://idp.example.com',
    ALPHASWARM_CONSOLE_OIDC_CLIENT_ID: 'console',
    ORIGIN: 'http://127.0.0.1:3000',
  },
);
/** The procedures that reached the API, in order. */
const calls = () => api.calls.map((c) => c.path);
let page: typeof import('./+page.server');
let session: typeof import('$lib/server/session');
let client: typeof import('$lib/server/api');

beforeAll(async () => {
  session = await import('$lib/server/session');
  client = await import('$lib/server/api');
  page = await import('./+page.server');
});
beforeEach(() => {
  refusals = {};
});

const CHECK = {
  path: 'integrations.checkHealth',
  input: { org_id: 'org-a', kind: 'huggingface' },
  after: { label: 'Re-check Hugging Face for org-a', origin: '/orgs/org-a', location: '/orgs/org-a#huggingface' },
} as const;

function signedIn(source: 'embedded' | 'sso' = 'embedded', pending = true) {
  const signed = signedInAdmin(session, { access: 'stale', refresh: 'refresh-1', source });
  if (pending) session.setPending(signed.s, CHECK);
  return signed;
}

type Load = (e: never) => { label: string | null; back: string; sso: string | null; ssoError: string | null };
const load = (s: ReturnType<typeof signedIn>['s'] | null) =>
  (page.load as unknown as Load)({ locals: { session: s } } as never);

async function act(name: 'verify' | 'cancel', s: ReturnType<typeof signedIn> | null, code = '123456') {
  const form = new FormData();
  form.set('code', code);
  const event = {
    request: new Request('http://console.test/step-up', { method: 'POST', body: form }),
    locals: { session: s?.s ?? null, api: client.adminApi(async () => s?.s.tokens?.access ?? '', '192.0.2.1') },
    cookies: s?.cookies ?? cookieJar(),
    getClientAddress: () => '192.0.2.1',
  };
  const { returned, location } = await settle(() =>
    (page.actions[name] as (e: never) => Promise<unknown>)(event as never),
  );
  return { failure: returned as ActionFailure<{ message: string | null }> | null, location };
}

describe('the step-up page shows', () => {
  it('what the held action is about to do and where cancel goes; without one, no label and home', () => {
    expect(load(signedIn().s)).toEqual({ label: CHECK.after.label, back: '/orgs/org-a', sso: null, ssoError: null });
    expect(load(signedIn('embedded', false).s)).toEqual({ label: null, back: '/', sso: null, ssoError: null });
    expect(load(null)).toEqual({ label: null, back: '/', sso: null, ssoError: null });
  });

  it('an SSO session the IdP it steps up at, and why its last round trip was refused, once', () => {
    const { s } = signedIn('sso');
    const reason = 'The identity provider did not confirm a fresh sign-in.';
    s.ssoError = reason;
    expect(load(s)).toMatchObject({ sso: 'idp.example.com', ssoError: reason });
    expect(s.ssoError).toBeNull();
    expect(load(s).ssoError).toBeNull();
  });
});

describe('the step-up page refuses', () => {
  it('a request without a signed-in session: to sign-in, nothing sent to the API', async () => {
    expect(await act('verify', null)).toEqual({ failure: null, location: '/login' });
    const half = signedIn();
    half.s.tokens = null;
    expect((await act('verify', half)).location).toBe('/login');
    expect(calls()).toEqual([]);
  });

  it('a code that is not 6 to 8 digits (spaces aside): never sent, the action kept', async () => {
    for (const code of ['12345', '123456789', 'x123456', '123456x', '']) {
      const s = signedIn();
      const { failure } = await act('verify', s, code);
      expect(failure?.status, code).toBe(400);
      expect(failure?.data).toEqual({ message: 'Enter the 6-digit code from your authenticator app.' });
      expect(s.s.pending?.action).toEqual(CHECK);
    }
    expect(calls()).toEqual([]);
  });

  it('a wrong or reused code: its message, the action kept for the next code', async () => {
    refusals['auth.stepUp'] = { status: 401, app_code: 'invalid_token', field: 'code', message: 'That code is wrong.' };
    const s = signedIn();
    const { failure } = await act('verify', s);
    expect(failure?.status).toBe(400);
    expect(failure?.data).toEqual({ message: 'That code is wrong.' });
    expect(s.s.pending?.action).toEqual(CHECK);
    expect(s.cookies.names()).toEqual([session.cookieName()]);
    expect(calls()).toEqual(['auth.stepUp']);
  });

  it('too many codes: 429 with the API’s message', async () => {
    refusals['auth.stepUp'] = { status: 429, app_code: 'rate_limited', message: 'Too many attempts; retry in 30 s.' };
    const { failure } = await act('verify', signedIn());
    expect(failure?.status).toBe(429);
    expect(failure?.data).toEqual({ message: 'Too many attempts; retry in 30 s.' });
  });

  it('a sign-in that has ended (spent refresh token): the session ends and its cookie goes', async () => {
    refusals['auth.stepUp'] = { status: 401, app_code: 'invalid_token', message: 'Sign in again.' };
    const s = signedIn();
    expect(await act('verify', s)).toEqual({ failure: null, location: '/login' });
    expect(s.cookies.names()).toEqual([]);
    expect(session.readSession(s.cookies)).toBeNull();
  });

  it('a replay the API still finds too stale: 401 with its reason, the action kept for another try', async () => {
    const reason = 'This action needs a fresher second factor.';
    refusals['integrations.checkHealth'] = {
      status: 401,
      app_code: 'insufficient_user_authentication',
      message: reason,
    };
    const s = signedIn();
    const { failure } = await act('verify', s);
    expect(failure?.status).toBe(401);
    expect(failure?.data).toEqual({ message: reason });
    expect(s.s.ssoError).toBeNull();
    expect(s.s.pending?.action).toEqual(CHECK);
    expect(s.s.pending?.expiresAt).toBeGreaterThan(Date.now());
    expect(calls()).toEqual(['auth.stepUp', 'integrations.checkHealth']);
  });

  it('a replay the API refuses: back to the form it came from, the failure next to its field, no secret echoed', async () => {
    refusals['integrations.connect.huggingface'] = {
      status: 422,
      app_code: 'credential_rejected',
      message: 'Hugging Face refused the token.',
    };
    const s = signedIn('embedded', false);
    session.setPending(s.s, {
      path: 'integrations.connect.huggingface',
      input: { org_id: 'org-a', token: 'hf_CANARY_refused_0123456789', namespace: 'ns' },
      after: {
        label: 'Connect Hugging Face',
        origin: '/orgs/org-a/connect/huggingface',
        location: '/orgs/org-a#huggingface',
        fields: { credential_rejected: 'token' },
      },
    });
    expect(await act('verify', s)).toEqual({ failure: null, location: '/orgs/org-a/connect/huggingface' });
    expect(s.s.pending).toBeNull();
    expect(session.takeFlash(s.s)).toEqual({
      failure: {
        failure: {
          code: 'credential_rejected',
          message: 'Hugging Face refused the token.',
          field: 'token',
          upstream: null,
          status: 422,
        },
        values: { org_id: 'org-a', namespace: 'ns' },
        at: 'huggingface',
      },
    });
  });

  it('a refused replay of a form with no section: the failure belongs to the whole page', async () => {
    refusals['integrations.checkHealth'] = { status: 422, app_code: 'upstream_unavailable', message: 'Try later.' };
    const s = signedIn('embedded', false);
    session.setPending(s.s, { ...CHECK, after: { ...CHECK.after, location: '/orgs/org-a' } });
    expect((await act('verify', s)).location).toBe('/orgs/org-a');
    const { failure } = session.takeFlash(s.s);
    expect(failure?.failure.code).toBe('upstream_unavailable');
    expect(failure).not.toHaveProperty('at');
  });

  it('cancel with nothing held, or no session: home', async () => {
    expect((await act('cancel', signedIn('embedded', false))).location).toBe('/');
    expect((await act('cancel', null)).location).toBe('/');
  });
});
