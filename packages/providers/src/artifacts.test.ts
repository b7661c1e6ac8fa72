import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Artifact, CloudKind } from '@alphaswarm/contracts';
import { describe, expect, it } from 'vitest';
import { AzureIdentityParams } from './azure/schemas';
import { cloudProvider } from './registry';
import { checkCloudFormation } from './testing/cloudformation';
import { testContext } from './testing/context';
import type { WizardContext } from './types';

/*
 * Every artifact a wizard hands out is checked by a parser: CloudFormation against the template
 * rules we can check offline, Terraform by HashiCorp's HCL parser (compiled to wasm), shell by
 * `bash -n`. Nothing here reaches an upstream.
 */

// Loaded untyped: its declarations pull in the DOM lib, which retypes fetch's Headers for the whole package.
const { parse: parseHcl } = createRequire(import.meta.url)('@cdktf/hcl2json') as {
  parse(filename: string, content: string): Promise<Record<string, unknown>>;
};

const ISSUER = 'https://issuer.example.com/workload';
const JWKS = { keys: [{ kty: 'RSA', kid: 'workload-1', n: 'AQAB', e: 'AQAB', alg: 'RS256', use: 'sig' }] };
const ctx = testContext({
  workload: { issuer: ISSUER, mint: () => Promise.reject(new Error('not minted here')), jwks: async () => JWKS },
  upstreams: { aws: { region: 'eu-west-1', templateUrl: 'https://ops.s3.amazonaws.com/alphaswarm-aws-role.json' } },
});

function wizard<K extends CloudKind>(kind: K, setup: WizardContext<K>['setup'] = null): WizardContext<K> {
  return { org_id: 'acme-1', kind, subject: `org:acme-1:${kind}`, params: null, identity: null, setup };
}

const isTerraform = (a: Artifact) => a.name.endsWith('.tf');
const isShell = (a: Artifact) => a.name.endsWith('.sh');

async function checkAll(artifacts: Artifact[]): Promise<Record<string, unknown>> {
  const parsed: Record<string, unknown> = {};
  for (const a of artifacts) {
    if (isTerraform(a)) parsed[a.name] = await parseHcl(a.name, a.content);
    else if (isShell(a)) {
      const run = spawnSync('bash', ['-n'], { input: a.content, encoding: 'utf8' });
      expect(run.stderr, a.name).toBe('');
      expect(run.status, a.name).toBe(0);
    } else if (a.media_type === 'application/json') parsed[a.name] = JSON.parse(a.content);
  }
  return parsed;
}

