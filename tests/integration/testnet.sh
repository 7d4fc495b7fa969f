# shellcheck shell=bash
# testnet.sh -- a two-namespace test network for scanfw. Source it, don't run it.
#
#   source tests/integration/testnet.sh
#   prefix=$(testnet_prefix mytest)        # unique per run: sfw-mytest-<pid>
#   testnet_up "$prefix"                   # also registers testnet_down on EXIT
#   testnet_exec_scanner "$prefix" scanfw ... 198.18.0.2
#
# Layout (nothing touches the root namespace, every name includes PREFIX):
#   ${PREFIX}-s  scanner  198.18.0.1/24  veth-s ----.
#   ${PREFIX}-t  target   198.18.0.2/24  veth-t <---'
# The target runs listeners.py and an nftables table "ip scanfw_testnet" giving:
#   TCP 22 open, 80 open, 113 closed, 8080 drop, 8081 reject admin-prohibited,
#       8082 reject tcp reset
#   UDP 53 open, 123 closed, 161 drop, 162 reject admin-prohibited
# Listeners also run on TCP 8080-8082 and UDP 161,162: if a firewall rule were
# missing those ports would show "open", so a wrong state can't pass by accident.
#
# Cleanup: testnet_up registers testnet_down PREFIX on EXIT (and INT/TERM) through
# testnet_on_exit, which owns the EXIT trap; callers add their own cleanups with
# testnet_on_exit "cmd" rather than with trap. Don't call testnet_up in a
# subshell ($(...)): the trap would fire when the subshell ends.

TESTNET_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTNET_SCANNER_IP=198.18.0.1
TESTNET_TARGET_IP=198.18.0.2
TESTNET_SCANNER_IP6=fd00:5eed::1     # ULA, inside the namespaces only
TESTNET_TARGET_IP6=fd00:5eed::2
TESTNET_TCP_LISTEN=22,80,8080-8082   # 113 has no listener: closed
TESTNET_UDP_LISTEN=53,161,162        # 123 has no listener: closed
TESTNET_NFT_TABLE=scanfw_testnet     # one per target namespace, so a fixed name is fine
TESTNET_PYTHON=${TESTNET_PYTHON:-python3}

# What each port of the layout is, and the state each technique must find there
# (nmap's semantics; Linux answers ACK probes with RST window 0). Used by
# scan_states.sh and forged.sh.
declare -A TESTNET_KIND=(
    [tcp/22]=open [tcp/80]=open [tcp/113]=closed
    [tcp/8080]=drop [tcp/8081]=reject-admin [tcp/8082]=reset-reject
    [udp/53]=open [udp/123]=closed [udp/161]=drop [udp/162]=reject-admin
)

# Expected state per technique and port kind, nmap's semantics. Linux answers an
# ACK probe (with or without a listener) with a RST of window 0, so window scan
# says "closed" even for open ports.
testnet_expected() { # TECHNIQUE KIND
    case "$1:$2" in
        udp:open) echo open ;;
        udp:closed) echo closed ;;
        udp:drop) echo "open|filtered" ;;
        udp:reject-admin) echo filtered ;;
        connect:open | syn:open) echo open ;;
        ack:open | ack:closed | ack:reset-reject) echo unfiltered ;;
        window:open) echo closed ;;  # RST window 0, as for a closed port
        null:open | fin:open | xmas:open) echo "open|filtered" ;;
        null:drop | fin:drop | xmas:drop) echo "open|filtered" ;;
        *:closed | *:reset-reject) echo closed ;;
        *:drop | *:reject-admin) echo filtered ;;
        *) echo "?" ;;
    esac
}

# ---- cleanup stack -----------------------------------------------------------

_TESTNET_CLEANUPS=()

