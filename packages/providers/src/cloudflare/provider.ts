import {
  CloudflareIdentityParams,
  CloudflareSecret,
  type IdentityParams,
  type IdentityResult,
  type PermissionCheck,
  ProviderError,
  type Resource,
} from '@alphaswarm/contracts';
import type { z } from 'zod';
import { decodeJson, type HttpRequest, type HttpResponse, retryAfterSeconds } from '../http';
import { optionalWarnings, requireGranted } from '../shared/permissions';
import { guardSecrets, readStoredSecret } from '../shared/secrets';
import { warningStatus } from '../shared/warnings';
import type { CloudProvider, HealthResult, LinkDraft, ProviderContext, StoredLink, Warning } from '../types';
import { cloudflareArtifacts, dashboardTokenUrl, templateExpiry } from './artifacts';
import { broadness, grantedGroupNames, isGranted, PERMISSION_GROUPS, SELF_READ_GROUP } from './policies';
import {
  AccountsEnvelope,
  CfErrorEnvelope,
  CloudflareLinkMetadata,
  RollEnvelope,
  type TokenDetails,
  TokenDetailsEnvelope,
  VerifyEnvelope,
  type VerifyResult,
  ZonesEnvelope,
} from './schemas';

const UPSTREAM = 'Cloudflare';
/** Cloudflare has no federation: the "audience" of this kind is the stored API token itself. */
export const CLOUDFLARE_AUDIENCE = 'cloudflare-api-token';
const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;
const PER_PAGE = 50;
const MAX_PAGES = 20;
const MAX_ACCOUNTS = 200;
const MAX_ZONES = 500;

type Params = IdentityParams['cloud_cloudflare'];
type TokenOwner = 'account' | 'user';

