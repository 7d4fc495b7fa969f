#!/usr/bin/env bash
# The README's "Writing a plugin" as a user follows it: install scanfw into a prefix,
# build the README's two plugins (synwin: a port technique with an option; fin-ping: a
# host technique) out of the tree against it, and run both from the installed binary
# against a target namespace: synwin's states, its window option on the wire (an
# nftables counter in the target), fin-ping's up and down hosts, and a bad option.
# Usage: sdk.sh BUILD_DIR SOURCE_DIR
#    or sdk.sh --system SOURCE_DIR: against the scanfw and scanfw-dev packages in /usr.
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/sdk.XXXXXX")
ns=sfw-sdk-$$
cleanup() {
  ip netns del "$ns-s" 2>/dev/null || true
  ip netns del "$ns-t" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces, raw sockets)"; exit 77; }

if [ "$build" = --system ]; then
  prefix=/usr prefix_path=()
else
  prefix=$work/prefix prefix_path=(-DCMAKE_PREFIX_PATH="$prefix")
  cmake --install "$build" --prefix "$prefix" >/dev/null
fi
mkdir "$work/plugins"
python3 - "$src/README.md" "$work/plugins" <<'PY'
import re, sys
readme, out = open(sys.argv[1]).read(), sys.argv[2]
section = readme[readme.index("## Writing a plugin"):]
for name in ("synwin", "fin-ping"):
    code = re.search(r"```cpp\n(// plugins/%s/%s\.cpp\n.*?)```" % (name, name), section, re.S).group(1)
    open(f"{out}/{name}.cpp", "w").write(code)
cmake = re.search(r"Out of the tree.*?```cmake\n(.*?)```", section, re.S).group(1)
open(f"{out}/CMakeLists.txt", "w").write(cmake)
PY
cmake -S "$work/plugins" -B "$work/plugins/build" "${prefix_path[@]}" >/dev/null
cmake --build "$work/plugins/build" >/dev/null
grep -qx "scanfw_DIR:PATH=$prefix/lib/cmake/scanfw" "$work/plugins/build/CMakeCache.txt" ||
  { echo "FAIL: find_package(scanfw) did not find $prefix/lib/cmake/scanfw"; exit 1; }

scanfw=$prefix/bin/scanfw
dir=$work/plugins/build
failures=0 passed=0
check() {  # check DESCRIPTION COMMAND...: the command succeeds
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

"$scanfw" --list-plugins >"$work/list"
check "the installed scanfw finds its installed plugins" \
  grep -A1 -q "^syn " "$work/list"
check "they are the installed ones" grep -q "file $prefix/lib/scanfw/plugins/syn.so" "$work/list"
"$scanfw" --plugin-dir "$dir" --list-plugins >"$work/list"
check "synwin is listed as a port technique" grep -Eq "^synwin +port tcp +packet +2 " "$work/list"
check "fin-ping is listed as a host technique" grep -Eq "^fin-ping +host tcp +packet +2 " "$work/list"
check "synwin's option is listed" grep -q "window" "$work/list"
check "synwin is the out-of-tree one" grep -q "file $dir/synwin.so" "$work/list"

# Scanner and target in namespaces of their own, joined by a veth pair: the target
# listens on 22, and counts SYNs with window 512 that reach it.
ip netns add "$ns-s"
ip netns add "$ns-t"
ip link add sdk$$s netns "$ns-s" type veth peer name sdk$$t netns "$ns-t"
ip -n "$ns-s" addr add 198.18.0.1/24 dev sdk$$s
ip -n "$ns-t" addr add 198.18.0.2/24 dev sdk$$t
for n in "$ns-s" "$ns-t"; do ip -n "$n" link set lo up; done
ip -n "$ns-s" link set sdk$$s up
ip -n "$ns-t" link set sdk$$t up
ip netns exec "$ns-t" nft -f - <<'NFT'
table inet sdk {
  counter win512 {}
  chain in { type filter hook input priority 0; tcp flags syn tcp window 512 counter name win512; }
}
NFT
ip netns exec "$ns-t" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 22)); s.listen(); time.sleep(120)' &
listener=$!
trap 'kill $listener 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do ip netns exec "$ns-t" ss -ltn | grep -q ":22 " && break; sleep 0.1; done

run() { ip netns exec "$ns-s" "$scanfw" --plugin-dir "$dir" "$@"; }
out=$(run --plugin synwin --plugin-arg synwin.window=512 -Pn -p 21-23 -oJ - 198.18.0.2)
check "synwin: 22 open (syn-ack): $out" grep -q '"port":22,"protocol":"tcp","technique":"synwin","state":"open","reason":"syn-ack"' <<<"$out"
check "synwin: 21 and 23 closed (reset)" [ "$(grep -c '"technique":"synwin","state":"closed","reason":"reset"' <<<"$out")" = 2 ]
packets=$(ip netns exec "$ns-t" nft -j list counter inet sdk win512 | python3 -c 'import json,sys; print([o for o in json.load(sys.stdin)["nftables"] if "counter" in o][0]["counter"]["packets"])')
check "the window option reached the wire: $packets SYNs with window 512, 3 wanted" [ "$packets" -ge 3 ]

out=$(run -sn --disable-arp-ping --discover fin-ping:40125 -oJ - 198.18.0.2 198.18.0.3)
check "fin-ping: 198.18.0.2 up (reset): $out" grep -q '"host":"198.18.0.2","status":"up","reason":"reset"' <<<"$out"
check "fin-ping: 198.18.0.3 down" grep -q '"host":"198.18.0.3","status":"down"' <<<"$out"

set +e
run --plugin synwin --plugin-arg synwin.window=70000 -p 22 198.18.0.2 >"$work/out" 2>"$work/err"
rc=$?
set -e
check "a bad option value exits 2 naming plugin and option: $(cat "$work/err")" \
  test "$rc" = 2 -a -n "$(grep "plugin 'synwin', option 'window': a TCP window is 0-65535, not 70000" "$work/err")"

echo "sdk: $passed passed, $failures failed"
[ "$failures" = 0 ]
