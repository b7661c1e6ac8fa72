import { type ErrorCode, ProviderError } from '@alphaswarm/contracts';
import { z } from 'zod';
import { type HttpResponse, retryAfterSeconds } from '../http';
import { errorBody, passingFault, rateLimited, unavailable } from '../shared/errors';
import type { ProviderContext } from '../types';
import { attributeCondition, federatedPrincipal } from './artifacts';
import { GCP_UPSTREAM, type GcpIdentityParams, gcpAudience } from './schemas';

type GcpParams = GcpIdentityParams;

/** Which hop of the chain a URL belongs to, as error messages name it. */
export function stageOf(url: string): 'Google IAM Credentials' | 'Google STS' {
  return url.includes(':generateAccessToken') ? 'Google IAM Credentials' : 'Google STS';
}

interface GaxiosLikeError {
  name?: string;
  message?: string;
  code?: string | number;
  status?: number;
  config?: { url?: string | URL };
  response?: { status?: number; data?: unknown; headers?: Headers | Record<string, string> };
  error?: { name?: string; code?: string; cause?: { code?: string } };
  cause?: { name?: string; code?: string; cause?: { code?: string } };
}

function headerRecord(headers: Headers | Record<string, string> | undefined): Record<string, string> {
  if (!headers) return {};
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    const out: Record<string, string> = {};
    (headers as Headers).forEach((v, k) => {
      out[k.toLowerCase()] = v;
    });
    return out;
  }
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

function networkCode(e: GaxiosLikeError): string | undefined {
  const codes = [e.code, e.error?.code, e.error?.cause?.code, e.cause?.code, e.cause?.cause?.code];
  return codes.find((c): c is string => typeof c === 'string' && /^E[A-Z_]+$/.test(c));
}

function isTimeout(e: GaxiosLikeError): boolean {
  const names = [e.name, e.code, e.error?.name, e.error?.code, e.cause?.name, e.cause?.code];
  return names.some(
    (n) =>
      n === 'TimeoutError' ||
      n === 'AbortError' ||
      n === 'UND_ERR_HEADERS_TIMEOUT' ||
      n === 'UND_ERR_CONNECT_TIMEOUT' ||
      n === 'ETIMEDOUT',
  );
}

