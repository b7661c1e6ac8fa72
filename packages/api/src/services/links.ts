import type { IntegrationKind, PublicIntegration } from '@alphaswarm/contracts';
import {
  getLink,
  type IntegrationRow,
  isoNow,
  openSecret,
  recordHealth,
  SECRET_UNREADABLE_ERROR,
  sealSecret,
  toPublic,
  upsertLink,
} from '@alphaswarm/db';
import { descriptorFor, type LinkDraft, type StoredLink } from '@alphaswarm/providers';
import type { ApiDeps } from '../deps';
import { AppError } from '../errors';
import { recordVerdict } from './awareness';
import { applyExpiryRule } from './expiry';

type Deps = Pick<ApiDeps, 'db' | 'keyring' | 'now'>;
type StoreDeps = Deps & Pick<ApiDeps, 'logger' | 'config' | 'auditKeys'>;

export function notFound(orgId: string, kind: IntegrationKind): AppError {
  return new AppError('not_found', `No ${kind} integration exists for org ${orgId}.`);
}

/** Store a validated draft: the secret sealed with the keyring's first key, replacing any old link in place. */
export async function storeDraft(
  deps: StoreDeps,
  orgId: string,
  kind: IntegrationKind,
  draft: LinkDraft,
  latencyMs = 0,
): Promise<PublicIntegration> {
  const { label } = descriptorFor(kind);
  const before = (await getLink(deps.db, orgId, kind)) ?? null;
  const checked = applyExpiryRule({ status: draft.status, error: draft.error }, draft.expires_at, label, deps.now());
  const row = await upsertLink(
    deps.db,
    {
      orgId,
      kind,
      namespace: draft.namespace,
      status: checked.status as 'healthy' | 'degraded' | 'unhealthy',
      error: checked.error,
      metadata: draft.metadata,
      secret: draft.secret === null ? null : sealSecret(deps.keyring, draft.secret),
      expiresAt: draft.expires_at,
    },
    isoNow(deps.now()),
  );
  await recordVerdict(deps, before, row, { source: 'connect', latencyMs });
  return toPublic(row);
}

/**
 * Decrypt the stored secret and parse it with the kind's secret schema, once: providers take it
 * typed. A link the keyring cannot read is marked needs_reconnect.
 */
export async function unseal(deps: Deps, row: IntegrationRow): Promise<StoredLink> {
  const kind = row.kind as IntegrationKind;
  const { label, secretSchema } = descriptorFor(kind);
  const link = { org_id: row.orgId, kind, namespace: row.namespace, metadata: row.metadata };
  if (secretSchema === null) return { ...link, secret: null };
  if (row.secret === null) {
    throw new AppError('secret_unreadable', `${row.credentialKey} has no stored secret; reconnect it.`);
  }
  let plaintext: unknown;
  try {
    plaintext = openSecret(deps.keyring, row.secret);
  } catch {
    await recordHealth(
      deps.db,
      row.credentialKey,
      {
        status: 'needs_reconnect',
        error: { ...SECRET_UNREADABLE_ERROR },
        metadata: row.metadata,
        expiresAt: row.expiresAt,
      },
      isoNow(deps.now()),
    );
    throw new AppError(
      'secret_unreadable',
      `The stored ${label} secret for ${row.credentialKey} cannot be decrypted; reconnect it.`,
    );
  }
  const secret = secretSchema.safeParse(plaintext);
  if (!secret.success) {
    throw new AppError(
      'secret_unreadable',
      `The stored ${label} secret for ${row.credentialKey} is malformed; reconnect it.`,
    );
  }
  return { ...link, secret: secret.data };
}
