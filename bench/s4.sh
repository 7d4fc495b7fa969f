#!/usr/bin/env bash
# S4: UDP ports 1-1000 on one host, ICMP rate limit off in the target (netlab's
# ICMP profile "none": net.ipv4.icmp_ratelimit=0, icmp_ratemask=0), so every closed
# port answers with a port unreachable. UDP listeners (answering any datagram) on 5 ports: open;
# 2 ports dropped by nftables: open|filtered; the other 993: closed.
# scanfw's states are compared port by port with nmap's.
# SCEN=S4L (bench/run.sh S4L, not run by default) is the same with the target's
# ICMP rate limits left at Linux's defaults, as a real host has them; S4L_ICMP=PROFILE
# gives it another of netlab's limiter profiles instead (freebsd, solaris, global200,
# global: see tests/lib/netlab.sh).
source "$(dirname "$0")/lib.sh"
bench_need_root
bench_check_scanfw

OPEN=${S4_OPEN:-53,123,161,500,514}
DROP=${S4_DROP:-137,999}
SCANFW_FLAGS=${SCANFW_S4_FLAGS:--Pn --plugin udp -p 1-1000 --rate 100000 --retries 2 --timeout 300ms}
NMAP_FLAGS=${NMAP_S4_FLAGS:--sU -Pn -n -p 1-1000 -T4}
MASSCAN_RATES=${MASSCAN_S4_RATES:-100000}
# More scanfw runs ("LABEL|FLAGS" a line): a fixed timeout nearer this veth's real
# round trip (well under 1 ms), to show how much of S4's time is waiting for the
# silent (dropped) ports, and -T4 as nmap gets.
VARIANTS=${SCANFW_S4_VARIANTS-"timeout20ms|-Pn --plugin udp -p 1-1000 --rate 100000 --retries 2 --timeout 20ms
T4|-Pn --plugin udp -p 1-1000 -T4"}
SCANFW_CAP=120 NMAP_CAP=${NMAP_S4_CAP:-300}
if [ "${SCEN:-S4}" = S4L ]; then
    # With the limits on, a correct answer takes about one closed port per second
    # (993 s) for nmap and scanfw alike: both runs are capped, and the summary shows
    # how far each got.
    VARIANTS=${SCANFW_S4_VARIANTS-}
    SCANFW_CAP=${SCANFW_S4L_CAP:-120} NMAP_CAP=${NMAP_S4_CAP:-300}
fi

SCEN=${SCEN:-S4}
bench_net_up "$(tr 'A-Z' 'a-z' <<<"$SCEN")"
if [ "$SCEN" = S4 ]; then
    netlab_icmp "$PFX" none
    limit_note="ICMP rate limit off"
elif [ "${S4L_ICMP:-linux}" != linux ]; then
    netlab_icmp "$PFX" "$S4L_ICMP"
    limit_note="ICMP errors limited as netlab's profile $S4L_ICMP (see tests/lib/netlab.sh)"
else
    limit_note="ICMP rate limits at Linux defaults (icmp_ratelimit=$(ip netns exec "$NS_T" sysctl -n net.ipv4.icmp_ratelimit), icmp_msgs_per_sec=$(ip netns exec "$NS_T" sysctl -n net.ipv4.icmp_msgs_per_sec))"
fi
netlab_listen "$PFX" --udp "$OPEN"
bench_nft drop ip <<EOT
table ip @TABLE@ {
    chain in {
        type filter hook input priority 0; policy accept;
        udp dport { $DROP } counter drop comment "dropped"
    }
}
EOT
bench_wire_counters
bench_trickle_start
bench_describe
"$BENCH_PY" "$BENCH_DIR/report.py" truth --out-dir "$BENCH_OUT" --scenario "$SCEN" --hosts "$TARGET_IP" \
    --proto udp --ports 1-1000 --open "$OPEN" --openfiltered "$DROP" \
    --note "UDP 1-1000 on one host, $limit_note; open: $OPEN; dropped (open|filtered): $DROP; 993 closed"

bench_scanfw "$SCEN" default "$SCANFW_CAP" "$SCANFW_FLAGS" "$TARGET_IP"
bench_scanfw_variants "$SCEN" "$SCANFW_CAP" "$VARIANTS" "$TARGET_IP"
bench_nmap "$SCEN" default "$NMAP_CAP" "$NMAP_FLAGS" "$TARGET_IP"
for rate in $MASSCAN_RATES; do
    bench_masscan "$SCEN" 120 "U:1-1000" "$rate" "$TARGET_IP"
done
