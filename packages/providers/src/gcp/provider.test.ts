import type { IdentityResult } from '@alphaswarm/contracts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../http';
import { rejection } from '../testing/assertions';
import { testContext } from '../testing/context';
import { startTestWorkloadIssuer, type TestWorkloadIssuer } from '../testing/workload-issuer';
import type { IdentityParams, ProviderContext, StoredLink, WizardContext } from '../types';
import { gcpExternalAccount, parseProviderName } from './artifacts';
import { type GcpFake, startGcpFake } from './fake';
import { provider as gcpProvider } from './provider';
import { GCP_OPTIONAL_PERMISSIONS, GCP_REQUIRED_PERMISSIONS } from './schemas';

const ORG = 'acme-1';
const SUBJECT = `org:${ORG}:cloud_gcp`;
const PROVIDER = 'projects/415104041262/locations/global/workloadIdentityPools/alphaswarm/providers/alphaswarm-oidc';
const SA = 'alphaswarm-reader@tokyo-rain-123.iam.gserviceaccount.com';
const PROJECT = 'tokyo-rain-123';
const PARAMS: IdentityParams<'cloud_gcp'> = {
  workload_identity_provider: PROVIDER,
  service_account_email: SA,
  project_id: PROJECT,
};
const ALL = [...GCP_REQUIRED_PERMISSIONS, ...GCP_OPTIONAL_PERMISSIONS];

let issuer: TestWorkloadIssuer;
let fake: GcpFake;
let ctx: ProviderContext;

