import { createHash } from 'node:crypto';
import { and, eq, gt, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Database } from '../database';

/**
 * Sign-in limits, each enforced by one conditional write that either takes an attempt or
 * changes nothing, so the check and the count cannot be split by concurrent requests or by
 * another process on the same database. Every rule has three steps: reserve (before the
 * expensive or guessable check runs), then either `fail` (the reservation becomes a counted
 * failure) or `refund` (a success gives it back).
 *
 * Timestamps are the RFC 3339 strings of `isoNow`, which order like the instants they name.
 */

export type Reservation = { ok: true } | { ok: false; retryAfterSeconds: number };

function secondsUntil(iso: string, now: Date): number {
  return Math.max(1, Math.ceil((Date.parse(iso) - now.getTime()) / 1000));
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---- per client address: `limit` attempts per fixed window ----------------------------------

export interface WindowRule {
  limit: number;
  windowSeconds: number;
}

/** Take one attempt for `address` in its current window; refused while the window is full. */
export async function reserveAddressAttempt(
  db: Database,
  address: string,
  rule: WindowRule,
  now: Date,
): Promise<Reservation & { windowStart?: string }> {
  const t = db.t.signInAddressLimits;
  const start = iso(now.getTime());
  const end = iso(now.getTime() + rule.windowSeconds * 1000);
  const stale = sql`${t.windowStart} <= ${iso(now.getTime() - rule.windowSeconds * 1000)}`;
  const rows = await db.write(({ q }) =>
    q
      .insert(t)
      .values({ address, attempts: 1, windowStart: start, expiresAt: end })
      .onConflictDoUpdate({
        target: t.address,
        set: {
          attempts: sql`CASE WHEN ${stale} THEN 1 ELSE ${t.attempts} + 1 END`,
          windowStart: sql`CASE WHEN ${stale} THEN ${start} ELSE ${t.windowStart} END`,
          expiresAt: sql`CASE WHEN ${stale} THEN ${end} ELSE ${t.expiresAt} END`,
        },
        setWhere: or(stale, lt(t.attempts, rule.limit)),
      })
      .returning({ windowStart: t.windowStart }),
  );
  if (rows[0]) return { ok: true, windowStart: rows[0].windowStart };
  const [row] = await db.q.select().from(t).where(eq(t.address, address));
  return { ok: false, retryAfterSeconds: row ? secondsUntil(row.expiresAt, now) : 1 };
}

/** Seconds `address` must wait before its next attempt, or 0 (a read: the fast path for refusals). */
export async function addressBlockedFor(db: Database, address: string, rule: WindowRule, now: Date): Promise<number> {
  const t = db.t.signInAddressLimits;
  const [row] = await db.q.select().from(t).where(eq(t.address, address));
  if (!row || row.attempts < rule.limit || row.expiresAt <= iso(now.getTime())) return 0;
  return secondsUntil(row.expiresAt, now);
}

/** Give back an attempt reserved in `windowStart` (a success, or an attempt that never ran). */
export async function refundAddressAttempt(db: Database, address: string, windowStart: string): Promise<void> {
  const t = db.t.signInAddressLimits;
  await db.write(({ q }) =>
    q
      .update(t)
      .set({ attempts: sql`${t.attempts} - 1` })
      .where(and(eq(t.address, address), eq(t.windowStart, windowStart), gt(t.attempts, 0))),
  );
}

// ---- per account: `maxAttempts` consecutive failures lock it for a while -------------------

export interface LockoutRule {
  maxAttempts: number;
  lockSeconds: number;
}

export type FailureResult = { locked: false } | { locked: true; lockedUntil: string };

/**
 * Take one attempt on an existing account: refused while it is locked, or while the attempts
 * already counted or in flight reach the limit (so concurrent guesses cannot overrun it).
 * `undefined` when there is no such account.
 */
export async function reserveAdminAttempt(
  db: Database,
  username: string,
  rule: LockoutRule,
  now: Date,
): Promise<Reservation | undefined> {
  const t = db.t.adminUsers;
  const at = iso(now.getTime());
  const rows = await db.write(({ q }) =>
    q
      .update(t)
      .set({ failedAttempts: sql`${t.failedAttempts} + 1`, updatedAt: at })
      .where(
        and(
          eq(t.username, username),
          or(isNull(t.lockedUntil), lte(t.lockedUntil, at)),
          lt(t.failedAttempts, rule.maxAttempts),
        ),
      )
      .returning({ username: t.username }),
  );
  if (rows[0]) return { ok: true };
  const [row] = await db.q.select({ lockedUntil: t.lockedUntil }).from(t).where(eq(t.username, username));
  if (!row) return undefined;
  // Locked, or every remaining attempt is in flight right now: either way, not this one.
  return {
    ok: false,
    retryAfterSeconds: row.lockedUntil && row.lockedUntil > at ? secondsUntil(row.lockedUntil, now) : 1,
  };
}

/** A reserved attempt failed: once the count reaches the limit the account locks and the count starts over. */
export async function failAdminAttempt(
  db: Database,
  username: string,
  rule: LockoutRule,
  now: Date,
): Promise<FailureResult> {
  const t = db.t.adminUsers;
  const lockedUntil = iso(now.getTime() + rule.lockSeconds * 1000);
  const reaches = sql`${t.failedAttempts} >= ${rule.maxAttempts}`;
  const rows = await db.write(({ q }) =>
    q
      .update(t)
      .set({ failedAttempts: 0, lockedUntil, updatedAt: iso(now.getTime()) })
      .where(and(eq(t.username, username), reaches))
      .returning({ username: t.username }),
  );
  return rows[0] ? { locked: true, lockedUntil } : { locked: false };
}

/** Give a reserved attempt back (the password was right; only a complete sign-in clears the count). */
export async function refundAdminAttempt(db: Database, username: string, now: Date): Promise<void> {
  const t = db.t.adminUsers;
  await db.write(({ q }) =>
    q
      .update(t)
      .set({ failedAttempts: sql`${t.failedAttempts} - 1`, updatedAt: iso(now.getTime()) })
      .where(and(eq(t.username, username), gt(t.failedAttempts, 0))),
  );
}

// ---- the same lockout rule for names that have no account -----------------------------------

/** How long the failures of an unknown name are remembered (a real account's never fade). */
const UNKNOWN_NAME_MEMORY_SECONDS = 24 * 3600;

export function unknownNameKey(username: string): string {
  return createHash('sha256').update(`alphaswarm-admin/sign-in-name\0${username}`).digest('base64url');
}

export async function reserveUnknownNameAttempt(
  db: Database,
  username: string,
  rule: LockoutRule,
  now: Date,
): Promise<Reservation> {
  const t = db.t.signInUnknownUsers;
  const at = iso(now.getTime());
  const forget = iso(now.getTime() + UNKNOWN_NAME_MEMORY_SECONDS * 1000);
  const rows = await db.write(({ q }) =>
    q
      .insert(t)
      .values({ nameHash: unknownNameKey(username), failedAttempts: 1, lockedUntil: null, expiresAt: forget })
      .onConflictDoUpdate({
        target: t.nameHash,
        set: { failedAttempts: sql`${t.failedAttempts} + 1`, expiresAt: forget },
        setWhere: and(or(isNull(t.lockedUntil), lte(t.lockedUntil, at)), lt(t.failedAttempts, rule.maxAttempts)),
      })
      .returning({ nameHash: t.nameHash }),
  );
  if (rows[0]) return { ok: true };
  const [row] = await db.q
    .select()
    .from(t)
    .where(eq(t.nameHash, unknownNameKey(username)));
  return {
    ok: false,
    retryAfterSeconds: row?.lockedUntil && row.lockedUntil > at ? secondsUntil(row.lockedUntil, now) : 1,
  };
}

export async function failUnknownNameAttempt(
  db: Database,
  username: string,
  rule: LockoutRule,
  now: Date,
): Promise<FailureResult> {
  const t = db.t.signInUnknownUsers;
  const lockedUntil = iso(now.getTime() + rule.lockSeconds * 1000);
  const rows = await db.write(({ q }) =>
    q
      .update(t)
      .set({ failedAttempts: 0, lockedUntil })
      .where(and(eq(t.nameHash, unknownNameKey(username)), sql`${t.failedAttempts} >= ${rule.maxAttempts}`))
      .returning({ nameHash: t.nameHash }),
  );
  return rows[0] ? { locked: true, lockedUntil } : { locked: false };
}

/** An attempt on an unknown name that never ran (refused elsewhere) gives its reservation back. */
export async function refundUnknownNameAttempt(db: Database, username: string): Promise<void> {
  const t = db.t.signInUnknownUsers;
  await db.write(({ q }) =>
    q
      .update(t)
      .set({ failedAttempts: sql`${t.failedAttempts} - 1` })
      .where(and(eq(t.nameHash, unknownNameKey(username)), gt(t.failedAttempts, 0))),
  );
}

/** Rows whose window or memory has passed; safe to run from any process at any time. */
export async function pruneSignInLimits(db: Database, now: Date): Promise<void> {
  const at = iso(now.getTime());
  await db.write(async ({ q, t }) => {
    await q.delete(t.signInAddressLimits).where(lte(t.signInAddressLimits.expiresAt, at));
    await q.delete(t.signInUnknownUsers).where(lte(t.signInUnknownUsers.expiresAt, at));
  });
}
