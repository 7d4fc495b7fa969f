#!/usr/bin/env bash
# scanfw --version: the project's version, the plugin API version of the SDK header,
# and each library at the version Debian has installed (the -dev package it was built
# against), as nmap's --version lists them. Usage: version.sh SCANFW PROJECT_VERSION SOURCE_DIR
set -euo pipefail
scanfw=$1 version=$2 src=$3
fail=0
bad() { echo "FAIL: $*"; fail=1; }

out=$("$scanfw" --version) || { echo "FAIL: scanfw --version exited $?"; exit 1; }
echo "$out"
[ "$(sed -n 1p <<<"$out")" = "scanfw $version" ] || bad "first line is not 'scanfw $version'"
api=$(sed -n 's/^#define SCANFW_PLUGIN_API_VERSION \([0-9]*\)$/\1/p' "$src/core/include/scanfw/plugin_api.hpp")
[ -n "$api" ] || bad "no SCANFW_PLUGIN_API_VERSION in plugin_api.hpp"
grep -qx "Plugin API: $api" <<<"$out" || bad "no 'Plugin API: $api' line"

# library as --version names it -> the Debian package it was built from
declare -A pkg=(
    [libpcap]=libpcap0.8-dev [libcap]=libcap-dev [yaml-cpp]=libyaml-cpp-dev [spdlog]=libspdlog-dev
    [fmt]=libfmt-dev [boost]=libboost-dev [abseil]=libabsl-dev [nlohmann_json]=nlohmann-json3-dev
    [cli11]=libcli11-dev
)
compiled=$(sed -n 's/^Compiled with: //p' <<<"$out")
[ -n "$compiled" ] || bad "no 'Compiled with:' line"
for lib in "${!pkg[@]}"; do
    v=$(grep -Eo "(^| )$lib-[^ ]+" <<<"$compiled" | sed "s/^ *$lib-//") || true
    if [ -z "$v" ]; then bad "'Compiled with:' does not name $lib"; continue; fi
    deb=$(dpkg-query -W -f='${Version}' "${pkg[$lib]}" 2>/dev/null) || { bad "${pkg[$lib]} is not installed"; continue; }
    upstream=${deb#*:}           # no epoch
    # scanfw prints the upstream version, or its leading part (boost-1.74.0 for 1.74.0.3)
    [[ $upstream == "$v"* ]] || bad "$lib: --version says $v, ${pkg[$lib]} is $deb"
done
pcap=$(dpkg-query -W -f='${Version}' libpcap0.8 2>/dev/null) || true
grep -Eq "^Running with: libpcap version ${pcap%%-*}( |$)" <<<"$out" ||
    bad "no 'Running with: libpcap version ${pcap%%-*}' (pcap_lib_version of the loaded libpcap)"
[ "$fail" = 0 ] && echo "version: 1 passed, 0 failed" || echo "version: 0 passed, 1 failed"
exit "$fail"
