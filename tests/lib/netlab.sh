# shellcheck shell=bash
# netlab.sh -- the test networks of scanfw's integration tests, benchmarks and demo,
# built from network namespaces. Source it, don't run it (root needed).
#
#   source tests/lib/netlab.sh
#   prefix=$(netlab_prefix mytest)          # unique per run: sfw-mytest-<pid>-<random>
#   netlab_up "$prefix" --icmp linux        # scanner + target; teardown registered on exit
#   netlab_exec_scanner "$prefix" scanfw --plugin udp -p 1-100 198.18.0.2
#
# Everything lives in namespaces named PREFIX-<role>; nothing is added to the root
# namespace and no address outside 198.18.0.0/15 and fd00:5eed::/48 is used:
#
#   PREFIX-s   scanner   veth-s 198.18.0.1/24 fd00:5eed::1/64
#   PREFIX-t   target    veth-t 198.18.0.2/24 fd00:5eed::2/64          (netlab_up)
#   PREFIX-tN  target N  veth-t 198.18.N.2/24 fd00:5eed:0:N::2/64, its   (netlab_add_target, N 2-99)
#                        link to the scanner's veth-sN 198.18.N.1, fd00:5eed:0:N::1
#   PREFIX-b   a bridge (br0) joining the scanner's lan0 198.18.1.1/24 fd00:5eed:0:1::1/64
#   PREFIX-hI  and LAN hosts (eth0), 198.18.1.x, fd00:5eed:0:1::x                (netlab_lan)
#   198.19.0.0/16 (and any fd00:5eed::/48 prefix) answered by a target      (netlab_range)
#   198.19.255.0/24, fd00:5eed::ff:N: source addresses of the scanner        (netlab_pool)
#
# The standard layout of a target (netlab_up, netlab_add_target; --bare for none):
# listeners (netlab_listen.py) and an nftables table "inet netlab_layout" giving
#   TCP 22 open, 80 open, 113 closed, 8080 drop, 8081 reject admin-prohibited,
#       8082 reject tcp reset
#   UDP 53 open (a DNS server), 123 closed, 161 drop, 162 reject admin-prohibited
#   IP protocols (nmap -sO): 47 (GRE) drop, 132 (SCTP) reject admin-prohibited; the
#       others as the kernel has them (TCP, UDP, ICMP, IGMP, ICMPv6 spoken, the
#       rest answered with protocol unreachable or parameter problem). (IPv6 rejects
#       nothing with an empty payload: nf_reject wants a transport header. SCTP
#       probes carry one.)
# Listeners also run on TCP 8080-8082 and UDP 161,162: if a firewall rule were
# missing those ports would show "open", so a wrong state can't pass by accident.
# NETLAB_KIND and netlab_expected say what each technique must find there.
#
# Functions (each documented where it is defined):
#   netlab_prefix NAME                      a prefix unique to this run
#   netlab_on_exit CMD...                   a cleanup, run on exit (also INT, TERM); use it, not trap
#   netlab_up PREFIX [--icmp P] [--bare] [--static-neigh]   scanner + target
#   netlab_add_target PREFIX N [--icmp P] [--bare] [--static-neigh]   another target, PREFIX-tN
#   netlab_icmp PREFIX PROFILE [ROLE]       a target's ICMP error limiter (profiles below)
#   netlab_listen PREFIX [--target ROLE] [--tcp PORTS] [--udp SPEC] [--reply TEXT]
#   netlab_loss PREFIX PERCENT [--target ROLE] [--match NFT-EXPR]   random loss of probes
#   netlab_loss_counters PREFIX [ROLE]      "PROBES DROPPED" seen by the loss rule
#   netlab_range PREFIX [--target ROLE] [CIDR...] [ADDR=BEHAVIOUR...] [default=BEHAVIOUR]
#   netlab_lan PREFIX [NHOSTS] [I=BEHAVIOUR...]   an Ethernet segment with NHOSTS hosts
#   netlab_lan_hosts PREFIX [4|6]           the LAN hosts' addresses, one a line
#   netlab_up_hosts PREFIX [--probes LIST] [CIDR...]   the hosts discovery must find up
#   netlab_pool PREFIX N4 [N6]              source addresses for the scanner
#   netlab_pool_list PREFIX [4|6]           them, comma-separated (for --source-ip)
#   netlab_icmp_measure PREFIX [ADDR] [ARGS...]   count the unreachables a target sends
#   netlab_exec PREFIX ROLE CMD..., netlab_exec_scanner PREFIX CMD..., netlab_exec_target PREFIX CMD...
#   netlab_ns PREFIX ROLE, netlab_scanner_ns PREFIX, netlab_target_ns PREFIX (namespace names)
#   netlab_mac PREFIX ROLE IFACE, netlab_target_ip ROLE [4|6]
#   netlab_down PREFIX                      tear down (netlab_up registers it itself)
#
# ICMP limiter profiles (netlab_up --icmp P, netlab_icmp): each applies to IPv4 and
# IPv6 alike. The kernel's defaults are read from the scanner's namespace, which
# netlab never changes, so "linux" means this kernel's, whatever its version.
#   none       no limit at all: icmp_ratelimit=0, icmp_ratemask=0,
#              net.ipv6.icmp.ratelimit=0, and net.ipv6.icmp.ratemask="" (without it
#              IPv6 errors still pass the global bucket: measured 53 at once and
#              956/s, which is what testnet.sh's IPv6 target had)
#   linux      the kernel's defaults, untouched: per peer icmp_ratelimit 1000 ms
#              (6 at once, then 1 a second), icmp_ratemask 6168, and the global
#              bucket icmp_msgs_per_sec 1000, icmp_msgs_burst 50; IPv6 shares the
#              global bucket and has its own per-peer limit, net.ipv6.icmp.ratelimit
#              (1000 ms in older kernels; 100 ms in this machine's 6.18: 6 at once,
#              then 10 a second)
#   global200  icmp_ratelimit=0 (and the IPv6 one 0), icmp_msgs_per_sec=200,
#              icmp_msgs_burst=50: FreeBSD's default rate through Linux's global bucket.
#              The bucket is refilled only when it is empty, by up to the burst at
#              once: after a quiet spell up to twice the burst goes out at once
#              (measured 105 of 300 once, when the credit was left full)
#   global     icmp_ratelimit=0 (and IPv6's), the global bucket at its defaults
#   freebsd    the kernel's limits off (as none) and nftables in the target's output
#              path: destination-unreachable and parameter-problem, ICMP and ICMPv6
#              (a bucket each, as FreeBSD's BANDLIM_ICMP_UNREACH / _ICMP6_UNREACH):
#              limit rate 200/second burst 200 packets (icmplim 200: up to 200 at once
#              in FreeBSD's one-second window, then 200 a second)
#   solaris    the same with icmp_err_interval 100 ms, icmp_err_burst 10:
#              limit rate 100/second burst 10 packets
# Measured (netlab_icmp_measure, tests/integration/netlab.sh icmp; Linux 6.18, 2 cores):
# 300 datagrams to closed ports at once, unreachables back within 0.5 s; then 2000/s for
# 2 s after 2 s quiet, unreachables in the last second:
#   profile    IPv4 at once  IPv4 /s   IPv6 at once  IPv6 /s
#   none       300           2006      300           2000    (all: the sender's 2000/s)
#   linux      6             1         6             10
#   global200  45            211       50            207
#   global     51            1014      61            1017
#   freebsd    200           200       200           200
#   solaris    10            100       10            100
# (tests/integration/netlab.sh icmp-PROFILE checks the deterministic ones; the random
# burst of the global bucket, rand3 credits an error, and Linux's per-peer buckets are
# judged against the simulator's model by tests/integration/icmp_calibration.sh:
# ctest -R netlab.)
#
# Cleanup: netlab_up registers netlab_down PREFIX through netlab_on_exit, which owns
# the EXIT, INT and TERM traps; callers add their own cleanups with netlab_on_exit
# "cmd" rather than with trap. Don't call netlab_up in a subshell ($(...)): the trap
# would fire when the subshell ends. What the other functions build lives in PREFIX's
# namespaces (they need netlab_up first), so every namespace, nftables table,
# process in them and the state folder (${TMPDIR:-/tmp}/netlab.PREFIX) goes with it.
# Names are unique per run (netlab_prefix: pid and a random number), so tests run in
# parallel; the kernel keeps the ICMP buckets per namespace (the global one too since
# Linux 6.12: two global200 targets measured at once send 200/s each), so parallel
# targets do not share a limiter.

