#!/usr/bin/env bash
# Mutation testing of the security-critical modules (issue 17; docs/mutation.md). Slow, so not part
# of scripts/test.sh. Usage: bash scripts/mutation.sh [module ...]   (default: every module, in order)
# Modules: see stryker/modules.mjs. STRYKER_CONCURRENCY (default 1) sets parallel test runners.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mapfile -t all < <(node --input-type=module -e "import { MODULES } from './stryker/modules.mjs'; import { narrowed } from './stryker/config.mjs'; for (const [n, m] of Object.entries(MODULES)) console.log(n + ' ' + (narrowed(m) ? 1 : 0) + ' ' + m.dir);")
declare -A dirs
declare -A narrow
for line in "${all[@]}"; do
  read -r n k d <<<"$line"
  dirs[$n]=$d
  narrow[$n]=$k
done
if [ $# -eq 0 ]; then set -- $(for line in "${all[@]}"; do echo "${line%% *}"; done); fi
for name in "$@"; do
  dir=${dirs[$name]:-}
  [ -n "$dir" ] || { echo "unknown module: $name (see stryker/modules.mjs)" >&2; exit 2; }
  echo "» mutation: $name ($dir)"
  config="$root/reports/mutation/$name.config.mjs"
  mkdir -p "$root/reports/mutation"
  echo "import { strykerConfig } from '$root/stryker/config.mjs'; export default strykerConfig('$name', ${STRYKER_CONCURRENCY:-1});" >"$config"
  if [ "${narrow[$name]}" = 1 ]; then
    # apps/web keeps its vitest options in vite.config.ts (SvelteKit's plugin must load with them).
    base="$root/$dir/vitest.config.ts"
    [ -f "$base" ] || base="$root/$dir/vite.config.ts"
    echo "import base from '$base'; import { mutationVitestConfig } from '$root/stryker/vitest.mjs'; export default mutationVitestConfig(base, '$name');" >"$root/reports/mutation/$name.vitest.mjs"
  fi
  (cd "$dir" && pnpm exec stryker run "$config")
done
node stryker/score.mjs "$@"
