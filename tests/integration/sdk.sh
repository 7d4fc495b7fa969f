#!/usr/bin/env bash
# The README's "Writing a plugin" as a user follows it: install scanfw into a prefix,
# build the README's Maimon plugin out of the tree against it, and load and run it
# from the installed binary. Usage: sdk.sh BUILD_DIR SOURCE_DIR
# or sdk.sh --system SOURCE_DIR: against the scanfw and scanfw-dev packages in /usr.
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/sdk.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ "$build" = --system ]; then
  prefix=/usr prefix_path=()
else
  prefix=$work/prefix prefix_path=(-DCMAKE_PREFIX_PATH="$prefix")
  cmake --install "$build" --prefix "$prefix" >/dev/null
fi
mkdir "$work/maimon"
python3 - "$src/README.md" "$work/maimon" <<'PY'
import re, sys
readme, out = open(sys.argv[1]).read(), sys.argv[2]
cpp = re.search(r"```cpp\n(// plugins/maimon/maimon.cpp.*?)```", readme, re.S).group(1)
cmake = re.search(r"Out of the tree.*?```cmake\n(.*?)```", readme, re.S).group(1)
open(f"{out}/maimon.cpp", "w").write(cpp)
open(f"{out}/CMakeLists.txt", "w").write(cmake)
PY
cmake -S "$work/maimon" -B "$work/maimon/build" "${prefix_path[@]}" >/dev/null
cmake --build "$work/maimon/build" >/dev/null
grep -qx "scanfw_DIR:PATH=$prefix/lib/cmake/scanfw" "$work/maimon/build/CMakeCache.txt" ||
  { echo "FAIL: find_package(scanfw) did not find $prefix/lib/cmake/scanfw"; exit 1; }
scanfw=$prefix/bin/scanfw
"$scanfw" --list-plugins | grep -q "^syn .*$prefix/lib/scanfw/plugins/syn.so" ||
  { echo "FAIL: the installed scanfw does not find its installed plugins"; exit 1; }
"$scanfw" --plugin-dir "$work/maimon/build" --list-plugins | grep -q "^maimon .*$work/maimon/build/maimon.so" ||
  { echo "FAIL: the out-of-tree plugin is not listed"; exit 1; }
# Run it where it can do no harm: the connect-free check is that it loads and
# classifies; a raw scan of loopback needs root and a namespace.
if [ "$(id -u)" = 0 ]; then
  ns=sfw-sdk-$$
  ip netns add "$ns" && trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$work"' EXIT
  ip -n "$ns" link set lo up
  out=$(ip netns exec "$ns" "$scanfw" --plugin-dir "$work/maimon/build" --plugin maimon -p 1-3 -oJ - 127.0.0.1)
  [ "$(grep -c '"technique":"maimon","state":"closed"' <<<"$out")" = 3 ] ||
    { echo "FAIL: maimon scan of loopback: $out"; exit 1; }
fi
echo "sdk: 1 passed, 0 failed"
