// Compile the server, the CLI and the sandbox to apps/server/dist with esbuild: one ESM bundle per
// entry, code split so that a command loads only what it uses (`--help` loads neither the database
// nor the HTTP stack nor the cloud SDKs). Production paths run this output, never a TypeScript loader.
//
//   node build.mjs            build
//   node build.mjs --if-stale build only when a source is newer than the build (or there is none)
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SERVER = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(SERVER, '../..');
export const DIST = join(SERVER, 'dist');
/** Written last: its mtime is the build's, and the bin compares sources against it. */
export const STAMP = join(DIST, 'cli.js');

/** What the build is made of, besides node_modules: bin/alphaswarm-admin checks the same places. */
const SOURCES = [
  'apps/server/src',
  'packages/api/src',
  'packages/contracts/src',
  'packages/db/src',
  'packages/providers/src',
];
const SOURCE_FILE = /\.(ts|json)$/;
const TEST_FILE = /\.test\.ts$/;

/** The first source file newer than the build, the lockfile (new dependencies) included; null if none. */
export function staleSource() {
  if (!existsSync(STAMP)) return STAMP;
  const built = statSync(STAMP).mtimeMs;
  const lock = join(REPO, 'pnpm-lock.yaml');
  if (existsSync(lock) && statSync(lock).mtimeMs > built) return lock;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(path);
        if (found) return found;
      } else if (SOURCE_FILE.test(entry.name) && !TEST_FILE.test(entry.name) && statSync(path).mtimeMs > built) {
        return path;
      }
    }
    return null;
  };
  for (const dir of SOURCES) {
    const found = existsSync(join(REPO, dir)) ? walk(join(REPO, dir)) : null;
    if (found) return found;
  }
  return null;
}

/**
 * Bundled code runs from dist/, so a workspace file that finds its neighbours through
 * `import.meta.url` (the migrations folder, the repository root) gets the URL of where it lives
 * in the checkout instead, relative to the output so the checkout can move.
 */
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromDist = relative(DIST, args.path);
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromDist)}, import.meta.url).href`),
        loader: 'ts',
      };
    });
  },
};

export async function buildServer() {
  const { build } = await import('esbuild');
  rmSync(DIST, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: SERVER,
    entryPoints: { cli: 'src/cli/main.ts', sandbox: 'src/sandbox/main.ts' },
    outdir: DIST,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // A native addon: loaded from node_modules at run time.
    external: ['better-sqlite3'],
    // Bundled CommonJS packages still call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    // Chunks sit beside the entries (esbuild's default): the import.meta.url rewrite assumes dist/.
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [sourceUrls],
    write: true,
  });
  // esbuild writes entries and chunks in no set order: the stamp is touched last.
  const now = new Date();
  utimesSync(STAMP, now, now);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ifStale = process.argv.includes('--if-stale');
  const stale = ifStale ? staleSource() : STAMP;
  if (stale) {
    const started = performance.now();
    await buildServer();
    if (!ifStale || process.stdout.isTTY)
      console.log(`built apps/server/dist in ${Math.round(performance.now() - started)} ms`);
  }
}
