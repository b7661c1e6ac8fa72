import { createAdminClient } from '@alphaswarm/api/client';
import type { CloudKind } from '@alphaswarm/contracts';
import { listAudit } from '@alphaswarm/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoUpstreams, startDemoUpstreams } from '../src/sandbox/upstreams';
import { storedText } from './support/database';
import { call, freePort, type Harness, startHarness } from './support/harness';

const ORG = 'org-demo';

describe('cloud onboarding: the five-step wizard for every cloud kind, over tRPC, against fakes that verify our JWKS', () => {
  let h: Harness;
  let up: DemoUpstreams;
  let clock = Date.now();
  let admin: ReturnType<typeof createAdminClient>;
  let service: ReturnType<typeof createAdminClient>;

  beforeAll(async () => {
    const port = await freePort();
    up = await startDemoUpstreams({ workloadIssuer: `http://127.0.0.1:${port}/workload`, orgId: ORG });
    h = await startHarness({ port, upstreams: up.upstreams, now: () => new Date(clock) });
    // Tokens are minted at the test's clock, which the server's verifier follows too.
    const at = () => Math.floor(clock / 1000);
    admin = createAdminClient({ url: h.url, token: () => h.oidc.mint({}, { now: at() }) });
    service = createAdminClient({
      url: h.url,
      token: () => h.oidc.mint({ scope: 'integrations:use', sub: 'svc:trainer' }, { now: at() }),
    });
  });
  afterAll(async () => {
    await h.close();
    await up.close();
  });

  const params = (kind: CloudKind): Record<string, unknown> =>
    kind === 'cloud_aws'
      ? up.demo.cloud_aws
      : kind === 'cloud_gcp'
        ? up.demo.cloud_gcp
        : kind === 'cloud_azure'
          ? up.demo.cloud_azure
          : up.demo.cloud_cloudflare;

  async function walk(kind: CloudKind, org = ORG, opts: { resources?: boolean } = {}) {
    const { session_id } = await admin.cloudOnboarding.start.mutate({ org_id: org, kind });
    const artifacts = await admin.cloudOnboarding.bootstrapArtifacts.mutate({ session_id });
    const identity = await admin.cloudOnboarding.validateIdentity.mutate({ session_id, params: params(kind) });
    const permissions = await admin.cloudOnboarding.validatePermissions.mutate({ session_id });
    const resources =
      opts.resources === false ? null : await admin.cloudOnboarding.enumerateResources.mutate({ session_id });
    return { session_id, artifacts, identity, permissions, resources };
  }

  for (const kind of ['cloud_aws', 'cloud_gcp', 'cloud_azure', 'cloud_cloudflare'] as const) {
    it(`${kind}: artifacts → identity → permissions → resources → connect → health → issue`, async () => {
      const w = await walk(kind);
      expect(w.artifacts.subject).toBe(`org:${ORG}:${kind}`);
      expect(w.artifacts.issuer).toBe(`${h.url}/workload`);
      expect(w.artifacts.artifacts.length).toBeGreaterThan(0);
      for (const a of w.artifacts.artifacts) {
        if (a.media_type.includes('json')) expect(() => JSON.parse(a.content)).not.toThrow();
      }
      if (kind !== 'cloud_cloudflare') {
        const all = w.artifacts.artifacts.map((a) => a.content).join('\n');
        expect(all).toContain(`org:${ORG}:${kind}`);
        expect(all).toContain(h.url.replace(/^http:\/\//, ''));
      }
      expect(w.identity.principal.length).toBeGreaterThan(0);
      expect(w.permissions.checks.length).toBeGreaterThan(0);
      expect(w.permissions.checks.filter((c) => c.required).every((c) => c.granted)).toBe(true);
      expect(w.resources?.resources.length).toBeGreaterThan(0);

      const resumed = await admin.cloudOnboarding.get.query({ session_id: w.session_id });
      expect(resumed.steps.validate_permissions?.ok).toBe(true);
      expect(JSON.stringify(resumed)).not.toContain(up.demo.cloud_cloudflare.api_token);

      const connected = await admin.cloudOnboarding.connect.mutate({ session_id: w.session_id });
      expect(connected.integration).toMatchObject({ org_id: ORG, kind, credential_key: `${kind}:org:${ORG}` });
      expect(['healthy', 'degraded']).toContain(connected.integration.status);
      expect(connected.audit_run_id).toMatch(/^run_/);

      const health = await admin.integrations.checkHealth.mutate({ org_id: ORG, kind });
      expect(health.integration.last_health_status).toBe(health.integration.status);
      expect(['healthy', 'degraded']).toContain(health.integration.status);

      const issued = await service.credentials.issue.mutate({ org_id: ORG, kind });
      expect(issued.kind).toBe(kind);
      const events = await listAudit(h.store.db, { action: 'credentials.issue', orgId: ORG, kind }, { limit: 10 });
      expect(events.map((e) => e.actor)).toContain(`${h.oidc.issuer}#svc:trainer`);
    });
  }

  it('the workload issuer is separate from the admin issuer, with its own discovery and JWKS', async () => {
    const discovery = await call(h, 'GET', '/workload/.well-known/openid-configuration', { token: null });
    expect(discovery.body).toMatchObject({
      issuer: `${h.url}/workload`,
      jwks_uri: `${h.url}/workload/.well-known/jwks.json`,
    });
    const jwks = await call(h, 'GET', '/workload/.well-known/jwks.json', { token: null });
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(JSON.stringify(jwks.body)).not.toMatch(/"d"|"p"|"q"/);
  });

  it('a wrong sub in the customer trust fails validateIdentity with a message naming what to fix', async () => {
    const other = 'org-stranger';
    const { session_id } = await admin.cloudOnboarding.start.mutate({ org_id: other, kind: 'cloud_aws' });
    const error = await admin.cloudOnboarding.validateIdentity
      .mutate({ session_id, params: up.demo.cloud_aws })
      .catch((e) => e);
    expect(error.data.app_code).toBe('trust_misconfigured');
    expect(error.message).toContain(`org:${other}:cloud_aws`);
    expect(error.message).toMatch(/sub/);
    const session = await admin.cloudOnboarding.get.query({ session_id });
    expect(session.steps.validate_identity).toMatchObject({ ok: false, error: { code: 'trust_misconfigured' } });
    await expect(admin.cloudOnboarding.connect.mutate({ session_id })).rejects.toMatchObject({
      data: { app_code: 'precondition_failed' },
    });
  });

  it('bad identity params get the schema’s human sentence and their field, no params. path', async () => {
    const { session_id } = await admin.cloudOnboarding.start.mutate({ org_id: ORG, kind: 'cloud_azure' });
    const error = await admin.cloudOnboarding.validateIdentity
      .mutate({ session_id, params: { tenant_id: up.demo.cloud_azure.tenant_id, client_id: 'not-a-guid' } })
      .catch((e) => e);
    expect(error.data).toMatchObject({ app_code: 'invalid_request', field: 'client_id' });
    expect(error.message).toBe(
      "client_id: The client id is a GUID like 00000000-0000-0000-0000-000000000000, shown on the app registration's Overview page.",
    );
    const gcp = await admin.cloudOnboarding.start.mutate({ org_id: ORG, kind: 'cloud_gcp' });
    const artifacts = await admin.cloudOnboarding.bootstrapArtifacts.mutate({
      session_id: gcp.session_id,
      project_id: 'tokyo-rain-123',
    });
    expect(artifacts.artifacts.find((a) => a.name === 'alphaswarm-gcp.sh')?.content).toContain(
      "PROJECT_ID='tokyo-rain-123'",
    );
    expect((await admin.cloudOnboarding.get.query({ session_id: gcp.session_id })).setup).toEqual({
      project_id: 'tokyo-rain-123',
    });
  });

  it('a missing required permission blocks connect; a missing optional one connects degraded', async () => {
    const arn = up.demo.cloud_aws.role_arn;
    up.fakes.aws.setAllowedActions(arn, [
      'sts:GetCallerIdentity',
      'iam:SimulatePrincipalPolicy',
      'iam:ListAccountAliases',
    ]);
    try {
      const w = await walk('cloud_aws', ORG, { resources: false });
      expect(w.permissions.checks.find((c) => c.permission === 'ec2:DescribeRegions')).toMatchObject({
        required: true,
        granted: false,
      });
      const error = await admin.cloudOnboarding.connect.mutate({ session_id: w.session_id }).catch((e) => e);
      expect(error.data.app_code).toBe('permission_missing');
      expect(error.message).toContain('ec2:DescribeRegions');
    } finally {
      up.fakes.aws.setAllowedActions(arn, [
        'sts:GetCallerIdentity',
        'iam:SimulatePrincipalPolicy',
        'iam:ListAccountAliases',
        'ec2:DescribeRegions',
      ]);
    }
    const w = await walk('cloud_aws');
    const { integration } = await admin.cloudOnboarding.connect.mutate({ session_id: w.session_id });
    expect(integration.status).toBe('degraded');
    expect(integration.error?.message).toMatch(/s3:ListAllMyBuckets|ecr:GetAuthorizationToken/);
  });

  it('a session of another org or kind is NOT_FOUND; an expired one is refused', async () => {
    const { session_id } = await admin.cloudOnboarding.start.mutate({ org_id: ORG, kind: 'cloud_gcp' });
    await expect(
      admin.cloudOnboarding.bootstrapArtifacts.mutate({ session_id, org_id: 'org-other' }),
    ).rejects.toMatchObject({
      data: { app_code: 'not_found' },
    });
    await expect(
      admin.cloudOnboarding.bootstrapArtifacts.mutate({ session_id, kind: 'cloud_aws' }),
    ).rejects.toMatchObject({
      data: { app_code: 'not_found' },
    });
    await expect(admin.cloudOnboarding.get.query({ session_id: 'wiz_nope' })).rejects.toMatchObject({
      data: { app_code: 'not_found' },
    });
    const saved = clock;
    clock += 25 * 3600 * 1000;
    try {
      const error = await admin.cloudOnboarding.bootstrapArtifacts.mutate({ session_id }).catch((e) => e);
      expect(error.data.app_code).toBe('precondition_failed');
      expect(error.message).toMatch(/expired/);
    } finally {
      clock = saved;
    }
  });

  it('connect refuses proofs older than an hour', async () => {
    const w = await walk('cloud_gcp');
    const saved = clock;
    clock += 61 * 60 * 1000;
    try {
      const error = await admin.cloudOnboarding.connect.mutate({ session_id: w.session_id }).catch((e) => e);
      expect(error.data.app_code).toBe('precondition_failed');
      expect(error.message).toMatch(/last hour/);
    } finally {
      clock = saved;
    }
  });

  it('signing-key rotation keeps validation working: the old kid stays published during the overlap', async () => {
    const before = (await call(h, 'GET', '/workload/.well-known/jwks.json', { token: null })).body.keys.map(
      (k: { kid: string }) => k.kid,
    );
    const oldToken = await h.rt.workload.sign({ sub: `org:${ORG}:cloud_gcp`, aud: 'x' }, 300);
    const kid = await h.rt.workload.rotate();
    const after = (await call(h, 'GET', '/workload/.well-known/jwks.json', { token: null })).body.keys.map(
      (k: { kid: string }) => k.kid,
    );
    expect(after).toEqual(expect.arrayContaining([...before, kid]));
    expect(JSON.parse(Buffer.from(oldToken.split('.')[0]!, 'base64url').toString()).kid).toBe(before.at(-1));
    for (const kind of ['cloud_aws', 'cloud_gcp', 'cloud_azure'] as const) {
      const w = await walk(kind);
      expect(w.identity.principal.length).toBeGreaterThan(0);
    }
    const saved = clock;
    clock += 10 * 60 * 1000;
    try {
      const later = (await call(h, 'GET', '/workload/.well-known/jwks.json', { token: null })).body.keys.map(
        (k: { kid: string }) => k.kid,
      );
      expect(later).toEqual([kid]);
    } finally {
      clock = saved;
    }
  });

  it('Cloudflare: rotate replaces the stored token atomically, the old one dies upstream, and it is audited', async () => {
    const w = await walk('cloud_cloudflare', 'org-rotate');
    // The demo token is seeded for any org: Cloudflare has no subject binding.
    await admin.cloudOnboarding.connect.mutate({ session_id: w.session_id });
    const oldToken = up.demo.cloud_cloudflare.api_token;
    const before = await service.credentials.issue.mutate({ org_id: 'org-rotate', kind: 'cloud_cloudflare' });
    expect(before).toMatchObject({ api_token: oldToken });
    const rotated = await admin.integrations.rotate.mutate({ org_id: 'org-rotate', kind: 'cloud_cloudflare' });
    expect(rotated.audit_run_id).toMatch(/^run_/);
    const after = await service.credentials.issue.mutate({ org_id: 'org-rotate', kind: 'cloud_cloudflare' });
    expect(after.kind === 'cloud_cloudflare' && after.api_token).not.toBe(oldToken);
    const verifyOld = await fetch(`${up.upstreams.cloudflare.apiUrl}/user/tokens/verify`, {
      headers: { authorization: `Bearer ${oldToken}` },
    });
    expect(verifyOld.status).toBe(401);
    const health = await admin.integrations.checkHealth.mutate({ org_id: 'org-rotate', kind: 'cloud_cloudflare' });
    expect(['healthy', 'degraded']).toContain(health.integration.status);
    const events = await listAudit(h.store.db, { action: 'integrations.rotate', orgId: 'org-rotate' }, { limit: 10 });
    expect(events.map((e) => e.outcome).sort()).toEqual(['started', 'success']);
    up.demo.cloud_cloudflare.api_token = after.kind === 'cloud_cloudflare' ? after.api_token : oldToken;

    // Canary: neither the old nor the new token in responses of reads, logs, audit or the database bytes.
    const newToken = up.demo.cloud_cloudflare.api_token;
    const reads = JSON.stringify([
      await admin.integrations.list.query({ org_id: 'org-rotate' }),
      await admin.cloudOnboarding.get.query({ session_id: w.session_id }),
      await admin.cloudOnboarding.list.query({ org_id: 'org-rotate' }),
      rotated,
      health,
    ]);
    const db = await storedText(h.store, h.database.config);
    const audit = JSON.stringify(await listAudit(h.store.db, {}, { limit: 100_000 }));
    const exported = (await admin.store.export.mutate()).content;
    expect(exported).toContain('cloud_cloudflare:org:org-rotate');
    for (const secret of [oldToken, newToken]) {
      for (const [where, text] of Object.entries({ reads, logs: h.logs.join('\n'), audit, db, exported })) {
        expect(text.includes(secret), `${where}`).toBe(false);
      }
    }
  });
});
