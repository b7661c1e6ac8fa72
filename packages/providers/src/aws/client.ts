import { Readable } from 'node:stream';
import { type PermissionCheck, ProviderError } from '@alphaswarm/contracts';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, ListAccountAliasesCommand, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { httpMethod, requestBody } from '../shared/sdk-transport';
import { mintSubjectToken } from '../shared/workload';
import type { ProviderContext } from '../types';
import { callError, identityError } from './errors';
import { AWS_ACTIONS, AWS_AUDIENCE, AWS_OPTIONAL_ACTIONS, AWS_UPSTREAM, type AwsIdentityParams } from './schemas';

/** The AWS services the provider calls, as error messages name them. */
export type AwsService = 'AWS STS' | 'AWS IAM' | 'AWS EC2';

/** The parts of the SDK's (smithy) HttpRequest this handler reads. */
interface SdkRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

function urlOf(request: SdkRequest): string {
  const query = Object.entries(request.query ?? {})
    .flatMap(([key, value]) =>
      value === null
        ? [encodeURIComponent(key)]
        : (Array.isArray(value) ? value : [value]).map((v) => `${encodeURIComponent(key)}=${encodeURIComponent(v)}`),
    )
    .join('&');
  const port = request.port ? `:${request.port}` : '';
  return `${request.protocol}//${request.hostname}${port}${request.path}${query ? `?${query}` : ''}`;
}

/**
 * The AWS SDK's request handler, over our HttpClient: its connect timeout, per-request total
 * timeout, size cap, TLS trust and typed errors apply to every AWS call. The SDK's own Node
 * handler only has an idle timeout, so a trickling endpoint kept a call open for minutes, and it
 * reads any answer in full.
 */
function requestHandler(ctx: ProviderContext, service: AwsService) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: SdkRequest, options: { abortSignal?: unknown } = {}) {
      const res = await ctx.http.request(AWS_UPSTREAM, urlOf(request), {
        method: httpMethod(request.method, service),
        // Query-protocol services answer JSON, which the SDK cannot parse, to `Accept: application/json`
        // (HttpClient's default); the SDK's own handler sends no Accept and gets XML.
        headers: { accept: 'text/xml', ...request.headers },
        ...bodyOf(request.body),
        service,
        ...(options.abortSignal instanceof AbortSignal ? { signal: options.abortSignal } : {}),
      });
      return {
        response: { statusCode: res.status, headers: res.headers, body: Readable.from(Buffer.from(res.body, 'utf8')) },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    // The HttpClient is shared and outlives the SDK client.
    destroy() {},
  };
}

function bodyOf(body: unknown): { body?: string | Uint8Array } {
  const value = requestBody(body, AWS_UPSTREAM);
  return value === undefined ? {} : { body: value };
}

export function sdkConfig(ctx: ProviderContext, service: AwsService, region: string, endpoint: string | undefined) {
  return {
    region,
    // One retry: the SDK's own backoff handles a blip (5xx, throttling), the wizard reports anything longer.
    maxAttempts: 2,
    requestHandler: requestHandler(ctx, service),
    // Endpoints come from our configuration only (the server reads AWS_ENDPOINT_URL* in env.ts, where the
    // production gate sees them), never from the process environment or ~/.aws/config behind its back.
    ignoreConfiguredEndpointUrls: true,
    ...(endpoint ? { endpoint } : {}),
  };
}

/** One SDK call (its retry included) under the HttpClient's total deadline. */
export function bounded<T>(ctx: ProviderContext, service: AwsService, send: (abortSignal: AbortSignal) => Promise<T>) {
  return ctx.http.deadline(AWS_UPSTREAM, service, ctx.signal, send);
}

export type AwsParams = AwsIdentityParams;

export interface Session {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  expiration: Date;
  assumedRoleArn: string;
  region: string;
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

export async function assumeRole(
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

export async function callerIdentity(ctx: ProviderContext, session: Session, roleArn: string) {
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
export async function simulate(ctx: ProviderContext, session: Session, roleArn: string): Promise<PermissionCheck[]> {
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

export async function accountAlias(
  ctx: ProviderContext,
  session: Session,
  roleArn: string,
): Promise<string | undefined> {
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

export async function enabledRegions(ctx: ProviderContext, session: Session, roleArn: string) {
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
