#!/usr/bin/env bash
# Shards (--shard K/N --seed S) and `scanfw merge` against the test network
# (tests/lib/netlab.sh), with 198.19.16.0/20 answered by its target: most addresses
# up, 198.19.16.0/24 down, and blocks that answer only an echo request, a timestamp
# request, an ACK to 80 or a SYN to 443 (netlab_range behaviours). Cases:
#   pn         SYN, -Pn, the /20 x 22,80,443,8080: 4 shards one after the other and 4
#              at once in one scanner namespace (each capture sees its siblings'
#              answers too). Every shard holds exactly its share (the same pairs alone
#              and side by side), no (host, port) twice, all together the whole scan;
#              `scanfw merge -oX -oG -oN -oJ` (and its table on stdout) of either set
#              equals the unsharded scan's outputs, normalised by shards_norm.py
#              (hosts, ports, states, reasons, summaries; not times); the merged XML is
#              valid against nmap.dtd.
#   discovery  the same with host discovery (no -Pn): shards split hosts; the hosts up
#              are the ones netlab says discovery must find.
#   refusals   merge refuses with exit 2, naming both files and the difference: another
#              seed, other ports, other targets, a shard twice; --shard without --seed
#              exits 2; missing and cut-off shards are reported with the share they
#              leave uncovered; --allow-partial merges and every output says so.
#   lists      -iL (5120 entries: two chunks of the list) and --exclude, with -Pn and
#              with discovery: the shards are disjoint and together the unsharded scan.
# Usage: shards.sh SCANFW_BINARY [pn|discovery|refusals|lists]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
[ -n "${1:-}" ] || { echo "usage: $0 SCANFW_BINARY [pn|discovery|refusals|lists]" >&2; exit 2; }
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") case=${2:-pn}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, raw sockets)"; exit 77; }
for tool in ip:iproute2 nft:nftables python3:python3 jq:jq xmllint:libxml2-utils; do
  command -v "${tool%%:*}" >/dev/null ||
    { echo "FAIL: ${tool%%:*} is needed (apt-get install ${tool#*:}; scripts/setup.sh does)" >&2; exit 1; }
done
DTD=/usr/share/nmap/nmap.dtd
[ -r "$DTD" ] || { echo "FAIL: $DTD missing (apt-get install nmap)" >&2; exit 1; }
NORM=$here/shards_norm.py

NET=198.19.16.0/20
LAYOUT=(198.19.16.0/24=down 198.19.17.0/25=echo 198.19.17.128/25=timestamp 198.19.18.0/25=ack80
        198.19.18.128/25=syn443)
PORTS=22,80,443,8080
SEED=20261202
# Polite enough for four scans at once on two cores; 5 retries so that no answer is
# lost to a busy machine (a lost one would make a shard differ from the reference).
COMMON=(--plugin syn -p "$PORTS" --rate 20000 --retries 5 --reason)

