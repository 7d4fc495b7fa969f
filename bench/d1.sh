#!/usr/bin/env bash
# D1: a host-discovery sweep (issue 13). 198.19.0.0/16 where one address in 16 is up
# (198.19.X.Y with Y % 16 == 1: 4096 hosts that answer everything, the kernel's
# echo and timestamp replies and RSTs) and the other 61440 are dropped by nftables.
# scanfw -sn (nmap's four probe types: ICMP echo, TCP SYN 443, TCP ACK 80, ICMP
# timestamp, with retries for the silent ones) beside nmap -sn -n -T5 and zmap's
# icmp_echoscan module (one probe type, no retry) in the same run. Printed: each
# tool's wall time and peak RSS (/usr/bin/time -v), scanfw's time as a share of
# nmap's (goal <= 0.03) and zmap's, whether each up set equals the truth
# (netlab_up_hosts), and scanfw's peak RSS against S5's bound (64 MiB).
#
#   sudo bench/d1.sh
#   D1_NMAP_NET=198.19.0.0/20 sudo bench/d1.sh   # nmap on a /20 sample, its time x16
#
# Environment: SCANFW, BENCH_OUT as for bench/run.sh; SCANFW_D1_FLAGS (default -T5,
# nmap's template; -sn -n always), NMAP_D1_FLAGS (-sn -n -T5), D1_NMAP_NET (default the whole /16;
# a smaller CIDR inside it is run instead and its time scaled by the address count,
# which the summary says), D1_NMAP_CAP (seconds, default 600), ZMAP_D1_RATE
# (default 100000 probes/s). Each measured run holds /tmp/scanfw-bench.lock (flock,
# taken by lib.sh's bench_run), so benchmarks of other checkouts on this machine do
# not run at the same time.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
bench_need_root
bench_check_scanfw
bench_ensure_tools

NET=198.19.0.0/16
SCANFW_FLAGS=${SCANFW_D1_FLAGS:--T5}
NMAP_FLAGS=${NMAP_D1_FLAGS:--sn -n -T5}
NMAP_NET=${D1_NMAP_NET:-$NET}
NMAP_CAP=${D1_NMAP_CAP:-600}
ZMAP_RATE=${ZMAP_D1_RATE:-100000}

bench_net_up d1
ups=()
for ((i = 0; i < 65536; i += 16)); do ups+=("198.19.$((i >> 8)).$(((i & 255) + 1))=up"); done
netlab_range "$PFX" "$NET" default=down "${ups[@]}"
bench_describe
netlab_up_hosts "$PFX" "$NET" >"$BENCH_OUT/D1.truth"
bench_log "truth: $(wc -l <"$BENCH_OUT/D1.truth") of 65536 up"

# scanfw: -oJ - streamed through grep (the host lines that say up, and the summary),
# D1_SCANFW_RUNS times (default 3: the machine may be busy with other work; the
# summary gives the median run and every run).
for ((run = 1; run <= ${D1_SCANFW_RUNS:-3}; run++)); do
    out_s="$BENCH_OUT/out/D1.scanfw.sn$run.jsonl"
    # shellcheck disable=SC2086
    bench_run_sh D1 scanfw "sn$run" "$NMAP_CAP" scanfw-jsonl "$out_s" "flags=-sn $SCANFW_FLAGS" "hosts=$NET" -- \
        "$SCANFW -sn -n $SCANFW_FLAGS -q -vv -oJ - $NET | grep -F -e '\"status\":\"up\"' -e '\"type\":\"summary\"' > $out_s"
done

out_n="$BENCH_OUT/out/D1.nmap.sn.xml"
# shellcheck disable=SC2086
bench_run D1 nmap sn "$NMAP_CAP" nmap-xml "$out_n" "flags=$NMAP_FLAGS" "hosts=$NMAP_NET" -- \
    nmap $NMAP_FLAGS -oX "$out_n" "$NMAP_NET"

out_z="$BENCH_OUT/out/D1.zmap.icmp.csv"
bl="$BENCH_OUT/zmap-empty-blocklist.conf"
: >"$bl"
bench_run D1 zmap icmp "$NMAP_CAP" zmap-csv "$out_z" "rate=$ZMAP_RATE" "hosts=$NET" -- \
    zmap -q --probe-module=icmp_echoscan -i "$IF_S" -G "$MAC_T" -S "$SCANNER_IP" -r "$ZMAP_RATE" -b "$bl" -c 1 \
    -o "$out_z" "$NET"

