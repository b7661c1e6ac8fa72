import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { getTableConfig as pgConfig } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { renderSchema, SCHEMA_FILES } from '../../scripts/gen-schema';
import { MIGRATIONS_FOLDER } from '../migrations';
import * as pg from './pg';
import * as sqlite from './sqlite';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the generated schemas', () => {
  it('are what scripts/gen-schema.ts makes of model.ts (run `pnpm --filter @alphaswarm/db gen-schema`)', () => {
    for (const dialect of ['sqlite', 'pg'] as const) {
      expect(readFileSync(SCHEMA_FILES[dialect], 'utf8'), SCHEMA_FILES[dialect]).toBe(renderSchema(dialect));
    }
  });

  it('declare the same tables, columns, keys and indexes in both dialects', () => {
    const shape = (config: {
      name: string;
      columns: { name: string; notNull: boolean; primary: boolean; isUnique: boolean }[];
      indexes: { config: { name?: string; unique: boolean } }[];
    }) => ({
      name: config.name,
      columns: config.columns.map((c) => [c.name, c.notNull, c.primary, c.isUnique]),
      indexes: config.indexes.map((i) => [i.config.name, i.config.unique]),
    });
    const pgTables = Object.entries({ ...pg });
    const sqliteTables = new Map(Object.entries({ ...sqlite }));
    expect([...sqliteTables.keys()]).toEqual(pgTables.map(([name]) => name));
    for (const [name, table] of pgTables) {
      const b = shape(sqliteConfig(sqliteTables.get(name)!) as never);
      expect(b, name).toEqual(shape(pgConfig(table) as never));
    }
  });

  it('have every change in a migration of each dialect (drizzle-kit finds nothing to generate)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'schema-'));
    try {
      for (const [dialect, kit, schema] of [
        ['sqlite', 'sqlite', 'src/schema/sqlite.ts'],
        ['postgres', 'postgresql', 'src/schema/pg.ts'],
      ] as const) {
        const out = join(dir, dialect);
        cpSync(MIGRATIONS_FOLDER[dialect], out, { recursive: true });
        const config = join(dir, `${dialect}.config.json`);
        // drizzle-kit reads `out` relative to its working directory.
        writeFileSync(config, JSON.stringify({ dialect: kit, schema, out: relative(ROOT, out) }));
        const output = execFileSync(join(ROOT, 'node_modules/.bin/drizzle-kit'), ['generate', `--config=${config}`], {
          cwd: ROOT,
          encoding: 'utf8',
        });
        expect(output, dialect).toContain('No schema changes');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
