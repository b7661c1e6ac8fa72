import { createAdminClient } from '@alphaswarm/api/client';
import { listAudit } from '@alphaswarm/db';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../src/env';
import { call, type Harness, startHarness } from './support/harness';

/*
 * Roles from the company IdP's groups: an external token carries no admin scope of its own, only
 * groups that ALPHASWARM_ADMIN_ROLE_MAP turns into admin:cluster, admin:read or admin:org:<org_id>.
 */

const PAT_A = 'hf_canary_roles_org_a';
const PAT_B = 'hf_canary_roles_org_b';
const PAT_A2 = 'hf_canary_roles_org_a_again';

describe('roles from the IdP groups claim', () => {
  let h: Harness;
  let hf: HuggingFaceFake;

  beforeAll(async () => {
    hf = await startHuggingFaceFake();
    for (const [token, name] of [
      [PAT_A, 'team-a'],
      [PAT_B, 'team-b'],
      [PAT_A2, 'team-a2'],
    ] as const) {
      hf.addToken(token, hfProfile({ name, role: 'read' }));
    }
    h = await startHarness({
      upstreams: { huggingfaceEndpoint: hf.url },
      env: {
        ALPHASWARM_ADMIN_ROLE_MAP:
          'platform-admins=admin:cluster,platform-viewers=admin:read,acme-admins=admin:org:org-a,zeta-admins=admin:org:org-z',
      },
    });
    const cluster = await h.oidc.mint({ scope: '', groups: ['platform-admins'] });
    for (const [org, token] of [
      ['org-a', PAT_A],
      ['org-b', PAT_B],
    ] as const) {
      const res = await call(h, 'POST', `/admin/accounts/${org}/integrations/huggingface`, {
        token: cluster,
        body: { token },
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await h.close();
    await hf.close();
  });

  const as = (groups: string[], extra: Record<string, unknown> = {}) =>
    h.oidc.mint({ scope: '', groups, sub: `${groups[0] ?? 'nobody'}-member`, ...extra });
  const client = (groups: string[]) => createAdminClient({ url: h.url, token: () => as(groups) });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e) => e.data?.app_code,
    );

  it('an admin:org:org-a admin cannot read, connect or see org-b through tRPC, and acts on org-a with the role audited', async () => {
    const api = client(['acme-admins']);
    expect((await api.integrations.orgs.query({})).orgs.map((o) => o.org_id)).toEqual(['org-a']);
    expect((await client(['acme-admins', 'zeta-admins']).integrations.orgs.query({})).orgs).toEqual([
      expect.objectContaining({ org_id: 'org-a', total: 1 }),
      { org_id: 'org-z', total: 0, by_status: {}, kinds: [], soonest_expiry: null },
    ]);
    expect((await api.integrations.list.query({ org_id: 'org-a' })).integrations).toHaveLength(1);
    const before = hf.requests.length;
    expect(await code(api.integrations.list.query({ org_id: 'org-b' }))).toBe('not_found');
    expect(await code(api.integrations.get.query({ org_id: 'org-b', kind: 'huggingface' }))).toBe('not_found');
    expect(await code(api.integrations.connect.huggingface.mutate({ org_id: 'org-b', token: PAT_A2 }))).toBe(
      'not_found',
    );
    expect(await code(api.integrations.disconnect.mutate({ org_id: 'org-b', kind: 'huggingface' }))).toBe('not_found');
    expect(await code(api.cloudOnboarding.start.mutate({ org_id: 'org-b', kind: 'cloud_aws' }))).toBe('not_found');
    expect(hf.requests.length).toBe(before);
    // Cross-org views are narrowed, or refused when they cannot be.
    expect(await code(api.audit.list.query({ org_id: 'org-b' }))).toBe('not_found');
    const events = (await api.audit.list.query({ limit: 500 })).events;
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.org_id))).toEqual(new Set(['org-a']));
    expect(await code(api.store.export.mutate({}))).toBe('insufficient_scope');
    expect(await code(api.audit.verify.query())).toBe('insufficient_scope');
    expect(await api.system.whoami.query()).toMatchObject({ scopes: ['admin:org:org-a'] });

    const { audit_run_id } = await api.integrations.connect.huggingface.mutate({ org_id: 'org-a', token: PAT_A2 });
    const rows = await listAudit(h.store.db, { runId: audit_run_id }, { limit: 5 });
    expect(rows.map((r) => r.detail)).toEqual([
      expect.objectContaining({ role: 'admin:org:org-a', role_via: 'groups:acme-admins' }),
      expect.objectContaining({ role: 'admin:org:org-a', role_via: 'groups:acme-admins' }),
    ]);
    const [denied] = await listAudit(h.store.db, { orgId: 'org-b', outcome: 'denied' }, { limit: 1 });
    expect(denied).toMatchObject({ actor: `${h.oidc.issuer}#acme-admins-member`, detail: { code: 'not_found' } });
  });

  it('the same holds on the REST routes: org-b is 404 for an org-a admin, whatever the method', async () => {
    const token = await as(['acme-admins']);
    const b = '/admin/accounts/org-b/integrations';
    expect((await call(h, 'GET', b, { token })).status).toBe(404);
    expect((await call(h, 'POST', `${b}/huggingface`, { token, body: { token: PAT_A2 } })).status).toBe(404);
    expect((await call(h, 'POST', `${b}/huggingface/health`, { token })).status).toBe(404);
    expect((await call(h, 'DELETE', `${b}/huggingface`, { token })).status).toBe(404);
    const mine = await call(h, 'GET', '/admin/accounts/org-a/integrations', { token });
    expect(mine.status).toBe(200);
    expect(JSON.stringify(mine.body)).not.toContain('org-b');
  });

  it('a viewer reads every org but cannot mutate, even with a fresh MFA; an unmapped group gets nothing', async () => {
    const viewer = client(['platform-viewers']);
    expect((await viewer.integrations.orgs.query({})).orgs.map((o) => o.org_id)).toEqual(['org-a', 'org-b']);
    expect(await code(viewer.integrations.checkHealth.mutate({ org_id: 'org-b', kind: 'huggingface' }))).toBe(
      'insufficient_scope',
    );
    const token = await as(['platform-viewers']);
    const res = await call(h, 'DELETE', '/admin/accounts/org-a/integrations/huggingface', { token });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="admin:cluster"');
    expect(await code(client(['marketing']).integrations.orgs.query({}))).toBe('insufficient_scope');
    // A group name that happens to look like a scope grants nothing by itself.
    expect(await code(client(['admin:cluster']).integrations.orgs.query({}))).toBe('insufficient_scope');
  });
});

