#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan into build-fuzz/,
# and runs each one for SECONDS (default 60). Fails when any target finds a crash, a
# leak, a sanitizer report or a timeout; the input that did it is kept in
# build-fuzz/artifacts/ (reproduce with: build-fuzz/fuzz/fuzz_NAME FILE).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      TARGET: reply profile ports targets service_db
#
# Seeds come from fuzz/corpus/<target>/ (never written to); what the fuzzers learn
# goes to build-fuzz/corpus/<target>/ and is reused by the next run. Targets run
# FUZZ_JOBS at a time (default: the number of cores). As root each fuzzer runs in a
# network namespace of its own with no interfaces, so even a bug could send nothing.
# Needs clang-14, libclang-rt-14-dev and llvm-14 (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }
shift || true
all_targets=(reply profile ports targets service_db)
targets=("${@:-${all_targets[@]}}")
for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (${all_targets[*]})" >&2; exit 2; }
done

cxx=${FUZZ_CXX:-}
if [ -z "$cxx" ]; then
    for c in clang++-14 clang++; do command -v "$c" >/dev/null && { cxx=$(command -v "$c"); break; }; done
fi
[ -n "$cxx" ] || { echo "fuzz.sh: clang++ not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }

build=build-fuzz
echo "== fuzz: building $build with $cxx"
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSCANFW_FUZZ=ON -DSCANFW_TESTS=OFF >"$build.cmake.log" 2>&1 ||
    { cat "$build.cmake.log" >&2; exit 1; }
rm -f "$build.cmake.log"
cmake --build "$build" --target fuzzers -j"$(nproc)"

# Network isolation for the fuzzers, where we may create a namespace.
isolate=()
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare --net true 2>/dev/null; then
    isolate=(unshare --net)
fi

mkdir -p "$build/artifacts" "$build/logs"
rm -f "$build/logs/"*.pid
touch "$build/logs/.start"  # artifacts newer than this are this run's
# On any exit, stop the fuzzers still running (each by its own pid).
stop_fuzzers() {
    local f
    for f in "$build/logs/"*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
        rm -f "$f"
    done
    return 0
}
trap stop_fuzzers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Reports with function names and lines (llvm-14 has the symbolizer).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
    export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

# run_one TARGET: fuzz it for $seconds; the exit status says whether it found anything.
run_one() {
    local t=$1 log=$build/logs/$1.log rc=0
    mkdir -p "$build/corpus/$t"
    "${isolate[@]}" "$build/fuzz/fuzz_$t" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
        "$build/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1 </dev/null &
    echo $! >"$build/logs/$t.pid"
    wait $! || rc=$?
    rm -f "$build/logs/$t.pid"
    # A sanitizer report that did not stop the process still counts.
    if [ "$rc" = 0 ] && grep -Eq "runtime error:|ERROR: (Address|Leak|UndefinedBehavior)Sanitizer" "$log"; then
        rc=99
    fi
    return "$rc"
}

jobs=${FUZZ_JOBS:-$(nproc)}
declare -A pid_of=()
failed=()
finish() { # TARGET PID
    local t=$1 rc=0 log=$build/logs/$1.log runs
    wait "$2" || rc=$?
    runs=$(grep -Eo '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')
    if [ "$rc" = 0 ]; then
        echo "== fuzz_$t: ok, $runs runs in ${seconds}s, corpus $(find "$build/corpus/$t" -type f | wc -l) files"
    else
        echo "== fuzz_$t: FAILED (exit $rc); last lines of $log:"
        tail -n 60 "$log"
        find "$build/artifacts" -name "$t-*" -newer "$build/logs/.start" | sed 's/^/   artifact: /'
        failed+=("$t")
    fi
}

echo "== fuzz: ${targets[*]} for ${seconds}s each, $jobs at a time${isolate:+, each in a network namespace of its own}"
running=()
for t in "${targets[@]}"; do
    run_one "$t" &
    pid_of[$t]=$!
    running+=("$t")
    if [ "${#running[@]}" -ge "$jobs" ]; then
        finish "${running[0]}" "${pid_of[${running[0]}]}"
        running=("${running[@]:1}")
    fi
done
for t in "${running[@]}"; do finish "$t" "${pid_of[$t]}"; done

passed=$(( ${#targets[@]} - ${#failed[@]} ))
echo "fuzz: ${passed} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
