import type { IntegrationKind, PatKind, PublicIntegration } from '@alphaswarm/contracts';
import {
  deleteLink,
  getLink,
  isoNow,
  isStorageFailure,
  listLinks,
  replaceSecret,
  sealSecret,
  toPublic,
} from '@alphaswarm/db';
import { descriptorFor, type InputOf, patProvider, providerFor } from '@alphaswarm/providers';
import type { ApiDeps } from '../deps';
import { AppError } from '../errors';
import { recordVerdict } from './awareness';
import { notFound, storeDraft, unseal } from './links';
import { providerContext } from './provider-context';

export async function listIntegrations(deps: Pick<ApiDeps, 'db'>, orgId: string): Promise<PublicIntegration[]> {
  return (await listLinks(deps.db, orgId)).map(toPublic);
}

export async function getIntegration(
  deps: Pick<ApiDeps, 'db'>,
  orgId: string,
  kind: IntegrationKind,
): Promise<PublicIntegration> {
  const row = await getLink(deps.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  return toPublic(row);
}

/** Validate a PAT upstream (its input already checked against the kind's schema), then store it. */
export async function connectPat<K extends PatKind>(
  deps: ApiDeps,
  kind: K,
  orgId: string,
  input: InputOf<K>,
): Promise<PublicIntegration> {
  const started = performance.now();
  const draft = await (await patProvider(kind)).validate(providerContext(deps), input);
  return storeDraft(deps, orgId, kind, draft, performance.now() - started);
}

export async function disconnect(deps: Pick<ApiDeps, 'db'>, orgId: string, kind: IntegrationKind) {
  const row = await deleteLink(deps.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  return { credential_key: row.credentialKey, revocation_guidance: descriptorFor(kind).revocationGuidance };
}

/**
 * Roll the upstream secret of a kind whose facts say it is rotatable. The old value dies upstream at once, so the new one is
 * stored before this returns; a concurrent change to the row is reported, never overwritten.
 */
export async function rotateSecret(deps: ApiDeps, orgId: string, kind: IntegrationKind): Promise<PublicIntegration> {
  const provider = await providerFor(kind);
  if (!descriptorFor(kind).rotatable || !provider.rotateSecret)
    throw new AppError(
      'invalid_request',
      `${provider.upstream} links cannot be rotated through the API; reconnect with a new credential.`,
    );
  const row = await getLink(deps.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  const link = await unseal(deps, row);
  const started = performance.now();
  const rolled = await provider.rotateSecret(providerContext(deps), link as never);
  const latencyMs = performance.now() - started;
  const sealed = sealSecret(deps.keyring, rolled.secret);
  let ok: boolean;
  try {
    ok = await replaceSecret(
      deps.db,
      row.credentialKey,
      row.secret,
      sealed,
      { expiresAt: rolled.expires_at },
      isoNow(deps.now()),
    );
  } catch (error) {
    if (!isStorageFailure(error)) throw error;
    deps.logger.error(
      { credential_key: row.credentialKey },
      'rotated secret could not be stored: the database refused the write',
    );
    throw new AppError(
      'storage_unavailable',
      `${provider.upstream} rolled the token, but the database could not store the new value (disk full or read-only?), so the stored one no longer works. Reconnect ${row.credentialKey} once the database takes writes again.`,
    );
  }
  if (!ok) {
    deps.logger.error(
      { credential_key: row.credentialKey },
      'rotated secret could not be stored: the link changed concurrently',
    );
    throw new AppError(
      'conflict',
      `${row.credentialKey} changed while it was being rotated; the new ${provider.upstream} token was not stored. Reconnect it.`,
    );
  }
  const after = (await getLink(deps.db, orgId, kind)) ?? row;
  await recordVerdict(deps, row, after, { source: 'rotate', latencyMs });
  return toPublic(after);
}