fail=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
die() { echo "FAIL $*"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/shards.$case.XXXXXX")
netlab_on_exit "rm -rf $(printf '%q' "$work")"
prefix=$(netlab_prefix "shd$case")
netlab_up "$prefix" || die "the test network did not come up"

# scan NAME ARGS...: scanfw in the scanner namespace, stdout to NAME.out, stderr to
# NAME.err; its exit status is returned. In the background and waited for, so INT/TERM
# reach netlab's trap (and the teardown) at once.
scan() {
  local name=$1
  shift
  local rc=0
  netlab_exec_scanner "$prefix" timeout -k 5 240 "$bin" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null &
  wait $! || rc=$?
  return "$rc"
}
scan_ok() { scan "$@" || { cat "$work/$1.err"; die "scan $1 failed"; }; }
# merge NAME ARGS...: scanfw merge (no network needed), outputs as for scan.
merge() {
  local name=$1
  shift
  local rc=0
  "$bin" merge "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null & wait $! || rc=$?
  return "$rc"
}

# Port results of JSON Lines files: "host proto/port technique", one per result.
pairs() { jq -r 'select(has("port")) | "\(.host) \(.protocol)/\(.port) \(.technique)"' "$@"; }
# Hosts with a port result.
result_hosts() { jq -r 'select(has("port")) | .host' "$@" | sort -u; }
# Hosts reported up.
up_hosts() { jq -r 'select(.type == "host" and .status == "up") | .host' "$@" | sort -u; }

differ() { # A B: the same lines, or the first differences shown
  if diff "$1" "$2" >"$work/diff"; then return 0; fi
  echo "   $1 vs $2:"
  head -n 12 "$work/diff" | sed 's/^/   /'
  return 1
}

# same_outputs MODE REF MERGED: every output of the merge (MERGED.{jsonl,xml,gnmap,nmap,
# out}) against the unsharded scan's (REF.*), normalised; the XML valid against nmap.dtd.
same_outputs() {
  local mode=$1 ref=$2 got=$3 what=$4 f ext
  for f in json:jsonl xml:xml grepable:gnmap normal:nmap table:out; do
    ext=${f#*:}
    python3 "$NORM" "${f%%:*}" "$mode" "$work/$ref.$ext" >"$work/$ref.$ext.norm" 2>&1 || true
    python3 "$NORM" "${f%%:*}" "$mode" "$work/$got.$ext" >"$work/$got.$ext.norm" 2>&1 || true
    check "$what: ${f%%:*} output = the unsharded scan's" differ "$work/$ref.$ext.norm" "$work/$got.$ext.norm"
  done
  check "$what: XML valid against nmap.dtd" xmllint --noout --dtdvalid "$DTD" "$work/$got.xml"
  # -oJ as one process writes it: each result once, each host's status once.
  check "$what: -oJ has each result once" test -z "$(pairs "$work/$got.jsonl" | sort | uniq -d | head -n 3)"
  check "$what: -oJ has each host status once" \
    test -z "$(jq -r 'select(.type == "host") | .host' "$work/$got.jsonl" | sort | uniq -d | head -n 3)"
}

# shards_and_merge MODE EXTRA...: the unsharded reference, 4 shards in a row, 4 at once,
# their merges; every check above.
shards_and_merge() {
  local mode=$1 k pids=()
  shift
  local args=("${COMMON[@]}" "$@" "$NET")
  local t0=$SECONDS
  scan_ok ref "${args[@]}" -oX "$work/ref.xml" -oG "$work/ref.gnmap" -oN "$work/ref.nmap" -oJ "$work/ref.jsonl"
  local n_ref
  n_ref=$(pairs "$work/ref.jsonl" | wc -l)
  echo "unsharded scan: $n_ref results, $(up_hosts "$work/ref.jsonl" | wc -l) hosts up, $((SECONDS - t0)) s"

  t0=$SECONDS
  for k in 1 2 3 4; do
    scan_ok "seq$k" --shard "$k/4" --seed "$SEED" "${args[@]}" -oJ "$work/seq$k.jsonl"
  done
  echo "4 shards one after the other: $((SECONDS - t0)) s"
  t0=$SECONDS
  for k in 1 2 3 4; do
    netlab_exec_scanner "$prefix" timeout -k 5 240 "$bin" --shard "$k/4" --seed "$SEED" "${args[@]}" \
      -oJ "$work/par$k.jsonl" >"$work/par$k.out" 2>"$work/par$k.err" </dev/null &
    pids+=($!)
  done
  netlab_on_exit "kill ${pids[*]} 2>/dev/null || true"
  for k in 1 2 3 4; do
    wait "${pids[k - 1]}" || { cat "$work/par$k.err"; die "shard $k/4 (at once) failed"; }
  done
  echo "4 shards at once: $((SECONDS - t0)) s"

  local set
  for set in seq par; do
    for k in 1 2 3 4; do pairs "$work/$set$k.jsonl" | sort >"$work/$set$k.pairs"; done
    local all
    all=$(cat "$work/$set"[1-4].pairs)
    check "$set: no (host, port) in two shards or twice in one" test -z "$(sort <<<"$all" | uniq -d | head -n 3)"
    check "$set: the shards together are the whole scan ($(wc -l <<<"$all") of $n_ref)" \
      differ <(pairs "$work/ref.jsonl" | sort) <(sort <<<"$all")
    for k in 1 2 3 4; do
      check "$set: shard $k/4 has a share ($(wc -l <"$work/$set$k.pairs") results)" \
        test "$(wc -l <"$work/$set$k.pairs")" -gt "$((n_ref / 8))"
      check "$set: shard $k/4 summary: not interrupted, done 1" \
        test "$(jq -r 'select(.type == "summary") | "\(.interrupted) \(.done) \(.shard)"' "$work/$set$k.jsonl")" = "false 1 $k/4"
    done
    if [ "$mode" = discovery ]; then
      local hosts
      hosts=$(for k in 1 2 3 4; do result_hosts "$work/$set$k.jsonl"; done)
      check "$set: each host's ports in one shard" test -z "$(sort <<<"$hosts" | uniq -d | head -n 3)"
    fi
    merge "m$set" -oX "$work/m$set.xml" -oG "$work/m$set.gnmap" -oN "$work/m$set.nmap" -oJ "$work/m$set.jsonl" \
      --reason "$work/$set"[1-4].jsonl || { cat "$work/m$set.err"; die "merge of the $set shards failed"; }
    same_outputs "$mode" ref "m$set" "merge of the $set shards"
  done
  for k in 1 2 3 4; do
    check "shard $k/4 at once records only its own share (= alone)" differ "$work/seq$k.pairs" "$work/par$k.pairs"
  done
  # The states themselves: every technique's state on the test network.
  check "the reference has 22 open on 198.19.31.7" \
    grep -q $'^198.19.31.7\ttcp\t22\topen\tsyn-ack' <(jq -r 'select(has("port")) | [.host,.protocol,.port,.state,.reason] | @tsv' "$work/ref.jsonl")
}

case "$case" in
pn)
  netlab_range "$prefix" "$NET" "${LAYOUT[@]}" || die "the routed range did not come up"
  shards_and_merge pn -Pn
  check "pn: every pair of the /20 scanned ($((4096 * 4)))" test "$(pairs "$work/ref.jsonl" | wc -l)" = $((4096 * 4))
  ;;

discovery)
  netlab_range "$prefix" "$NET" "${LAYOUT[@]}" || die "the routed range did not come up"
  shards_and_merge discovery
  netlab_up_hosts "$prefix" "$NET" | sort >"$work/truth.up"
  check "discovery: the hosts up are netlab's ($(wc -l <"$work/truth.up"))" differ "$work/truth.up" <(up_hosts "$work/mpar.jsonl")
  ;;

