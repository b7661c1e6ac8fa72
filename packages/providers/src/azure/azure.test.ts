import { randomUUID } from 'node:crypto';
import type { IdentityResult, PermissionCheck } from '@alphaswarm/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../http';
import { rejection } from '../testing/assertions';
import { testContext } from '../testing/context';
import { generateTestCertificate, type TestTlsMaterial } from '../testing/tls';
import { startTestWorkloadIssuer, type TestWorkloadIssuer } from '../testing/workload-issuer';
import type { ProviderContext, StoredLink, WizardContext } from '../types';
import { type AzureFake, startAzureFake } from './fake';
import { actionMatches, isActionAllowed } from './permissions';
import { provider as azureProvider } from './provider';
import { AZURE_AUDIENCE } from './schemas';

const EXTRA_CA_AT_START = process.env.NODE_EXTRA_CA_CERTS;
const READER = [{ actions: ['*/read'], notActions: [] }];

let tls: TestTlsMaterial;
let fake: AzureFake;
let issuer: TestWorkloadIssuer;
let ctx: ProviderContext;

beforeAll(async () => {
  tls = await generateTestCertificate();
  fake = await startAzureFake({ tls });
  issuer = await startTestWorkloadIssuer();
  ctx = contextWith({});
});

afterAll(async () => {
  await fake?.close();
  await issuer?.close();
});

afterEach(() => {
  fake.clearFaults();
  fake.knobs.pageSize = 100;
  fake.knobs.nextLinkOrigin = null;
  fake.knobs.federatedErrors = 'specific';
  fake.knobs.delayMs = 0;
});

function contextWith(overrides: { tlsCa?: string | null; authorityHost?: string }): ProviderContext {
  const tlsCa = overrides.tlsCa === null ? undefined : (overrides.tlsCa ?? tls.cert);
  return testContext({
    upstreams: {
      azure: { authorityHost: overrides.authorityHost ?? fake.authorityHost, armEndpoint: fake.armEndpoint },
      ...(tlsCa ? { tlsCa } : {}),
    },
    workload: issuer,
  });
}

interface Tenant {
  org_id: string;
  tenant_id: string;
  client_id: string;
  object_id: string;
  subject: string;
  subs: string[];
}

/** A tenant with an app whose federated credential trusts `org_id` (or what `federated` overrides). */
function setupTenant(
  opts: { subs?: number; federated?: Partial<{ issuer: string; subject: string; audience: string }> } = {},
): Tenant {
  const org_id = `org-${randomUUID().slice(0, 8)}`;
  const t: Tenant = {
    org_id,
    tenant_id: randomUUID(),
    client_id: randomUUID(),
    object_id: randomUUID(),
    subject: `org:${org_id}:cloud_azure`,
    subs: Array.from({ length: opts.subs ?? 1 }, () => randomUUID()),
  };
  fake.addApp({
    tenant_id: t.tenant_id,
    client_id: t.client_id,
    object_id: t.object_id,
    federated: { issuer: issuer.issuer, subject: t.subject, audience: AZURE_AUDIENCE, ...opts.federated },
  });
  for (const [i, id] of t.subs.entries()) {
    fake.addSubscription({
      subscription_id: id,
      tenant_id: t.tenant_id,
      display_name: `Sub ${i}`,
      permissions: { [t.object_id]: READER },
    });
  }
  return t;
}

function wizard(
  t: Tenant,
  params: { subscription_ids?: string[] } = {},
): WizardContext<'cloud_azure'> & {
  params: { tenant_id: string; client_id: string; subscription_ids?: string[] };
} {
  return {
    org_id: t.org_id,
    kind: 'cloud_azure',
    subject: t.subject,
    params: { tenant_id: t.tenant_id, client_id: t.client_id, ...params },
    identity: null,
  };
}

