import {
  type ErrorCode,
  GcpIdentityParams,
  type IdentityParams,
  type IdentityResult,
  type PermissionCheck,
  ProviderError,
  type ResourcesResult,
} from '@alphaswarm/contracts';
import { z } from 'zod';
import { parseJson, retryAfterSeconds } from '../http';
import {
  missingOptional,
  optionalWarnings,
  permissionHealth,
  permissionNames,
  requireGranted,
} from '../shared/permissions';
import { transportFaults } from '../shared/sdk-transport';
import { warningStatus } from '../shared/warnings';
import { mintSubjectToken } from '../shared/workload';
import type { CloudProvider, HealthResult, ProviderContext, StoredLink } from '../types';
import {
  attributeCondition,
  DEFAULT_POOL_ID,
  DEFAULT_PROVIDER_ID,
  federatedPrincipal,
  gcpExternalAccount,
  gcpGcloudScript,
  gcpTerraform,
  PROJECT_NUMBER_PLACEHOLDER,
} from './artifacts';
import { BoundedIdentityPoolClient, stageOf, transporter } from './client';
import {
  GCP_OPTIONAL_PERMISSIONS,
  GCP_PERMISSIONS,
  GCP_UPSTREAM,
  GcpLinkMetadata,
  gcpAudience,
  ISSUED_TOKEN_SECONDS,
  PROBE_TOKEN_SECONDS,
  PROJECT_CAP,
  PROJECT_PAGE_CAP,
  PROJECT_PAGE_SIZE,
} from './schemas';

type GcpParams = IdentityParams['cloud_gcp'];

export function subjectFor(orgId: string): string {
  return `org:${orgId}:cloud_gcp`;
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
function chainError(error: unknown, ctx: ProviderContext, subject: string, params: GcpParams): ProviderError {
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
    const retry = retryAfterSeconds(headerRecord(e.response?.headers), ctx.now());
    return new ProviderError(
      'rate_limited',
      GCP_UPSTREAM,
      `${stage} is rate limiting our requests. Try again in a minute.`,
      {
        status,
        ...(retry !== undefined ? { retryAfterSeconds: retry } : {}),
      },
    );
  }
  if (status >= 500) {
    return new ProviderError(
      'upstream_unavailable',
      GCP_UPSTREAM,
      `${stage} answered HTTP ${status}. Try again later.`,
      { status },
    );
  }
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

interface AccessToken {
  token: string;
  expiresAt: Date;
}

/** Our subject token → Google STS → generateAccessToken for the customer's service account. */
async function impersonate(
  ctx: ProviderContext,
  subject: string,
  params: GcpParams,
  lifetimeSeconds: number,
): Promise<AccessToken> {
  const audience = gcpAudience(params.workload_identity_provider);
  const faults = transportFaults();
  try {
    const { token, expiry } = await ctx.http.deadline(GCP_UPSTREAM, 'Google STS', ctx.signal, async (signal) => {
      const client = new BoundedIdentityPoolClient({
        ...gcpExternalAccount(ctx.upstreams.gcp, { issuer: ctx.workload.issuer, subject, params }, lifetimeSeconds),
        subject_token_supplier: {
          getSubjectToken: () => mintSubjectToken(ctx, GCP_UPSTREAM, { sub: subject, aud: audience }),
        },
        transporter: transporter(ctx, signal, faults),
      });
      const { token } = await client.getAccessToken();
      return { token, expiry: client.credentials.expiry_date };
    });
    if (!token || !expiry)
      throw new ProviderError(
        'upstream_unavailable',
        GCP_UPSTREAM,
        'Google IAM Credentials answered without an access token.',
      );
    return { token, expiresAt: new Date(expiry) };
  } catch (error) {
    throw faults.last ?? chainError(error, ctx, subject, params);
  }
}

const GoogleErrorBody = z.object({
  error: z.object({ message: z.string().optional(), status: z.string().optional() }),
});

async function crm(
  ctx: ProviderContext,
  token: AccessToken,
  what: string,
  path: string,
  json?: unknown,
): Promise<unknown> {
  const base = ctx.upstreams.gcp.crmEndpoint.replace(/\/+$/, '');
  const res = await ctx.http.request(GCP_UPSTREAM, `${base}${path}`, {
    method: json === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token.token}` },
    ...(json === undefined ? {} : { json }),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  if (res.status === 200) return parseJson(GCP_UPSTREAM, res);
  let detail = '';
  try {
    const parsed = GoogleErrorBody.safeParse(JSON.parse(res.body));
    if (parsed.success)
      detail = ` Google said: ${parsed.data.error.status ?? res.status}: ${(parsed.data.error.message ?? '').slice(0, 500)}`;
  } catch {
    // Not JSON: the status says enough.
  }
  if (res.status === 429) {
    const retry = retryAfterSeconds(res.headers, ctx.now());
    throw new ProviderError(
      'rate_limited',
      GCP_UPSTREAM,
      `Cloud Resource Manager is rate limiting ${what}. Try again in a minute.${detail}`,
      {
        status: 429,
        ...(retry !== undefined ? { retryAfterSeconds: retry } : {}),
      },
    );
  }
  if (res.status >= 500) {
    throw new ProviderError(
      'upstream_unavailable',
      GCP_UPSTREAM,
      `Cloud Resource Manager answered HTTP ${res.status} to ${what}. Try again later.${detail}`,
      {
        status: res.status,
      },
    );
  }
  if (res.status === 401) {
    throw new ProviderError(
      'credential_rejected',
      GCP_UPSTREAM,
      `Cloud Resource Manager rejected the service account's access token for ${what}; try again.${detail}`,
      {
        status: 401,
      },
    );
  }
  throw new ProviderError(
    'permission_missing',
    GCP_UPSTREAM,
    `The service account may not ${what} (HTTP ${res.status}). Check the project id and the account's roles.${detail}`,
    {
      status: res.status,
    },
  );
}

