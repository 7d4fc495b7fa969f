#!/usr/bin/env bash
# U1 (issue 10): UDP ports 1-1000 on one host whose ICMP errors are limited, one
# network per limiter profile of tests/lib/netlab.sh (none, global200, global,
# freebsd, solaris, linux). The target: UDP listeners on 53,123,161,500,514 (open),
# 137,999 dropped by nftables (open|filtered), the other 993 closed; the truth is that
# layout, which is what the same scan of the target finds with no limit at all
# (profile "none", the first run: its "states = truth" column checks it).
# Per profile, in the same run: scanfw (default timing, and -T4) and nmap -sU -T4.
# Against Linux's defaults (1 error a second per source): scanfw with a pool of 254
# source addresses (netlab_pool: 198.19.255.0/24, routed to the scanner as local),
# and scanfw without one and nmap, both capped (U1_LINUX_CAP: a right answer takes
# about 990 s for either).
#
#   sudo bench/u1.sh                      # then: python3 bench/report.py summary --out-dir $BENCH_OUT
#   sudo U1_PROFILES="global200 solaris" bench/u1.sh
#
# Environment: SCANFW, BENCH_OUT (as bench/run.sh); U1_PROFILES; U1_PORTS (1-1000);
# U1_NMAP_CAP (300 s per nmap run), U1_SCANFW_CAP (120 s), U1_LINUX_CAP (120 s: nmap
# and scanfw without a pool against Linux's defaults; the issue's 600 s for nmap is
# U1_LINUX_CAP=600); U1_POOL (254 source addresses); BENCH_LOCK (default
# /tmp/scanfw-bench.lock: every tool run holds it, so that benchmarks of other people
# on this machine do not run at the same moment; don't wrap u1.sh in that flock
# yourself, or it waits for itself).
# Each profile's goal (issue 10): states identical to the truth, and time within 2 x
# the limiter's own minimum (closed ports beyond its burst divided by its rate) + 1 s;
# report.py prints both per run.
source "$(dirname "$0")/lib.sh"
bench_need_root
bench_check_scanfw
export BENCH_LOCK=${BENCH_LOCK:-/tmp/scanfw-bench.lock}

PROFILES=${U1_PROFILES:-none global200 global freebsd solaris linux}
PORTS=${U1_PORTS:-1-1000}
OPEN=53,123,161,500,514
DROP=137,999
NMAP_CAP=${U1_NMAP_CAP:-300} SCANFW_CAP=${U1_SCANFW_CAP:-120} LINUX_CAP=${U1_LINUX_CAP:-120}
POOL=${U1_POOL:-254}

# The limiters' IPv4 figures (tests/lib/netlab.sh, measured on this kernel): errors
# let through at once, and a second after.
declare -A BURST=([none]=0 [linux]=6 [global200]=50 [global]=50 [freebsd]=200 [solaris]=10)
declare -A RATE=([none]=0 [linux]=1 [global200]=200 [global]=1000 [freebsd]=200 [solaris]=100)

# Of the open and dropped ports, those inside $PORTS; how many ports $PORTS has.
read -r OPEN DROP nports < <(python3 -c 'import sys
want = set()
for part in sys.argv[1].split(","):
    lo, _, hi = part.partition("-")
    want.update(range(int(lo), int(hi or lo) + 1))
keep = lambda l: ",".join(p for p in l.split(",") if p and int(p) in want) or "-"
print(keep(sys.argv[2]), keep(sys.argv[3]), len(want))' "$PORTS" "$OPEN" "$DROP")
OPEN=${OPEN#-} DROP=${DROP#-}
closed=$((nports - $(tr ',' '\n' <<<"$OPEN,$DROP" | grep -c .)))

for profile in $PROFILES; do
    [ -n "${BURST[$profile]:-}" ] || bench_die "unknown profile '$profile' (none global200 global freebsd solaris linux)"
    scen="U1-$profile"
    # Each profile in a network of its own, torn down before the next (netlab_down;
    # the exit trap catches the rest).
    # shellcheck disable=SC2034 # lib.sh names what it makes with it
    BENCH_TAG="$$r$RANDOM"
    bench_net_up "u1$profile"
    netlab_icmp "$PFX" "$profile"
    [ -n "$OPEN" ] && netlab_listen "$PFX" --udp "$OPEN"
    [ -n "$DROP" ] && bench_nft drop ip <<EOT
table ip @TABLE@ {
    chain in {
        type filter hook input priority 0; policy accept;
        udp dport { $DROP } counter drop comment "dropped"
    }
}
EOT
    bench_wire_counters
    bench_describe
    "$BENCH_PY" "$BENCH_DIR/report.py" truth --out-dir "$BENCH_OUT" --scenario "$scen" --hosts "$TARGET_IP" \
        --proto udp --ports "$PORTS" --open "$OPEN" --openfiltered "$DROP" \
        --note "UDP $PORTS on one host, ICMP errors limited as netlab's profile $profile (burst ${BURST[$profile]}, ${RATE[$profile]}/s); open: $OPEN; dropped: $DROP; $closed closed"
    printf '{"profile":"%s","burst":%s,"rate":%s,"closed":%s}\n' "$profile" "${BURST[$profile]}" \
        "${RATE[$profile]}" "$closed" >"$BENCH_OUT/$scen.limit.json"

    if [ "$profile" = linux ]; then
        netlab_pool "$PFX" "$POOL" 0
        bench_scanfw "$scen" "pool$POOL" "$SCANFW_CAP" "--plugin udp -p $PORTS --source-ip 198.19.255.1-198.19.255.$POOL" "$TARGET_IP"
        sleep 2  # the per-peer buckets refill (6 s of credit at most): each run starts alike
        bench_scanfw "$scen" default "$LINUX_CAP" "--plugin udp -p $PORTS" "$TARGET_IP"
        sleep 2
        bench_nmap "$scen" default "$LINUX_CAP" "-sU -Pn -n -p $PORTS -T4" "$TARGET_IP"
    else
        bench_scanfw "$scen" default "$SCANFW_CAP" "--plugin udp -p $PORTS" "$TARGET_IP"
        sleep 2  # the limiter's bucket refills between runs
        bench_scanfw "$scen" T4 "$SCANFW_CAP" "--plugin udp -p $PORTS -T4" "$TARGET_IP"
        sleep 2
        bench_nmap "$scen" default "$NMAP_CAP" "-sU -Pn -n -p $PORTS -T4" "$TARGET_IP"
    fi
    netlab_down "$PFX"
done
bench_log "U1 done: python3 $BENCH_DIR/report.py summary --out-dir $BENCH_OUT"
