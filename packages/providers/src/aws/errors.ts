import { type ErrorCode, ProviderError } from '@alphaswarm/contracts';
import { rateLimited, unavailable } from '../shared/errors';
import type { ProviderContext } from '../types';
import { issuerHostPath } from './artifacts';
import { AWS_AUDIENCE, AWS_UPSTREAM, ISSUED_SESSION_SECONDS } from './schemas';

/*
 * What the AWS SDK throws, turned into ProviderErrors that say what to fix. Errors our transport
 * throws (timeouts, oversized replies) arrive as ProviderErrors already and pass through.
 */

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

export function accountOf(roleArn: string): string {
  return /::(\d{12}):/.exec(roleArn)?.[1] ?? '';
}

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
    return rateLimited(AWS_UPSTREAM, `${service} is throttling our requests (${name})`, { status });
  }
  if (status >= 500) return unavailable(AWS_UPSTREAM, `${service} answered HTTP ${status} (${name})`, status);
  return null;
}

export function identityError(error: unknown, ctx: ProviderContext, subject: string, roleArn: string): ProviderError {
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

export function callError(error: unknown, service: string, action: string, roleArn: string): ProviderError {
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