describe('azure wizard, end to end through @azure/identity and the HTTPS fakes', () => {
  it('bootstraps, validates identity and permissions, enumerates, links, checks health and issues credentials', async () => {
    const t = setupTenant({ subs: 5 });
    fake.knobs.pageSize = 2;
    const w = wizard(t);

    const boot = await azureProvider.bootstrapArtifacts(ctx, w);
    expect(boot.audience).toBe('api://AzureADTokenExchange');
    const script = boot.artifacts.find((a) => a.name === 'azure-link.sh')!.content;
    const tf = boot.artifacts.find((a) => a.name === 'main.tf')!.content;
    for (const text of [script, tf]) {
      expect(text).toContain(issuer.issuer);
      expect(text).toContain(t.subject);
      expect(text).toContain('api://AzureADTokenExchange');
    }
    expect(script).toContain('az ad app federated-credential create');
    expect(script).toContain('--role Reader');
    for (const r of [
      'resource "azuread_application"',
      'resource "azuread_service_principal"',
      'resource "azuread_application_federated_identity_credential"',
      'resource "azurerm_role_assignment"',
    ]) {
      expect(tf).toContain(r);
    }
    expect(tf).toContain('role_definition_name = "Reader"');
    expect(tf).toContain(`"/subscriptions/\${each.value}"`);

    const identity = await azureProvider.validateIdentity(ctx, w);
    expect(identity.principal).toBe(t.object_id);
    expect(identity.details).toMatchObject({ tenant_id: t.tenant_id, object_id: t.object_id, client_id: t.client_id });

    const withIdentity = { ...w, identity };
    const checks = await azureProvider.validatePermissions(ctx, withIdentity);
    // No subscription_ids given: every visible subscription (all pages) is checked.
    expect(new Set(checks.map((c) => c.scope))).toEqual(new Set(t.subs.map((s) => `/subscriptions/${s}`)));
    expect(checks.every((c) => c.granted)).toBe(true);
    expect(checks.filter((c) => c.required).map((c) => c.permission)).toContain(
      'Microsoft.Resources/subscriptions/read',
    );

    const resources = await azureProvider.enumerateResources(ctx, withIdentity);
    expect(resources.truncated).toBe(false);
    expect(resources.resources.map((r) => r.id).sort()).toEqual([...t.subs].sort());
    expect(resources.resources[0]).toMatchObject({ type: 'azure_subscription', details: { state: 'Enabled' } });

    const draft = await azureProvider.toLink(ctx, withIdentity, checks, resources);
    expect(draft).toMatchObject({
      namespace: t.tenant_id,
      secret: null,
      status: 'healthy',
      expires_at: null,
      warnings: [],
    });
    expect(draft.metadata).toEqual({
      tenant_id: t.tenant_id,
      client_id: t.client_id,
      object_id: t.object_id,
      subscription_ids: expect.arrayContaining(t.subs),
    });

    const link: StoredLink<null> = {
      org_id: t.org_id,
      kind: 'cloud_azure',
      namespace: t.tenant_id,
      metadata: draft.metadata,
      secret: null,
    };
    expect(await azureProvider.checkHealth(ctx, link)).toMatchObject({ status: 'healthy', error: null });

    const creds = await azureProvider.issueCredentials(ctx, link);
    expect(creds).toMatchObject({ kind: 'cloud_azure', tenant_id: t.tenant_id, client_id: t.client_id });
    if (creds.kind !== 'cloud_azure') throw new Error('wrong kind');
    expect(Date.parse(creds.expires_at)).toBeGreaterThan(Date.now());
    expect(fake.issued.get(creds.access_token)).toMatchObject({ object_id: t.object_id });

    // Requests really went through the HTTPS fakes: metadata, token endpoint, ARM paging.
    expect(fake.login.requests.some((r) => r.path === `/${t.tenant_id}/v2.0/.well-known/openid-configuration`)).toBe(
      true,
    );
    const tokenReq = fake.login.requests.find((r) => r.path === `/${t.tenant_id}/oauth2/v2.0/token`)!;
    const form = new URLSearchParams(tokenReq.body);
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(form.get('scope')).toContain(`${fake.armEndpoint}/.default`);
    expect(fake.arm.requests.some((r) => r.query.has('$skiptoken'))).toBe(true);
  });

  it('trusts the test certificate only through ctx.upstreams.tlsCa, not process-wide', async () => {
    // The freshly generated CA cannot be in any process-wide bundle; this test never touches the env.
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(EXTRA_CA_AT_START);
    const t = setupTenant();
    const untrusting = contextWith({ tlsCa: null });
    const error = await rejection(azureProvider.validateIdentity(untrusting, wizard(t)));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.upstream).toBe('Microsoft Entra ID');
    expect(error.message).toMatch(/CERT|certificate|self.signed/i);
    // The same flow with the CA in the context works.
    await expect(azureProvider.validateIdentity(ctx, wizard(t))).resolves.toMatchObject({ principal: t.object_id });
  });
});

