#!/usr/bin/env bash
# bench/run.sh -- issue 3's benchmark: scanfw side by side with nmap, masscan and
# zmap, each scenario in network namespaces of its own. Run as root:
#
#   bench/run.sh [S1 S2 S3 S4 S5 LIMIT S4L ...]     (default: S1 S2 S3 S4 S5 LIMIT)
#
#   S1     one host, all 65535 TCP ports, SYN (20 open)
#   S2     198.19.0.0/16 (AnyIP) x 3 ports, SYN (2 of them open everywhere)
#   S3     S2 with 10 % of the probes dropped at random (nftables numgen)
#   S4     UDP 1-1000 on one host, ICMP rate limit off; states compared with nmap's
#   S5     /20 and /16 x 256 ports: scanfw's peak RSS, streamed and with the table on
#          stdout; `scanfw merge` of the /16's shards
#   LIMIT  the most probes/s a bare sender (masscan, zmap) pushes through the veth
#          into a drop-everything target, and how close scanfw gets
#   S4L    (extra) S4 with the target's ICMP rate limits at Linux's defaults
#          (S4L_ICMP=freebsd|solaris|global200|global: another limiter, see tests/lib/netlab.sh)
#   V1     (extra, issue 15) -sV on 32 addresses x real daemons, scanfw vs nmap -sV -T4
#          (bench/v1.sh; its figures go to $BENCH_OUT/V1.summary.txt, not the summary)
#
# Environment:
#   SCANFW=PATH         scanfw binary (default build/bin/scanfw)
#   BENCH_OUT=DIR       where records, logs, outputs and summary.md go
#                       (default /tmp/scanfw-bench-DATE-PID)
#   NMAP_S3_CAP=SECS    cap on nmap's S3 run (default 180; it took 408 s in issue 3);
#                       a capped run is reported as "> SECS (capped)"
#   NMAP_S3_FROM=DIR    reuse the nmap S3 run recorded in an earlier BENCH_OUT (e.g.
#                       one made with `NMAP_S3_CAP=900 bench/run.sh S3`) instead of
#                       running nmap again; the summary says it was reused
#   S5_CAP=SECS         cap on each /16 run of S5 (default 420); S5_TABLE_NETS, S5_MERGE_NET,
#                       S5_MERGE_SHARDS: see bench/s5.sh
#   BENCH_LOCK=FILE     each measured run holds this flock (default /tmp/scanfw-bench.lock)
#   SCANFW_S<N>_FLAGS, NMAP_S<N>_FLAGS, MASSCAN_S<N>_RATES, ZMAP_RATE,
#   S1_HYPERFINE_RUNS, LIMIT_SECONDS: see the scenario scripts bench/s*.sh.
#   BENCH_NOTE=TEXT     a line for the record (e.g. which commit the binary is built from)
#
# Tools missing are installed with apt-get (masscan, zmap, nmap, hyperfine, time).
# Every scenario removes its namespaces, nftables tables and processes when it
# ends, fails or is interrupted, and each tool run is bounded by `timeout`.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
cd "$REPO"

case "${1:-}" in -h | --help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

scenarios=("$@")
[ "${#scenarios[@]}" -eq 0 ] && scenarios=(S1 S2 S3 S4 S5 LIMIT)
for s in "${scenarios[@]}"; do
    case $s in S1 | S2 | S3 | S4 | S4L | S5 | LIMIT | V1) ;; *) echo "unknown scenario '$s'" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "bench/run.sh needs root (namespaces, raw sockets)" >&2; exit 1; }

export SCANFW=${SCANFW:-$REPO/build/bin/scanfw}
case $SCANFW in /*) ;; *) SCANFW=$REPO/$SCANFW ;; esac
export BENCH_OUT=${BENCH_OUT:-/tmp/scanfw-bench-$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$BENCH_OUT"

# shellcheck source=SCRIPTDIR/lib.sh
source "$BENCH_DIR/lib.sh"
bench_ensure_tools
bench_check_scanfw

# ---- the machine and the software, for the record ----------------------------
{
    echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "command:   bench/run.sh ${scenarios[*]}"
    echo "scanfw:    $SCANFW ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')," \
        "$(git -C "$REPO" status --porcelain 2>/dev/null | grep -c . || true) files changed in the work tree)"
    echo "version:   $("$SCANFW" --version 2>&1 | head -1)"
    [ -n "${BENCH_NOTE:-}" ] && echo "note:      $BENCH_NOTE"
    echo "machine:   $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)," \
        "$(free -g | awk '/^Mem:/{print $2}') GiB, kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
    echo "busiest:   $(top -bn1 -o %CPU | sed -n '8,12p' | awk '{printf "%s %s%%; ", $12, $9}')(top, at start)"
    echo "nmap:      $(nmap --version | head -1)"
    echo "masscan:   $(masscan --version 2>/dev/null | grep -m1 -i 'version')"
    echo "zmap:      $(zmap --version 2>&1 | head -1)"
    echo "hyperfine: $(hyperfine --version)"
} >"$BENCH_OUT/machine.txt"
cat "$BENCH_OUT/machine.txt" >&2

# ---- the scenarios -----------------------------------------------------------
declare -A script=([S1]=s1.sh [S2]=s2.sh [S3]=s3.sh [S4]=s4.sh [S4L]=s4.sh [S5]=s5.sh [LIMIT]=limit.sh [V1]=v1.sh)
declare -A cap=([S1]=300 [S2]=300 [S3]=$((${NMAP_S3_CAP:-180} + 300)) [S4]=600 [S4L]=600
    [S5]=$((5 * ${S5_CAP:-420} + 300)) [LIMIT]=300 [V1]=$((2 * ${V1_RUNS:-1} * 900 + 120)))

child=
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait; exit 130' INT TERM
failed=()
t_all=$(date +%s)
for s in "${scenarios[@]}"; do
    bench_log "==== $s (at most ${cap[$s]} s) ===="
    t0=$(date +%s)
    # In the background, so an interrupt reaches it through the trap above; timeout
    # bounds the whole scenario and the scenario's own trap tears it down.
    SCEN=$s BENCH_TAG="$$r$RANDOM" timeout -k 20 "${cap[$s]}" bash "$BENCH_DIR/${script[$s]}" &
    child=$!
    rc=0
    wait "$child" || rc=$?
    child=
    bench_log "==== $s done in $(($(date +%s) - t0)) s, exit $rc"
    [ "$rc" = 0 ] || failed+=("$s (exit $rc)")
done
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at the end; whole run $(($(date +%s) - t_all)) s" \
    >>"$BENCH_OUT/machine.txt"

"$BENCH_PY" "$BENCH_DIR/report.py" summary --out-dir "$BENCH_OUT" --markdown "$BENCH_OUT/summary.md"
echo
echo "records, logs and tool outputs: $BENCH_OUT (summary: $BENCH_OUT/summary.md)"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "scenarios that failed: ${failed[*]}" >&2
    exit 1
fi
