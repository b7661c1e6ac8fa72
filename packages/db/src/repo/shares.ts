import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Database, Tables } from '../database';

export type ShareRow = Tables['onboardingShares']['$inferSelect'];

/** Only this digest of a hand-off token is stored; the token itself leaves once, in the link. */
export function shareTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new share: the row, and the token (256 random bits) that only the caller ever sees. */
export async function createShare(
  db: Database,
  input: { sessionId: string; orgId: string; createdBy: string; expiresAt: string },
  now: string,
): Promise<{ row: ShareRow; token: string }> {
  const token = randomBytes(32).toString('base64url');
  const [row] = await db.write(({ q, t }) =>
    q
      .insert(t.onboardingShares)
      .values({
        id: `shr_${randomBytes(12).toString('hex')}`,
        sessionId: input.sessionId,
        tokenHash: shareTokenHash(token),
        orgId: input.orgId,
        createdBy: input.createdBy,
        createdAt: now,
        expiresAt: input.expiresAt,
        revokedAt: null,
      })
      .returning(),
  );
  return { row: row!, token };
}

export async function findShareByToken(db: Database, token: string): Promise<ShareRow | undefined> {
  const { onboardingShares } = db.t;
  const [row] = await db.q
    .select()
    .from(onboardingShares)
    .where(eq(onboardingShares.tokenHash, shareTokenHash(token)));
  return row;
}

export async function getShare(db: Database, id: string): Promise<ShareRow | undefined> {
  const { onboardingShares } = db.t;
  const [row] = await db.q.select().from(onboardingShares).where(eq(onboardingShares.id, id));
  return row;
}

export async function listSessionShares(db: Database, sessionId: string): Promise<ShareRow[]> {
  const { onboardingShares } = db.t;
  return db.q.select().from(onboardingShares).where(eq(onboardingShares.sessionId, sessionId)).limit(100);
}

/** Revoke one share, or every live share of a session; returns the ids revoked now. */
export async function revokeShares(
  db: Database,
  which: { id: string } | { sessionId: string },
  now: string,
): Promise<string[]> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.onboardingShares)
      .set({ revokedAt: now })
      .where(
        and(
          'id' in which ? eq(t.onboardingShares.id, which.id) : eq(t.onboardingShares.sessionId, which.sessionId),
          isNull(t.onboardingShares.revokedAt),
        ),
      )
      .returning({ id: t.onboardingShares.id }),
  );
  return rows.map((r) => r.id);
}
