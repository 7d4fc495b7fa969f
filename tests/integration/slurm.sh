#!/usr/bin/env bash
# Scans run by Slurm, on a real one-node cluster (slurmcluster.sh: munged, slurmctld and
# slurmd with all state in a temporary directory) against the test network
# (tests/lib/netlab.sh, plus 198.19.0.0/29 answered by the target). Cases:
#   submit   the README's command: deploy/slurm/submit.sh -N 4 scans 4 shards as a job
#            array and merges them in a dependent job; the merged result (state and
#            reason of every host/port/technique) must equal an unsharded scan's and
#            the test network's table. Then one shard file is removed and one cut
#            short, and `submit.sh --resume DIR` must rerun exactly those two (the cut
#            one continued with --resume), leave the others alone, and merge the
#            same result again.
#   cluster  the cluster machinery with scanfw's long-standing flags only: a job array
#            whose 4 tasks each scan a quarter of the ports, a dependent job (afterok)
#            that joins them once all 4 have ended, the same comparisons; and a
#            dependent job whose array has a failing task must never run.
#   cleanup  a run that fails halfway (cluster up, network up, a job running) must
#            leave no daemon, job process, namespace or directory behind; twice.
# Usage: slurm.sh SCANFW_BINARY [submit|cluster|cleanup]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
source "$here/slurmcluster.sh"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") case=${2:-submit}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

# The scan: two techniques, TCP and UDP ports, the target and 8 more hosts.
TCP_PORTS=1-200,8080-8082
UDP_PORTS=53,123,161,162
TARGETS=(198.18.0.2 198.19.0.0/29)
SCAN_ARGS=(--plugin "syn,udp" -p "T:$TCP_PORTS,U:$UDP_PORTS" --retries 2 "${TARGETS[@]}")
N_RESULTS=$(((1 + 8) * (203 + 4)))

fail=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
die() { echo "FAIL $*"; exit 1; }

# Results of a JSON Lines file as sorted "host proto port technique state reason" lines.
results() { jq -r 'select(has("port")) | [.host, .protocol, .port, .technique, .state, .reason] | @tsv' "$@" | sort; }
# Hosts and their status (up/down), sorted and once each. Not the reason: which probe
# answers first (echo-reply, reset, ...) is a race, in nmap as here.
hosts() { jq -r 'select(.type == "host") | [.host, .status] | @tsv' "$@" | sort -u; }

# Every result of FILE against the test network's table: the layout's ports have their
# kind's state on every host, every other TCP port is closed. The UDP listeners answer
# from 198.18.0.2 whatever address was asked, so on the 198.19 hosts an open UDP port
# gets an answer from another address: no answer to scanfw, open|filtered.
check_layout() { # FILE WHAT
  local file=$1 what=$2 bad host proto port tech state kind want
  local -A wants=()
  bad=$(results "$file" | while IFS=$'\t' read -r host proto port tech state _; do
    kind=${NETLAB_KIND[$proto/$port]:-closed}
    [ "$host" != 198.18.0.2 ] && [ "$proto/$kind" = udp/open ] && kind=other-address
    if [ -z "${wants[$tech:$kind]:-}" ]; then
      case "$kind" in
      other-address) wants[$tech:$kind]="open|filtered" ;;
      *) wants[$tech:$kind]=$(netlab_expected "$tech" "$kind") ;;
      esac
    fi
    want=${wants[$tech:$kind]}
    [ "$state" = "$want" ] || echo "$host $proto/$port $tech: $state, expected $want"
  done)
  check "$what: every port has the test network's state" test -z "$bad"
  [ -z "$bad" ] || head -n 10 <<<"$bad"
  check "$what: $N_RESULTS results ($(results "$file" | wc -l))" test "$(results "$file" | wc -l)" = "$N_RESULTS"
  check "$what: 198.19.0.7 tcp/22 open" grep -q $'^198.19.0.7\ttcp\t22\tsyn\topen\t' <(results "$file")
  check "$what: 198.18.0.2 udp/53 open" grep -q $'^198.18.0.2\tudp\t53\tudp\topen\t' <(results "$file")
}

same_results() { # A B: the same port results, and the same hosts up and down
  diff <(results "$1") <(results "$2") >"$work/diff" || { head -n 20 "$work/diff"; return 1; }
  diff <(hosts "$1") <(hosts "$2") >"$work/diff" || { head -n 20 "$work/diff"; return 1; }
}