describe('ALPHASWARM_ADMIN_ROLE_CLAIM / _ROLE_MAP', () => {
  it('reads a nested claim (Keycloak realm roles) and refuses a map that grants a non-admin scope', async () => {
    const h = await startHarness({
      env: {
        ALPHASWARM_ADMIN_ROLE_CLAIM: 'realm_access.roles',
        ALPHASWARM_ADMIN_ROLE_MAP: 'ops=admin:read,ops=admin:org:org-z',
      },
    });
    try {
      const token = await h.oidc.mint({ scope: '', realm_access: { roles: ['ops'] }, groups: ['ops'] });
      const who = await createAdminClient({ url: h.url, token }).system.whoami.query();
      expect(who.scopes).toEqual(['admin:read', 'admin:org:org-z']);
    } finally {
      await h.close();
    }
    const bad = (map: string) => () => parseEnv({ HOME: '/nonexistent', ALPHASWARM_ADMIN_ROLE_MAP: map });
    expect(bad('svc=integrations:use')).toThrow(ConfigError);
    expect(bad('svc=integrations:use')).toThrow(/ALPHASWARM_ADMIN_ROLE_MAP: "integrations:use" \(for "svc"\)/);
    expect(bad('admins')).toThrow(/ALPHASWARM_ADMIN_ROLE_MAP: "admins" is not <group or role>=<scope>/);
    expect(bad('x=admin:org:../etc')).toThrow(/ALPHASWARM_ADMIN_ROLE_MAP/);
  });
});
