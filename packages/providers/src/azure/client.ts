import { ProviderError } from '@alphaswarm/contracts';
import { createHttpHeaders, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import { ClientAssertionCredential } from '@azure/identity';
import { decodeJson, type HttpResponse } from '../http';
import { httpMethod, recording, requestBody, type TransportFaults, transportFaults } from '../shared/sdk-transport';
import { trimSlash } from '../shared/text';
import type { ProviderContext } from '../types';
import { ARM, armErrorFor, ENTRA, entraError } from './errors';
import type { ArmPermission } from './permissions';
import {
  ArmTokenClaims,
  AZURE_AUDIENCE,
  type AzureIdentityParams,
  PermissionListResponse,
  SubscriptionListResponse,
} from './schemas';

const SUBSCRIPTIONS_API = '2022-12-01';
const PERMISSIONS_API = '2022-04-01';
const MAX_PAGES = 20;
/** Permission reads in flight at once, across subscriptions. */
const CONCURRENCY = 4;
/** Subscriptions whose permissions one wizard step or health probe evaluates. */
const MAX_PERMISSION_SUBSCRIPTIONS = 20;

/**
 * @azure/identity's transport, over our HttpClient: MSAL's metadata and token requests get its
 * connect and total timeouts, size cap, TLS trust and no-redirect rule. Identity's own Node
 * client reads a reply of any size in full. What it throws lands in `faults`, since MSAL and
 * identity wrap it in their own errors.
 */
function entraHttpClient(ctx: ProviderContext, faults: TransportFaults): HttpClient {
  return {
    async sendRequest(request: PipelineRequest) {
      const res = await recording(faults, () => {
        const body = requestBody(request.body, ENTRA);
        return ctx.http.request(ENTRA, request.url, {
          method: httpMethod(request.method, ENTRA),
          headers: request.headers.toJSON(),
          ...(body === undefined ? {} : { body }),
          ...(request.abortSignal instanceof AbortSignal ? { signal: request.abortSignal } : {}),
        });
      });
      return { request, status: res.status, headers: createHttpHeaders(res.headers), bodyAsText: res.body };
    },
  };
}

/**
 * The real @azure/identity flow: MSAL fetches the tenant's OIDC metadata and posts our subject
 * token (from `assertion`) as the client assertion.
 */
function entraCredential(
  ctx: ProviderContext,
  ids: { tenantId: string; clientId: string; authorityHost: string },
  assertion: () => Promise<string>,
  faults: TransportFaults,
): ClientAssertionCredential {
  return new ClientAssertionCredential(ids.tenantId, ids.clientId, assertion, {
    authorityHost: ids.authorityHost,
    disableInstanceDiscovery: true,
    httpClient: entraHttpClient(ctx, faults),
    retryOptions: { maxRetries: 1, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 },
    userAgentOptions: { userAgentPrefix: ctx.http.options.userAgent },
  });
}

export interface WizardFacts {
  org_id: string;
  subject: string;
  params: AzureIdentityParams;
}

export interface ArmToken {
  token: string;
  expiresAt: string;
  claims: ArmTokenClaims;
}

/** Our subject token → Entra (client assertion) → an ARM access token, with who it says we are. */
export async function armToken(ctx: ProviderContext, facts: WizardFacts): Promise<ArmToken> {
  const { tenant_id: tenantId, client_id: clientId } = facts.params;
  const authorityHost = trimSlash(ctx.upstreams.azure.authorityHost);
  const armOrigin = new URL(ctx.upstreams.azure.armEndpoint).origin;
  const faults = transportFaults();
  let mintFailure: unknown;
  const credential = entraCredential(
    ctx,
    { tenantId, clientId, authorityHost },
    async () => {
      try {
        return await ctx.workload.mint({ sub: facts.subject, aud: AZURE_AUDIENCE });
      } catch (error) {
        mintFailure = error;
        throw error;
      }
    },
    faults,
  );

  let token: { token: string; expiresOnTimestamp: number };
  try {
    // Metadata and token under one deadline, which holds although MSAL ignores abort signals.
    token = await ctx.http.deadline(ENTRA, ENTRA, ctx.signal, () => credential.getToken(`${armOrigin}/.default`));
  } catch (error) {
    if (mintFailure !== undefined) {
      throw new ProviderError(
        'internal',
        ENTRA,
        'Could not mint our workload subject token for the exchange with Microsoft Entra ID; check the workload issuer signing keys.',
      );
    }
    throw faults.last ?? (await entraError(ctx, error, facts, authorityHost));
  }

  const claims = ArmTokenClaims.safeParse(decodeJwtPayload(token.token));
  if (!claims.success) {
    throw new ProviderError(
      'upstream_unavailable',
      ENTRA,
      `${ENTRA} issued an access token without the tenant (tid) and object (oid) claims; check the authority host configuration.`,
    );
  }
  return { token: token.token, expiresAt: new Date(token.expiresOnTimestamp).toISOString(), claims: claims.data };
}

async function armGet(ctx: ProviderContext, token: string, url: string): Promise<HttpResponse> {
  return ctx.http.request(ARM, url, {
    headers: { authorization: `Bearer ${token}` },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

/**
 * A `nextLink` is a full URL chosen by the upstream; the bearer token only ever goes back to the
 * configured ARM origin.
 */
function followable(nextLink: string, armEndpoint: string): string {
  let next: URL;
  try {
    next = new URL(nextLink);
  } catch {
    throw new ProviderError(
      'upstream_unavailable',
      ARM,
      `${ARM} returned a nextLink that is not a URL; refusing to follow it.`,
    );
  }
  if (next.origin !== new URL(armEndpoint).origin) {
    throw new ProviderError(
      'upstream_unavailable',
      ARM,
      `${ARM} returned a nextLink on another host (${next.host}); refusing to send the access token there. Check the ARM endpoint configuration.`,
    );
  }
  return next.toString();
}

export async function listSubscriptions(
  ctx: ProviderContext,
  token: string,
  cap: number,
): Promise<{ items: SubscriptionListResponse['value']; truncated: boolean }> {
  const base = trimSlash(ctx.upstreams.azure.armEndpoint);
  const items: SubscriptionListResponse['value'] = [];
  let url: string | null = `${base}/subscriptions?api-version=${SUBSCRIPTIONS_API}`;
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const res = await armGet(ctx, token, url);
    if (res.status !== 200) throw armErrorFor(res, ctx.now(), 'listing subscriptions');
    const body = decodeJson(ARM, res, SubscriptionListResponse, { what: 'the subscription list' });
    for (const s of body.value) {
      if (items.length >= cap) return { items, truncated: true };
      items.push(s);
    }
    url = body.nextLink ? followable(body.nextLink, base) : null;
  }
  return { items, truncated: url !== null };
}

export async function subscriptionsToCheck(
  ctx: ProviderContext,
  token: string,
  chosen: string[] | undefined,
): Promise<string[]> {
  if (chosen && chosen.length > 0) return chosen.slice(0, MAX_PERMISSION_SUBSCRIPTIONS);
  const { items } = await listSubscriptions(ctx, token, MAX_PERMISSION_SUBSCRIPTIONS);
  return items.map((s) => s.subscriptionId);
}

/** Effective permission entries of the caller on one subscription; null when ARM says it has none there. */
async function permissionsOn(
  ctx: ProviderContext,
  token: string,
  subscriptionId: string,
): Promise<ArmPermission[] | null> {
  const base = trimSlash(ctx.upstreams.azure.armEndpoint);
  const entries: ArmPermission[] = [];
  let url: string | null =
    `${base}/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Authorization/permissions?api-version=${PERMISSIONS_API}`;
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const res = await armGet(ctx, token, url);
    // No role assignment at all (403) or a subscription this principal cannot see (404): nothing granted there.
    if (res.status === 403 || res.status === 404) return null;
    if (res.status !== 200) throw armErrorFor(res, ctx.now(), `reading permissions on subscription ${subscriptionId}`);
    const body = decodeJson(ARM, res, PermissionListResponse, { what: 'the permission list' });
    entries.push(...body.value);
    url = body.nextLink ? followable(body.nextLink, base) : null;
  }
  return entries;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function decodeJwtPayload(jwt: string): unknown {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

/** Effective permissions on each subscription (null where ARM says there are none), a few reads at a time. */
export function permissionsOnEach(
  ctx: ProviderContext,
  token: string,
  subscriptionIds: readonly string[],
): Promise<(ArmPermission[] | null)[]> {
  return mapLimit(subscriptionIds, CONCURRENCY, (id) => permissionsOn(ctx, token, id));
}
