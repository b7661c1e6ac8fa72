import { and, asc, eq, gt, isNull, or } from 'drizzle-orm';
import type { Database, Tables } from '../database';

export type SigningKeyRow = Tables['signingKeys']['$inferSelect'];
export type IssuerName = 'admin' | 'workload' | 'audit';

export async function insertSigningKey(db: Database, row: SigningKeyRow): Promise<void> {
  await db.write(({ q, t }) => q.insert(t.signingKeys).values(row));
}

/** The newest key that still signs. */
export async function activeSigningKey(db: Database, issuer: IssuerName): Promise<SigningKeyRow | undefined> {
  const { signingKeys } = db.t;
  const rows = await db.q
    .select()
    .from(signingKeys)
    .where(and(eq(signingKeys.issuer, issuer), isNull(signingKeys.retiredAt)))
    .orderBy(asc(signingKeys.createdAt));
  return rows.at(-1);
}

/** Keys to publish in the JWKS: active ones, and retired ones until their tokens have expired. */
export async function publishedSigningKeys(db: Database, issuer: IssuerName, now: string): Promise<SigningKeyRow[]> {
  const { signingKeys } = db.t;
  return db.q
    .select()
    .from(signingKeys)
    .where(and(eq(signingKeys.issuer, issuer), or(isNull(signingKeys.retiredAt), gt(signingKeys.publishUntil, now))))
    .orderBy(asc(signingKeys.createdAt));
}

/** Stop signing with every current key of the issuer; keep them published until `publishUntil`. */
export async function retireSigningKeys(
  db: Database,
  issuer: IssuerName,
  now: string,
  publishUntil: string,
): Promise<void> {
  await db.write(({ q, t }) =>
    q
      .update(t.signingKeys)
      .set({ retiredAt: now, publishUntil })
      .where(and(eq(t.signingKeys.issuer, issuer), isNull(t.signingKeys.retiredAt))),
  );
}

export async function allSigningKeys(db: Database): Promise<SigningKeyRow[]> {
  return db.q.select().from(db.t.signingKeys);
}

export async function updateSigningKeyCiphertext(db: Database, kid: string, privateKey: string): Promise<void> {
  await db.write(({ q, t }) => q.update(t.signingKeys).set({ privateKey }).where(eq(t.signingKeys.kid, kid)));
}