[ -n "${_NETLAB_LOADED:-}" ] && return 0
_NETLAB_LOADED=1

NETLAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETLAB_PYTHON=${NETLAB_PYTHON:-python3}
# The addresses, for callers (the functions below also compute them per role).
# shellcheck disable=SC2034
{
    NETLAB_SCANNER_IP=198.18.0.1
    NETLAB_TARGET_IP=198.18.0.2
    NETLAB_SCANNER_IP6=fd00:5eed::1     # ULA, inside the namespaces only
    NETLAB_TARGET_IP6=fd00:5eed::2
    NETLAB_TCP_LISTEN=22,80,8080-8082   # 113 has no listener: closed
    NETLAB_UDP_LISTEN=53:dns,161,162    # 123 has no listener: closed
    NETLAB_RANGE=198.19.0.0/16          # netlab_range's default
    NETLAB_POOL_NET=198.19.255.0/24     # netlab_pool: 198.19.255.1 ...
    NETLAB_POOL_NET6=fd00:5eed::ff:0/112  # netlab_pool: fd00:5eed::ff:1 ... (on the scanner's /64)
    NETLAB_LAN_NET=198.18.1.0/24        # netlab_lan: the scanner is .1, hosts .10, .17, ...
    NETLAB_LAN_NET6=fd00:5eed:0:1::/64
}
NETLAB_ICMP_PROFILES="none linux global200 global freebsd solaris"

# What each port of the standard layout is, and the state each technique must find
# there (nmap's semantics; Linux answers ACK probes with RST window 0).
# shellcheck disable=SC2034 # used by the tests that source this file
declare -A NETLAB_KIND=(
    [tcp/22]=open [tcp/80]=open [tcp/113]=closed
    [tcp/8080]=drop [tcp/8081]=reject-admin [tcp/8082]=reset-reject
    [udp/53]=open [udp/123]=closed [udp/161]=drop [udp/162]=reject-admin
    # IP protocols (ipproto, nmap -sO): spoken by both families, by one only, by none
    # (protocol unreachable / parameter problem), dropped, rejected; 0 is no protocol
    # in IPv4 and IPv6's hop-by-hop header, which the kernel drops when empty.
    [ip/0]=hopopt [ip/1]=spoken-v4 [ip/2]=igmp [ip/6]=spoken [ip/17]=spoken
    [ip/47]=drop [ip/58]=spoken-v6 [ip/132]=reject-admin [ip/255]=none
)

# netlab_expected TECHNIQUE KIND [FAMILY]: the state nmap's semantics give (FAMILY 4
# or 6 matters to ipproto only; default 4). Linux answers an ACK probe (with or
# without a listener) with a RST of window 0, so window scan says "closed" even for
# open ports; it answers FIN/ACK (maimon) with RST at open ports too, as RFC 9293
# says (BSD stacks drop it there), so maimon says "closed" at open ports.
# "scanflags" is the one the tests run, flags FINACK as ack (nmap --scanflags FINACK
# -sA): an ACK scan's table; "scanflags-syn" its defaults, SYN as syn: a SYN scan's.
netlab_expected() {
    if [ "$1" = ipproto ]; then
        local six=0
        [ "${3:-4}" = 6 ] && six=1
        case "$2:$six" in
            spoken:*) echo open ;;
            spoken-v4:0 | spoken-v6:1) echo open ;;
            spoken-v4:1 | spoken-v6:0) echo closed ;;
            igmp:0) echo "open|filtered" ;;  # a query with no group to report: no answer
            igmp:1) echo closed ;;
            hopopt:0) echo closed ;;
            hopopt:1) echo "open|filtered" ;;  # an empty hop-by-hop header: dropped
            none:*) echo closed ;;
            drop:*) echo "open|filtered" ;;
            reject-admin:*) echo filtered ;;
            *) echo "?" ;;
        esac
        return 0
    fi
    case "$1:$2" in
        udp:open) echo open ;;
        udp:closed) echo closed ;;
        udp:drop) echo "open|filtered" ;;
        udp:reject-admin) echo filtered ;;
        connect:open | syn:open | scanflags-syn:open) echo open ;;
        ack:open | ack:closed | ack:reset-reject) echo unfiltered ;;
        window:open) echo closed ;;  # RST window 0, as for a closed port
        maimon:open) echo closed ;;  # Linux: RST to FIN/ACK at open ports too
        maimon:drop) echo "open|filtered" ;;
        scanflags:open | scanflags:closed | scanflags:reset-reject) echo unfiltered ;;  # FINACK as ack
        null:open | fin:open | xmas:open) echo "open|filtered" ;;
        null:drop | fin:drop | xmas:drop) echo "open|filtered" ;;
        *:closed | *:reset-reject) echo closed ;;
        *:drop | *:reject-admin) echo filtered ;;
        *) echo "?" ;;
    esac
}

# ---- cleanup stack -----------------------------------------------------------

_NETLAB_CLEANUPS=()