/** Turns a failure anywhere in the STS → generateAccessToken chain into an actionable ProviderError. */
export function chainError(error: unknown, ctx: ProviderContext, subject: string, params: GcpParams): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as GaxiosLikeError;
  const stage = stageOf(String(e.config?.url ?? ''));
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : undefined);
  if (status === undefined) {
    if (isTimeout(e)) {
      return new ProviderError(
        'upstream_timeout',
        GCP_UPSTREAM,
        `${stage} did not answer in time. Google may be slow or unreachable; try again later.`,
      );
    }
    const code = networkCode(e);
    return new ProviderError(
      'upstream_unavailable',
      GCP_UPSTREAM,
      `Could not reach ${stage}${code ? ` (${code})` : ''}. Check the endpoint configuration and network, then try again.`,
    );
  }
  if (status === 429) {
    return rateLimited(GCP_UPSTREAM, `${stage} is rate-limiting our requests (HTTP 429)`, {
      status,
      retryAfterSeconds: retryAfterSeconds(headerRecord(e.response?.headers), ctx.now()),
    });
  }
  if (status >= 500) return unavailable(GCP_UPSTREAM, `${stage} is unavailable (HTTP ${status})`, status);
  const audience = gcpAudience(params.workload_identity_provider);
  const expected = `We present issuer ${ctx.workload.issuer}, audience ${audience}, subject ${subject}.`;
  const data = (e.response?.data ?? {}) as { error?: unknown; error_description?: unknown };
  if (stage === 'Google STS') {
    const oauthCode = typeof data.error === 'string' ? data.error : 'error';
    const description = typeof data.error_description === 'string' ? data.error_description.slice(0, 500) : '';
    const said = `Google said: ${oauthCode}: ${description}`;
    const fail = (code: ErrorCode, fix: string) =>
      new ProviderError(
        code,
        GCP_UPSTREAM,
        `Google refused our token for ${params.workload_identity_provider}. ${fix} ${expected} ${said}`,
        { status },
      );
    if (/attribute condition/i.test(description)) {
      return fail(
        'trust_misconfigured',
        `Fix the provider's attribute condition: it must admit our subject, e.g. ${attributeCondition(subject)}.`,
      );
    }
    if (/audience/i.test(description) && oauthCode !== 'invalid_target') {
      return fail(
        'trust_misconfigured',
        `Fix the provider's allowed audiences: leave them empty (the default) or include ${audience}.`,
      );
    }
    if (/issuer/i.test(description) && !/keys|retrieve/i.test(description)) {
      return fail(
        'trust_misconfigured',
        `Fix the provider's OIDC issuer URI: it must be exactly ${ctx.workload.issuer}.`,
      );
    }
    if (oauthCode === 'invalid_target' || /pool or provider|does ?n.t exist|disabled/i.test(description)) {
      return fail(
        'trust_misconfigured',
        `Check that the workload identity provider ${params.workload_identity_provider} exists and is enabled, and that its pool is enabled.`,
      );
    }
    if (/expired/i.test(description)) {
      return fail('credential_rejected', "Our token had expired when Google checked it; check this server's clock.");
    }
    if (/signature|keys|jwks/i.test(description)) {
      return fail(
        'trust_misconfigured',
        `Google could not verify our token with the keys published at ${ctx.workload.issuer}/.well-known/openid-configuration; that URL must be reachable from the internet.`,
      );
    }
    return fail(
      'trust_misconfigured',
      `Check the provider: OIDC issuer URI ${ctx.workload.issuer}, default allowed audiences, attribute mapping google.subject=assertion.sub and attribute condition ${attributeCondition(subject)}.`,
    );
  }
  const googleError = (data as { error?: { message?: unknown; status?: unknown } }).error;
  const said = `Google said: ${typeof googleError?.status === 'string' ? googleError.status : status}: ${typeof googleError?.message === 'string' ? googleError.message.slice(0, 500) : ''}`;
  const principal = federatedPrincipal(params.workload_identity_provider, subject);
  if (status === 403 || status === 404) {
    return new ProviderError(
      'trust_misconfigured',
      GCP_UPSTREAM,
      `Google would not let our federated identity impersonate ${params.service_account_email}. Make sure the service account exists and grant roles/iam.workloadIdentityUser on it to ${principal}. ${said}`,
      { status },
    );
  }
  if (status === 401) {
    return new ProviderError(
      'credential_rejected',
      GCP_UPSTREAM,
      `Google IAM Credentials rejected the token Google STS gave us; try again. ${said}`,
      { status },
    );
  }
  return new ProviderError(
    'trust_misconfigured',
    GCP_UPSTREAM,
    `Google IAM Credentials refused to mint a token for ${params.service_account_email}. ${said}`,
    { status },
  );
}

const GoogleErrorBody = z.object({
  error: z.object({ message: z.string().optional(), status: z.string().optional() }),
});

/** What a non-200 answer of Cloud Resource Manager means for `what` ("search projects"). */
export function crmError(res: HttpResponse, now: Date, what: string): ProviderError {
  const body = errorBody(res, GoogleErrorBody);
  const said = body
    ? ` Google said: ${body.error.status ?? res.status}: ${(body.error.message ?? '').slice(0, 500)}`
    : '';
  const fault = passingFault(GCP_UPSTREAM, res, now, {
    service: 'Cloud Resource Manager',
    detail: `HTTP ${res.status} to ${what}`,
  });
  if (fault) return new ProviderError(fault.code, fault.upstream, `${fault.message}${said}`, fault.details);
  if (res.status === 401) {
    return new ProviderError(
      'credential_rejected',
      GCP_UPSTREAM,
      `Cloud Resource Manager rejected the service account's access token for ${what}; try again.${said}`,
      { status: 401 },
    );
  }
  return new ProviderError(
    'permission_missing',
    GCP_UPSTREAM,
    `The service account may not ${what} (HTTP ${res.status}). Check the project id and the account's roles.${said}`,
    { status: res.status },
  );
}
