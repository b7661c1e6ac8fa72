// Copy every table of one database into another, empty one (copy-db: SQLite to PostgreSQL). Driven
// by the schema model, so a new table is copied without touching this file; rows are copied as
// stored (ciphertexts, audit seq and links), in one transaction on each side.
import { asc, count, gt } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { ChainVerifierOptions } from './audit/chain';
import { type Database, DatabaseError, type Store } from './database';
import { POSTGRES_TABLES, resetPostgresIdentity } from './postgres';
import { type AuditVerdict, verifyAudit } from './repo/audit';
import { model, type Table } from './schema/model';
import { SQLITE_TABLES } from './sqlite';

export class CopyError extends DatabaseError {}

export interface CopyOptions {
  /** Rows per insert statement at most (also bounded by PostgreSQL's 65,535 parameters). */
  batchRows?: number;
  /** Rows copied so far, of all tables. */
  onProgress?: (done: number, total: number) => void;
  /** How the copied audit chain is verified (the audit key ring, as `audit-verify` uses it). */
  verify?: ChainVerifierOptions;
}

export interface CopiedTable {
  name: string;
  rows: number;
}

export interface CopyResult {
  tables: CopiedTable[];
  rows: number;
  audit: AuditVerdict;
}

const PARAMETERS_PER_STATEMENT = 30_000;

function tableOf(db: Database, key: string): PgTable {
  const table = (db.t as unknown as Record<string, PgTable | undefined>)[key];
  if (!table) throw new CopyError(`the schema has no table ${key}: regenerate the schemas from model.ts`);
  return table;
}

/** The column a table is paged by, or null: then it is paged by offset over all its columns. */
function primaryKeyOf(table: Table): string | null {
  const keys = Object.entries(table.columns).filter(([, c]) => c.primaryKey);
  return keys.length === 1 ? keys[0]![0] : null;
}

async function tableNames(store: Store): Promise<string[]> {
  const rows = await store.exec(store.dialect === 'sqlite' ? SQLITE_TABLES : POSTGRES_TABLES);
  return rows.map((r) => String(r.name));
}

async function rowCount(db: Database, table: PgTable): Promise<number> {
  const [row] = await db.q.select({ n: count() }).from(table);
  return Number(row?.n ?? 0);
}

/**
 * Copy every table of `source` into `target`, whose schema must be migrated and whose tables must
 * all be empty. One transaction on each side: the source is read as one consistent state (on
 * SQLite, writers wait), and the target commits all of it, counts and audit chain verified, or
 * nothing. A table in the source that the schema does not know stops the copy before anything is
 * written.
 */
export async function copyDatabase(source: Store, target: Store, opts: CopyOptions = {}): Promise<CopyResult> {
  const tables = Object.entries(model);
  const known = new Set(tables.map(([, t]) => t.name));
  return source.db.write(async (src) => {
    // Raw statements of the source before the target's transaction opens: inside it, only that
    // transaction is the open one of this async context.
    const unknown = (await tableNames(source)).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new CopyError(
        `the source database has ${unknown.length === 1 ? 'a table' : 'tables'} this build does not know (${unknown.join(', ')}): copy it with the build that created ${unknown.length === 1 ? 'it' : 'them'}. Nothing was copied.`,
      );
    }
    return target.db.write(async (dst) => {
      const present = new Set(await tableNames(target));
      const missing = tables.filter(([, t]) => !present.has(t.name)).map(([, t]) => t.name);
      if (missing.length > 0) {
        throw new CopyError(`the target database lacks ${missing.join(', ')}: migrate it first. Nothing was copied.`);
      }
      const filled: string[] = [];
      const planned: { key: string; table: Table; rows: number }[] = [];
      for (const [key, table] of tables) {
        if ((await rowCount(dst, tableOf(dst, key))) > 0) filled.push(table.name);
        planned.push({ key, table, rows: await rowCount(src, tableOf(src, key)) });
      }
      if (filled.length > 0) {
        throw new CopyError(
          `the target database is not empty (rows in ${filled.join(', ')}): copy-db only fills an empty database. Nothing was copied.`,
        );
      }
      const total = planned.reduce((sum, p) => sum + p.rows, 0);
      let done = 0;
      opts.onProgress?.(0, total);
      for (const { key, table } of planned) {
        const from = tableOf(src, key);
        const to = tableOf(dst, key);
        const pk = primaryKeyOf(table);
        const column = (name: string) => (from as unknown as Record<string, Parameters<typeof asc>[0]>)[name]!;
        const perStatement = Math.floor(PARAMETERS_PER_STATEMENT / Object.keys(table.columns).length);
        const batch = Math.max(1, Math.min(opts.batchRows ?? 1000, perStatement));
        const identity = Object.values(table.columns).some((c) => c.type === 'serial');
        let last: unknown;
        let offset = 0;
        for (;;) {
          // By key after the last row; a table without a one-column key (alert_marks) by offset,
          // which is stable here: the source is read inside one transaction.
          const rows: Record<string, unknown>[] = pk
            ? await src.q
                .select()
                .from(from)
                .where(last === undefined ? undefined : gt(column(pk), last))
                .orderBy(asc(column(pk)))
                .limit(batch)
            : await src.q
                .select()
                .from(from)
                .orderBy(...Object.keys(table.columns).map((c) => asc(column(c))))
                .limit(batch)
                .offset(offset);
          if (rows.length === 0) break;
          // Identity values are the rows' own (the audit seq): insert them as they are.
          const insert =
            identity && dst.dialect === 'postgres' ? dst.q.insert(to).overridingSystemValue() : dst.q.insert(to);
          await insert.values(rows as never);
          if (pk) last = rows.at(-1)![pk];
          offset += rows.length;
          done += rows.length;
          opts.onProgress?.(done, total);
          if (rows.length < batch) break;
        }
      }
      if (dst.dialect === 'postgres') {
        for (const table of Object.values(model)) {
          for (const column of Object.values(table.columns).filter((c) => c.type === 'serial')) {
            await target.exec(resetPostgresIdentity(table.name, column.name));
          }
        }
      }
      const copied: CopiedTable[] = [];
      for (const { key, table, rows } of planned) {
        const landed = await rowCount(dst, tableOf(dst, key));
        if (landed !== rows) {
          throw new CopyError(
            `table ${table.name}: ${rows} rows read but ${landed} in the target. Nothing was copied.`,
          );
        }
        copied.push({ name: table.name, rows });
      }
      const audit = await verifyAudit(dst, opts.verify);
      if (!audit.ok) {
        throw new CopyError(
          `the audit chain of the copy does not verify (seq ${audit.broken?.seq}: ${audit.broken?.reason}); run audit-verify on the source. Nothing was copied.`,
        );
      }
      return { tables: copied, rows: total, audit };
    });
  });
}
