#!/usr/bin/env bash
# Install everything the workspace needs on a machine with Node 20, npm, python3 and apt.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

export npm_config_nodedir="${npm_config_nodedir:-/usr}"   # better-sqlite3 compiles against Node's headers
export TURBO_TELEMETRY_DISABLED=1

PNPM_VERSION=12.4.2
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "» installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || npm install -g "pnpm@$PNPM_VERSION"
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  echo "» installing Debian chromium (browser tests)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# The test suites run every database test on PostgreSQL too, in a throwaway cluster of their own.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "» installing Debian postgresql (tests on PostgreSQL)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

echo "» installing workspace dependencies"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -v -E 'install: |^\s*$' | tail -n 5

# The client package's tarball (its test installs it with npm outside the workspace); turbo skips it when unchanged.
echo "» building the admin client package"
pnpm exec turbo run build --filter=@alphaswarm/admin-client --output-logs=errors-only >/dev/null
