#!/usr/bin/env bash
# icmp_calibration.sh MODEL CASE: the simulator's Linux limiter model
# (tests/support/limiters.hpp) against this machine's kernel, statistically.
#
# A plan of 30 trials of bursts of UDP datagrams to closed ports is sent from the
# scanner's namespace to a netlab target (tests/lib/netlab_icmp_bursts.py counts the
# port unreachables each burst draws back); MODEL (scanfw_limiter_model) runs the same
# plan 10000 times against the model, with the spec read from the target's sysctls and
# the kernel's CONFIG_HZ, and decides whether the 30 measured counts are a likely
# outcome of the model. Trials are spaced so that each starts from the same limiter
# state (the model shows it: trial 0 and later trials have the same mean and
# consecutive trials' counts are uncorrelated), so the 30 counts of a burst are 30
# independent draws of the model's distribution of one trial's count.
#
#   global      profile global (icmp_ratelimit=0 for IPv4 and IPv6; the per-netns
#               global bucket at 1000/s, burst 50). Trials 0.3 s apart, each from a
#               full bucket (0.3 s refills more than 50 credits; refills happen only
#               when the credit is <= 0, as it is after each trial):
#                 A  150 x IPv4 at once (within 10 ms): the bucket's burst. Each error
#                    costs a random 0, 1 or 2 credits (rand3), so the count is random:
#                    the first n with cost_1+...+cost_n >= 50 (mean 50.33, sd 5.8)
#                 B  30 x IPv4 10-13.5 ms after A's first datagram, within 2.5 ms: 0 (all
#                    of A and B within 16 ms: at most 4 jiffies at HZ=250, and a refill
#                    needs 5, HZ/50, since the last one, at A's first datagram; a bucket
#                    refilled continuously would let 10 or more through)
#                 C  150 x IPv4/IPv6 alternating 60-70 ms after: the bucket refilled to
#                    50 and shared by both families: the same law as A (separate
#                    buckets would give twice as many)
#   global200   profile global200 (1000/s -> 200/s). Trials 0.45 s apart; A and B as
#               above; C 100 x IPv4/IPv6 starting 100-104 ms after A's first datagram
#               (25 or 26 jiffies at HZ=250: floor(200 x 25/250) = floor(200 x 26/250)
#               = 20 credits added to A's leftover, -1 or 0) and sent within 14 ms (no
#               second refill): the first n whose costs reach 19 or 20 (mean 20.0, sd 3.7)
#   linux       profile linux (the kernel's defaults untouched). 30 trials 0.25 s
#               apart, each from a fresh IPv4 and a fresh IPv6 source address (a new
#               per-peer bucket: 6 x timeout tokens), 20 datagrams a burst:
#                 IPv4 at 0: 6; at 2.5-2.8 s: 2 (625-700 jiffies of tokens at 250 a
#                 message); at 3.4-3.5 s: 1; IPv6 (net.ipv6.icmp.ratelimit: 100 ms, 25
#                 jiffies) at 0.1 s: 6; 0.42-0.47 s later: 4; 1 s or more later: 6
#                 (the bucket capped at 6 x 25). The global bucket never binds here
#                 (at most ~18 errors in any 20 ms).
#
# The test statistic, for A and C: over the trials sent on time (n of 30, at least
# 20), S = the sum of the n counts and Q = the sum of (count - m)^2, m the model's mean
# of one count rounded (50 for A, 20 for global200's C). Both have exact distributions
# given the model's distribution of one count (the n-fold convolution, computed by MODEL
# from 300000 simulated trials), and each is accepted in a two-sided interval leaving at
# most alpha/8 in each tail: S tests the mean, Q the spread. For n = 30: A's S in
# [1382, 1649], Q in [254, 2772] (Q's expectation is 30 x 33.7 = 1010); global200's C:
# S in [520, 691], Q in [103, 1210]. alpha = 1e-4 is the false-alarm rate of one run of
# a case if the model is right (smaller in fact, the intervals being discrete: MODEL
# prints the exact sum, 9.1e-5 to 9.7e-5). B and the linux case's counts must equal the
# model's only value: no false alarm if the model is right.
# Power: a model without the random cost (random_cost=0: each error costs 1, as before
# Linux 5.10) predicts 50 for every A and C, Q = 0: checked by hand on the first
# measurements (counts 38..75): rejected on Q (1494 and 632 outside [0, 0]) and on S;
# the script repeats that negative control on every run and fails if the control is
# not rejected (the test would have lost its power). A kernel whose bucket refilled
# continuously would fail on B, and separate IPv4 and IPv6 buckets on C's S.
# What the model does not contain is the sender's timing: a trial whose burst started
# later than its slack, or took longer than its span, is left out (MODEL prints which),
# and if fewer than 20 remain the case fails as "sender too slow" rather than judge
# the model.
#
# Usage: icmp_calibration.sh MODEL_BINARY global|global200|linux
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
model=${1:?usage: icmp_calibration.sh MODEL_BINARY global|global200|linux}
case=${2:?case: global global200 linux}
runs=${CALIBRATION_RUNS:-10000}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in ip nft python3 jq "$model"; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not found"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/icmp-calibration.$case.XXXXXX")
netlab_on_exit "rm -rf $(printf '%q' "$work")"

