import { and, asc, eq, lt, sql } from 'drizzle-orm';
import { type Database, preparedFor, type Tables } from '../database';

export type AdminUserRow = Tables['adminUsers']['$inferSelect'];

export interface NewAdminUser {
  username: string;
  passwordHash: string;
  /** Fernet token of the base32 TOTP secret. */
  totpSecret: string;
  scopes: string;
}

/** Insert a new admin; false when the username is taken (the primary key decides, not a read). */
export async function insertAdminUser(db: Database, user: NewAdminUser, now: string): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .insert(t.adminUsers)
      .values({ ...user, createdAt: now, updatedAt: now, failedAttempts: 0, lastTotpStep: 0 })
      .onConflictDoNothing({ target: t.adminUsers.username })
      .returning({ username: t.adminUsers.username }),
  );
  return rows.length === 1;
}

export async function getAdminUser(db: Database, username: string): Promise<AdminUserRow | undefined> {
  const { adminUsers } = db.t;
  const [row] = await db.q.select().from(adminUsers).where(eq(adminUsers.username, username));
  return row;
}

export async function listAdminUsers(db: Database): Promise<AdminUserRow[]> {
  const { adminUsers } = db.t;
  return db.q.select().from(adminUsers).orderBy(asc(adminUsers.username));
}

/** A complete sign-in (password and TOTP) clears the failure count and any lock. */
export async function clearAdminLoginFailures(db: Database, username: string, now: string): Promise<void> {
  await db.write(({ q, t }) =>
    q
      .update(t.adminUsers)
      .set({ failedAttempts: 0, lockedUntil: null, updatedAt: now })
      .where(eq(t.adminUsers.username, username)),
  );
}

/**
 * Accept TOTP time step `step` for `username` at most once: the conditional update succeeds for
 * exactly one caller, however many present the same code at the same moment.
 */
export async function consumeAdminTotpStep(
  db: Database,
  username: string,
  step: number,
  now: string,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.adminUsers)
      .set({ lastTotpStep: step, updatedAt: now })
      .where(and(eq(t.adminUsers.username, username), lt(t.adminUsers.lastTotpStep, step)))
      .returning({ username: t.adminUsers.username }),
  );
  return rows.length === 1;
}

/** A new TOTP secret (reset-mfa): the replay marker and any lock start over. */
export async function replaceAdminTotpSecret(
  db: Database,
  username: string,
  totpSecret: string,
  now: string,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.adminUsers)
      .set({ totpSecret, lastTotpStep: 0, failedAttempts: 0, lockedUntil: null, updatedAt: now })
      .where(eq(t.adminUsers.username, username))
      .returning({ username: t.adminUsers.username }),
  );
  return rows.length === 1;
}

/** Disable (`disabledAt` = now) or re-enable (null, which also lifts a lock). */
export async function setAdminUserDisabled(
  db: Database,
  username: string,
  disabledAt: string | null,
  now: string,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.adminUsers)
      .set(
        disabledAt
          ? { disabledAt, updatedAt: now }
          : { disabledAt: null, failedAttempts: 0, lockedUntil: null, updatedAt: now },
      )
      .where(eq(t.adminUsers.username, username))
      .returning({ username: t.adminUsers.username }),
  );
  return rows.length === 1;
}

/**
 * "Sign out everywhere": the admin's embedded-IdP access tokens issued before `at` stop working
 * (bearer verification reads this). False when there is no such admin.
 */
export async function setTokensValidAfter(db: Database, username: string, at: string): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.adminUsers)
      .set({ tokensValidAfter: at, updatedAt: at })
      .where(eq(t.adminUsers.username, username))
      .returning({ username: t.adminUsers.username }),
  );
  return rows.length === 1;
}

/** When the admin last signed out everywhere (RFC 3339), or null. */
export async function tokensValidAfter(db: Database, username: string): Promise<string | null> {
  const statement = preparedFor(db, 'tokens_valid_after', (q, name) => {
    const { adminUsers } = db.t;
    return q
      .select({ at: adminUsers.tokensValidAfter })
      .from(adminUsers)
      .where(eq(adminUsers.username, sql.placeholder('username')))
      .prepare(name);
  });
  const [row] = await statement.execute({ username });
  return row?.at ?? null;
}

/** A new password (change-password): the hash is replaced; sessions end through their fingerprint. */
export async function replaceAdminPassword(
  db: Database,
  username: string,
  passwordHash: string,
  now: string,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.adminUsers)
      .set({ passwordHash, updatedAt: now })
      .where(eq(t.adminUsers.username, username))
      .returning({ username: t.adminUsers.username }),
  );
  return rows.length === 1;
}
