#!/usr/bin/env bash
# V1 (issue 15): service and version detection. 32 target addresses (198.19.0.0/27,
# AnyIP: the one target namespace answers on all of them) x the test daemons of
# tests/lib/svclab.sh -- vsftpd 21, 2121; sshd 22, 2222; nginx 80, 8088 and HTTPS
# 443, 8443; dnsmasq 53, 5300 over TCP and UDP -- 384 services in all.
# scanfw -sV and nmap -sV -T4 run in the same script, one after the other, each on
# the same ports; the figure is scanfw's wall time over nmap's (goal: <= 0.5), and
# every port's state, name, product, version, extrainfo and tunnel must be nmap's.
#
#   sudo bench/v1.sh                 (SCANFW=PATH, BENCH_OUT=DIR, V1_RUNS=N as below)
#
#   SCANFW          scanfw binary (default build/bin/scanfw)
#   V1_RUNS         runs of each tool, alternating (default 1); the medians are compared
#   SCANFW_V1_FLAGS scanfw's flags (default: -sS -sU -sV -T4 -Pn -n)
#   NMAP_V1_FLAGS   nmap's flags (default: -sS -sU -sV -T4 -Pn -n)
#   V1_NET          the targets (default 198.19.0.0/27)
#
# Every measured run is wrapped in `flock /tmp/scanfw-bench.lock`, so benchmarks
# of other checkouts on this machine never run at the same time as one of ours;
# the wait for the lock is not measured (/usr/bin/time runs inside it). Namespaces
# and daemons go away on exit, also on failure (netlab_on_exit).
# Exit: 0 identical results and goal met, 1 otherwise (or an error).
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/../tests/lib/svclab.sh
source "$BENCH_REPO/tests/lib/svclab.sh"
bench_need_root
bench_check_scanfw
for t in nmap /usr/bin/time flock python3; do
    command -v "$t" >/dev/null || bench_die "$t is missing (scripts/setup.sh installs nmap, time and util-linux)"
done
svclab_ensure_daemons || bench_die "could not install the daemons (scripts/setup.sh installs them)"

RUNS=${V1_RUNS:-1}
NET=${V1_NET:-198.19.0.0/27}
SCANFW_FLAGS=${SCANFW_V1_FLAGS:--sS -sU -sV -T4 -Pn -n}
NMAP_FLAGS=${NMAP_V1_FLAGS:--sS -sU -sV -T4 -Pn -n}
LOCK=/tmp/scanfw-bench.lock
TCP=$(IFS=,; echo "${SVCLAB_TCP_PORTS[*]}")
UDP=$(IFS=,; echo "${SVCLAB_UDP_PORTS[*]}")
PORTS="T:$TCP,U:$UDP"
hosts=$(python3 -c 'import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1]).num_addresses)' "$NET")

bench_net_up v1
netlab_range "$PFX" "$NET"
# The addresses also on the target's lo: dnsmasq serves TCP only on addresses an
# interface has (on an AnyIP address alone it closes every TCP connection at once,
# and both scanners say tcpwrapped).
python3 -c 'import ipaddress,sys; print("\n".join(map(str, ipaddress.ip_network(sys.argv[1]))))' "$NET" |
    while read -r a; do ip -n "$PFX-t" addr add "$a/32" dev lo; done
