// StrykerJS for one module of stryker/modules.mjs, chosen by STRYKER_MODULE; run through
// scripts/mutation.sh, from the module's package directory.
import { fileURLToPath } from 'node:url';
import { MODULES } from './modules.mjs';

const name = process.env.STRYKER_MODULE;
const module = MODULES[name];
if (!module) throw new Error(`STRYKER_MODULE must be one of: ${Object.keys(MODULES).join(', ')}`);
const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // pnpm keeps the runner out of core's own node_modules, so name it by path.
  plugins: [here('../node_modules/@stryker-mutator/vitest-runner/dist/src/index.js')],
  testRunner: 'vitest',
  vitest: { related: true },
  mutate: module.mutate,
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants) re-run every test per mutant; their rules are pinned
  // by assertions on the exported constants instead.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: here(`incremental/${name}.json`),
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 1),
  timeoutMS: 20_000,
  reporters: ['clear-text', 'json', 'progress-append-only'],
  jsonReporter: { fileName: here(`../reports/mutation/${name}.json`) },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
