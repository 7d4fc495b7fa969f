#!/usr/bin/env bash
# Runs every test that involves an ICMP limiter, loss or timing against real kernels
# (integration.limits.*, integration.ratelimit, netlab.*) N times in a row, stopping a
# test at its first failure; with --busy, while stress-ng keeps both cores busy.
# Not part of every CI run: a pass of the 37 tests takes about 6 minutes on 2 cores
# (busy, 2026-12-07: 37/37 in 6 minutes), so 20 passes take two hours. Run as root after
# scripts/setup.sh.
#   scripts/repeat.sh 20            20 times each on a quiet machine
#   scripts/repeat.sh 20 --busy     20 times each under stress-ng --cpu 2
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
busy=0
[ "${2:-}" = --busy ] && busy=1
[ -x build/bin/scanfw ] || { echo "build/ has no scanfw: run scripts/setup.sh first" >&2; exit 2; }
if [ "$busy" = 1 ]; then
    command -v stress-ng >/dev/null || { echo "stress-ng is not installed (scripts/setup.sh)" >&2; exit 2; }
    stress-ng --cpu 2 --cpu-load 100 --timeout 86400 >/dev/null 2>&1 &
    stress=$!
    trap 'kill $stress 2>/dev/null; wait $stress 2>/dev/null || true' EXIT
fi
start=$(date +%s)
status=0
ctest --test-dir build -j2 --output-on-failure --repeat "until-fail:$n" \
    -R '^(integration\.limits\.|integration\.ratelimit$|netlab\.)' -E 'limits\.busy' || status=1
echo "== $n runs of each ($([ "$busy" = 1 ] && echo busy || echo quiet)): $(( ($(date +%s) - start) / 60 )) minutes, exit $status"
exit "$status"
