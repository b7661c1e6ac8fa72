// StrykerJS options for one module of stryker/modules.mjs; scripts/mutation.sh writes a one-line
// config calling this and runs Stryker with it from the module's package directory.
import { fileURLToPath } from 'node:url';
import { MODULES } from './modules.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** Whether a module runs a narrowed vitest config (stryker/vitest.mjs) rather than the package's. */
export const narrowed = (module) => module.tests !== undefined || module.project !== undefined;

/** @returns {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export function strykerConfig(name, concurrency = 1) {
  const module = MODULES[name];
  if (!module) throw new Error(`No module ${name}; one of: ${Object.keys(MODULES).join(', ')}`);
  return {
    // pnpm keeps the runner out of core's own node_modules, so it is named by path.
    plugins: [here('../node_modules/@stryker-mutator/vitest-runner/dist/src/index.js')],
    testRunner: 'vitest',
    // Only the test files that import the mutated files (vitest's `related`), or the module's own
    // tests and project through the narrowed config scripts/mutation.sh writes (stryker/vitest.mjs).
    vitest: narrowed(module)
      ? { related: false, configFile: here(`../reports/mutation/${name}.vitest.mjs`) }
      : { related: true },
    mutate: module.mutate,
    coverageAnalysis: 'perTest',
    // Static mutants (module-level constants) would re-run every test per mutant; the rules they
    // hold are pinned by assertions on the exported constants instead.
    ignoreStatic: true,
    incremental: true,
    incrementalFile: here(`incremental/${name}.json`),
    concurrency,
    timeoutMS: 20_000,
    reporters: ['clear-text', 'json', 'progress-append-only'],
    jsonReporter: { fileName: here(`../reports/mutation/${name}.json`) },
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
  };
}
