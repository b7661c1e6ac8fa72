import { randomBytes } from 'node:crypto';
import { kinds } from '@alphaswarm/contracts/kinds';
import type { UpstreamConfig } from '@alphaswarm/providers';
import {
  AWS_OPTIONAL_ACTIONS,
  AWS_REQUIRED_ACTIONS,
  type AwsFake,
  type AzureFake,
  CF_GROUPS,
  type CloudflareFake,
  type DockerHubFake,
  type GcpFake,
  generateTestCertificate,
  type HuggingFaceFake,
  hfProfile,
  startAwsFake,
  startAzureFake,
  startCloudflareFake,
  startDockerHubFake,
  startGcpFake,
  startHuggingFaceFake,
} from '@alphaswarm/providers/fakes';

/** Credentials the sandbox fakes accept, printed for the operator and written to sandbox.json. */
export interface DemoCredentials {
  org_id: string;
  huggingface: { token: string; namespace: string; bad_token: string };
  docker_hub: { username: string; pat: string; namespace: string };
  cloud_aws: { role_arn: string };
  cloud_gcp: { workload_identity_provider: string; service_account_email: string; project_id: string };
  cloud_azure: { tenant_id: string; client_id: string };
  cloud_cloudflare: { account_id: string; api_token: string };
}

export interface DemoUpstreams {
  upstreams: UpstreamConfig;
  demo: DemoCredentials;
  fakes: {
    hf: HuggingFaceFake;
    hub: DockerHubFake;
    aws: AwsFake;
    gcp: GcpFake;
    azure: AzureFake;
    cloudflare: CloudflareFake;
  };
  tls: { key: string; cert: string };
  close(): Promise<void>;
}

const hex = (n: number) => randomBytes(n).toString('hex');

/**
 * Loopback fakes of all six upstreams, seeded with one demo org's worth of accounts whose cloud
 * trusts point at `workloadIssuer`. Used by the sandbox and by the server's end-to-end tests.
 */