# The summary: times, ratios, peak RSS, up sets against the truth.
"$BENCH_PY" - "$BENCH_OUT" "$NET" "$NMAP_NET" <<'PY' | tee "$BENCH_OUT/D1.summary.md"
import ipaddress, json, os, re, sys
out, net, nmap_net = sys.argv[1], ipaddress.ip_network(sys.argv[2]), ipaddress.ip_network(sys.argv[3])
rec = lambda t, l: json.load(open(os.path.join(out, "records", f"D1.{t}.{l}.json")))
truth = {l.strip() for l in open(os.path.join(out, "D1.truth")) if l.strip()}
runs = sorted((json.load(open(os.path.join(out, "records", f))) for f in os.listdir(os.path.join(out, "records"))
               if re.fullmatch(r"D1\.scanfw\.sn\d+\.json", f)), key=lambda r: r["wall_s"])
s, n, z = runs[len(runs) // 2], rec("nmap", "sn"), rec("zmap", "icmp")
ups = lambda r: {json.loads(l)["host"] for l in open(r["output"]) if '"type":"host"' in l and '"status":"up"' in l}
up_s = ups(s)
every = all(ups(r) == truth for r in runs)
text = open(n["output"], errors="replace").read()
up_n = set(re.findall(r'<status state="up"[^>]*/>\s*<address addr="([^"]+)"', text))
up_z = {l.strip().split(",")[0] for l in open(z["output"]) if re.match(r"\d+\.", l)}
truth_n = {a for a in truth if ipaddress.ip_address(a) in nmap_net}
scale = net.num_addresses / nmap_net.num_addresses
nmap_t = n["wall_s"] * scale
mib = lambda kb: f"{kb / 1024:.1f} MiB" if kb else "?"
print(f"### D1: {net} -sn, {len(truth)} of {net.num_addresses} up (1 in 16)\n")
times = ", ".join("%.2f s" % r["wall_s"] for r in runs)
print(f"scanfw runs: {times} (the median below)\n")
print("| tool | addresses | wall time | peak RSS | up found | = truth |")
print("|---|---|---|---|---|---|")
for name, r, up, want, where in (("scanfw -sn", s, up_s, truth, net), ("nmap " + r"-sn -n -T5", n, up_n, truth_n, nmap_net),
                                   ("zmap icmp_echoscan", z, up_z, truth, net)):
    bad = "" if r["exit"] == 0 else f" (exit {r['exit']}{', timed out' if r['timed_out'] else ''})"
    print(f"| {name} | {where} | {r['wall_s']:.2f} s{bad} | {mib(r['rss_kb'])} | {len(up)} | {'yes' if up == want else 'NO'} |")
extra = "" if scale == 1 else f" (nmap ran on the {nmap_net} sample: its time x {scale:g} = {nmap_t:.1f} s, extrapolated)"
print()
print(f"- scanfw / nmap: {s['wall_s'] / nmap_t:.4f} x{extra} (goal <= 0.03): "
      f"{'PASS' if s['wall_s'] <= 0.03 * nmap_t else 'FAIL'}")
print(f"- scanfw / zmap: {s['wall_s'] / z['wall_s']:.2f} x")
print(f"- scanfw peak RSS {mib(s['rss_kb'])} (goal <= 64 MiB): {'PASS' if s['rss_kb'] and s['rss_kb'] <= 65536 else 'FAIL'}")
print(f"- up set: scanfw = truth: {up_s == truth} (in every run: {every}); scanfw = nmap's (inside {nmap_net}): "
      f"{ {a for a in up_s if ipaddress.ip_address(a) in nmap_net} == up_n}; zmap = truth: {up_z == truth}")
missing, extra_ = sorted(truth - up_s), sorted(up_s - truth)
if missing or extra_:
    print(f"- scanfw missed {len(missing)} {missing[:5]}, found {len(extra_)} extra {extra_[:5]}")
print("\ncommands:\n")
for r in (s, n, z):
    print(f"    {r['cmd']}")
PY
