import { generateKey } from '@alphaswarm/db';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PendingAction } from './action';
import type { Failure } from './errors';
import { cookieJar, loopbackApi, signedIn } from './testing';

/*
 * A pending action is a procedure path and its input, typed by the router, plus what the console
 * does after. Each one the console makes is sealed into a session in the database, read back by
 * the next request and replayed against a loopback server playing the API, which records the
 * procedure and input that reached it.
 */

const failure = (code: string, field: string | null = null): Failure => ({
  code,
  message: 'no',
  field,
  upstream: 'Hugging Face',
  status: 422,
});

const org = '/orgs/acme';
const at = (origin: string, location = origin) => ({ label: 'Do it', origin, location });

/** What the API answers each procedure with: enough of its output for the console's follow-up. */
const ANSWERS: Record<string, unknown> = {
  'integrations.connect.huggingface': {
    integration: { org_id: 'acme', kind: 'huggingface', namespace: 'ns' },
    audit_run_id: 'run_c',
  },
  'integrations.checkHealth': {
    integration: { kind: 'huggingface', status: 'needs_reconnect' },
    audit_run_id: 'run_h',
  },
  'integrations.checkHealthMany': { checked: 2, by_status: { healthy: 2 }, failed: 0, more: false, audit_run_id: 'r' },
  'integrations.rotate': { integration: { kind: 'huggingface' }, audit_run_id: 'run_r' },
  'integrations.disconnect': {
    kind: 'docker_hub',
    credential_key: 'k',
    revocation_guidance: 'Revoke it upstream.',
    audit_run_id: 'run_d',
  },
  'cloudOnboarding.start': { session_id: 'wiz_1', audit_run_id: 'run_s' },
  'cloudOnboarding.validateIdentity': { ok: true },
  'cloudOnboarding.connect': {
    integration: { org_id: 'acme', kind: 'cloud_aws', namespace: '' },
    audit_run_id: 'run_cc',
  },
  'cloudOnboarding.share': { share_id: 'shr_1', url: 'https://h/x', expires_at: 'soon', audit_run_id: 'r' },
  'cloudOnboarding.revokeShare': { revoked: 1 },
  'store.export': { filename: 'e.json', content: '{}', unreadable: 0, audit_run_id: 'run_e' },
  'store.import': { imported: 1 },
  'notifications.create': { endpoint: { id: 'ep_1', name: 'ops' }, secret: 'whsec_x', audit_run_id: 'run_n' },
  'notifications.test': { delivery_id: 'msg_1', audit_run_id: 'run_t' },
  'notifications.delete': { audit_run_id: 'run_del' },
  'auth.passkeyRemove': { removed: true },
  'auth.recoveryCodes': { codes: ['a-b'] },
  'auth.changePassword': {
    access_token: 'new',
    refresh_token: 'new-r',
    expires_in: 900,
    token_type: 'Bearer',
    scope: '',
  },
};

