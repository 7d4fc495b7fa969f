#!/usr/bin/env bash
# A UDP scan of a target that rate-limits its ICMP errors (Linux's default: a burst
# of 6, then one a second): closed ports must still read closed, not open|filtered.
# With --defeat-icmp-ratelimit the scan is quick and some closed ports read
# open|filtered instead, as documented.
# Usage: ratelimit.sh SCANFW_BINARY
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
bin=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ratelimit.XXXXXX")
netlab_on_exit "rm -rf $(printf '%q' "$work")"
prefix=$(netlab_prefix rl)
netlab_up "$prefix" --icmp linux  # the kernel's defaults (netlab_up's default is none)

fail=0
check() { if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
count() { jq -r --arg s "$2" 'select(.port and .state == $s) | .port' "$1" | wc -l; }

# 40-60 has no listener but 53: twenty closed ports, one open; 161 is dropped.
netlab_exec_scanner "$prefix" timeout 100 "$bin" --plugin udp -p 40-60,161 -oJ "$work/slow.jsonl" 198.18.0.2 \
  >/dev/null 2>"$work/err" || { echo "scanfw failed: $(cat "$work/err")"; fail=1; }
check "20 closed ports read closed ($(count "$work/slow.jsonl" closed))" test "$(count "$work/slow.jsonl" closed)" = 20
check "53 open" test "$(jq -r 'select(.port == 53) | .state' "$work/slow.jsonl")" = open
check "161 (dropped) open|filtered" test "$(jq -r 'select(.port == 161) | .state' "$work/slow.jsonl")" = "open|filtered"

start=$(date +%s)
netlab_exec_scanner "$prefix" timeout 100 "$bin" --plugin udp -p 40-60,161 --defeat-icmp-ratelimit \
  -oJ "$work/fast.jsonl" 198.18.0.2 >/dev/null 2>"$work/err" || { echo "scanfw failed: $(cat "$work/err")"; fail=1; }
took=$(( $(date +%s) - start ))
check "--defeat-icmp-ratelimit takes under 5 s (${took} s)" test "$took" -lt 5
check "--defeat-icmp-ratelimit: the limit hides closed ports" test "$(count "$work/fast.jsonl" "open|filtered")" -gt 1

[ "$fail" = 0 ] && echo "== ratelimit: PASS" || echo "== ratelimit: FAIL"
exit "$fail"
