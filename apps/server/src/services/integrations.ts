import {
  type IntegrationKind,
  type IssuedCredentials,
  isProviderError,
  type PatKind,
  type PublicIntegration,
  REVOCATION_GUIDANCE,
} from '@alphaswarm/contracts';
import {
  deleteLink,
  getLink,
  type IntegrationRow,
  isoNow,
  isStorageFailure,
  listLinks,
  openSecret,
  recordHealth,
  replaceSecret,
  SECRET_UNREADABLE_ERROR,
  sealSecret,
  toPublic,
  upsertLink,
} from '@alphaswarm/db';
import { type HealthResult, type LinkDraft, patProvider, providerFor, type StoredLink } from '@alphaswarm/providers';
import { AppError, toAppError, wireCode } from '../errors';
import { providerContext, type Runtime } from '../runtime';

export const EXPIRY_WARNING_DAYS = 14;
/** Upstream faults that say nothing about the credential itself. */
const TRANSIENT_CODES: string[] = ['upstream_unavailable', 'upstream_timeout', 'rate_limited'];

function notFound(orgId: string, kind: IntegrationKind): AppError {
  return new AppError('not_found', `No ${kind} integration exists for org ${orgId}.`);
}

export async function listIntegrations(rt: Runtime, orgId: string): Promise<PublicIntegration[]> {
  return (await listLinks(rt.store.db, orgId)).map(toPublic);
}

