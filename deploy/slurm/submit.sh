#!/usr/bin/env bash
# Submits a scanfw scan to Slurm as N shards and a merge.
#
#   deploy/slurm/submit.sh -N SHARDS [options] -- SCANFW SCAN ARGUMENTS...
#   deploy/slurm/submit.sh --resume DIR [--partition P] [--time T] [--sbatch-opt OPT]...
#
# The first form draws a seed (unless --seed), records everything in DIR/scan.env,
# checks the command line with `scanfw --dry-run`, submits a job array of N tasks
# (task K runs `scanfw --shard K/N --seed S ARGS -oJ DIR/shards/shard-K-of-N.jsonl`,
# deploy/slurm/shard.sbatch) and a merge job that runs once every task succeeded
# (--dependency=afterok; deploy/slurm/merge.sbatch), which writes DIR/result.txt (the
# table) and DIR/result.{xml,gnmap,nmap,jsonl}.
#
# The second form looks at DIR's shard files and resubmits only the shards that are
# missing or incomplete (no final summary, or "interrupted":true; those continue with
# --resume), and a new merge after them.
#
# Options:
#   -N, --shards N       number of shards (array tasks), 1..1000
#   --dir DIR            where shards, logs and results go; must be shared by the
#                        nodes (default: ./scanfw-YYYYmmdd-HHMMSS)
#   --seed S             the shards' seed (default: drawn now, recorded in DIR/scan.env)
#   --partition P        Slurm partition for both jobs
#   --time T             Slurm time limit of each shard task (sbatch --time)
#   --sbatch-opt OPT     any other sbatch option for both jobs (repeatable), e.g.
#                        --sbatch-opt=--account=netsec
#   --scanfw PATH        the scanfw binary, the same path on every node
#                        (default: scanfw on PATH)
#   --launch "CMD ..."   a command prefix for every scanfw run on the nodes, split at
#                        spaces, e.g. --launch "ip netns exec scan" (default:
#                        $SCANFW_LAUNCH)
#   --allow-partial      let the merge take missing or interrupted shards
#   --no-check           skip `scanfw --dry-run` here (e.g. scanfw is not installed on
#                        the submitting machine)
#   --resume DIR         resubmit the unfinished shards of DIR, and a merge
#
# Environment: SCANFW_LAUNCH (as --launch), SLURM_CONF and the usual sbatch variables.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 2; }
usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

shards="" dir="" seed="" partition="" time_limit="" scanfw="" launch_set=0 launch=""
allow_partial=0 check=1 resume_dir=""
sbatch_opts=() scan_args=()
while [ $# -gt 0 ]; do
  case "$1" in
  -N | --shards) [ $# -ge 2 ] || die "$1 needs a value"; shards=$2; shift 2 ;;
  -N* ) shards=${1#-N}; shift ;;
  --shards=*) shards=${1#*=}; shift ;;
  --dir) [ $# -ge 2 ] || die "$1 needs a value"; dir=$2; shift 2 ;;
  --dir=*) dir=${1#*=}; shift ;;
  --seed) [ $# -ge 2 ] || die "$1 needs a value"; seed=$2; shift 2 ;;
  --seed=*) seed=${1#*=}; shift ;;
  --partition) [ $# -ge 2 ] || die "$1 needs a value"; partition=$2; shift 2 ;;
  --partition=*) partition=${1#*=}; shift ;;
  --time) [ $# -ge 2 ] || die "$1 needs a value"; time_limit=$2; shift 2 ;;
  --time=*) time_limit=${1#*=}; shift ;;
  --sbatch-opt) [ $# -ge 2 ] || die "$1 needs a value"; sbatch_opts+=("$2"); shift 2 ;;
  --sbatch-opt=*) sbatch_opts+=("${1#*=}"); shift ;;
  --scanfw) [ $# -ge 2 ] || die "$1 needs a value"; scanfw=$2; shift 2 ;;
  --scanfw=*) scanfw=${1#*=}; shift ;;
  --launch) [ $# -ge 2 ] || die "$1 needs a value"; launch=$2; launch_set=1; shift 2 ;;
  --launch=*) launch=${1#*=}; launch_set=1; shift ;;
  --allow-partial) allow_partial=1; shift ;;
  --no-check) check=0; shift ;;
  --resume) [ $# -ge 2 ] || die "$1 needs a value"; resume_dir=$2; shift 2 ;;
  --resume=*) resume_dir=${1#*=}; shift ;;
  -h | --help) usage 0 ;;
  --) shift; scan_args=("$@"); break ;;
  *) die "unknown option '$1' (scanfw's arguments go after --; see --help)" ;;
  esac
done

command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm submit host"
command -v scontrol >/dev/null || die "scontrol not found: run this on a Slurm submit host"

