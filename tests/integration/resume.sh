#!/usr/bin/env bash
# --resume keeps every output whole (issue 11): a scan with -oA is interrupted with
# SIGINT part way, then `scanfw --resume BASE.jsonl` alone finishes it. Every output
# (XML, normal, grepable, JSON Lines) must then hold the whole scan, ports found before
# the interrupt included, as an uninterrupted scan of the same ports does (ndiff finds
# no difference), with each result and each host line once. A resume with other
# ports, targets or techniques than the record's exits 2 naming the difference.
# Issue 25: `--resume FILE --dry-run` sends and writes nothing and says what it would
# do; a resume into other files (-oJ/-oX/-oN/-oG) holds everything the record held
# plus what it scanned, compared line by line with the reference; a resume never
# replaces a finished scan's files; an interrupted scan's XML counts only the hosts it
# concluded, as its JSON does, and its summary's "done" is the share concluded.
# Usage: resume.sh SCANFW_BINARY
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in jq ndiff xmllint; do command -v "$tool" >/dev/null || { echo "FAIL: $tool missing"; exit 1; }; done
work=$(mktemp -d "${TMPDIR:-/tmp}/resume.XXXXXX")
chmod 755 "$work"
netlab_on_exit "rm -rf $(printf '%q' "$work")"
prefix=$(netlab_prefix resume)
netlab_up "$prefix"
S() { netlab_exec_scanner "$prefix" "$@"; }

failures=0 passed=0
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
# 22 and 80 open, 113 closed, 8080-8082 filtered/closed, the rest of 1-1500 closed.
ports=1-1500,8080-8082
args=(-sS -p "$ports" --rate 150 --seed 11 198.18.0.2)

# The reference: the same scan, not interrupted.
S "$bin" "${args[@]}" -oA "$work/ref" >/dev/null 2>"$work/ref.err" || { echo "FAIL: reference scan: $(cat "$work/ref.err")"; exit 1; }

# Interrupted after 4 s of about 10.
# ip netns exec execs scanfw, so $! is scanfw itself and the signal reaches it.
ip netns exec "$(netlab_scanner_ns "$prefix")" "$bin" "${args[@]}" -oA "$work/r" >/dev/null 2>"$work/r1.err" &
pid=$!
sleep 4
kill -INT "$pid"
wait "$pid"
rc=$?
check "the interrupted scan exits 130 (got $rc)" test "$rc" = 130
first=$(jq -c 'select(.port)' "$work/r.jsonl" | wc -l)
check "it got part of the way: $first of 1503 results" test "$first" -gt 50 -a "$first" -lt 1503
check "its summary says interrupted" test "$(tail -1 "$work/r.jsonl" | jq -r .interrupted)" = true
open_before=$(jq -r 'select(.state == "open") | .port' "$work/r.jsonl" | sort -n | tr '\n' ' ')
echo "open before the interrupt: ${open_before:-none}; $first results"

# Line by line, what a record, XML, normal and grepable output say of the ports: the
# same for a resumed scan as for the reference.
json_ports() { jq -r 'select(.port) | "\(.host) \(.technique) \(.port) \(.state) \(.reason)"' "$1" | sort; }
normal_ports() { grep -E '^([0-9]+/tcp|Not shown|PORT )' "$1"; }
grepable_ports() { grep -o 'Ports: .*' "$1"; }
host_lines_once() {  # every host of the record has one host line
  test -z "$(jq -r 'select(.type == "host" and (.update | not)) | .host' "$1" | sort | uniq -d)" &&
    test "$(jq -r 'select(.type == "host") | .host' "$1" | sort -u | wc -l)" -ge 1
}
summary_counts_lines() {  # the summary's results are the port lines the file holds
  test "$(tail -1 "$1" | jq -r .results)" = "$(jq -c 'select(.port)' "$1" | wc -l)"
}
same_as_reference() {  # FILE-BASE: every format line by line against ref.*
  local b=$1
  check "$b.jsonl: the reference's port lines" diff <(json_ports "$work/ref.jsonl") <(json_ports "$b.jsonl")
  check "$b.jsonl: each host line once" host_lines_once "$b.jsonl"
  check "$b.jsonl: the summary counts the port lines it holds" summary_counts_lines "$b.jsonl"
  check "$b.jsonl: finished, done 1" test "$(tail -1 "$b.jsonl" | jq -r '"\(.interrupted) \(.done)"')" = "false 1"
  ndiff "$work/ref.xml" "$b.xml" >"$work/ndiff.txt"
  check "$b.xml: ndiff finds no difference with the reference: $(head -20 "$work/ndiff.txt")" test "$?" = 0
  check "$b.xml: valid against nmap.dtd" xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$b.xml"
  check "$b.nmap: the reference's port table" diff <(normal_ports "$work/ref.nmap") <(normal_ports "$b.nmap")
  check "$b.gnmap: the reference's Ports line" diff <(grepable_ports "$work/ref.gnmap") <(grepable_ports "$b.gnmap")
}
fingerprint() { sha256sum "$@" | sort; }