export const cloudflareProvider: CloudProvider<'cloud_cloudflare', CloudflareSecret> = {
  kind: 'cloud_cloudflare',
  family: 'cloud',
  upstream: UPSTREAM,
  paramsSchema: CloudflareIdentityParams,
  secretSchema: CloudflareSecret,

  audience: () => CLOUDFLARE_AUDIENCE,

  async bootstrapArtifacts(ctx, wizard) {
    const accountId = wizard.params?.account_id ?? null;
    return {
      audience: CLOUDFLARE_AUDIENCE,
      artifacts: cloudflareArtifacts({
        org_id: wizard.org_id,
        account_id: accountId,
        now: ctx.now(),
        maxTtlDays: ctx.upstreams.cloudflare.maxTtlDays,
      }),
      links: [
        { label: 'Cloudflare dashboard: create an account API token', url: dashboardTokenUrl(accountId) },
        {
          label: 'Cloudflare API token permissions (docs)',
          url: 'https://developers.cloudflare.com/fundamentals/api/reference/permissions/',
        },
      ],
    };
  },

  async validateIdentity(ctx, wizard): Promise<IdentityResult> {
    const params = readParams(wizard.params);
    return guard(params.api_token, async () => {
      const { result, owner } = await verify(ctx, params.account_id, params.api_token);
      const problem = expiryProblem(result, ctx.now(), ctx.upstreams.cloudflare.maxTtlDays);
      if (problem) throw new ProviderError(problem.code, UPSTREAM, problem.message, { field: 'api_token' });
      return {
        principal: result.id,
        details: {
          status: result.status,
          expires_on: result.expires_on ?? '',
          account_id: params.account_id,
          token_owner: owner,
        },
      };
    });
  },

  async validatePermissions(ctx, wizard): Promise<PermissionCheck[]> {
    const params = readParams(wizard.params);
    return guard(params.api_token, async () => {
      const details = await tokenDetails(
        ctx,
        params,
        wizard.identity.principal,
        ownerOf(wizard.identity.details.token_owner),
      );
      const scope = `com.cloudflare.api.account.${params.account_id}`;
      if (!details) {
        // Without reading the token's policies nothing else can be shown to be granted.
        return PERMISSION_GROUPS.map((g) => ({ permission: g.name, required: g.required, granted: false, scope }));
      }
      const issues = broadness(details.policies, params.account_id);
      if (issues.length > 0 && !params.accept_broad_token) {
        throw new ProviderError(
          'invalid_request',
          UPSTREAM,
          `The Cloudflare API token is broader than the platform needs: ${issues.join('; ')}. Create a token with only ${requiredList()} on this account, or set accept_broad_token to link it anyway (the link will be marked degraded).`,
          { field: 'api_token' },
        );
      }
      return PERMISSION_GROUPS.map((g) => ({
        permission: g.name,
        required: g.required,
        // Having read the policies is the proof of the self-read group, whatever its resource form.
        granted: g === SELF_READ_GROUP || isGranted(details.policies, g, params.account_id),
        scope,
      }));
    });
  },

  async enumerateResources(ctx, wizard) {
    const params = readParams(wizard.params);
    return guard(params.api_token, async () => {
      const accounts = await paged(
        ctx,
        params.api_token,
        '/accounts',
        {},
        AccountsEnvelope,
        MAX_ACCOUNTS,
        'listing accounts',
      );
      const zones = await paged(
        ctx,
        params.api_token,
        '/zones',
        { 'account.id': params.account_id },
        ZonesEnvelope,
        MAX_ZONES,
        'listing zones',
      );
      const resources: Resource[] = [
        ...accounts.items.map((a) => ({ type: 'cloudflare_account', id: a.id, name: a.name || a.id })),
        ...zones.items.map((z) => ({
          type: 'cloudflare_zone',
          id: z.id,
          name: z.name,
          details: { status: z.status ?? 'unknown', account_id: z.account?.id ?? params.account_id },
        })),
      ];
      return { resources, truncated: accounts.truncated || zones.truncated };
    });
  },

  async toLink(ctx, wizard, permissions): Promise<LinkDraft<CloudflareSecret>> {
    const params = readParams(wizard.params);
    return guard(params.api_token, async () => {
      requireGranted(
        permissions,
        UPSTREAM,
        (missing) =>
          `The Cloudflare API token lacks ${quoted(missing)} on account ${params.account_id}. Edit the token's permissions (or create a new one with ${requiredList()}) and check again.`,
      );
      const owner = ownerOf(wizard.identity.details.token_owner);
      const tokenId = wizard.identity.principal;
      const details = await tokenDetails(ctx, params, tokenId, owner);
      if (!details) {
        throw new ProviderError('permission_missing', UPSTREAM, selfReadMessage(params.account_id));
      }
      const now = ctx.now();
      const expiresOn = details.expires_on || wizard.identity.details.expires_on || null;
      const problem = expiryProblem(
        { status: details.status, expires_on: expiresOn },
        now,
        ctx.upstreams.cloudflare.maxTtlDays,
      );
      if (problem) throw new ProviderError(problem.code, UPSTREAM, problem.message, { field: 'api_token' });

      const warnings: Warning[] = [];
      const issues = broadness(details.policies, params.account_id);
      if (issues.length > 0) {
        // Only reachable with accept_broad_token: validatePermissions refuses otherwise.
        if (!params.accept_broad_token) {
          throw new ProviderError(
            'invalid_request',
            UPSTREAM,
            `The Cloudflare API token is broader than the platform needs: ${issues.join('; ')}.`,
            {
              field: 'api_token',
            },
          );
        }
        warnings.push({
          code: 'token_too_broad',
          message: `The Cloudflare API token was accepted although it is broader than needed: ${issues.join('; ')}. Replace it with a token limited to ${requiredList()} on this account.`,
        });
      }
      const expiring = expiryWarning(expiresOn, now);
      if (expiring) warnings.push(expiring);
      warnings.push(
        ...optionalWarnings(
          permissions,
          (missing) =>
            `The Cloudflare API token lacks the optional ${quoted(missing)}; the platform skips what needs them.`,
        ),
      );
      const metadata: CloudflareLinkMetadata = {
        account_id: params.account_id,
        token_id: tokenId,
        expires_on: expiresOn,
        permission_groups: grantedGroupNames(details.policies),
        token_owner: owner,
      };
      // An optional group alone does not make a link need attention; breadth and expiry do.
      const attention = warnings.filter((w) => w.code !== 'permission_missing');
      return {
        namespace: params.account_id,
        metadata,
        secret: { api_token: params.api_token, token_id: tokenId },
        ...warningStatus(attention),
        warnings,
        expires_at: expiresOn,
      };
    });
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const secret = readSecret(link);
    const meta = readMetadata(link);
    return guard(secret.api_token, async () => {
      const { result } = await verify(ctx, meta.account_id, secret.api_token);
      const now = ctx.now();
      const expiresOn = result.expires_on ?? null;
      const metadata = { ...meta, expires_on: expiresOn };
      if (result.id !== secret.token_id) {
        return {
          status: 'unhealthy',
          error: {
            code: 'credential_rejected',
            message: `The stored Cloudflare API token now identifies as token ${result.id}, not ${secret.token_id}; reconnect the link.`,
          },
          metadata,
          expires_at: expiresOn,
        };
      }
      const problem = expiryProblem(result, now, ctx.upstreams.cloudflare.maxTtlDays);
      if (problem?.code === 'credential_rejected') {
        return {
          status: 'unhealthy',
          error: { code: problem.code, message: problem.message },
          metadata,
          expires_at: expiresOn,
        };
      }
      if (problem) {
        // Someone removed or extended the expiry after linking: it still works, but breaks our policy.
        return {
          status: 'degraded',
          error: { code: 'token_policy', message: problem.message },
          metadata,
          expires_at: expiresOn,
        };
      }
      const expiring = expiryWarning(expiresOn, now);
      return {
        status: expiring ? 'degraded' : 'healthy',
        error: expiring ? { code: expiring.code, message: expiring.message } : null,
        metadata,
        expires_at: expiresOn,
      };
    });
  },

  async issueCredentials(ctx, link) {
    const secret = readSecret(link);
    const meta = readMetadata(link);
    if (meta.expires_on && Date.parse(meta.expires_on) <= ctx.now().getTime()) {
      throw new ProviderError(
        'credential_rejected',
        UPSTREAM,
        `The stored Cloudflare API token expired on ${meta.expires_on}. ${NEW_TOKEN_HINT}`,
      );
    }
    return {
      kind: 'cloud_cloudflare',
      api_token: secret.api_token,
      account_id: meta.account_id,
      expires_at: meta.expires_on,
    };
  },

  async rotateSecret(ctx, link) {
    const secret = readSecret(link);
    const meta = readMetadata(link);
    return guard(secret.api_token, async () => {
      const path =
        meta.token_owner === 'user'
          ? `/user/tokens/${encodeURIComponent(secret.token_id)}/value`
          : `/accounts/${encodeURIComponent(meta.account_id)}/tokens/${encodeURIComponent(secret.token_id)}/value`;
      const res = await cf(ctx, secret.api_token, path, { method: 'PUT', json: {} });
      if (res.status === 403) {
        throw new ProviderError(
          'permission_missing',
          UPSTREAM,
          `Cloudflare refused to roll the token${codesOf(res)}: rolling in place needs "Account API Tokens Write" on the token. Either add it, or roll the token in the dashboard (${dashboardTokenUrl(meta.account_id)}) and reconnect with the new value.`,
          { status: 403 },
        );
      }
      if (!ok(res)) throw errorFor(res, ctx.now(), 'rolling the token');
      const rolled = decodeJson(UPSTREAM, res, RollEnvelope, { what: 'the token roll' });
      const fresh = rolled.result;
      if (/[^\x21-\x7e]/.test(fresh)) {
        throw new ProviderError(
          'upstream_unavailable',
          UPSTREAM,
          'Cloudflare returned a rolled token value that is not a printable token.',
        );
      }
      // The old value is already dead: whatever happens next, the caller must persist the new one.
      let expiresAt = meta.expires_on;
      try {
        const { result } = await verify(ctx, meta.account_id, fresh);
        expiresAt = result.expires_on ?? null;
      } catch {
        // keep the expiry we knew; the next health check re-reads it
      }
      return { secret: { api_token: fresh, token_id: secret.token_id }, expires_at: expiresAt };
    });
  },
};

