#!/usr/bin/env bash
# S1: one host, all 65535 TCP ports, SYN. 20 ports have a listener (open), the rest
# are closed (the target's kernel resets). Tools: scanfw, nmap, masscan at a few
# rates, and hyperfine for scanfw vs nmap over repeated runs.
source "$(dirname "$0")/lib.sh"
bench_need_root
bench_check_scanfw

OPEN=${S1_OPEN:-7,22,25,53,80,110,143,443,993,1723,3306,5432,6379,8080,9200,11211,27017,40000,50000,65535}
SCANFW_FLAGS=${SCANFW_S1_FLAGS:--Pn --plugin syn -p 1-65535 --rate 1000000 --retries 2 --timeout 300ms}
NMAP_FLAGS=${NMAP_S1_FLAGS:--sS -Pn -n -p 1-65535 -T4}
MASSCAN_RATES=${MASSCAN_S1_RATES:-100000 1000000 10000000}
RUNS=${S1_HYPERFINE_RUNS:-5}
# More scanfw runs, "LABEL|FLAGS" a line (see bench_scanfw_variants).
VARIANTS=${SCANFW_S1_VARIANTS-"T5|-Pn --plugin syn -p 1-65535 -T5"}

bench_net_up s1
netlab_listen "$PFX" --tcp "$OPEN"
bench_wire_counters
bench_trickle_start
bench_describe
"$BENCH_PY" "$BENCH_DIR/report.py" truth --out-dir "$BENCH_OUT" --scenario S1 --hosts "$TARGET_IP" \
    --proto tcp --ports 1-65535 --open "$OPEN" \
    --note "one host, all 65535 TCP ports, SYN; 20 open (listeners), 65515 closed"

bench_scanfw S1 default 120 "$SCANFW_FLAGS" "$TARGET_IP"
bench_scanfw_variants S1 120 "$VARIANTS" "$TARGET_IP"
bench_nmap S1 default 120 "$NMAP_FLAGS" "$TARGET_IP"
for rate in $MASSCAN_RATES; do
    bench_masscan S1 120 1-65535 "$rate" "$TARGET_IP"
done

if [ "$RUNS" -gt 0 ]; then
    bench_log "S1 hyperfine: scanfw vs nmap, $RUNS runs each"
    # shellcheck disable=SC2086
    ip netns exec "$NS_S" timeout -k 5 300 hyperfine --runs "$RUNS" --warmup 1 --style basic \
        --export-json "$BENCH_OUT/S1.hyperfine.json" \
        -n scanfw "$SCANFW $SCANFW_FLAGS -oJ /dev/null $TARGET_IP" \
        -n nmap "nmap $NMAP_FLAGS -oX /dev/null $TARGET_IP" \
        >"$BENCH_OUT/logs/S1.hyperfine.log" 2>&1 ||
        bench_log "hyperfine failed: see $BENCH_OUT/logs/S1.hyperfine.log"
fi
