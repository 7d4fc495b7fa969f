#!/usr/bin/env bash
# Installs what scanfw needs, builds it, and runs every test (unit, plugin and
# integration tests in network namespaces); then the same tests again on a build
# with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/; but the test
# network library's own tests, label netlab, which run no scanfw code, and the
# long comparison matrices, label long: every ICMP limiter, every discovery flag,
# shards of a /20, whose code paths the other tests run under the sanitizers too), and each
# libFuzzer target for 60 s (scripts/fuzz.sh, build-fuzz/). Every stage runs even
# when an earlier one failed; the exit status says whether all passed. Run as root
# on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
status=0
ctest --test-dir build --output-on-failure -j"$(nproc)" || status=1

echo "== the same tests under ASan+UBSan (build-asan/)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCANFW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE 'netlab|long' || status=1

echo "== fuzzing: every parser for 60 s"
scripts/fuzz.sh 60 || status=1
exit "$status"