describe('wizard artifacts parse as what they claim to be', () => {
  it('AWS: a valid CloudFormation template, deploy and create-stack commands, Terraform; quick-create only when hosted', async () => {
    const out = await (await cloudProvider('cloud_aws')).bootstrapArtifacts(ctx, wizard('cloud_aws'));
    const parsed = await checkAll(out.artifacts);
    const template = parsed['alphaswarm-aws-role.json'] as Record<string, never>;
    expect(checkCloudFormation(template)).toEqual([]);
    const tf = parsed['alphaswarm-aws-role.tf'] as {
      resource: Record<string, unknown>;
      output: Record<string, unknown>;
    };
    expect(Object.keys(tf.resource)).toEqual(
      expect.arrayContaining(['aws_iam_openid_connect_provider', 'aws_iam_role', 'aws_iam_role_policy']),
    );
    expect(Object.keys(tf.output)).toEqual(['role_arn']);
    const sh = out.artifacts.find((a) => a.name === 'alphaswarm-aws-deploy.sh')!.content;
    expect(sh).toContain('aws cloudformation deploy');
    expect(sh).toContain('aws cloudformation create-stack');
    expect(sh).toContain("REGION='eu-west-1'");
    expect(sh).toContain("SUBJECT='org:acme-1:cloud_aws'");
    expect(sh).toContain('--capabilities CAPABILITY_NAMED_IAM');
    expect(out.links.map((l) => l.label)).toEqual(['CloudFormation quick-create']);

    // The checker is not a rubber stamp: a dangling Ref, GetAtt and condition are each reported.
    const broken = structuredClone(template) as Record<string, any>;
    broken.Outputs.RoleArn.Value = { 'Fn::GetAtt': ['Nope', 'Arn'] };
    broken.Resources.Role.Properties.RoleName = { Ref: 'Missing' };
    broken.Resources.OIDCProvider.Condition = 'Gone';
    expect(checkCloudFormation(broken)).toEqual([
      'resource OIDCProvider: unknown Condition Gone',
      'Resources.OIDCProvider: unknown condition Gone',
      'Resources.Role.Properties.RoleName: Ref to unknown Missing',
      'Outputs.RoleArn.Value: Fn::GetAtt on unknown resource Nope',
    ]);

    const unhosted = testContext({ workload: ctx.workload });
    expect((await (await cloudProvider('cloud_aws')).bootstrapArtifacts(unhosted, wizard('cloud_aws'))).links).toEqual(
      [],
    );
  });

  it('GCP: the project id asked first is filled in, the four APIs enabled, values printed, JWKS-upload variant offered', async () => {
    const out = await (await cloudProvider('cloud_gcp')).bootstrapArtifacts(
      ctx,
      wizard('cloud_gcp', { project_id: 'tokyo-rain-123' }),
    );
    const parsed = await checkAll(out.artifacts);
    const sh = out.artifacts.find((a) => a.name === 'alphaswarm-gcp.sh')!.content;
    expect(sh).toContain("PROJECT_ID='tokyo-rain-123'");
    expect(sh).toContain(
      'gcloud services enable iam.googleapis.com iamcredentials.googleapis.com sts.googleapis.com cloudresourcemanager.googleapis.com',
    );
    expect(sh).toMatch(/echo " {2}workload_identity_provider: /);
    expect(sh).toMatch(/echo " {2}service_account_email: /);
    expect(sh).toContain('--jwk-json-path=');
    expect(parsed['alphaswarm-gcp-jwks.json']).toEqual(JWKS);
    const tf = parsed['alphaswarm-gcp.tf'] as { variable: Record<string, [{ default: unknown }]>; resource: object };
    expect(tf.variable.project_id![0].default).toBe('tokyo-rain-123');
    expect(Object.keys(tf.resource)).toEqual(
      expect.arrayContaining([
        'google_project_service',
        'google_iam_workload_identity_pool',
        'google_iam_workload_identity_pool_provider',
        'google_service_account',
      ]),
    );
    const tfText = out.artifacts.find((a) => a.name === 'alphaswarm-gcp.tf')!.content;
    expect(tfText + JSON.stringify(parsed['alphaswarm-external-account.json'])).not.toContain('YOUR_PROJECT_ID');
  });

  it('Azure: az commands and Terraform parse; ids are checked with a sentence a person can act on', async () => {
    const out = await (await cloudProvider('cloud_azure')).bootstrapArtifacts(ctx, wizard('cloud_azure'));
    const parsed = await checkAll(out.artifacts);
    const tf = parsed['main.tf'] as { resource: Record<string, unknown> };
    expect(Object.keys(tf.resource)).toEqual(
      expect.arrayContaining([
        'azuread_application',
        'azuread_application_federated_identity_credential',
        'azurerm_role_assignment',
      ]),
    );
    // Entra shows GUIDs whose version digit is not an RFC 4122 one; they are real ids.
    const ok = AzureIdentityParams.safeParse({
      tenant_id: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      // Version digit 0, variant digit 1: refused by an RFC 4122 check (the old "Invalid UUID").
      client_id: '3f2504e0-4f89-01d3-1a0c-0305e82c3301',
      subscription_ids: ['00000000-0000-0000-0000-000000000000'],
    });
    expect(ok.success).toBe(true);
    const bad = AzureIdentityParams.safeParse({ tenant_id: '72f988bf-86f1-41af-91ab-2d7cd011db47', client_id: 'abc' });
    expect(bad.error?.issues.map((i) => i.message)).toEqual([
      "The client id is a GUID like 00000000-0000-0000-0000-000000000000, shown on the app registration's Overview page",
    ]);
  });

  it('Cloudflare: a step-by-step recipe with the permission groups as a list, and Terraform', async () => {
    const out = await (await cloudProvider('cloud_cloudflare')).bootstrapArtifacts(ctx, wizard('cloud_cloudflare'));
    const parsed = await checkAll(out.artifacts);
    expect(Object.keys((parsed['main.tf'] as { resource: object }).resource)).toEqual(['cloudflare_account_token']);
    const recipe = out.artifacts.find((a) => a.media_type === 'text/markdown')!.content;
    expect(recipe).toMatch(/^3\. Permissions.*\n {3}- Account Settings Read \(required\)/m);
    expect(recipe).not.toMatch(/issuer|audience|OIDC token/i);
  });
});
