# shellcheck shell=bash
# lib.sh -- shared pieces of the benchmark scenarios. Source it, don't run it.
#
# Every scenario script builds its own pair of network namespaces:
#   ${PFX}-s  scanner  198.18.0.1/24  $IF_S ----.
#   ${PFX}-t  target   198.18.0.2/24  $IF_T <---'      (+ 198.19.0.0/16 AnyIP for S2/S3/S5)
# The veth pair is created directly inside the two namespaces, so nothing is added
# to the root namespace. Everything a scenario starts (namespaces, nftables tables,
# listeners, helper processes) is registered on a cleanup stack that runs on EXIT,
# INT and TERM, also when the script fails half-way.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_DIR/.." && pwd)
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

# ---- cleanup stack -----------------------------------------------------------

_BENCH_CLEANUPS=()
bench_on_exit() {
    _BENCH_CLEANUPS+=("$*")
}
_bench_run_cleanups() {
    local rc=$? i
    set +e
    trap - EXIT INT TERM
    for ((i = ${#_BENCH_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${_BENCH_CLEANUPS[i]}" 2>/dev/null
    done
    _BENCH_CLEANUPS=()
    exit "$rc"
}
trap _bench_run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

_bench_ns_exists() { [ -e "/run/netns/$1" ]; }

# bench_net_up NAME: scanner and target namespaces joined by a veth pair.
# Sets PFX, NS_S, NS_T, IF_S, IF_T, MAC_S, MAC_T.
bench_net_up() {
    local name=${1:?}
    PFX="sfwb-$name-$BENCH_TAG"
    NS_S="$PFX-s" NS_T="$PFX-t"
    IF_S="sfb${BENCH_TAG: -5}s" IF_T="sfb${BENCH_TAG: -5}t"
    IF_S=${IF_S:0:15} IF_T=${IF_T:0:15}
    if _bench_ns_exists "$NS_S" || _bench_ns_exists "$NS_T"; then
        bench_die "namespace $NS_S or $NS_T already exists"
    fi
    bench_on_exit "bench_net_down $(printf '%q' "$PFX")"
    ip netns add "$NS_S"
    ip netns add "$NS_T"
    ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_T" netns "$NS_T"
    ip -n "$NS_S" addr add "$SCANNER_IP/24" dev "$IF_S"
    ip -n "$NS_T" addr add "$TARGET_IP/24" dev "$IF_T"
    ip -n "$NS_S" link set lo up
    ip -n "$NS_T" link set lo up
    ip -n "$NS_S" link set "$IF_S" up
    ip -n "$NS_T" link set "$IF_T" up
    MAC_S=$(ip -n "$NS_S" -br link show "$IF_S" | awk '{print $3}')
    MAC_T=$(ip -n "$NS_T" -br link show "$IF_T" | awk '{print $3}')
    # Static neighbour entries: no tool loses its first replies to ARP resolution
    # (masscan and zmap never ARP for the target themselves: they are given its MAC).
    ip -n "$NS_S" neigh replace "$TARGET_IP" lladdr "$MAC_T" dev "$IF_S" nud permanent
    ip -n "$NS_T" neigh replace "$SCANNER_IP" lladdr "$MAC_S" dev "$IF_T" nud permanent
    local i
    for ((i = 0; i < 50; i++)); do
        ip -n "$NS_S" link show "$IF_S" | grep -q LOWER_UP &&
            ip -n "$NS_T" link show "$IF_T" | grep -q LOWER_UP && break
        sleep 0.1
    done
    bench_log "network $PFX up: $NS_S ($IF_S $MAC_S $SCANNER_IP) <-> $NS_T ($IF_T $MAC_T $TARGET_IP)"
}

# Kills every process left in our namespaces (only ours live there), then deletes
# them (the veth pair and any nftables table go with them).
bench_net_down() {
    local pfx=$1 ns pids i
    for ns in "$pfx-t" "$pfx-s"; do
        _bench_ns_exists "$ns" || continue
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$pids" ]; then
            # shellcheck disable=SC2086
            kill $pids 2>/dev/null || true
            for ((i = 0; i < 20; i++)); do
                pids=$(ip netns pids "$ns" 2>/dev/null || true)
                [ -z "$pids" ] && break
                sleep 0.1
            done
            # shellcheck disable=SC2086
            [ -n "$pids" ] && kill -9 $pids 2>/dev/null
        fi
        ip netns del "$ns" 2>/dev/null || bench_log "could not delete namespace $ns"
    done
    return 0
}

# The whole 198.19.0.0/16 is local to the target namespace (AnyIP), so listeners
# bound to 0.0.0.0 answer on every one of its 65536 addresses.
bench_anyip() {
    ip -n "$NS_T" route add local "$ANY_NET" dev lo
    ip -n "$NS_S" route add "$ANY_NET" via "$TARGET_IP" dev "$IF_S"
}

# No ICMP rate limit in the target: every closed UDP port gets its port unreachable.
bench_icmp_unlimited() {
    ip netns exec "$NS_T" sysctl -qw net.ipv4.icmp_ratelimit=0
    ip netns exec "$NS_T" sysctl -qw net.ipv4.icmp_ratemask=0
}

# bench_nft NAME FAMILY [NS]: loads the ruleset on stdin into namespace NS (the
# target's by default) as table FAMILY sfwb_<tag>_NAME (the text uses @TABLE@ and
# @IF_S@/@IF_T@ for the table's and interfaces' names). Sets NFT_TABLE.
bench_nft() {
    local name=$1 family=$2 ns=${3:-$NS_T} text
    NFT_TABLE="sfwb_${BENCH_TAG}_$name"
    text=$(sed "s/@TABLE@/$NFT_TABLE/g; s/@IF_S@/$IF_S/g; s/@IF_T@/$IF_T/g")
    bench_on_exit "ip netns exec $(printf '%q' "$ns") nft delete table $family $NFT_TABLE"
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

# bench_listeners TCP_PORTS UDP_PORTS: listeners.py in the target namespace.
bench_listeners() {
    local tcp=$1 udp=$2 ready="$BENCH_OUT/listeners.$PFX.ready" args=() pid i
    rm -f "$ready"
    [ -n "$tcp" ] && args+=(--tcp "$tcp")
    [ -n "$udp" ] && args+=(--udp "$udp")
    ip netns exec "$NS_T" "$BENCH_PY" "$BENCH_DIR/listeners.py" "${args[@]}" --ready "$ready" \
        >"$BENCH_OUT/logs/listeners.$PFX.log" 2>&1 </dev/null &
    pid=$!
    bench_on_exit "kill $pid; wait $pid"
    for ((i = 0; i < 100; i++)); do
        [ -f "$ready" ] && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$BENCH_OUT/logs/listeners.$PFX.log" >&2; bench_die "listeners died"; }
        sleep 0.1
    done
    bench_die "listeners not ready after 10 s"
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
    bench_on_exit "kill $pid; wait $pid"
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
    ip netns exec "$NS_S" /usr/bin/time -v -o "$tf" timeout -k 5 "$tmo" "$@" >"$log" 2>&1 </dev/null || rc=$?
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
