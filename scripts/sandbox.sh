#!/usr/bin/env bash
# Set up and run the sandbox: API server + console + loopback fakes of all six upstreams + a seeded admin.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TURBO_TELEMETRY_DISABLED=1
echo "» building the console"
pnpm --filter @alphaswarm/web build >/dev/null
exec node apps/server/dist/sandbox.js "$@"
