import { type CloudKind, kinds } from '@alphaswarm/contracts';
import {
  createShare,
  extendWizardSession,
  findShareByToken,
  getShare,
  isoNow,
  listSessionShares,
  revokeShares,
  type ShareRow,
  type WizardRow,
} from '@alphaswarm/db';
import type { ApiDeps } from '../deps';
import { AppError } from '../errors';
import { loadSession, sessionView } from './wizard';

export const SHARE_DEFAULT_TTL_SECONDS = 72 * 3600;
export const SHARE_MAX_TTL_SECONDS = 7 * 24 * 3600;

/** One sentence for an unknown, expired or revoked link alike: the page cannot tell which. */
export function shareGone(): AppError {
  return new AppError('not_found', 'This link has expired or was revoked. Ask the person who sent it for a new one.');
}

export async function createShareLink(deps: ApiDeps, row: WizardRow, ttlSeconds: number, actor: string) {
  const artifacts = sessionView(row).steps.bootstrap_artifacts;
  if (!artifacts?.ok) {
    throw new AppError(
      'precondition_failed',
      'Generate the setup artifacts (step 1) in this session before sharing it: the link shows them.',
    );
  }
  const now = deps.now();
  const expiresAt = isoNow(new Date(now.getTime() + ttlSeconds * 1000));
  const { row: share, token } = await createShare(
    deps.db,
    { sessionId: row.id, orgId: row.orgId, createdBy: actor, expiresAt },
    isoNow(now),
  );
  await extendWizardSession(deps.db, row.id, expiresAt);
  return {
    share_id: share.id,
    url: `${deps.config.consoleUrl}/handoff/${token}`,
    expires_at: share.expiresAt,
  };
}

/** The operator's view of a session's links: never the token, which is not stored. */
export function shareView(row: ShareRow, now: Date) {
  const live = row.revokedAt === null && row.expiresAt > isoNow(now);
  return {
    share_id: row.id,
    created_by: row.createdBy,
    created_at: row.createdAt,
    expires_at: row.expiresAt,
    revoked_at: row.revokedAt,
    live,
  };
}

export async function sessionShares(deps: ApiDeps, sessionId: string) {
  return (await listSessionShares(deps.db, sessionId)).map((r) => shareView(r, deps.now()));
}

export async function revokeShareLinks(
  deps: ApiDeps,
  which: { share_id: string } | { session: WizardRow },
): Promise<{ revoked: string[] }> {
  const now = isoNow(deps.now());
  if ('share_id' in which) {
    const row = await getShare(deps.db, which.share_id);
    if (!row) throw new AppError('not_found', 'No such share link.');
    return { revoked: await revokeShares(deps.db, { id: row.id }, now) };
  }
  return { revoked: await revokeShares(deps.db, { sessionId: which.session.id }, now) };
}

/** The live share a token opens, and its live session; anything else is `shareGone`. */
export async function openShare(deps: ApiDeps, token: string): Promise<{ share: ShareRow; session: WizardRow }> {
  const share = await findShareByToken(deps.db, token);
  if (!share || share.revokedAt !== null || share.expiresAt <= isoNow(deps.now())) throw shareGone();
  try {
    return { share, session: await loadSession(deps, share.sessionId, { org_id: share.orgId }) };
  } catch (error) {
    if (error instanceof AppError) throw shareGone();
    throw error;
  }
}

/** What the customer's cloud admin sees: this session's cloud, artifacts and progress, nothing else. */
export function handoffView(share: ShareRow, session: WizardRow) {
  const view = sessionView(session);
  const kind = view.kind as CloudKind;
  const { bootstrap_artifacts, validate_identity, validate_permissions } = view.steps;
  return {
    kind,
    label: kinds[kind].label,
    expires_at: share.expiresAt,
    artifacts: bootstrap_artifacts?.ok ? (bootstrap_artifacts.result ?? null) : null,
    params: view.params,
    identity: validate_identity ?? null,
    permissions: validate_permissions ?? null,
    connected: view.steps.connect?.ok === true,
  };
}
