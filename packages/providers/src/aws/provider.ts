import {
  AwsIdentityParams,
  type ErrorCode,
  type IdentityParams,
  type IdentityResult,
  type PermissionCheck,
  ProviderError,
  type Resource,
  type ResourcesResult,
} from '@alphaswarm/contracts';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, ListAccountAliasesCommand, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  missingOptional,
  optionalWarnings,
  permissionHealth,
  permissionNames,
  requireGranted,
} from '../shared/permissions';
import { warningStatus } from '../shared/warnings';
import { mintSubjectToken } from '../shared/workload';
import type { CloudProvider, HealthResult, ProviderContext, StoredLink } from '../types';
import {
  AWS_TEMPLATE_URL_PLACEHOLDER,
  awsCloudFormationTemplate,
  awsQuickCreateUrl,
  awsStackName,
  awsTerraform,
  DEFAULT_ROLE_NAME,
  issuerHostPath,
} from './artifacts';
import { bounded, sdkConfig } from './client';
import {
  AWS_ACTIONS,
  AWS_AUDIENCE,
  AWS_OPTIONAL_ACTIONS,
  AWS_REGION_CAP,
  AWS_UPSTREAM,
  AwsLinkMetadata,
  ISSUED_SESSION_SECONDS,
  PROBE_SESSION_SECONDS,
} from './schemas';

type AwsParams = IdentityParams['cloud_aws'];

interface Session {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  expiration: Date;
  assumedRoleArn: string;
  region: string;
}

