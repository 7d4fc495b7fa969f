#!/usr/bin/env bash
# forged.sh SCANFW_BINARY
#
# Forged and malformed replies must not change any port's state. Builds a private
# test network (tests/lib/netlab.sh), gives the target namespace a second address, and while
# scanfw scans the target with several techniques, forged_inject.py floods the
# scanner from the target namespace (raw Ethernet frames, see its header):
#   - RSTs, RST/ACKs and SYN/ACKs with wrong sequence/ack numbers to every port in
#     61000-65535 (scanfw's source ports), blind and as near misses of each probe;
#   - the right answers from wrong source ports and from the wrong address;
#   - ICMP unreachables quoting packets this scan never sent;
#   - right answers made malformed: truncated headers, bad IHL, TCP data offsets and
#     UDP lengths, IP fragments;
#   - UDP datagrams to scanfw's ports from ports that are not scanned.
# A firewall rule in the target drops the first try of every probe (the retransmission
# is answered), so every port is in flight for at least one --timeout while the
# forgeries arrive. Every port must end in exactly the state of the table in
# scan_states.sh, scanfw must exit 0, and the injector must really have sent (and the
# scanner's interface received) every kind of forgery.
#
# Exit: 0 pass, 1 failure, 77 skipped (not root, tools missing).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"

[ $# -eq 1 ] || { echo "usage: $0 SCANFW_BINARY" >&2; exit 2; }
bin=$1

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, raw sockets)"
for tool in ip nft python3 ss timeout jq; do
    command -v "$tool" >/dev/null || skip "$tool not installed"
