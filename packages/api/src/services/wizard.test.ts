import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createShare,
  generateKey,
  getLink,
  getWizardSession,
  Keyring,
  listSessionShares,
  openDatabase,
  revokeShares,
  type Store,
  type WizardRow,
} from '@alphaswarm/db';
import { HttpClient, type IdentityParams } from '@alphaswarm/providers';
// The one fake this spec needs, from its own module: the whole fakes index takes seconds to import.
import { CF_GROUPS, type CloudflareFake, startCloudflareFake } from '@alphaswarm/providers/fakes/cloudflare';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testDeps } from '../../test/deps';
import type { ApiDeps } from '../deps';
import {
  bootstrapArtifacts,
  connect,
  discardSession,
  enumerateResources,
  listSessions,
  loadSession,
  sessionProgress,
  sessionView,
  startSession,
  validateIdentity,
  validatePermissions,
} from './wizard';

/*
 * The cloud onboarding wizard (services/wizard.ts): what a session allows, in which order, what
 * expires, and what a request holding a stale version of it gets. Called directly on a SQLite file;
 * the steps that reach an upstream go to the loopback Cloudflare fake (the one cloud kind with a
 * secret param, so the sealing rules show).
 */

const ORG = 'org-acme';
const KIND = 'cloud_cloudflare';
const ACCOUNT = '0123456789abcdef0123456789abcdef';
const TOKEN = 'cf_canary_token_0123456789abcdef';
const NARROW = 'cf_canary_narrow_0123456789abcdef';
const HOUR = 3600 * 1000;
// Whole seconds: the session stores times to the second.
const T0 = Math.floor(Date.now() / 1000) * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

let cf: CloudflareFake;
beforeAll(async () => {
  cf = await startCloudflareFake();
  cf.addAccount({ id: ACCOUNT, name: 'Acme' });
  cf.addZone({ id: 'z1', name: 'acme.example', account_id: ACCOUNT });
  const account = { [`com.cloudflare.api.account.${ACCOUNT}`]: '*' };
  const token = (id: string, value: string, groups: { id: string; name: string }[], zones: boolean) =>
    cf.addToken({
      id,
      value,
      account_id: ACCOUNT,
      status: 'active',
      expires_on: iso(T0 + 60 * 24 * HOUR),
      policies: [
        { effect: 'allow', resources: account, permission_groups: groups },
        ...(zones
          ? [
              {
                effect: 'allow' as const,
                resources: { [`com.cloudflare.api.account.${ACCOUNT}`]: { 'com.cloudflare.api.account.zone.*': '*' } },
                permission_groups: [CF_GROUPS.zoneRead, CF_GROUPS.dnsRead],
              },
            ]
          : []),
      ],
    });
  token('tok-full', TOKEN, [CF_GROUPS.accountSettingsRead, CF_GROUPS.accountTokensRead], true);
  // No zone policy: Zone Read, a required group, is missing.
  token('tok-narrow', NARROW, [CF_GROUPS.accountSettingsRead, CF_GROUPS.accountTokensRead], false);
});
afterAll(() => cf.close());

let dir: string;
let store: Store;
let deps: ApiDeps;
let clock: number;
let warned: { obj: Record<string, unknown>; msg: string }[];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'api-wizard-'));
  store = await openDatabase({ dbPath: join(dir, 'admin.db') });
  clock = T0;
  warned = [];
  deps = testDeps({
    db: store.db,
    // The wizard service checks no bearer token: the procedures in front of it do.
    verifier: {} as ApiDeps['verifier'],
    now: () => new Date(clock),
    http: new HttpClient({ totalTimeoutMs: 5_000 }),
    // Cloudflare is the only upstream a Cloudflare session reaches.
    upstreams: { cloudflare: { apiUrl: cf.apiUrl, maxTtlDays: 90 } } as ApiDeps['upstreams'],
    logger: {
      info: () => undefined,
      warn: (obj, msg) => warned.push({ obj: obj as Record<string, unknown>, msg }),
      error: () => undefined,
    },
  });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const params = (api_token = TOKEN) => ({ account_id: ACCOUNT, api_token }) as IdentityParams;