refusals)
  netlab_range "$prefix" "$NET" || die "the routed range did not come up"
  small=(-Pn --plugin syn -p 22,80 --retries 2 198.19.16.0/28)
  s=$work/s
  scan_ok s1 --shard 1/2 --seed 7 "${small[@]}" -oJ "$s-1.jsonl"
  scan_ok s2 --shard 2/2 --seed 7 "${small[@]}" -oJ "$s-2.jsonl"
  scan_ok s2seed --shard 2/2 --seed 8 "${small[@]}" -oJ "$s-2-seed8.jsonl"
  scan_ok s2ports --shard 2/2 --seed 7 -Pn --plugin syn -p 22,443 --retries 2 198.19.16.0/28 -oJ "$s-2-ports.jsonl"
  scan_ok s2targets --shard 2/2 --seed 7 -Pn --plugin syn -p 22,80 --retries 2 198.19.16.0/27 -oJ "$s-2-targets.jsonl"
  cp "$s-1.jsonl" "$s-1-copy.jsonl"

  check "merge of both shards: exit 0" merge ok -oJ "$work/ok.jsonl" "$s-1.jsonl" "$s-2.jsonl"
  check "merge of both shards: 32 results" test "$(pairs "$work/ok.jsonl" | wc -l)" = 32

  # refused NAME PATTERN... -- MERGE ARGS: exit 2 and every PATTERN in the message.
  refused() {
    local name=$1 rc=0 p pats=()
    shift
    while [ "$1" != -- ]; do pats+=("$1"); shift; done
    shift
    merge "$name" "$@" || rc=$?
    check "$name: exit 2 ($rc)" test "$rc" = 2
    for p in "${pats[@]}"; do
      check "$name: the message says '$p'" grep -qF -- "$p" "$work/$name.err"
    done
    [ "$rc" = 2 ] && grep -qF -- "${pats[0]}" "$work/$name.err" || cat "$work/$name.err"
  }
  refused "another seed" "$s-1.jsonl" "$s-2-seed8.jsonl" "seed differs (7 vs 8)" -- -oJ "$work/x.jsonl" "$s-1.jsonl" "$s-2-seed8.jsonl"
  refused "other ports" "$s-1.jsonl" "$s-2-ports.jsonl" "ports differ" "22,80" "22,443" -- "$s-1.jsonl" "$s-2-ports.jsonl"
  refused "other targets" "$s-1.jsonl" "$s-2-targets.jsonl" "targets differ" "16 addresses" "32 addresses" -- \
    "$s-1.jsonl" "$s-2-targets.jsonl"
  refused "a shard twice" "$s-1.jsonl" "$s-1-copy.jsonl" "both shard 1/2" -- "$s-1.jsonl" "$s-1-copy.jsonl" "$s-2.jsonl"
  refused "a shard missing" "shard 2/2 is missing" "50.0% of the scan is not covered" "--allow-partial" -- "$s-1.jsonl"
  # A shard cut off while it ran (no summary line): half of its lines.
  head -n "$(($(wc -l <"$s-2.jsonl") / 2))" "$s-2.jsonl" >"$s-2-cut.jsonl"
  refused "a shard cut off" "$s-2-cut.jsonl" "cut off" "% of the scan is not covered" -- "$s-1.jsonl" "$s-2-cut.jsonl"

  rc=0
  scan noseed --shard 1/2 "${small[@]}" -oJ "$work/noseed.jsonl" || rc=$?
  check "--shard without --seed: exit 2 ($rc)" test "$rc" = 2
  check "--shard without --seed: the message says --seed is needed" grep -q -- "needs --seed" "$work/noseed.err"
  check "--shard without --seed: no record written" test ! -e "$work/noseed.jsonl"

  # --allow-partial merges, and every output says so.
  rc=0
  merge partial --allow-partial -oX "$work/p.xml" -oG "$work/p.gnmap" -oN "$work/p.nmap" -oJ "$work/p.jsonl" "$s-1.jsonl" || rc=$?
  check "--allow-partial: exit 0 ($rc)" test "$rc" = 0
  check "--allow-partial: a warning on stderr" grep -q "partial merge: shard 2/2 is missing" "$work/partial.err"
  for f in partial.out p.xml p.gnmap p.nmap p.jsonl; do
    check "--allow-partial: $f says it is partial" grep -q "partial merge: shard 2/2 is missing; 50.0% of the scan is not covered" "$work/$f"
  done
  check "--allow-partial: XML valid against nmap.dtd" xmllint --noout --dtdvalid "$DTD" "$work/p.xml"
  check "--allow-partial: XML exit=error" grep -q 'exit="error"' "$work/p.xml"
  check "--allow-partial: -oJ summary done 0.5" test "$(jq -r 'select(.type == "summary") | .done' "$work/p.jsonl")" = 0.5
  check "--allow-partial: shard 1's results ($(pairs "$s-1.jsonl" | wc -l))" \
    test "$(pairs "$work/p.jsonl" | wc -l)" = "$(pairs "$s-1.jsonl" | wc -l)"
  ;;