# --dry-run with --resume: says what it would do, sends and writes nothing.
cp "$work/r.jsonl" "$work/saved.jsonl"
cp "$work/r.jsonl" "$work/copy.jsonl"
before=$(fingerprint "$work"/r.*)
S "$bin" --resume "$work/r.jsonl" --dry-run >"$work/dry.out" 2>"$work/dry.err"
rc=$?
check "--resume --dry-run exits 0 (got $rc): $(cat "$work/dry.err")" test "$rc" = 0
check "--resume --dry-run left every output as it was" test "$(fingerprint "$work"/r.*)" = "$before"
check "--resume --dry-run names targets, ports, the record and the outputs: $(cat "$work/dry.out")" \
  grep -q "198.18.0.2" "$work/dry.out"
for word in "1-1500,8080-8082" "$work/r.jsonl" "$work/r.xml" "$work/r.nmap" "$work/r.gnmap" "$first result"; do
  check "--resume --dry-run says '$word'" grep -qF -- "$word" "$work/dry.out"
done

# Finished from the record alone.
S "$bin" --resume "$work/r.jsonl" >/dev/null 2>"$work/r2.err"
rc=$?
check "--resume FILE alone exits 0 (got $rc): $(cat "$work/r2.err")" test "$rc" = 0

results=$(jq -c 'select(.port)' "$work/r.jsonl" | wc -l)
unique=$(jq -r 'select(.port) | "\(.technique) \(.port)"' "$work/r.jsonl" | sort -u | wc -l)
check "r.jsonl holds every result once ($results results, $unique distinct, 1503 wanted)" \
  test "$results" = 1503 -a "$unique" = 1503
check "r.jsonl ends with one summary, not interrupted" \
  test "$(jq -c 'select(.type == "summary")' "$work/r.jsonl" | wc -l)" = 1 -a "$(tail -1 "$work/r.jsonl" | jq -r .interrupted)" = false
check "the JSON states equal the reference's" \
  diff <(jq -r 'select(.port) | "\(.port) \(.state) \(.reason)"' "$work/ref.jsonl" | sort) \
       <(jq -r 'select(.port) | "\(.port) \(.state) \(.reason)"' "$work/r.jsonl" | sort)
