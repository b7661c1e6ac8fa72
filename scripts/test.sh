#!/usr/bin/env bash
# Set up (dependencies, Chromium) and run every test: lint, types, unit + integration, browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export TURBO_TELEMETRY_DISABLED=1 npm_config_nodedir="${npm_config_nodedir:-/usr}"

echo "» lint";       pnpm exec biome check .
echo "» typecheck";  pnpm exec turbo run typecheck --output-logs=errors-only
echo "» tests";      pnpm exec turbo run test --concurrency=1 --output-logs=full
if [ -d apps/web/e2e ] && ls apps/web/e2e/*.spec.ts >/dev/null 2>&1; then
  echo "» browser tests"; pnpm exec turbo run e2e --output-logs=full
fi
echo "» all tests passed"
