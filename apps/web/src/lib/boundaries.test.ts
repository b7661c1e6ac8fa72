import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * Imports flow one way: the console reaches the API through `@alphaswarm/api` types and its
 * client, and reads kinds and contracts; never the server or the providers (those only its
 * Playwright setup in e2e/ may use). The database only from `$lib/server/session-store.ts`: the
 * console keeps its sessions in the API's database so that replicas share them and a restart
 * signs nobody out (one table, `console_sessions`, through the db package's repo); everything
 * else the console knows comes from the API. Browser code loads no zod: contracts by type only,
 * kinds from the zod-free `@alphaswarm/contracts/kinds`.
 */

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|js|svelte)$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(statement)) {
    found.push({ file: relative(SRC, file), specifier: m[3] as string, typeOnly: m[2] !== undefined });
  }
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push({ file: relative(SRC, file), specifier: m[1] as string, typeOnly: false });
  }
  return found;
}

/** Runs only on the server: SvelteKit's server modules and $lib/server. */
function serverOnly(file: string): boolean {
  return /(^|\/)lib\/server\//.test(file) || /(\+page\.server|\+layout\.server|\+server|hooks\.server)\.ts$/.test(file);
}

const all = sources(SRC).flatMap(importsOf);

describe('the console’s imports', () => {
  it('are read from every source file (the check itself sees imports)', () => {
    expect(all.some((i) => i.specifier === '@alphaswarm/api/client')).toBe(true);
    expect(all.some((i) => i.specifier === '@alphaswarm/contracts/kinds' && !i.typeOnly)).toBe(true);
  });

  it('never reach the server or the providers, and the database only from the session store', () => {
    const forbidden = all.filter((i) => /^@alphaswarm\/(server|providers)(\/|$)/.test(i.specifier));
    expect(forbidden).toEqual([]);
    const database = all.filter((i) => /^@alphaswarm\/db(\/|$)/.test(i.specifier));
    expect([...new Set(database.map((i) => i.file))]).toEqual(['lib/server/session-store.ts']);
  });

  it('take the API as types only, and its client', () => {
    const runtime = all.filter((i) => i.specifier.startsWith('@alphaswarm/api') && !i.typeOnly);
    expect(runtime.map((i) => i.specifier)).toEqual(runtime.map(() => '@alphaswarm/api/client'));
    for (const i of runtime) expect(serverOnly(i.file), i.file).toBe(true);
  });

  it('load no zod in the browser: contracts by type, kinds from the zod-free entry', () => {
    const browserSchemas = all.filter(
      (i) => !serverOnly(i.file) && i.specifier === '@alphaswarm/contracts' && !i.typeOnly,
    );
    expect(browserSchemas).toEqual([]);
  });
});

describe('browser code', () => {
  // A fresh renderer loads its ICU data to build the first Intl formatter: 100 ms and more of the
  // page's hydration on a busy machine (bench/web.ts). Words such as "3 days ago" are made on
  // the server ($lib/server/format.ts) and reach the page as text.
  it('builds no Intl formatter and formats nothing by locale', () => {
    const locale = /\bIntl\.[A-Z]\w*\s*\(|\.toLocale\w*String\s*\(/;
    const formatting = sources(SRC)
      .map((file) => relative(SRC, file))
      .filter((file) => !serverOnly(file) && locale.test(readFileSync(join(SRC, file), 'utf8')));
    expect(formatting).toEqual([]);
  });
});
