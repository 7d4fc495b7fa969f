#!/usr/bin/env bash
# -r (nmap's "scan ports sequentially"): the probes reach the target with each host's
# ports in ascending order; without it, in a random order. tcpdump in the target
# namespace records the SYNs as they arrive (immediate mode with frames of 128 bytes:
# with the default 256 KiB snapshot, its ring held 8 frames, and a burst overran it).
# Usage: order.sh SCANFW_BINARY
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v tcpdump >/dev/null || { echo "FAIL: tcpdump is not installed (scripts/setup.sh installs it)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/order.XXXXXX")
prefix=$(netlab_prefix order)
netlab_on_exit "rm -rf $(printf '%q' "$work")"
netlab_up "$prefix"
T=$NETLAB_TARGET_IP
PORTS=1000-1040

failures=0
# The destination ports of the SYNs to $T, in the order they arrived, while "$@" runs.
probe_order() {
  local out=$1; shift
  # ip netns exec runs tcpdump itself: $! is tcpdump's, for the kill below.
  ip netns exec "$(netlab_target_ns "$prefix")" tcpdump -i veth-t -n --immediate-mode -s 128 -B 8192 -U -w "$work/$out.pcap" \
    "dst host $T and tcp[tcpflags] & tcp-syn != 0 and dst portrange 1000-1040" 2>"$work/$out.tcpdump" &
  local pid=$!
  for _ in $(seq 50); do grep -q "listening on" "$work/$out.tcpdump" && break; sleep 0.1; done
  netlab_exec_scanner "$prefix" "$bin" "$@" >"$work/$out.stdout" 2>"$work/$out.stderr" || {
    echo "FAIL: scanfw $* exited non-zero: $(tail -3 "$work/$out.stderr")"; failures=$((failures + 1)); }
  sleep 0.5
  kill "$pid"; wait "$pid" 2>/dev/null  # tcpdump writes out what it holds on TERM
  tcpdump -n -r "$work/$out.pcap" 2>/dev/null | sed -E 's/.* > [0-9.]+\.([0-9]+): .*/\1/' >"$work/$out.ports"
}

probe_order seq -sS -Pn -r --retries 0 -p "$PORTS" "$T"
n=$(wc -l <"$work/seq.ports")
if [ "$n" != 41 ]; then
  echo "FAIL: -r: $n SYNs seen, 41 sent"; failures=$((failures + 1))
elif ! sort -n -c "$work/seq.ports" 2>/dev/null; then
  echo "FAIL: -r: the ports arrived out of order: $(tr '\n' ' ' <"$work/seq.ports")"; failures=$((failures + 1))
else
  echo "ok: -r: 41 ports in ascending order"
fi

# Without -r: a random order (ascending by chance: 1 in 41!).
probe_order random -sS -Pn --retries 0 -p "$PORTS" "$T"
if [ "$(wc -l <"$work/random.ports")" != 41 ]; then
  echo "FAIL: without -r: $(wc -l <"$work/random.ports") SYNs seen, 41 sent"; failures=$((failures + 1))
elif sort -n -c "$work/random.ports" 2>/dev/null; then
  echo "FAIL: without -r, the ports arrived in ascending order"; failures=$((failures + 1))
else
  echo "ok: without -r: a random order"
fi

# The profile key does the same.
printf 'plugins: syn\nports: "%s"\nsequential-ports: true\nretries: 0\n' "$PORTS" >"$work/seq.yaml"
probe_order profile --profile "$work/seq.yaml" -Pn "$T"
if [ "$(wc -l <"$work/profile.ports")" != 41 ] || ! sort -n -c "$work/profile.ports" 2>/dev/null; then
  echo "FAIL: sequential-ports: true: $(tr '\n' ' ' <"$work/profile.ports")"; failures=$((failures + 1))
else
  echo "ok: profile sequential-ports: true"
fi
[ "$failures" = 0 ] && echo "== order: PASS" || echo "== order: $failures failure(s)"
[ "$failures" = 0 ]