# netlab_on_exit CMD...: run CMD (eval'd) when the shell exits, last added first; INT
# and TERM exit (130, 143) and so run them too.
#   netlab_on_exit "rm -rf $(printf '%q' "$work")"
netlab_on_exit() {
    _NETLAB_CLEANUPS+=("$*")
    trap _netlab_run_cleanups EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

_netlab_run_cleanups() {
    local rc=$? _netlab_i
    set +e
    trap - INT TERM
    for ((_netlab_i = ${#_NETLAB_CLEANUPS[@]} - 1; _netlab_i >= 0; _netlab_i--)); do
        eval "${_NETLAB_CLEANUPS[_netlab_i]}"
    done
    _NETLAB_CLEANUPS=()
    return "$rc"
}

# ---- helpers -----------------------------------------------------------------

# netlab_prefix NAME: a prefix unique to this run, e.g. sfw-syn-12345-6789.
netlab_prefix() {
    printf 'sfw-%s-%s-%s\n' "${1:-t}" "$$" "$RANDOM"
}

# netlab_ns PREFIX ROLE: the namespace of a role (s, t, t2, b, h1, ...).
netlab_ns() { printf '%s-%s\n' "$1" "$2"; }

netlab_scanner_ns() { printf '%s-s\n' "$1"; }
netlab_target_ns() { printf '%s-t\n' "$1"; }

# netlab_exec PREFIX ROLE CMD...: run CMD inside that namespace.
netlab_exec() {
    local ns="$1-$2"
    shift 2
    ip netns exec "$ns" "$@"
}
# netlab_exec_scanner PREFIX CMD..., netlab_exec_target PREFIX CMD...
netlab_exec_scanner() { local p=$1; shift; ip netns exec "$p-s" "$@"; }
netlab_exec_target() { local p=$1; shift; ip netns exec "$p-t" "$@"; }

# netlab_mac PREFIX ROLE IFACE: the MAC address of an interface.
netlab_mac() {
    ip -n "$1-$2" -br link show dev "$3" | awk '{print $3}'
}

# netlab_target_ip ROLE [4|6]: a target's address (t: 198.18.0.2, t7: 198.18.7.2).
netlab_target_ip() {
    _netlab_link "$1" || return 1
    if [ "${2:-4}" = 6 ]; then echo "$_nl_a6"; else echo "$_nl_a4"; fi
}

# _netlab_link ROLE: the link of a target (t, t2 ... t99), without forking: sets _nl_sif
# (the scanner's interface), _nl_s4, _nl_s6 (its addresses), _nl_a4, _nl_a6 (the
# target's).
_netlab_link() {
    local n
    case "$1" in
        t) n=0 ;;
        t[2-9] | t[1-9][0-9]) n=${1#t} ;;
        *) _netlab_log "not a target role: '$1' (t, t2 ... t99)"; return 1 ;;
    esac
    _nl_s4="198.18.$n.1" _nl_a4="198.18.$n.2"
    if [ "$n" = 0 ]; then
        _nl_sif=veth-s _nl_s6=fd00:5eed::1 _nl_a6=fd00:5eed::2
    else
        _nl_sif="veth-s$n" _nl_s6="fd00:5eed:0:$n::1" _nl_a6="fd00:5eed:0:$n::2"
    fi
}

_netlab_log() { printf 'netlab: %s\n' "$*" >&2; }

# _netlab_do CMD...: run CMD; on failure say which and return 1.
_netlab_do() {
    "$@" && return 0
    _netlab_log "failed: $*"
    return 1
}

_netlab_ns_exists() { [ -e "/run/netns/$1" ]; }

_netlab_state() { printf '%s/netlab.%s\n' "${TMPDIR:-/tmp}" "$1"; }

_netlab_check_prefix() {
    if ! [[ $1 =~ ^[A-Za-z0-9_.-]{1,60}$ ]]; then
        _netlab_log "bad prefix '$1' (letters, digits, . _ - only)"
        return 1
    fi
}

# _netlab_ns_add PREFIX ROLE: a new namespace, recorded for netlab_down, with lo up
# and no duplicate address detection (addresses usable at once).
_netlab_ns_add() {
    local ns="$1-$2"
    if _netlab_ns_exists "$ns"; then
        _netlab_log "namespace $ns already exists; pick another prefix"
        return 1
    fi
    _netlab_do ip netns add "$ns" || return 1
    echo "$ns" >>"$(_netlab_state "$1")/namespaces"
    _netlab_do ip -n "$ns" link set lo up || return 1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        >/dev/null || return 1
}

# _netlab_nft NS TABLE-TEXT...: load a ruleset (replacing a table of the same name).
_netlab_nft() {
    local ns=$1 family=$2 table=$3 text=$4
    ip netns exec "$ns" nft delete table "$family" "$table" 2>/dev/null || true
    ip netns exec "$ns" nft -f - <<<"$text" && return 0
    _netlab_log "nft failed in $ns for table $family $table:"
    printf '%s\n' "$text" >&2
    return 1
}

# _netlab_parse_common ARGS...: --icmp P, --bare, --static-neigh into _nl_icmp,
# _nl_bare, _nl_static.
_netlab_parse_common() {
    _nl_icmp=none _nl_bare=0 _nl_static=0
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --icmp) _nl_icmp=${2:?--icmp needs a profile}; shift 2 ;;
            --icmp=*) _nl_icmp=${1#*=}; shift ;;
            --bare) _nl_bare=1; shift ;;
            --static-neigh) _nl_static=1; shift ;;
            *) _netlab_log "unknown option '$1'"; return 1 ;;
        esac
    done
    case " $NETLAB_ICMP_PROFILES " in
        *" $_nl_icmp "*) ;;
        *) _netlab_log "unknown ICMP profile '$_nl_icmp' ($NETLAB_ICMP_PROFILES)"; return 1 ;;
    esac
}

# ---- up / down ---------------------------------------------------------------

# netlab_up PREFIX [--icmp PROFILE] [--bare] [--static-neigh]: the scanner and the
# target namespaces, joined by a veth pair; the target with the standard layout
# (--bare: no listeners and no firewall) and ICMP PROFILE (default none);
# --static-neigh: permanent neighbour entries both ways (for tools that never ARP,
# such as masscan and zmap). Returns non-zero (after tearing down) on any failure.
#   netlab_up "$prefix" --icmp freebsd
netlab_up() {
    local prefix=${1:?usage: netlab_up PREFIX [--icmp PROFILE] [--bare] [--static-neigh]}
    shift
    _netlab_check_prefix "$prefix" || return 1
    _netlab_parse_common "$@" || return 1
    if _netlab_ns_exists "$prefix-s" || _netlab_ns_exists "$prefix-t"; then
        _netlab_log "namespace $prefix-s or $prefix-t already exists; pick another prefix"
        return 1
    fi
    netlab_on_exit "netlab_down $(printf '%q' "$prefix")"
    mkdir -p "$(_netlab_state "$prefix")" || return 1
    if ! { _netlab_ns_add "$prefix" s && _netlab_target "$prefix" t "$_nl_icmp" "$_nl_bare" "$_nl_static"; }; then
        _netlab_log "setup of $prefix failed; tearing down"
        netlab_down "$prefix"
        return 1
    fi
}