const NEW_TOKEN_HINT = 'Create a new account API token in the Cloudflare dashboard and reconnect with it.';

function requiredList(): string {
  return PERMISSION_GROUPS.filter((g) => g.required)
    .map((g) => `"${g.name}"`)
    .join(', ');
}

function quoted(checks: readonly PermissionCheck[]): string {
  return checks.map((c) => `"${c.permission}"`).join(', ');
}

function selfReadMessage(accountId: string): string {
  return `Cloudflare would not let the token read its own policies. Add "${SELF_READ_GROUP.name}" for account ${accountId} to the token so the platform can check it is scoped to what it needs, then check again.`;
}

// ───────────────────────────── input, secret, metadata ─────────────────────────────

function readParams(raw: unknown): Params {
  const parsed = CloudflareIdentityParams.safeParse(raw);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') || undefined;
    throw new ProviderError(
      'invalid_request',
      UPSTREAM,
      `Invalid Cloudflare parameters${field ? ` (${field}: ${parsed.error.issues[0]?.message})` : ''}.`,
      field ? { field } : {},
    );
  }
  assertHeaderSafe(parsed.data.api_token);
  return parsed.data;
}

function assertHeaderSafe(token: string): void {
  // The token goes into a header: refuse rather than silently trim a paste that picked up a line break.
  if (/[^\x21-\x7e]/.test(token)) {
    throw new ProviderError(
      'invalid_request',
      UPSTREAM,
      'The Cloudflare API token contains spaces, line breaks or non-ASCII characters; paste it again exactly as shown.',
      { field: 'api_token' },
    );
  }
}

