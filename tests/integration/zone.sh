#!/usr/bin/env bash
# IPv6 link-local targets with a zone (fe80::1%eth0, issue 11): scanner and target in
# namespaces of their own on one veth link, the target reached only by its link-local
# address. SYN and connect scans and discovery must reach it through the interface the
# zone names, with nmap's states; an unknown interface is refused.
# Usage: zone.sh SCANFW_BINARY
set -uo pipefail
bin=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
ns=sfw-zone-$$ work=$(mktemp -d)
listener=""
cleanup() {
  [ -n "$listener" ] && kill "$listener" 2>/dev/null
  ip netns del "$ns-s" 2>/dev/null
  ip netns del "$ns-t" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns-s" && ip netns add "$ns-t" || exit 1
ip link add zs$$ netns "$ns-s" type veth peer name zt$$ netns "$ns-t" || exit 1
for n in s t; do
  ip -n "$ns-$n" link set lo up
  ip -n "$ns-$n" link set "z$n$$" up
done
# Wait for the link-local addresses to leave duplicate address detection.
for _ in $(seq 50); do
  ip -n "$ns-t" -6 addr show dev zt$$ scope link | grep -q tentative || break
  sleep 0.1
done
sleep 0.2
ll=$(ip -n "$ns-t" -6 addr show dev zt$$ scope link | awk '/inet6/ { sub(/\/.*/, "", $2); print $2 }')
[ -n "$ll" ] || { echo "FAIL: the target has no link-local address"; exit 1; }
ip netns exec "$ns-t" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 22)); s.listen(); time.sleep(120)' &
listener=$!
for _ in $(seq 50); do ip netns exec "$ns-t" ss -ltn | grep -q ":22 " && break; sleep 0.1; done

failures=0 passed=0
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
S() { ip netns exec "$ns-s" "$@"; }
target="$ll%zs$$"
echo "target: $target"

S "$bin" -Pn -sS -p 21,22 -oJ "$work/syn.jsonl" "$target" >/dev/null 2>"$work/err"
check "syn scan of $target exits 0: $(cat "$work/err")" test $? = 0
S nmap -6 -n -Pn -sS -p 21,22 -oX "$work/nmap.xml" "$target" >/dev/null 2>&1
for port in 21 22; do
  ours=$(jq -r --argjson p "$port" 'select(.port == $p) | .state' "$work/syn.jsonl")
  theirs=$(xmllint --xpath "string(//port[@portid='$port']/state/@state)" "$work/nmap.xml")
  check "syn $port/tcp: scanfw '$ours', nmap '$theirs'" test -n "$ours" -a "$ours" = "$theirs"
done
S "$bin" -sT -p 22 -oJ "$work/connect.jsonl" "$target" >/dev/null 2>"$work/err"
check "connect 22/tcp open through the zone" \
  test "$(jq -r 'select(.port == 22) | .state' "$work/connect.jsonl")" = open
check "discovery found it up by neighbour discovery" \
  test "$(jq -r 'select(.type == "host") | .reason' "$work/connect.jsonl")" = nd-response
S "$bin" -sn "$ll%nosuch$$" >"$work/out" 2>"$work/err"
rc=$?
check "an unknown interface exits 2 naming it: $(cat "$work/err")" \
  test "$rc" = 2 -a -n "$(grep "no interface 'nosuch$$'" "$work/err")"
S "$bin" -sn "198.18.0.2%zs$$" >"$work/out" 2>"$work/err"
rc=$?
check "a zone on an IPv4 address exits 2: $(cat "$work/err")" test "$rc" = 2
echo "zone: $passed passed, $failures failed"
[ "$failures" = 0 ]