# netlab_add_target PREFIX N [--icmp PROFILE] [--bare] [--static-neigh]: one more
# target, namespace PREFIX-tN, on a link of its own: scanner veth-sN 198.18.N.1/24
# fd00:5eed:0:N::1/64, target veth-t 198.18.N.2/24 fd00:5eed:0:N::2/64 (N 2-99; 1 is
# the LAN's). Same layout and options as netlab_up's target.
#   netlab_add_target "$prefix" 2 --icmp linux      # then scan 198.18.2.2
netlab_add_target() {
    local prefix=${1:?usage: netlab_add_target PREFIX N [options]} n=${2:?N (2-99)}
    shift 2
    _netlab_parse_common "$@" || return 1
    _netlab_link "t$n" || return 1
    _netlab_ns_exists "$prefix-s" || { _netlab_log "netlab_up $prefix first"; return 1; }
    _netlab_target "$prefix" "t$n" "$_nl_icmp" "$_nl_bare" "$_nl_static" || return 1
    # The pool's addresses, if there is one, must route back through the scanner.
    if [ -s "$(_netlab_state "$prefix")/pool4" ] || [ -s "$(_netlab_state "$prefix")/pool6" ]; then
        _netlab_pool_routes "$prefix" "t$n" || return 1
    fi
}

_netlab_target() {  # PREFIX ROLE PROFILE BARE STATIC
    local prefix=$1 role=$2 profile=$3 bare=$4 static=$5
    local s="$prefix-s" t="$prefix-$role" sif a4 a6 s4 s6 mac_s mac_t
    _netlab_link "$role" || return 1
    sif=$_nl_sif a4=$_nl_a4 a6=$_nl_a6 s4=$_nl_s4 s6=$_nl_s6
    _netlab_ns_add "$prefix" "$role" || return 1
    # The veth pair is born inside the two namespaces: no name in the root namespace.
    _netlab_do ip link add "$sif" netns "$s" type veth peer name veth-t netns "$t" || return 1
    _netlab_do ip -n "$s" addr add "$s4/24" dev "$sif" || return 1
    _netlab_do ip -n "$t" addr add "$a4/24" dev veth-t || return 1
    _netlab_do ip -n "$s" addr add "$s6/64" dev "$sif" nodad || return 1
    _netlab_do ip -n "$t" addr add "$a6/64" dev veth-t nodad || return 1
    _netlab_do ip -n "$s" link set "$sif" up || return 1
    _netlab_do ip -n "$t" link set veth-t up || return 1
    if [ "$static" = 1 ]; then
        mac_s=$(netlab_mac "$prefix" s "$sif") mac_t=$(netlab_mac "$prefix" "$role" veth-t)
        _netlab_do ip -n "$s" neigh replace "$a4" lladdr "$mac_t" dev "$sif" nud permanent || return 1
        _netlab_do ip -n "$s" neigh replace "$a6" lladdr "$mac_t" dev "$sif" nud permanent || return 1
        _netlab_do ip -n "$t" neigh replace "$s4" lladdr "$mac_s" dev veth-t nud permanent || return 1
        _netlab_do ip -n "$t" neigh replace "$s6" lladdr "$mac_s" dev veth-t nud permanent || return 1
    fi
    netlab_icmp "$prefix" "$profile" "$role" || return 1
    if [ "$bare" = 0 ]; then
        # Firewall rules for the "filtered" and "reset-reject" ports.
        _netlab_nft "$t" inet netlab_layout "table inet netlab_layout {
    chain input {
        type filter hook input priority filter; policy accept;
        tcp dport 8080 drop
        tcp dport 8081 reject with icmpx type admin-prohibited
        tcp dport 8082 reject with tcp reset
        udp dport 161 drop
        udp dport 162 reject with icmpx type admin-prohibited
        meta l4proto 47 drop
        meta l4proto 132 reject with icmpx type admin-prohibited
    }
}" || return 1
        netlab_listen "$prefix" --target "$role" --tcp "$NETLAB_TCP_LISTEN" --udp "$NETLAB_UDP_LISTEN" \
            --dns-a "$a4" || return 1
    fi
    # The veth carrier comes up asynchronously, and IPv6 needs neighbour discovery:
    # wait until the scanner reaches the target both ways.
    _netlab_wait_reach "$s" "$a4" "$a6"
}

# _netlab_wait_reach NS ADDR...: until a TCP connection from NS to ADDR port 22 is
# accepted or refused (either way the link carries), 10 s at most. (bash's /dev/tcp:
# no interpreter to start, which counts on a loaded machine.)
_netlab_wait_reach() {
    local ns=$1
    shift
    # shellcheck disable=SC2016 # expanded by that shell
    ip netns exec "$ns" bash -c '
        end=$((SECONDS + 10))
        for addr; do
            until err=$(timeout 1 bash -c "exec 3<>/dev/tcp/$addr/22" 2>&1) || [[ $err == *refused* ]]; do
                [ "$SECONDS" -lt "$end" ] || exit 1
                sleep 0.1
            done
        done' netlab-wait "$@" && return 0
    _netlab_log "target $* not reachable from $ns"
    return 1
}

