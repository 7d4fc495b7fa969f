#!/usr/bin/env bash
# S5: memory at scale. 198.19.0.0/20 x ports 1-256 (1 048 576 probes) and
# 198.19.0.0/16 x 1-256 (16 777 216 probes), SYN; TCP 22 and 80 open on every
# address (AnyIP), the rest closed. The figure is scanfw's peak RSS (goal: at most
# 64 MiB for both). scanfw streams its results (-oJ - | grep open: no table, whose
# rows would have to be kept until the end); the /20 is also run the default way
# (table on stdout + -oJ FILE) to show what keeping the table costs, and so is the
# /16 with 18 ports (1-16,22,80: 1.2 M probes), to show the table's cost per host.
# masscan runs on the /20 as a reference (S5_MASSCAN_NETS).
source "$(dirname "$0")/lib.sh"
bench_need_root
bench_check_scanfw

PORTS=1-256
OPEN=22,80
SCANFW_FLAGS=${SCANFW_S5_FLAGS:---plugin syn -p $PORTS --rate 1000000 --retries 1 --timeout 300ms}
MASSCAN_RATE=${MASSCAN_S5_RATE:-1000000}
CAP16=${S5_CAP:-420}
NETS=${S5_NETS:-198.19.0.0/20 198.19.0.0/16}
MASSCAN_NETS=${S5_MASSCAN_NETS:-198.19.0.0/20}   # masscan on the /16 takes as long as scanfw
TABLE16_PORTS=${S5_TABLE16_PORTS-1-16,22,80}      # the /16 with the table, fewer ports (empty: skip)

bench_net_up s5
netlab_range "$PFX" "$ANY_NET"
netlab_listen "$PFX" --tcp "$OPEN"
bench_wire_counters
bench_trickle_start
bench_describe
"$BENCH_PY" "$BENCH_DIR/report.py" truth --out-dir "$BENCH_OUT" --scenario S5 --hosts "$ANY_NET" \
    --proto tcp --ports "$PORTS" --open "$OPEN" \
    --note "memory at scale: /20 and /16 x ports 1-256, SYN; 22 and 80 open on every address"

for net in $NETS; do
    bits=${net#*/}
    # shellcheck disable=SC2034 # read by lib.sh's bench_scanfw, bench_masscan, ...
    BENCH_HOSTS=$net
    tmo=$([ "$bits" -ge 20 ] && echo 120 || echo "$CAP16")
    out="$BENCH_OUT/out/S5.scanfw.stream$bits.jsonl"
    bench_run_sh S5 scanfw "stream$bits" "$tmo" scanfw-jsonl "$out" "flags=$SCANFW_FLAGS -oJ -" "hosts=$net" \
        "probes=$(( (1 << (32 - bits)) * 256 ))" -- \
        "$SCANFW $SCANFW_FLAGS -vv -oJ - $net | grep -F -e '\"state\":\"open\"' -e '\"type\":\"summary\"' > $out"
    if [ "$bits" -ge 20 ]; then
        bench_scanfw S5 "table$bits" "$tmo" "$SCANFW_FLAGS" "$net"
    fi
    if [ "$bits" -lt 20 ] && [ -n "$TABLE16_PORTS" ]; then
        # The default way (table) on the /16 with fewer ports: table memory per host.
        BENCH_HOSTS=$net bench_scanfw S5 "table$bits-few-ports" 120 \
            "${SCANFW_FLAGS/-p $PORTS/-p $TABLE16_PORTS}" "$net"
    fi
    if [[ " $MASSCAN_NETS " == *" $net "* ]]; then
        bench_masscan S5 "$tmo" "$PORTS" "$MASSCAN_RATE" "$net" "net$bits-r$MASSCAN_RATE"
    fi
done
