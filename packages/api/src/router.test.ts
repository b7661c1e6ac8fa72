import { AUDIT_ACTIONS, isAuditAction } from '@alphaswarm/contracts';
import { countLinks, listAudit, type Store } from '@alphaswarm/db';
import { insertProbes, type ProbeRow } from '@alphaswarm/db/testing';
import { HttpClient } from '@alphaswarm/providers';
import {
  DEFAULT_UPSTREAMS,
  type DockerHubFake,
  type HuggingFaceFake,
  hfProfile,
  startDockerHubFake,
  startHuggingFaceFake,
} from '@alphaswarm/providers/fakes';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testStore } from '../test/database';
import { testDeps } from '../test/deps';
import { BearerVerifier, localIssuer } from './auth/bearer';
import type { ApiDeps } from './deps';
import { type AppError, toAppError } from './errors';
import { appRouter, createCaller } from './root';
import { createContextInner } from './trpc';

/*
 * The API without HTTP: a context built from dependencies (a real database of the project's dialect, the real HTTP
 * client against loopback fakes, a real JWT verifier), procedures called through createCaller.
 */

const ISSUER = 'https://idp.test';
const AUDIENCE = 'alphaswarm-admin';
const HF_TOKEN = 'hf_router_test_token_0001';

let hf: HuggingFaceFake;
let hub: DockerHubFake;
let sign: (claims: Record<string, unknown>) => Promise<string>;
let verifier: BearerVerifier;

beforeAll(async () => {
  hf = await startHuggingFaceFake();
  hf.addToken(HF_TOKEN, hfProfile({ name: 'alice', role: 'read' }));
  hub = await startDockerHubFake();
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  verifier = new BearerVerifier(
    [localIssuer({ issuer: ISSUER, audience: AUDIENCE, jwks: async () => ({ keys: [jwk] }), maxTokenLifetime: 900 })],
    () => new Date(),
  );
  sign = (claims) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
});
afterAll(async () => {
  await hf.close();
  await hub.close();
});

let store: Store;
let disposeStore: () => Promise<void>;
let deps: ApiDeps;
beforeEach(async () => {
  ({ store, dispose: disposeStore } = await testStore());
  deps = testDeps({
    db: store.db,
    verifier,
    http: new HttpClient({ totalTimeoutMs: 2_000 }),
    upstreams: { ...DEFAULT_UPSTREAMS, huggingfaceEndpoint: hf.url, dockerHubUrl: hub.url },
  });
});
afterEach(async () => {
  await deps.http.close();
  await disposeStore();
});

async function caller(claims: Record<string, unknown> | null) {
  const authorization = claims ? `Bearer ${await sign(claims)}` : undefined;
  return createCaller(createContextInner(deps, { requestId: 'test', clientIp: '192.0.2.1', authorization }));
}

const admin = { scope: 'admin:cluster', amr: ['pwd', 'otp', 'mfa'], auth_time: () => Math.floor(Date.now() / 1000) };
const fresh = () => ({ ...admin, auth_time: admin.auth_time() });

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return toAppError(error);
  }
  throw new Error('expected the call to fail');
}

