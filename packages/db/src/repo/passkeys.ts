import { and, asc, eq, inArray, isNull, lte } from 'drizzle-orm';
import type { Database, Tables } from '../database';

/**
 * The embedded IdP's second factors beside TOTP: passkeys (WebAuthn credentials), one-time
 * recovery codes, and the WebAuthn challenges between a ceremony's options and its answer. All
 * of it lives in the database, so a ceremony begun on one process finishes on any other.
 */

export type PasskeyRow = Tables['adminPasskeys']['$inferSelect'];

export interface NewPasskey {
  id: string;
  username: string;
  name: string;
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
}

/** Add a passkey; false when that credential id is already registered (to anyone). */
export async function insertPasskey(db: Database, passkey: NewPasskey, now: string): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .insert(t.adminPasskeys)
      .values({ ...passkey, backedUp: passkey.backedUp ? 1 : 0, createdAt: now })
      .onConflictDoNothing({ target: t.adminPasskeys.id })
      .returning({ id: t.adminPasskeys.id }),
  );
  return rows.length === 1;
}

export async function getPasskey(db: Database, id: string): Promise<PasskeyRow | undefined> {
  const { adminPasskeys } = db.t;
  const [row] = await db.q.select().from(adminPasskeys).where(eq(adminPasskeys.id, id));
  return row;
}

export async function listPasskeys(db: Database, username: string): Promise<PasskeyRow[]> {
  const { adminPasskeys } = db.t;
  return db.q
    .select()
    .from(adminPasskeys)
    .where(eq(adminPasskeys.username, username))
    .orderBy(asc(adminPasskeys.createdAt), asc(adminPasskeys.id));
}

/**
 * Record a verified sign-in with passkey `id`: its new counter, backup state and last use. The
 * update applies only while the stored counter is still the one the check was made against, so
 * two concurrent sign-ins with the same counter value cannot both pass (a cloned authenticator).
 */
export async function recordPasskeyUse(
  db: Database,
  input: { id: string; previousCounter: number; counter: number; backedUp: boolean },
  now: string,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.adminPasskeys)
      .set({ counter: input.counter, backedUp: input.backedUp ? 1 : 0, lastUsedAt: now })
      .where(and(eq(t.adminPasskeys.id, input.id), eq(t.adminPasskeys.counter, input.previousCounter)))
      .returning({ id: t.adminPasskeys.id }),
  );
  return rows.length === 1;
}

/** Remove one of `username`'s passkeys; false when they have none with that id. */
export async function deletePasskey(db: Database, username: string, id: string): Promise<PasskeyRow | undefined> {
  const rows = await db.write(({ q, t }) =>
    q
      .delete(t.adminPasskeys)
      .where(and(eq(t.adminPasskeys.username, username), eq(t.adminPasskeys.id, id)))
      .returning(),
  );
  return rows[0];
}

// ---- recovery codes ------------------------------------------------------------------------

/** Replace `username`'s recovery codes with a new set (only their hashes), in one transaction. */
export async function replaceRecoveryCodes(
  db: Database,
  username: string,
  codeHashes: string[],
  now: string,
): Promise<void> {
  await db.write(async ({ q, t }) => {
    await q.delete(t.adminRecoveryCodes).where(eq(t.adminRecoveryCodes.username, username));
    if (codeHashes.length > 0) {
      await q
        .insert(t.adminRecoveryCodes)
        .values(codeHashes.map((codeHash) => ({ codeHash, username, createdAt: now })));
    }
  });
}

/** Spend a recovery code: true for exactly one caller, however many present it at once. */
export async function claimRecoveryCode(
  db: Database,
  username: string,
  codeHash: string,
  now: string,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.adminRecoveryCodes)
      .set({ usedAt: now })
      .where(
        and(
          eq(t.adminRecoveryCodes.codeHash, codeHash),
          eq(t.adminRecoveryCodes.username, username),
          isNull(t.adminRecoveryCodes.usedAt),
        ),
      )
      .returning({ codeHash: t.adminRecoveryCodes.codeHash }),
  );
  return rows.length === 1;
}

export async function recoveryCodesLeft(db: Database, username: string): Promise<number> {
  const { adminRecoveryCodes: r } = db.t;
  const rows = await db.q
    .select({ codeHash: r.codeHash })
    .from(r)
    .where(and(eq(r.username, username), isNull(r.usedAt)));
  return rows.length;
}

/** reset-mfa: every passkey and recovery code of `username` goes with the old TOTP secret. */
export async function clearSecondFactors(db: Database, username: string): Promise<void> {
  await db.write(async ({ q, t }) => {
    await q.delete(t.adminPasskeys).where(eq(t.adminPasskeys.username, username));
    await q.delete(t.adminRecoveryCodes).where(eq(t.adminRecoveryCodes.username, username));
  });
}

// ---- WebAuthn challenges -------------------------------------------------------------------

export type ChallengePurpose = 'register' | 'sign_in' | 'step_up';

export interface NewChallenge {
  id: string;
  challenge: string;
  purpose: ChallengePurpose;
  username: string | null;
  expiresAt: string;
}

export async function insertChallenge(db: Database, challenge: NewChallenge, now: string): Promise<void> {
  await db.write(({ q, t }) => q.insert(t.webauthnChallenges).values({ ...challenge, createdAt: now }));
}

export interface TakenChallenge {
  challenge: string;
  purpose: ChallengePurpose;
  username: string | null;
  expiresAt: string;
}

/**
 * Take challenge `id` for one of `purposes`: deleted by the one caller that gets it, so it answers one
 * ceremony only. An expired one is deleted too and answers nothing.
 */
export async function takeChallenge(
  db: Database,
  id: string,
  purposes: ChallengePurpose[],
  now: string,
): Promise<TakenChallenge | null> {
  const rows = await db.write(({ q, t }) =>
    q
      .delete(t.webauthnChallenges)
      .where(and(eq(t.webauthnChallenges.id, id), inArray(t.webauthnChallenges.purpose, purposes)))
      .returning(),
  );
  const row = rows[0];
  if (!row || row.expiresAt <= now) return null;
  return {
    challenge: row.challenge,
    purpose: row.purpose as ChallengePurpose,
    username: row.username,
    expiresAt: row.expiresAt,
  };
}

export async function pruneChallenges(db: Database, now: string): Promise<void> {
  await db.write(({ q, t }) => q.delete(t.webauthnChallenges).where(lte(t.webauthnChallenges.expiresAt, now)));
}