export async function getIntegration(rt: Runtime, orgId: string, kind: IntegrationKind): Promise<PublicIntegration> {
  const row = await getLink(rt.store.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  return toPublic(row);
}

/**
 * A credential close to expiry works but needs attention: degrade it with a dated message.
 * One rule for every kind (HF token expiry, Docker Hub PATs, Cloudflare expires_on).
 */
export function applyExpiryRule<T extends { status: string; error: { code: string; message: string } | null }>(
  result: T,
  expiresAt: string | null,
  upstream: string,
  now: Date,
): T {
  if (!expiresAt) return result;
  const ms = Date.parse(expiresAt) - now.getTime();
  // An upstream verdict (e.g. the token was revoked) says more than our dated guess.
  if (Number.isNaN(ms) || ms > EXPIRY_WARNING_DAYS * 86_400_000 || result.status === 'unhealthy') return result;
  if (ms <= 0) {
    return {
      ...result,
      status: 'unhealthy',
      error: {
        code: 'credential_expired',
        message: `The ${upstream} credential expired at ${expiresAt}. Create a new one and reconnect.`,
      },
    };
  }
  if (result.status !== 'healthy') return result;
  const days = Math.ceil(ms / 86_400_000);
  return {
    ...result,
    status: 'degraded',
    error: {
      code: 'expiring_soon',
      message: `The ${upstream} credential expires at ${expiresAt} (in ${days} day${days === 1 ? '' : 's'}). Create a new one and reconnect before then.`,
    },
  };
}

/** Store a validated draft: the secret sealed with the keyring's first key, replacing any old link in place. */
export async function storeDraft(
  rt: Runtime,
  orgId: string,
  kind: IntegrationKind,
  draft: LinkDraft,
  upstream: string,
): Promise<PublicIntegration> {
  const checked = applyExpiryRule({ status: draft.status, error: draft.error }, draft.expires_at, upstream, rt.now());
  const row = await upsertLink(
    rt.store.db,
    {
      orgId,
      kind,
      namespace: draft.namespace,
      status: checked.status as 'healthy' | 'degraded' | 'unhealthy',
      error: checked.error,
      metadata: draft.metadata,
      secret: draft.secret === null ? null : sealSecret(rt.keyring, draft.secret),
      expiresAt: draft.expires_at,
    },
    isoNow(rt.now()),
  );
  return toPublic(row);
}

export async function connectPat(
  rt: Runtime,
  kind: PatKind,
  orgId: string,
  input: unknown,
): Promise<PublicIntegration> {
  const provider = patProvider(kind);
  const parsed = provider.connectInputSchema.safeParse(input);
  if (!parsed.success)
    throw new AppError(
      'invalid_request',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  const draft = await provider.validate(providerContext(rt), parsed.data);
  return storeDraft(rt, orgId, kind, draft, provider.upstream);
}

export async function disconnect(rt: Runtime, orgId: string, kind: IntegrationKind) {
  const row = await deleteLink(rt.store.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  return { credential_key: row.credentialKey, revocation_guidance: REVOCATION_GUIDANCE[kind] };
}

/** Decrypt the stored secret; a link the keyring cannot read is marked needs_reconnect. */
async function unseal(rt: Runtime, row: IntegrationRow): Promise<StoredLink> {
  const provider = providerFor(row.kind as IntegrationKind);
  let secret: unknown = null;
  if (row.secret !== null) {
    try {
      secret = openSecret(rt.keyring, row.secret);
    } catch {
      await recordHealth(
        rt.store.db,
        row.credentialKey,
        {
          status: 'needs_reconnect',
          error: { ...SECRET_UNREADABLE_ERROR },
          metadata: row.metadata,
          expiresAt: row.expiresAt,
        },
        isoNow(rt.now()),
      );
      throw new AppError(
        'secret_unreadable',
        `The stored ${provider.upstream} secret for ${row.credentialKey} cannot be decrypted; reconnect it.`,
      );
    }
    if (provider.secretSchema) secret = provider.secretSchema.parse(secret);
  } else if (provider.secretSchema) {
    throw new AppError('secret_unreadable', `${row.credentialKey} has no stored secret; reconnect it.`);
  }
  return {
    org_id: row.orgId,
    kind: row.kind as IntegrationKind,
    namespace: row.namespace,
    metadata: row.metadata,
    secret,
  };
}

/**
 * Re-run the kind's probe and record the verdict. A transient upstream fault (timeout, 5xx,
 * rate limit) degrades the link instead of condemning it; a rejected credential is unhealthy.
 */
export async function checkHealth(
  rt: Runtime,
  orgId: string,
  kind: IntegrationKind,
  signal?: AbortSignal,
): Promise<PublicIntegration> {
  const row = await getLink(rt.store.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  return toPublic((await probeAndRecord(rt, row, signal)).row);
}

export interface ProbeOutcome {
  row: IntegrationRow;
  /** Set when the upstream asked us to slow down (429 Retry-After), in seconds. */
  retryAfterSeconds?: number;
}

export async function probeAndRecord(rt: Runtime, row: IntegrationRow, signal?: AbortSignal): Promise<ProbeOutcome> {
  const provider = providerFor(row.kind as IntegrationKind);
  let link: StoredLink;
  try {
    link = await unseal(rt, row);
  } catch (error) {
    if (error instanceof AppError && error.code === 'secret_unreadable') {
      return { row: (await getLink(rt.store.db, row.orgId, row.kind as IntegrationKind)) ?? row };
    }
    throw error;
  }
  let result: HealthResult;
  let retryAfterSeconds: number | undefined;
  try {
    result = await provider.checkHealth(providerContext(rt, signal), link);
  } catch (error) {
    // A probe cut short by a stopping sweep says nothing about the link: record no verdict.
    if (signal?.aborted) throw error;
    const app = toAppError(error);
    if (isProviderError(error) && error.code === 'rate_limited')
      retryAfterSeconds = error.details.retryAfterSeconds ?? 60;
    // The upstream's verdict on the credential condemns the link; a passing fault only degrades it.
    const rejected = isProviderError(error) && !TRANSIENT_CODES.includes(error.code);
    if (!isProviderError(error)) {
      rt.logger.error({ error_name: (error as Error).name, credential_key: row.credentialKey }, 'health probe crashed');
    }
    result = {
      status: rejected ? 'unhealthy' : 'degraded',
      error: { code: wireCode(app), message: app.message.slice(0, 2000) },
      expires_at: row.expiresAt,
    };
  }
  const checked = applyExpiryRule(result, result.expires_at, provider.upstream, rt.now());
  const updated = await recordHealth(
    rt.store.db,
    row.credentialKey,
    {
      status: checked.status,
      error: checked.error,
      metadata: result.metadata ? { ...row.metadata, ...result.metadata } : row.metadata,
      expiresAt: result.expires_at,
    },
    isoNow(rt.now()),
  );
  return { row: updated ?? row, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
}

export async function issueCredentials(rt: Runtime, orgId: string, kind: IntegrationKind): Promise<IssuedCredentials> {
  const row = await getLink(rt.store.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  if (row.status === 'needs_reconnect') {
    throw new AppError(
      'secret_unreadable',
      `${row.credentialKey} needs to be reconnected before credentials can be issued.`,
    );
  }
  const link = await unseal(rt, row);
  return providerFor(kind).issueCredentials(providerContext(rt), link);
}

/**
 * Roll the upstream secret (Cloudflare). The old value dies upstream at once, so the new one is
 * stored before this returns; a concurrent change to the row is reported, never overwritten.
 */
export async function rotateSecret(rt: Runtime, orgId: string, kind: IntegrationKind): Promise<PublicIntegration> {
  const provider = providerFor(kind);
  if (!provider.rotateSecret)
    throw new AppError(
      'invalid_request',
      `${provider.upstream} links cannot be rotated through the API; reconnect with a new credential.`,
    );
  const row = await getLink(rt.store.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  const link = await unseal(rt, row);
  const rolled = await provider.rotateSecret(providerContext(rt), link as never);
  const sealed = sealSecret(rt.keyring, rolled.secret);
  let ok: boolean;
  try {
    ok = await replaceSecret(
      rt.store.db,
      row.credentialKey,
      row.secret,
      sealed,
      { expiresAt: rolled.expires_at },
      isoNow(rt.now()),
    );
  } catch (error) {
    if (!isStorageFailure(error)) throw error;
    rt.logger.error(
      { credential_key: row.credentialKey },
      'rotated secret could not be stored: the database refused the write',
    );
    throw new AppError(
      'storage_unavailable',
      `${provider.upstream} rolled the token, but the database could not store the new value (disk full or read-only?), so the stored one no longer works. Reconnect ${row.credentialKey} once the database takes writes again.`,
    );
  }
  if (!ok) {
    rt.logger.error(
      { credential_key: row.credentialKey },
      'rotated secret could not be stored: the link changed concurrently',
    );
    throw new AppError(
      'conflict',
      `${row.credentialKey} changed while it was being rotated; the new ${provider.upstream} token was not stored. Reconnect it.`,
    );
  }
  return toPublic((await getLink(rt.store.db, orgId, kind)) ?? row);
}
