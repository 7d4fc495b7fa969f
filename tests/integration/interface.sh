#!/usr/bin/env bash
# -e IFACE (nmap's): probes leave through that interface, from its address, even where
# the routing table would choose another. The scanner namespace gets a second link,
# veth-e (198.18.7.1/24), into a namespace of its own that also holds the target's
# address 198.18.0.2, with only port 7777 listening there. Through the routed link
# 198.18.0.2 has 22 open and 7777 closed; through veth-e the other way round. SYN,
# connect() and ARP discovery all go where -e says; nmap -e agrees; an unknown
# interface is an error that names it.
# Usage: interface.sh SCANFW_BINARY
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in ip jq nmap python3; do command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed"; exit 1; }; done
work=$(mktemp -d "${TMPDIR:-/tmp}/iface.XXXXXX")
prefix=$(netlab_prefix iface)
netlab_on_exit "rm -rf $(printf '%q' "$work")"
netlab_up "$prefix"
s_ns=$(netlab_scanner_ns "$prefix") b_ns=$prefix-b
T=$NETLAB_TARGET_IP

# The second link and what is behind it.
netlab_on_exit "ip netns del $b_ns 2>/dev/null"
ip netns add "$b_ns"
ip -n "$s_ns" link add veth-e type veth peer name veth-f netns "$b_ns"
ip -n "$s_ns" addr add 198.18.7.1/24 dev veth-e
ip -n "$s_ns" link set veth-e up
ip -n "$b_ns" addr add "$T/24" dev veth-f
ip -n "$b_ns" addr add 198.18.7.2/24 dev veth-f
ip -n "$b_ns" link set veth-f up
ip -n "$b_ns" link set lo up
ip netns exec "$b_ns" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7777)); s.listen(64); open(sys.argv[1], "w").close()
while True:
    c, _ = s.accept(); c.close()' "$work/b.ready" </dev/null >/dev/null 2>&1 &
b_pid=$!
netlab_on_exit "kill $b_pid 2>/dev/null"
for _ in $(seq 50); do [ -e "$work/b.ready" ] && break; sleep 0.1; done

failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
# scan NAME ARGS...: scanfw in the scanner namespace, -oJ to $work/NAME.jsonl.
scan() {
  local name=$1; shift
  ip netns exec "$s_ns" "$bin" "$@" -oJ "$work/$name.jsonl" >"$work/$name.out" 2>"$work/$name.err"
  echo $? >"$work/$name.rc"
}
state() { jq -r --argjson p "$2" 'select(.port == $p) | .state' "$work/$1.jsonl" 2>/dev/null; }
states() { echo "$(state "$1" 22)/$(state "$1" 7777)"; }

scan routed -sS -Pn -p 22,7777 "$T"
check "routed (no -e): 22 open, 7777 closed: $(states routed)" test "$(states routed)" = open/closed
scan syn -sS -Pn -p 22,7777 -e veth-e "$T"
check "-e veth-e -sS: 22 closed, 7777 open: $(states syn) $(tail -2 "$work/syn.err")" test "$(states syn)" = closed/open
scan connect -sT -Pn -p 22,7777 -e veth-e "$T"
check "-e veth-e -sT: 22 closed, 7777 open: $(states connect) $(tail -2 "$work/connect.err")" \
  test "$(states connect)" = closed/open
scan arp -sS -p 7777 -e veth-e "$T"
b_mac=$(ip -n "$b_ns" -j link show dev veth-f | jq -r '.[0].address | ascii_upcase')
check "-e veth-e with discovery: up by ARP from veth-f ($b_mac), 7777 open: $(jq -c 'select(.type == "host") | {status, reason, mac}' "$work/arp.jsonl")" \
  test "$(jq -r 'select(.type == "host") | "\(.status) \(.reason) \(.mac)"' "$work/arp.jsonl")/$(state arp 7777)" = "up arp-response $b_mac/open"
ip netns exec "$s_ns" nmap -n -e veth-e -Pn -sS -p 22,7777 "$T" -oG "$work/nmap.gnmap" >/dev/null 2>&1
check "nmap -e veth-e agrees: $(grep -o 'Ports: .*' "$work/nmap.gnmap")" \
  grep -q "Ports: 22/closed/tcp//ssh///, 7777/open/tcp" "$work/nmap.gnmap"
scan bad -sS -Pn -p 22 -e nosuch0 "$T"
check "-e nosuch0: exit 2 ($(cat "$work/bad.rc")) naming it: $(cat "$work/bad.err")" \
  test "$(cat "$work/bad.rc")" = 2 -a -n "$(grep -- "-e nosuch0: this host has no interface of that name" "$work/bad.err")"
check "-e nosuch0: no output file written" test ! -s "$work/bad.jsonl"

[ "$failures" = 0 ] && echo "== interface: PASS" || echo "== interface: $failures failure(s)"
[ "$failures" = 0 ]
