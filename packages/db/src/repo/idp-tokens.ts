import { and, eq, isNull, lte, sql } from 'drizzle-orm';
import type { Database, Tables } from '../database';

/**
 * Server-side state of the embedded IdP's tokens, so that several processes agree on it:
 * single-use token ids, and refresh-token families (one per sign-in) with rotation.
 */

/** Spend a single-use token id. True for exactly one caller, however many present it at once. */
export async function consumeTokenId(db: Database, jti: string, expiresAt: string, now: string): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .insert(t.usedTokenIds)
      .values({ jti, usedAt: now, expiresAt })
      .onConflictDoNothing({ target: t.usedTokenIds.jti })
      .returning({ jti: t.usedTokenIds.jti }),
  );
  return rows.length === 1;
}

export async function tokenIdUsed(db: Database, jti: string): Promise<boolean> {
  const { usedTokenIds } = db.t;
  const rows = await db.q.select({ jti: usedTokenIds.jti }).from(usedTokenIds).where(eq(usedTokenIds.jti, jti));
  return rows.length > 0;
}

/** The family lives as long as its longest-lived token (a step-up renews it). */
const later = (t: Tables, expiresAt: string) =>
  sql`CASE WHEN ${t.refreshSessions.expiresAt} < ${expiresAt} THEN ${expiresAt} ELSE ${t.refreshSessions.expiresAt} END`;

export interface NewRefreshToken {
  jti: string;
  sessionId: string;
  expiresAt: string;
}

/** A new sign-in: a new family holding its first refresh token. */
export async function startRefreshSession(
  db: Database,
  input: NewRefreshToken & { username: string },
  now: string,
): Promise<void> {
  await db.write(async ({ q, t }) => {
    await q
      .insert(t.refreshSessions)
      .values({ id: input.sessionId, username: input.username, createdAt: now, expiresAt: input.expiresAt });
    await q
      .insert(t.refreshTokens)
      .values({ jti: input.jti, sessionId: input.sessionId, issuedAt: now, expiresAt: input.expiresAt });
  });
}

export type RefreshState = 'live' | 'used' | 'revoked' | 'unknown';

/** What a presented refresh token is worth, without changing anything (a fast path; `rotate` decides). */
export async function refreshTokenState(db: Database, jti: string, sessionId: string): Promise<RefreshState> {
  const { refreshSessions, refreshTokens } = db.t;
  const [row] = await db.q
    .select({ usedAt: refreshTokens.usedAt, revokedAt: refreshSessions.revokedAt })
    .from(refreshTokens)
    .innerJoin(refreshSessions, eq(refreshSessions.id, refreshTokens.sessionId))
    .where(and(eq(refreshTokens.jti, jti), eq(refreshTokens.sessionId, sessionId)));
  if (!row) return 'unknown';
  if (row.revokedAt) return 'revoked';
  return row.usedAt ? 'used' : 'live';
}

/** Whether a family is still open (not revoked, not expired). */
export async function refreshSessionLive(db: Database, sessionId: string, now: string): Promise<boolean> {
  const { refreshSessions } = db.t;
  const [row] = await db.q.select().from(refreshSessions).where(eq(refreshSessions.id, sessionId));
  return !!row && row.revokedAt === null && row.expiresAt > now;
}

/**
 * Spend refresh token `jti` and, in the same transaction, add `next` to its family. Exactly one
 * of several concurrent presentations rotates; the others see 'used'. A revoked family rotates
 * nothing. 'used' means the token was presented again: the caller revokes the family.
 * Each transaction starts with its write, so a second writer waits for the row (or the file)
 * instead of deciding on a stale read.
 */
export async function rotateRefreshToken(
  db: Database,
  jti: string,
  next: NewRefreshToken,
  now: string,
): Promise<RefreshState | 'rotated'> {
  return db.write(async ({ q, t }) => {
    const spent = await q
      .update(t.refreshTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(t.refreshTokens.jti, jti),
          eq(t.refreshTokens.sessionId, next.sessionId),
          isNull(t.refreshTokens.usedAt),
        ),
      )
      .returning({ jti: t.refreshTokens.jti });
    if (spent.length === 0) {
      const known = await q
        .select({ jti: t.refreshTokens.jti })
        .from(t.refreshTokens)
        .where(eq(t.refreshTokens.jti, jti));
      return known.length > 0 ? 'used' : 'unknown';
    }
    return (await extendFamily(q, t, next, now)) ? 'rotated' : 'revoked';
  });
}

/** Add `next` to its family if the family is open, renewing it; false when it was revoked. */
async function extendFamily(q: Database['q'], t: Tables, next: NewRefreshToken, now: string): Promise<boolean> {
  const open = await q
    .update(t.refreshSessions)
    .set({ expiresAt: later(t, next.expiresAt) })
    .where(and(eq(t.refreshSessions.id, next.sessionId), isNull(t.refreshSessions.revokedAt)))
    .returning({ id: t.refreshSessions.id });
  if (open.length === 0) return false;
  await q
    .insert(t.refreshTokens)
    .values({ jti: next.jti, sessionId: next.sessionId, issuedAt: now, expiresAt: next.expiresAt });
  return true;
}

/** Add a refresh token to an open family (a step-up with an access token renews the session). */
export async function addRefreshToken(db: Database, next: NewRefreshToken, now: string): Promise<boolean> {
  return db.write(({ q, t }) => extendFamily(q, t, next, now));
}

/** End a family: every refresh token in it stops working. True if this call ended it. */
export async function revokeRefreshSession(
  db: Database,
  sessionId: string,
  reason: string,
  now: string,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.refreshSessions)
      .set({ revokedAt: now, revokedReason: reason })
      .where(and(eq(t.refreshSessions.id, sessionId), isNull(t.refreshSessions.revokedAt)))
      .returning({ id: t.refreshSessions.id }),
  );
  return rows.length === 1;
}

/** Token state nobody can present any more (expired); the family's tokens go with it. */
export async function pruneIdpTokens(db: Database, now: string): Promise<void> {
  await db.write(async ({ q, t }) => {
    await q.delete(t.usedTokenIds).where(lte(t.usedTokenIds.expiresAt, now));
    await q.delete(t.refreshTokens).where(lte(t.refreshTokens.expiresAt, now));
    await q.delete(t.refreshSessions).where(lte(t.refreshSessions.expiresAt, now));
  });
}

/** End every open family of `username` ("sign out everywhere"); how many were open. */
export async function revokeRefreshSessionsOf(
  db: Database,
  username: string,
  reason: string,
  now: string,
): Promise<number> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.refreshSessions)
      .set({ revokedAt: now, revokedReason: reason })
      .where(and(eq(t.refreshSessions.username, username), isNull(t.refreshSessions.revokedAt)))
      .returning({ id: t.refreshSessions.id }),
  );
  return rows.length;
}
