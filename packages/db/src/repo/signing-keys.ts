import { and, asc, eq, gt, isNull, or } from 'drizzle-orm';
import { signingKeys } from '../schema';
import type { Db } from '../sqlite';

export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type IssuerName = 'admin' | 'workload' | 'audit';

export async function insertSigningKey(db: Db, row: SigningKeyRow): Promise<void> {
  db.insert(signingKeys).values(row).run();
}

/** The newest key that still signs. */
export async function activeSigningKey(db: Db, issuer: IssuerName): Promise<SigningKeyRow | undefined> {
  const rows = db
    .select()
    .from(signingKeys)
    .where(and(eq(signingKeys.issuer, issuer), isNull(signingKeys.retiredAt)))
    .orderBy(asc(signingKeys.createdAt))
    .all();
  return rows.at(-1);
}

/** Keys to publish in the JWKS: active ones, and retired ones until their tokens have expired. */
export async function publishedSigningKeys(db: Db, issuer: IssuerName, now: string): Promise<SigningKeyRow[]> {
  return db
    .select()
    .from(signingKeys)
    .where(and(eq(signingKeys.issuer, issuer), or(isNull(signingKeys.retiredAt), gt(signingKeys.publishUntil, now))))
    .orderBy(asc(signingKeys.createdAt))
    .all();
}

/** Stop signing with every current key of the issuer; keep them published until `publishUntil`. */
export async function retireSigningKeys(db: Db, issuer: IssuerName, now: string, publishUntil: string): Promise<void> {
  db.update(signingKeys)
    .set({ retiredAt: now, publishUntil })
    .where(and(eq(signingKeys.issuer, issuer), isNull(signingKeys.retiredAt)))
    .run();
}

export async function allSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  return db.select().from(signingKeys).all();
}

export async function updateSigningKeyCiphertext(db: Db, kid: string, privateKey: string): Promise<void> {
  db.update(signingKeys).set({ privateKey }).where(eq(signingKeys.kid, kid)).run();
}
