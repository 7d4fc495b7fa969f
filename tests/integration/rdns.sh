#!/usr/bin/env bash
# Reverse DNS as nmap does it (issue 25): the hosts found up are named by their PTR
# records, asked of /etc/resolv.conf's servers (or --dns-servers) in parallel with the
# scan; -R names every target, -n none and sends no query; -sL names every target. A
# real dnsmasq in a namespace of its own (198.18.3.2) serves the PTR records; the
# scanner namespace gets its own resolv.conf (ip netns exec mounts
# /etc/netns/NS/resolv.conf over /etc/resolv.conf). nmap, run beside scanfw without
# -n, must report the same names (ndiff finds no difference). A DNS server that never
# answers costs at most c-ares' bound (1 s + 2 s) and loses nothing.
# Usage: rdns.sh SCANFW_BINARY
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in ip jq nmap ndiff xmllint /usr/sbin/dnsmasq nft; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh)"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/rdns.XXXXXX")
prefix=$(netlab_prefix rdns)
s_ns=$(netlab_scanner_ns "$prefix")
netlab_on_exit "rm -rf $(printf '%q' "$work") /etc/netns/$s_ns"
netlab_up "$prefix"
netlab_add_target "$prefix" 3 --bare
dns=198.18.3.2

# dnsmasq: PTR records only (no upstream, no hosts file, not the system's configuration),
# each query logged, so that -n can be shown to ask nothing.
ip netns exec "$prefix-t3" /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= \
  --no-resolv --no-hosts --listen-address="$dns" --bind-interfaces --port=53 --user=root \
  --log-queries --log-facility="$work/dnsmasq.log" \
  --ptr-record=2.0.18.198.in-addr.arpa,web.scanfw.test --address=/box.example/198.18.0.2 \
  --ptr-record=9.0.18.198.in-addr.arpa,gone.scanfw.test \
  --ptr-record="$(python3 -c 'import ipaddress; print(ipaddress.ip_address("fd00:5eed::2").reverse_pointer)'),web6.scanfw.test" \
  </dev/null >"$work/dnsmasq.out" 2>&1 &
dnsmasq_pid=$!
netlab_on_exit "kill $dnsmasq_pid 2>/dev/null"
mkdir -p "/etc/netns/$s_ns"
echo "nameserver $dns" >"/etc/netns/$s_ns/resolv.conf"
for _ in $(seq 50); do grep -q "started" "$work/dnsmasq.log" 2>/dev/null && break; sleep 0.1; done

failures=0 passed=0
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
S() { netlab_exec_scanner "$prefix" "$@"; }
queries() { grep -c 'query\[PTR\]' "$work/dnsmasq.log" 2>/dev/null; }

# The default: the host found up is named, in every output.
S "$bin" -sS -p 22,113 198.18.0.2 -oA "$work/d" >"$work/d.table" 2>"$work/d.err"
check "default scan exits 0: $(cat "$work/d.err")" test $? = 0
check "table: 'scan report for web.scanfw.test (198.18.0.2)': $(head -1 "$work/d.table")" \
  grep -q "^scanfw scan report for web.scanfw.test (198.18.0.2)$" "$work/d.table"
check "normal output names it" grep -q "^scanfw scan report for web.scanfw.test (198.18.0.2)$" "$work/d.nmap"
check "XML: <hostname name=\"web.scanfw.test\" type=\"PTR\"/>" \
  test "$(xmllint --xpath 'count(//host/hostnames/hostname[@name="web.scanfw.test"][@type="PTR"])' "$work/d.xml")" = 1
check "grepable: 'Host: 198.18.0.2 (web.scanfw.test)'" grep -q "^Host: 198.18.0.2 (web.scanfw.test)" "$work/d.gnmap"
check "JSON: the host's update carries ptr: $(jq -c 'select(.type == "host")' "$work/d.jsonl" | tr '\n' ' ')" \
  test "$(jq -r 'select(.type == "host" and .ptr != null) | .ptr' "$work/d.jsonl")" = web.scanfw.test
S nmap -sS -p 22,113 198.18.0.2 -oX "$work/nmap.xml" >/dev/null 2>&1
check "nmap (no -n) names it the same" \
  test "$(xmllint --xpath 'count(//host/hostnames/hostname[@name="web.scanfw.test"][@type="PTR"])' "$work/nmap.xml")" = 1
ndiff "$work/nmap.xml" "$work/d.xml" >"$work/ndiff" 2>&1
check "ndiff against nmap finds no host, name or port difference: $(grep -v 'scan initiated' "$work/ndiff")" \
  test -z "$(grep -Ev '^[-+]?(Nmap|scanfw) .*scan initiated|^ *$' "$work/ndiff")"

# IPv6: the nibble PTR name.
S "$bin" -sS -p 22 fd00:5eed::2 >"$work/v6.table" 2>"$work/v6.err"
check "IPv6: 'scan report for web6.scanfw.test (fd00:5eed::2)': $(head -1 "$work/v6.table") $(cat "$work/v6.err")" \
  grep -q "^scanfw scan report for web6.scanfw.test (fd00:5eed::2)$" "$work/v6.table"