# Submits the array of INDICES and the merge after it; records both in DIR/jobs.log.
submit_jobs() { # DIR INDICES WHAT
  local d=$1 indices=$2 what=$3 common=() array_id merge_id out
  [ -n "$partition" ] && common+=(--partition="$partition")
  common+=("${sbatch_opts[@]}")
  local shard_opts=("${common[@]}")
  [ -n "$time_limit" ] && shard_opts+=(--time="$time_limit")
  # shellcheck source=/dev/null
  source "$d/scan.env"
  out=$(SCANFW_SCAN_DIR=$d sbatch --parsable --export=ALL --chdir="$SCANFW_SUBMIT_CWD" \
    --job-name="scanfw-shard" --array="$indices" --output="$d/logs/shard-%a.%A.out" \
    "${shard_opts[@]}" "$here/shard.sbatch") || die "sbatch of the shards failed"
  array_id=${out%%;*}
  out=$(SCANFW_SCAN_DIR=$d sbatch --parsable --export=ALL --chdir="$SCANFW_SUBMIT_CWD" \
    --job-name="scanfw-merge" --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
    --output="$d/logs/merge.%j.out" "${common[@]}" "$here/merge.sbatch") || {
    scancel "$array_id" 2>/dev/null || true
    die "sbatch of the merge failed (shards job $array_id cancelled)"
  }
  merge_id=${out%%;*}
  printf '%s %s shards=%s array=%s merge=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$what" \
    "$indices" "$array_id" "$merge_id" >>"$d/jobs.log"
  echo "scan directory: $d"
  echo "seed: $SCANFW_SEED (recorded in $d/scan.env)"
  echo "shards job: $array_id (array indices $indices of $SCANFW_SHARDS; files $d/shards/shard-K-of-$SCANFW_SHARDS.jsonl, logs $d/logs/)"
  echo "merge job: $merge_id (runs when job $array_id has succeeded)"
  echo "results: $d/result.txt (table) and $d/result.{xml,gnmap,nmap,jsonl}"
  echo "if a shard fails: $0 --resume $d"
}

# bash_array NAME WORD...: a line that sets the bash array NAME to the WORDs.
bash_array() {
  local name=$1 w line
  shift
  line="$name=("
  for w in "$@"; do line+=" $(printf '%q' "$w")"; done
  echo "$line )"
}

# "1 2 3 5 7 8" -> "1-3,5,7-8"
ranges() {
  local out="" start="" prev="" k
  for k in "$@" ""; do
    if [ -n "$prev" ] && [ "$k" = "$((prev + 1))" ]; then prev=$k; continue; fi
    if [ -n "$start" ]; then
      if [ "$start" = "$prev" ]; then out+=",$start"; else out+=",$start-$prev"; fi
    fi
    start=$k prev=$k
  done
  echo "${out#,}"
}

# ---- resume --------------------------------------------------------------------
if [ -n "$resume_dir" ]; then
  [ -z "$shards" ] && [ -z "$seed" ] && [ -z "$dir" ] && [ "${#scan_args[@]}" = 0 ] ||
    die "--resume takes the shards, seed and scan arguments from DIR/scan.env; give none of -N, --seed, --dir, or scan arguments"
  [ -z "$scanfw" ] && [ "$launch_set" = 0 ] && [ "$allow_partial" = 0 ] ||
    die "--resume uses the scanfw, launch prefix and merge options recorded in DIR/scan.env (edit it to change them)"
  d=$(cd "$resume_dir" 2>/dev/null && pwd) || die "--resume $resume_dir: no such directory"
  [ -r "$d/scan.env" ] || die "--resume $d: no scan.env there (not a directory made by $prog)"
  # shellcheck source=/dev/null
  source "$d/scan.env"
  # Shards still queued or running would be scanned twice.
  if [ -f "$d/jobs.log" ]; then
    ids=$(grep -Eo '(array|merge)=[0-9]+' "$d/jobs.log" | cut -d= -f2 | paste -sd, -)
    if [ -n "$ids" ]; then
      active=$(squeue -h -j "$ids" -o '%i %T' 2>/dev/null || true)
      [ -z "$active" ] || die "jobs of this scan are still queued or running; wait for them or scancel them first:
