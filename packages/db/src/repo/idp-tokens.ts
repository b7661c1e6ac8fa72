import { and, eq, isNull, lte, sql } from 'drizzle-orm';
import { refreshSessions, refreshTokens, usedTokenIds } from '../schema';
import type { Db } from '../sqlite';

/**
 * Server-side state of the embedded IdP's tokens, so that several processes agree on it:
 * single-use token ids, and refresh-token families (one per sign-in) with rotation.
 */

/** Spend a single-use token id. True for exactly one caller, however many present it at once. */
export async function consumeTokenId(db: Db, jti: string, expiresAt: string, now: string): Promise<boolean> {
  const rows = db
    .insert(usedTokenIds)
    .values({ jti, usedAt: now, expiresAt })
    .onConflictDoNothing({ target: usedTokenIds.jti })
    .returning({ jti: usedTokenIds.jti })
    .all();
  return rows.length === 1;
}

export async function tokenIdUsed(db: Db, jti: string): Promise<boolean> {
  return db.select({ jti: usedTokenIds.jti }).from(usedTokenIds).where(eq(usedTokenIds.jti, jti)).all().length > 0;
}

/** The family lives as long as its longest-lived token (a step-up renews it). */
const later = (expiresAt: string) =>
  sql`CASE WHEN ${refreshSessions.expiresAt} < ${expiresAt} THEN ${expiresAt} ELSE ${refreshSessions.expiresAt} END`;

export interface NewRefreshToken {
  jti: string;
  sessionId: string;
  expiresAt: string;
}

/** A new sign-in: a new family holding its first refresh token. */
export async function startRefreshSession(
  db: Db,
  input: NewRefreshToken & { username: string },
  now: string,
): Promise<void> {
  db.transaction((tx) => {
    tx.insert(refreshSessions)
      .values({ id: input.sessionId, username: input.username, createdAt: now, expiresAt: input.expiresAt })
      .run();
    tx.insert(refreshTokens)
      .values({ jti: input.jti, sessionId: input.sessionId, issuedAt: now, expiresAt: input.expiresAt })
      .run();
  });
}

export type RefreshState = 'live' | 'used' | 'revoked' | 'unknown';

/** What a presented refresh token is worth, without changing anything (a fast path; `rotate` decides). */
export async function refreshTokenState(db: Db, jti: string, sessionId: string): Promise<RefreshState> {
  const row = db
    .select({ usedAt: refreshTokens.usedAt, revokedAt: refreshSessions.revokedAt })
    .from(refreshTokens)
    .innerJoin(refreshSessions, eq(refreshSessions.id, refreshTokens.sessionId))
    .where(and(eq(refreshTokens.jti, jti), eq(refreshTokens.sessionId, sessionId)))
    .all()[0];
  if (!row) return 'unknown';
  if (row.revokedAt) return 'revoked';
  return row.usedAt ? 'used' : 'live';
}

/** Whether a family is still open (not revoked, not expired). */
export async function refreshSessionLive(db: Db, sessionId: string, now: string): Promise<boolean> {
  const row = db.select().from(refreshSessions).where(eq(refreshSessions.id, sessionId)).all()[0];
  return !!row && row.revokedAt === null && row.expiresAt > now;
}

/**
 * Spend refresh token `jti` and, in the same transaction, add `next` to its family. Exactly one
 * of several concurrent presentations rotates; the others see 'used'. A revoked family rotates
 * nothing. 'used' means the token was presented again: the caller revokes the family.
 * Each transaction starts with its write, so a second process waits for the lock instead of
 * failing on a stale read.
 */
export async function rotateRefreshToken(
  db: Db,
  jti: string,
  next: NewRefreshToken,
  now: string,
): Promise<RefreshState | 'rotated'> {
  return db.transaction((tx) => {
    const spent = tx
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.jti, jti), eq(refreshTokens.sessionId, next.sessionId), isNull(refreshTokens.usedAt)))
      .returning({ jti: refreshTokens.jti })
      .all();
    if (spent.length === 0) {
      const known = tx.select({ jti: refreshTokens.jti }).from(refreshTokens).where(eq(refreshTokens.jti, jti)).all();
      return known.length > 0 ? 'used' : 'unknown';
    }
    const open = tx
      .update(refreshSessions)
      .set({ expiresAt: later(next.expiresAt) })
      .where(and(eq(refreshSessions.id, next.sessionId), isNull(refreshSessions.revokedAt)))
      .returning({ id: refreshSessions.id })
      .all();
    if (open.length === 0) return 'revoked';
    tx.insert(refreshTokens)
      .values({ jti: next.jti, sessionId: next.sessionId, issuedAt: now, expiresAt: next.expiresAt })
      .run();
    return 'rotated';
  });
}

/** Add a refresh token to an open family (a step-up with an access token renews the session). */
export async function addRefreshToken(db: Db, next: NewRefreshToken, now: string): Promise<boolean> {
  return db.transaction((tx) => {
    const open = tx
      .update(refreshSessions)
      .set({ expiresAt: later(next.expiresAt) })
      .where(and(eq(refreshSessions.id, next.sessionId), isNull(refreshSessions.revokedAt)))
      .returning({ id: refreshSessions.id })
      .all();
    if (open.length === 0) return false;
    tx.insert(refreshTokens)
      .values({ jti: next.jti, sessionId: next.sessionId, issuedAt: now, expiresAt: next.expiresAt })
      .run();
    return true;
  });
}

/** End a family: every refresh token in it stops working. True if this call ended it. */
export async function revokeRefreshSession(db: Db, sessionId: string, reason: string, now: string): Promise<boolean> {
  const rows = db
    .update(refreshSessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(refreshSessions.id, sessionId), isNull(refreshSessions.revokedAt)))
    .returning({ id: refreshSessions.id })
    .all();
  return rows.length === 1;
}

/** Token state nobody can present any more (expired); the family's tokens go with it. */
export async function pruneIdpTokens(db: Db, now: string): Promise<void> {
  db.delete(usedTokenIds).where(lte(usedTokenIds.expiresAt, now)).run();
  db.delete(refreshTokens).where(lte(refreshTokens.expiresAt, now)).run();
  db.delete(refreshSessions).where(lte(refreshSessions.expiresAt, now)).run();
}
