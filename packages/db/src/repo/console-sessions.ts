import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database, Tables } from '../database';

/**
 * The console's sessions, shared by its replicas. The console seals `data` and computes the
 * times; this module only stores them, with a version for compare-and-set and a lease so that
 * one refresh at a time spends a session's single-use refresh token. The API lists and deletes
 * rows by subject ("sign out everywhere") without being able to read `data`.
 *
 * Times are full `toISOString()` strings (fixed width, so they order like the instants they name).
 */

export type ConsoleSessionRow = Tables['consoleSessions']['$inferSelect'];

const at = (d: Date) => d.toISOString();

export interface NewConsoleSession {
  idHash: string;
  subject: string | null;
  createdAt: Date;
  expiresAt: Date;
  address: string | null;
  userAgent: string | null;
  data: string;
}

export async function insertConsoleSession(db: Database, row: NewConsoleSession): Promise<void> {
  await db.write(({ q, t }) =>
    q.insert(t.consoleSessions).values({
      idHash: row.idHash,
      subject: row.subject,
      createdAt: at(row.createdAt),
      lastSeenAt: at(row.createdAt),
      expiresAt: at(row.expiresAt),
      address: row.address,
      userAgent: row.userAgent,
      version: 0,
      data: row.data,
    }),
  );
}

/** The row, if it exists and has not expired at `now`. */
export async function readConsoleSession(
  db: Database,
  idHash: string,
  now: Date,
): Promise<ConsoleSessionRow | undefined> {
  const { consoleSessions: t } = db.t;
  const [row] = await db.q.select().from(t).where(eq(t.idHash, idHash));
  return row && row.expiresAt > at(now) ? row : undefined;
}

/**
 * Replace the sealed data if the row is still at `version` (what the caller read): the new
 * version, or undefined when another request or replica wrote first (re-read and merge) or the
 * row is gone.
 */
export async function updateConsoleSession(
  db: Database,
  idHash: string,
  version: number,
  change: { data: string; subject: string | null },
): Promise<number | undefined> {
  const [row] = await db.write(({ q, t }) =>
    q
      .update(t.consoleSessions)
      .set({ data: change.data, subject: change.subject, version: sql`${t.consoleSessions.version} + 1` })
      .where(and(eq(t.consoleSessions.idHash, idHash), eq(t.consoleSessions.version, version)))
      .returning({ version: t.consoleSessions.version }),
  );
  return row?.version;
}

/** Last seen (and the idle expiry it moves): no version bump, so it never conflicts with a data write. */
export async function touchConsoleSession(
  db: Database,
  idHash: string,
  seen: { at: Date; expiresAt: Date; address: string | null; userAgent: string | null },
): Promise<void> {
  await db.write(({ q, t }) =>
    q
      .update(t.consoleSessions)
      .set({ lastSeenAt: at(seen.at), expiresAt: at(seen.expiresAt), address: seen.address, userAgent: seen.userAgent })
      .where(eq(t.consoleSessions.idHash, idHash)),
  );
}

export async function deleteConsoleSession(db: Database, idHash: string): Promise<void> {
  await db.write(({ q, t }) => q.delete(t.consoleSessions).where(eq(t.consoleSessions.idHash, idHash)));
}

/**
 * Take the refresh lease of a session until `until`: true for exactly one caller while it is
 * held (one conditional UPDATE), so two replicas never both present the same refresh token.
 */
export async function claimConsoleRefresh(
  db: Database,
  idHash: string,
  owner: string,
  now: Date,
  until: Date,
): Promise<boolean> {
  const rows = await db.write(({ q, t }) =>
    q
      .update(t.consoleSessions)
      .set({ refreshOwner: owner, refreshUntil: at(until) })
      .where(
        and(
          eq(t.consoleSessions.idHash, idHash),
          or(isNull(t.consoleSessions.refreshUntil), lte(t.consoleSessions.refreshUntil, at(now))),
        ),
      )
      .returning({ idHash: t.consoleSessions.idHash }),
  );
  return rows.length === 1;
}

/** Give the lease back (only the owner's release counts: a lease that lapsed may be someone else's now). */
export async function releaseConsoleRefresh(db: Database, idHash: string, owner: string): Promise<void> {
  await db.write(({ q, t }) =>
    q
      .update(t.consoleSessions)
      .set({ refreshOwner: null, refreshUntil: null })
      .where(and(eq(t.consoleSessions.idHash, idHash), eq(t.consoleSessions.refreshOwner, owner))),
  );
}

/** A subject's live sessions, oldest first: never their data. */
export async function listConsoleSessions(
  db: Database,
  subject: string,
  now: Date,
): Promise<Pick<ConsoleSessionRow, 'idHash' | 'createdAt' | 'lastSeenAt' | 'expiresAt' | 'address' | 'userAgent'>[]> {
  const { consoleSessions: t } = db.t;
  return db.q
    .select({
      idHash: t.idHash,
      createdAt: t.createdAt,
      lastSeenAt: t.lastSeenAt,
      expiresAt: t.expiresAt,
      address: t.address,
      userAgent: t.userAgent,
    })
    .from(t)
    .where(and(eq(t.subject, subject), sql`${t.expiresAt} > ${at(now)}`))
    .orderBy(asc(t.createdAt));
}

/** Every console session of a subject ends ("sign out everywhere"); how many there were. */
export async function deleteConsoleSessionsOf(db: Database, subject: string): Promise<number> {
  const rows = await db.write(({ q, t }) =>
    q
      .delete(t.consoleSessions)
      .where(eq(t.consoleSessions.subject, subject))
      .returning({ idHash: t.consoleSessions.idHash }),
  );
  return rows.length;
}

export async function pruneConsoleSessions(db: Database, now: Date): Promise<number> {
  const rows = await db.write(({ q, t }) =>
    q
      .delete(t.consoleSessions)
      .where(lte(t.consoleSessions.expiresAt, at(now)))
      .returning({ idHash: t.consoleSessions.idHash }),
  );
  return rows.length;
}
