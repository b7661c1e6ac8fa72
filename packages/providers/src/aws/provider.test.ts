import type { IdentityResult } from '@alphaswarm/contracts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../http';
import { rejection } from '../testing/assertions';
import { testContext } from '../testing/context';
import { startTestWorkloadIssuer, type TestWorkloadIssuer } from '../testing/workload-issuer';
import type { IdentityParams, ProviderContext, StoredLink, WizardContext } from '../types';
import { type awsCloudFormationTemplate, awsQuickCreateUrl, awsTerraform, issuerHostPath } from './artifacts';
import { roleArnFromAssumedRole, roleSessionName } from './client';
import { type AwsFake, startAwsFake } from './fake';
import { provider as awsProvider } from './provider';
import { AWS_OPTIONAL_ACTIONS, AWS_REQUIRED_ACTIONS } from './schemas';

const ORG = 'acme-1';
const SUBJECT = `org:${ORG}:cloud_aws`;
const ROLE = 'arn:aws:iam::123456789012:role/AlphaSwarmReadOnly';
const ALL_ACTIONS = [...AWS_REQUIRED_ACTIONS, ...AWS_OPTIONAL_ACTIONS];

let issuer: TestWorkloadIssuer;
let fake: AwsFake;
let ctx: ProviderContext;