work="$BENCH_OUT/v1-daemons"
mkdir -p "$work"
svclab_start "$PFX" "$work" --tune-for "$hosts" || bench_die "could not start the daemons"
svclab_wait_bound "$PFX" 15 || { tail -n 20 "$work"/*.log >&2; bench_die "daemons not listening"; }
bench_log "V1: $hosts addresses ($NET) x $PORTS; daemons up in $PFX-t; $RUNS run(s) each"

# measure TOOL LABEL OUT CMD...: one run under flock, timeout and /usr/bin/time -v in
# the scanner namespace; prints "WALL RSS_KIB EXIT".
measure() {
    local tool=$1 label=$2
    shift 2
    local tf="$BENCH_OUT/logs/V1.$tool.$label.time" log="$BENCH_OUT/logs/V1.$tool.$label.log" rc=0
    bench_log "V1 $tool [$label]: $*"
    flock "$LOCK" ip netns exec "$NS_S" /usr/bin/time -v -o "$tf" timeout -k 5 900 "$@" \
        >"$log" 2>&1 </dev/null || rc=$?
    awk -F': ' -v rc="$rc" '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
        /Maximum resident set size/ { m = $2 }
        END { printf "%.2f %d %d\n", s, m, rc }' "$tf"
}

declare -a ours_t=() nmap_t=()
summary="$BENCH_OUT/V1.summary.txt"
: >"$summary"
for ((run = 1; run <= RUNS; run++)); do
    # shellcheck disable=SC2086
    read -r t rss rc < <(measure scanfw "run$run" "$SCANFW" $SCANFW_FLAGS -p "$PORTS" \
        -oX "$BENCH_OUT/out/V1.scanfw.run$run.xml" "$NET")
    [ "$rc" = 0 ] || bench_die "scanfw exited $rc (log: $BENCH_OUT/logs/V1.scanfw.run$run.log)"
    ours_t+=("$t")
    echo "scanfw run $run: $t s, peak RSS $((rss / 1024)) MiB" | tee -a "$summary" >&2
    # shellcheck disable=SC2086
    read -r t rss rc < <(measure nmap "run$run" nmap $NMAP_FLAGS -p "$PORTS" \
        -oX "$BENCH_OUT/out/V1.nmap.run$run.xml" "$NET")
    [ "$rc" = 0 ] || bench_die "nmap exited $rc (log: $BENCH_OUT/logs/V1.nmap.run$run.log)"
    nmap_t+=("$t")
    echo "nmap   run $run: $t s, peak RSS $((rss / 1024)) MiB" | tee -a "$summary" >&2
done

# Identical results: every (address, port) of every run, both tools.
compare() {
    python3 - "$@" <<'EOF'
import sys, xml.etree.ElementTree as ET
def read(path):
    out = {}
    for host in ET.parse(path).iter("host"):
        addr = host.find("address").get("addr")
        for p in host.iter("port"):
            s = p.find("service")
            f = tuple((s.get(k) or "") if s is not None else "" for k in
                      ("name", "product", "version", "extrainfo", "tunnel"))
            out[(addr, p.get("protocol"), int(p.get("portid")))] = (p.find("state").get("state"),) + f
    return out
nmap, ours = read(sys.argv[1]), read(sys.argv[2])
diff = [k for k in sorted(set(nmap) | set(ours)) if nmap.get(k) != ours.get(k)]
ident = sum(1 for v in ours.values() if v[0] == "open" and v[2])
for k in diff[:20]:
    print(f"  {k[0]} {k[2]}/{k[1]}: nmap {nmap.get(k)}, scanfw {ours.get(k)}")
print(f"{len(ours)} ports, {ident} with a product; {len(diff)} differ from nmap")
sys.exit(1 if diff or len(ours) == 0 else 0)
EOF
}
same=1
for ((run = 1; run <= RUNS; run++)); do
    compare "$BENCH_OUT/out/V1.nmap.run$run.xml" "$BENCH_OUT/out/V1.scanfw.run$run.xml" | tee -a "$summary" >&2 ||
        same=0
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mo=$(median "${ours_t[@]}") mn=$(median "${nmap_t[@]}")
ratio=$(awk -v a="$mo" -v b="$mn" 'BEGIN { printf "%.3f", a / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r <= 0.5) ? "yes" : "no" }')
{
    echo "V1: $hosts addresses x $PORTS, -sV"
    echo "  scanfw: $mo s (median of $RUNS: ${ours_t[*]})   $SCANFW $SCANFW_FLAGS -p $PORTS $NET"
    echo "  nmap:   $mn s (median of $RUNS: ${nmap_t[*]})   nmap $NMAP_FLAGS -p $PORTS $NET"
    echo "  ratio scanfw/nmap: $ratio (goal <= 0.5: $met); results identical to nmap's: $([ "$same" = 1 ] && echo yes || echo no)"
} | tee -a "$summary"
bench_log "V1 records in $BENCH_OUT"
[ "$same" = 1 ] && [ "$met" = yes ]