done
[ -x "$bin" ] || { echo "FAIL: scanfw binary '$bin' not found or not executable" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# ---- what is scanned and what must come back (as in scan_states.sh) ----------

# scanflags as in scan_states.sh: flags FINACK, classified as an ACK scan. ipproto's
# TCP, UDP and ICMP probes carry the tag as the others' do; the other protocols have
# no room for one, and no forgery here is of those protocols.
TECHNIQUES=(syn ack window null udp maimon scanflags ipproto)
PLUGIN_ARGS=(--plugin-arg scanflags.flags=FINACK --plugin-arg scanflags.as=ack)
PORTS="T:22,80,113,8080-8082,U:53,123,161,162,P:0,1,2,6,17,47,58,132,255"
TCP_PORTS=(22 80 113 8080 8081 8082)
UDP_PORTS=(53 123 161 162)
IP_PROTOCOLS=(0 1 2 6 17 47 58 132 255)
TARGET=$NETLAB_TARGET_IP
ALIAS=198.18.0.3  # the target namespace's second address: replies from it are forged


# ---- network -----------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/forged.XXXXXX")
netlab_on_exit "rm -rf $(printf '%q' "$work")"
prefix=$(netlab_prefix forged)
netlab_up "$prefix"
s_ns=$(netlab_scanner_ns "$prefix") t_ns=$(netlab_target_ns "$prefix")
ip -n "$t_ns" addr add "$ALIAS/24" dev veth-t

# Drop the first try of each probe; the retransmission goes through to the rules
# and listeners of the standard layout (a later chain). Resets are not probes: they pass.
ip netns exec "$t_ns" nft -f - <<EOF
table inet scanfw_forged {
    set tried_tcp { type inet_service . inet_service; flags dynamic, timeout; timeout 60s; size 65535; }
    set tried_udp { type inet_service . inet_service; flags dynamic, timeout; timeout 60s; size 65535; }
    chain input {
        type filter hook input priority filter - 10; policy accept;
        ip saddr $NETLAB_SCANNER_IP tcp sport 61000-65535 tcp flags & rst == 0 tcp sport . tcp dport @tried_tcp accept
        ip saddr $NETLAB_SCANNER_IP tcp sport 61000-65535 tcp flags & rst == 0 add @tried_tcp { tcp sport . tcp dport } drop
        ip saddr $NETLAB_SCANNER_IP udp sport 61000-65535 udp sport . udp dport @tried_udp accept
        ip saddr $NETLAB_SCANNER_IP udp sport 61000-65535 add @tried_udp { udp sport . udp dport } drop
    }
}
EOF
echo "== forged: netlab $prefix up (target also $ALIAS), first tries dropped"

scanner_mac=$(ip -n "$s_ns" -j link show dev veth-s | jq -r '.[0].address')
rx_packets() { ip -n "$s_ns" -s -j link show dev veth-s | jq '.[0].stats64.rx.packets'; }

# ---- injector ----------------------------------------------------------------

stats=$work/inject.json ready=$work/inject.ready stop=$work/inject.stop
tcp_list=$(IFS=,; echo "${TCP_PORTS[*]}") udp_list=$(IFS=,; echo "${UDP_PORTS[*]}")
rx0=$(rx_packets)
ip netns exec "$t_ns" python3 "$here/forged_inject.py" --iface veth-t --dst-mac "$scanner_mac" \
    --scanner "$NETLAB_SCANNER_IP" --target "$TARGET" --alias "$ALIAS" \
    --tcp-ports "$tcp_list" --udp-ports "$udp_list" --stats "$stats" \
    --ready-file "$ready" --stop-file "$stop" --max-seconds 150 \
    >"$work/inject.log" 2>&1 </dev/null &
inject_pid=$!
stop_injector() {
    local i  # not the caller's: a caller's loop may count with i
    touch "$stop"
    for ((i = 0; i < 50; i++)); do
        kill -0 "$inject_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$inject_pid" 2>/dev/null && sleep 0.5 && kill -9 "$inject_pid" 2>/dev/null
    wait "$inject_pid" 2>/dev/null
    return 0
}
netlab_on_exit stop_injector
for ((i = 0; i < 100; i++)); do
    [ -e "$ready" ] && break
    kill -0 "$inject_pid" 2>/dev/null || break
    sleep 0.1
done
if [ ! -e "$ready" ]; then
    echo "FAIL: the injector did not start:"
    cat "$work/inject.log"
    exit 1
fi
echo "== forged: injector flooding $NETLAB_SCANNER_IP ($scanner_mac)"

# ---- scan under fire -----------------------------------------------------------

fail=0
problem() { echo "FAIL: $*"; fail=1; }
out=$work/scanfw.jsonl
techs=$(IFS=,; echo "${TECHNIQUES[*]}")
# Slow enough that the blind flood sweeps the whole source-port range during the scan.
cmd=("$bin" --plugin "$techs" "${PLUGIN_ARGS[@]}" -p "$PORTS" --timeout 500ms --retries 2 --rate 10 -oJ "$out" -vv "$TARGET")
echo "+ ip netns exec $s_ns ${cmd[*]}"
t0=$(date +%s.%N)
rc=0
# In the background and waited for, so INT/TERM reach the trap at once.
netlab_exec_scanner "$prefix" timeout 100 "${cmd[@]}" >"$work/scanfw.stdout" 2>"$work/scanfw.stderr" &
wait $! || rc=$?
t1=$(date +%s.%N)
echo "scanfw took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s, exit $rc"

stop_injector
rx1=$(rx_packets)

if [ "$rc" != 0 ]; then
    problem "scanfw exited $rc (124 = killed after 100 s)"
fi
if grep -Eq "Sanitizer|runtime error:|terminate called" "$work/scanfw.stderr"; then
    problem "scanfw reported a crash or sanitizer error"
fi
if [ "$fail" != 0 ]; then
    echo "--- scanfw stdout:"; cat "$work/scanfw.stdout"
    echo "--- scanfw stderr (last 60 lines):"; tail -n 60 "$work/scanfw.stderr"
    # -vv logs the rounds of ports in doubt, their tries and witnesses: why a port stayed.
    echo "--- scanfw's rounds (last 120 lines of them):"
    grep -E "round [0-9]+ of|in a round|witness (silent|answered)" "$work/scanfw.stderr" | tail -n 120
fi
grep -E "packets captured|dropped" "$work/scanfw.stderr" | sed 's/^/scanfw: /' || true

# ---- every port's state ---------------------------------------------------------

declare -A STATE=() REASON=()
if [ ! -s "$out" ]; then
    problem "scanfw wrote no JSON to $out"
elif ! jq -e . "$out" >/dev/null 2>&1; then
    problem "scanfw -oJ output is not valid JSON Lines"
    cat "$out"
else
    while read -r tech key state reason host; do
        k="$tech $key"
        if [ "$host" != "$TARGET" ]; then
            problem "record for a host that was not scanned: $host $k $state"
        elif [ -z "${NETLAB_KIND[$key]:-}" ]; then
            problem "record for a port that was not scanned: $k $state"
        elif [ -n "${STATE[$k]:-}" ]; then
            problem "duplicate record for $k: ${STATE[$k]} and $state"
        else
            STATE[$k]=$state REASON[$k]=$reason
        fi
    done < <(jq -r 'select(has("port")) | "\(.technique) \(.protocol)/\(.port) \(.state) \(.reason // "-" | if . == "" then "-" else . end) \(.host)"' "$out")
fi

printf '%-4s %-9s %-9s %-13s %-14s %s\n' "" technique port kind expected "scanfw (reason)"
checked=0
for tech in "${TECHNIQUES[@]}"; do
    case "$tech" in
        udp) proto=udp ports=("${UDP_PORTS[@]}") ;;
        ipproto) proto=ip ports=("${IP_PROTOCOLS[@]}") ;;
        *) proto=tcp ports=("${TCP_PORTS[@]}") ;;
    esac
    for port in "${ports[@]}"; do
        key=$proto/$port k="$tech $key"
        want=$(netlab_expected "$tech" "${NETLAB_KIND[$key]}")
        got=${STATE[$k]:-none}
        verdict=ok
        if [ "$got" != "$want" ]; then
            verdict=FAIL
            problem "$tech $key: scanfw says $got (${REASON[$k]:-}), table says $want"
        fi
        checked=$((checked + 1))
        printf '%-4s %-9s %-9s %-13s %-14s %s\n' "$verdict" "$tech" "$key" "${NETLAB_KIND[$key]}" "$want" \
            "$got (${REASON[$k]:-})"
    done
