#!/usr/bin/env bash
# S5: memory at scale. 198.19.0.0/20 x ports 1-256 (1 048 576 probes) and
# 198.19.0.0/16 x 1-256 (16 777 216 probes), SYN; TCP 22 and 80 open on every
# address (AnyIP), the rest closed. The figure is scanfw's peak RSS (goal: at most
# 64 MiB for every run, and the /16 with the table at most 1.5 x the /20's). Runs:
#   stream20, stream16   results streamed: -oJ - | grep open (no table)
#   table20, table16     the default output, the table on stdout (to a file here), with
#                        -oJ to a pipe (| grep open, for the open ports found): the table
#                        writes hosts in address order, so it holds every result until
#                        the end (in a spool that spills sorted runs to disk)
#   table16-few-ports    the /16 with 18 ports (1-16,22,80: 1.2 M probes), the table
#   shard16-K-of-N       the /16 x 1-256 in N shards (--shard K/N --seed), each -oJ FILE
#   merge16              `scanfw merge` of those shards: the table on stdout, -oX FILE,
#                        -oJ to a pipe; it reads them one after the other and streams
# masscan runs on the /20 as a reference (S5_MASSCAN_NETS). Each measured run holds
# /tmp/scanfw-bench.lock (lib.sh's bench_run), so benchmarks of other sessions on this
# machine do not run at the same time.
source "$(dirname "$0")/lib.sh"
bench_need_root
bench_check_scanfw

PORTS=1-256
OPEN=22,80
SCANFW_FLAGS=${SCANFW_S5_FLAGS:--Pn --plugin syn -p $PORTS --rate 1000000 --retries 1 --timeout 300ms}
MASSCAN_RATE=${MASSCAN_S5_RATE:-1000000}
CAP16=${S5_CAP:-420}
NETS=${S5_NETS:-198.19.0.0/20 198.19.0.0/16}
MASSCAN_NETS=${S5_MASSCAN_NETS:-198.19.0.0/20}   # masscan on the /16 takes as long as scanfw
TABLE16_PORTS=${S5_TABLE16_PORTS-1-16,22,80}      # the /16 with the table, fewer ports (empty: skip)
TABLE_NETS=${S5_TABLE_NETS-198.19.0.0/20 198.19.0.0/16}  # the table on stdout, ports 1-256 (empty: skip)
MERGE_NET=${S5_MERGE_NET-198.19.0.0/16}            # its shards merged (empty: skip)
MERGE_SHARDS=${S5_MERGE_SHARDS:-4}
MERGE_SEED=${S5_MERGE_SEED:-5}
OPEN_LINES=(-e '"state":"open"' -e '"type":"summary"')

bench_net_up s5
netlab_range "$PFX" "$ANY_NET"
netlab_listen "$PFX" --tcp "$OPEN"
bench_wire_counters
bench_trickle_start
bench_describe
"$BENCH_PY" "$BENCH_DIR/report.py" truth --out-dir "$BENCH_OUT" --scenario S5 --hosts "$ANY_NET" \
    --proto tcp --ports "$PORTS" --open "$OPEN" \
    --note "memory at scale: /20 and /16 x ports 1-256, SYN; 22 and 80 open on every address"

# scanfw, the table on stdout into TABLE, -oJ through a pipe to grep (the open ports
# and the summary, for report.py), as a shell command line.
table_cmd() { # FLAGS TABLE OUT TARGET
    echo "$SCANFW $1 -vv -oJ /dev/fd/3 $4 3>&1 >$2 | grep -F ${OPEN_LINES[*]@Q} >$3"
}

for net in $NETS; do
    bits=${net#*/}
    # shellcheck disable=SC2034 # read by lib.sh's bench_scanfw, bench_masscan, ...
    BENCH_HOSTS=$net
    tmo=$([ "$bits" -ge 20 ] && echo 120 || echo "$CAP16")
    out="$BENCH_OUT/out/S5.scanfw.stream$bits.jsonl"
    bench_run_sh S5 scanfw "stream$bits" "$tmo" scanfw-jsonl "$out" "flags=$SCANFW_FLAGS -oJ -" "hosts=$net" \
        "probes=$(( (1 << (32 - bits)) * 256 ))" -- \
        "$SCANFW $SCANFW_FLAGS -vv -oJ - $net | grep -F ${OPEN_LINES[*]@Q} > $out"
    if [[ " $TABLE_NETS " == *" $net "* ]]; then
        # The default output: the table on stdout.
        out="$BENCH_OUT/out/S5.scanfw.table$bits.jsonl"
        bench_run_sh S5 scanfw "table$bits" "$tmo" scanfw-jsonl "$out" "flags=$SCANFW_FLAGS (table on stdout)" \
            "hosts=$net" "probes=$(( (1 << (32 - bits)) * 256 ))" -- \
            "$(table_cmd "$SCANFW_FLAGS" "$BENCH_OUT/out/S5.scanfw.table$bits.txt" "$out" "$net")"
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

if [ -n "$MERGE_NET" ]; then
    # The scan in shards, each its own -oJ file; then `scanfw merge` of them, measured.
    bits=${MERGE_NET#*/} n=$MERGE_SHARDS
    shards=()
    for k in $(seq 1 "$n"); do
        f="$BENCH_OUT/out/S5.shard$bits-$k-of-$n.jsonl"  # the whole record, for the merge
        out="$BENCH_OUT/out/S5.scanfw.shard$bits-$k-of-$n.jsonl"  # its open ports, for report.py
        shards+=("$f")
        # shellcheck disable=SC2086
        BENCH_HOSTS=$MERGE_NET bench_run S5 scanfw "shard$bits-$k-of-$n" "$CAP16" scanfw-jsonl "$out" \
            "flags=$SCANFW_FLAGS --shard $k/$n --seed $MERGE_SEED" "hosts=$MERGE_NET" "group=shards$bits" -- \
            $SCANFW $SCANFW_FLAGS --shard "$k/$n" --seed "$MERGE_SEED" -vv -oJ "$f" "$MERGE_NET"
        grep -F "${OPEN_LINES[@]}" "$f" >"$out" || true
    done
    out="$BENCH_OUT/out/S5.scanfw.merge$bits.jsonl"
    bench_run_sh S5 scanfw "merge$bits" "$CAP16" scanfw-jsonl "$out" "flags=merge of $n shards" "hosts=$MERGE_NET" -- \
        "$SCANFW merge -v -oX $BENCH_OUT/out/S5.merge$bits.xml -oJ /dev/fd/3 ${shards[*]} 3>&1 \
>$BENCH_OUT/out/S5.merge$bits.txt | grep -F ${OPEN_LINES[*]@Q} >$out"
    # What the merge wrote, for the log; the shards (about 2 GB of records) go.
    bench_log "merge$bits: $(grep -c '^scanfw scan report' "$BENCH_OUT/out/S5.merge$bits.txt" || true) hosts in the table; $(tail -n 1 "$BENCH_OUT/out/S5.merge$bits.txt")"
    rm -f "${shards[@]}"
fi