beforeAll(async () => {
  issuer = await startTestWorkloadIssuer();
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(async () => {
  fake = await startGcpFake();
  fake.addProvider({
    name: PROVIDER,
    trust: { issuer: issuer.issuer, subject: SUBJECT },
    serviceAccounts: { [SA]: { permissions: [...ALL] } },
  });
  fake.addProjects([
    { projectId: PROJECT, name: 'projects/415104041262', displayName: 'Tokyo Rain' },
    { projectId: 'acme-data' },
    { projectId: 'acme-staging' },
  ]);
  ctx = testContext({ upstreams: { gcp: fake.upstream() }, workload: issuer });
});
afterEach(async () => {
  await fake.close();
});

function wizard(
  params: IdentityParams<'cloud_gcp'> = PARAMS,
): WizardContext<'cloud_gcp'> & { params: IdentityParams<'cloud_gcp'> } {
  return { org_id: ORG, kind: 'cloud_gcp', subject: SUBJECT, params, identity: null };
}

function withIdentity(identity: IdentityResult) {
  return { ...wizard(), identity };
}

function storedLink(): StoredLink<null> {
  return {
    org_id: ORG,
    kind: 'cloud_gcp',
    namespace: PROJECT,
    metadata: {
      workload_identity_provider: PROVIDER,
      audience: `//iam.googleapis.com/${PROVIDER}`,
      service_account_email: SA,
      project_id: PROJECT,
    },
    secret: null,
  };
}

describe('GCP artifacts', () => {
  it('uses placeholders before the provider exists and real names after', async () => {
    const before = await gcpProvider.bootstrapArtifacts(ctx, { ...wizard(), params: null });
    expect(before.audience).toBe(
      '//iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/alphaswarm/providers/alphaswarm-oidc',
    );
    expect(gcpProvider.audience(null)).toBe(before.audience);
    const tf = before.artifacts.find((a) => a.name.endsWith('.tf'))!.content;
    expect(tf).toContain(`issuer  = "${issuer.issuer}"`);
    expect(tf).toContain(`subject = "${SUBJECT}"`);
    expect(tf).toContain(`attribute_condition = "assertion.sub == \\"${SUBJECT}\\""`);
    expect(tf).toContain('"google.subject" = "assertion.sub"');
    expect(tf).toContain('issuer_uri = local.issuer');
    expect(tf).toContain('resource "google_iam_workload_identity_pool" "alphaswarm"');
    expect(tf).toContain('resource "google_iam_workload_identity_pool_provider" "alphaswarm"');
    expect(tf).toContain('role               = "roles/iam.workloadIdentityUser"');
    expect(tf).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolation in the generated file.
      'principal://iam.googleapis.com/${google_iam_workload_identity_pool.alphaswarm.name}/subject/${local.subject}',
    );
    for (const p of ALL) expect(tf).toContain(`"${p}"`);

    const sh = before.artifacts.find((a) => a.name.endsWith('.sh'))!.content;
    expect(sh).toContain(`--issuer-uri='${issuer.issuer}'`);
    expect(sh).toContain(`--attribute-condition='assertion.sub == "${SUBJECT}"'`);
    expect(sh).toContain(`workloadIdentityPools/alphaswarm/subject/${SUBJECT}`);
    expect(sh).toContain('gcloud iam workload-identity-pools providers create-oidc alphaswarm-oidc');

    const json = JSON.parse(before.artifacts.find((a) => a.name.endsWith('.json'))!.content) as Record<string, unknown>;
    expect(json).toMatchObject({
      type: 'external_account',
      audience: before.audience,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: `${fake.url}/v1/token`,
      service_account_impersonation_url: `${fake.url}/v1/projects/-/serviceAccounts/alphaswarm-reader@YOUR_PROJECT_ID.iam.gserviceaccount.com:generateAccessToken`,
    });

    const after = await gcpProvider.bootstrapArtifacts(ctx, wizard());
    expect(after.audience).toBe(`//iam.googleapis.com/${PROVIDER}`);
    const afterJson = JSON.parse(after.artifacts.find((a) => a.name.endsWith('.json'))!.content) as Record<
      string,
      unknown
    >;
    expect(afterJson.service_account_impersonation_url).toBe(
      `${fake.url}/v1/projects/-/serviceAccounts/${SA}:generateAccessToken`,
    );
    expect(after.artifacts.find((a) => a.name.endsWith('.tf'))!.content).toContain(`default = "${PROJECT}"`);
  });

  it('parses provider resource names', () => {
    expect(parseProviderName(PROVIDER)).toEqual({
      projectNumber: '415104041262',
      poolId: 'alphaswarm',
      providerId: 'alphaswarm-oidc',
    });
    expect(parseProviderName('projects/1/locations/global/workloadIdentityPools/p')).toBeNull();
    expect(
      gcpExternalAccount(
        {
          stsEndpoint: 'https://sts.googleapis.com/',
          iamCredentialsEndpoint: 'https://iamcredentials.googleapis.com',
          crmEndpoint: '',
        },
        { issuer: 'x', subject: 'y', params: PARAMS },
      ).token_url,
    ).toBe('https://sts.googleapis.com/v1/token');
  });
});

describe('GCP wizard through the provider', () => {
  it('runs artifacts → identity → permissions → resources → link', async () => {
    await gcpProvider.bootstrapArtifacts(ctx, { ...wizard(), params: null });
    const identity = await gcpProvider.validateIdentity(ctx, wizard());
    expect(identity.principal).toBe(SA);
    expect(identity.details).toMatchObject({
      service_account_email: SA,
      project_id: PROJECT,
      federated_principal: `principal://iam.googleapis.com/projects/415104041262/locations/global/workloadIdentityPools/alphaswarm/subject/${SUBJECT}`,
    });

    const exchange = fake.requests.find((r) => r.path === '/v1/token')!;
    const form = new URLSearchParams(exchange.body);
    expect(form.get('audience')).toBe(`//iam.googleapis.com/${PROVIDER}`);
    expect(form.get('scope')).toBe('https://www.googleapis.com/auth/cloud-platform');
    expect(exchange.headers.authorization).toBeUndefined();
    const impersonation = fake.requests.find((r) => r.path.endsWith(':generateAccessToken'))!;
    expect(impersonation.path).toBe(`/v1/projects/-/serviceAccounts/${SA}:generateAccessToken`);
    expect(JSON.parse(impersonation.body)).toEqual({
      scope: ['https://www.googleapis.com/auth/cloud-platform'],
      lifetime: '600s',
    });

    const permissions = await gcpProvider.validatePermissions(ctx, withIdentity(identity));
    expect(permissions).toEqual(
      ALL.map((p) => ({
        permission: p,
        required: p === 'resourcemanager.projects.get',
        granted: true,
        scope: `projects/${PROJECT}`,
      })),
    );
    const tip = fake.requests.find((r) => r.path.endsWith(':testIamPermissions'))!;
    expect(tip.path).toBe(`/v1/projects/${PROJECT}:testIamPermissions`);
    expect(tip.headers.authorization).toMatch(/^Bearer ya29\.c\./);

    const resources = await gcpProvider.enumerateResources(ctx, withIdentity(identity));
    expect(resources.truncated).toBe(false);
    expect(resources.resources.map((r) => r.id)).toEqual([PROJECT, 'acme-data', 'acme-staging']);
    expect(resources.resources[0]).toMatchObject({
      type: 'gcp_project',
      name: 'Tokyo Rain',
      details: { name: 'projects/415104041262', state: 'ACTIVE' },
    });
    const searches = fake.requests.filter((r) => r.path === '/v3/projects:search');
    expect(searches).toHaveLength(2);
    expect(searches[0]!.query.get('pageSize')).toBe('50');
    expect(searches[1]!.query.get('pageToken')).toBeTruthy();

    const link = await gcpProvider.toLink(ctx, withIdentity(identity), permissions, resources);
    expect(link).toMatchObject({
      namespace: PROJECT,
      secret: null,
      status: 'healthy',
      error: null,
      expires_at: null,
      metadata: {
        workload_identity_provider: PROVIDER,
        audience: `//iam.googleapis.com/${PROVIDER}`,
        service_account_email: SA,
        project_id: PROJECT,
        projects: 3,
      },
    });
    expect(JSON.stringify(link)).not.toContain('ya29');
    expect(await gcpProvider.checkHealth(ctx, storedLink())).toMatchObject({ status: 'healthy', error: null });
  });

  it('names the attribute condition to fix when the provider admits another subject', async () => {
    fake.addProvider({
      name: PROVIDER,
      trust: { issuer: issuer.issuer, subject: 'org:someone-else:cloud_gcp' },
      serviceAccounts: { [SA]: { permissions: [...ALL] } },
    });
    const error = await rejection(gcpProvider.validateIdentity(ctx, wizard()));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.upstream).toBe('Google Cloud');
    expect(error.message).toContain(
      `attribute condition: it must admit our subject, e.g. assertion.sub == "${SUBJECT}"`,
    );
    expect(error.message).toContain(`issuer ${issuer.issuer}`);
    expect(error.message).not.toMatch(/eyJ/);
  });

  it('names the issuer and the audience when those are wrong', async () => {
    fake.addProvider({
      name: PROVIDER,
      trust: { issuer: 'https://token.actions.githubusercontent.com', subject: SUBJECT },
      serviceAccounts: {},
    });
    const wrongIssuer = await rejection(gcpProvider.validateIdentity(ctx, wizard()));
    expect(wrongIssuer.code).toBe('trust_misconfigured');
    expect(wrongIssuer.message).toContain(`OIDC issuer URI: it must be exactly ${issuer.issuer}`);

    fake.addProvider({
      name: PROVIDER,
      trust: { issuer: issuer.issuer, subject: SUBJECT, audience: 'api://custom' },
      serviceAccounts: {},
    });
    const wrongAudience = await rejection(gcpProvider.validateIdentity(ctx, wizard()));
    expect(wrongAudience.message).toContain(
      `allowed audiences: leave them empty (the default) or include //iam.googleapis.com/${PROVIDER}`,
    );

    const unknown = await rejection(
      gcpProvider.validateIdentity(
        ctx,
        wizard({ ...PARAMS, workload_identity_provider: PROVIDER.replace('alphaswarm-oidc', 'nope') }),
      ),
    );
    expect(unknown.code).toBe('trust_misconfigured');
    expect(unknown.message).toContain('exists and is enabled');
  });

  it('tells the operator to grant workloadIdentityUser when the service account is not bound to our subject', async () => {
    fake.addProvider({
      name: PROVIDER,
      trust: { issuer: issuer.issuer, subject: SUBJECT },
      serviceAccounts: { [SA]: { permissions: [...ALL], boundSubjects: ['org:other:cloud_gcp'] } },
    });
    const error = await rejection(gcpProvider.validateIdentity(ctx, wizard()));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.details.status).toBe(403);
    expect(error.message).toContain(
      `grant roles/iam.workloadIdentityUser on it to principal://iam.googleapis.com/projects/415104041262/locations/global/workloadIdentityPools/alphaswarm/subject/${SUBJECT}`,
    );
  });

  it('marks a missing required permission granted:false, treating {} as none granted', async () => {
    fake.setPermissions(PROVIDER, SA, []);
    const identity = await gcpProvider.validateIdentity(ctx, wizard());
    const permissions = await gcpProvider.validatePermissions(ctx, withIdentity(identity));
    expect(permissions.every((p) => !p.granted)).toBe(true);
    expect(permissions.find((p) => p.required)).toMatchObject({
      permission: 'resourcemanager.projects.get',
      granted: false,
    });
    const error = await rejection(gcpProvider.toLink(ctx, withIdentity(identity), permissions, null));
    expect(error.code).toBe('permission_missing');
    expect(error.message).toContain('resourcemanager.projects.get');
    expect(await gcpProvider.enumerateResources(ctx, withIdentity(identity))).toEqual({
      resources: [],
      truncated: false,
    });
    const health = await gcpProvider.checkHealth(ctx, storedLink());
    expect(health.status).toBe('unhealthy');
    expect(health.error?.code).toBe('permission_missing');
  });

  it('links as degraded when an optional permission is missing', async () => {
    fake.setPermissions(PROVIDER, SA, ['resourcemanager.projects.get', 'storage.buckets.list']);
    const identity = await gcpProvider.validateIdentity(ctx, wizard());
    const permissions = await gcpProvider.validatePermissions(ctx, withIdentity(identity));
    const link = await gcpProvider.toLink(ctx, withIdentity(identity), permissions, null);
    expect(link.status).toBe('degraded');
    expect(link.error?.message).toContain('artifactregistry.repositories.list');
    expect(link.metadata.permissions).toEqual({ missing_optional: ['artifactregistry.repositories.list'] });
    expect(link.metadata).not.toHaveProperty('projects');
    const health = await gcpProvider.checkHealth(ctx, storedLink());
    expect(health.status).toBe('degraded');
  });

  it('caps project enumeration and reports truncation', async () => {
    fake.addProjects(Array.from({ length: 300 }, (_, i) => ({ projectId: `bulk-${i}` })));
    fake.knobs.pageSize = 50;
    const identity = await gcpProvider.validateIdentity(ctx, wizard());
    const resources = await gcpProvider.enumerateResources(ctx, withIdentity(identity));
    expect(resources.truncated).toBe(true);
    expect(resources.resources).toHaveLength(200);
    expect(fake.requests.filter((r) => r.path === '/v3/projects:search').length).toBeLessThanOrEqual(10);

    fake.knobs.pageSize = 1;
    const pagesCapped = await gcpProvider.enumerateResources(ctx, withIdentity(identity));
    expect(pagesCapped).toMatchObject({ truncated: true });
    expect(pagesCapped.resources).toHaveLength(10);
  });

  it('keeps validating across a signing-key rotation', async () => {
    await gcpProvider.validateIdentity(ctx, wizard());
    await issuer.rotate();
    await gcpProvider.validateIdentity(ctx, wizard());
    const kids = fake.requests
      .filter((r) => r.path === '/v1/token')
      .map(
        (r) =>
          JSON.parse(
            Buffer.from(new URLSearchParams(r.body).get('subject_token')!.split('.')[0]!, 'base64url').toString(),
          ).kid,
      );
    expect(kids).toHaveLength(2);
    expect(kids[0]).not.toBe(kids[1]);
  });

  it('issues a fresh short-lived access token on every call', async () => {
    const before = Date.now();
    const first = await gcpProvider.issueCredentials(ctx, storedLink());
    const second = await gcpProvider.issueCredentials(ctx, storedLink());
    if (first.kind !== 'cloud_gcp' || second.kind !== 'cloud_gcp') throw new Error('wrong kind');
    expect(first.access_token).not.toBe(second.access_token);
    expect(first).toMatchObject({ service_account_email: SA, project_id: PROJECT });
    const ttl = Date.parse(first.expires_at) - before;
    expect(ttl).toBeGreaterThan(50 * 60_000);
    expect(ttl).toBeLessThanOrEqual(60 * 60_000 + 2_000);
    expect(fake.accessTokens.get(first.access_token)?.email).toBe(SA);
  });

  it('throws a broken trust from health for the caller to judge', async () => {
    fake.addProvider({
      name: PROVIDER,
      trust: { issuer: issuer.issuer, subject: 'org:other:cloud_gcp' },
      serviceAccounts: { [SA]: { permissions: [...ALL] } },
    });
    const error = await rejection(gcpProvider.checkHealth(ctx, storedLink()));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain(`it must admit our subject, e.g. assertion.sub == "${SUBJECT}"`);
  });

  it('maps throttling to rate_limited at every hop', async () => {
    fake.knobs.throttle = ['sts'];
    expect((await rejection(gcpProvider.validateIdentity(ctx, wizard()))).code).toBe('rate_limited');
    fake.knobs.throttle = ['iamcredentials'];
    expect((await rejection(gcpProvider.validateIdentity(ctx, wizard()))).code).toBe('rate_limited');
    fake.knobs.throttle = ['crm'];
    const identity = await gcpProvider.validateIdentity(ctx, wizard());
    expect((await rejection(gcpProvider.validatePermissions(ctx, withIdentity(identity)))).code).toBe('rate_limited');
    expect((await rejection(gcpProvider.checkHealth(ctx, storedLink()))).code).toBe('rate_limited');
  });

  it('maps 5xx and an unreachable endpoint to upstream_unavailable', async () => {
    fake.knobs.serverError = ['sts'];
    const sts = await rejection(gcpProvider.validateIdentity(ctx, wizard()));
    expect(sts).toMatchObject({ code: 'upstream_unavailable', details: { status: 503 } });
    expect(fake.requests.filter((r) => r.path === '/v1/token')).toHaveLength(2);
    fake.knobs.serverError = ['crm'];
    const identity = await gcpProvider.validateIdentity(ctx, wizard());
    expect((await rejection(gcpProvider.enumerateResources(ctx, withIdentity(identity)))).code).toBe(
      'upstream_unavailable',
    );

    await fake.close();
    const down = await rejection(gcpProvider.validateIdentity(ctx, wizard()));
    expect(down.code).toBe('upstream_unavailable');
    expect(down.message).toContain('Google STS');
    expect(down.message).toContain('ECONNREFUSED');
  });

  it('bounds a slow STS with our timeout', async () => {
    fake.knobs.delayMs = 1_500;
    const http = new HttpClient({ totalTimeoutMs: 300, connectTimeoutMs: 300 });
    const slow = testContext({ upstreams: { gcp: fake.upstream() }, workload: issuer, http });
    const started = Date.now();
    const error = await rejection(gcpProvider.validateIdentity(slow, wizard()));
    expect(error.code).toBe('upstream_timeout');
    expect(Date.now() - started).toBeLessThan(1_400);
    await http.close();
  });
});

describe('GCP without a workload issuer', () => {
  it('reports a failing token mint as an internal ProviderError', async () => {
    const fake = await startGcpFake();
    try {
      const error = await rejection(
        gcpProvider.validateIdentity(testContext({ upstreams: { gcp: fake.upstream() } }), wizard()),
      );
      expect(error.code).toBe('internal');
      expect(fake.requests).toHaveLength(0);
    } finally {
      await fake.close();
    }
  });
});