# netlab_down PREFIX: kill every process in PREFIX's namespaces (only ours: the
# namespaces are), delete the namespaces (veth pairs, bridge and nftables tables go
# with them) and the state folder. Safe to call twice or on a half-built network.
#   netlab_down "$prefix"
netlab_down() {
    local prefix=${1:?usage: netlab_down PREFIX} state ns pids n f
    _netlab_check_prefix "$prefix" || return 1
    state=$(_netlab_state "$prefix")
    local nss=()
    [ -f "$state/namespaces" ] && mapfile -t nss <"$state/namespaces"
    # Also the roles netlab makes, in case the record was lost.
    for f in /run/netns/"$prefix"-*; do
        n=${f##*/}
        [[ ${n#"$prefix"-} =~ ^(s|t|t[0-9]+|b|h[0-9]+)$ ]] && nss+=("$n")
    done
    mapfile -t nss < <(printf '%s\n' "${nss[@]}" | awk 'NF && !seen[$0]++' | sort -r)
    for ns in "${nss[@]}"; do
        _netlab_ns_exists "$ns" || continue
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$pids" ]; then
            # shellcheck disable=SC2086
            kill $pids 2>/dev/null || true
            for ((n = 0; n < 20; n++)); do
                pids=$(ip netns pids "$ns" 2>/dev/null || true)
                [ -z "$pids" ] && break
                sleep 0.1
            done
            if [ -n "$pids" ]; then
                # shellcheck disable=SC2086
                kill -9 $pids 2>/dev/null || true
            fi
        fi
        ip netns del "$ns" 2>/dev/null || _netlab_log "could not delete namespace $ns"
    done
    # Reap the listeners that were our children (quiet "Terminated" messages).
    for f in "$state"/*.pid; do
        if [ -f "$f" ]; then wait "$(cat "$f")" 2>/dev/null || true; fi
    done
    rm -rf "$state"
    return 0
}

# ---- listeners ---------------------------------------------------------------

# netlab_listen PREFIX [--target ROLE] [--tcp PORTS] [--udp SPEC] [--reply TEXT]
# [--dns-a ADDR]: netlab_listen.py in a target namespace (default t), bound to [::]
# (IPv4 and IPv6, every local address); returns once every socket is bound. TCP:
# accept and close. UDP SPEC items: PORT or LO-HI, options after ':' -- a delay
# before the answer and/or "dns" (a DNS server's answer).
#   netlab_listen "$prefix" --udp 5354:150ms,5355:600ms,5356:2s
netlab_listen() {
    local prefix=${1:?usage: netlab_listen PREFIX [--target ROLE] [--tcp PORTS] [--udp SPEC]}
    shift
    local role=t args=() state id pid i
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --target) role=$2; shift 2 ;;
            --tcp | --udp | --reply | --dns-a) [ -n "$2" ] && args+=("$1" "$2"); shift 2 ;;
            *) _netlab_log "netlab_listen: unknown option '$1'"; return 1 ;;
        esac
    done
    [ "${#args[@]}" -gt 0 ] || { _netlab_log "netlab_listen: give --tcp and/or --udp"; return 1; }
    state=$(_netlab_state "$prefix")
    id="listen.$role.$RANDOM$RANDOM"
    rm -f "$state/$id.ready"
    ip netns exec "$prefix-$role" "$NETLAB_PYTHON" "$NETLAB_DIR/netlab_listen.py" "${args[@]}" \
        --ready "$state/$id.ready" >"$state/$id.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$state/$id.pid"
    for ((i = 0; i < 100; i++)); do
        [ -f "$state/$id.ready" ] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            _netlab_log "netlab_listen.py ${args[*]} died in $prefix-$role:"
            cat "$state/$id.log" >&2
            return 1
        fi
        sleep 0.1
    done
    _netlab_log "netlab_listen.py not ready after 10 s in $prefix-$role:"
    cat "$state/$id.log" >&2
    return 1
}

# ---- ICMP limiters -----------------------------------------------------------

# netlab_icmp PREFIX PROFILE [ROLE]: the ICMP error limiter of a target (default t):
# none, linux, global200, global, freebsd, solaris (see the top of this file). May be
# called again to switch profiles.
#   netlab_icmp "$prefix" solaris
netlab_icmp() {
    local prefix=${1:?usage: netlab_icmp PREFIX PROFILE [ROLE]} profile=${2:?profile} role=${3:-t}
    local ns="$prefix-$role" key limit="" burst="" out
    local keys=(net.ipv4.icmp_ratelimit net.ipv4.icmp_ratemask net.ipv4.icmp_msgs_per_sec
        net.ipv4.icmp_msgs_burst net.ipv6.icmp.ratelimit net.ipv6.icmp.ratemask)
    local -A val=()
    # The kernel's defaults, from the scanner's namespace (netlab never changes it).
    out=$(ip netns exec "$prefix-s" sysctl "${keys[@]}") || { _netlab_log "cannot read the ICMP sysctls"; return 1; }
    while IFS= read -r key; do
        val[${key%% = *}]=${key#* = }
    done <<<"$out"
    case "$profile" in
        none | freebsd | solaris)
            val[net.ipv4.icmp_ratelimit]=0 val[net.ipv4.icmp_ratemask]=0
            val[net.ipv6.icmp.ratelimit]=0 val[net.ipv6.icmp.ratemask]=""
            if [ "$profile" = freebsd ]; then limit=200 burst=200; fi
            if [ "$profile" = solaris ]; then limit=100 burst=10; fi
            ;;
        linux) ;;
        global200)
            val[net.ipv4.icmp_ratelimit]=0 val[net.ipv6.icmp.ratelimit]=0
            val[net.ipv4.icmp_msgs_per_sec]=200 val[net.ipv4.icmp_msgs_burst]=50
            ;;
        global) val[net.ipv4.icmp_ratelimit]=0 val[net.ipv6.icmp.ratelimit]=0 ;;
        *) _netlab_log "unknown ICMP profile '$profile' ($NETLAB_ICMP_PROFILES)"; return 1 ;;
    esac
    # Write only what differs ("linux" leaves a fresh namespace untouched).
    local -A cur=()
    local writes=()
    out=$(ip netns exec "$ns" sysctl "${keys[@]}") || return 1
    while IFS= read -r key; do
        cur[${key%% = *}]=${key#* = }
    done <<<"$out"
    for key in "${keys[@]}"; do
        [ "${cur[$key]}" = "${val[$key]}" ] || writes+=("$key=${val[$key]}")
    done
    if [ "${#writes[@]}" -gt 0 ]; then
        _netlab_do ip netns exec "$ns" sysctl -qw "${writes[@]}" || return 1
    fi
    ip netns exec "$ns" nft delete table inet netlab_icmp 2>/dev/null || true
    if [ -n "$limit" ]; then
        # Locally generated errors (port unreachables, and the rejects of
        # netlab_layout) pass the output hook; a bucket per family.
        _netlab_nft "$ns" inet netlab_icmp "table inet netlab_icmp {
    chain output {
        type filter hook output priority filter; policy accept;
        icmp type { destination-unreachable, parameter-problem } limit rate over $limit/second burst $burst packets counter drop comment \"limited4\"
        icmpv6 type { destination-unreachable, parameter-problem } limit rate over $limit/second burst $burst packets counter drop comment \"limited6\"
    }
}" || return 1
    fi
    echo "$profile" >"$(_netlab_state "$prefix")/icmp.$role"
}

# netlab_icmp_measure PREFIX [ADDR] [ARGS...]: from the scanner, 300 UDP datagrams to
# closed ports of ADDR (default 198.18.0.2) at once, then 2000 a second for 2 s;
# prints the JSON line of netlab_icmp_measure.py (burst_back, steady_per_s, ...).
#   netlab_icmp_measure "$prefix" fd00:5eed::2 --burst 100
netlab_icmp_measure() {
    local prefix=${1:?usage: netlab_icmp_measure PREFIX [ADDR] [ARGS...]} addr=${2:-$NETLAB_TARGET_IP}
    shift $(($# >= 2 ? 2 : 1))
    ip netns exec "$prefix-s" "$NETLAB_PYTHON" "$NETLAB_DIR/netlab_icmp_measure.py" --target "$addr" "$@"
}

# ---- loss --------------------------------------------------------------------

# netlab_loss PREFIX PERCENT [--target ROLE] [--match NFT-EXPR]: PERCENT of the
# packets coming into the target from the scanner's link vanish at random (nftables
# numgen in prerouting, before conntrack). Not dropped: TCP resets (the scanner's
# kernel answering a SYN/ACK), neighbour discovery and multicast (MLD reports). --match narrows it further
# (e.g. 'tcp flags & (syn|ack) == syn'). Counters: netlab_loss_counters.
#   netlab_loss "$prefix" 10
netlab_loss() {
    local prefix=${1:?usage: netlab_loss PREFIX PERCENT [--target ROLE] [--match EXPR]} pct=${2:?percent}
    shift 2
    local role=t match=""
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --target) role=$2; shift 2 ;;
            --match) match=$2; shift 2 ;;
            *) _netlab_log "netlab_loss: unknown option '$1'"; return 1 ;;
        esac
    done
    if ! [[ $pct =~ ^[0-9]+$ ]] || [ "$pct" -gt 100 ]; then _netlab_log "netlab_loss: bad percentage '$pct'"; return 1; fi
    _netlab_nft "$prefix-$role" inet netlab_loss "table inet netlab_loss {
    chain pre {
        type filter hook prerouting priority -300; policy accept;
        iifname \"veth-t\" meta l4proto tcp tcp flags & rst == rst accept
        iifname \"veth-t\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept
        iifname \"veth-t\" meta pkttype host $match counter comment \"probes\"
        iifname \"veth-t\" meta pkttype host $match numgen random mod 100 < $pct counter drop comment \"dropped\"
    }
}"
}

# netlab_loss_counters PREFIX [ROLE]: "PROBES DROPPED", packets so far.
#   read -r probes dropped < <(netlab_loss_counters "$prefix")
netlab_loss_counters() {
    ip netns exec "$1-${2:-t}" nft list table inet netlab_loss | awk '
        /comment "probes"/ { for (i = 1; i < NF; i++) if ($i == "packets") p = $(i + 1) }
        /comment "dropped"/ { for (i = 1; i < NF; i++) if ($i == "packets") d = $(i + 1) }
        END { print p + 0, d + 0 }'
}

# ---- a routed range, and host behaviours for discovery -------------------------

# Behaviours of an address (netlab_range) or a LAN host (netlab_lan):
#   up         answers everything (the target's listeners, RSTs, ICMP)
#   down       drops everything (a LAN host still answers ARP and neighbour discovery)
#   echo       answers only ICMP/ICMPv6 echo requests
#   timestamp  answers only ICMP timestamp requests (IPv6 has none: silent)
#   ack80      answers only a TCP ACK to port 80 (with a reset)
#   syn443     answers only a TCP SYN to port 443 (a reset: no listener there)
NETLAB_BEHAVIOURS="up down echo timestamp ack80 syn443"

# _netlab_rules BEHAVIOUR MATCH4 MATCH6: the nftables rules of a behaviour (MATCH4/6
# select the addresses it applies to).
_netlab_rules() {
    local b=$1 m4=$2 m6=$3
    case "$b" in
        up) ;;
        down) printf '%s drop\n%s drop\n' "$m4" "$m6" ;;
        echo) printf '%s icmp type echo-request accept\n%s icmpv6 type echo-request accept\n' "$m4" "$m6" ;;
        timestamp) printf '%s icmp type timestamp-request accept\n' "$m4" ;;
        ack80) printf '%s tcp dport 80 tcp flags & (fin|syn|rst|ack) == ack accept\n' "$m4" "$m6" ;;
        syn443) printf '%s tcp dport 443 tcp flags & (fin|syn|rst|ack) == syn accept\n' "$m4" "$m6" ;;
    esac
    case "$b" in echo | timestamp | ack80 | syn443) printf '%s drop\n%s drop\n' "$m4" "$m6" ;; esac
}

_netlab_behaviour_ok() {
    case " $NETLAB_BEHAVIOURS " in *" $1 "*) return 0 ;; esac
    _netlab_log "unknown behaviour '$1' ($NETLAB_BEHAVIOURS)"
    return 1
}

# netlab_range PREFIX [--target ROLE] [CIDR...] [ADDR=BEHAVIOUR...] [default=BEHAVIOUR]:
# every address of each CIDR (default 198.19.0.0/16; IPv6 prefixes inside
# fd00:5eed::/48 too) is local to the target (`ip route add local CIDR dev lo`: its
# listeners answer on all of them) and routed to it from the scanner. ADDR=BEHAVIOUR
# gives an address a behaviour (see above), default=BEHAVIOUR the others' (up).
# netlab_up_hosts prints the addresses discovery must find up.
#   netlab_range "$prefix" 198.19.0.0/24 default=down 198.19.0.1=up 198.19.0.2=echo \
#       198.19.0.3=timestamp 198.19.0.4=ack80 198.19.0.5=syn443
netlab_range() {
    local prefix=${1:?usage: netlab_range PREFIX [--target ROLE] [CIDR...] [ADDR=BEHAVIOUR...]}
    shift
    local role=t nets=() def=up arg addr b state gw gw4 gw6 net fam
    local -A set4=() set6=()
    local entries=()
    while [ "$#" -gt 0 ]; do
        arg=$1
        shift
        case "$arg" in
            --target) role=$1; shift ;;
            default=*) def=${arg#default=}; _netlab_behaviour_ok "$def" || return 1 ;;
            *=*)
                addr=${arg%%=*} b=${arg#*=}
                _netlab_behaviour_ok "$b" || return 1
                entries+=("$addr $b")
                if [[ $addr == *:* ]]; then set6[$b]+="${set6[$b]:+, }$addr"; else set4[$b]+="${set4[$b]:+, }$addr"; fi
                ;;
            */*) nets+=("$arg") ;;
            *) _netlab_log "netlab_range: '$arg' is neither CIDR nor ADDR=BEHAVIOUR"; return 1 ;;
        esac
    done
    [ "${#nets[@]}" -gt 0 ] || nets=("$NETLAB_RANGE")
    local t="$prefix-$role" sif
    _netlab_link "$role" || return 1
    sif=$_nl_sif gw4=$_nl_a4 gw6=$_nl_a6
    state=$(_netlab_state "$prefix")
    for net in "${nets[@]}"; do
        _netlab_in_lab "$net" || return 1
        if [[ $net == *:* ]]; then fam=-6 gw=$gw6; else fam=-4 gw=$gw4; fi
        _netlab_do ip -n "$t" "$fam" route add local "$net" dev lo || return 1
        _netlab_do ip -n "$prefix-s" "$fam" route add "$net" via "$gw" dev "$sif" || return 1
        echo "$net $def" >>"$state/ranges"
    done
    [ "${#entries[@]}" -gt 0 ] && printf '%s\n' "${entries[@]}" >>"$state/hosts"
    # Behaviours: a set of addresses each, and the default for the rest of the ranges.
    local sets="" rules="" r4=() r6=()
    for net in "${nets[@]}"; do
        if [[ $net == *:* ]]; then r6+=("$net"); else r4+=("$net"); fi
    done
    for b in $NETLAB_BEHAVIOURS; do
        [ "$b" = up ] && continue
        if [ -n "${set4[$b]:-}" ]; then
            sets+="    set b4_$b { type ipv4_addr; flags interval; elements = { ${set4[$b]} } }"$'\n'
            rules+=$(_netlab_rules "$b" "ip daddr @b4_$b" "")$'\n'
        fi
        if [ -n "${set6[$b]:-}" ]; then
            sets+="    set b6_$b { type ipv6_addr; flags interval; elements = { ${set6[$b]} } }"$'\n'
            rules+=$(_netlab_rules "$b" "" "ip6 daddr @b6_$b")$'\n'
        fi
    done
    # Listed addresses with behaviour up are exempt from the default.
    if [ "$def" != up ]; then
        [ -n "${set4[up]:-}" ] && sets+="    set b4_up { type ipv4_addr; flags interval; elements = { ${set4[up]} } }"$'\n'
        [ -n "${set6[up]:-}" ] && sets+="    set b6_up { type ipv6_addr; flags interval; elements = { ${set6[up]} } }"$'\n'
        [ -n "${set4[up]:-}" ] && rules+="ip daddr @b4_up accept"$'\n'
        [ -n "${set6[up]:-}" ] && rules+="ip6 daddr @b6_up accept"$'\n'
        local n4="" n6=""
        [ "${#r4[@]}" -gt 0 ] && n4="ip daddr { $(IFS=,; echo "${r4[*]}") }"
        [ "${#r6[@]}" -gt 0 ] && n6="ip6 daddr { $(IFS=,; echo "${r6[*]}") }"
        rules+=$(_netlab_rules "$def" "${n4:-#}" "${n6:-#}" | grep -v '^#' || true)$'\n'
    fi
    # (Lines of a family with no addresses here start with a space: dropped.)
    rules=$(grep -v -e '^ *$' -e '^ ' <<<"$rules" | sed 's/^/        /' || true)
    [ -z "$rules" ] && return 0
    # A table per call, so that ranges with different defaults don't undo each other.
    local table
    table=netlab_range$(wc -l <"$state/ranges")
    _netlab_nft "$t" inet "$table" "table inet $table {
$sets    chain input {
        type filter hook input priority filter - 5; policy accept;
$rules
    }
}"
}

# _netlab_in_lab CIDR: inside 198.18.0.0/15 or fd00:5eed::/48, or refuse.
_netlab_in_lab() {
    "$NETLAB_PYTHON" - "$1" <<'PY' && return 0
import ipaddress, sys
n = ipaddress.ip_network(sys.argv[1], strict=False)
lab = ipaddress.ip_network("198.18.0.0/15" if n.version == 4 else "fd00:5eed::/48")
sys.exit(0 if n.subnet_of(lab) else 1)
PY
    _netlab_log "$1 is outside 198.18.0.0/15 and fd00:5eed::/48: refused"
    return 1
}

# netlab_up_hosts PREFIX [--probes LIST] [CIDR...]: the addresses host discovery must
# find up, one a line, in address order: of every netlab_range (its default behaviour
# for the addresses not listed) and every LAN host, those whose behaviour answers one
# of the probes in LIST (default echo,timestamp,ack80,syn443,arp: nmap -sn's as root;
# arp stands for ARP and neighbour discovery, to which every LAN host answers); only
# inside the CIDRs if given (at most 2^20 addresses are listed). The scanner's own
# addresses are not listed (nmap -sn lists its own address on the LAN as up).
#   netlab_up_hosts "$prefix" --probes echo 198.19.0.0/24 >expected.txt
netlab_up_hosts() {
    local prefix=${1:?usage: netlab_up_hosts PREFIX [--probes LIST] [CIDR...]} probes=echo,timestamp,ack80,syn443,arp
    shift
    if [ "${1:-}" = --probes ]; then probes=$2; shift 2; fi
    local state
    state=$(_netlab_state "$prefix")
    "$NETLAB_PYTHON" - "$state" "$probes" "$@" <<'PY'
import ipaddress, os, sys
state, probes, within = sys.argv[1], set(sys.argv[2].split(",")), [ipaddress.ip_network(c, strict=False) for c in sys.argv[3:]]
def lines(name):
    p = os.path.join(state, name)
    return [l.split() for l in open(p)] if os.path.exists(p) else []
listed = {}
for a, b in lines("hosts"):  # an address, or a CIDR of addresses alike
    for x in ipaddress.ip_network(a, strict=False):
        listed[x] = b
lan = {ipaddress.ip_address(a): b for a, b in lines("lan")}
def answers(b, on_lan, version):
    if b == "timestamp" and version == 6:  # ICMPv6 has no timestamp: silent
        b = "down"
    return b == "up" or b in probes or (on_lan and "arp" in probes)
up = set()
def inside(a):
    return not within or any(a.version == w.version and a in w for w in within)
for net, default in lines("ranges"):
    net = ipaddress.ip_network(net, strict=False)
    spans = [w for w in within if w.version == net.version and w.overlaps(net)] if within else [net]
    for span in spans:
        span = span if span.subnet_of(net) else net
        if answers(default, False, net.version):
            if span.num_addresses > 1 << 20:
                sys.exit(f"netlab_up_hosts: {span} is too large to list; give a CIDR")
            up.update(a for a in span if a not in listed)
for a, b in listed.items():
    if answers(b, False, a.version) and inside(a):
        up.add(a)
for a, b in lan.items():
    if answers(b, True, a.version) and inside(a):
        up.add(a)
for a in sorted(up, key=lambda a: (a.version, int(a))):
    print(a)
PY
}

# ---- a local Ethernet segment ----------------------------------------------------

# netlab_lan PREFIX [NHOSTS] [I=BEHAVIOUR...]: a bridge (br0, in namespace PREFIX-b)
# joining the scanner (lan0: 198.18.1.1/24, fd00:5eed:0:1::1/64) and NHOSTS (default 5,
# at most 35) host namespaces PREFIX-h1 ... (eth0); host I has 198.18.1.(7I+3) and
# fd00:5eed:0:1::<the same number in hex> (h1 .10 ::a, h2 .17 ::11, h3 .24 ::18, ...):
# the other addresses of the subnet are unused, so ARP and neighbour discovery have
# real work. I=BEHAVIOUR gives host I a behaviour (up by default; down: drops all IP,
# still answers ARP and neighbour discovery). The hosts route everything else through
# the scanner (default routes), and keep the kernel's ICMP limits.
#   netlab_lan "$prefix" 6 3=down 4=echo
netlab_lan() {
    local prefix=${1:?usage: netlab_lan PREFIX [NHOSTS] [I=BEHAVIOUR...]} nhosts=5
    shift
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then nhosts=$1; shift; fi
    if [ "$nhosts" -lt 1 ] || [ "$nhosts" -gt 35 ]; then _netlab_log "netlab_lan: 1 to 35 hosts"; return 1; fi
    local -A beh=()
    local arg i b="$prefix-b" h a4 a6 state rules
    for arg in "$@"; do
        [[ $arg =~ ^([0-9]+)=(.+)$ ]] || { _netlab_log "netlab_lan: '$arg' is not I=BEHAVIOUR"; return 1; }
        _netlab_behaviour_ok "${BASH_REMATCH[2]}" || return 1
        beh[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    done
    _netlab_ns_exists "$prefix-s" || { _netlab_log "netlab_up $prefix first"; return 1; }
    state=$(_netlab_state "$prefix")
    _netlab_ns_add "$prefix" b || return 1
    _netlab_do ip -n "$b" link add br0 type bridge mcast_snooping 0 || return 1
    _netlab_do ip -n "$b" link set br0 up || return 1
    _netlab_do ip link add p-s netns "$b" type veth peer name lan0 netns "$prefix-s" || return 1
    _netlab_do ip -n "$b" link set p-s master br0 up || return 1
    _netlab_do ip -n "$prefix-s" addr add 198.18.1.1/24 dev lan0 || return 1
    _netlab_do ip -n "$prefix-s" addr add fd00:5eed:0:1::1/64 dev lan0 nodad || return 1
    _netlab_do ip -n "$prefix-s" link set lan0 up || return 1
    for ((i = 1; i <= nhosts; i++)); do
        h="$prefix-h$i" a4="198.18.1.$((7 * i + 3))" a6=$(printf 'fd00:5eed:0:1::%x' $((7 * i + 3)))
        _netlab_ns_add "$prefix" "h$i" || return 1
        _netlab_do ip link add "p-h$i" netns "$b" type veth peer name eth0 netns "$h" || return 1
        _netlab_do ip -n "$b" link set "p-h$i" master br0 up || return 1
        _netlab_do ip -n "$h" addr add "$a4/24" dev eth0 || return 1
        _netlab_do ip -n "$h" addr add "$a6/64" dev eth0 nodad || return 1
        _netlab_do ip -n "$h" link set eth0 up || return 1
        _netlab_do ip -n "$h" route add default via 198.18.1.1 || return 1
        _netlab_do ip -n "$h" -6 route add default via fd00:5eed:0:1::1 || return 1
        echo "$a4 ${beh[$i]:-up}" >>"$state/lan"
        echo "$a6 ${beh[$i]:-up}" >>"$state/lan"
        if [ "${beh[$i]:-up}" != up ]; then
            rules=$(_netlab_rules "${beh[$i]}" "meta nfproto ipv4" "meta nfproto ipv6" | sed 's/^/        /')
            _netlab_nft "$h" inet netlab_host "table inet netlab_host {
    chain input {
        type filter hook input priority filter; policy accept;
        icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept
$rules
    }
}" || return 1
        fi
    done
    _netlab_wait_lan "$prefix"
}

# The bridge's ports come up asynchronously: wait until all are up (10 s at most).
_netlab_wait_lan() {
    local prefix=$1 i
    for ((i = 0; i < 100; i++)); do
        ip -n "$prefix-b" -br link show master br0 | awk '$2 != "UP" {bad=1} END {exit bad}' && return 0
        sleep 0.1
    done
    _netlab_log "the bridge ports of $prefix-b did not come up"
    return 1
}

# netlab_lan_hosts PREFIX [4|6]: the LAN hosts' addresses (both families by default).
#   netlab_lan_hosts "$prefix" 6
netlab_lan_hosts() {
    local f
    f="$(_netlab_state "$1")/lan"
    [ -f "$f" ] || return 0
    case "${2:-}" in
        4) awk '$1 !~ /:/ {print $1}' "$f" ;;
        6) awk '$1 ~ /:/ {print $1}' "$f" ;;
        *) awk '{print $1}' "$f" ;;
    esac
}