$active"
    fi
  fi
  todo=()
  for ((k = 1; k <= SCANFW_SHARDS; k++)); do
    f=$d/shards/shard-$k-of-$SCANFW_SHARDS.jsonl
    st=$(bash "$here/shard.sbatch" --status "$f")
    case "$st" in
    done) ;;
    missing | empty) echo "shard $k/$SCANFW_SHARDS: $st, scanned again"; todo+=("$k") ;;
    *) echo "shard $k/$SCANFW_SHARDS: $st, continued with --resume"; todo+=("$k") ;;
    esac
  done
  if [ "${#todo[@]}" = 0 ]; then
    echo "all $SCANFW_SHARDS shards are complete; submitting only the merge"
    [ -n "$partition" ] && sbatch_opts+=(--partition="$partition")
    out=$(SCANFW_SCAN_DIR=$d sbatch --parsable --export=ALL --chdir="$SCANFW_SUBMIT_CWD" \
      --job-name="scanfw-merge" --output="$d/logs/merge.%j.out" "${sbatch_opts[@]}" \
      "$here/merge.sbatch") || die "sbatch of the merge failed"
    printf '%s resume shards= array= merge=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${out%%;*}" >>"$d/jobs.log"
    echo "merge job: ${out%%;*}"
    echo "results: $d/result.txt (table) and $d/result.{xml,gnmap,nmap,jsonl}"
    exit 0
  fi
  rm -f "$d/result.txt"  # the old table, if any, is not the result of this merge
  submit_jobs "$d" "$(ranges "${todo[@]}")" resume
  exit 0
fi

# ---- a new scan ----------------------------------------------------------------
[ -n "$shards" ] || die "-N SHARDS is required (see --help)"
[[ $shards =~ ^[1-9][0-9]*$ ]] && ((shards <= 1000)) || die "-N $shards: a number of shards from 1 to 1000"
[ "${#scan_args[@]}" -gt 0 ] || die "no scan arguments: give scanfw's arguments after --, e.g. -- --plugin syn -p 1-1024 198.18.0.0/24"
[ "${scan_args[0]}" != merge ] || die "'merge' is not a scan; the merge job runs it"
for a in "${scan_args[@]}"; do
  case "$a" in
  -o[XGNJA]* | --resume | --resume=* | --shard | --shard=* | --seed | --seed=* | --dry-run)
    die "scan argument '$a': $prog sets the outputs, --shard, --seed and --resume itself" ;;
  esac
done
for ((i = 0; i + 1 < ${#scan_args[@]}; i++)); do
  if [ "${scan_args[i]}" = --profile ] && grep -Eq '^outputs *:' "${scan_args[i + 1]}" 2>/dev/null; then
    die "profile ${scan_args[i + 1]} has outputs:, which every shard would write to; remove them ($prog writes the shard files and the merge the results)"
  fi
done
if [ -z "$seed" ]; then
  seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
[[ $seed =~ ^[^[:space:]]+$ ]] || die "--seed '$seed': no spaces"
if [ -z "$scanfw" ]; then
  scanfw=$(command -v scanfw) || die "scanfw not on PATH; give --scanfw PATH (the same path on every node)"
fi
case "$scanfw" in /*) ;; *) scanfw=$(cd "$(dirname "$scanfw")" && pwd)/$(basename "$scanfw") ;; esac
[ "$check" = 0 ] || [ -x "$scanfw" ] || die "--scanfw $scanfw: not an executable file"
[ "$launch_set" = 1 ] || launch=${SCANFW_LAUNCH:-}
read -r -a launch_words <<<"$launch"

if [ -z "$dir" ]; then dir=$PWD/scanfw-$(date +%Y%m%d-%H%M%S); fi
mkdir -p "$dir" || die "--dir $dir: cannot create it"
dir=$(cd "$dir" && pwd)
[ ! -e "$dir/scan.env" ] || die "$dir already holds a scan (scan.env); resume it with --resume $dir, or choose another --dir"
[ -z "$(ls -A "$dir")" ] || die "$dir is not empty; choose an empty or new --dir"

# Check the whole command line here, before anything is queued.
if [ "$check" = 1 ]; then
  if ! err=$("${launch_words[@]}" "$scanfw" --dry-run --shard "1/$shards" --seed "$seed" "${scan_args[@]}" 2>&1 >/dev/null); then
    rmdir "$dir" 2>/dev/null || true
    die "scanfw rejects the scan (${launch_words[*]:+${launch_words[*]} }$scanfw --dry-run ...):
$err"
  fi
fi

mkdir -p "$dir/shards" "$dir/logs"
merge_args=()
[ "$allow_partial" = 1 ] && merge_args+=(--allow-partial)
{
  echo "# A scanfw scan submitted by deploy/slurm/submit.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) by ${USER:-$(id -un)}@$(hostname -s)."
  echo "# Read by deploy/slurm/shard.sbatch and merge.sbatch (bash); submit.sh --resume reads it too."
  printf 'SCANFW_SHARDS=%q\n' "$shards"
  printf 'SCANFW_SEED=%q\n' "$seed"
  printf 'SCANFW=%q\n' "$scanfw"
  bash_array SCANFW_LAUNCH "${launch_words[@]}"
  bash_array SCANFW_SCAN_ARGS "${scan_args[@]}"
  bash_array SCANFW_MERGE_ARGS "${merge_args[@]}"
  printf 'SCANFW_SUBMIT_CWD=%q\n' "$PWD"
} >"$dir/scan.env"

submit_jobs "$dir" "1-$shards" submit
