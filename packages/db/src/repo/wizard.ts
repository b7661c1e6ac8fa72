import { randomBytes } from 'node:crypto';
import { and, desc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Database, Tables } from '../database';

export type WizardRow = Tables['wizardSessions']['$inferSelect'];

export async function createWizardSession(
  db: Database,
  input: { orgId: string; kind: string; createdBy: string; expiresAt: string },
  now: string,
): Promise<WizardRow> {
  const [row] = await db.write(({ q, t }) =>
    q
      .insert(t.wizardSessions)
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
      .returning(),
  );
  return row!;
}

export async function getWizardSession(db: Database, id: string): Promise<WizardRow | undefined> {
  const { wizardSessions } = db.t;
  const [row] = await db.q.select().from(wizardSessions).where(eq(wizardSessions.id, id));
  return row;
}

/**
 * Write a step's result only if the session is still the version the caller read, so two tabs
 * racing on one session cannot silently drop each other's step (even within one second).
 */
export async function updateWizardState(
  db: Database,
  row: WizardRow,
  state: Record<string, unknown>,
  now: string,
): Promise<WizardRow | undefined> {
  const [next] = await db.write(({ q, t }) =>
    q
      .update(t.wizardSessions)
      .set({ state, updatedAt: now, version: sql`${t.wizardSessions.version} + 1` })
      .where(and(eq(t.wizardSessions.id, row.id), eq(t.wizardSessions.version, row.version)))
      .returning(),
  );
  return next;
}

export async function deleteWizardSession(db: Database, id: string): Promise<void> {
  await db.write(({ q, t }) => q.delete(t.wizardSessions).where(eq(t.wizardSessions.id, id)));
}

export async function purgeExpiredWizardSessions(db: Database, now: string): Promise<number> {
  const rows = await db.write(({ q, t }) =>
    q.delete(t.wizardSessions).where(lt(t.wizardSessions.expiresAt, now)).returning({ id: t.wizardSessions.id }),
  );
  return rows.length;
}

/** Live sessions of an org, newest first. */
export async function listWizardSessions(db: Database, orgId: string, now: string): Promise<WizardRow[]> {
  const { wizardSessions } = db.t;
  return db.q
    .select()
    .from(wizardSessions)
    .where(and(eq(wizardSessions.orgId, orgId), gt(wizardSessions.expiresAt, now)))
    .orderBy(desc(wizardSessions.updatedAt))
    .limit(50);
}

/** A shared session lives at least as long as its link: only ever moves the expiry later. */
export async function extendWizardSession(db: Database, id: string, expiresAt: string): Promise<void> {
  await db.write(({ q, t }) =>
    q
      .update(t.wizardSessions)
      .set({ expiresAt })
      .where(and(eq(t.wizardSessions.id, id), lt(t.wizardSessions.expiresAt, expiresAt))),
  );
}
