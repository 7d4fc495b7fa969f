#!/usr/bin/env bash
# The command line as a user meets it: exit codes and error messages for bad input,
# --list-plugins, plugin loading from --plugin-dir, and the raw-socket privilege check.
# Every scanfw here runs in a network namespace of its own with no route out, so that a
# case that wrongly starts a scan reaches nothing.
# Usage: cli.sh SCANFW_BINARY FIXTURE_DIR
set -uo pipefail
binary=$1 fixtures=$2
scanfw() { unshare --net -- "$binary" "$@"; }
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT
failures=0 passed=0

# expect CODE PATTERN -- ARGS...: scanfw ARGS exits CODE and stderr matches PATTERN.
expect() {
  local code=$1 pattern=$2; shift 3
  scanfw "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -Eq -- "$pattern" "$work/err"; then
    echo "FAIL: scanfw $* -> exit $rc (want $code), stderr: $(cat "$work/err")"
    failures=$((failures + 1))
  else
    passed=$((passed + 1))
  fi
  if [ "$code" -ne 0 ] && [ -s "$work/out" ]; then
    echo "FAIL: scanfw $* failed but printed to stdout: $(head -3 "$work/out")"
    failures=$((failures + 1))
  fi
}

# Bad usage and input: exit 2, and the message names the problem.
expect 2 "bad port '70000'" -- --plugin syn -p 22,70000 198.18.0.2
expect 2 "reversed port range '90-80'" -- --plugin syn -p 90-80 198.18.0.2
expect 2 "unknown plugin 'nosuch'" -- --plugin nosuch 198.18.0.2
expect 2 "--plugin .\.\./syn.: a name is .*, not a path" -- --plugin ../syn 198.18.0.2
expect 2 "no targets" -- --plugin syn -p 22
expect 2 "bad octet '300' in '198.18.0.300'" -- --plugin syn 198.18.0.300
expect 2 "too large" -- --plugin syn 198.18.0.0/4
expect 2 "not a duration" -- --plugin syn --timeout soon 198.18.0.2
expect 2 "retries" -- --plugin syn --retries 99 198.18.0.2
expect 2 "nosuchflag|extra|not expected" -- --plugin syn --nosuchflag 198.18.0.2