# testnet_on_exit CMD...: run CMD (eval'd) when the shell exits, last added first.
testnet_on_exit() {
    _TESTNET_CLEANUPS+=("$*")
    trap _testnet_run_cleanups EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

_testnet_run_cleanups() {
    local rc=$? i
    set +e
    for ((i = ${#_TESTNET_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${_TESTNET_CLEANUPS[i]}"
    done
    _TESTNET_CLEANUPS=()
    return "$rc"
}

# testnet_trap PREFIX: tear PREFIX down on exit (testnet_up calls this itself).
testnet_trap() {
    testnet_on_exit "testnet_down $(printf '%q' "$1")"
}

# ---- helpers -----------------------------------------------------------------

# testnet_prefix NAME: a prefix unique to this run, e.g. sfw-syn-12345-6789.
testnet_prefix() {
    printf 'sfw-%s-%s-%s\n' "${1:-t}" "$$" "$RANDOM"
}

testnet_scanner_ns() { printf '%s-s\n' "$1"; }
testnet_target_ns() { printf '%s-t\n' "$1"; }

# testnet_exec_scanner PREFIX CMD...: run CMD inside the scanner namespace.
testnet_exec_scanner() {
    local prefix=$1
    shift
    ip netns exec "$prefix-s" "$@"
}

# testnet_exec_target PREFIX CMD...: run CMD inside the target namespace.
testnet_exec_target() {
    local prefix=$1
    shift
    ip netns exec "$prefix-t" "$@"
}

_testnet_log() { printf 'testnet: %s\n' "$*" >&2; }

_testnet_ns_exists() { [ -e "/run/netns/$1" ]; }

_testnet_state_dir() { printf '%s/testnet.%s\n' "${TMPDIR:-/tmp}" "$1"; }

# Expands "22,80,8080-8082" to one port a line.
_testnet_expand_ports() {
    local part lo hi p
    local IFS=,
    for part in $1; do
        lo=${part%-*} hi=${part#*-}
        for ((p = lo; p <= hi; p++)); do echo "$p"; done
    done
}

# ---- up / down ---------------------------------------------------------------

# testnet_up PREFIX: build the network; returns non-zero (after tearing down what
# it built) on any failure.
testnet_up() {
    local prefix=${1:?usage: testnet_up PREFIX}
    if ! [[ $prefix =~ ^[A-Za-z0-9_.-]{1,60}$ ]]; then
        _testnet_log "bad prefix '$prefix' (letters, digits, . _ - only)"
        return 1
    fi
    # Refuse to touch namespaces we didn't create (and don't register their cleanup).
    if _testnet_ns_exists "$prefix-s" || _testnet_ns_exists "$prefix-t"; then
        _testnet_log "namespace $prefix-s or $prefix-t already exists; pick another prefix"
        return 1
    fi
    testnet_trap "$prefix"
    if ! _testnet_up "$prefix"; then
        _testnet_log "setup of $prefix failed; tearing down"
        testnet_down "$prefix"
        return 1
    fi
}

_testnet_up() {
    local prefix=$1 s="$1-s" t="$1-t" state
    state=$(_testnet_state_dir "$prefix")
    mkdir -p "$state" || return 1

    # Namespaces and a veth pair born inside them (no names in the root namespace).
    ip netns add "$s" || return 1
    ip netns add "$t" || return 1
    ip link add veth-s netns "$s" type veth peer name veth-t netns "$t" || return 1
    ip -n "$s" addr add "$TESTNET_SCANNER_IP/24" dev veth-s || return 1
    ip -n "$t" addr add "$TESTNET_TARGET_IP/24" dev veth-t || return 1
    ip -n "$s" addr add "$TESTNET_SCANNER_IP6/64" dev veth-s nodad || return 1
    ip -n "$t" addr add "$TESTNET_TARGET_IP6/64" dev veth-t nodad || return 1
    ip -n "$s" link set lo up || return 1
    ip -n "$t" link set lo up || return 1
    ip -n "$s" link set veth-s up || return 1
    ip -n "$t" link set veth-t up || return 1

    # The target must answer every probe: no ICMP rate limiting. icmp_ratelimit=0
    # lifts the per-peer limit; icmp_ratemask=0 also exempts the namespace from the
    # global icmp_msgs_per_sec bucket (1000/s, burst 50) which a wide UDP scan hits.
    ip netns exec "$t" sysctl -qw net.ipv4.icmp_ratelimit=0 || return 1
    ip netns exec "$t" sysctl -qw net.ipv4.icmp_ratemask=0 || return 1
    ip netns exec "$t" sysctl -qw net.ipv6.icmp.ratelimit=0 || return 1

    # Firewall rules for the "filtered" and "reset-reject" ports.
    ip netns exec "$t" nft -f - <<EOF || return 1
table inet $TESTNET_NFT_TABLE {
    chain input {
        type filter hook input priority filter; policy accept;
        tcp dport 8080 drop
        tcp dport 8081 reject with icmpx type admin-prohibited
        tcp dport 8082 reject with tcp reset
        udp dport 161 drop
        udp dport 162 reject with icmpx type admin-prohibited
    }
}
EOF

    # Listeners, in the background inside the target namespace.
    ip netns exec "$t" "$TESTNET_PYTHON" "$TESTNET_LIB_DIR/listeners.py" \
        --tcp "$TESTNET_TCP_LISTEN" --udp "$TESTNET_UDP_LISTEN" \
        >"$state/listeners.log" 2>&1 </dev/null &
    echo $! >"$state/listeners.pid"

    _testnet_wait_listening "$prefix" "$!" "$state/listeners.log" || return 1
    # The veth carrier comes up asynchronously: wait until the scanner reaches the
    # target.
    _testnet_wait_link "$prefix" || return 1
}

# Polls ss in the target namespace until every listener port is bound (10 s max).
_testnet_wait_listening() {
    local prefix=$1 pid=$2 log=$3 i p tcp udp missing
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            _testnet_log "listeners.py died:"
            cat "$log" >&2
            return 1
        fi
        tcp=$(ip netns exec "$prefix-t" ss -Hltn 2>/dev/null | awk '{print $4}')
        udp=$(ip netns exec "$prefix-t" ss -Hlun 2>/dev/null | awk '{print $4}')
        missing=0
        for p in $(_testnet_expand_ports "$TESTNET_TCP_LISTEN"); do
            grep -Eqx "(\*|\[::\]):$p" <<<"$tcp" || missing=1
        done
        for p in $(_testnet_expand_ports "$TESTNET_UDP_LISTEN"); do
            grep -Eqx "(\*|\[::\]):$p" <<<"$udp" || missing=1
        done
        [ "$missing" = 0 ] && return 0
        sleep 0.1
    done
    _testnet_log "listeners not up after 10 s:"
    cat "$log" >&2
    return 1
}

_testnet_wait_link() {
    local prefix=$1 i
    for ((i = 0; i < 50; i++)); do
        # A TCP connect to the port-22 listener (bash's /dev/tcp; no ping needed).
        # IPv6 too: until neighbour discovery and DAD of the link-local addresses are
        # done, the first IPv6 exchange takes a second or more.
        ip netns exec "$prefix-s" timeout 1 bash -c \
            "exec 3<>/dev/tcp/$TESTNET_TARGET_IP/22 && exec 4<>/dev/tcp/$TESTNET_TARGET_IP6/22" 2>/dev/null &&
            return 0
        sleep 0.1
    done
    _testnet_log "target $TESTNET_TARGET_IP / $TESTNET_TARGET_IP6 not reachable from $prefix-s"
    return 1
}

# testnet_down PREFIX: kill every process in the two namespaces (only ours: the
# namespaces are), drop the nftables table, delete the namespaces (the veth pair
# goes with them). Safe to call twice or on a half-built network.
testnet_down() {
    local prefix=${1:?usage: testnet_down PREFIX} ns pids i state
    state=$(_testnet_state_dir "$prefix")
    for ns in "$prefix-t" "$prefix-s"; do
        _testnet_ns_exists "$ns" || continue
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$pids" ]; then
            # shellcheck disable=SC2086
            kill $pids 2>/dev/null || true
            for ((i = 0; i < 20; i++)); do
                pids=$(ip netns pids "$ns" 2>/dev/null || true)
                [ -z "$pids" ] && break
                sleep 0.1
            done
            if [ -n "$pids" ]; then
                # shellcheck disable=SC2086
                kill -9 $pids 2>/dev/null || true
            fi
        fi
        ip netns exec "$ns" nft delete table inet "$TESTNET_NFT_TABLE" 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || _testnet_log "could not delete namespace $ns"
    done
    # Reap the listener if it was our child (quiet "Terminated" messages).
    if [ -f "$state/listeners.pid" ]; then
        wait "$(cat "$state/listeners.pid")" 2>/dev/null || true
    fi
    rm -rf "$state"
    return 0
}
