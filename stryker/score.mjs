// Prints the mutation score of each module from its last JSON report (reports/mutation/<name>.json).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODULES } from './modules.mjs';

const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(MODULES);
const rows = [];
for (const name of names) {
  const file = fileURLToPath(new URL(`../reports/mutation/${name}.json`, import.meta.url));
  if (!existsSync(file)) {
    rows.push([name, 'not run', '', '', '', '']);
    continue;
  }
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  for (const f of Object.values(JSON.parse(readFileSync(file, 'utf8')).files))
    for (const m of f.mutants) if (m.status in counts) counts[m.status]++;
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  const score = valid ? ((100 * detected) / valid).toFixed(1) : '–';
  rows.push([name, `${score} %`, detected, counts.Survived, counts.NoCoverage, valid]);
}
console.log(['module', 'score', 'killed', 'survived', 'no coverage', 'mutants'].join('\t'));
for (const r of rows) console.log(r.join('\t'));
