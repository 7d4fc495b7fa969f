#!/usr/bin/env bash
# scan_states.sh SCANFW_BINARY TECHNIQUE
# scan_states.sh nmap-only TECHNIQUE
#
# Builds a private test network (tests/lib/netlab.sh), scans the target with one technique
# and asserts the exact state of every port against the table below; then, when
# nmap is installed, runs nmap with the matching flag and requires the same state
# for every port. With "nmap-only" instead of a binary only nmap runs and is held
# to the table (this is how the table itself was checked).
#
# Exit: 0 all ports as expected, 1 a failure, 77 skipped (not root, no ip/nft).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"

usage() { echo "usage: $0 SCANFW_BINARY|nmap-only connect|syn|ack|window|null|fin|xmas|udp [4|6]" >&2; exit 2; }
[ $# -eq 2 ] || [ $# -eq 3 ] || usage
bin=$1 tech=$2 family=${3:-4}

# ---- what is scanned and what must come back ---------------------------------

PORTS="T:22,80,113,8080-8082,U:53,123,161,162"
case "$family" in
    4) TARGET=$NETLAB_TARGET_IP nmap_family=() ;;
    6) TARGET=$NETLAB_TARGET_IP6 nmap_family=(-6) ;;
    *) usage ;;
esac
TCP_PORTS=(22 80 113 8080 8081 8082)
UDP_PORTS=(53 123 161 162)

# What the target does on each port (see tests/lib/netlab.sh).

case "$tech" in
    connect) nmap_flag=-sT ;; syn) nmap_flag=-sS ;; ack) nmap_flag=-sA ;;
    window) nmap_flag=-sW ;; null) nmap_flag=-sN ;; fin) nmap_flag=-sF ;;
    xmas) nmap_flag=-sX ;; udp) nmap_flag=-sU ;;
    *) usage ;;
esac
if [ "$tech" = udp ]; then
    proto=udp ports=("${UDP_PORTS[@]}") nmap_ports="U:53,123,161,162"
else
    proto=tcp ports=("${TCP_PORTS[@]}") nmap_ports="T:22,80,113,8080-8082"
fi

# ---- preconditions -----------------------------------------------------------

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, raw sockets)"
for tool in ip nft python3 ss timeout; do
    command -v "$tool" >/dev/null || skip "$tool not installed"
done
nmap_only=0
[ "$bin" = nmap-only ] && nmap_only=1
if [ "$nmap_only" = 1 ]; then
    command -v nmap >/dev/null || skip "nmap-only mode but nmap not installed"
else
    [ -x "$bin" ] || { echo "FAIL: scanfw binary '$bin' not found or not executable" >&2; exit 1; }
    bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    command -v jq >/dev/null || { echo "FAIL: jq is needed to read -oJ output (apt-get install jq)" >&2; exit 1; }
fi

# ---- network -----------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/scan_states.$tech.XXXXXX")
netlab_on_exit "rm -rf $(printf '%q' "$work")"
prefix=$(netlab_prefix "$tech$family")
netlab_up "$prefix"
echo "== $tech: netlab $prefix up, scanning $TARGET ports $PORTS"