const reload = async (id: string) => (await getWizardSession(store.db, id)) as WizardRow;
const current = (id: string) => loadSession(deps, id);
const start = async () => (await startSession(deps, ORG, KIND, 'alice')).session_id;
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
  );

/** Steps 2 and 3 passed: what connect needs. */
async function proven(id: string, token = TOKEN) {
  await validateIdentity(deps, await current(id), params(token));
  return validatePermissions(deps, await current(id));
}

describe('a wizard session', () => {
  it('belongs to one org and kind, lives 24 hours, and answers as missing under any other', async () => {
    const started = await startSession(deps, ORG, KIND, 'alice');
    expect(started).toEqual({
      session_id: expect.any(String),
      org_id: ORG,
      kind: KIND,
      expires_at: iso(T0 + 24 * HOUR),
    });
    const id = started.session_id;
    expect(sessionView(await loadSession(deps, id, { org_id: ORG, kind: KIND }))).toEqual({
      session_id: id,
      org_id: ORG,
      kind: KIND,
      created_by: 'alice',
      created_at: iso(T0),
      expires_at: iso(T0 + 24 * HOUR),
      params: null,
      setup: null,
      steps: {},
    });
    const missing = 'not_found: No such onboarding session.';
    expect(await codeOf(loadSession(deps, id, { org_id: 'org-other' }))).toBe(missing);
    expect(await codeOf(loadSession(deps, id, { org_id: ORG, kind: 'cloud_aws' }))).toBe(missing);
    expect(await codeOf(loadSession(deps, 'wiz_nosuchsession'))).toBe(missing);

    await startSession(deps, 'org-other', KIND, 'alice');
    expect((await listSessions(deps, ORG)).map((s) => s.session_id)).toEqual([id]);

    clock = T0 + 24 * HOUR - 1000;
    expect((await loadSession(deps, id)).id).toBe(id);
    clock = T0 + 24 * HOUR;
    expect(await codeOf(loadSession(deps, id))).toBe(
      `precondition_failed: This onboarding session expired at ${iso(T0 + 24 * HOUR)}; start a new one.`,
    );
    expect(await listSessions(deps, ORG)).toEqual([]);
  });

  it('walks artifacts → identity → permissions → resources → connect, recording each step and moving the version once per step', async () => {
    const id = await start();
    const progress = async () => sessionProgress(await current(id));
    expect(await progress()).toEqual({
      version: 0,
      params_entered: false,
      steps: {
        bootstrap_artifacts: 'todo',
        validate_identity: 'todo',
        validate_permissions: 'todo',
        enumerate_resources: 'todo',
        connect: 'todo',
      },
    });

    const artifacts = await bootstrapArtifacts(deps, await current(id), { project_id: 'proj-1' });
    expect(artifacts).toMatchObject({
      issuer: 'https://admin.test/workload',
      audience: 'cloudflare-api-token',
      subject: `org:${ORG}:${KIND}`,
    });
    // Before step 2 the account is not known: the dashboard link cannot name it yet.
    expect(JSON.stringify(artifacts.links)).not.toContain(ACCOUNT);
    expect(sessionView(await current(id)).setup).toEqual({ project_id: 'proj-1' });
    expect((await progress()).version).toBe(1);

    clock += 1000;
    const identity = await validateIdentity(deps, await current(id), params());
    expect(identity.principal).toBe('tok-full');
    clock += 1000;
    const permissions = await validatePermissions(deps, await current(id));
    expect(permissions.checks.filter((c) => c.required).every((c) => c.granted)).toBe(true);
    clock += 1000;
    const resources = await enumerateResources(deps, await current(id));
    expect(resources.resources.map((r) => r.name)).toEqual(['Acme', 'acme.example']);

    const view = sessionView(await current(id));
    expect(view.steps).toEqual({
      bootstrap_artifacts: { at: iso(T0), ok: true, result: artifacts },
      validate_identity: { at: iso(T0 + 1000), ok: true, result: identity },
      validate_permissions: { at: iso(T0 + 2000), ok: true, result: permissions, passed: true },
      enumerate_resources: { at: iso(T0 + 3000), ok: true, result: resources },
    });
    expect(await progress()).toEqual({
      version: 4,
      params_entered: true,
      steps: {
        bootstrap_artifacts: 'done',
        validate_identity: 'done',
        validate_permissions: 'done',
        enumerate_resources: 'done',
        connect: 'todo',
      },
    });
    // Later steps read the params step 2 stored: the artifacts now name the account.
    const again = await bootstrapArtifacts(deps, await current(id));
    expect(JSON.stringify(again.links)).toContain(`https://dash.cloudflare.com/${ACCOUNT}/api-tokens`);
    expect(sessionView(await current(id)).setup).toEqual({ project_id: 'proj-1' });

    const done = await connect(deps, await current(id), 'run_connect_1');
    expect(done).toEqual({
      integration: expect.objectContaining({ org_id: ORG, kind: KIND }),
      audit_run_id: 'run_connect_1',
    });
    expect(await getLink(store.db, ORG, KIND)).toMatchObject({ namespace: ACCOUNT });
    expect(sessionView(await current(id)).steps.connect).toEqual({ at: iso(T0 + 3000), ok: true, result: done });
    expect((await progress()).steps.connect).toBe('done');
    // A connected session is finished: it is no longer offered for resuming.
    expect(await listSessions(deps, ORG)).toEqual([]);
    expect(warned).toEqual([]);
  });

  it('keeps the secret param sealed, shows it masked, and asks for it again once the keyring cannot open it', async () => {
    const id = await start();
    await validateIdentity(deps, await current(id), params());
    const row = await current(id);
    expect(JSON.stringify(row.state)).not.toContain(TOKEN);
    const view = sessionView(row);
    expect(view.params).toEqual({ account_id: ACCOUNT, api_token: '••••••••' });
    expect(JSON.stringify(view)).not.toContain(TOKEN);
    expect(JSON.stringify(await listSessions(deps, ORG))).not.toContain(TOKEN);

    deps = { ...deps, keyring: Keyring.fromEnv(generateKey()) };
    const unreadable =
      'secret_unreadable: The secret entered in this session can no longer be decrypted; re-enter it in the identity step.';
    expect(await codeOf(validatePermissions(deps, await current(id)))).toBe(unreadable);
    expect(await codeOf(enumerateResources(deps, await current(id)))).toBe(unreadable);
    // Entering it again under the new key is the way on.
    await validateIdentity(deps, await current(id), params());
    expect((await validatePermissions(deps, await current(id))).checks.length).toBeGreaterThan(0);
  });

  it('records a failed step with its error; new identity params drop the proofs taken with the old ones', async () => {
    const id = await start();
    await proven(id);
    await enumerateResources(deps, await current(id));

    clock += 1000;
    const refused = await codeOf(validateIdentity(deps, await current(id), params('cf_wrong_token_0123456789abcdef')));
    expect(refused).toMatch(/^credential_rejected: /);
    const view = sessionView(await current(id));
    expect(view.steps.validate_identity).toEqual({
      at: iso(T0 + 1000),
      ok: false,
      error: { code: 'credential_rejected', message: refused.replace(/^credential_rejected: /, '') },
    });
    expect(view.steps.validate_permissions).toBeUndefined();
    expect(view.steps.enumerate_resources).toBeUndefined();
    expect(view.params).toEqual({ account_id: ACCOUNT, api_token: '••••••••' });
    expect(sessionProgress(await current(id))).toMatchObject({
      params_entered: true,
      steps: { validate_identity: 'failed', validate_permissions: 'todo', enumerate_resources: 'todo' },
    });

    // Nothing after step 2 runs on a failed identity, and each refusal is recorded too.
    const first = 'precondition_failed: Validate the identity (step 2) in this session first.';
    expect(await codeOf(validatePermissions(deps, await current(id)))).toBe(first);
    expect(await codeOf(enumerateResources(deps, await current(id)))).toBe(first);
    expect(sessionView(await current(id)).steps).toMatchObject({
      validate_permissions: { ok: false, passed: false, error: { code: 'precondition_failed' } },
      enumerate_resources: { ok: false, error: { code: 'precondition_failed' } },
    });
    expect(await codeOf(connect(deps, await current(id), 'run_1'))).toBe(
      'precondition_failed: Validate the identity (step 2) in this session before connecting.',
    );
    expect(await getLink(store.db, ORG, KIND)).toBeUndefined();
  });

  it('connects only on identity and permissions proven in this session within the last hour', async () => {
    const id = await start();
    expect(await codeOf(connect(deps, await current(id), 'run_1'))).toBe(
      'precondition_failed: Validate the identity (step 2) in this session before connecting.',
    );
    await validateIdentity(deps, await current(id), params());
    expect(await codeOf(connect(deps, await current(id), 'run_1'))).toBe(
      'precondition_failed: Validate the permissions (step 3) in this session before connecting.',
    );
    await validatePermissions(deps, await current(id));

    clock = T0 + HOUR + 1000;
    expect(await codeOf(connect(deps, await current(id), 'run_1'))).toBe(
      'precondition_failed: Identity validation (step 2) must have passed in this session within the last hour; run it again, then connect.',
    );
    // A new identity proof drops the permission proof: step 3 must follow it again.
    await validateIdentity(deps, await current(id), params());
    expect(await codeOf(connect(deps, await current(id), 'run_1'))).toBe(
      'precondition_failed: Validate the permissions (step 3) in this session before connecting.',
    );
    await validatePermissions(deps, await current(id));
    clock += HOUR;
    expect((await connect(deps, await current(id), 'run_1')).audit_run_id).toBe('run_1');
  });

  it('refuses to connect while a required permission is missing, naming it and where', async () => {
    const id = await start();
    const { checks } = await proven(id, NARROW);
    expect(checks.find((c) => c.permission === 'Zone Read')).toMatchObject({ required: true, granted: false });
    expect(sessionView(await current(id)).steps.validate_permissions).toMatchObject({ ok: true, passed: false });
    expect(await codeOf(connect(deps, await current(id), 'run_1'))).toBe(
      `permission_missing: Required permissions are missing: Zone Read on com.cloudflare.api.account.${ACCOUNT}. Grant them, re-run step 3, then connect.`,
    );
    expect(await getLink(store.db, ORG, KIND)).toBeUndefined();
  });

  it('gives a request holding a stale version a conflict and keeps what the other request recorded', async () => {
    const id = await start();
    const stale = await current(id);
    await validateIdentity(deps, await current(id), params());
    const after = await reload(id);

    expect(await codeOf(bootstrapArtifacts(deps, stale))).toBe(
      'conflict: This onboarding session was changed by another request; reload it and retry the step.',
    );
    // A step that fails on a stale version answers its own error; recording it loses the race quietly.
    expect(await codeOf(validateIdentity(deps, stale, params('cf_wrong_token_0123456789abcdef')))).toMatch(
      /^credential_rejected: /,
    );
    expect(await reload(id)).toEqual(after);
  });

  it('still answers the stored link when the connect record loses a race, and says so in the log', async () => {
    const id = await start();
    await proven(id);
    const stale = await current(id);
    await bootstrapArtifacts(deps, await current(id));

    const done = await connect(deps, stale, 'run_1');
    expect(done.integration).toMatchObject({ org_id: ORG, kind: KIND });
    expect(await getLink(store.db, ORG, KIND)).toBeDefined();
    expect(sessionProgress(await current(id)).steps.connect).toBe('todo');
    expect(warned).toEqual([
      {
        msg: 'link stored; session not updated',
        obj: { session: id, error_name: 'AppError', credential_key: `${KIND}:org:${ORG}` },
      },
    ]);
  });

  it('on discard, goes away with its hand-off links and names those that were still live', async () => {
    const id = await start();
    const share = (expiresAt: string) =>
      createShare(store.db, { sessionId: id, orgId: ORG, createdBy: 'alice', expiresAt }, iso(T0));
    const live = await share(iso(T0 + HOUR));
    const revoked = await share(iso(T0 + HOUR));
    await revokeShares(store.db, { id: revoked.row.id }, iso(T0));
    await share(iso(T0 + 1000));
    clock = T0 + 1000;

    expect(await discardSession(deps, await current(id))).toEqual({ session_id: id, revoked: [live.row.id] });
    expect(await codeOf(current(id))).toBe('not_found: No such onboarding session.');
    expect(await listSessionShares(store.db, id)).toEqual([]);
  });
});