describe('azure trust misconfiguration names what to fix', () => {
  it('untrusted issuer', async () => {
    const t = setupTenant({ federated: { issuer: 'https://token.example.com/workload' } });
    const error = await rejection(azureProvider.validateIdentity(ctx, wizard(t)));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain('Issuer');
    expect(error.message).toContain(`"${issuer.issuer}"`);
    expect(error.message).toContain('AADSTS700211');
  });

  it('wrong subject', async () => {
    const t = setupTenant({ federated: { subject: 'org:someone-else:cloud_azure' } });
    const error = await rejection(azureProvider.validateIdentity(ctx, wizard(t)));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain('Subject');
    expect(error.message).toContain(`"${t.subject}"`);
    expect(error.message).toContain('case-sensitive');
  });

  it('subject differing only in case is refused (matching is case-sensitive)', async () => {
    const t = setupTenant();
    fake.addApp({
      tenant_id: t.tenant_id,
      client_id: t.client_id,
      object_id: t.object_id,
      federated: { issuer: issuer.issuer, subject: t.subject.toUpperCase(), audience: AZURE_AUDIENCE },
    });
    const error = await rejection(azureProvider.validateIdentity(ctx, wizard(t)));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain(`"${t.subject}"`);
  });

  it('wrong audience', async () => {
    const t = setupTenant({ federated: { audience: 'api://something-else' } });
    const error = await rejection(azureProvider.validateIdentity(ctx, wizard(t)));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain('Audience');
    expect(error.message).toContain('"api://AzureADTokenExchange"');
  });

  it('the older AADSTS70021 lists all three expected values', async () => {
    fake.knobs.federatedErrors = 'generic';
    const t = setupTenant({ federated: { subject: 'nope' } });
    const error = await rejection(azureProvider.validateIdentity(ctx, wizard(t)));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain('AADSTS70021');
    expect(error.message).toContain(issuer.issuer);
    expect(error.message).toContain(t.subject);
    expect(error.message).toContain(AZURE_AUDIENCE);
  });

  it('unknown client id is credential_rejected naming client_id', async () => {
    const t = setupTenant();
    const error = await rejection(
      azureProvider.validateIdentity(ctx, {
        ...wizard(t),
        params: { tenant_id: t.tenant_id, client_id: randomUUID() },
      }),
    );
    expect(error.code).toBe('credential_rejected');
    expect(error.details.field).toBe('client_id');
    expect(error.message).toContain('AADSTS700016');
  });

  it('unknown tenant is credential_rejected naming tenant_id', async () => {
    const t = setupTenant();
    const error = await rejection(
      azureProvider.validateIdentity(ctx, {
        ...wizard(t),
        params: { tenant_id: randomUUID(), client_id: t.client_id },
      }),
    );
    expect(error.code).toBe('credential_rejected');
    expect(error.details.field).toBe('tenant_id');
  });
});