describe('procedures through createCaller', () => {
  it('every procedure has a typed audit action named by its path (public ones: the IdP names its events)', () => {
    const procedures = (appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures;
    const unaudited = Object.keys(procedures).filter((path) => !isAuditAction(path));
    // Sign-in steps and the admin's own account are audited by the IdP under its own names (auth.step_up,
    // auth.passkey_login, auth.passkey_register, auth.passkey_remove, auth.recovery_codes,
    // auth.change_password); auth.account only reads one's own; system.info reveals nothing.
    expect(unaudited.sort()).toEqual([
      'auth.account',
      'auth.changePassword',
      'auth.passkeyAuthenticate',
      'auth.passkeyOptions',
      'auth.passkeyRegister',
      'auth.passkeyRegisterOptions',
      'auth.passkeyRemove',
      'auth.recoveryCodes',
      'auth.stepUp',
      'system.info',
    ]);
    expect(AUDIT_ACTIONS).toContain('integrations.connect.dockerHub');
  });

  it('denies a caller without a token, auditing the denial with its org', async () => {
    const error = await failure((await caller(null)).integrations.list({ org_id: 'org-a' }));
    expect(error.code).toBe('invalid_token');
    const [row] = await listAudit(store.db, {}, { limit: 5 });
    expect(row).toMatchObject({ action: 'integrations.list', phase: 'denied', orgId: 'org-a', clientIp: '192.0.2.1' });
  });

  it('refuses a stale MFA on a mutation with the RFC 9470 challenge, and writes nothing but the denial', async () => {
    const stale = { ...admin, auth_time: Math.floor(Date.now() / 1000) - 3600 };
    const error = await failure(
      (await caller(stale)).integrations.connect.huggingface({ org_id: 'org-a', token: HF_TOKEN }),
    );
    expect(error.code).toBe('insufficient_user_authentication');
    expect(error.extra.headers?.['www-authenticate']).toMatch(/max_age=600$/);
    expect((await listAudit(store.db, {}, { limit: 5 })).map((r) => r.phase)).toEqual(['denied']);
    expect(hf.requests).toHaveLength(0);
  });

  it('validates a connect input once, at the router: a bad one never reaches the upstream, and is audited', async () => {
    const api = await caller(fresh());
    const before = hub.requests.length;
    const error = await failure(
      api.integrations.connect.dockerHub({ org_id: 'org-a', username: 'demo', pat: 'dckr_pat_x', namespace: '..' }),
    );
    expect(error).toMatchObject({ code: 'invalid_request', extra: { field: 'namespace' } });
    expect(error.message).toContain('not a valid Docker Hub namespace');
    expect(hub.requests.length).toBe(before);
    const rows = await listAudit(store.db, {}, { limit: 5 });
    expect(rows.map((r) => [r.action, r.phase, r.outcome])).toEqual([
      ['integrations.connect.dockerHub', 'outcome', 'failure'],
      ['integrations.connect.dockerHub', 'attempt', 'started'],
    ]);
    expect(rows[0]).toMatchObject({ kind: 'docker_hub', orgId: 'org-a', credentialKey: 'docker_hub:org:org-a' });
  });

  it('connects, reads and disconnects with the kind’s revocation guidance from its facts', async () => {
    const api = await caller(fresh());
    const { integration, audit_run_id } = await api.integrations.connect.huggingface({
      org_id: 'org-a',
      token: HF_TOKEN,
    });
    expect(integration).toMatchObject({ kind: 'huggingface', namespace: 'alice', status: 'healthy' });
    expect(audit_run_id).toMatch(/^run_/);
    expect(JSON.stringify(await api.integrations.list({ org_id: 'org-a' }))).not.toContain(HF_TOKEN);
    const gone = await api.integrations.disconnect({ org_id: 'org-a', kind: 'huggingface' });
    expect(gone.revocation_guidance).toContain('Hugging Face: Settings → Access Tokens');
    expect(JSON.stringify(await listAudit(store.db, {}, { limit: 50 }))).not.toContain(HF_TOKEN);
  });

  it('answers the auth router with not_found while the host runs no embedded IdP', async () => {
    const error = await failure((await caller(null)).auth.login({ username: 'alice', password: 'x' }));
    expect(error.code).toBe('not_found');
    expect(error.message).toContain('ALPHASWARM_ADMIN_EMBEDDED_IDP');
  });
});

describe('credentials.issue: the one call that returns plaintext credentials', () => {
  it('answers integrations:use only; admin tokens, even admin:cluster with a fresh MFA, are refused and audited', async () => {
    await (await caller(fresh())).integrations.connect.huggingface({ org_id: 'org-a', token: HF_TOKEN });
    for (const claims of [{ scope: 'admin:read' }, fresh(), { scope: 'admin:read admin:cluster' }]) {
      const error = await failure((await caller(claims)).credentials.issue({ org_id: 'org-a', kind: 'huggingface' }));
      expect(error.code).toBe('insufficient_scope');
      expect(error.message).toBe('This call needs the "integrations:use" scope.');
    }
    const denials = await listAudit(store.db, { action: 'credentials.issue' }, { limit: 10 });
    expect(denials.map((r) => [r.phase, r.outcome, r.orgId])).toEqual(Array(3).fill(['denied', 'denied', 'org-a']));

    const issued = await (await caller({ scope: 'integrations:use' })).credentials.issue({
      org_id: 'org-a',
      kind: 'huggingface',
    });
    expect(JSON.stringify(issued)).toContain(HF_TOKEN);
    const rows = await listAudit(
      store.db,
      { action: 'credentials.issue', runId: issued.audit_run_id ?? '' },
      { limit: 5 },
    );
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ['outcome', 'success'],
      ['attempt', 'started'],
    ]);
    expect(JSON.stringify(rows)).not.toContain(HF_TOKEN);
  });
});

describe('store.import through the API: all or nothing', () => {
  it('a file with one bad record among good ones imports nothing and names the bad record', async () => {
    const api = await caller(fresh());
    for (const org of ['org-a', 'org-b']) await api.integrations.connect.huggingface({ org_id: org, token: HF_TOKEN });
    const { content } = await api.store.export();
    for (const org of ['org-a', 'org-b']) await api.integrations.disconnect({ org_id: org, kind: 'huggingface' });
    expect(await countLinks(store.db)).toBe(0);

    const file = JSON.parse(content) as { integrations: Record<string, unknown>[] };
    const [good] = file.integrations;
    file.integrations.push({ ...good, org_id: 'org-c', credential_key: 'huggingface:org:org-c', secret: 'not-fernet' });
    const report = await api.store.import({ content: JSON.stringify(file), dry_run: false, on_conflict: 'fail' });
    expect(report).toMatchObject({ ok: false, dry_run: false, inserted: 0, replaced: 0, skipped: 0 });
    expect(report.problems.map((p) => p.index)).toEqual([2]);
    expect(await countLinks(store.db)).toBe(0);

    file.integrations.pop();
    const whole = await api.store.import({ content: JSON.stringify(file), dry_run: false, on_conflict: 'fail' });
    expect(whole).toMatchObject({ ok: true, inserted: 2, problems: [] });
    expect(await countLinks(store.db)).toBe(2);
  });
});

