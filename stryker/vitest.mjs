// The vitest config of one module's Stryker run (stryker/modules.mjs): the package's own config,
// with the module's project (name, provided values, excludes) folded in and its test files only.
// scripts/mutation.sh writes a one-line config that imports the package's config and calls this.
import { MODULES } from './modules.mjs';

export function mutationVitestConfig(base, name) {
  // apps/web's config is a function of vite's environment (its build options depend on it).
  if (typeof base === 'function') return async (env) => mutationVitestConfig(await base(env), name);
  const module = MODULES[name];
  const { projects, ...shared } = base.test ?? {};
  let project = {};
  if (module.project !== undefined) {
    const found = (projects ?? []).find((p) => typeof p === 'object' && p.test?.name === module.project);
    if (found === undefined) throw new Error(`${module.dir}/vitest.config.ts has no project ${module.project}`);
    project = found.test;
  }
  const test = { ...shared, ...project };
  if (module.tests !== undefined) test.include = module.tests;
  // Stryker runs vitest from its sandbox, a copy of the package: that is the root, not this file's folder.
  return { ...base, root: process.cwd(), test };
}
