#!/usr/bin/env bash
# LIMIT: the most probes per second a bare sender pushes through the veth on this
# machine, and how close scanfw gets. Two phases, same senders:
#   sink       the target namespace drops everything from the scanner at its veth's
#              ingress hook (nftables netdev table) and counts it: the cost of
#              sending alone. 4 194 304 probes (198.19.0.0/16 x 64) per sender.
#   answering  the target counts at the same hook but lets the probes in; the
#              whole /16 is local to it (AnyIP) with no listener, so every probe
#              gets a RST back, as in S1/S2/S5: the cost of a probe and its answer
#              on two cores. 1 048 576 probes (/16 x 16) per sender.
# nftrate.py samples the counter every 100 ms; the figure is the best 1-second
# window. Senders: masscan and zmap at unlimited rates (their own packet paths:
# libpcap/raw sockets), and scanfw with --rate far above what it reaches and
# --retries 0. Each run is capped at LIMIT_SECONDS (default 25) seconds.
source "$(dirname "$0")/lib.sh"
bench_need_root
bench_check_scanfw

SECS=${LIMIT_SECONDS:-25}
BIG=100000000
NET=$ANY_NET
PHASES=${LIMIT_PHASES:-sink answering}

bench_net_up limit
# The /16 is routed to the target and local to it; in the sink phase the probes are
# dropped at the veth's ingress, before routing, so that changes nothing there.
netlab_range "$PFX" "$NET"
bench_wire_counters
bench_trickle_start
bench_describe
bl="$BENCH_OUT/zmap-empty-blocklist.conf"
: >"$bl"

measure() {  # measure LABEL TOOL RATE -- CMD...
    local label=$1 tool=$2 rate=$3
    shift 4
    local rf="$BENCH_OUT/logs/LIMIT.$tool.$label.rate.json" pid
    ip netns exec "$NS_T" "$BENCH_PY" "$BENCH_DIR/nftrate.py" netdev "$COUNT_TABLE" probes \
        --max-seconds $((SECS + 30)) >"$rf" 2>"$rf.err" &
    pid=$!
    netlab_on_exit "kill $pid 2>/dev/null"
    sleep 0.3
    bench_run LIMIT "$tool" "$label" "$SECS" none /dev/null "rate=$rate" "phase=$PHASE" -- "$@" || true
    sleep 0.5
    kill "$pid" 2>/dev/null
    wait "$pid" || true
    # fold the sampler's figures into the run's record
    "$BENCH_PY" - "$BENCH_OUT/records/LIMIT.$tool.$label.json" "$rf" <<'PY'
import json, sys
rec = json.load(open(sys.argv[1]))
try:
    rec.update(json.load(open(sys.argv[2])))
except ValueError:
    pass
json.dump(rec, open(sys.argv[1], "w"), indent=1)
print(f"    -> {rec.get('packets')} probes counted, best 1-s {rec.get('peak_pps')} pps, mean {rec.get('mean_pps')} pps",
      file=sys.stderr)
PY
}

for PHASE in $PHASES; do
    if [ "$PHASE" = sink ]; then
        verdict=drop ports=64 zp=64
    else
        verdict=accept ports=16 zp=16
    fi
    bench_nft "count_$PHASE" netdev <<EOT
table netdev @TABLE@ {
    chain in {
        type filter hook ingress device @IF_T@ priority -500; policy accept;
        ip saddr $SCANNER_IP ip daddr $NET tcp flags & (syn|ack|rst) == syn counter $verdict comment "probes"
    }
}
EOT
    COUNT_TABLE=$NFT_TABLE
    measure "$PHASE" masscan "$BIG" -- masscan --adapter "$IF_S" --adapter-ip "$SCANNER_IP" --router-mac "$MAC_T" \
        -p "1-$ports" --rate "$BIG" --wait 0 "$NET"
    measure "$PHASE" zmap "$BIG" -- zmap -q -i "$IF_S" -G "$MAC_T" -S "$SCANNER_IP" -p 80 -P "$zp" -r "$BIG" \
        -b "$bl" -c 0 -o /dev/null "$NET"
    measure "$PHASE" scanfw "$BIG" -- "$SCANFW" --plugin syn -p "1-$ports" --rate "$BIG" --retries 0 \
        --timeout 100ms -vv -oJ /dev/null "$NET"
    ip netns exec "$NS_T" nft delete table netdev "$COUNT_TABLE"
done
