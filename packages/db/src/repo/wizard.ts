import { randomBytes } from 'node:crypto';
import { and, desc, eq, gt, lt, sql } from 'drizzle-orm';
import { wizardSessions } from '../schema';
import type { Db } from '../sqlite';

export type WizardRow = typeof wizardSessions.$inferSelect;

export async function createWizardSession(
  db: Db,
  input: { orgId: string; kind: string; createdBy: string; expiresAt: string },
  now: string,
): Promise<WizardRow> {
  const [row] = db
    .insert(wizardSessions)
    .values({
      id: `wiz_${randomBytes(16).toString('hex')}`,
      orgId: input.orgId,
      kind: input.kind,
      createdBy: input.createdBy,
      createdAt: now,
      updatedAt: now,
      expiresAt: input.expiresAt,
      state: {},
      version: 0,
    })
    .returning()
    .all();
  return row!;
}

export async function getWizardSession(db: Db, id: string): Promise<WizardRow | undefined> {
  return db.select().from(wizardSessions).where(eq(wizardSessions.id, id)).get();
}

/**
 * Write a step's result only if the session is still the version the caller read, so two tabs
 * racing on one session cannot silently drop each other's step (even within one second).
 */
export async function updateWizardState(
  db: Db,
  row: WizardRow,
  state: Record<string, unknown>,
  now: string,
): Promise<WizardRow | undefined> {
  return db
    .update(wizardSessions)
    .set({ state, updatedAt: now, version: sql`${wizardSessions.version} + 1` })
    .where(and(eq(wizardSessions.id, row.id), eq(wizardSessions.version, row.version)))
    .returning()
    .all()[0];
}

export async function deleteWizardSession(db: Db, id: string): Promise<void> {
  db.delete(wizardSessions).where(eq(wizardSessions.id, id)).run();
}

export async function purgeExpiredWizardSessions(db: Db, now: string): Promise<number> {
  return db.delete(wizardSessions).where(lt(wizardSessions.expiresAt, now)).run().changes;
}

/** Live sessions of an org, newest first. */
export async function listWizardSessions(db: Db, orgId: string, now: string): Promise<WizardRow[]> {
  return db
    .select()
    .from(wizardSessions)
    .where(and(eq(wizardSessions.orgId, orgId), gt(wizardSessions.expiresAt, now)))
    .orderBy(desc(wizardSessions.updatedAt))
    .limit(50)
    .all();
}
