#!/usr/bin/env bash
# Quick start: installs dependencies and builds (scripts/setup.sh), creates a private
# test network of network namespaces (tests/lib/netlab.sh, the library the tests and
# benchmarks use), scans it from the scanner namespace with profiles/demo.yaml, and
# tears everything down.
#
#   sudo scripts/demo.sh [--no-setup] [EXTRA SCANFW ARGS...]     e.g. -oJ -
#
# Nothing outside the namespaces is scanned or changed: the target is 198.18.0.2
# (benchmarking range) inside a namespace of its own. A second target, 198.18.2.2,
# has the same ports and the ICMP rate limits of a stock Linux host (the first has
# none, so every closed UDP port answers at once); profiles/demo.yaml scans the
# first: `scripts/demo.sh 198.18.2.2` scans the second instead (targets given on the
# command line replace the profile's), `... 198.18.0.2 198.18.2.2` both.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "demo.sh needs root (network namespaces, raw sockets): sudo $0 $*" >&2
    exit 1
fi

# 1. Dependencies and build (skip with --no-setup when build/ is current).
if [ "${1:-}" = --no-setup ]; then
    shift
else
    scripts/setup.sh
fi
[ -x build/bin/scanfw ] || { echo "build/bin/scanfw missing: run scripts/setup.sh" >&2; exit 1; }

# 2. Test network; netlab_up registers its own teardown on exit, also on failure.
# shellcheck source=SCRIPTDIR/../tests/lib/netlab.sh
source tests/lib/netlab.sh
prefix=$(netlab_prefix demo)
netlab_up "$prefix" --icmp none
netlab_add_target "$prefix" 2 --icmp linux
cat <<INFO

Test network $prefix is up:
  scanner namespace $prefix-s   $NETLAB_SCANNER_IP
  target  namespace $prefix-t   $NETLAB_TARGET_IP   (no ICMP rate limit)
          namespace $prefix-t2  $(netlab_target_ip t2)   (Linux's default ICMP rate limits)
    TCP 22,80 open   113 closed   8080 dropped   8081 rejected (ICMP admin-prohibited)
        8082 rejected (TCP reset)
    UDP 53 open (DNS)  123 closed   161 dropped    162 rejected (ICMP admin-prohibited)

+ ip netns exec $prefix-s build/bin/scanfw --profile profiles/demo.yaml${*:+ $*}
INFO

# 3. Scan from inside the scanner namespace (in the background so Ctrl-C tears down
# at once).
rc=0
netlab_exec_scanner "$prefix" build/bin/scanfw --profile profiles/demo.yaml "$@" &
wait $! || rc=$?
echo
echo "scanfw exited $rc; tearing down $prefix"
exit "$rc"
