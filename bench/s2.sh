#!/usr/bin/env bash
# S2: 198.19.0.0/16 (AnyIP: every address is local to the target namespace) x 3
# TCP ports, SYN; 80 and 443 have listeners on 0.0.0.0 (open on all 65536
# addresses, 131072 open in all), 22 is closed.
# S3 is the same with 10 % of the probes dropped at random (see s3.sh).
source "$(dirname "$0")/lib.sh"
bench_need_root
bench_check_scanfw

SCEN=${SCEN:-S2}
PORTS=22,80,443
OPEN=80,443
NET=$ANY_NET
# The default scanfw run is SCANFW_S<N>_FLAGS; SCANFW_S<N>_VARIANTS adds runs,
# "LABEL|FLAGS" a line: -T5 as nmap gets, and a floor under the adaptive rate.
if [ "$SCEN" = S3 ]; then
    SCANFW_FLAGS=${SCANFW_S3_FLAGS:--Pn --plugin syn -p $PORTS --rate 1000000 --retries 4 --timeout 300ms}
    VARIANTS=${SCANFW_S3_VARIANTS-"T5|-Pn --plugin syn -p $PORTS -T5
minrate|-Pn --plugin syn -p $PORTS --rate 1000000 --min-rate 100000 --retries 4 --timeout 300ms"}
    SCANFW_CAP=${SCANFW_S3_CAP:-60}
    NMAP_FLAGS=${NMAP_S3_FLAGS:--sS -Pn -n -p $PORTS -T5}
    NMAP_CAP=${NMAP_S3_CAP:-150}
    MASSCAN_RATES=${MASSCAN_S3_RATES:-100000 300000 1000000}
else
    SCANFW_FLAGS=${SCANFW_S2_FLAGS:--Pn --plugin syn -p $PORTS --rate 1000000 --retries 2 --timeout 300ms}
    # The default flags twice more: on this shared 2-core machine one S2 run moves by
    # 10-20 %, so three runs of the same command show the spread.
    VARIANTS=${SCANFW_S2_VARIANTS-"T5|-Pn --plugin syn -p $PORTS -T5
repeat2|$SCANFW_FLAGS
repeat3|$SCANFW_FLAGS"}
    SCANFW_CAP=${SCANFW_S2_CAP:-120}
    NMAP_FLAGS=${NMAP_S2_FLAGS:--sS -Pn -n -p $PORTS -T5}
    NMAP_CAP=${NMAP_S2_CAP:-120}
    MASSCAN_RATES=${MASSCAN_S2_RATES:-100000 300000 1000000}
fi
ZMAP_RATE=${ZMAP_RATE:-1000000}
LOSS=${S3_LOSS_PERCENT:-10}

bench_net_up "$(tr 'A-Z' 'a-z' <<<"$SCEN")"
netlab_range "$PFX" "$NET"
netlab_listen "$PFX" --tcp "$OPEN"
if [ "$SCEN" = S3 ]; then
    # 10 % of the probes (SYNs to the /16) vanish on their way in, at random; the
    # counters tell how many probes came and how many were dropped.
    netlab_loss "$PFX" "$LOSS" --match "ip daddr $NET tcp flags & (syn|ack|rst) == syn"
fi
bench_wire_counters
bench_trickle_start
bench_describe
note="198.19.0.0/16 x ports $PORTS, SYN; $OPEN open on every address"
[ "$SCEN" = S3 ] && note="$note; $LOSS % of probes dropped at random"
"$BENCH_PY" "$BENCH_DIR/report.py" truth --out-dir "$BENCH_OUT" --scenario "$SCEN" --hosts "$NET" \
    --proto tcp --ports "$PORTS" --open "$OPEN" --note "$note"

LOSS_P=0 LOSS_D=0
loss_note() {  # after each run: how many probes the target saw and dropped
    [ "$SCEN" = S3 ] || return 0
    local p d
    read -r p d < <(netlab_loss_counters "$PFX")
    echo "- loss counters, $1: $((p - LOSS_P)) probes reached the target's nftables, $((d - LOSS_D)) dropped" \
        "($(awk -v p="$((p - LOSS_P))" -v d="$((d - LOSS_D))" 'BEGIN{printf "%.2f", p ? 100*d/p : 0}') %)" \
        >>"$BENCH_OUT/$SCEN.extra.txt"
    LOSS_P=$p LOSS_D=$d
}

# shellcheck disable=SC2034 # read by lib.sh's bench_scanfw, bench_masscan, ...
BENCH_HOSTS=$NET
bench_after_scanfw() { loss_note "$1"; }
bench_scanfw "$SCEN" default "$SCANFW_CAP" "$SCANFW_FLAGS" "$NET"; loss_note "scanfw default"
bench_scanfw_variants "$SCEN" "$SCANFW_CAP" "$VARIANTS" "$NET"
for rate in $MASSCAN_RATES; do
    bench_masscan "$SCEN" 120 "$PORTS" "$rate" "$NET"; loss_note "masscan rate $rate"
done
for port in ${PORTS//,/ }; do
    bench_zmap "$SCEN" 120 "$port" "$ZMAP_RATE" "$NET" "r$ZMAP_RATE 3 ports"; loss_note "zmap port $port"
done
from=${NMAP_S3_FROM:-}
if [ "$SCEN" = S3 ] && [ -n "$from" ]; then
    # Reuse an earlier, uncapped nmap S3 run (NMAP_S3_FROM=its BENCH_OUT folder).
    [ -f "$from/records/S3.nmap.default.json" ] || bench_die "no S3 nmap record in $from"
    cp "$from/out/S3.nmap.default.xml" "$BENCH_OUT/out/S3.nmap.default.xml"
    "$BENCH_PY" - "$from/records/S3.nmap.default.json" "$BENCH_OUT" "$from" <<'PY'
import json, os, sys, time
rec = json.load(open(sys.argv[1]))
rec["output"] = os.path.join(sys.argv[2], "out", "S3.nmap.default.xml")
when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.path.getmtime(sys.argv[1])))
rec["reused"] = f"run of {when} UTC in {sys.argv[3]}"
json.dump(rec, open(os.path.join(sys.argv[2], "records", "S3.nmap.default.json"), "w"), indent=1)
PY
    bench_log "S3 nmap: reused the run recorded in $from"
else
    bench_nmap "$SCEN" default "$NMAP_CAP" "$NMAP_FLAGS" "$NET"; loss_note nmap
fi