describe('azure upstream faults', () => {
  it('unreachable authority is upstream_unavailable', async () => {
    const t = setupTenant();
    const error = await rejection(
      azureProvider.validateIdentity(contextWith({ authorityHost: 'https://127.0.0.1:1' }), wizard(t)),
    );
    expect(error.code).toBe('upstream_unavailable');
    expect(error.upstream).toBe('Microsoft Entra ID');
  });

  it('Entra 5xx is upstream_unavailable', async () => {
    const t = setupTenant();
    fake.failNext('login', 503, 10);
    const error = await rejection(azureProvider.validateIdentity(ctx, wizard(t)));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toContain('503');
  });

  it('a slow Entra times out per request instead of hanging', async () => {
    const t = setupTenant();
    fake.knobs.delayMs = 1_000;
    const slow = testContext({
      upstreams: { azure: { authorityHost: fake.authorityHost, armEndpoint: fake.armEndpoint }, tlsCa: tls.cert },
      workload: issuer,
      http: new HttpClient({ totalTimeoutMs: 200, ca: tls.cert }),
    });
    const started = Date.now();
    const error = await rejection(azureProvider.validateIdentity(slow, wizard(t)));
    expect(error.code).toBe('upstream_timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('ARM 5xx during enumeration is upstream_unavailable; health throws (transient) instead of flipping the link', async () => {
    const t = setupTenant();
    const identity = await azureProvider.validateIdentity(ctx, wizard(t));
    fake.failNext('arm', 503, 1);
    const error = await rejection(azureProvider.enumerateResources(ctx, { ...wizard(t), identity }));
    expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'Azure Resource Manager' });

    const link = linkFor(t);
    fake.failNext('arm', 503, 1);
    await expect(azureProvider.checkHealth(ctx, link)).rejects.toMatchObject({ code: 'upstream_unavailable' });
  });

  it('refuses a nextLink pointing at another origin (the token never leaves the ARM host)', async () => {
    const t = setupTenant({ subs: 3 });
    fake.knobs.pageSize = 1;
    fake.knobs.nextLinkOrigin = fake.authorityHost;
    const identity = await azureProvider.validateIdentity(ctx, wizard(t));
    const before = fake.login.requests.length;
    const error = await rejection(azureProvider.enumerateResources(ctx, { ...wizard(t), identity }));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toContain('nextLink');
    expect(fake.login.requests.slice(before).some((r) => r.path.startsWith('/subscriptions'))).toBe(false);
  });
});

describe('azure permission evaluation', () => {
  it('globs case-insensitively and applies notActions only within their own entry', () => {
    expect(actionMatches('*/read', 'Microsoft.Resources/subscriptions/read')).toBe(true);
    expect(actionMatches('microsoft.resources/*', 'Microsoft.Resources/subscriptions/resourceGroups/read')).toBe(true);
    expect(actionMatches('Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/roleAssignments/delete')).toBe(
      true,
    );
    expect(actionMatches('Microsoft.Storage/*/read', 'Microsoft.Resources/subscriptions/read')).toBe(false);
    expect(actionMatches('Microsoft.Resources/subscriptions/read', 'Microsoft.Resources/subscriptionsXread')).toBe(
      false,
    );
    const denyRgInOne = [{ actions: ['*'], notActions: ['Microsoft.Resources/subscriptions/resourceGroups/*'] }];
    expect(isActionAllowed(denyRgInOne, 'Microsoft.Resources/subscriptions/resourceGroups/read')).toBe(false);
    expect(isActionAllowed(denyRgInOne, 'Microsoft.Resources/subscriptions/read')).toBe(true);
    const otherEntryGrants = [...denyRgInOne, { actions: ['*/read'], notActions: [] }];
    expect(isActionAllowed(otherEntryGrants, 'Microsoft.Resources/subscriptions/resourceGroups/read')).toBe(true);
    expect(isActionAllowed([], 'Microsoft.Resources/subscriptions/read')).toBe(false);
  });

  it('one check per (action, subscription); partial roles, missing optional → degraded link; missing required → refused', async () => {
    const t = setupTenant({ subs: 0 });
    const [narrow, none, unknown] = [randomUUID(), randomUUID(), randomUUID()];
    fake.addSubscription({
      subscription_id: narrow,
      tenant_id: t.tenant_id,
      display_name: 'narrow',
      permissions: {
        [t.object_id]: [
          {
            actions: ['Microsoft.Resources/*/read', 'Microsoft.ContainerRegistry/*'],
            notActions: ['Microsoft.ContainerRegistry/registries/*'],
          },
          { actions: ['Microsoft.Resources/subscriptions/resourceGroups/read'], notActions: [] },
        ],
      },
    });
    fake.addSubscription({ subscription_id: none, tenant_id: t.tenant_id, display_name: 'none', permissions: {} });
    const w = {
      ...wizard(t, { subscription_ids: [narrow] }),
      identity: await azureProvider.validateIdentity(ctx, wizard(t)),
    };
    const checks = await azureProvider.validatePermissions(ctx, w);
    expect(checks).toHaveLength(5);
    const byAction = Object.fromEntries(checks.map((c) => [c.permission, c]));
    expect(byAction['Microsoft.Resources/subscriptions/read']).toMatchObject({
      required: true,
      granted: true,
      scope: `/subscriptions/${narrow}`,
    });
    expect(byAction['Microsoft.Resources/subscriptions/resourceGroups/read']).toMatchObject({
      required: true,
      granted: true,
    });
    expect(byAction['Microsoft.ContainerRegistry/registries/read']).toMatchObject({ required: false, granted: false });

    const draft = await azureProvider.toLink(ctx, w, checks, null);
    expect(draft.status).toBe('degraded');
    expect(draft.error?.code).toBe('permission_missing');
    expect(draft.error?.message).toContain('Microsoft.ContainerRegistry/registries/read');
    expect(draft.metadata.subscription_ids).toEqual([narrow]);

    // A subscription without any role assignment (403) and one ARM does not know (404): nothing granted there.
    const w2 = { ...w, params: { ...w.params, subscription_ids: [none, unknown] } };
    const checks2 = await azureProvider.validatePermissions(ctx, w2);
    expect(checks2).toHaveLength(10);
    expect(checks2.every((c: PermissionCheck) => !c.granted)).toBe(true);
    const refused = await rejection(azureProvider.toLink(ctx, w2, checks2, null));
    expect(refused.code).toBe('permission_missing');
    expect(refused.message).toContain(`/subscriptions/${none}`);
  });

  it('a principal that sees no subscription gets missing required checks, not an empty list', async () => {
    const t = setupTenant({ subs: 0 });
    const identity: IdentityResult = await azureProvider.validateIdentity(ctx, wizard(t));
    const checks = await azureProvider.validatePermissions(ctx, { ...wizard(t), identity });
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((c) => c.required && !c.granted)).toBe(true);
  });
});