start_everything() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/slurm.$case.XXXXXX")
  chmod 755 "$work"
  netlab_on_exit "rm -rf $(printf '%q' "$work")"
  local t0=$SECONDS
  slurm_cluster_up "$work/cluster" || die "the Slurm cluster did not start"
  export SLURM_CONF=$work/cluster/slurm.conf
  echo "cluster up in $((SECONDS - t0)) s: $(sinfo -h -o '%P %a %D %T %N')"
  prefix=$(netlab_prefix "slurm$case")
  netlab_up "$prefix" || die "the test network did not come up"
  netlab_range "$prefix" 198.19.0.0/16 || die "the routed range did not come up"
}

reference_scan() {
  local t0=$SECONDS
  netlab_exec_scanner "$prefix" timeout 120 "$bin" "${SCAN_ARGS[@]}" -oJ "$work/reference.jsonl" \
    >/dev/null 2>"$work/reference.err" || die "unsharded scan failed: $(cat "$work/reference.err")"
  echo "unsharded scan: $((SECONDS - t0)) s"
  check_layout "$work/reference.jsonl" "unsharded scan"
}

# The merge job id from submit.sh's output.
merge_job_of() { sed -n 's/^merge job: \([0-9][0-9]*\).*/\1/p' "$1"; }
shards_job_of() { sed -n 's/^shards job: \([0-9][0-9]*\).*/\1/p' "$1"; }