done
[ "${#STATE[@]}" -eq "$checked" ] || problem "scanfw reported ${#STATE[@]} results, $checked were asked for"

# ---- did the injection happen? ---------------------------------------------------

if [ ! -s "$stats" ]; then
    problem "the injector wrote no statistics:"
    cat "$work/inject.log"
else
    echo "== injector: $(jq -c '{rounds, sent_total, send_errors, probes_sniffed}' "$stats")"
    jq -r '.counts | to_entries[] | "   \(.key): \(.value)"' "$stats"
    sent=$(jq '.sent_total' "$stats")
    rounds=$(jq '.rounds' "$stats")
    # Every blind category swept all of 61000-65535 at least once during the scan.
    [ "$rounds" -ge 1 ] || problem "the blind flood did not sweep 61000-65535 once ($rounds rounds)"
    [ "$(jq '.probes_sniffed.tcp' "$stats")" -gt 0 ] || problem "the injector saw no TCP probe"
    [ "$(jq '.probes_sniffed.udp' "$stats")" -gt 0 ] || problem "the injector saw no UDP probe"
    for c in blind_tcp_rst blind_tcp_rstack blind_tcp_synack blind_udp_from_unscanned_port \
        blind_icmp_quoting_unsent_tcp blind_icmp_quoting_unsent_udp blind_wrong_address_tcp \
        blind_wrong_address_udp sniffed_first_tries near_miss_synack_ack near_miss_rstack_ack \
        near_miss_rst_seq near_miss_our_port wrong_source_port_tcp wrong_source_port_udp \
        wrong_address_tcp wrong_address_udp icmp_quoting_unsent_tcp icmp_quoting_unsent_udp \
        malformed_truncated malformed_bad_ihl malformed_bad_total_length malformed_bad_version \
        malformed_fragment malformed_tcp_data_offset malformed_tcp_header_cut malformed_udp_length \
        malformed_udp_header_cut malformed_icmp; do
        n=$(jq --arg c "$c" '.counts[$c] // 0' "$stats")
        [ "$n" -gt 0 ] || problem "no '$c' packet was injected"
    done
    # ... and reached the scanner's interface (which also received the real replies).
    received=$((rx1 - rx0))
    echo "== scanner's veth-s received $received packets; the injector sent $sent"
    [ "$received" -ge $((sent * 9 / 10)) ] || problem "the scanner received $received packets, fewer than the $sent injected"
fi

if [ "$fail" = 0 ]; then
    echo "== forged: PASS ($checked port states exact under $(jq '.sent_total' "$stats") forged packets)"
else
    echo "== forged: FAIL"
fi
exit "$fail"
