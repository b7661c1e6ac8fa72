import { and, asc, eq, lt, sql } from 'drizzle-orm';
import { adminUsers } from '../schema';
import type { Db } from '../sqlite';

export type AdminUserRow = typeof adminUsers.$inferSelect;

export interface NewAdminUser {
  username: string;
  passwordHash: string;
  /** Fernet token of the base32 TOTP secret. */
  totpSecret: string;
  scopes: string;
}

/** Insert a new admin; false when the username is taken (the primary key decides, not a read). */
export async function insertAdminUser(db: Db, user: NewAdminUser, now: string): Promise<boolean> {
  const rows = db
    .insert(adminUsers)
    .values({ ...user, createdAt: now, updatedAt: now, failedAttempts: 0, lastTotpStep: 0 })
    .onConflictDoNothing({ target: adminUsers.username })
    .returning({ username: adminUsers.username })
    .all();
  return rows.length === 1;
}

export async function getAdminUser(db: Db, username: string): Promise<AdminUserRow | undefined> {
  return db.select().from(adminUsers).where(eq(adminUsers.username, username)).get();
}

export async function listAdminUsers(db: Db): Promise<AdminUserRow[]> {
  return db.select().from(adminUsers).orderBy(asc(adminUsers.username)).all();
}

/**
 * Count one failed sign-in attempt in a single statement (so concurrent guesses cannot lose
 * increments). The `maxAttempts`-th consecutive failure locks the account until `lockUntil` and
 * starts the count again. Returns the row after the update, or undefined for an unknown user.
 */
export async function recordAdminLoginFailure(
  db: Db,
  username: string,
  opts: { maxAttempts: number; lockUntil: string; now: string },
): Promise<{ failedAttempts: number; lockedUntil: string | null; locked: boolean } | undefined> {
  const reaches = sql`${adminUsers.failedAttempts} + 1 >= ${opts.maxAttempts}`;
  const [row] = db
    .update(adminUsers)
    .set({
      failedAttempts: sql`CASE WHEN ${reaches} THEN 0 ELSE ${adminUsers.failedAttempts} + 1 END`,
      lockedUntil: sql`CASE WHEN ${reaches} THEN ${opts.lockUntil} ELSE ${adminUsers.lockedUntil} END`,
      updatedAt: opts.now,
    })
    .where(eq(adminUsers.username, username))
    .returning({ failedAttempts: adminUsers.failedAttempts, lockedUntil: adminUsers.lockedUntil })
    .all();
  if (!row) return undefined;
  return { ...row, locked: row.lockedUntil === opts.lockUntil && row.failedAttempts === 0 };
}

/** A complete sign-in (password and TOTP) clears the failure count and any lock. */
export async function clearAdminLoginFailures(db: Db, username: string, now: string): Promise<void> {
  db.update(adminUsers)
    .set({ failedAttempts: 0, lockedUntil: null, updatedAt: now })
    .where(eq(adminUsers.username, username))
    .run();
}

/**
 * Accept TOTP time step `step` for `username` at most once: the conditional update succeeds for
 * exactly one caller, however many present the same code at the same moment.
 */
export async function consumeAdminTotpStep(db: Db, username: string, step: number, now: string): Promise<boolean> {
  const rows = db
    .update(adminUsers)
    .set({ lastTotpStep: step, updatedAt: now })
    .where(and(eq(adminUsers.username, username), lt(adminUsers.lastTotpStep, step)))
    .returning({ username: adminUsers.username })
    .all();
  return rows.length === 1;
}

/** A new TOTP secret (reset-mfa): the replay marker and any lock start over. */
export async function replaceAdminTotpSecret(
  db: Db,
  username: string,
  totpSecret: string,
  now: string,
): Promise<boolean> {
  const rows = db
    .update(adminUsers)
    .set({ totpSecret, lastTotpStep: 0, failedAttempts: 0, lockedUntil: null, updatedAt: now })
    .where(eq(adminUsers.username, username))
    .returning({ username: adminUsers.username })
    .all();
  return rows.length === 1;
}

/** Disable (`disabledAt` = now) or re-enable (null, which also lifts a lock). */
export async function setAdminUserDisabled(
  db: Db,
  username: string,
  disabledAt: string | null,
  now: string,
): Promise<boolean> {
  const rows = db
    .update(adminUsers)
    .set(
      disabledAt
        ? { disabledAt, updatedAt: now }
        : { disabledAt: null, failedAttempts: 0, lockedUntil: null, updatedAt: now },
    )
    .where(eq(adminUsers.username, username))
    .returning({ username: adminUsers.username })
    .all();
  return rows.length === 1;
}