function readSecret(link: StoredLink<CloudflareSecret>): CloudflareSecret {
  return readStoredSecret(CloudflareSecret, link.secret, UPSTREAM, NEW_TOKEN_HINT);
}

function readMetadata(link: StoredLink<CloudflareSecret>): CloudflareLinkMetadata {
  const parsed = CloudflareLinkMetadata.safeParse({ account_id: link.namespace, ...link.metadata });
  if (!parsed.success) {
    throw new ProviderError(
      'internal',
      UPSTREAM,
      'The stored Cloudflare link metadata is malformed; reconnect the link through the wizard.',
    );
  }
  return parsed.data;
}

function ownerOf(value: string | undefined): TokenOwner {
  return value === 'user' ? 'user' : 'account';
}

// ───────────────────────────── expiry policy ─────────────────────────────

function day(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * Our rules for a token we store: active, not yet expired, and expiring no later than
 * now + maxTtlDays. Returns what to change, or null when the token is acceptable.
 */
function expiryProblem(
  token: Pick<VerifyResult, 'status' | 'expires_on'> & { not_before?: string | null },
  now: Date,
  maxTtlDays: number,
): { code: 'credential_rejected' | 'invalid_request'; message: string } | null {
  if (token.status !== 'active') {
    return {
      code: 'credential_rejected',
      message: `The Cloudflare API token is ${token.status}. ${token.status === 'disabled' ? 'Re-enable it in the dashboard, or create' : 'Create'} a new account API token and connect with it.`,
    };
  }
  const latest = templateExpiry(now, maxTtlDays);
  if (!token.expires_on) {
    return {
      code: 'invalid_request',
      message: `The Cloudflare API token has no expiry. Set its TTL end date to ${day(latest)} or earlier (at most ${maxTtlDays} days ahead), or create a new token with one, then check again.`,
    };
  }
  const expires = Date.parse(token.expires_on);
  if (expires <= now.getTime()) {
    return {
      code: 'credential_rejected',
      message: `The Cloudflare API token expired on ${token.expires_on}. ${NEW_TOKEN_HINT}`,
    };
  }
  if (expires > now.getTime() + maxTtlDays * DAY_MS) {
    return {
      code: 'invalid_request',
      message: `The Cloudflare API token expires on ${day(token.expires_on)}, more than ${maxTtlDays} days ahead. Set its TTL end date to ${day(latest)} or earlier, then check again.`,
    };
  }
  if (token.not_before && Date.parse(token.not_before) > now.getTime()) {
    return {
      code: 'credential_rejected',
      message: `The Cloudflare API token is not valid before ${token.not_before}. Remove the start date or wait until then.`,
    };
  }
  return null;
}

function expiryWarning(expiresOn: string | null, now: Date): Warning | null {
  if (!expiresOn) return null;
  const left = Date.parse(expiresOn) - now.getTime();
  if (left > EXPIRY_WARNING_DAYS * DAY_MS) return null;
  const days = Math.max(0, Math.floor(left / DAY_MS));
  return {
    code: 'credential_expiring',
    message: `The Cloudflare API token expires on ${day(expiresOn)} (in ${days} day${days === 1 ? '' : 's'}). Rotate it, or create a new token and reconnect before then.`,
  };
}

// ───────────────────────────── HTTP ─────────────────────────────

async function cf(ctx: ProviderContext, token: string, path: string, req: HttpRequest = {}): Promise<HttpResponse> {
  const base = ctx.upstreams.cloudflare.apiUrl.replace(/\/+$/, '');
  return ctx.http.request(UPSTREAM, `${base}${path}`, {
    ...req,
    headers: { ...req.headers, authorization: `Bearer ${token}` },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

function ok(res: HttpResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

function errorCodes(res: HttpResponse): number[] {
  try {
    const parsed = CfErrorEnvelope.safeParse(JSON.parse(res.body));
    if (!parsed.success) return [];
    return parsed.data.errors.flatMap((e) => [e.code, ...(e.error_chain ?? []).map((c) => c.code)]);
  } catch {
    return [];
  }
}

function codesOf(res: HttpResponse): string {
  const codes = errorCodes(res);
  return codes.length > 0 ? ` (HTTP ${res.status}, code ${codes.join('/')})` : ` (HTTP ${res.status})`;
}

function errorFor(res: HttpResponse, now: Date, what: string): ProviderError {
  const codes = errorCodes(res);
  const status = res.status;
  const detail = codesOf(res);
  if (codes.includes(6003) || codes.includes(6111)) {
    return new ProviderError(
      'invalid_request',
      UPSTREAM,
      `Cloudflare could not read the API token from the Authorization header${detail}. Paste the token value exactly as the dashboard showed it.`,
      { status, field: 'api_token' },
    );
  }
  if (codes.includes(1000) || status === 401) {
    return new ProviderError(
      'credential_rejected',
      UPSTREAM,
      `Cloudflare does not accept the API token${detail}. Check it was copied whole and has not been deleted or rolled; otherwise ${NEW_TOKEN_HINT.charAt(0).toLowerCase()}${NEW_TOKEN_HINT.slice(1)}`,
      { status },
    );
  }
  if (status === 403) {
    return new ProviderError(
      'permission_missing',
      UPSTREAM,
      `Cloudflare denied ${what}${detail}. Give the token ${requiredList()} on this account.`,
      { status },
    );
  }
  if (status === 429) {
    const retry = retryAfterSeconds(res.headers, now);
    return new ProviderError(
      'rate_limited',
      UPSTREAM,
      `Cloudflare is rate-limiting requests${detail}. Try again ${retry !== undefined ? `in ${retry} s` : 'in a minute'}.`,
      { status, ...(retry !== undefined ? { retryAfterSeconds: retry } : {}) },
    );
  }
  if (status >= 500)
    return new ProviderError('upstream_unavailable', UPSTREAM, `Cloudflare is unavailable${detail}. Try again later.`, {
      status,
    });
  return new ProviderError(
    'upstream_unavailable',
    UPSTREAM,
    `Cloudflare answered unexpectedly while ${what}${detail}. Check the Cloudflare API URL configuration.`,
    { status },
  );
}

/**
 * Verify on the account route (account-owned tokens); a user-owned token answers 1000 or 404
 * there, so fall back to the user route.
 */
async function verify(
  ctx: ProviderContext,
  accountId: string,
  token: string,
): Promise<{ result: VerifyResult; owner: TokenOwner }> {
  const res = await cf(ctx, token, `/accounts/${encodeURIComponent(accountId)}/tokens/verify`);
  if (ok(res))
    return { result: decodeJson(UPSTREAM, res, VerifyEnvelope, { what: 'token verify' }).result, owner: 'account' };
  if (res.status === 404 || errorCodes(res).includes(1000)) {
    const user = await cf(ctx, token, '/user/tokens/verify');
    if (ok(user))
      return { result: decodeJson(UPSTREAM, user, VerifyEnvelope, { what: 'token verify' }).result, owner: 'user' };
    throw errorFor(user, ctx.now(), 'verifying the token');
  }
  throw errorFor(res, ctx.now(), 'verifying the token');
}

/** The token's own record with its policies; null when the token may not read it. */
async function tokenDetails(
  ctx: ProviderContext,
  params: Params,
  tokenId: string,
  owner: TokenOwner,
): Promise<TokenDetails | null> {
  const path =
    owner === 'user'
      ? `/user/tokens/${encodeURIComponent(tokenId)}`
      : `/accounts/${encodeURIComponent(params.account_id)}/tokens/${encodeURIComponent(tokenId)}`;
  const res = await cf(ctx, params.api_token, path);
  if (res.status === 403) return null;
  if (!ok(res)) throw errorFor(res, ctx.now(), "reading the token's policies");
  return decodeJson(UPSTREAM, res, TokenDetailsEnvelope, { what: 'the token details' }).result;
}

/** Page through a list until `page * per_page >= total_count`, an empty page, or the cap. */
async function paged<T>(
  ctx: ProviderContext,
  token: string,
  path: string,
  query: Record<string, string>,
  schema: z.ZodType<{
    result: T[];
    result_info?: { page: number; per_page: number; total_count?: number | undefined } | undefined;
  }>,
  cap: number,
  what: string,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const qs = new URLSearchParams({ ...query, page: String(page), per_page: String(PER_PAGE) });
    const res = await cf(ctx, token, `${path}?${qs}`);
    if (!ok(res)) throw errorFor(res, ctx.now(), what);
    const body = decodeJson(UPSTREAM, res, schema, { what });
    for (const item of body.result) {
      if (items.length >= cap) return { items, truncated: true };
      items.push(item);
    }
    const info = body.result_info;
    if (!info || info.total_count === undefined || body.result.length === 0) return { items, truncated: false };
    if (info.page * info.per_page >= info.total_count) return { items, truncated: false };
  }
  return { items, truncated: true };
}

/** A value under 4 characters is no Cloudflare token; redacting it would only mangle the message. */
function guard<T>(token: string, fn: () => Promise<T>): Promise<T> {
  return guardSecrets([token], fn, { minLength: 4 });
}