/** One action of each shape the console makes, the input as its form builds it, and what replaying it leads to. */
const ACTIONS: { action: PendingAction; location: string; flash?: object }[] = [
  {
    action: {
      path: 'integrations.connect.huggingface',
      input: { org_id: 'acme', token: 'hf_CANARY_pending_0123456789', namespace: 'ns' },
      after: { ...at(`${org}/connect/huggingface`, org), fields: { credential_rejected: 'token' } },
    },
    location: `${org}#huggingface`,
    flash: { notice: { text: 'Connected Hugging Face (ns).', run_id: 'run_c' } },
  },
  {
    action: { path: 'integrations.checkHealth', input: { org_id: 'acme', kind: 'huggingface' }, after: at(org) },
    location: org,
    flash: { notice: { text: 'Re-checked Hugging Face: needs reconnect.', run_id: 'run_h' } },
  },
  {
    action: { path: 'integrations.checkHealthMany', input: {}, after: at('/') },
    location: '/',
    flash: { notice: { text: 'Re-checked 2 link(s): 2 healthy.', run_id: 'r' } },
  },
  {
    action: {
      path: 'integrations.rotate',
      input: { org_id: 'acme', kind: 'huggingface' },
      after: { ...at(org), notice: 'Rotated.' },
    },
    location: org,
    flash: { notice: { text: 'Rotated.', run_id: 'run_r' } },
  },
  {
    action: {
      path: 'integrations.disconnect',
      input: { org_id: 'acme', kind: 'docker_hub' },
      after: at(`${org}/disconnect/docker_hub`),
    },
    location: `${org}/disconnect/docker_hub?done=run_d`,
    flash: { disconnected: { kind: 'docker_hub', audit_run_id: 'run_d' } },
  },
  {
    action: { path: 'cloudOnboarding.start', input: { org_id: 'acme', kind: 'cloud_aws' }, after: at(org) },
    location: `${org}/cloud/cloud_aws?session=wiz_1`,
  },
  {
    action: {
      path: 'cloudOnboarding.validateIdentity',
      input: {
        session_id: 'wiz_2',
        org_id: 'acme',
        kind: 'cloud_cloudflare',
        params: { account_id: 'abc', api_token: 'cf_CANARY_pending' },
      },
      after: at('/w', '/w#step-validate_identity'),
    },
    location: '/w#step-validate_identity',
  },
  {
    action: { path: 'cloudOnboarding.connect', input: { session_id: 'wiz_3' }, after: at('/w') },
    location: `${org}#cloud_aws`,
    flash: { notice: { text: 'Connected AWS.', run_id: 'run_cc' } },
  },
  {
    action: { path: 'cloudOnboarding.share', input: { session_id: 'wiz_3' }, after: at('/w', '/w#handoff') },
    location: '/w#handoff',
    flash: { shareLink: { share_id: 'shr_1', url: 'https://h/x', expires_at: 'soon' } },
  },
  {
    action: {
      path: 'cloudOnboarding.revokeShare',
      input: { share_id: 'shr_000000000000000000000001' },
      after: { ...at('/w'), notice: 'Revoked.' },
    },
    location: '/w',
    flash: { notice: { text: 'Revoked.' } },
  },
  {
    action: { path: 'store.export', input: { allow_unreadable: true }, after: at('/store') },
    location: '/store',
    flash: { notice: { text: 'Export ready: download it below.', run_id: 'run_e' } },
  },
  {
    action: {
      path: 'store.import',
      input: { content: '{"CANARY":1}', dry_run: true, on_conflict: 'skip' },
      after: { ...at('/store'), filename: 'f.json' },
    },
    location: '/store',
    flash: { importReport: { imported: 1, dry_run: true, filename: 'f.json' } },
  },
  {
    action: {
      path: 'notifications.create',
      input: { name: 'ops', type: 'slack', url: 'https://hooks.slack.com/CANARY', event_types: ['link.unhealthy'] },
      after: at('/notifications'),
    },
    location: '/notifications#ep_1',
    flash: { endpointSecret: { id: 'ep_1', name: 'ops', secret: 'whsec_x' } },
  },
  {
    action: { path: 'notifications.test', input: { id: 'ep_1' }, after: at('/notifications') },
    location: '/notifications',
    flash: {
      notice: { text: 'Test alert msg_1 queued for ep_1: its delivery shows in the log below.', run_id: 'run_t' },
    },
  },
  {
    action: {
      path: 'notifications.delete',
      input: { id: 'ep_1' },
      after: { ...at('/notifications'), notice: 'Gone.' },
    },
    location: '/notifications',
    flash: { notice: { text: 'Gone.', run_id: 'run_del' } },
  },
  {
    action: { path: 'auth.passkeyRemove', input: { id: 'pk_1' }, after: at('/account') },
    location: '/account',
  },
  {
    action: { path: 'auth.recoveryCodes', input: undefined, after: at('/account') },
    location: '/account',
    flash: { recoveryCodes: ['a-b'] },
  },
  {
    action: {
      path: 'auth.changePassword',
      input: { new_password: 'CANARY new password' },
      after: { ...at('/account'), notice: 'Changed.' },
    },
    location: '/account',
    flash: { notice: { text: 'Changed.' } },
  },
  {
    action: { path: null, after: { ...at('/account'), notice: 'Verified: add your passkey now.' } },
    location: '/account',
    flash: { notice: { text: 'Verified: add your passkey now.' } },
  },
];

const api = loopbackApi(({ path }) => ({ data: ANSWERS[path] ?? {} }), {
  ALPHASWARM_CONSOLE_SESSION_KEY: generateKey(),
});
const calls = () => api.calls.map(({ path, input }) => ({ path, input }));
let session: typeof import('./session');
let pending: typeof import('./pending');
let client: typeof import('./api');

beforeAll(async () => {
  session = await import('./session');
  pending = await import('./pending');
  client = await import('./api');
});

/** The console's client, as the signed-in admin, towards the loopback API. */
const admin = () => client.adminApi(async () => 'token', null);