# kernel_hz: CONFIG_HZ, from the kernel's config; else from how a millisecond sysctl
# reads back after the kernel stored it in jiffies (1 ms and 7 ms: 4, 8 at 250; 4, 10
# at 300; 10, 10 at 100; 1, 7 at 1000), in namespace $1, whose icmp_ratelimit it
# leaves as it found it.
kernel_hz() {
    local hz="" old a b
    hz=$( { zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null || true; } |
        sed -n 's/^CONFIG_HZ=\([0-9]*\)$/\1/p')
    if [ -z "$hz" ]; then
        old=$(ip netns exec "$1" sysctl -n net.ipv4.icmp_ratelimit)
        a=$(ip netns exec "$1" sh -c 'sysctl -qw net.ipv4.icmp_ratelimit=1 && sysctl -n net.ipv4.icmp_ratelimit')
        b=$(ip netns exec "$1" sh -c 'sysctl -qw net.ipv4.icmp_ratelimit=7 && sysctl -n net.ipv4.icmp_ratelimit')
        ip netns exec "$1" sysctl -qw "net.ipv4.icmp_ratelimit=$old"
        case "$a,$b" in 4,8) hz=250 ;; 4,10) hz=300 ;; 10,10) hz=100 ;; 1,7) hz=1000 ;; esac
    fi
    [ -n "$hz" ] || { echo "FAIL: cannot tell the kernel's HZ" >&2; return 1; }
    echo "$hz"
}

# model_spec NS HZ: the model's spec from namespace NS's sysctls. Kernels before
# 6.18.14 (and 6.19, 7.0) scale the IPv6 interval by the route's prefix (doc 2.3):
# netlab's target reaches the scanner through its on-link /64.
model_spec() {
    local ns=$1 hz=$2 v6prefix="" rel major minor patch
    local r4 m4 ps pb r6 m6
    read -r r4 m4 ps pb r6 < <(ip netns exec "$ns" sysctl -n net.ipv4.icmp_ratelimit net.ipv4.icmp_ratemask \
        net.ipv4.icmp_msgs_per_sec net.ipv4.icmp_msgs_burst net.ipv6.icmp.ratelimit | paste -sd' ')
    m6=$(ip netns exec "$ns" sysctl -n net.ipv6.icmp.ratemask | tr , ';')
    rel=$(uname -r)
    IFS=. read -r major minor patch <<<"${rel%%-*}"
    patch=${patch:-0}
    if [ "$major" -lt 6 ] || { [ "$major" = 6 ] && { [ "$minor" -lt 18 ] || { [ "$minor" = 18 ] && [ "${patch%%[!0-9]*}" -lt 14 ]; }; }; }; then
        v6prefix=",ipv6_route_prefix=64"
    fi
    echo "linux:hz=$hz,icmp_ratelimit_ms=$r4,icmp_ratemask=$m4,icmp_msgs_per_sec=$ps,icmp_msgs_burst=$pb,ipv6_ratelimit_ms=$r6,ipv6_ratemask=${m6:-none}$v6prefix"
}