describe('azure health', () => {
  it('throws credential_rejected when the app registration is deleted', async () => {
    const t = setupTenant();
    fake.removeApp(t.tenant_id, t.client_id);
    const error = await rejection(azureProvider.checkHealth(ctx, linkFor(t)));
    expect(error.code).toBe('credential_rejected');
    expect(error.message).toContain(`does not know tenant ${t.tenant_id}`);
  });

  it('throws trust_misconfigured when the federated credential stops matching, with the fix in the message', async () => {
    const t = setupTenant();
    fake.addApp({
      tenant_id: t.tenant_id,
      client_id: t.client_id,
      object_id: t.object_id,
      federated: { issuer: issuer.issuer, subject: 'org:changed:cloud_azure', audience: AZURE_AUDIENCE },
    });
    const error = await rejection(azureProvider.checkHealth(ctx, linkFor(t)));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain(t.subject);
  });

  it('goes degraded when one of two subscriptions lost its role, unhealthy when all did', async () => {
    const t = setupTenant({ subs: 2 });
    fake.addSubscription({
      subscription_id: t.subs[1]!,
      tenant_id: t.tenant_id,
      display_name: 'lost',
      permissions: {},
    });
    const degraded = await azureProvider.checkHealth(ctx, linkFor(t));
    expect(degraded.status).toBe('degraded');
    expect(degraded.error?.message).toContain(`/subscriptions/${t.subs[1]}`);
    fake.addSubscription({
      subscription_id: t.subs[0]!,
      tenant_id: t.tenant_id,
      display_name: 'lost',
      permissions: {},
    });
    expect((await azureProvider.checkHealth(ctx, linkFor(t))).status).toBe('unhealthy');
  });
});

function linkFor(t: Tenant): StoredLink<null> {
  return {
    org_id: t.org_id,
    kind: 'cloud_azure',
    namespace: t.tenant_id,
    metadata: { tenant_id: t.tenant_id, client_id: t.client_id, object_id: t.object_id, subscription_ids: t.subs },
    secret: null,
  };
}