# Contradictions are refused, not accepted silently.
expect 2 "-oN and -oJ would both write '.*/same'" -- -oN "$work/same" -oJ "$work/same" 198.18.0.2
expect 2 "min-rate 100 is above --rate 10" -- --min-rate 100 --rate 10 198.18.0.2
expect 2 "syn scans tcp ports, and the port list has none" -- --plugin syn -p U:53 198.18.0.2
expect 2 "--user nosuchuser: no such user" -- --user nosuchuser 198.18.0.2
expect 2 "--plugin-dir $work/nowhere: no such folder" -- --plugin-dir "$work/nowhere" 198.18.0.2
expect 2 "--shard 1/4 needs --seed" -- --shard 1/4 198.18.0.2
expect 2 "-sn is host discovery alone" -- -sn --plugin syn 198.18.0.2
expect 2 "-PS70000: plugin 'tcp-syn-ping', option 'ports': '70000' is not a port list" -- -PS70000 198.18.0.2
expect 2 "-PU0: .*port 0 cannot be probed" -- -PU0 198.18.0.2
expect 2 "ipproto: -p 300 is not an IP protocol number" -- -sO -p 300 198.18.0.2
expect 2 "plugin 'syn' has no option 'flags'" -- --plugin-arg syn.flags=S 198.18.0.2
expect 2 "no TCP flag called 'QQ'" -- --scanflags QQ 198.18.0.2
expect 2 "arp: 198.18.0.2 is not on a local Ethernet segment" -- -sn -PR 198.18.0.2
expect 0 "no route, skipped" -- --rate 1e5 --dry-run 198.18.0.2
# nmap's habits: a shipped profile by name; no technique means syn with raw sockets,
# connect without; scan-type shorthands combine; -T by name.
dry() {  # dry WANT ARGS...: --dry-run's line on stdout contains WANT
  local want=$1 out; shift
  # Read whole before grep: grep -q quits at the first match, and under pipefail
  # scanfw's SIGPIPE on the lines after it failed the pipeline.
  out=$(scanfw --dry-run "$@" 2>/dev/null)
  if grep -qF -- "$want" <<<"$out"; then passed=$((passed + 1))
  else echo "FAIL: scanfw --dry-run $* does not say '$want': $(scanfw --dry-run "$@" 2>&1)"; failures=$((failures + 1)); fi
}
dry "with syn;" --profile quick-tcp 198.18.0.2
dry "with syn;" 198.18.0.2
dry "with syn, udp;" -sS -sU -p T:22,U:53 198.18.0.2
dry "1000000 probes a second" -T insane 198.18.0.2
dry "with connect;" -sT -T polite 198.18.0.2
# nmap's combined scan types, -V and -d (issue 25).
dry "with syn, udp;" -sSU -p T:22,U:53 198.18.0.2
dry "with syn;" -sSV -p 22 198.18.0.2
dry "service detection" -sSV -p 22 198.18.0.2
dry "with udp;" -sUV -p U:53 198.18.0.2
version_out=$(scanfw -V)
if grep -q "^scanfw " <<<"$version_out"; then passed=$((passed + 1)); else echo "FAIL: -V is not --version"; failures=$((failures + 1)); fi
debug_out=$(scanfw -d --dry-run -p 22 198.18.0.2 2>&1)
if grep -q "debug:" <<<"$debug_out"; then passed=$((passed + 1))
else echo "FAIL: -d gives no debug log"; failures=$((failures + 1)); fi
# What nmap refuses, refused in words; what scanfw has not, said so (exit 2).
expect 2 "-sn is host discovery alone: it scans no ports, so it takes no -p" -- -sn -p 22 198.18.0.2
expect 2 "-sn is host discovery alone: it scans no ports" -- -sn -F 198.18.0.2
expect 2 "there are no open ports for -sV to identify" -- -sn -sV 198.18.0.2
expect 2 "-p names the ports, -F and --top-ports pick them by frequency" -- -p 22 -F 198.18.0.2
expect 2 "-F and --top-ports: -F is --top-ports 100; give one of them" -- --top-ports 10 -F 198.18.0.2
expect 2 "^scanfw: error: --rate is given 2 times; give it once" -- --rate 5 --rate 6 198.18.0.2
expect 2 "'198.18.0.2' is an IPv4 target, and -6 scans IPv6 targets only" -- -6 198.18.0.2
expect 2 "'198.18.0.0/30' is an IPv4 target, and -6 scans" -- -6 198.18.0.0/30
expect 2 "'198.18.0.1-3' is an IPv4 target, and -6 scans" -- -6 198.18.0.1-3
expect 2 "'fd00::1' is an IPv6 target, and -4 scans IPv4 targets only" -- -4 fd00::1
# nmap's timing flags feed the engine: --dry-run says what they set.
dry "500 probes a second at most" --max-rate 500 198.18.0.2
dry "timing: a try waits 1000ms until round trips are measured, then 10ms to 10000ms; 2 retries (up to 10 under loss)" 198.18.0.2
dry "timing: a try waits 200ms until round trips are measured, then 50ms to 300ms;" --max-rtt-timeout 300ms --min-rtt-timeout 50ms --initial-rtt-timeout 200ms 198.18.0.2
dry "then 10ms to 300ms" --max-rtt-timeout 300ms 198.18.0.2
dry "timing: a try waits 2000ms until round trips are measured, then 2000ms to 10000ms" --min-rtt-timeout 2s 198.18.0.2
expect 2 "--min-rtt-timeout 2000ms is above --max-rtt-timeout 1000ms" -- --min-rtt-timeout 2s --max-rtt-timeout 1s 198.18.0.2
expect 2 "--initial-rtt-timeout 20000ms is outside the waits allowed, 10ms to 10000ms" -- --initial-rtt-timeout 20s 198.18.0.2
expect 2 "--max-rtt-timeout: 'soon' is not a duration" -- --max-rtt-timeout soon 198.18.0.2
cat > "$work/rtt.yaml" <<'YAML'
max-rtt-timeout: 400ms
initial-rtt-timeout: 300ms
YAML
dry "a try waits 300ms until round trips are measured, then 10ms to 400ms" --profile "$work/rtt.yaml" 198.18.0.2
# Reverse DNS settings: -n and -R exclude each other; a profile's reverse-dns is a
# choice; --dns-servers takes addresses.
expect 2 "-n and -R contradict each other" -- -n -R -p 1 198.18.0.2
printf 'reverse-dns: sometimes\n' >"$work/rdns.yaml"
expect 2 "rdns.yaml:1:14: 'reverse-dns' must be one of up, all, never, got 'sometimes'" -- --profile "$work/rdns.yaml" 198.18.0.2
expect 2 "--dns-servers: '198.18.0.300' is not an IP address" -- --dns-servers 198.18.0.1,198.18.0.300 -p 1 198.18.0.2
expect 2 "--dns-servers: '198.18.0.300' is not an IP address" -- -sL --dns-servers 198.18.0.300 198.18.0.2
# -sL lists the targets as nmap does, and scans nothing.
list_out=$(scanfw -sL 198.18.0.0/30 localhost --exclude 198.18.0.2 2>&1)
want=$'scanfw scan report for localhost (127.0.0.1)
scanfw scan report for 198.18.0.0
scanfw scan report for 198.18.0.1
scanfw scan report for 198.18.0.3'
if [ "$(head -4 <<<"$list_out")" = "$want" ] &&
   grep -q "^scanfw done: 4 IP addresses (0 hosts up) scanned in" <<<"$list_out"; then passed=$((passed + 1))