show_logs() { # DIR
  local f
  for f in "$1"/*.out "$1"/logs/*.out; do
    [ -f "$f" ] || continue
    echo "--- $f"
    tail -n 15 "$f"
  done
  echo "--- slurmctld.log"
  tail -n 15 "$work/cluster/log/slurmctld.log"
}

case "$case" in
submit)
  start_everything
  reference_scan
  scan=$work/scan
  t0=$SECONDS
  # The README's command.
  SCANFW_LAUNCH="ip netns exec $prefix-s" "$repo/deploy/slurm/submit.sh" -N 4 --dir "$scan" \
    --scanfw "$bin" -- "${SCAN_ARGS[@]}" >"$work/submit.out" 2>&1 ||
    { cat "$work/submit.out"; die "submit.sh failed"; }
  cat "$work/submit.out"
  merge=$(merge_job_of "$work/submit.out")
  [ -n "$merge" ] || die "submit.sh printed no merge job"
  slurm_wait_job "$merge" 300 || { show_logs "$scan"; die "merge job $merge did not complete"; }
  echo "4 shards and the merge done in $((SECONDS - t0)) s"

  seed=$(sed -n 's/^SCANFW_SEED=//p' "$scan/scan.env")
  check "the seed is recorded in scan.env ($seed)" test -n "$seed"
  for k in 1 2 3 4; do
    f=$scan/shards/shard-$k-of-4.jsonl
    check "shard $k: complete" test "$(bash "$repo/deploy/slurm/shard.sbatch" --status "$f")" = "done"
    check "shard $k: has results" test "$(results "$f" | wc -l)" -gt 0
    check "shard $k: ran as array task $k" grep -q "^shard $k/4 (missing) on .*--shard $k/4 --seed $seed " "$scan"/logs/shard-$k.*.out
  done
  all=$(cat "$scan"/shards/shard-*-of-4.jsonl | results /dev/stdin | cut -f1-4)
  check "the shards are disjoint" test -z "$(sort <<<"$all" | uniq -d)"
  check "the shards together are the scan ($(wc -l <<<"$all") results)" test "$(wc -l <<<"$all")" = "$N_RESULTS"
  for ext in xml gnmap nmap jsonl txt; do
    check "merged result.$ext written" test -s "$scan/result.$ext"
  done
  check "merged XML is well formed" xmllint --noout "$scan/result.xml"
  check "merged table lists 198.18.0.2" grep -q "198.18.0.2" "$scan/result.txt"
  check_layout "$scan/result.jsonl" "merged result"
  check "merged result = unsharded scan (states and reasons)" same_results "$scan/result.jsonl" "$work/reference.jsonl"

  # A lost shard and one cut short: --resume reruns those two only.
  sum1=$(sha256sum <"$scan/shards/shard-1-of-4.jsonl") sum4=$(sha256sum <"$scan/shards/shard-4-of-4.jsonl")
  rm "$scan/shards/shard-2-of-4.jsonl"
  f3=$scan/shards/shard-3-of-4.jsonl
  keep=$(($(grep -c . "$f3") / 2))
  head -n "$keep" "$f3" >"$work/shard3.head"
  { cat "$work/shard3.head"; printf '{"host":"198.18.0.2","po'; } >"$f3"  # killed mid-line
  mv "$scan/result.jsonl" "$work/result.first.jsonl"
  t0=$SECONDS
  "$repo/deploy/slurm/submit.sh" --resume "$scan" >"$work/resume.out" 2>&1 ||
    { cat "$work/resume.out"; die "submit.sh --resume failed"; }
  cat "$work/resume.out"
  check "resume: shard 2 missing, scanned again" grep -q "^shard 2/4: missing, scanned again" "$work/resume.out"
  check "resume: shard 3 partial, continued" grep -q "^shard 3/4: partial, continued with --resume" "$work/resume.out"
  check "resume: shards 1 and 4 left alone" bash -c "! grep -Eq '^shard [14]/4' '$work/resume.out'"
  array=$(shards_job_of "$work/resume.out") merge=$(merge_job_of "$work/resume.out")
  slurm_wait_job "$merge" 300 || { show_logs "$scan"; die "merge job $merge after --resume did not complete"; }
  tasks=$(scontrol -o show job "$array" | grep -o 'ArrayTaskId=[0-9-]*' | cut -d= -f2 | sort | paste -sd, -)
  check "resume: array job $array had tasks 2 and 3 only ($tasks)" test "$tasks" = 2,3
  echo "resume and merge done in $((SECONDS - t0)) s"
  check "resume: shard 1 untouched" test "$(sha256sum <"$scan/shards/shard-1-of-4.jsonl")" = "$sum1"
  check "resume: shard 4 untouched" test "$(sha256sum <"$scan/shards/shard-4-of-4.jsonl")" = "$sum4"
  check "resume: shard 3 ran with --resume" grep -q -- "--resume $f3" "$scan"/logs/shard-3.*.out
  check "resume: shard 3 kept its first $keep lines" cmp -s "$work/shard3.head" <(head -n "$keep" "$f3")
  for k in 2 3; do
    check "resume: shard $k complete" test "$(bash "$repo/deploy/slurm/shard.sbatch" --status "$scan/shards/shard-$k-of-4.jsonl")" = "done"
  done
  all=$(cat "$scan"/shards/shard-*-of-4.jsonl | results /dev/stdin | cut -f1-4 | sort -u)
  check "resume: the shards together are the scan again" test "$(wc -l <<<"$all")" = "$N_RESULTS"
  check "resume: merged result = unsharded scan" same_results "$scan/result.jsonl" "$work/reference.jsonl"
  ;;

cluster)
  start_everything
  reference_scan
  # Quarter K of the TCP ports (every 4th, from the K-th) and of the UDP ports.
  mkdir -p "$work/q"
  cat >"$work/quarter.sbatch" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
k=$SLURM_ARRAY_TASK_ID
quarter() { tr , '\n' <<<"$1" | awk -F- '{hi = NF > 1 ? $2 : $1; for (p = $1; p <= hi; p++) print p}' |
  awk -v k="$k" '(NR - 1) % 4 == k - 1' | paste -sd, -; }
ports="T:$(quarter "$TCP_PORTS"),U:$(quarter "$UDP_PORTS")"
echo "task $k of job $SLURM_ARRAY_JOB_ID: -p $ports"
# shellcheck disable=SC2086
ip netns exec "$NETNS" "$SCANFW" --plugin syn,udp -p "$ports" --retries 2 $TARGET_LIST -oJ "$OUT/quarter-$k.jsonl"
date +%s.%N >"$OUT/quarter-$k.end"
EOF
  cat >"$work/join.sbatch" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
date +%s.%N >"$OUT/join.start"
ls "$OUT"/quarter-*.end | wc -l >"$OUT/join.saw"
cat "$OUT"/quarter-[1-4].jsonl | jq -c 'select(.type != "summary")' >"$OUT/joined.jsonl"
EOF
  export TCP_PORTS UDP_PORTS NETNS=$prefix-s SCANFW=$bin TARGET_LIST="${TARGETS[*]}" OUT=$work/q
  array=$(sbatch --parsable --array=1-4 --chdir="$work" --output="$work/q/task-%a.out" "$work/quarter.sbatch")
  join=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --chdir="$work" \
    --output="$work/q/join.out" "$work/join.sbatch")
  echo "array job $array, dependent job $join"
  slurm_wait_job "$join" 300 || { show_logs "$work/q"; die "dependent job $join did not complete"; }
  check "array: 4 tasks completed" test "$(slurm_job_state "$array" | grep -c '^COMPLETED$')" = 4
  check "the dependent job saw all 4 tasks' end" test "$(cat "$work/q/join.saw")" = 4
  check "the dependent job started after the last task ended" \
    awk -v s="$(cat "$work/q/join.start")" -v e="$(sort -n "$work"/q/quarter-*.end | tail -n 1)" 'BEGIN { exit !(s > e) }'
  for k in 1 2 3 4; do
    check "quarter $k: finished scan" grep -q '"interrupted":false' "$work/q/quarter-$k.jsonl"
  done
  check_layout "$work/q/joined.jsonl" "joined quarters"
  check "joined quarters = unsharded scan (states and reasons)" same_results "$work/q/joined.jsonl" "$work/reference.jsonl"

  # afterok: a failing task keeps the dependent job from ever running.
  bad=$(sbatch --parsable --array=1-2 --chdir="$work" --output=/dev/null --wrap 'exit $((SLURM_ARRAY_TASK_ID - 1))')
  never=$(sbatch --parsable --dependency="afterok:$bad" --kill-on-invalid-dep=yes --chdir="$work" \
    --output=/dev/null --wrap "touch $work/never-ran")
  slurm_wait_job "$bad" 60 || true
  slurm_wait_job "$never" 60 || true
  check "a failed array task: the dependent job is cancelled ($(slurm_job_state "$never"))" test "$(slurm_job_state "$never")" = CANCELLED
  check "a failed array task: the dependent job never ran" test ! -e "$work/never-ran"
  ;;

cleanup)
  # Each child starts everything, submits a job that is running when it fails, and
  # prints what it made; nothing of it may remain.
  log=$(mktemp "${TMPDIR:-/tmp}/slurm.cleanup.XXXXXX")
  netlab_on_exit "rm -f $(printf '%q' "$log")"
  for round in 1 2; do
    rc=0
    bash "$0" "$1" fail-halfway >"$log" 2>&1 || rc=$?
    out=$(cat "$log")
    w=$(sed -n 's/^made work=\(.*\) prefix=.*/\1/p' <<<"$out") p=$(sed -n 's/^made .* prefix=\(.*\)/\1/p' <<<"$out")
    [ -n "$w" ] && [ -n "$p" ] || { echo "$out"; die "round $round: the failing run did not get halfway"; }
    check "round $round: the failing run failed (exit $rc)" test "$rc" = 1
    check "round $round: its job was running when it failed" grep -q '^job running' <<<"$out"
    check "round $round: its directory is gone" test ! -e "$w"
    check "round $round: no process works in it" test -z "$(slurm_cluster_pids "$w")"
    check "round $round: no daemon of it runs" test -z "$(pgrep -f -- "$w" || true)"
    check "round $round: its job's process is gone" test -z "$(pgrep -f -- "sfw-marker-$p" || true)"
    check "round $round: its namespaces are gone" test ! -e "/run/netns/$p-s" -a ! -e "/run/netns/$p-t"
  done
  ;;

fail-halfway)
  start_everything
  job=$(sbatch --parsable --chdir="$work" --output=/dev/null \
    --wrap "exec ip netns exec $prefix-s bash -c 'sleep 600; : sfw-marker-$prefix'")
  for _ in $(seq 100); do
    [ "$(slurm_job_state "$job")" = RUNNING ] && pgrep -f "sfw-marker-$prefix" >/dev/null && break
    sleep 0.1
  done
  [ "$(slurm_job_state "$job")" = RUNNING ] && echo "job running: $job"
  echo "made work=$work prefix=$prefix"
  exit 1
  ;;

*) echo "usage: $0 SCANFW_BINARY [submit|cluster|cleanup]" >&2; exit 2 ;;
esac

[ "$fail" = 0 ] && echo "== slurm $case: PASS" || echo "== slurm $case: FAIL"
exit "$fail"
