#!/usr/bin/env bash
# Set up (dependencies, Chromium) and run every test: lint, types, unit + integration, browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export TURBO_TELEMETRY_DISABLED=1 npm_config_nodedir="${npm_config_nodedir:-/usr}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "» lint";       pnpm exec biome check .
echo "» typecheck";  pnpm exec turbo run typecheck --output-logs=errors-only
echo "» tests";      pnpm exec turbo run test --concurrency=1 --output-logs=full 2>&1 | tee -a "$log"
echo "» browser tests"; pnpm exec turbo run e2e --output-logs=full 2>&1 | tee -a "$log"

# One closing line over every runner: vitest's "Tests  N passed" and Playwright's "N passed".
sed -E 's/\x1b\[[0-9;]*m//g' "$log" | awk '
  /Tests +[0-9]+ passed/ { for (i = 1; i < NF; i++) if ($(i + 1) == "passed") p += $i }
  /Tests +.*[0-9]+ failed/ { for (i = 1; i < NF; i++) if ($(i + 1) == "failed") f += $i }
  /e2e: +[0-9]+ passed/ { for (i = 1; i < NF; i++) if ($(i + 1) == "passed") p += $i }
  /e2e: +[0-9]+ failed/ { for (i = 1; i < NF; i++) if ($(i + 1) == "failed") f += $i }
  END { printf "tests: %d passed, %d failed\n", p, f }'
