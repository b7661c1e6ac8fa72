import { type PermissionCheck, ProviderError } from '@alphaswarm/contracts';
import { gaxios, IdentityPoolClient, type IdentityPoolClientOptions } from 'google-auth-library';
import { z } from 'zod';
import { parseJson } from '../http';
import { httpMethod, recording, requestBody, type TransportFaults, transportFaults } from '../shared/sdk-transport';
import { trimSlash } from '../shared/text';
import { mintSubjectToken } from '../shared/workload';
import type { ProviderContext } from '../types';
import { gcpExternalAccount } from './artifacts';
import { chainError, crmError, stageOf } from './errors';
import {
  GCP_OPTIONAL_PERMISSIONS,
  GCP_PERMISSIONS,
  GCP_UPSTREAM,
  type GcpIdentityParams,
  gcpAudience,
  PROJECT_CAP,
  PROJECT_PAGE_CAP,
  PROJECT_PAGE_SIZE,
} from './schemas';

/** Statuses whose Response may carry no body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * google-auth-library's fetch, over our HttpClient: its connect and total timeouts, size cap,
 * TLS trust and no-redirect rule apply to both hops of the chain. Undici's fetch alone would
 * read a reply of any size in full. What it throws lands in `faults`, since gaxios wraps it.
 */
function boundedFetch(ctx: ProviderContext, faults: TransportFaults): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    // What fetch itself would add for a form body (the STS exchange).
    if (init?.body instanceof URLSearchParams)
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    const res = await recording(faults, () =>
      ctx.http.request(GCP_UPSTREAM, url, {
        method: httpMethod(init?.method ?? 'GET', GCP_UPSTREAM),
        headers,
        ...bodyOf(init?.body),
        service: stageOf(url),
        ...(init?.signal ? { signal: init.signal } : {}),
      }),
    );
    return new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, headers: res.headers });
  }) as typeof fetch;
}

function bodyOf(body: unknown): { body?: string | Uint8Array } {
  const value = requestBody(body, GCP_UPSTREAM);
  return value === undefined ? {} : { body: value };
}

function transporter(ctx: ProviderContext, signal: AbortSignal, faults: TransportFaults): gaxios.Gaxios {
  return new gaxios.Gaxios({
    fetchImplementation: boundedFetch(ctx, faults),
    // One quick retry of a 5xx; a 429 or a refused connection goes straight back to the wizard.
    retryConfig: { retry: 1, noResponseRetries: 0, retryDelay: 100, statusCodesToRetry: [[500, 599]] },
    // Gaxios merges defaults with a deep extend that copies only plain objects, so the signal survives.
    signal,
  });
}

/**
 * google-auth-library gives its STS exchanger a bare `new Gaxios()` (no timeout, three retries
 * with backoff) instead of the client's transporter. Hand it ours so both hops of the chain
 * share one transport, retry policy and deadline.
 */
class BoundedIdentityPoolClient extends IdentityPoolClient {
  constructor(options: IdentityPoolClientOptions) {
    super(options);
    (this.stsCredential as unknown as { transporter: gaxios.Gaxios }).transporter = this.transporter;
  }
}

export type GcpParams = GcpIdentityParams;

export interface AccessToken {
  token: string;
  expiresAt: Date;
}

/** Our subject token → Google STS → generateAccessToken for the customer's service account. */
export async function impersonate(
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

async function crm(
  ctx: ProviderContext,
  token: AccessToken,
  what: string,
  path: string,
  json?: unknown,
): Promise<unknown> {
  const base = trimSlash(ctx.upstreams.gcp.crmEndpoint);
  const res = await ctx.http.request(GCP_UPSTREAM, `${base}${path}`, {
    method: json === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token.token}` },
    ...(json === undefined ? {} : { json }),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  if (res.status === 200) return parseJson(GCP_UPSTREAM, res);
  throw crmError(res, ctx.now(), what);
}

const TestIamPermissionsResponse = z.object({ permissions: z.array(z.string()).optional() });

export async function testPermissions(
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

export type SearchedProject = NonNullable<z.infer<typeof SearchProjectsResponse>['projects']>[number];

/** projects:search, paged up to PROJECT_PAGE_CAP pages and PROJECT_CAP projects. */
export async function searchProjects(
  ctx: ProviderContext,
  token: AccessToken,
): Promise<{ projects: SearchedProject[]; truncated: boolean }> {
  const projects: SearchedProject[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < PROJECT_PAGE_CAP; page++) {
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
      if (projects.length >= PROJECT_CAP) return { projects, truncated: true };
      projects.push(p);
    }
    pageToken = parsed.data.nextPageToken || undefined;
    if (!pageToken) return { projects, truncated: false };
    if (projects.length >= PROJECT_CAP) return { projects, truncated: true };
  }
  return { projects, truncated: true };
}
