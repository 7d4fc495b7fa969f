#!/usr/bin/env bash
# Targets as an nmap user gives them (issue 11): a hostname is reported as nmap prints
# it in every format; a name that does not resolve is a warning, in the arguments and
# in -iL, and exit 2 only when nothing is left; a mistyped prefix says "no route" once
# per range, not once per address; this host's own address among its neighbours is
# up (localhost-response) as in nmap. The scanner namespace gets its own /etc/hosts
# (ip netns exec mounts /etc/netns/NS/hosts over /etc/hosts).
# Usage: names.sh SCANFW_BINARY
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/names.XXXXXX")
prefix=$(netlab_prefix names)
ns=$(netlab_scanner_ns "$prefix")
netlab_on_exit "rm -rf $(printf '%q' "$work") /etc/netns/$ns"
netlab_up "$prefix"
mkdir -p "/etc/netns/$ns"
printf '127.0.0.1 localhost\n198.18.0.2 web.example\n' >"/etc/netns/$ns/hosts"
S() { netlab_exec_scanner "$prefix" "$@"; }

failures=0 passed=0
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

S "$bin" -sS -p 22,113 web.example -oA "$work/n" >"$work/table" 2>"$work/err"
check "scan of web.example exits 0: $(cat "$work/err")" test $? = 0
check "table: 'scan report for web.example (198.18.0.2)'" grep -q "scan report for web.example (198.18.0.2)$" "$work/table"
check "normal: 'scan report for web.example (198.18.0.2)'" grep -q "scan report for web.example (198.18.0.2)$" "$work/n.nmap"
check "XML: <hostname name=\"web.example\" type=\"user\"/>" \
  test "$(xmllint --xpath 'count(//host/hostnames/hostname[@name="web.example"][@type="user"])' "$work/n.xml")" = 1
check "grepable: 'Host: 198.18.0.2 (web.example)'" grep -q "^Host: 198.18.0.2 (web.example)" "$work/n.gnmap"
check "JSON host line names it" \
  test "$(jq -r 'select(.type == "host" and .update != true) | .hostname' "$work/n.jsonl")" = web.example
S nmap -n -sS -p 22,113 web.example -oX "$work/nmap.xml" >/dev/null 2>&1
ndiff "$work/nmap.xml" "$work/n.xml" >"$work/ndiff" 2>&1
check "ndiff against nmap finds no host or port difference: $(grep -v 'scan initiated' "$work/ndiff")" \
  test -z "$(grep -Ev '^[-+]?(Nmap|scanfw) .*scan initiated|^ *$' "$work/ndiff")"

# Unresolvable names: warnings, and the scan goes on with the rest.
printf 'web.example\nno-such-host.invalid\n198.18.0.2\n' >"$work/list"
S "$bin" -sS -p 22 nowhere.invalid -iL "$work/list" -oJ "$work/l.jsonl" >/dev/null 2>"$work/err"
rc=$?
check "unresolvable names are warnings, exit 0 ($rc)" test "$rc" = 0
check "  naming each, as nmap: Failed to resolve \"nowhere.invalid\"" grep -q 'Failed to resolve "nowhere.invalid"' "$work/err"
check "  and the one in -iL" grep -q 'Failed to resolve "no-such-host.invalid"' "$work/err"
check "  duplicates scanned once: one result for 198.18.0.2" \
  test "$(jq -c 'select(.port == 22)' "$work/l.jsonl" | wc -l)" = 1
S "$bin" -sS -p 22 nowhere.invalid >"$work/out" 2>"$work/err"
rc=$?
check "nothing left to scan: exit 2 ($rc: $(cat "$work/err"))" test "$rc" = 2 -a -n "$(grep 'nothing to scan' "$work/err")"

# A prefix far wider than the route: one line for the unrouted range, also with -q.
S timeout 60 "$bin" -q -sS -p 22 --rate 5000 198.18.0.0/20 -oJ "$work/wide.jsonl" >/dev/null 2>"$work/err"
check "a /20 where the route is a /24: one 'no route' line: $(head -3 "$work/err")" \
  test "$(grep -c 'no route' "$work/err")" = 1 -a -n "$(grep -F '198.18.1.0 - 198.18.15.255: no route, skipped (3840 addresses)' "$work/err")"

# This host's own address beside a neighbour in one /24: each routed as the kernel
# would (the own one is up at once, localhost-response; the neighbour by ARP), as nmap -sn says.
S "$bin" -sn -oJ "$work/own.jsonl" 198.18.0.0/29 >/dev/null 2>"$work/err"
S nmap -sn -n -oX "$work/own.xml" 198.18.0.0/29 >/dev/null 2>&1
ours=$(jq -r 'select(.type == "host" and .status == "up" and .update != true) | "\(.host) \(.reason)"' "$work/own.jsonl" | sort | tr '\n' ' ')
nmaps=$(grep -o '<address addr="[0-9.]*" addrtype="ipv4"' "$work/own.xml" | cut -d'"' -f2 | sort | tr '\n' ' ')
check "-sn 198.18.0.0/29: .1 localhost-response and .2 arp-response ($ours; nmap: $nmaps)" \
  test "$ours" = "198.18.0.1 localhost-response 198.18.0.2 arp-response " -a "$nmaps" = "198.18.0.1 198.18.0.2 "
echo "names: $passed passed, $failures failed"
[ "$failures" = 0 ]
