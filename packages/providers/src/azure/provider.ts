import {
  AzureIdentityParams,
  type IdentityParams,
  type IdentityResult,
  type PermissionCheck,
  ProviderError,
  type Resource,
} from '@alphaswarm/contracts';
import { decodeJson, type HttpResponse, retryAfterSeconds } from '../http';
import { optionalWarnings, requireGranted, ungranted } from '../shared/permissions';
import { transportFaults } from '../shared/sdk-transport';
import { warningStatus } from '../shared/warnings';
import type { CloudProvider, HealthResult, LinkDraft, ProviderContext, StoredLink } from '../types';
import { azureArtifacts } from './artifacts';
import { ENTRA, entraCredential } from './client';
import { type ArmPermission, isActionAllowed, OPTIONAL_ACTIONS, REQUIRED_ACTIONS } from './permissions';
import {
  ArmErrorBody,
  ArmTokenClaims,
  AzureLinkMetadata,
  PermissionListResponse,
  SubscriptionListResponse,
} from './schemas';

const ARM = 'Azure Resource Manager';
export const AZURE_AUDIENCE = 'api://AzureADTokenExchange';
const SUBSCRIPTIONS_API = '2022-12-01';
const PERMISSIONS_API = '2022-04-01';
/** Subscriptions listed by enumerate_resources. */
const MAX_SUBSCRIPTIONS = 200;
/** Subscriptions whose permissions one wizard step or health probe evaluates. */
const MAX_PERMISSION_SUBSCRIPTIONS = 20;
const MAX_PAGES = 20;
const CONCURRENCY = 4;

interface WizardFacts {
  org_id: string;
  subject: string;
  params: IdentityParams['cloud_azure'];
}

interface ArmToken {
  token: string;
  expiresAt: string;
  claims: ArmTokenClaims;
}