const TestIamPermissionsResponse = z.object({ permissions: z.array(z.string()).optional() });

async function testPermissions(
  ctx: ProviderContext,
  token: AccessToken,
  params: GcpParams,
): Promise<PermissionCheck[]> {
  const body = TestIamPermissionsResponse.safeParse(
    await crm(
      ctx,
      token,
      `test its permissions on project ${params.project_id}`,
      `/v1/projects/${encodeURIComponent(params.project_id)}:testIamPermissions`,
      {
        permissions: [...GCP_PERMISSIONS],
      },
    ),
  );
  if (!body.success)
    throw new ProviderError(
      'upstream_unavailable',
      GCP_UPSTREAM,
      'Cloud Resource Manager answered testIamPermissions with an unexpected body.',
    );
  // `{}` means none granted: proto3 JSON leaves out an empty list.
  const granted = new Set(body.data.permissions ?? []);
  const optional = new Set<string>(GCP_OPTIONAL_PERMISSIONS);
  return GCP_PERMISSIONS.map((permission) => ({
    permission,
    required: !optional.has(permission),
    granted: granted.has(permission),
    scope: `projects/${params.project_id}`,
  }));
}

const SearchProjectsResponse = z.object({
  projects: z
    .array(
      z.object({
        name: z.string(),
        projectId: z.string(),
        displayName: z.string().optional(),
        state: z.string().optional(),
        parent: z.string().optional(),
      }),
    )
    .optional(),
  nextPageToken: z.string().optional(),
});

function optionalWording(missing: PermissionCheck[]): string {
  return `Optional permission${missing.length > 1 ? 's' : ''} not granted on the project: ${permissionNames(missing).join(', ')}. Features that need ${missing.length > 1 ? 'them' : 'it'} stay off until the service account's role includes ${missing.length > 1 ? 'them' : 'it'}.`;
}

function storedParams(link: StoredLink): { params: GcpParams; metadata: GcpLinkMetadata } {
  const parsed = GcpLinkMetadata.safeParse(link.metadata);
  if (!parsed.success) {
    throw new ProviderError(
      'precondition_failed',
      GCP_UPSTREAM,
      'The stored Google Cloud link is missing its provider, service account or project; reconnect it through the wizard.',
    );
  }
  const { workload_identity_provider, service_account_email, project_id } = parsed.data;
  return { params: { workload_identity_provider, service_account_email, project_id }, metadata: parsed.data };
}