const SEEN = { address: '192.0.2.1', userAgent: null };

/** A signed-in session holding `action` (as `setPending` would, or as an older console wrote it), sealed into the database. */
async function stored(write: (s: NonNullable<ReturnType<typeof session.readSession>>) => void): Promise<string> {
  const { cookies, s } = signedIn(session, { access: 'a', refresh: 'r' });
  write(s);
  await session.saveSession(cookies);
  return s.id;
}

/** The next request: the session as read back from the database. */
async function nextRequest(id: string) {
  const loaded = await session.loadSession(cookieJar({ [session.cookieName()]: id }), SEEN);
  if (!loaded) throw new Error('the session was not read back');
  return loaded;
}

describe('pending actions', () => {
  it('each kind is sealed into the session, read back, and replays its procedure with its input', async () => {
    for (const { action, location, flash } of ACTIONS) {
      const id = await stored((s) => session.setPending(s, action));
      const s = await nextRequest(id);
      expect(s.pending?.action).toEqual(action);
      api.calls.length = 0;
      expect(await pending.replayPending(s, admin()), action.path ?? 'step-up only').toBe(location);
      expect(calls()).toEqual(action.path === null ? [] : [{ path: action.path, input: action.input }]);
      if (flash) expect(session.takeFlash(s)).toMatchObject(flash);
      expect(s.pending).toBeNull();
    }
  });

  it('a password change replaces the session’s tokens with the ones it answered', async () => {
    const change = ACTIONS.find((a) => a.action.path === 'auth.changePassword')?.action as PendingAction;
    const s = await nextRequest(await stored((x) => session.setPending(x, change)));
    await pending.replayPending(s, admin());
    expect(s.tokens).toMatchObject({ access: 'new', refresh: 'new-r', source: 'embedded' });
  });

  it('an action stored by an older console (another shape) is treated as expired: nothing is replayed', async () => {
    const id = await stored((s) => {
      s.pending = {
        action: { type: 'disconnect', org_id: 'acme', kind: 'docker_hub' } as never,
        expiresAt: Date.now() + 300_000,
      };
    });
    const s = await nextRequest(id);
    expect(s.pending).toBeNull();
    expect(await pending.replayPending(s, admin())).toBe('/');
    expect(calls()).toEqual([]);
    expect(session.takeFlash(s).notice?.text).toBe('Verified. You can retry your action now.');
  });

  it('are typed by the router: a wrong input for a path does not compile', () => {
    const ok: PendingAction = {
      path: 'integrations.disconnect',
      input: { org_id: 'acme', kind: 'docker_hub' },
      after: at(org),
    };
    const badKind: PendingAction = {
      path: 'integrations.disconnect',
      // @ts-expect-error: an unknown kind is not the procedure's input
      input: { org_id: 'a', kind: 'nope' },
      after: at(org),
    };
    const otherKind: PendingAction = {
      path: 'integrations.connect.dockerHub',
      // @ts-expect-error: Docker Hub's connect takes a username and a PAT, not a Hugging Face token
      input: { org_id: 'a', token: 't' },
      after: at(org),
    };
    // @ts-expect-error: not a procedure of the router
    const noSuch: PendingAction = { path: 'integrations.explode', input: {}, after: at(org) };
    expect([ok, badKind, otherKind, noSuch].map((a) => a.path)).toEqual([
      'integrations.disconnect',
      'integrations.disconnect',
      'integrations.connect.dockerHub',
      'integrations.explode',
    ]);
  });

  it('never echo a secret back into a form', () => {
    const all = ACTIONS.map(({ action }) => pending.safeValues(action));
    expect(JSON.stringify(all)).not.toMatch(/CANARY/);
    expect(all[0]).toEqual({ org_id: 'acme', namespace: 'ns' });
    expect(all[6]).toMatchObject({ account_id: 'abc', session_id: 'wiz_2' });
    expect(all[12]).toEqual({ name: 'ops', type: 'slack', event_types: 'link.unhealthy' });
  });

  it('put an upstream verdict next to the field the form named for it', () => {
    const hf = ACTIONS[0]?.action as PendingAction;
    expect(pending.attribute(hf, failure('credential_rejected')).field).toBe('token');
    expect(pending.attribute(hf, failure('upstream_unavailable')).field).toBeNull();
    expect(pending.attribute(hf, failure('credential_rejected', 'namespace')).field).toBe('namespace');
  });
});