export async function startDemoUpstreams(opts: { workloadIssuer: string; orgId?: string }): Promise<DemoUpstreams> {
  const org = opts.orgId ?? 'org-demo';
  const tls = await generateTestCertificate();
  const [hf, hub, aws, gcp, azure, cloudflare] = await Promise.all([
    startHuggingFaceFake(),
    startDockerHubFake(),
    startAwsFake(),
    startGcpFake(),
    startAzureFake({ tls }),
    startCloudflareFake(),
  ]);

  const demo: DemoCredentials = {
    org_id: org,
    huggingface: {
      token: 'hf_sandboxDemoReadToken0000000000000',
      namespace: 'demo-org',
      bad_token: 'hf_revokedSandboxToken000000000000',
    },
    docker_hub: { username: 'demo', pat: 'dckr_pat_sandbox_demo_0000000000', namespace: 'demo-images' },
    cloud_aws: { role_arn: 'arn:aws:iam::111122223333:role/alphaswarm-integration' },
    cloud_gcp: {
      workload_identity_provider:
        'projects/123456789012/locations/global/workloadIdentityPools/alphaswarm/providers/alphaswarm-oidc',
      service_account_email: 'alphaswarm@demo-project.iam.gserviceaccount.com',
      project_id: 'demo-project',
    },
    cloud_azure: {
      tenant_id: '3f0d7a8e-5b1c-4c1e-9d55-0a2b7c4e9f10',
      client_id: '8b6c1f2e-7d4a-4e3b-a1c9-5f0e2d7b3a64',
    },
    cloud_cloudflare: { account_id: hex(16), api_token: `cf_sandbox_${hex(16)}` },
  };

  hf.addToken(
    demo.huggingface.token,
    hfProfile({
      name: 'demo-user',
      orgs: ['demo-org'],
      tokenName: 'alphaswarm-sandbox',
      role: 'fineGrained',
      fineGrained: {
        scoped: [
          { entity: { type: 'user', name: 'demo-user' }, permissions: ['repo.content.read'] },
          { entity: { type: 'org', name: 'demo-org' }, permissions: ['repo.content.read'] },
        ],
        global: [],
      },
    }),
  );
  hub.addUser({ username: demo.docker_hub.username, pats: [demo.docker_hub.pat], fullName: 'Demo User' });
  hub.addOrg({ orgname: demo.docker_hub.namespace, members: [demo.docker_hub.username] });

  aws.addRole({
    arn: demo.cloud_aws.role_arn,
    trust: { issuer: opts.workloadIssuer, subject: kinds.cloud_aws.subject(org), audience: 'sts.amazonaws.com' },
    allowedActions: [...AWS_REQUIRED_ACTIONS, ...AWS_OPTIONAL_ACTIONS],
  });
  aws.setAccountAlias('111122223333', 'demo-account');

  gcp.addProvider({
    name: demo.cloud_gcp.workload_identity_provider,
    trust: { issuer: opts.workloadIssuer, subject: kinds.cloud_gcp.subject(org) },
    serviceAccounts: {
      [demo.cloud_gcp.service_account_email]: {
        permissions: ['resourcemanager.projects.get', 'storage.buckets.list', 'artifactregistry.repositories.list'],
      },
    },
  });
  gcp.addProjects([{ projectId: 'demo-project', displayName: 'Demo project' }, { projectId: 'demo-analytics' }]);

  const objectId = 'c5a8e3b1-2f4d-4a6e-8b9c-1d2e3f4a5b6c';
  azure.addApp({
    tenant_id: demo.cloud_azure.tenant_id,
    client_id: demo.cloud_azure.client_id,
    object_id: objectId,
    federated: {
      issuer: opts.workloadIssuer,
      subject: kinds.cloud_azure.subject(org),
      audience: 'api://AzureADTokenExchange',
    },
  });
  for (const [i, name] of ['Demo production', 'Demo research'].entries()) {
    azure.addSubscription({
      subscription_id: `9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5${i}`,
      tenant_id: demo.cloud_azure.tenant_id,
      display_name: name,
      permissions: { [objectId]: [{ actions: ['*/read'], notActions: [] }] },
    });
  }

  const account = demo.cloud_cloudflare.account_id;
  cloudflare.addAccount({ id: account, name: 'Demo account' });
  for (const zone of ['demo.example', 'models.demo.example'])
    cloudflare.addZone({ id: hex(16), name: zone, account_id: account });
  cloudflare.addToken({
    id: hex(16),
    value: demo.cloud_cloudflare.api_token,
    account_id: account,
    name: 'alphaswarm-sandbox',
    status: 'active',
    expires_on: new Date(Date.now() + 60 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    policies: [
      {
        effect: 'allow',
        resources: { [`com.cloudflare.api.account.${account}`]: '*' },
        permission_groups: [CF_GROUPS.accountSettingsRead, CF_GROUPS.accountTokensRead, CF_GROUPS.accountTokensWrite],
      },
      {
        effect: 'allow',
        resources: { [`com.cloudflare.api.account.${account}`]: { 'com.cloudflare.api.account.zone.*': '*' } },
        permission_groups: [CF_GROUPS.zoneRead, CF_GROUPS.dnsRead],
      },
    ],
  });

  const upstreams: UpstreamConfig = {
    huggingfaceEndpoint: hf.url,
    dockerHubUrl: hub.url,
    aws: aws.upstream('us-east-1'),
    gcp: gcp.upstream(),
    azure: { authorityHost: azure.authorityHost, armEndpoint: azure.armEndpoint },
    cloudflare: { apiUrl: cloudflare.apiUrl, maxTtlDays: 90 },
    tlsCa: tls.cert,
  };
  return {
    upstreams,
    demo,
    fakes: { hf, hub, aws, gcp, azure, cloudflare },
    tls,
    close: async () => {
      await Promise.all([hf.close(), hub.close(), aws.close(), gcp.close(), azure.close(), cloudflare.close()]);
    },
  };
}