export const azureProvider: CloudProvider<'cloud_azure', null> = {
  kind: 'cloud_azure',
  family: 'cloud',
  upstream: ENTRA,
  paramsSchema: AzureIdentityParams,
  secretSchema: null,

  audience: () => AZURE_AUDIENCE,

  async bootstrapArtifacts(ctx, wizard) {
    return {
      audience: AZURE_AUDIENCE,
      artifacts: azureArtifacts({
        org_id: wizard.org_id,
        issuer: ctx.workload.issuer,
        subject: wizard.subject,
        audience: AZURE_AUDIENCE,
        subscription_ids: wizard.params?.subscription_ids ?? [],
      }),
      links: [
        {
          label: 'Microsoft Entra admin center: App registrations',
          url: 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade',
        },
        {
          label: 'Workload identity federation (Microsoft docs)',
          url: 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation',
        },
      ],
    };
  },

  async validateIdentity(ctx, wizard): Promise<IdentityResult> {
    const arm = await armToken(ctx, wizard);
    return {
      principal: arm.claims.oid,
      details: {
        tenant_id: arm.claims.tid,
        client_id: wizard.params.client_id,
        object_id: arm.claims.oid,
        token_expires_at: arm.expiresAt,
      },
    };
  },

  async validatePermissions(ctx, wizard): Promise<PermissionCheck[]> {
    const arm = await armToken(ctx, wizard);
    const subscriptionIds = await subscriptionsToCheck(ctx, arm.token, wizard.params.subscription_ids);
    return checkPermissions(ctx, arm.token, subscriptionIds);
  },

  async enumerateResources(ctx, wizard) {
    const arm = await armToken(ctx, wizard);
    const { items, truncated } = await listSubscriptions(ctx, arm.token, MAX_SUBSCRIPTIONS);
    const resources: Resource[] = items.map((s) => ({
      type: 'azure_subscription',
      id: s.subscriptionId,
      name: s.displayName || s.subscriptionId,
      details: { state: s.state ?? 'Unknown', tenant_id: s.tenantId ?? wizard.params.tenant_id },
    }));
    return { resources, truncated };
  },

  async toLink(_ctx, wizard, permissions, resources): Promise<LinkDraft<null>> {
    requireGranted(permissions, ARM, (missing) => `${describeMissing(missing)} ${READER_HINT}`);
    const warnings = optionalWarnings(
      permissions,
      (missing) =>
        `${describeMissing(missing)} These are optional: the platform skips what it cannot read. ${READER_HINT}`,
    );
    const fromChecks = [
      ...new Set(permissions.map((p) => subscriptionOfScope(p.scope)).filter((s): s is string => !!s)),
    ];
    const subscription_ids =
      wizard.params.subscription_ids ??
      (fromChecks.length > 0 ? fromChecks : (resources?.resources.map((r) => r.id) ?? []));
    const metadata: AzureLinkMetadata = {
      tenant_id: wizard.params.tenant_id,
      client_id: wizard.params.client_id,
      object_id: wizard.identity.details.object_id ?? wizard.identity.principal,
      subscription_ids,
    };
    return {
      namespace: wizard.params.tenant_id,
      metadata,
      secret: null,
      ...warningStatus(warnings),
      warnings,
      expires_at: null,
    };
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const meta = readMetadata(link);
    const facts: WizardFacts = {
      org_id: link.org_id,
      subject: `org:${link.org_id}:cloud_azure`,
      params: { tenant_id: meta.tenant_id, client_id: meta.client_id, subscription_ids: meta.subscription_ids },
    };
    const arm = await armToken(ctx, facts);
    const metadata: AzureLinkMetadata = { ...meta, object_id: arm.claims.oid };
    const subscriptionIds = await subscriptionsToCheck(
      ctx,
      arm.token,
      meta.subscription_ids.length > 0 ? meta.subscription_ids : undefined,
    );
    const checks = await checkPermissions(ctx, arm.token, subscriptionIds);
    const missing = ungranted(checks, true);
    if (missing.length === 0) return { status: 'healthy', error: null, metadata, expires_at: null };
    // A link spanning subscriptions is unhealthy only once every one of them lost a required permission.
    const broken = new Set(missing.map((c) => c.scope ?? ''));
    const status = broken.size >= Math.max(1, subscriptionIds.length) ? 'unhealthy' : 'degraded';
    return {
      status,
      error: { code: 'permission_missing', message: `${describeMissing(missing)} ${READER_HINT}` },
      metadata,
      expires_at: null,
    };
  },

  async issueCredentials(ctx, link) {
    const meta = readMetadata(link);
    const arm = await armToken(ctx, {
      org_id: link.org_id,
      subject: `org:${link.org_id}:cloud_azure`,
      params: { tenant_id: meta.tenant_id, client_id: meta.client_id },
    });
    return {
      kind: 'cloud_azure',
      access_token: arm.token,
      expires_at: arm.expiresAt,
      tenant_id: meta.tenant_id,
      client_id: meta.client_id,
    };
  },
};

const READER_HINT =
  "Assign the Reader role (or a custom role with these actions) to the app's service principal on each subscription, then check again.";

// ───────────────────────────── Entra: federated client assertion → ARM token ─────────────────────────────