now() { date +%s.%N; }
# Runs a command in the background and waits for it, so that INT/TERM reach our trap
# (and the teardown) at once instead of after the command ends. Time limits inside
# (40 s per scan) keep the whole test under ctest's TIMEOUT of 120 s: ctest kills
# with SIGKILL, which no trap survives.
run() { "$@" & wait $!; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

declare -A SCANFW_STATE=() SCANFW_REASON=() NMAP_STATE=() NMAP_REASON=()
fail=0
problem() { echo "FAIL: $*"; fail=1; }

# ---- scanfw ------------------------------------------------------------------

if [ "$nmap_only" = 0 ]; then
    out=$work/scanfw.jsonl
    cmd=("$bin" --plugin "$tech" -p "$PORTS" --timeout 300ms --retries 1 -oJ "$out" "$TARGET")
    echo "+ ip netns exec $prefix-s ${cmd[*]}"
    t0=$(now)
    rc=0
    run netlab_exec_scanner "$prefix" timeout 40 "${cmd[@]}" >"$work/scanfw.stdout" 2>"$work/scanfw.stderr" || rc=$?
    echo "scanfw $tech took $(elapsed "$t0" "$(now)") s, exit $rc"
    if [ "$rc" != 0 ] || [ ! -s "$out" ]; then
        [ "$rc" != 0 ] && problem "scanfw exited $rc (124 = killed after 40 s)"
        [ -s "$out" ] || problem "scanfw wrote no JSON to $out"
        echo "--- scanfw stdout:"; cat "$work/scanfw.stdout"
        echo "--- scanfw stderr:"; cat "$work/scanfw.stderr"
    fi
    if [ -s "$out" ] && ! jq -e . "$out" >/dev/null 2>&1; then
        problem "scanfw -oJ output is not valid JSON Lines:"
        cat "$out"
    elif [ -s "$out" ]; then
        # One line per record: protocol/port state reason host technique.
        while read -r key state reason host rtech; do
            if [ "$host" != "$TARGET" ] || [ "$rtech" != "$tech" ]; then
                problem "unexpected record host=$host technique=$rtech $key $state"
            elif [ -z "${NETLAB_KIND[$key]:-}" ] || [ "${key%%/*}" != "$proto" ]; then
                problem "record for a port that wasn't asked of $tech: $key $state"
            elif [ -n "${SCANFW_STATE[$key]:-}" ]; then
                problem "duplicate record for $key: ${SCANFW_STATE[$key]} and $state"
            else
                SCANFW_STATE[$key]=$state SCANFW_REASON[$key]=$reason
            fi
        done < <(jq -r 'select(has("port")) | "\(.protocol)/\(.port) \(.state) \(.reason // "-" | if . == "" then "-" else . end) \(.host) \(.technique)"' "$out")
    fi
fi

# ---- nmap --------------------------------------------------------------------

if command -v nmap >/dev/null; then
    xml=$work/nmap.xml
    cmd=(nmap "${nmap_family[@]}" "$nmap_flag" -Pn -n --reason -p "$nmap_ports" --max-retries 1 -oX "$xml" "$TARGET")
    echo "+ ip netns exec $prefix-s ${cmd[*]}"
    t0=$(now)
    rc=0
    run netlab_exec_scanner "$prefix" timeout 40 "${cmd[@]}" >"$work/nmap.stdout" 2>&1 || rc=$?
    echo "nmap $nmap_flag took $(elapsed "$t0" "$(now)") s, exit $rc"
    if [ "$rc" != 0 ]; then
        problem "nmap exited $rc"
        cat "$work/nmap.stdout"
    else
        # protocol/port state reason, for every <port> in nmap's XML.
        while read -r key state reason; do
            NMAP_STATE[$key]=$state NMAP_REASON[$key]=$reason
        done < <(python3 - "$xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
for port in ET.parse(sys.argv[1]).iter("port"):
    st = port.find("state")
    print(f'{port.get("protocol")}/{port.get("portid")} {st.get("state")} {st.get("reason") or "-"}')
EOF
        )
    fi
else
    echo "SKIP nmap comparison (nmap not installed)"
fi

# ---- verdict, one line per port ----------------------------------------------

printf '%-4s %-9s %-13s %-14s %-28s %s\n' "" port kind expected \
    "$([ "$nmap_only" = 1 ] && echo "-" || echo "scanfw (reason)")" "nmap (reason)"
for port in "${ports[@]}"; do
    key=$proto/$port
    want=$(netlab_expected "$tech" "${NETLAB_KIND[$key]}")
    got=${SCANFW_STATE[$key]:-none}
    ngot=${NMAP_STATE[$key]:-none}
    verdict=ok msgs=()
    if [ "$nmap_only" = 0 ]; then
        [ "$got" = "$want" ] || msgs+=("scanfw says $got, table says $want")
        if command -v nmap >/dev/null && [ "$got" != "$ngot" ]; then
            msgs+=("scanfw says $got (${SCANFW_REASON[$key]:-}), nmap says $ngot (${NMAP_REASON[$key]:-})")
        fi
        col4="$got (${SCANFW_REASON[$key]:-})"
    else
        [ "$ngot" = "$want" ] || msgs+=("nmap says $ngot (${NMAP_REASON[$key]:-}), table says $want")
        col4="-"
    fi
    [ "${#msgs[@]}" -eq 0 ] || verdict=FAIL
    printf '%-4s %-9s %-13s %-14s %-28s %s\n' "$verdict" "$key" "${NETLAB_KIND[$key]}" "$want" \
        "$col4" "$ngot (${NMAP_REASON[$key]:-})"
    for m in "${msgs[@]}"; do problem "$tech $key: $m"; done
done

if [ "$fail" = 0 ]; then
    echo "== $tech: PASS"
else
    echo "== $tech: FAIL"
fi
exit "$fail"