case "$case" in
global | global200) profile=$case ;;
linux) profile=linux ;;
*) echo "usage: $0 MODEL global|global200|linux" >&2; exit 2 ;;
esac
prefix=$(netlab_prefix "cal$case")
netlab_up "$prefix" --bare --icmp "$profile"
hz=$(kernel_hz "$prefix-t")
tick=$(python3 -c "print(1 / $hz)")
sources=()
case "$case" in
global)
    cat >"$work/plan.json" <<EOF
{"trials": 30, "period": 0.3, "spread": $tick, "sources": "one", "min_trials": 20, "bursts": [
  {"at": 0, "n": 150, "family": "4", "span": 0.01, "stat": true},
  {"at": 0.01, "n": 30, "family": "4", "slack": 0.0035, "span": 0.0025},
  {"at": 0.06, "n": 150, "family": "46", "slack": 0.01, "span": 0.014, "stat": true}]}
EOF
    ;;
global200)
    cat >"$work/plan.json" <<EOF
{"trials": 30, "period": 0.45, "spread": $tick, "sources": "one", "min_trials": 20, "bursts": [
  {"at": 0, "n": 150, "family": "4", "span": 0.01, "stat": true},
  {"at": 0.01, "n": 30, "family": "4", "slack": 0.0035, "span": 0.0025},
  {"at": 0.1, "n": 100, "family": "46", "slack": 0.004, "span": 0.014, "stat": true}]}
EOF
    ;;
linux)
    netlab_pool "$prefix" 30 30
    sources=(--sources4 "$(netlab_pool_list "$prefix" 4)" --sources6 "$(netlab_pool_list "$prefix" 6)")
    cat >"$work/plan.json" <<EOF
{"trials": 30, "period": 0.25, "spread": $tick, "sources": "fresh", "min_trials": 20, "bursts": [
  {"at": 0, "n": 20, "family": "4", "span": 0.05},
  {"at": 2.5, "n": 20, "family": "4", "slack": 0.3, "span": 0.05},
  {"at": 3.4, "n": 20, "family": "4", "slack": 0.1, "span": 0.05},
  {"at": 0.1, "n": 20, "family": "6", "slack": 0.02, "span": 0.01},
  {"at": 0.54, "n": 20, "family": "6", "slack": 0.03, "span": 0.01},
  {"at": 1.54, "n": 20, "family": "6", "slack": 0.2, "span": 0.05}]}
EOF
    ;;
esac
spec=$(model_spec "$prefix-t" "$hz")
echo "kernel   $(uname -r), HZ=$hz; target's limiter: $spec"

netlab_exec_scanner "$prefix" python3 "$NETLAB_DIR/netlab_icmp_bursts.py" --plan "$work/plan.json" \
    --target4 "$NETLAB_TARGET_IP" --target6 "$NETLAB_TARGET_IP6" "${sources[@]}" >"$work/measured.json"
# CALIBRATION_KEEP=DIR: keep the plan, the spec and the measurement there.
if [ -n "${CALIBRATION_KEEP:-}" ]; then
    keep="$CALIBRATION_KEEP/$case.$(date +%Y%m%d-%H%M%S).$$"
    mkdir -p "$keep" && cp "$work/plan.json" "$work/measured.json" "$keep/" && echo "$spec" >"$keep/spec"
fi
nstat_line=$(ip netns exec "$prefix-t" nstat -asz IcmpOutRateLimitGlobal IcmpOutRateLimitHost Icmp6OutRateLimitHost 2>/dev/null |
    awk 'NR > 1 {printf "%s=%s ", $1, $2}' || true)
echo "target   ${nstat_line:-(no nstat)}"

fail=0
"$model" --spec "$spec" --plan "$work/plan.json" --runs "$runs" --check "$work/measured.json" || fail=1

if [ "$case" != linux ]; then
    # The test must be able to tell the kernel from a model without its randomness.
    rc=0
    "$model" --spec "$spec,random_cost=0" --plan "$work/plan.json" --runs 200 --check "$work/measured.json" \
        >"$work/control.txt" || rc=$?
    if [ "$rc" = 1 ]; then
        echo "ok       negative control: a model without the random cost is rejected: $(grep -c '^FAIL ' "$work/control.txt") checks fail"
    else
        echo "FAIL     negative control: a model without the random cost is not rejected (exit $rc):"
        cat "$work/control.txt"
        fail=1
    fi
fi
[ "$fail" = 0 ] && echo "== icmp calibration $case: PASS" || echo "== icmp calibration $case: FAIL"
exit "$fail"