/** What the AWS SDK throws, as far as we read it. */
interface AwsSdkError {
  name?: string;
  /** The wire error code; `name` is the modelled shape (e.g. InvalidIdentityTokenException). */
  Code?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const CREDENTIAL_CODES = new Set([
  'InvalidClientTokenId',
  'ExpiredToken',
  'AuthFailure',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);
const DENIED_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

export function subjectFor(orgId: string): string {
  return `org:${orgId}:cloud_aws`;
}

/** RoleSessionName allows 2–64 of `[\w+=,.@-]`; it shows up in the customer's CloudTrail. */
export function roleSessionName(orgId: string): string {
  const name = `alphaswarm-${orgId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return name.length >= 2 ? name : 'alphaswarm';
}

/** `arn:aws:sts::<acct>:assumed-role/<name>/<session>` → `arn:aws:iam::<acct>:role/<name>` (path lost). */
export function roleArnFromAssumedRole(arn: string): string | null {
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : null;
}

/**
 * IAM needs the role ARN, not the session's. The assumed-role ARN drops the role's path, so the
 * ARN the customer gave wins when it names the same role in the same account.
 */
function policySourceArn(roleArn: string, assumedRoleArn: string): string {
  const converted = roleArnFromAssumedRole(assumedRoleArn);
  if (!converted) return roleArn;
  const [prefix, name] = [
    converted.slice(0, converted.indexOf(':role/')),
    converted.slice(converted.lastIndexOf('/') + 1),
  ];
  return roleArn.startsWith(`${prefix}:role/`) && roleArn.endsWith(`/${name}`) ? roleArn : converted;
}

function accountOf(roleArn: string): string {
  return /::(\d{12}):/.exec(roleArn)?.[1] ?? '';
}

/**
 * AssumeRoleWithWebIdentity is `smithy.api#noAuth`, so the SDK never resolves credentials for
 * it unless an endpoint rule asks for SigV4 (only the legacy global endpoint does, and we never
 * set useGlobalEndpoint). This provider makes that a guarantee: ambient credentials of the
 * server must never be used to call AWS on a customer's behalf.
 */
const refuseAmbientCredentials = () =>
  Promise.reject(
    new Error('AssumeRoleWithWebIdentity must be sent unsigned; no AWS credentials are configured for it.'),
  );

function wireCode(e: AwsSdkError): string {
  return e.Code ?? e.name ?? 'Error';
}

function transientError(error: unknown, service: string): ProviderError | null {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as AwsSdkError;
  const name = wireCode(e);
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'TimeoutError' || name === 'TimeoutError' || name === 'AbortError' || e.code === 'ETIMEDOUT') {
    return new ProviderError(
      'upstream_timeout',
      AWS_UPSTREAM,
      `${service} did not answer in time. AWS may be slow or unreachable; try again later.`,
    );
  }
  if (status === undefined) {
    return new ProviderError(
      'upstream_unavailable',
      AWS_UPSTREAM,
      `Could not reach ${service}${e.code ? ` (${e.code})` : ''}. Check the endpoint configuration and network, then try again.`,
    );
  }
  if (THROTTLING_CODES.has(name) || e.$retryable?.throttling || status === 429) {
    return new ProviderError(
      'rate_limited',
      AWS_UPSTREAM,
      `${service} is throttling our requests (${name}). Try again in a minute.`,
      { status },
    );
  }
  if (status >= 500) {
    return new ProviderError(
      'upstream_unavailable',
      AWS_UPSTREAM,
      `${service} answered HTTP ${status} (${name}). Try again later.`,
      { status },
    );
  }
  return null;
}

function identityError(error: unknown, ctx: ProviderContext, subject: string, roleArn: string): ProviderError {
  const transient = transientError(error, 'AWS STS');
  if (transient) return transient;
  const e = error as AwsSdkError;
  const name = wireCode(e);
  const upstreamMessage = (e.message ?? '').slice(0, 500);
  const status = e.$metadata?.httpStatusCode;
  const hostPath = issuerHostPath(ctx.workload.issuer);
  const account = accountOf(roleArn);
  const expected = `We present issuer ${ctx.workload.issuer}, audience ${AWS_AUDIENCE}, subject ${subject}.`;
  const said = `AWS said: ${name}: ${upstreamMessage}`;
  const fail = (code: ErrorCode, fix: string) =>
    new ProviderError(code, AWS_UPSTREAM, `AWS refused to let us assume ${roleArn}. ${fix} ${expected} ${said}`, {
      status,
    });

  const code = name.replace(/Exception$/, '');
  if (code === 'AccessDenied' || code === 'IDPRejectedClaim') {
    if (/:sub\b|\bsub\b|subject/i.test(upstreamMessage)) {
      return fail(
        'trust_misconfigured',
        `Fix the role's trust policy condition: StringEquals "${hostPath}:sub" must be "${subject}".`,
      );
    }
    if (/:aud\b|\baud\b|audience/i.test(upstreamMessage)) {
      return fail(
        'trust_misconfigured',
        `Fix the role's trust policy condition: StringEquals "${hostPath}:aud" must be "${AWS_AUDIENCE}".`,
      );
    }
    if (/issuer|OIDC provider|OpenIDConnect/i.test(upstreamMessage)) {
      return fail(
        'trust_misconfigured',
        `Fix the role's trust policy principal: Federated must be the IAM OIDC provider for ${ctx.workload.issuer} (arn:aws:iam::${account}:oidc-provider/${hostPath}).`,
      );
    }
    return fail(
      'trust_misconfigured',
      `Check that the role exists and that its trust policy allows sts:AssumeRoleWithWebIdentity for the OIDC provider ${hostPath} with StringEquals "${hostPath}:aud" = "${AWS_AUDIENCE}" and "${hostPath}:sub" = "${subject}".`,
    );
  }
  if (code === 'InvalidIdentityToken') {
    if (/No OpenIDConnect provider/i.test(upstreamMessage)) {
      return fail(
        'trust_misconfigured',
        `Create an IAM OIDC provider in account ${account} with URL ${ctx.workload.issuer} and audience ${AWS_AUDIENCE} (the CloudFormation template does this).`,
      );
    }
    if (/audience/i.test(upstreamMessage)) {
      return fail(
        'trust_misconfigured',
        `Add ${AWS_AUDIENCE} to the audiences (client IDs) of the IAM OIDC provider for ${ctx.workload.issuer}.`,
      );
    }
    if (/verification key|retrieve|thumbprint/i.test(upstreamMessage)) {
      return fail(
        'trust_misconfigured',
        `AWS could not fetch our signing keys from ${ctx.workload.issuer}/.well-known/openid-configuration; that URL must be reachable from the internet over HTTPS with a publicly trusted certificate.`,
      );
    }
    return fail('trust_misconfigured', `Check that the IAM OIDC provider URL is exactly ${ctx.workload.issuer}.`);
  }
  if (code === 'ExpiredToken') {
    return fail('credential_rejected', "Our token had expired when AWS checked it; check this server's clock.");
  }
  if (code === 'IDPCommunicationError') {
    return new ProviderError(
      'upstream_unavailable',
      AWS_UPSTREAM,
      `AWS could not reach our issuer ${ctx.workload.issuer} to verify the token. Make sure it is reachable from the internet, then retry. ${said}`,
      { status },
    );
  }
  if (code === 'RegionDisabled') {
    return fail(
      'trust_misconfigured',
      'Activate AWS STS in this region (IAM → Account settings) or choose another region.',
    );
  }
  if (code === 'ValidationError' && /DurationSeconds|MaxSessionDuration/i.test(upstreamMessage)) {
    return fail(
      'trust_misconfigured',
      `Set the role's maximum session duration to at least ${ISSUED_SESSION_SECONDS / 3600} hour.`,
    );
  }
  return fail('trust_misconfigured', 'Check the role ARN and its trust policy.');
}

function callError(error: unknown, service: string, action: string, roleArn: string): ProviderError {
  const transient = transientError(error, service);
  if (transient) return transient;
  const e = error as AwsSdkError;
  const name = wireCode(e);
  const status = e.$metadata?.httpStatusCode;
  const said = `AWS said: ${name}: ${(e.message ?? '').slice(0, 500)}`;
  if (DENIED_CODES.has(name)) {
    return new ProviderError(
      'permission_missing',
      AWS_UPSTREAM,
      `The role ${roleArn} is not allowed ${action}; add it to the role's policy. ${said}`,
      { status },
    );
  }
  if (CREDENTIAL_CODES.has(name)) {
    return new ProviderError(
      'credential_rejected',
      AWS_UPSTREAM,
      `${service} rejected the temporary credentials of ${roleArn}; try again. ${said}`,
      { status },
    );
  }
  if (name === 'NoSuchEntity') {
    return new ProviderError('trust_misconfigured', AWS_UPSTREAM, `IAM cannot find the role ${roleArn}. ${said}`, {
      status,
    });
  }
  return new ProviderError('upstream_unavailable', AWS_UPSTREAM, `${service} failed ${action}. ${said}`, { status });
}

async function assumeRole(
  ctx: ProviderContext,
  orgId: string,
  subject: string,
  params: AwsParams,
  durationSeconds: number,
): Promise<Session> {
  const region = params.region ?? ctx.upstreams.aws.region;
  const token = await mintSubjectToken(ctx, AWS_UPSTREAM, { sub: subject, aud: AWS_AUDIENCE });
  const sts = new STSClient({
    ...sdkConfig(ctx, 'AWS STS', region, ctx.upstreams.aws.stsEndpoint),
    credentials: refuseAmbientCredentials,
  });
  try {
    const command = new AssumeRoleWithWebIdentityCommand({
      RoleArn: params.role_arn,
      RoleSessionName: roleSessionName(orgId),
      WebIdentityToken: token,
      DurationSeconds: durationSeconds,
    });
    const out = await bounded(ctx, 'AWS STS', (abortSignal) => sts.send(command, { abortSignal }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration || !out.AssumedRoleUser?.Arn) {
      throw new ProviderError(
        'upstream_unavailable',
        AWS_UPSTREAM,
        'AWS STS answered AssumeRoleWithWebIdentity without credentials.',
      );
    }
    return {
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
      expiration: c.Expiration,
      assumedRoleArn: out.AssumedRoleUser.Arn,
      region,
    };
  } catch (error) {
    throw identityError(error, ctx, subject, params.role_arn);
  } finally {
    sts.destroy();
  }
}

async function callerIdentity(ctx: ProviderContext, session: Session, roleArn: string) {
  const sts = new STSClient({
    ...sdkConfig(ctx, 'AWS STS', session.region, ctx.upstreams.aws.stsEndpoint),
    credentials: session.credentials,
  });
  try {
    const out = await bounded(ctx, 'AWS STS', (abortSignal) =>
      sts.send(new GetCallerIdentityCommand({}), { abortSignal }),
    );
    if (!out.Arn || !out.Account)
      throw new ProviderError(
        'upstream_unavailable',
        AWS_UPSTREAM,
        'AWS STS answered GetCallerIdentity without an ARN.',
      );
    return { arn: out.Arn, account: out.Account, userId: out.UserId ?? '' };
  } catch (error) {
    throw callError(error, 'AWS STS', 'sts:GetCallerIdentity', roleArn);
  } finally {
    sts.destroy();
  }
}

/** SimulatePrincipalPolicy over every action we care about, following Marker with a page cap. */
async function simulate(ctx: ProviderContext, session: Session, roleArn: string): Promise<PermissionCheck[]> {
  const source = policySourceArn(roleArn, session.assumedRoleArn);
  const iam = new IAMClient({
    ...sdkConfig(ctx, 'AWS IAM', session.region, ctx.upstreams.aws.iamEndpoint),
    credentials: session.credentials,
  });
  const decisions = new Map<string, boolean>();
  try {
    let marker: string | undefined;
    for (let page = 0; page < 20; page++) {
      const command = new SimulatePrincipalPolicyCommand({
        PolicySourceArn: source,
        ActionNames: [...AWS_ACTIONS],
        Marker: marker,
      });
      const out = await bounded(ctx, 'AWS IAM', (abortSignal) => iam.send(command, { abortSignal }));
      for (const r of out.EvaluationResults ?? []) {
        if (!r.EvalActionName) continue;
        const key = r.EvalActionName.toLowerCase();
        decisions.set(key, (decisions.get(key) ?? true) && r.EvalDecision === 'allowed');
      }
      marker = out.IsTruncated ? out.Marker : undefined;
      if (!marker) break;
    }
  } catch (error) {
    const mapped = callError(error, 'AWS IAM', 'iam:SimulatePrincipalPolicy', roleArn);
    if (mapped.code === 'permission_missing') {
      throw new ProviderError(
        'permission_missing',
        AWS_UPSTREAM,
        `The role ${roleArn} may not run iam:SimulatePrincipalPolicy on itself, so we cannot check its other permissions. Allow iam:SimulatePrincipalPolicy on resource ${source}. ${mapped.message}`,
        mapped.details,
      );
    }
    throw mapped;
  } finally {
    iam.destroy();
  }
  const optional = new Set<string>(AWS_OPTIONAL_ACTIONS);
  return AWS_ACTIONS.map((action) => ({
    permission: action,
    required: !optional.has(action),
    granted: decisions.get(action.toLowerCase()) ?? false,
  }));
}

async function accountAlias(ctx: ProviderContext, session: Session, roleArn: string): Promise<string | undefined> {
  const iam = new IAMClient({
    ...sdkConfig(ctx, 'AWS IAM', session.region, ctx.upstreams.aws.iamEndpoint),
    credentials: session.credentials,
  });
  try {
    const out = await bounded(ctx, 'AWS IAM', (abortSignal) =>
      iam.send(new ListAccountAliasesCommand({}), { abortSignal }),
    );
    return out.AccountAliases?.[0];
  } catch (error) {
    const mapped = callError(error, 'AWS IAM', 'iam:ListAccountAliases', roleArn);
    // The alias is a label; the permission check reports the missing grant.
    if (mapped.code === 'permission_missing') return undefined;
    throw mapped;
  } finally {
    iam.destroy();
  }
}

async function enabledRegions(ctx: ProviderContext, session: Session, roleArn: string) {
  const ec2 = new EC2Client({
    ...sdkConfig(ctx, 'AWS EC2', session.region, ctx.upstreams.aws.ec2Endpoint),
    credentials: session.credentials,
  });
  try {
    // DescribeRegions is not paginated: one answer holds every region enabled for the account.
    const out = await bounded(ctx, 'AWS EC2', (abortSignal) =>
      ec2.send(new DescribeRegionsCommand({ AllRegions: false }), { abortSignal }),
    );
    return (out.Regions ?? [])
      .filter((r): r is typeof r & { RegionName: string } => typeof r.RegionName === 'string')
      .sort((a, b) => a.RegionName.localeCompare(b.RegionName));
  } catch (error) {
    throw callError(error, 'AWS EC2', 'ec2:DescribeRegions', roleArn);
  } finally {
    ec2.destroy();
  }
}

function optionalWording(missing: PermissionCheck[]): string {
  return `Optional permission${missing.length > 1 ? 's' : ''} not granted: ${permissionNames(missing).join(', ')}. Features that need ${missing.length > 1 ? 'them' : 'it'} stay off until the role's policy allows ${missing.length > 1 ? 'them' : 'it'}.`;
}

function storedParams(link: StoredLink): { params: AwsParams; metadata: AwsLinkMetadata } {
  const parsed = AwsLinkMetadata.safeParse(link.metadata);
  if (!parsed.success) {
    throw new ProviderError(
      'precondition_failed',
      AWS_UPSTREAM,
      'The stored AWS link is missing its role ARN or region; reconnect it through the wizard.',
    );
  }
  return { params: { role_arn: parsed.data.role_arn, region: parsed.data.region }, metadata: parsed.data };
}

export const awsProvider: CloudProvider<'cloud_aws', null> = {
  kind: 'cloud_aws',
  family: 'cloud',
  upstream: AWS_UPSTREAM,
  secretSchema: null,
  paramsSchema: AwsIdentityParams,

  audience: () => AWS_AUDIENCE,

  async bootstrapArtifacts(ctx, wizard) {
    const facts = {
      issuer: ctx.workload.issuer,
      subject: wizard.subject,
      audience: AWS_AUDIENCE,
      roleName: DEFAULT_ROLE_NAME,
    };
    const region = wizard.params?.region ?? ctx.upstreams.aws.region;
    return {
      audience: AWS_AUDIENCE,
      artifacts: [
        {
          name: 'alphaswarm-aws-role.json',
          media_type: 'application/json',
          content: `${JSON.stringify(awsCloudFormationTemplate(facts), null, 2)}\n`,
        },
        { name: 'alphaswarm-aws-role.tf', media_type: 'text/x-hcl', content: awsTerraform(facts) },
      ],
      links: [
        {
          label: ctx.upstreams.aws.templateUrl
            ? 'CloudFormation quick-create'
            : 'CloudFormation quick-create (upload alphaswarm-aws-role.json to your own S3 bucket and put its URL in templateURL first)',
          url: awsQuickCreateUrl({
            templateUrl: ctx.upstreams.aws.templateUrl ?? AWS_TEMPLATE_URL_PLACEHOLDER,
            region,
            stackName: awsStackName(wizard.org_id),
            params: { Subject: wizard.subject, RoleName: DEFAULT_ROLE_NAME },
          }),
        },
      ],
    };
  },

  async validateIdentity(ctx, wizard): Promise<IdentityResult> {
    const session = await assumeRole(ctx, wizard.org_id, wizard.subject, wizard.params, PROBE_SESSION_SECONDS);
    const who = await callerIdentity(ctx, session, wizard.params.role_arn);
    return {
      principal: who.arn,
      details: { account: who.account, user_id: who.userId, role_arn: wizard.params.role_arn },
    };
  },

  async validatePermissions(ctx, wizard) {
    const session = await assumeRole(ctx, wizard.org_id, wizard.subject, wizard.params, PROBE_SESSION_SECONDS);
    return simulate(ctx, session, wizard.params.role_arn);
  },

  async enumerateResources(ctx, wizard): Promise<ResourcesResult> {
    const session = await assumeRole(ctx, wizard.org_id, wizard.subject, wizard.params, PROBE_SESSION_SECONDS);
    const [alias, regions] = await Promise.all([
      accountAlias(ctx, session, wizard.params.role_arn),
      enabledRegions(ctx, session, wizard.params.role_arn),
    ]);
    const account = wizard.identity.details.account ?? accountOf(wizard.params.role_arn);
    const resources: Resource[] = [
      { type: 'aws_account', id: account, name: alias ?? account, ...(alias ? { details: { alias } } : {}) },
      ...regions.slice(0, AWS_REGION_CAP).map((r) => ({
        type: 'aws_region',
        id: r.RegionName,
        name: r.RegionName,
        details: { endpoint: r.Endpoint ?? '', opt_in_status: r.OptInStatus ?? '' },
      })),
    ];
    return { resources, truncated: regions.length > AWS_REGION_CAP };
  },

  async toLink(ctx, wizard, permissions, resources) {
    requireGranted(
      permissions,
      AWS_UPSTREAM,
      (missing) =>
        `The role ${wizard.params.role_arn} lacks required permission${missing.length > 1 ? 's' : ''} ${permissionNames(missing).join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} to the role's policy and check again.`,
    );
    const account = wizard.identity.details.account ?? accountOf(wizard.params.role_arn);
    const alias = resources?.resources.find((r) => r.type === 'aws_account')?.details?.alias;
    const metadata = AwsLinkMetadata.parse({
      role_arn: wizard.params.role_arn,
      account_id: account,
      ...(alias ? { account_alias: alias } : {}),
      regions: (resources?.resources ?? []).filter((r) => r.type === 'aws_region').map((r) => r.id),
      region: wizard.params.region ?? ctx.upstreams.aws.region,
      permissions: { missing_optional: missingOptional(permissions) },
    });
    const warnings = optionalWarnings(permissions, optionalWording);
    return {
      namespace: account,
      metadata,
      secret: null,
      ...warningStatus(warnings),
      warnings,
      expires_at: null,
    };
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const { params, metadata } = storedParams(link);
    const session = await assumeRole(ctx, link.org_id, subjectFor(link.org_id), params, PROBE_SESSION_SECONDS);
    await callerIdentity(ctx, session, params.role_arn);
    const permissions = await simulate(ctx, session, params.role_arn);
    const verdict = permissionHealth(permissions, {
      lost: (missing) =>
        `The role ${params.role_arn} lost required permission(s): ${permissionNames(missing).join(', ')}.`,
      optional: optionalWording,
    });
    return {
      ...verdict,
      metadata: { ...metadata, permissions: { missing_optional: missingOptional(permissions) } },
      expires_at: null,
    };
  },

  async issueCredentials(ctx, link) {
    const { params } = storedParams(link);
    const session = await assumeRole(ctx, link.org_id, subjectFor(link.org_id), params, ISSUED_SESSION_SECONDS);
    return {
      kind: 'cloud_aws',
      access_key_id: session.credentials.accessKeyId,
      secret_access_key: session.credentials.secretAccessKey,
      session_token: session.credentials.sessionToken,
      expires_at: session.expiration.toISOString(),
      role_arn: params.role_arn,
      region: session.region,
    };
  },
};
