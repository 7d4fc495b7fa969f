# shellcheck shell=bash
# lib.sh -- shared pieces of the benchmark scenarios. Source it, don't run it.
#
# Every scenario script builds its own pair of network namespaces with the test
# network library (tests/lib/netlab.sh, which tests and the demo use too):
#   ${PFX}-s  scanner  198.18.0.1/24  veth-s ----.
#   ${PFX}-t  target   198.18.0.2/24  veth-t <---'      (+ 198.19.0.0/16 AnyIP for S2/S3/S5:
#                                                        netlab_range)
# The scenarios call netlab's functions for the rest (netlab_listen, netlab_range,
# netlab_icmp, netlab_loss). Nothing is added to the root namespace. Everything a
# scenario starts (namespaces, nftables tables, listeners, helper processes) is
# registered on netlab's cleanup stack (netlab_on_exit), which runs on EXIT, INT and
# TERM, also when the script fails half-way. This file keeps what only the benchmark
# needs: its tools, nftables counters, the trickle, and running and measuring tools.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck source=SCRIPTDIR/../tests/lib/netlab.sh
source "$BENCH_REPO/tests/lib/netlab.sh"
SCANFW=${SCANFW:-$BENCH_REPO/build/bin/scanfw}
case $SCANFW in /*) ;; *) SCANFW=$(pwd)/$SCANFW ;; esac
BENCH_OUT=${BENCH_OUT:-$(mktemp -d /tmp/scanfw-bench.XXXXXX)}
mkdir -p "$BENCH_OUT/records" "$BENCH_OUT/logs" "$BENCH_OUT/out"
BENCH_PY=${BENCH_PY:-python3}

SCANNER_IP=198.18.0.1
TARGET_IP=198.18.0.2
ANY_NET=198.19.0.0/16   # AnyIP range answered by the target namespace (S2, S3, S5)

# A tag unique to this script run; it goes into every name we create.
BENCH_TAG=${BENCH_TAG:-$$r$RANDOM}

bench_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
bench_die() { bench_log "ERROR: $*"; exit 1; }

# ---- tools -------------------------------------------------------------------

bench_need_root() {
    [ "$(id -u)" = 0 ] || bench_die "the benchmark needs root (namespaces, raw sockets): sudo $0"
}

# Installs what the benchmark needs with apt-get if it is missing (not part of
# scripts/setup.sh: only the benchmark needs masscan, zmap and hyperfine).
bench_ensure_tools() {
    local -A pkg_of=(
        [masscan]=masscan [zmap]=zmap [nmap]=nmap [hyperfine]=hyperfine
        [/usr/bin/time]=time [nft]=nftables [ip]=iproute2 [python3]=python3
    )
    local missing=() cmd
    for cmd in "${!pkg_of[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_of[$cmd]}")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        bench_log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

bench_check_scanfw() {
    [ -x "$SCANFW" ] || bench_die "scanfw binary '$SCANFW' not found: build it (cmake --build ...) or set SCANFW=/path/to/scanfw"
}

# ---- network -----------------------------------------------------------------

# bench_net_up NAME: scanner and target namespaces joined by a veth pair (netlab_up
# --bare: no listeners, no firewall; the kernel's ICMP limits, as a real host has
# them; static neighbour entries both ways, so no tool loses its first replies to ARP
# resolution: masscan and zmap never ARP for the target themselves, they are given
# its MAC). Sets PFX, NS_S, NS_T, IF_S, IF_T, MAC_S, MAC_T.
bench_net_up() {
    local name=${1:?}
    PFX="sfwb-$name-$BENCH_TAG"
    NS_S="$PFX-s" NS_T="$PFX-t" IF_S=veth-s IF_T=veth-t
    netlab_up "$PFX" --bare --static-neigh --icmp linux || bench_die "could not build network $PFX"
    MAC_S=$(netlab_mac "$PFX" s "$IF_S")
    MAC_T=$(netlab_mac "$PFX" t "$IF_T")
    bench_log "network $PFX up: $NS_S ($IF_S $MAC_S $SCANNER_IP) <-> $NS_T ($IF_T $MAC_T $TARGET_IP)"
}

# bench_nft NAME FAMILY [NS]: loads the ruleset on stdin into namespace NS (the
# target's by default) as table FAMILY sfwb_<tag>_NAME (the text uses @TABLE@ and
# @IF_S@/@IF_T@ for the table's and interfaces' names). Sets NFT_TABLE. The table goes
# with its namespace.
bench_nft() {
    local name=$1 family=$2 ns=${3:-$NS_T} text
    NFT_TABLE="sfwb_${BENCH_TAG}_$name"
    text=$(sed "s/@TABLE@/$NFT_TABLE/g; s/@IF_S@/$IF_S/g; s/@IF_T@/$IF_T/g")
    ip netns exec "$ns" nft -f - <<<"$text"
}

# bench_nft_counters FAMILY TABLE [NS]: {"comment": packets, ...} of the table's
# counters, as JSON.
bench_nft_counters() {
    ip netns exec "${3:-$NS_T}" nft -j list table "$1" "$2" | "$BENCH_PY" -c '
import json, sys
out = {}
for o in json.load(sys.stdin)["nftables"]:
    r = o.get("rule")
    if r and r.get("comment"):
        for e in r["expr"]:
            if "counter" in e:
                out[r["comment"]] = e["counter"]["packets"]
print(json.dumps(out, separators=(",", ":")))'
}

# bench_json_delta BEFORE: counters on stdin minus the counters in BEFORE (JSON).
bench_json_delta() {
    "$BENCH_PY" -c '
import json, sys
a = json.loads(sys.argv[1] or "{}")
b = json.load(sys.stdin)
print(json.dumps({k: v - a.get(k, 0) for k, v in b.items()}, separators=(",", ":")))' "$1"
}

# bench_nft_counter FAMILY TABLE COMMENT [NS]: packets of one counter.
bench_nft_counter() {
    bench_nft_counters "$1" "$2" "${4:-$NS_T}" | "$BENCH_PY" -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$3"
}

# Counters on the scanner's veth (netdev ingress and egress hooks, so they see
# what is on the wire whatever a tool uses to send and capture): probes out, and
# answers in. bench_run resets them before each run and stores them in its record.
bench_wire_counters() {
    bench_nft wire netdev "$NS_S" <<'EOT'
table netdev @TABLE@ {
    chain out {
        type filter hook egress device @IF_S@ priority 0; policy accept;
        ip protocol tcp tcp flags & (syn|ack|rst|fin) == syn counter comment "syn_out"
        ip protocol udp udp dport != 9 counter comment "udp_out"
    }
    chain in {
        type filter hook ingress device @IF_S@ priority 0; policy accept;
        ip protocol tcp tcp flags & (syn|ack) == (syn|ack) counter comment "synack_in"
        ip protocol tcp tcp flags & rst == rst counter comment "rst_in"
        ip protocol udp udp dport != 9 counter comment "udp_in"
        ip protocol icmp icmp type destination-unreachable counter comment "unreach_in"
    }
}
EOT
    WIRE_TABLE=$NFT_TABLE
}

# masscan and zmap read replies with libpcap's TPACKET_V3 ring, whose reads do not
# return while the interface is idle: after its last probe masscan's receive thread
# then blocks, and masscan "waits -N secs" for tens of seconds (masscan issue #144,
# libpcap issue #354) and may miss replies still in an unretired block. A trickle
# of one UDP datagram every 20 ms from the target to the scanner (discarded: port 9,
# no scanner listens there) keeps the ring moving. It runs during every tool's run,
# so all tools see the same traffic.
bench_trickle_start() {
    ip netns exec "$NS_T" "$BENCH_PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.monotonic() + 3600
while time.monotonic() < end:
    try:
        s.sendto(b"trickle", ("'"$SCANNER_IP"'", 9))
    except OSError:
        pass
    time.sleep(0.02)' >/dev/null 2>&1 </dev/null &
    local pid=$!
    netlab_on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
}

# ---- measuring ---------------------------------------------------------------

# bench_run SCEN TOOL LABEL TIMEOUT FMT OUT [KEY=VALUE...] -- CMD...
# Runs CMD in the scanner namespace under `timeout` and /usr/bin/time -v (wall
# time and peak RSS of the tool and its children), stdout and stderr to a log, and
# writes a record for report.py. FMT says how to read OUT (scanfw-jsonl, nmap-xml,
# masscan-list, zmap-csv); KEY=VALUE pairs go into the record (group=, port=,
# rate=, note=).
bench_run() {
    local scen=$1 tool=$2 label=$3 tmo=$4 fmt=$5 out=$6
    shift 6
    local extra=()
    while [ "$#" -gt 0 ] && [ "$1" != -- ]; do extra+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    local id="$scen.$tool.$label"
    local log="$BENCH_OUT/logs/$id.log" tf="$BENCH_OUT/logs/$id.time" rc=0
    rm -f "$out" "$tf"
    bench_log "$scen $tool [$label]: $*"
    local t0 t1
    local w0=
    [ -n "${WIRE_TABLE:-}" ] && w0=$(bench_nft_counters netdev "$WIRE_TABLE" "$NS_S")
    t0=$(date +%s.%N)
    # BENCH_LOCK=FILE: the run holds flock FILE, so that benchmarks sharing the machine
    # do not run at the same moment (the time measured starts once it is held).
    local lock=()
    [ -n "${BENCH_LOCK:-}" ] && lock=(flock "$BENCH_LOCK")
    "${lock[@]}" ip netns exec "$NS_S" /usr/bin/time -v -o "$tf" timeout -k 5 "$tmo" "$@" >"$log" 2>&1 </dev/null || rc=$?
    t1=$(date +%s.%N)
    [ -n "${WIRE_TABLE:-}" ] && extra+=("wire=$(bench_nft_counters netdev "$WIRE_TABLE" "$NS_S" | bench_json_delta "$w0")")
    "$BENCH_PY" "$BENCH_DIR/report.py" record --out-dir "$BENCH_OUT" --scenario "$scen" --tool "$tool" \
        --label "$label" --timeout "$tmo" --exit "$rc" --time-file "$tf" --t0 "$t0" --t1 "$t1" \
        --fmt "$fmt" --output "$out" --log "$log" "${extra[@]/#/--set=}" -- "$@"
}

# Same, but through a shell pipeline (for `scanfw -oJ - | grep open`): CMD is one
# string run by bash -c.
bench_run_sh() {
    local scen=$1 tool=$2 label=$3 tmo=$4 fmt=$5 out=$6
    shift 6
    local extra=()
    while [ "$#" -gt 0 ] && [ "$1" != -- ]; do extra+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    bench_run "$scen" "$tool" "$label" "$tmo" "$fmt" "$out" "${extra[@]}" -- bash -o pipefail -c "$1"
}

# Scanner-side settings printed into the log of the run.
bench_describe() {
    {
        echo "scenario network $PFX"
        ip -n "$NS_S" -br addr
        ip -n "$NS_T" -br addr
        ip -n "$NS_T" route show table local | grep -F "${ANY_NET%/*}" || true
    } >"$BENCH_OUT/logs/net.$PFX.txt" 2>&1
}

# ---- the tools, as each scenario runs them -----------------------------------

# bench_scanfw SCEN LABEL TIMEOUT "FLAGS" TARGET...: scanfw with -vv (its debug log
# says how many probes it sent and captured and what the kernel dropped) and -oJ.
bench_scanfw() {
    local scen=$1 label=$2 tmo=$3 flags=$4
    shift 4
    local out="$BENCH_OUT/out/$scen.scanfw.$label.jsonl"
    # shellcheck disable=SC2086
    bench_run "$scen" scanfw "$label" "$tmo" scanfw-jsonl "$out" "flags=$flags" "hosts=${BENCH_HOSTS:-}" -- \
        "$SCANFW" $flags -vv -oJ "$out" "$@"
}

# bench_scanfw_variants SCEN TIMEOUT "VARIANTS" TARGET...: more scanfw runs, one
# per line of VARIANTS, each "LABEL|FLAGS" (empty: none). Each is reported and
# checked against the goals on its own.
bench_scanfw_variants() {
    local scen=$1 tmo=$2 variants=$3 line label flags
    shift 3
    local lines=()
    mapfile -t lines <<<"$variants"
    for line in "${lines[@]}"; do
        [[ $line == *"|"* ]] || continue
        label=${line%%|*} flags=${line#*|}
        label=${label//[^A-Za-z0-9_-]/}
        bench_scanfw "$scen" "$label" "$tmo" "$flags" "$@"
        [ "$(type -t bench_after_scanfw)" = function ] && bench_after_scanfw "scanfw $label"
    done
    return 0
}

# bench_nmap SCEN LABEL TIMEOUT "FLAGS" TARGET...
bench_nmap() {
    local scen=$1 label=$2 tmo=$3 flags=$4
    shift 4
    local out="$BENCH_OUT/out/$scen.nmap.$label.xml"
    # shellcheck disable=SC2086
    bench_run "$scen" nmap "$label" "$tmo" nmap-xml "$out" "flags=$flags" "hosts=${BENCH_HOSTS:-}" -- \
        nmap $flags -oX "$out" "$@"
}

# bench_masscan SCEN TIMEOUT PORTS RATE TARGET [LABEL]: masscan sends and receives on the
# scanner's veth itself, so it is told the interface, its address, and the MAC to
# send to (the target's veth: the next hop for 198.18.0.2 and 198.19.0.0/16 alike).
# --wait 1: a reply comes within a millisecond here; masscan's default is 10 s.
bench_masscan() {
    local scen=$1 tmo=$2 ports=$3 rate=$4 target=$5 label=${6:-r$4}
    local out="$BENCH_OUT/out/$scen.masscan.$label.txt"
    bench_run "$scen" masscan "$label" "$tmo" masscan-list "$out" "rate=$rate" \
        "hosts=${BENCH_HOSTS:-}" -- \
        masscan --adapter "$IF_S" --adapter-ip "$SCANNER_IP" --router-mac "$MAC_T" \
        -p "$ports" --rate "$rate" --wait 1 -oL "$out" "$target"
}

# bench_zmap SCEN TIMEOUT PORT RATE TARGET [GROUP]: zmap (one port per run) on the
# scanner's veth, gateway MAC = the target's veth, and an empty blocklist (zmap's
# default one excludes 198.18.0.0/15, the benchmarking range we use).
bench_zmap() {
    local scen=$1 tmo=$2 port=$3 rate=$4 target=$5 group=${6:-}
    local out="$BENCH_OUT/out/$scen.zmap.p$port.csv" bl="$BENCH_OUT/zmap-empty-blocklist.conf"
    : >"$bl"
    bench_run "$scen" zmap "p$port" "$tmo" zmap-csv "$out" "port=$port" "rate=$rate" ${group:+"group=$group"} \
        "hosts=${BENCH_HOSTS:-}" -- \
        zmap -q -i "$IF_S" -G "$MAC_T" -S "$SCANNER_IP" -p "$port" -r "$rate" -b "$bl" -c 1 \
        -o "$out" "$target"
}
