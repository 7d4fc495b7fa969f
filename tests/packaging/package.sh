#!/usr/bin/env bash
# The Debian packages, end to end, as root on this machine: make them from the build
# (cpack), check them (fields, Depends from dpkg-shlibdeps, no setuid, stripped, no
# RPATH, lintian), install them with apt-get, run the demo scan through /usr/bin/scanfw
# in a test network of namespaces, build the README's plugin against scanfw-dev in
# /usr, check the man pages and the completion as installed, purge both packages and
# check that every file they brought is gone. Whatever happens, the packages are
# purged and the namespaces removed on exit.
#   package.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited $?"' ERR
build=$(realpath "$1") src=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (apt-get install, network namespaces)"
    exit 77
fi
for tool in cpack apt-get dpkg-deb lintian readelf file ip nft python3 jq; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/setup.sh installs it)"; exit 1; }
done

# One run at a time on this machine (other build trees may run this test too).
exec 9>/run/lock/scanfw-package-test.lock
flock -w 900 9 || { echo "FAIL: another packaging test holds /run/lock/scanfw-package-test.lock"; exit 1; }

# Never replace or purge packages someone installed.
installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qvx 'not-installed'; }
for p in scanfw scanfw-dev; do
    if installed "$p"; then
        echo "SKIP: $p is already installed here; this test installs and purges it (apt-get purge $p to run it)"
        exit 77
    fi
done

# shellcheck source=../lib/netlab.sh
source "$src/tests/lib/netlab.sh"  # owns the EXIT trap: cleanups go through netlab_on_exit
work=$(mktemp -d "${TMPDIR:-/tmp}/package.XXXXXX")
apt_opts=(-y -q -o DPkg::Lock::Timeout=600)
purge_packages() {
    local p
    for p in scanfw scanfw-dev; do
        if installed "$p"; then
            echo "== cleanup: purging $p"
            DEBIAN_FRONTEND=noninteractive apt-get purge "${apt_opts[@]}" scanfw scanfw-dev >/dev/null 2>&1 ||
                dpkg --purge scanfw-dev scanfw >/dev/null 2>&1 || true
            break
        fi
    done
}
netlab_on_exit "purge_packages; rm -rf $(printf '%q' "$work")"

