import {
  type CloudflareSecret,
  type IdentityResult,
  type PermissionCheck,
  ProviderError,
  type Resource,
} from '@alphaswarm/contracts';
import { decodeJson } from '../http';
import { defineCloudProvider } from '../shared/define';
import { storedMetadata } from '../shared/errors';
import { optionalWarnings, requireGranted } from '../shared/permissions';
import { guardSecrets, missingSecret } from '../shared/secrets';
import { warningStatus } from '../shared/warnings';
import type { HealthResult, LinkDraft, StoredLink, Warning } from '../types';
import { cloudflareArtifacts, dashboardTokenUrl } from './artifacts';
import { cf, ok, paged, type TokenOwner, tokenDetails, verify } from './client';
import { cloudflareDescriptor as descriptor } from './descriptor';
import { cfDetail, errorFor, NEW_TOKEN_HINT, requiredList, UPSTREAM } from './errors';
import { expiryProblem, expiryWarning } from './lifetime';
import { broadness, grantedGroupNames, isGranted, PERMISSION_GROUPS, SELF_READ_GROUP } from './policies';
import { AccountsEnvelope, CloudflareLinkMetadata, RollEnvelope, ZonesEnvelope } from './schemas';

/** Cloudflare has no federation: the "audience" of this kind is the stored API token itself. */
export const CLOUDFLARE_AUDIENCE = 'cloudflare-api-token';
const MAX_ACCOUNTS = 200;
const MAX_ZONES = 500;

/** The wizard steps, health, issue and rotate of a Cloudflare link (a stored, scoped, expiring API token). */
export const provider = defineCloudProvider<'cloud_cloudflare', CloudflareSecret>(descriptor, {
  upstream: UPSTREAM,

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
    const { params } = wizard;
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
    const { params } = wizard;
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
    const { params } = wizard;
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
    const { params } = wizard;
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
          `Cloudflare refused to roll the token (${cfDetail(res)}): rolling in place needs "Account API Tokens Write" on the token. Either add it, or roll the token in the dashboard (${dashboardTokenUrl(meta.account_id)}) and reconnect with the new value.`,
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
});

function quoted(checks: readonly PermissionCheck[]): string {
  return checks.map((c) => `"${c.permission}"`).join(', ');
}

function selfReadMessage(accountId: string): string {
  return `Cloudflare would not let the token read its own policies. Add "${SELF_READ_GROUP.name}" for account ${accountId} to the token so the platform can check it is scoped to what it needs, then check again.`;
}

// ───────────────────────────── secret, metadata ─────────────────────────────

function readSecret(link: StoredLink<CloudflareSecret>): CloudflareSecret {
  if (link.secret === null) throw missingSecret(UPSTREAM, NEW_TOKEN_HINT);
  return link.secret;
}

function readMetadata(link: StoredLink<CloudflareSecret>): CloudflareLinkMetadata {
  return storedMetadata(
    CloudflareLinkMetadata,
    { account_id: link.namespace, ...link.metadata },
    UPSTREAM,
    'The stored Cloudflare link metadata is malformed; reconnect the link through the wizard.',
    'internal',
  );
}

function ownerOf(value: string | undefined): TokenOwner {
  return value === 'user' ? 'user' : 'account';
}

// ───────────────────────────── HTTP ─────────────────────────────

/** A value under 4 characters is no Cloudflare token; redacting it would only mangle the message. */
function guard<T>(token: string, fn: () => Promise<T>): Promise<T> {
  return guardSecrets([token], fn, { minLength: 4 });
}