beforeAll(async () => {
  issuer = await startTestWorkloadIssuer();
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(async () => {
  fake = await startAwsFake();
  fake.addRole({
    arn: ROLE,
    trust: { issuer: issuer.issuer, subject: SUBJECT, audience: 'sts.amazonaws.com' },
    allowedActions: ALL_ACTIONS,
  });
  fake.setAccountAlias('123456789012', 'acme-prod');
  ctx = testContext({ upstreams: { aws: fake.upstream('us-east-1') }, workload: issuer });
});
afterEach(async () => {
  await fake.close();
});

function wizard(
  params: IdentityParams<'cloud_aws'> = { role_arn: ROLE, region: 'eu-west-1' },
): WizardContext<'cloud_aws'> & {
  params: IdentityParams<'cloud_aws'>;
} {
  return { org_id: ORG, kind: 'cloud_aws', subject: SUBJECT, params, identity: null };
}

function withIdentity(identity: IdentityResult, params?: IdentityParams<'cloud_aws'>) {
  return { ...wizard(params), identity };
}

function storedLink(metadata: Record<string, unknown>): StoredLink<null> {
  return { org_id: ORG, kind: 'cloud_aws', namespace: '123456789012', metadata, secret: null };
}

describe('AWS artifacts', () => {
  it('builds a parseable CloudFormation template with the issuer, audience and subject conditions', async () => {
    const { audience, artifacts, links } = await awsProvider.bootstrapArtifacts(ctx, { ...wizard(), params: null });
    expect(audience).toBe('sts.amazonaws.com');
    const cfn = artifacts.find((a) => a.name.endsWith('.json'));
    expect(cfn?.media_type).toBe('application/json');
    const template = JSON.parse(cfn!.content) as ReturnType<typeof awsCloudFormationTemplate> & Record<string, any>;
    const hostPath = issuerHostPath(issuer.issuer);
    expect(hostPath).toMatch(/^127\.0\.0\.1:\d+\/workload$/);
    expect(template.Resources.OIDCProvider).toMatchObject({
      Type: 'AWS::IAM::OIDCProvider',
      Condition: 'CreateOIDCProvider',
      Properties: { Url: issuer.issuer, ClientIdList: ['sts.amazonaws.com'] },
    });
    const statement = template.Resources.Role.Properties.AssumeRolePolicyDocument.Statement[0];
    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statement.Condition.StringEquals).toEqual({
      [`${hostPath}:aud`]: 'sts.amazonaws.com',
      [`${hostPath}:sub`]: { Ref: 'Subject' },
    });
    expect(template.Parameters.Subject.Default).toBe(SUBJECT);
    expect(template.Conditions.CreateOIDCProvider).toEqual({ 'Fn::Equals': [{ Ref: 'ExistingOIDCProviderArn' }, ''] });
    const policy = JSON.stringify(template.Resources.Role.Properties.Policies);
    for (const action of ALL_ACTIONS) expect(policy).toContain(action);
    expect(policy).not.toMatch(/"(iam|s3|ec2):\*"|Put|Delete|Create/);

    const tf = artifacts.find((a) => a.name.endsWith('.tf'))!.content;
    expect(tf).toContain(`issuer   = "${issuer.issuer}"`);
    expect(tf).toContain(`subject  = "${SUBJECT}"`);
    expect(tf).toContain(`"${hostPath}:sub" = local.subject`);
    expect(tf).toContain('resource "aws_iam_openid_connect_provider"');
    expect(tf).toContain('resource "aws_iam_role" "alphaswarm"');
    expect(tf).toContain('resource "aws_iam_role_policy"');

    // No hosted template: no half-made quick-create link (it used to carry YOUR-BUCKET).
    expect(links).toEqual([]);
    expect(JSON.stringify(artifacts)).not.toContain('YOUR-BUCKET');

    // Once the operator hosts the template, the link is complete.
    const hosted = await awsProvider.bootstrapArtifacts(
      {
        ...ctx,
        upstreams: {
          ...ctx.upstreams,
          aws: { ...ctx.upstreams.aws, templateUrl: 'https://ops.s3.amazonaws.com/role.json' },
        },
      },
      { ...wizard(), params: null },
    );
    expect(hosted.links).toHaveLength(1);
    const url = new URL(hosted.links[0]!.url);
    expect(url.origin + url.pathname).toBe('https://console.aws.amazon.com/cloudformation/home');
    expect(url.searchParams.get('region')).toBe('us-east-1');
    const [route, query] = url.hash.slice(1).split('?');
    expect(route).toBe('/stacks/create/review');
    const q = new URLSearchParams(query);
    expect(q.get('templateURL')).toBe('https://ops.s3.amazonaws.com/role.json');
    expect(q.get('stackName')).toBe('alphaswarm-acme-1');
    expect(q.get('param_Subject')).toBe(SUBJECT);
    expect(q.get('param_RoleName')).toBe('AlphaSwarmReadOnly');
    expect(hosted.links[0]!.label).toBe('CloudFormation quick-create');
  });

  it('builds quick-create URLs with encoded values and escapes Terraform interpolation', () => {
    const link = awsQuickCreateUrl({
      templateUrl: 'https://b.s3.eu-west-1.amazonaws.com/t.json?v=1&x=2',
      region: 'eu-west-1',
      stackName: 'alphaswarm-x',
      params: { Subject: 'org:a b:cloud_aws' },
    });
    const q = new URLSearchParams(new URL(link).hash.split('?')[1]);
    expect(q.get('templateURL')).toBe('https://b.s3.eu-west-1.amazonaws.com/t.json?v=1&x=2');
    expect(q.get('param_Subject')).toBe('org:a b:cloud_aws');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform interpolation the generator must escape.
    const tf = awsTerraform({ issuer: 'https://x.example/workload', subject: 'org:${evil}:cloud_aws' });
    expect(tf).toContain('"org:$${evil}:cloud_aws"');
  });
});

describe('AWS wizard through the provider', () => {
  it('runs artifacts → identity → permissions → resources → link', async () => {
    await awsProvider.bootstrapArtifacts(ctx, { ...wizard(), params: null });
    const identity = await awsProvider.validateIdentity(ctx, wizard());
    expect(identity.principal).toBe(
      `arn:aws:sts::123456789012:assumed-role/AlphaSwarmReadOnly/${roleSessionName(ORG)}`,
    );
    expect(identity.details).toMatchObject({ account: '123456789012', role_arn: ROLE });
    expect(identity.details.user_id).toMatch(/^AROA[A-Z2-7]{17}:alphaswarm-acme-1$/);

    const assume = fake.requests.find((r) => r.body.includes('Action=AssumeRoleWithWebIdentity'))!;
    expect(assume.headers.authorization).toBeUndefined();
    // AWS's query APIs switch to JSON bodies, which the SDK does not parse, for Accept: application/json.
    expect(fake.requests.map((r) => r.headers.accept)).not.toContainEqual(expect.stringContaining('json'));
    const form = new URLSearchParams(assume.body);
    expect(form.get('RoleSessionName')).toBe('alphaswarm-acme-1');
    expect(form.get('DurationSeconds')).toBe('900');
    const signed = fake.requests.find((r) => r.body.includes('Action=GetCallerIdentity'))!;
    expect(signed.headers.authorization).toMatch(/Credential=ASIA[A-Z2-7]{16}\/\d{8}\/eu-west-1\/sts\/aws4_request/);

    const permissions = await awsProvider.validatePermissions(ctx, withIdentity(identity));
    expect(permissions).toEqual(
      ALL_ACTIONS.map((a) => ({ permission: a, required: !AWS_OPTIONAL_ACTIONS.includes(a as never), granted: true })),
    );
    const simulateCalls = fake.requests.filter((r) => r.body.includes('Action=SimulatePrincipalPolicy'));
    expect(simulateCalls.length).toBe(3);
    expect(new URLSearchParams(simulateCalls[0]!.body).get('PolicySourceArn')).toBe(ROLE);
    expect(new URLSearchParams(simulateCalls[1]!.body).get('Marker')).toBeTruthy();

    const resources = await awsProvider.enumerateResources(ctx, withIdentity(identity));
    expect(resources.truncated).toBe(false);
    expect(resources.resources[0]).toEqual({
      type: 'aws_account',
      id: '123456789012',
      name: 'acme-prod',
      details: { alias: 'acme-prod' },
    });
    expect(resources.resources.filter((r) => r.type === 'aws_region').map((r) => r.id)).toEqual([
      'ap-southeast-2',
      'eu-central-1',
      'eu-west-1',
      'us-east-1',
      'us-east-2',
      'us-west-2',
    ]);

    const link = await awsProvider.toLink(ctx, withIdentity(identity), permissions, resources);
    expect(link).toMatchObject({
      namespace: '123456789012',
      secret: null,
      status: 'healthy',
      error: null,
      warnings: [],
      expires_at: null,
      metadata: {
        role_arn: ROLE,
        account_id: '123456789012',
        account_alias: 'acme-prod',
        region: 'eu-west-1',
        permissions: { missing_optional: [] },
      },
    });
    expect((link.metadata.regions as string[]).length).toBe(6);
    expect(JSON.stringify(link)).not.toMatch(/ASIA|SecretAccessKey|FwoG/);

    const health = await awsProvider.checkHealth(ctx, storedLink(link.metadata));
    expect(health).toMatchObject({ status: 'healthy', error: null });
  });

  it('names the sub condition to fix when the trust policy expects another subject', async () => {
    fake.addRole({
      arn: ROLE,
      trust: { issuer: issuer.issuer, subject: 'org:someone-else:cloud_aws', audience: 'sts.amazonaws.com' },
      allowedActions: ALL_ACTIONS,
    });
    const error = await rejection(awsProvider.validateIdentity(ctx, wizard()));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.upstream).toBe('AWS');
    expect(error.message).toContain(`"${issuerHostPath(issuer.issuer)}:sub" must be "${SUBJECT}"`);
    expect(error.message).toContain(`issuer ${issuer.issuer}`);
    expect(error.message).toContain('audience sts.amazonaws.com');
    expect(error.message).not.toMatch(/eyJ/);
  });

  it('names the aud condition when the trust expects another audience', async () => {
    fake.addRole({
      arn: ROLE,
      trust: { issuer: issuer.issuer, subject: SUBJECT, audience: 'api://other' },
      allowedActions: ALL_ACTIONS,
    });
    const error = await rejection(awsProvider.validateIdentity(ctx, wizard()));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain(`"${issuerHostPath(issuer.issuer)}:aud" must be "sts.amazonaws.com"`);
  });

  it('tells the operator to create the OIDC provider when the account has none for our issuer', async () => {
    fake.knobs.untrustedIssuer = true;
    const error = await rejection(awsProvider.validateIdentity(ctx, wizard()));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain(`Create an IAM OIDC provider in account 123456789012 with URL ${issuer.issuer}`);
  });

  it('names the issuer when the role trusts another OIDC provider', async () => {
    fake.addRole({
      arn: ROLE,
      trust: { issuer: 'https://token.actions.githubusercontent.com', subject: SUBJECT, audience: 'sts.amazonaws.com' },
      allowedActions: ALL_ACTIONS,
    });
    const error = await rejection(awsProvider.validateIdentity(ctx, wizard()));
    expect(error.code).toBe('trust_misconfigured');
    expect(error.message).toContain(`Federated must be the IAM OIDC provider for ${issuer.issuer}`);
  });

  it('marks a missing required permission granted:false and refuses to link', async () => {
    fake.setAllowedActions(
      ROLE,
      ALL_ACTIONS.filter((a) => a !== 'ec2:DescribeRegions'),
    );
    const identity = await awsProvider.validateIdentity(ctx, wizard());
    const permissions = await awsProvider.validatePermissions(ctx, withIdentity(identity));
    expect(permissions.find((p) => p.permission === 'ec2:DescribeRegions')).toEqual({
      permission: 'ec2:DescribeRegions',
      required: true,
      granted: false,
    });
    expect(permissions.filter((p) => !p.granted)).toHaveLength(1);
    const error = await rejection(awsProvider.toLink(ctx, withIdentity(identity), permissions, null));
    expect(error.code).toBe('permission_missing');
    expect(error.message).toContain('ec2:DescribeRegions');
    const enumerate = await rejection(awsProvider.enumerateResources(ctx, withIdentity(identity)));
    expect(enumerate.code).toBe('permission_missing');
  });

  it('reports a role that may not simulate its own policy', async () => {
    fake.setAllowedActions(
      ROLE,
      ALL_ACTIONS.filter((a) => a !== 'iam:SimulatePrincipalPolicy'),
    );
    const identity = await awsProvider.validateIdentity(ctx, wizard());
    const error = await rejection(awsProvider.validatePermissions(ctx, withIdentity(identity)));
    expect(error.code).toBe('permission_missing');
    expect(error.message).toContain(`Allow iam:SimulatePrincipalPolicy on resource ${ROLE}`);
  });

  it('links as degraded when an optional permission is missing', async () => {
    fake.setAllowedActions(
      ROLE,
      ALL_ACTIONS.filter((a) => a !== 's3:ListAllMyBuckets'),
    );
    const identity = await awsProvider.validateIdentity(ctx, wizard());
    const permissions = await awsProvider.validatePermissions(ctx, withIdentity(identity));
    const resources = await awsProvider.enumerateResources(ctx, withIdentity(identity));
    const link = await awsProvider.toLink(ctx, withIdentity(identity), permissions, resources);
    expect(link.status).toBe('degraded');
    expect(link.error?.code).toBe('permission_missing');
    expect(link.error?.message).toContain('s3:ListAllMyBuckets');
    expect(link.warnings).toHaveLength(1);
    expect(link.metadata.permissions).toEqual({ missing_optional: ['s3:ListAllMyBuckets'] });
    const health = await awsProvider.checkHealth(ctx, storedLink(link.metadata));
    expect(health.status).toBe('degraded');
    expect(health.error?.message).toContain('s3:ListAllMyBuckets');
  });

  it('uses the role ARN with its path for the policy simulation', async () => {
    const pathed = 'arn:aws:iam::123456789012:role/platform/AlphaSwarmReadOnly';
    fake.addRole({
      arn: pathed,
      trust: { issuer: issuer.issuer, subject: SUBJECT, audience: 'sts.amazonaws.com' },
      allowedActions: ALL_ACTIONS,
    });
    const params = { role_arn: pathed };
    const identity = await awsProvider.validateIdentity(ctx, wizard(params));
    expect(identity.principal).toContain(':assumed-role/AlphaSwarmReadOnly/');
    const permissions = await awsProvider.validatePermissions(ctx, withIdentity(identity, params));
    expect(permissions.every((p) => p.granted)).toBe(true);
  });

  it('keeps validating across a signing-key rotation', async () => {
    await awsProvider.validateIdentity(ctx, wizard());
    await issuer.rotate();
    const identity = await awsProvider.validateIdentity(ctx, wizard());
    expect(identity.details.account).toBe('123456789012');
    const kids = fake.requests
      .filter((r) => r.body.includes('Action=AssumeRoleWithWebIdentity'))
      .map(
        (r) =>
          JSON.parse(
            Buffer.from(new URLSearchParams(r.body).get('WebIdentityToken')!.split('.')[0]!, 'base64url').toString(),
          ).kid,
      );
    expect(kids).toHaveLength(2);
    expect(kids[0]).not.toBe(kids[1]);
  });

  it('issues fresh short-lived credentials on every call and checks health against the stored link', async () => {
    const metadata = {
      role_arn: ROLE,
      account_id: '123456789012',
      regions: ['us-east-1'],
      region: 'eu-west-1',
      permissions: { missing_optional: [] },
    };
    const before = Date.now();
    const first = await awsProvider.issueCredentials(ctx, storedLink(metadata));
    const second = await awsProvider.issueCredentials(ctx, storedLink(metadata));
    if (first.kind !== 'cloud_aws' || second.kind !== 'cloud_aws') throw new Error('wrong kind');
    expect(first.access_key_id).toMatch(/^ASIA/);
    expect(first.access_key_id).not.toBe(second.access_key_id);
    expect(first.secret_access_key).not.toBe(second.secret_access_key);
    expect(first).toMatchObject({ role_arn: ROLE, region: 'eu-west-1' });
    const ttl = Date.parse(first.expires_at) - before;
    expect(ttl).toBeGreaterThan(50 * 60_000);
    expect(ttl).toBeLessThanOrEqual(60 * 60_000 + 2_000);
    expect(fake.sessions.get(first.access_key_id)?.subject).toBe(SUBJECT);

    fake.addRole({
      arn: ROLE,
      trust: { issuer: issuer.issuer, subject: 'org:other:cloud_aws', audience: 'sts.amazonaws.com' },
      allowedActions: ALL_ACTIONS,
    });
    const broken = await rejection(awsProvider.checkHealth(ctx, storedLink(metadata)));
    expect(broken.code).toBe('trust_misconfigured');
    expect(broken.message).toContain(`"${issuerHostPath(issuer.issuer)}:sub" must be "${SUBJECT}"`);
  });

  it('maps throttling to rate_limited', async () => {
    fake.knobs.throttle = ['AssumeRoleWithWebIdentity'];
    expect((await rejection(awsProvider.validateIdentity(ctx, wizard()))).code).toBe('rate_limited');
    fake.knobs.throttle = ['DescribeRegions'];
    const identity = await awsProvider.validateIdentity(ctx, wizard());
    expect((await rejection(awsProvider.enumerateResources(ctx, withIdentity(identity)))).code).toBe('rate_limited');
  });

  it('maps 5xx and an unreachable endpoint to upstream_unavailable', async () => {
    fake.knobs.serverError = true;
    const failing = await rejection(awsProvider.validateIdentity(ctx, wizard()));
    expect(failing.code).toBe('upstream_unavailable');
    expect(failing.details.status).toBe(500);
    const metadata = {
      role_arn: ROLE,
      account_id: '123456789012',
      regions: [],
      region: 'eu-west-1',
      permissions: { missing_optional: [] },
    };
    expect((await rejection(awsProvider.checkHealth(ctx, storedLink(metadata)))).code).toBe('upstream_unavailable');

    await fake.close();
    const down = await rejection(awsProvider.validateIdentity(ctx, wizard()));
    expect(down.code).toBe('upstream_unavailable');
    expect(down.message).toContain('ECONNREFUSED');
  });

  it('calls only the configured endpoints, never ambient AWS_ENDPOINT_URL* or credentials', async () => {
    const ambient = await startAwsFake();
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: ambient.url,
      AWS_ENDPOINT_URL_STS: ambient.url,
      AWS_ENDPOINT_URL_IAM: ambient.url,
      AWS_ENDPOINT_URL_EC2: ambient.url,
      // Ambient credentials must never sign the web identity call.
      AWS_ACCESS_KEY_ID: 'AKIAAMBIENTEXAMPLE00',
      AWS_SECRET_ACCESS_KEY: 'ambient-secret',
    });
    const http = new HttpClient({ totalTimeoutMs: 500, connectTimeoutMs: 500 });
    try {
      const identity = await awsProvider.validateIdentity(ctx, wizard());
      const permissions = await awsProvider.validatePermissions(ctx, withIdentity(identity));
      expect(permissions.every((p) => p.granted)).toBe(true);
      expect(fake.requests.some((r) => String(r.headers.authorization ?? '').includes('AKIAAMBIENT'))).toBe(false);
      // Nothing configured: AWS's own endpoint (unreachable here), still not the ambient override.
      const unconfigured = testContext({ upstreams: { aws: { region: 'us-east-1' } }, workload: issuer, http });
      await rejection(awsProvider.validateIdentity(unconfigured, wizard()));
      expect(ambient.requests).toEqual([]);
    } finally {
      process.env = saved;
      await http.close();
      await ambient.close();
    }
  });

  it('maps a slow upstream to upstream_timeout', async () => {
    fake.knobs.delayMs = 1_500;
    const http = new HttpClient({ totalTimeoutMs: 300, connectTimeoutMs: 300 });
    const slow = testContext({ upstreams: { aws: fake.upstream() }, workload: issuer, http });
    const error = await rejection(awsProvider.validateIdentity(slow, wizard()));
    expect(error.code).toBe('upstream_timeout');
    await http.close();
  });
});

describe('AWS without a workload issuer', () => {
  it('reports a failing token mint as an internal ProviderError', async () => {
    const fake = await startAwsFake();
    try {
      const error = await rejection(
        awsProvider.validateIdentity(testContext({ upstreams: { aws: fake.upstream() } }), wizard()),
      );
      expect(error.code).toBe('internal');
      expect(fake.requests).toHaveLength(0);
    } finally {
      await fake.close();
    }
  });
});

describe('AWS helpers', () => {
  it('converts assumed-role ARNs and sanitises session names', () => {
    expect(roleArnFromAssumedRole('arn:aws:sts::123456789012:assumed-role/Reader/s1')).toBe(
      'arn:aws:iam::123456789012:role/Reader',
    );
    expect(roleArnFromAssumedRole('arn:aws-us-gov:sts::123456789012:assumed-role/R/s')).toBe(
      'arn:aws-us-gov:iam::123456789012:role/R',
    );
    expect(roleArnFromAssumedRole(ROLE)).toBeNull();
    expect(roleSessionName('a')).toBe('alphaswarm-a');
    expect(roleSessionName('x'.repeat(64))).toHaveLength(64);
    expect(roleSessionName('a b/c')).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});