describe('integrations.timeline: an org’s probes per UTC day, counted by the database', () => {
  const TODAY = '2026-11-30';
  const probes = (rows: ProbeRow[]) => insertProbes(store.db, rows);

  const day = (date: string, worst: string, counts: Partial<Record<string, number>>) => ({
    date,
    worst,
    counts: { healthy: 0, degraded: 0, unhealthy: 0, needs_reconnect: 0, ...counts },
  });

  it('gives each link its days, UTC midnight to midnight, the worst result winning; empty days and days before the window left out', async () => {
    deps.now = () => new Date(`${TODAY}T15:00:00Z`);
    await probes([
      ['org-a', 'huggingface', '2026-09-01T23:59:59Z', 'unhealthy'], // one second before the 90th day
      ['org-a', 'huggingface', '2026-09-02T00:00:00Z', 'healthy'],
      ['org-a', 'huggingface', '2026-11-29T23:59:59Z', 'healthy'],
      ['org-a', 'huggingface', '2026-11-30T00:00:00Z', 'degraded'],
      ['org-a', 'huggingface', '2026-11-30T14:00:00Z', 'healthy'],
      ['org-a', 'docker_hub', '2026-11-30T01:00:00Z', 'unhealthy'],
      ['org-a', 'docker_hub', '2026-11-30T02:00:00Z', 'needs_reconnect'],
      ['org-a', 'docker_hub', '2026-11-30T03:00:00Z', 'healthy'],
      ['org-b', 'huggingface', '2026-11-30T03:00:00Z', 'unhealthy'],
    ]);
    const api = await caller({ scope: 'admin:read' });
    expect(await api.integrations.timeline({ org_id: 'org-a' })).toEqual({
      org_id: 'org-a',
      days: 90,
      from: '2026-09-02',
      to: TODAY,
      links: [
        { kind: 'docker_hub', days: [day(TODAY, 'needs_reconnect', { healthy: 1, unhealthy: 1, needs_reconnect: 1 })] },
        {
          kind: 'huggingface',
          days: [
            day('2026-09-02', 'healthy', { healthy: 1 }),
            day('2026-11-29', 'healthy', { healthy: 1 }),
            day(TODAY, 'degraded', { healthy: 1, degraded: 1 }),
          ],
        },
      ],
    });
    expect(await api.integrations.timeline({ org_id: 'org-a', kind: 'huggingface', days: 1 })).toMatchObject({
      from: TODAY,
      links: [{ kind: 'huggingface', days: [day(TODAY, 'degraded', { healthy: 1, degraded: 1 })] }],
    });

    // Longer than the history kept would show pruned days as days without probes: refused, naming the limit.
    const longer = await failure(api.integrations.timeline({ org_id: 'org-a', days: 91 }));
    expect(longer).toMatchObject({ code: 'invalid_request', extra: { field: 'days' } });
    expect(longer.message).toContain('at most 90');
    for (const bad of [{ days: 0 }, { days: 1.5 }, { kind: 'ftp' }]) {
      const error = await failure(api.integrations.timeline({ org_id: 'org-a', ...bad } as never));
      expect(error.code).toBe('invalid_request');
    }
    // A shorter history kept: the default shrinks to it rather than failing.
    deps.config.healthRetentionDays = 30;
    expect(await api.integrations.timeline({ org_id: 'org-a' })).toMatchObject({ days: 30, from: '2026-11-01' });
  });

  it('answers readers and the org’s own admins; another org’s admin gets not_found, services and anonymous callers nothing', async () => {
    await probes([['org-a', 'huggingface', new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), 'healthy']]);
    const mine = await (await caller({ scope: 'admin:org:org-a' })).integrations.timeline({ org_id: 'org-a' });
    expect(mine.links.map((l) => l.kind)).toEqual(['huggingface']);
    const other = await failure(
      (await caller({ scope: 'admin:org:org-b' })).integrations.timeline({ org_id: 'org-a' }),
    );
    expect(other.code).toBe('not_found');
    const service = await failure(
      (await caller({ scope: 'integrations:use' })).integrations.timeline({ org_id: 'org-a' }),
    );
    expect(service.code).toBe('insufficient_scope');
    const anonymous = await failure((await caller(null)).integrations.timeline({ org_id: 'org-a' }));
    expect(anonymous.code).toBe('invalid_token');
    expect((await listAudit(store.db, {}, { limit: 10 })).filter((r) => r.phase === 'denied')).toHaveLength(3);
  });
});