export const gcpProvider: CloudProvider<'cloud_gcp', null> = {
  kind: 'cloud_gcp',
  family: 'cloud',
  upstream: GCP_UPSTREAM,
  secretSchema: null,
  paramsSchema: GcpIdentityParams,

  audience: (params) =>
    gcpAudience(
      params?.workload_identity_provider ??
        `projects/${PROJECT_NUMBER_PLACEHOLDER}/locations/global/workloadIdentityPools/${DEFAULT_POOL_ID}/providers/${DEFAULT_PROVIDER_ID}`,
    ),

  async bootstrapArtifacts(ctx, wizard) {
    const facts = { issuer: ctx.workload.issuer, subject: wizard.subject, params: wizard.params };
    const externalAccount = gcpExternalAccount(ctx.upstreams.gcp, facts);
    return {
      audience: externalAccount.audience,
      artifacts: [
        { name: 'alphaswarm-gcp.tf', media_type: 'text/x-hcl', content: gcpTerraform(facts) },
        { name: 'alphaswarm-gcp.sh', media_type: 'text/x-shellscript', content: gcpGcloudScript(facts) },
        {
          name: 'alphaswarm-external-account.json',
          media_type: 'application/json',
          content: `${JSON.stringify(externalAccount, null, 2)}\n`,
        },
      ],
      links: [],
    };
  },

  async validateIdentity(ctx, wizard): Promise<IdentityResult> {
    const token = await impersonate(ctx, wizard.subject, wizard.params, PROBE_TOKEN_SECONDS);
    return {
      principal: wizard.params.service_account_email,
      details: {
        service_account_email: wizard.params.service_account_email,
        project_id: wizard.params.project_id,
        workload_identity_provider: wizard.params.workload_identity_provider,
        federated_principal: federatedPrincipal(wizard.params.workload_identity_provider, wizard.subject),
        token_expires_at: token.expiresAt.toISOString(),
      },
    };
  },

  async validatePermissions(ctx, wizard) {
    const token = await impersonate(ctx, wizard.subject, wizard.params, PROBE_TOKEN_SECONDS);
    return testPermissions(ctx, token, wizard.params);
  },

  async enumerateResources(ctx, wizard): Promise<ResourcesResult> {
    const token = await impersonate(ctx, wizard.subject, wizard.params, PROBE_TOKEN_SECONDS);
    const resources: ResourcesResult['resources'] = [];
    let pageToken: string | undefined;
    let truncated = false;
    for (let page = 0; ; page++) {
      if (page >= PROJECT_PAGE_CAP) {
        truncated = true;
        break;
      }
      const query = new URLSearchParams({ pageSize: String(PROJECT_PAGE_SIZE), ...(pageToken ? { pageToken } : {}) });
      const parsed = SearchProjectsResponse.safeParse(
        await crm(ctx, token, 'search projects', `/v3/projects:search?${query.toString()}`),
      );
      if (!parsed.success)
        throw new ProviderError(
          'upstream_unavailable',
          GCP_UPSTREAM,
          'Cloud Resource Manager answered projects:search with an unexpected body.',
        );
      for (const p of parsed.data.projects ?? []) {
        if (resources.length >= PROJECT_CAP) {
          truncated = true;
          break;
        }
        resources.push({
          type: 'gcp_project',
          id: p.projectId,
          name: p.displayName ?? p.projectId,
          details: { name: p.name, ...(p.state ? { state: p.state } : {}), ...(p.parent ? { parent: p.parent } : {}) },
        });
      }
      pageToken = parsed.data.nextPageToken || undefined;
      if (!pageToken) break;
      if (truncated || resources.length >= PROJECT_CAP) {
        truncated = true;
        break;
      }
    }
    return { resources, truncated };
  },

  async toLink(_ctx, wizard, permissions, resources) {
    requireGranted(
      permissions,
      GCP_UPSTREAM,
      (missing) =>
        `The service account ${wizard.params.service_account_email} lacks required permission${missing.length > 1 ? 's' : ''} ${permissionNames(missing).join(', ')} on project ${wizard.params.project_id}; grant a role that includes ${missing.length > 1 ? 'them' : 'it'} and check again.`,
    );
    const metadata = GcpLinkMetadata.parse({
      workload_identity_provider: wizard.params.workload_identity_provider,
      audience: gcpAudience(wizard.params.workload_identity_provider),
      service_account_email: wizard.params.service_account_email,
      project_id: wizard.params.project_id,
      ...(resources ? { projects: resources.resources.filter((r) => r.type === 'gcp_project').length } : {}),
      permissions: { missing_optional: missingOptional(permissions) },
    });
    const warnings = optionalWarnings(permissions, optionalWording);
    return {
      namespace: wizard.params.project_id,
      metadata,
      secret: null,
      ...warningStatus(warnings),
      warnings,
      expires_at: null,
    };
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const { params, metadata } = storedParams(link);
    const token = await impersonate(ctx, subjectFor(link.org_id), params, PROBE_TOKEN_SECONDS);
    const permissions = await testPermissions(ctx, token, params);
    const verdict = permissionHealth(permissions, {
      lost: (missing) =>
        `The service account ${params.service_account_email} lost required permission(s) on project ${params.project_id}: ${permissionNames(missing).join(', ')}.`,
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
    const token = await impersonate(ctx, subjectFor(link.org_id), params, ISSUED_TOKEN_SECONDS);
    return {
      kind: 'cloud_gcp',
      access_token: token.token,
      expires_at: token.expiresAt.toISOString(),
      service_account_email: params.service_account_email,
      project_id: params.project_id,
    };
  },
};