ndiff "$work/ref.xml" "$work/r.xml" >"$work/ndiff.txt"
check "ndiff finds no difference between r.xml and the reference: $(head -20 "$work/ndiff.txt")" test "$?" = 0
check "r.xml is valid against nmap.dtd" xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$work/r.xml"
for p in 22 80; do
  check "r.nmap lists $p/tcp open" grep -Eq "^$p/tcp +open " "$work/r.nmap"
  check "r.gnmap lists $p/open" grep -q "$p/open/tcp" "$work/r.gnmap"
  check "r.xml lists $p open" test "$(xmllint --xpath "string(//port[@portid='$p']/state/@state)" "$work/r.xml")" = open
done
check "r.nmap's not-shown summary counts the whole scan as the reference does" \
  test "$(grep '^Not shown' "$work/r.nmap")" = "$(grep '^Not shown' "$work/ref.nmap")"
same_as_reference "$work/r"

# A resume into other files, the scan given again: every format holds the record's
# results and the new ones; the record resumed from is left as it was.
S "$bin" "${args[@]}" --resume "$work/saved.jsonl" -oJ "$work/new.jsonl" -oX "$work/new.xml" \
  -oN "$work/new.nmap" -oG "$work/new.gnmap" >/dev/null 2>"$work/new.err"
rc=$?
check "--resume into other files exits 0 (got $rc): $(cat "$work/new.err")" test "$rc" = 0
same_as_reference "$work/new"
check "the record resumed from is unchanged" cmp -s "$work/saved.jsonl" "$work/copy.jsonl"

# The record alone with outputs of its own: those, not the recorded -oA names.
finished=$(fingerprint "$work"/r.*)
S "$bin" --resume "$work/saved.jsonl" -oA "$work/own" >/dev/null 2>"$work/own.err"
rc=$?
check "--resume FILE -oA OTHER exits 0 (got $rc): $(cat "$work/own.err")" test "$rc" = 0
same_as_reference "$work/own"
check "--resume FILE -oA OTHER left the recorded outputs alone" test "$(fingerprint "$work"/r.*)" = "$finished"

# A finished scan's files are never replaced by a resume: not by a resume of a copy of
# its interrupted record (which names them), nor by a resume of the finished record.
S "$bin" --resume "$work/copy.jsonl" >/dev/null 2>"$work/err"
rc=$?
check "--resume COPY alone, the recorded outputs finished: exit 2 saying so ($rc: $(cat "$work/err"))" \
  test "$rc" = 2 -a -n "$(grep -F "$work/r." "$work/err" | grep 'finished')"
S "$bin" --resume "$work/r.jsonl" >/dev/null 2>"$work/err"
rc=$?
check "--resume FINISHED: exit 2 saying it is finished ($rc: $(cat "$work/err"))" \
  test "$rc" = 2 -a -n "$(grep 'finished' "$work/err")"
check "the refused resumes left the finished outputs as they were" test "$(fingerprint "$work"/r.*)" = "$finished"
check "and the copy as it was" cmp -s "$work/copy.jsonl" "$work/saved.jsonl"

# A resume of another scan is refused, naming the difference, and changes nothing.
cp "$work/r.jsonl" "$work/keep.jsonl"
S "$bin" -sS -p 1-10 --seed 11 198.18.0.2 -oJ "$work/r.jsonl" --resume "$work/r.jsonl" >/dev/null 2>"$work/err"
rc=$?
check "other ports: exit 2 naming them ($rc: $(cat "$work/err"))" test "$rc" = 2 -a -n "$(grep "another scan: it ran syn on tcp ports $ports, this command runs syn on tcp ports 1-10 " "$work/err")"
S "$bin" -sS -p "$ports" --seed 11 198.18.0.3 --resume "$work/r.jsonl" >/dev/null 2>"$work/err"
rc=$?
check "other targets: exit 2 naming them ($rc: $(cat "$work/err"))" test "$rc" = 2 -a -n "$(grep 'other targets' "$work/err")"
S "$bin" -sA -p "$ports" --seed 11 198.18.0.2 --resume "$work/r.jsonl" >/dev/null 2>"$work/err"
rc=$?
check "another technique: exit 2 ($rc: $(cat "$work/err"))" test "$rc" = 2 -a -n "$(grep 'another scan' "$work/err")"
check "the refused resumes left the record as it was" cmp -s "$work/r.jsonl" "$work/keep.jsonl"

# Ctrl-C under -T1 (a probe every 15 s) still ends within the promised half second
# (plus start-up), and a second Ctrl-C hurries but the JSON still gets its summary.
ns=$(netlab_scanner_ns "$prefix")
ip netns exec "$ns" "$bin" -T1 -Pn -sS -p 1-100 198.18.0.2 -oJ "$work/t1.jsonl" >/dev/null 2>&1 &
pid=$!
sleep 2
t0=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "-T1 scan stopped by Ctrl-C in $ms ms (exit $rc)" test "$rc" = 130 -a "$ms" -lt 1000
check "and its JSON ends with the summary" test "$(tail -1 "$work/t1.jsonl" | jq -r .type)" = summary
ip netns exec "$ns" "$bin" -Pn -sS -p 1-65535 --rate 2000 198.18.0.2 -oJ "$work/twice.jsonl" -oX "$work/twice.xml" >/dev/null 2>&1 &
pid=$!
sleep 2
kill -INT "$pid"; kill -INT "$pid"
wait "$pid"
rc=$?
check "two Ctrl-C: exit 130 (got $rc)" test "$rc" = 130
check "two Ctrl-C: the JSON still ends with its summary, interrupted" \
  test "$(tail -1 "$work/twice.jsonl" | jq -r '"\(.type) \(.interrupted)"')" = "summary true"
check "two Ctrl-C: the XML is whole" xmllint --noout "$work/twice.xml"

# An interrupted scan's outputs say what it concluded: hosts that had not answered yet
# (the initial timeout of 5 s, three tries) are neither up nor down, in the XML as in
# the JSON; and "done" is the share of the items concluded (a host found down
# concludes its 300), not of the hosts handed out.
ip netns exec "$ns" "$bin" -sU -p 1-300 --rate 50 --timeout 5s 198.18.0.2-9 -oA "$work/u" >/dev/null 2>"$work/u.err" &
pid=$!
sleep 3
kill -INT "$pid"
wait "$pid"
rc=$?
check "the interrupted UDP scan exits 130 (got $rc): $(cat "$work/u.err")" test "$rc" = 130
read -r up down done_share < <(tail -1 "$work/u.jsonl" | jq -r '"\(.up) \(.down) \(.done)"')
ports=$(jq -c 'select(.port)' "$work/u.jsonl" | wc -l)
xml_hosts=$(xmllint --xpath 'concat(//runstats/hosts/@up, " ", //runstats/hosts/@down, " ", //runstats/hosts/@total)' "$work/u.xml")
check "u.xml's runstats count what u.jsonl's summary does: XML $xml_hosts, JSON up $up down $down" \
  test "$xml_hosts" = "$up $down $((up + down))"
check "some hosts were not concluded when it stopped ($up up, $down down of 8)" test $((up + down)) -lt 8
want=$(awk -v r="$ports" -v d="$down" 'BEGIN { printf "%.4f", (r + 300 * d) / 2400 }')
check "u.jsonl's done is the share concluded: $done_share, $ports results and $down hosts down of 8 x 300" \
  test "$(awk -v x="$done_share" 'BEGIN { printf "%.4f", x }')" = "$want"
check "u.jsonl's summary counts the port lines it holds" summary_counts_lines "$work/u.jsonl"
check "u.nmap says how many hosts it concluded: $(tail -1 "$work/u.nmap")" \
  grep -q "^# scanfw interrupted at .* -- $((up + down)) of 8 IP addresses ($up host" "$work/u.nmap"

echo "resume: $passed passed, $failures failed"
[ "$failures" = 0 ]