# ---- a pool of source addresses --------------------------------------------------

# netlab_pool PREFIX N4 [N6]: N4 IPv4 source addresses (198.19.255.1 ..., at most 254;
# `ip route add local 198.19.255.0/24 dev lo` in the scanner) and N6 IPv6 ones
# (fd00:5eed::ff:1 ..., added to the scanner's veth-s with nodad; default N4), and the
# routes back to them in every target and LAN host, also ones made later.
# netlab_pool_list prints them for --source-ip.
#   netlab_pool "$prefix" 16 16
netlab_pool() {
    local prefix=${1:?usage: netlab_pool PREFIX N4 [N6]} n4=${2:?N4} n6=${3:-$2} i state f role
    if ! [[ $n4 =~ ^[0-9]+$ ]] || [ "$n4" -gt 254 ]; then _netlab_log "netlab_pool: N4 0-254"; return 1; fi
    if ! [[ $n6 =~ ^[0-9]+$ ]] || [ "$n6" -gt 65534 ]; then _netlab_log "netlab_pool: N6 0-65534"; return 1; fi
    state=$(_netlab_state "$prefix")
    if [ -s "$state/pool4" ] || [ -s "$state/pool6" ]; then
        _netlab_log "netlab_pool: $prefix has a pool already"
        return 1
    fi
    : >"$state/pool4"
    : >"$state/pool6"
    if [ "$n4" -gt 0 ]; then
        _netlab_do ip -n "$prefix-s" route add local "$NETLAB_POOL_NET" dev lo || return 1
        for ((i = 1; i <= n4; i++)); do echo "${NETLAB_POOL_NET%.*}.$i"; done >"$state/pool4"
    fi
    for ((i = 1; i <= n6; i++)); do
        printf 'fd00:5eed::ff:%x\n' "$i" >>"$state/pool6"
        _netlab_do ip -n "$prefix-s" addr add "$(printf 'fd00:5eed::ff:%x' "$i")/64" dev veth-s nodad || return 1
    done
    for f in /run/netns/"$prefix"-t*; do
        role=${f##*/} role=${role#"$prefix"-}
        [[ $role =~ ^t[0-9]*$ ]] || continue
        _netlab_pool_routes "$prefix" "$role" || return 1
    done
    # LAN hosts have default routes through the scanner: nothing to add.
}

_netlab_pool_routes() {  # PREFIX ROLE: the way back from a target to the pool
    local prefix=$1 role=$2 t="$1-$2" s4 s6
    _netlab_link "$role" || return 1
    s4=$_nl_s4 s6=$_nl_s6
    # In table local: a routed range the target answers (netlab_range's local
    # 198.19.0.0/16) would otherwise take the pool's addresses for its own.
    if [ -s "$(_netlab_state "$prefix")/pool4" ]; then
        _netlab_do ip -n "$t" route add "$NETLAB_POOL_NET" via "$s4" table local || return 1
    fi
    # The IPv6 pool is on the first target's link; the others route to it.
    if [ "$role" != t ] && [ -s "$(_netlab_state "$prefix")/pool6" ]; then
        _netlab_do ip -n "$t" -6 route add "$NETLAB_POOL_NET6" via "$s6" || return 1
    fi
}

# netlab_pool_list PREFIX [4|6]: the pool's addresses, comma-separated (both
# families by default), e.g. 198.19.255.1,198.19.255.2,fd00:5eed::ff:1,...
#   scanfw --source-ip "$(netlab_pool_list "$prefix" 4)" ...
netlab_pool_list() {
    local state
    state=$(_netlab_state "${1:?usage: netlab_pool_list PREFIX [4|6]}")
    case "${2:-}" in
        4) cat "$state/pool4" ;;
        6) cat "$state/pool6" ;;
        *) cat "$state/pool4" "$state/pool6" ;;
    esac 2>/dev/null | paste -sd, -
}