else echo "FAIL: -sL lists: $list_out"; failures=$((failures + 1)); fi
expect 2 "-sL lists the targets and scans nothing: it takes no scan technique" -- -sL -sS 198.18.0.1
expect 2 "-sL lists the targets and scans nothing: it takes no output file" -- -sL -oX "$work/l.xml" 198.18.0.1
expect 2 "-sL lists the targets and scans nothing: it takes no -p" -- -sL -p 22 198.18.0.1
# A name that does not resolve is looked up and reported once, not once per reading.
unresolved=$(scanfw --dry-run -p 1 nonexistent.invalid 198.18.0.2 2>&1 | grep -c 'Failed to resolve "nonexistent.invalid"')
if [ "$unresolved" = 1 ]; then passed=$((passed + 1))
else echo "FAIL: an unresolvable name is reported $unresolved times, not once"; failures=$((failures + 1)); fi
for f in -O --traceroute -A -sC --script=default --osscan-guess -sY -sI; do
  expect 2 "^scanfw: error: ${f%%=*}: scanfw has no .*; run nmap for it" -- "$f" 198.18.0.2
done
if [ "$(id -u)" -eq 0 ]; then
  out=$(unshare --net -- setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
    "$binary" --dry-run 198.18.0.2 2>&1)
  if grep -q "with connect;.*tcp-connect-ping" <<<"$out"; then passed=$((passed + 1))
  else echo "FAIL: unprivileged default is not connect with connect-ping discovery: $out"; failures=$((failures + 1)); fi
fi
expect 2 "unknown key 'nosuch'|cannot read" -- --profile no-such-profile 198.18.0.2

if "$binary" --help | grep -q "INT in"; then echo "FAIL: --help shows CLI11's INT in [..] types"; failures=$((failures + 1))
else passed=$((passed + 1)); fi

cat >"$work/bad.yaml" <<'YAML'
plugins: [syn]
portz: 22
YAML
expect 2 "bad.yaml:2:1: unknown key 'portz'" -- --profile "$work/bad.yaml" 198.18.0.2
cat >"$work/badtype.yaml" <<'YAML'
plugins: [syn]
retries: lots
YAML
expect 2 "badtype.yaml:2:10: 'retries' must be an integer" -- --profile "$work/badtype.yaml" 198.18.0.2
cat >"$work/path.yaml" <<'YAML'
plugins: [/tmp/evil]
YAML
expect 2 "path.yaml:1:11: 'plugins': bad plugin name" -- --profile "$work/path.yaml" 198.18.0.2
expect 2 "cannot read" -- --profile "$work/missing.yaml" 198.18.0.2
cat >"$work/disc.yaml" <<'YAML'
discovery: [icmp-echo, nosuch-ping]
YAML
expect 2 "disc.yaml:1:24: .*unknown plugin 'nosuch-ping'" -- --profile "$work/disc.yaml" 198.18.0.2

# A plugin built for another API version is refused, naming the file.
expect 2 "wrongapi.so: built for plugin API version 999" -- --plugin-dir "$fixtures" --plugin wrongapi 198.18.0.2
expect 2 "notelf.so: not a shared object" -- --plugin-dir "$fixtures" --plugin notelf 198.18.0.2

# --list-plugins: every technique, each from its own file; bad files are named and skipped.
scanfw --list-plugins >"$work/list" 2>"$work/err"
for p in connect syn ack window null fin xmas udp maimon scanflags ipproto icmp-echo arp nd tcp-syn-ping udp-ping; do
  if grep -A1 -E "^$p " "$work/list" | grep -Eq "^ +file /.*/$p\.so$"; then passed=$((passed + 1))
  else echo "FAIL: --list-plugins does not list $p from $p.so"; failures=$((failures + 1)); fi
done
scanfw --plugin-dir "$fixtures" --list-plugins >"$work/list" 2>"$work/err"
if [ "$?" -eq 1 ] && grep -q "wrongapi.so" "$work/err" && grep -q "^syn " "$work/list"; then passed=$((passed + 1))
else echo "FAIL: --list-plugins with bad files: $(cat "$work/err")"; failures=$((failures + 1)); fi

# The binary holds no technique: no reason names only plugins use. (udp-response is
# also -sV's: a UDP port that answers a service probe is open, as nmap says.)
if grep -aqE "split-handshake-syn|conn-refused" "$binary"; then
  echo "FAIL: technique strings found in the scanfw binary"; failures=$((failures + 1))
else passed=$((passed + 1)); fi

# Without CAP_NET_RAW a raw technique fails at once (exit 1) and suggests connect.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  unshare --net -- setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
    "$binary" --plugin syn -p 22 127.0.0.1 >"$work/out" 2>"$work/err"
  rc=$?
  if [ "$rc" -eq 1 ] && grep -q "CAP_NET_RAW" "$work/err" && grep -q -- "--plugin connect" "$work/err"; then
    passed=$((passed + 1))
  else echo "FAIL: unprivileged syn: exit $rc: $(cat "$work/err")"; failures=$((failures + 1)); fi
fi

echo "cli: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