lists)
  extra=198.19.32.0/22
  netlab_range "$prefix" "$NET" "$extra" "${LAYOUT[@]}" || die "the routed range did not come up"
  # Every address of both ranges, one a line, in a shuffled order: 5120 entries (two
  # chunks of -iL), and the exclusions.
  python3 - "$NET" "$extra" >"$work/list.txt" <<'EOF'
import ipaddress, random, sys
addrs = [str(a) for n in sys.argv[1:] for a in ipaddress.ip_network(n)]
random.Random(14).shuffle(addrs)
print("# the /20 and the /22, shuffled")
print("\n".join(addrs))
EOF
  excl=198.19.17.0/26,198.19.20.7,198.19.33.0/24
  printf '198.19.16.0/25\n198.19.34.100-120\n' >"$work/exclude.txt"
  for mode in pn discovery; do
    args=(--plugin syn -p 22,443 --rate 20000 --retries 5 -iL "$work/list.txt" --exclude "$excl" --excludefile "$work/exclude.txt")
    [ "$mode" = pn ] && args+=(-Pn)
    scan_ok "ref-$mode" "${args[@]}" -oJ "$work/ref-$mode.jsonl"
    for k in 1 2 3; do scan_ok "$mode$k" --shard "$k/3" --seed 99 "${args[@]}" -oJ "$work/$mode$k.jsonl"; done
    all=$(pairs "$work/$mode"[1-3].jsonl | sort)
    check "lists $mode: no (host, port) in two shards" test -z "$(uniq -d <<<"$all" | head -n 3)"
    check "lists $mode: the shards together are the unsharded scan ($(wc -l <<<"$all"))" \
      differ <(pairs "$work/ref-$mode.jsonl" | sort) <(cat <<<"$all")
    check "lists $mode: no excluded address scanned" \
      test -z "$(python3 -c '
import ipaddress, sys
ex = [ipaddress.ip_network(n) for n in sys.argv[1].split(",") + ["198.19.16.0/25"]]
ex += [ipaddress.ip_network(f"198.19.34.{i}/32") for i in range(100, 121)]
for line in sys.stdin:
    a = ipaddress.ip_address(line.split()[0])
    if any(a in n for n in ex): print(a)' "$excl" <<<"$all" | head -n 3)"
    [ "$mode" = pn ] && check "lists pn: every listed address not excluded, x 2 ports ($(((5120 - 64 - 1 - 256 - 128 - 21) * 2)))" \
      test "$(wc -l <<<"$all")" = $(((5120 - 64 - 1 - 256 - 128 - 21) * 2))
    merge "m-$mode" -oJ "$work/m-$mode.jsonl" "$work/$mode"[1-3].jsonl || { cat "$work/m-$mode.err"; die "merge failed"; }
    check "lists $mode: merge = unsharded scan" differ <(python3 "$NORM" json "$mode" "$work/ref-$mode.jsonl") \
      <(python3 "$NORM" json "$mode" "$work/m-$mode.jsonl")
  done
  ;;
*)
  echo "usage: $0 SCANFW_BINARY [pn|discovery|refusals|lists]" >&2
  exit 2
  ;;
esac

[ "$fail" = 0 ] && echo "PASS shards $case" || echo "FAIL shards $case"
exit "$fail"