async function armToken(ctx: ProviderContext, facts: WizardFacts): Promise<ArmToken> {
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

/** Translate what @azure/identity throws into a ProviderError that says what to fix. */
async function entraError(
  ctx: ProviderContext,
  error: unknown,
  facts: WizardFacts,
  authorityHost: string,
): Promise<ProviderError> {
  if (error instanceof ProviderError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const code = Number(/AADSTS(\d+)/.exec(text)?.[1] ?? /Error\(s\):\s*(\d+)/.exec(text)?.[1] ?? NaN);
  const { tenant_id: tenantId, client_id: clientId } = facts.params;
  const issuer = ctx.workload.issuer;
  const app = `app registration ${clientId} in tenant ${tenantId}`;
  const ref = Number.isNaN(code) ? '' : ` (AADSTS${code})`;
  const trust = (message: string) =>
    new ProviderError('trust_misconfigured', ENTRA, `${message}${ref}`, { field: 'federated_credential' });

  switch (code) {
    case 700211:
      return trust(
        `${ENTRA} found no federated identity credential on ${app} with our issuer. Set the credential's Issuer to exactly "${issuer}" (no trailing slash).`,
      );
    case 700212:
      return trust(
        `${ENTRA} found no federated identity credential on ${app} with our audience. Set the credential's Audience to exactly "${AZURE_AUDIENCE}".`,
      );
    case 700213:
    case 7002137:
    case 7002138:
      return trust(
        `${ENTRA} found no federated identity credential on ${app} with our subject. Set the credential's Subject identifier to exactly "${facts.subject}" (matching is case-sensitive).`,
      );
    case 70021:
      return trust(
        `${ENTRA} found no federated identity credential on ${app} matching our token. The credential must have Issuer exactly "${issuer}", Subject identifier exactly "${facts.subject}" (case-sensitive) and Audience "${AZURE_AUDIENCE}".`,
      );
    case 700027:
      return trust(
        `${ENTRA} could not verify our token's signature with the keys published by the credential's issuer. Check that the Issuer is exactly "${issuer}" and that its discovery document is reachable from the internet.`,
      );
    case 700024:
      return new ProviderError(
        'internal',
        ENTRA,
        `${ENTRA} considers our subject token outside its validity window${ref}; check this server's clock.`,
      );
    case 700016:
      return new ProviderError(
        'credential_rejected',
        ENTRA,
        `${ENTRA} has no application with client id ${clientId} in tenant ${tenantId}${ref}. Check client_id (the app registration's "Application (client) ID") and tenant_id.`,
        { field: 'client_id' },
      );
    case 7000112:
      return new ProviderError(
        'credential_rejected',
        ENTRA,
        `The ${app} is disabled${ref}. Enable it, then check again.`,
      );
    case 90002:
      return tenantNotFound(tenantId, ref);
    case 90033:
      return new ProviderError(
        'upstream_unavailable',
        ENTRA,
        `${ENTRA} reported a transient error${ref}. Try again later.`,
      );
    default:
      break;
  }
  if (!Number.isNaN(code)) {
    return new ProviderError('credential_rejected', ENTRA, `${ENTRA} refused the token request for ${app}${ref}.`);
  }
  if (/endpoints_resolution_error/.test(text)) return diagnoseMetadata(ctx, authorityHost, tenantId);
  return new ProviderError(
    'upstream_unavailable',
    ENTRA,
    `Could not get a token from ${ENTRA}. Check the authority host configuration and network, then try again.`,
  );
}

function tenantNotFound(tenantId: string, ref: string): ProviderError {
  return new ProviderError(
    'credential_rejected',
    ENTRA,
    `${ENTRA} does not know tenant ${tenantId}${ref}. Check tenant_id (the "Directory (tenant) ID" of the app registration).`,
    { field: 'tenant_id' },
  );
}

/**
 * MSAL folds every failure to read the tenant's OIDC metadata (unreachable, untrusted certificate,
 * unknown tenant, 5xx) into one `endpoints_resolution_error`. Fetch the document ourselves, with
 * the same TLS trust, to say which it was.
 */
async function diagnoseMetadata(ctx: ProviderContext, authorityHost: string, tenantId: string): Promise<ProviderError> {
  let res: HttpResponse;
  try {
    res = await ctx.http.request(
      ENTRA,
      `${authorityHost}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`,
      {
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
    );
  } catch (error) {
    if (error instanceof ProviderError) return error;
    return new ProviderError(
      'upstream_unavailable',
      ENTRA,
      `Could not reach ${ENTRA}. Check the authority host configuration and network.`,
    );
  }
  const code = /AADSTS(\d+)/.exec(res.body)?.[1];
  if (code === '90002' || (res.status === 400 && /invalid_tenant/.test(res.body)))
    return tenantNotFound(tenantId, code ? ` (AADSTS${code})` : '');
  if (res.status >= 500) {
    return new ProviderError(
      'upstream_unavailable',
      ENTRA,
      `${ENTRA} is unavailable (HTTP ${res.status}). Try again later.`,
      { status: res.status },
    );
  }
  return new ProviderError(
    'upstream_unavailable',
    ENTRA,
    `${ENTRA} did not serve usable OpenID metadata for tenant ${tenantId} (HTTP ${res.status}). Check the authority host configuration and tenant_id.`,
    { status: res.status },
  );
}

// ───────────────────────────── ARM ─────────────────────────────

async function armGet(ctx: ProviderContext, token: string, url: string): Promise<HttpResponse> {
  return ctx.http.request(ARM, url, {
    headers: { authorization: `Bearer ${token}` },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

function armErrorFor(res: HttpResponse, now: Date, what: string): ProviderError {
  let code = '';
  try {
    const parsed = ArmErrorBody.safeParse(JSON.parse(res.body));
    if (parsed.success) code = parsed.data.error.code ?? '';
  } catch {
    // not JSON: keep the status only
  }
  const detail = `HTTP ${res.status}${code ? ` ${code}` : ''}`;
  const status = res.status;
  if (status === 401) {
    return new ProviderError(
      'credential_rejected',
      ARM,
      `${ARM} rejected the access token from ${ENTRA} while ${what} (${detail}).`,
      { status },
    );
  }
  if (status === 403) {
    return new ProviderError('permission_missing', ARM, `${ARM} denied ${what} (${detail}). ${READER_HINT}`, {
      status,
    });
  }
  if (status === 429) {
    const retry = retryAfterSeconds(res.headers, now);
    return new ProviderError(
      'rate_limited',
      ARM,
      `${ARM} is throttling requests (${detail}). Try again ${retry !== undefined ? `in ${retry} s` : 'in a minute'}.`,
      { status, ...(retry !== undefined ? { retryAfterSeconds: retry } : {}) },
    );
  }
  if (status >= 500)
    return new ProviderError('upstream_unavailable', ARM, `${ARM} is unavailable (${detail}). Try again later.`, {
      status,
    });
  return new ProviderError(
    'upstream_unavailable',
    ARM,
    `${ARM} answered unexpectedly while ${what} (${detail}). Check the ARM endpoint configuration.`,
    {
      status,
    },
  );
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

async function listSubscriptions(
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

async function subscriptionsToCheck(
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

async function checkPermissions(
  ctx: ProviderContext,
  token: string,
  subscriptionIds: string[],
): Promise<PermissionCheck[]> {
  if (subscriptionIds.length === 0) {
    // Nothing visible: report every required action as missing rather than an empty (vacuously passing) list.
    return REQUIRED_ACTIONS.map((permission) => ({ permission, required: true, granted: false }));
  }
  const perSubscription = await mapLimit(subscriptionIds, CONCURRENCY, (id) => permissionsOn(ctx, token, id));
  return subscriptionIds.flatMap((id, i) => {
    const entries = perSubscription[i] ?? [];
    const scope = `/subscriptions/${id}`;
    return [
      ...REQUIRED_ACTIONS.map((permission) => ({
        permission,
        required: true,
        granted: isActionAllowed(entries, permission),
        scope,
      })),
      ...OPTIONAL_ACTIONS.map((permission) => ({
        permission,
        required: false,
        granted: isActionAllowed(entries, permission),
        scope,
      })),
    ];
  });
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

// ───────────────────────────── helpers ─────────────────────────────

function describeMissing(missing: PermissionCheck[]): string {
  const byScope = new Map<string, string[]>();
  for (const m of missing) {
    const scope = m.scope ?? 'any subscription';
    byScope.set(scope, [...(byScope.get(scope) ?? []), m.permission]);
  }
  const parts = [...byScope.entries()].map(([scope, actions]) => `${actions.join(', ')} on ${scope}`);
  return `The service principal lacks ${parts.join('; ')}.`;
}

function subscriptionOfScope(scope: string | undefined): string | null {
  const m = scope ? /^\/subscriptions\/([^/]+)$/i.exec(scope) : null;
  return m?.[1] ?? null;
}

function readMetadata(link: StoredLink<null>): AzureLinkMetadata {
  const parsed = AzureLinkMetadata.safeParse(link.metadata);
  if (!parsed.success) {
    throw new ProviderError(
      'internal',
      ENTRA,
      'The stored Azure link is missing its tenant_id/client_id/object_id/subscription_ids metadata; reconnect it through the wizard.',
    );
  }
  return parsed.data;
}

function decodeJwtPayload(jwt: string): unknown {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
