#!/usr/bin/env bash
# Set up (dependencies, Chromium, the server build) and run every test: lint, types, unit +
# integration, browser. Ends with one line over every runner and the wall time of each phase.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
timings=()
# Wall time and CPU time (user + system of every process it ran) per phase: on a shared machine
# the CPU time says what a phase costs, the wall time what it took.
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
# `times` must run in this shell (a command substitution would report its own subshell).
cpu() {
  times >"$log/times"
  now_cpu=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$log/times")
}
lap() {
  cpu
  timings+=("$1 $((SECONDS - lap_start))s (cpu $((now_cpu - lap_cpu))s)")
  lap_start=$SECONDS
  lap_cpu=$now_cpu
}
lap_start=$SECONDS
cpu
lap_cpu=$now_cpu

bash scripts/setup.sh --browser
export TURBO_TELEMETRY_DISABLED=1 npm_config_nodedir="${npm_config_nodedir:-/usr}"
# The suites start Python dozens of times to check files against `cryptography`; a version
# manager's python3 shim (pyenv) costs a second per start, so the interpreter itself goes first.
if python=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null); then
  export PATH="$(dirname "$python"):$PATH"
fi
lap setup

echo "» lint"
pnpm exec biome check .
lap lint

# One tsc program over every TypeScript package (a file several packages import is checked once),
# beside the console's production build (for the browser tests) and then svelte-check. The build
# and svelte-check both write apps/web/.svelte-kit, so they run one after the other.
echo "» typecheck (and the console's build)"
pnpm exec tsc -p tsconfig.check.json >"$log/tsc" 2>&1 &
tsc_pid=$!
if ! pnpm --filter @alphaswarm/web build >"$log/build" 2>&1; then
  cat "$log/build"
  exit 1
fi
if ! pnpm --filter @alphaswarm/web run typecheck >"$log/svelte" 2>&1; then
  cat "$log/svelte"
  exit 1
fi
if ! wait "$tsc_pid"; then
  cat "$log/tsc"
  exit 1
fi
lap typecheck

echo "» tests"
# Two lanes: the server's suite (the longest, about two thirds of the time) beside every other
# package's, one after the other. Each vitest run keeps about one and a half cores busy and waits on
# loopback servers and subprocesses for the rest; side by side they fill both cores (102 s -> 84 s
# wall here, the same CPU). --continue: one failing package does not hide the others' results.
status=0
(pnpm exec turbo run test --filter=@alphaswarm/server --output-logs=full 2>&1 | tee "$log/tests-server") &
server_lane=$!
pnpm exec turbo run test --filter='!@alphaswarm/server' --concurrency=1 --continue --output-logs=full 2>&1 |
  tee "$log/tests-rest" || status=1
wait "$server_lane" || status=1
cat "$log/tests-rest" "$log/tests-server" >"$log/tests"
lap tests

echo "» browser tests"
(cd apps/web && pnpm exec playwright test) 2>&1 | tee "$log/e2e" || status=1
lap browser

# One closing line over every runner: vitest's "Tests  N passed" and Playwright's "N passed".
sed -E 's/\x1b\[[0-9;]*m//g' "$log/tests" "$log/e2e" | awk '
  /Tests +.*[0-9]+ passed/ { for (i = 1; i < NF; i++) if ($(i + 1) == "passed") p += $i }
  /Tests +.*[0-9]+ failed/ { for (i = 1; i < NF; i++) if ($(i + 1) == "failed") f += $i }
  /^ +[0-9]+ passed \(/ { p += $1 }
  /^ +[0-9]+ failed$/ { f += $1 }
  END { printf "tests: %d passed, %d failed\n", p, f }'
echo "time: ${timings[*]} — total $((SECONDS - start))s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
# Each vitest run's own wall time.
sed -E 's/\x1b\[[0-9;]*m//g' "$log/tests" | awk '/:test: +Duration/ { split($1, p, ":"); printf "  %s %s\n", p[1], $3 }'
exit "$status"