# A host the user named (box.example, an A record of the server's) keeps its name; a
# PTR name that differs is printed as nmap's "rDNS record for".
S "$bin" -sS -p 22 box.example -oX "$work/u.xml" >"$work/u.table" 2>"$work/u.err"
check "user name kept and rDNS line: $(head -3 "$work/u.table" | tr '\n' '|')" \
  test "$(sed -n 1p "$work/u.table")|$(grep rDNS "$work/u.table")" = \
  "scanfw scan report for box.example (198.18.0.2)|rDNS record for 198.18.0.2: web.scanfw.test"
check "XML: the user's name and the PTR name" \
  test "$(xmllint --xpath 'concat(//hostname[@type="user"]/@name, " ", //hostname[@type="PTR"]/@name)' "$work/u.xml")" = \
  "box.example web.scanfw.test"

# -n: no name, and not one query sent.
before=$(queries)
S "$bin" -n -sS -p 22 198.18.0.2,9 -oJ "$work/n.jsonl" >"$work/n.table" 2>&1
check "-n: no name: $(head -1 "$work/n.table")" grep -q "^scanfw scan report for 198.18.0.2$" "$work/n.table"
check "-n: no PTR query reached the server ($before before, $(queries) after)" test "$(queries)" = "$before"

# Down hosts: not asked by default; -R asks for every target.
S "$bin" -sS -p 22 198.18.0.2,9 -oJ "$work/up.jsonl" >/dev/null 2>&1
check "default: the down host 198.18.0.9 is not named" \
  test -z "$(jq -r 'select(.type == "host" and .host == "198.18.0.9") | .ptr // empty' "$work/up.jsonl")"
S "$bin" -R -sS -p 22 198.18.0.2,9 -oJ "$work/all.jsonl" >/dev/null 2>&1
check "-R: the down host is named gone.scanfw.test: $(jq -c 'select(.type == "host")' "$work/all.jsonl" | tr '\n' ' ')" \
  test "$(jq -r 'select(.type == "host" and .host == "198.18.0.9") | .ptr // empty' "$work/all.jsonl")" = gone.scanfw.test

# -sL names every target, as nmap -sL.
S "$bin" -sL 198.18.0.1-3,9 >"$work/list" 2>&1
S nmap -sL 198.18.0.1-3,9 >"$work/nmap.list" 2>&1
check "-sL names as nmap -sL: $(grep report "$work/list" | tr '\n' '|')" \
  test "$(grep 'scan report' "$work/list" | sed 's/^scanfw //')" = "$(grep 'scan report' "$work/nmap.list" | sed 's/^Nmap //')"
check "-sL: 198.18.0.9 is gone.scanfw.test" grep -q "^scanfw scan report for gone.scanfw.test (198.18.0.9)$" "$work/list"

# --dns-servers: the system's resolver unreachable from here (no resolv.conf of our
# own: the machine's points outside the lab), the server given by hand.
rm -f "/etc/netns/$s_ns/resolv.conf"
S "$bin" -sS -p 22 --dns-servers "$dns" 198.18.0.2 >"$work/ds.table" 2>&1
check "--dns-servers $dns: named: $(head -1 "$work/ds.table")" \
  grep -q "^scanfw scan report for web.scanfw.test (198.18.0.2)$" "$work/ds.table"
S "$bin" -sS -p 22 --dns-servers nameserver.example 198.18.0.2 >"$work/bad.out" 2>"$work/bad.err"
check "--dns-servers with a name: exit 2 ($?) naming it: $(cat "$work/bad.err")" \
  grep -q "\-\-dns-servers: 'nameserver.example' is not an IP address" "$work/bad.err"
check "  and no output written" test ! -s "$work/bad.out"

# A server that never answers (its port 53 dropped): the scan still reports the host,
# unnamed, and ends within c-ares' bound of one lookup (1 s, then 2 s) after the host
# was found: 3 s, plus 1.5 s for a one-port scan on a busy machine.
ip netns exec "$prefix-t3" nft -f - <<'EOF'
table inet rdns_silent {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport 53 drop
  }
}
EOF
start=$(date +%s.%N)
S "$bin" -sS -p 22 --dns-servers "$dns" 198.18.0.2 -oJ "$work/silent.jsonl" >"$work/silent.table" 2>&1
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
check "silent DNS server: host reported unnamed with its port: $(head -3 "$work/silent.table" | tr '\n' '|')" \
  test "$(jq -r 'select(.port == 22) | .state' "$work/silent.jsonl")/$(head -1 "$work/silent.table")" = \
  "open/scanfw scan report for 198.18.0.2"
check "silent DNS server: the scan took ${elapsed}s, within 4.5 s" awk -v e="$elapsed" 'BEGIN { exit !(e < 4.5) }'

echo "rdns: $passed passed, $failures failed"
[ "$failures" = 0 ]