fail=0 checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); echo "FAIL: $*"; fail=1; }
check() { # check DESCRIPTION CMD...: CMD must succeed
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
start=$SECONDS
stage() { echo "== [$((SECONDS - start))s] $*"; }

# ---- make the packages ---------------------------------------------------------------
stage "cpack"
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1; then
    cat "$work/cpack.log"
    echo "FAIL: cpack could not make the packages"
    exit 1
fi
grep -i "warning" "$work/cpack.log" && bad "cpack (dpkg-shlibdeps) warned"
runtime_deb=$(find "$work/pkg" -maxdepth 1 -name 'scanfw_*.deb')
dev_deb=$(find "$work/pkg" -maxdepth 1 -name 'scanfw-dev_*.deb')
[ -f "$runtime_deb" ] && [ -f "$dev_deb" ] || { echo "FAIL: no scanfw_*.deb or scanfw-dev_*.deb in $work/pkg"; exit 1; }
ls -l "$work/pkg"/*.deb

# ---- what is in them -------------------------------------------------------------------
stage "package contents"
project_version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
revision=$(sed -n '1s/^scanfw ([^)]*-\([^)-]*\)).*/\1/p' "$src/packaging/changelog")
version=$(dpkg-deb -f "$runtime_deb" Version)
check "Version $version is project(VERSION) $project_version and the changelog's revision $revision" \
    [ "$version" = "$project_version-$revision" ]
check "scanfw-dev has the same version" [ "$(dpkg-deb -f "$dev_deb" Version)" = "$version" ]
check "scanfw-dev depends on exactly this scanfw" grep -q "scanfw (= $version)" <<<"$(dpkg-deb -f "$dev_deb" Depends)"
for field in Maintainer Section Priority Description; do
    for deb in "$runtime_deb" "$dev_deb"; do
        [ -n "$(dpkg-deb -f "$deb" "$field")" ] || bad "$(basename "$deb") has no $field"
    done
done
mkdir "$work/x"
dpkg-deb -x "$runtime_deb" "$work/x"
dpkg-deb -x "$dev_deb" "$work/x"
# Depends: (dpkg-shlibdeps) names the package of every library the ELF files need.
depends=$(dpkg-deb -f "$runtime_deb" Depends)
echo "Depends: $depends"
dep_names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/ *(.*//; s/^ *//; s/ *$//' | grep .)
deps_ok=1
# Read the cache once: awk leaving early would kill a piped ldconfig with SIGPIPE, and
# pipefail would then end this script at a random library.
ldcache=$(ldconfig -p)
while read -r lib; do
    path=$(awk -v l="$lib" '$1 == l && /x86-64|x86_64|64bit/ { print $NF; exit }' <<<"$ldcache")
    [ -n "$path" ] || path=$(awk -v l="$lib" '$1 == l { print $NF; exit }' <<<"$ldcache")
    pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
    if [ -z "$pkg" ]; then bad "no package owns $lib ($path)"; deps_ok=0; continue; fi
    # the package, or a name it provides (libspdlog1.10 provides libspdlog1.10-fmt9)
    names=$(dpkg-query -W -f='${Package}, ${Provides}' "$pkg" | tr ',' '\n' | sed 's/ *(.*//; s/^ *//' | grep .)
    while read -r name; do
        grep -qxF -- "$name" <<<"$dep_names" && continue 2
    done <<<"$names"
    bad "Depends lacks $pkg (or what it provides), which has $lib"
    deps_ok=0
done < <(find "$work/x" -type f \( -name '*.so' -o -path '*/bin/*' \) -exec readelf -d {} \; 2>/dev/null |
         sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
check "Depends covers every library the binary and the plugins need" [ "$deps_ok" = 1 ]
elf_count=0
while IFS= read -r f; do
    elf_count=$((elf_count + 1))
    file -b "$f" | grep -q ', stripped' || bad "${f#"$work"/x} is not stripped"
    readelf -d "$f" | grep -Eq 'R(UN)?PATH' && bad "${f#"$work"/x} has an RPATH"
    readelf -d "$f" | grep -q BIND_NOW || bad "${f#"$work"/x} is not linked with -z now"
done < <(find "$work/x" -type f -exec sh -c 'head -c4 "$1" | grep -q "ELF"' _ {} \; -print)
check "$elf_count ELF files: stripped, no RPATH, BIND_NOW" [ "$elf_count" -ge 2 ]
check "no setuid or setgid file, nothing writable by group or others" \
    [ -z "$(find "$work/x" \( -perm /6000 -o -perm /022 \) -print)" ]
check "the binary is a PIE" sh -c "file -b '$work/x/usr/bin/scanfw' | grep -q 'pie executable'"
for f in usr/bin/scanfw usr/share/man/man1/scanfw.1.gz usr/share/man/man7/scanfw-plugin.7.gz \
         usr/share/bash-completion/completions/scanfw usr/share/zsh/vendor-completions/_scanfw \
         usr/share/doc/scanfw/copyright usr/share/doc/scanfw/changelog.Debian.gz \
         usr/share/doc/scanfw-dev/copyright usr/share/doc/scanfw-dev/changelog.Debian.gz \
         usr/include/scanfw/plugin_api.hpp usr/include/scanfw/wire.hpp usr/lib/cmake/scanfw/scanfwConfig.cmake \
         usr/lib/cmake/scanfw/ScanfwPlugin.cmake usr/lib/scanfw/plugins/syn.so usr/share/scanfw/profiles/demo.yaml; do
    [ -e "$work/x/$f" ] || bad "the packages lack /$f"
done
for f in "$src"/core/include/scanfw/*.hpp; do
    cmp -s "$f" "$work/x/usr/include/scanfw/$(basename "$f")" || bad "scanfw-dev lacks $(basename "$f") as in the sources"
done
for f in "$src"/profiles/*.yaml; do
    cmp -s "$f" "$work/x/usr/share/scanfw/profiles/$(basename "$f")" || bad "scanfw lacks profile $(basename "$f")"
done
ok "files where Debian wants them"

# ---- lintian ---------------------------------------------------------------------------
stage "lintian"
# Every warning must be listed, with why, in packaging/lintian-accepted; errors never pass.
lint=$(lintian --display-level '>=warning' "$runtime_deb" "$dev_deb" 2>&1 | grep -v '^running with root privileges') || true
echo "$lint" | sed 's/^/   /'
accepted=$(sed -n 's/^\([a-z0-9-]\+\) .*/\1/p' "$src/packaging/lintian-accepted")
if grep -q '^E: ' <<<"$lint"; then bad "lintian reports errors"; else ok "lintian: no errors"; fi
while read -r tag; do
    [ -n "$tag" ] || continue
    grep -qx "$tag" <<<"$accepted" && continue
    bad "lintian warning $tag is not in packaging/lintian-accepted"
done < <(sed -n 's/^W: [^:]*: \([a-z0-9-]*\).*/\1/p' <<<"$lint" | sort -u)

# ---- install -----------------------------------------------------------------------------
stage "apt-get install"
# apt-get wants a path with a slash: ./scanfw_*.deb, or an absolute one.
if ! DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" --no-install-recommends \
        "$runtime_deb" "$dev_deb" >"$work/install.log" 2>&1; then
    cat "$work/install.log"
    echo "FAIL: apt-get install of the packages failed"
    exit 1
fi
ok "apt-get install ./scanfw_*.deb ./scanfw-dev_*.deb"
dpkg -L scanfw scanfw-dev | sort -u >"$work/files"
echo "   $(wc -l <"$work/files") paths installed"

stage "the installed scanfw"
check "/usr/bin/scanfw --version says $project_version" \
    sh -c "/usr/bin/scanfw --version | head -1 | grep -qx 'scanfw $project_version'"
check "no capabilities on /usr/bin/scanfw" [ -z "$(getcap /usr/bin/scanfw 2>/dev/null)" ]
check "/usr/bin/scanfw is root's, mode 755" [ "$(stat -c '%U:%G %a' /usr/bin/scanfw)" = "root:root 755" ]
check "/usr/lib/scanfw/plugins is root's, mode 755" [ "$(stat -c '%U:%G %a' /usr/lib/scanfw/plugins)" = "root:root 755" ]
# As root, scanfw refuses plugin folders others could write: it must take these.
list=$(/usr/bin/scanfw --list-plugins) || bad "/usr/bin/scanfw --list-plugins exited $? (a plugin did not load)"
built=$(find "$build/lib/scanfw/plugins" -name '*.so' -printf '%f\n' | sed 's/\.so$//' | sort)
# Each plugin's line is followed by "    file PATH".
found=$(awk '$1 == "file" && $2 ~ /^\/usr\/lib\/scanfw\/plugins\/[a-z0-9_-]+\.so$/ { n = split($2, p, "/"); sub(/\.so$/, "", p[n]); print p[n] }' <<<"$list" | sort)
check "--list-plugins finds every plugin in /usr/lib/scanfw/plugins ($(echo $found))" [ "$found" = "$built" ]
check "man -w scanfw" sh -c '[ "$(man -w scanfw)" = /usr/share/man/man1/scanfw.1.gz ]'
check "man -w 7 scanfw-plugin" sh -c '[ "$(man -w 7 scanfw-plugin)" = /usr/share/man/man7/scanfw-plugin.7.gz ]'
check "scanfw(1) documents every option of /usr/bin/scanfw --help" \
    python3 "$here/manpage.py" /usr/bin/scanfw /usr/share/man/man1/scanfw.1.gz
check "bash-completion loads the completion on demand" bash --norc -c \
    'source /usr/share/bash-completion/bash_completion; __load_completion scanfw; complete -p scanfw | grep -q _scanfw'
check "completion as installed" bash "$here/completion.sh" /usr/bin/scanfw \
    /usr/share/bash-completion/completions/scanfw /usr/share/zsh/vendor-completions/_scanfw

# ---- the demo scan through /usr/bin/scanfw ------------------------------------------------------
stage "demo scan"
prefix=$(netlab_prefix pkg)
netlab_up "$prefix"
json=$(netlab_exec_scanner "$prefix" /usr/bin/scanfw --profile /usr/share/scanfw/profiles/demo.yaml -q -oJ -) ||
    bad "the demo scan exited $?"
expected=0 right=0
for tech in connect syn ack window null fin xmas udp; do
    for key in "${!NETLAB_KIND[@]}"; do
        proto=${key%/*} port=${key#*/}
        if [ "$tech" = udp ]; then [ "$proto" = udp ] || continue; else [ "$proto" = tcp ] || continue; fi
        want=$(netlab_expected "$tech" "${NETLAB_KIND[$key]}")
        expected=$((expected + 1))
        got=$(jq -r --arg t "$tech" --arg p "$proto" --argjson n "$port" \
            'select(.technique == $t and .protocol == $p and .port == $n) | .state' <<<"$json")
        if [ "$got" = "$want" ]; then right=$((right + 1)); else bad "demo: $tech $port/$proto is '$got', not '$want'"; fi
    done
done
check "demo scan through /usr/bin/scanfw: $right of $expected (technique, port) states right" [ "$right" = "$expected" ]
check "the demo's JSON ends with a summary of $expected results" \
    [ "$(jq -s 'map(select(.type == "summary")) | .[0].results' <<<"$json")" = "$expected" ]
netlab_down "$prefix"

# ---- the README's plugin against scanfw-dev ------------------------------------------------------
stage "out-of-tree plugin against scanfw-dev"
check "the README's plugin builds against /usr and runs in /usr/bin/scanfw" bash "$src/tests/integration/sdk.sh" --system "$src"

# ---- purge -------------------------------------------------------------------------------------
stage "apt-get purge"
if DEBIAN_FRONTEND=noninteractive apt-get purge "${apt_opts[@]}" scanfw scanfw-dev >"$work/purge.log" 2>&1; then
    ok "apt-get purge -y scanfw scanfw-dev"
else
    cat "$work/purge.log"
    bad "apt-get purge failed"
fi
for p in scanfw scanfw-dev; do installed "$p" && bad "$p is still installed after the purge"; done
left=0
while IFS= read -r f; do
    [ -d "$f" ] && continue  # shared folders (/usr/share/man/man1) stay
    if [ -e "$f" ] || [ -L "$f" ]; then bad "left after the purge: $f"; left=$((left + 1)); fi
done <"$work/files"
check "every file of dpkg -L is gone ($(grep -c . "$work/files") paths checked)" [ "$left" = 0 ]
for d in /usr/lib/scanfw /usr/share/scanfw /usr/include/scanfw /usr/lib/cmake/scanfw /usr/share/doc/scanfw /usr/share/doc/scanfw-dev; do
    [ -e "$d" ] && bad "left after the purge: $d"
done
ok "no /usr/lib/scanfw, /usr/share/scanfw, /usr/include/scanfw, /usr/lib/cmake/scanfw, /usr/share/doc/scanfw*"

stage "done"
if [ "$fail" = 0 ]; then echo "package: $checks checks passed in $((SECONDS - start))s"; else echo "package: FAILED"; fi
exit "$fail"
