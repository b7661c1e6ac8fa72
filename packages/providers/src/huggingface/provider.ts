import { type HuggingFaceSecret, ProviderError } from '@alphaswarm/contracts';
import { expiryState, inDays, rfc3339 } from '@alphaswarm/contracts/kinds';
import { definePatProvider } from '../shared/define';
import { guardSecrets, missingSecret } from '../shared/secrets';
import { clip } from '../shared/text';
import { warningStatus } from '../shared/warnings';
import type { HealthResult, LinkDraft, StoredLink, Warning } from '../types';
import { whoami } from './client';
import { huggingfaceDescriptor as descriptor } from './descriptor';
import { NEW_TOKEN_HINT, UPSTREAM } from './errors';
import type { HuggingFaceLinkMetadata, WhoAmIV2Response } from './schemas';

/** The steps of a Hugging Face link: validate, health, issue; the probe is whoami-v2. */
export const provider = definePatProvider<'huggingface', HuggingFaceSecret>(descriptor, {
  upstream: UPSTREAM,

  async validate(ctx, input): Promise<LinkDraft<HuggingFaceSecret>> {
    return guardSecrets([input.token], async () => {
      const who = await whoami(ctx, input.token);
      const a = assess(who, input.namespace, ctx.now());
      return {
        namespace: a.namespace,
        metadata: a.metadata,
        secret: { token: input.token },
        ...warningStatus(a.warnings),
        warnings: a.warnings,
        expires_at: a.expiresAt,
      };
    });
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const { token } = readSecret(link);
    return guardSecrets([token], async () => {
      const who = await whoami(ctx, token);
      const a = assess(who, link.namespace, ctx.now());
      return {
        ...warningStatus(a.warnings),
        metadata: a.metadata,
        expires_at: a.expiresAt,
      };
    });
  },

  async issueCredentials(_ctx, link) {
    const { token } = readSecret(link);
    return { kind: 'huggingface', token, namespace: link.namespace };
  },
});

function readSecret(link: StoredLink<HuggingFaceSecret>): HuggingFaceSecret {
  if (link.secret === null) throw missingSecret(UPSTREAM, NEW_TOKEN_HINT);
  return link.secret;
}

interface Assessment {
  namespace: string;
  metadata: HuggingFaceLinkMetadata;
  warnings: Warning[];
  expiresAt: string | null;
}

function assess(who: WhoAmIV2Response, requested: string | undefined, now: Date): Assessment {
  const owner = who.name;
  const orgs = who.orgs.map((o) => o.name);
  const namespace = requested ?? owner;
  if (namespace !== owner && !orgs.includes(namespace)) {
    throw new ProviderError(
      'namespace_denied',
      UPSTREAM,
      `The Hugging Face token belongs to "${owner}" and cannot act for namespace "${namespace}". It can reach: ${[owner, ...orgs].join(', ')}. Pick one of those, or use a token of a member of "${namespace}".`,
      { field: 'namespace' },
    );
  }
  const at = who.auth.accessToken;
  if (!at) {
    throw new ProviderError(
      'credential_rejected',
      UPSTREAM,
      `Hugging Face does not describe this credential as an access token (auth type "${clip(who.auth.type)}"). ${NEW_TOKEN_HINT}`,
      { field: 'token' },
    );
  }

  const expiresMs = at.expiration !== undefined ? Date.parse(at.expiration) : Number.NaN;
  const expiresAt = Number.isNaN(expiresMs) ? null : rfc3339(expiresMs);
  const expiry = expiryState(expiresAt, now);
  const fg = at.role === 'fineGrained' ? (at.fineGrained ?? { global: [], scoped: [] }) : undefined;

  const warnings: Warning[] = [];
  // Ordered by importance: the first one becomes the link's `error`.
  if (fg) {
    const reach = fg.scoped.filter((s) => s.entity.name === namespace && s.permissions.length > 0);
    if (reach.length === 0) {
      warnings.push({
        code: 'namespace_not_in_token_scope',
        message: `The fine-grained Hugging Face token "${at.displayName}" has no permissions on namespace "${namespace}", so the platform cannot read its repositories. Edit the token on Hugging Face (Settings → Access Tokens) and grant read access to "${namespace}".`,
      });
    }
  }
  if (expiry.state === 'expired') {
    warnings.push({
      code: 'token_expired',
      message: `The Hugging Face token "${at.displayName}" expired on ${expiresAt?.slice(0, 10)}. ${NEW_TOKEN_HINT}`,
    });
  } else if (expiry.state === 'expiring') {
    warnings.push({
      code: 'token_expiring',
      message: `The Hugging Face token "${at.displayName}" expires on ${expiresAt?.slice(0, 10)} (${inDays(expiry.daysLeft)}). Create a new fine-grained read token before then and reconnect this link.`,
    });
  }
  if (at.role === 'write') {
    warnings.push({
      code: 'token_over_privileged',
      message: `The Hugging Face token "${at.displayName}" has the classic write role, but the platform only needs read access. Replace it with a fine-grained read token scoped to "${namespace}".`,
    });
  } else if (fg) {
    const writes = [
      ...fg.scoped.flatMap((s) => s.permissions.filter(isWriteish).map((p) => `${s.entity.name}: ${p}`)),
      ...fg.global.filter(isWriteish).map((p) => `global: ${p}`),
    ];
    if (writes.length > 0) {
      const shown =
        writes.length > 8 ? `${writes.slice(0, 8).join(', ')} and ${writes.length - 8} more` : writes.join(', ');
      warnings.push({
        code: 'token_over_privileged',
        message: `The fine-grained Hugging Face token "${at.displayName}" grants write permissions the platform does not need (${shown}). Remove them on Hugging Face (Settings → Access Tokens); read access to "${namespace}" is enough.`,
      });
    }
  }

  const metadata: HuggingFaceLinkMetadata = {
    type: namespace === owner ? (who.type === 'org' ? 'org' : 'user') : 'org',
    auth_email: who.email ?? null,
    orgs,
    token_name: at.displayName,
    token_role: at.role,
    ...(fg
      ? {
          fine_grained: {
            scoped: fg.scoped.map((s) => ({ entity: s.entity.name, type: s.entity.type, permissions: s.permissions })),
            global: fg.global,
          },
        }
      : {}),
    ...(expiresAt !== null ? { expires_at: expiresAt } : {}),
  };
  return { namespace, metadata, warnings, expiresAt };
}

function isWriteish(permission: string): boolean {
  return permission === 'repo.write' || permission.endsWith('.write');
}
