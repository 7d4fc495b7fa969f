# shellcheck shell=bash
# svclab.sh -- real daemons from Debian's packages, and hostile listeners, in a
# netlab target namespace: what service detection (-sV) is tested and benchmarked
# against (tests/integration/services.sh, bench/v1.sh). Source it after netlab.sh,
# root needed.
#
#   source tests/lib/netlab.sh; source tests/lib/svclab.sh
#   svclab_ensure_daemons                       # apt-get install what is missing
#   netlab_up "$prefix" --bare                  # no netlab listeners, no firewall
#   svclab_start "$prefix" "$workdir" [--hostile] [--tune-for N]
#   svclab_wait_bound "$prefix" || exit 1
#
# svclab_start writes every configuration into WORKDIR (which the caller removes),
# and starts in the target namespace (PREFIX-t), each bound to every address
# (IPv4 and IPv6, and any AnyIP range netlab_range added):
#   vsftpd     21/tcp, 2121/tcp            (FTP; one instance per port)
#   sshd       22/tcp, 2222/tcp            (a host key made here)
#   nginx      80/tcp, 8088/tcp            (HTTP)
#              443/tcp, 8443/tcp           (HTTPS, a self-signed certificate made here)
#   dnsmasq    53/tcp+udp, 5300/tcp+udp    (DNS only: no DHCP, no upstream, no hosts)
# and with --hostile (python3 listeners, svclab_hostile.py):
#   40001/tcp  accepts and never sends a byte
#   40002/tcp  accepts and closes at once (nmap: tcpwrapped)
#   40003/tcp  accepts and streams binary bytes forever
#   40004/tcp  a banner of terminal escape sequences, control and 8-bit bytes, then silence
# --tune-for N: limits raised for N scanners' connections at once (sshd's MaxStartups,
# nginx's worker_connections), for the benchmark's 32 addresses.
# Every process runs inside the target namespace, so netlab_down (registered by
# netlab_up) stops them all, also on failure; svclab_start registers nothing else.
# Each daemon runs in a mount namespace of its own with a private /run (sshd wants
# /run/sshd), so nothing of the host's /run is used or changed. Logs: WORKDIR/*.log.

[ -n "${_SVCLAB_LOADED:-}" ] && return 0
_SVCLAB_LOADED=1
SVCLAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# port/proto of each daemon (SVCLAB_DAEMON) and the hostile ones (SVCLAB_HOSTILE).
# shellcheck disable=SC2034
{
    declare -gA SVCLAB_DAEMON=(
        [21/tcp]=vsftpd [2121/tcp]=vsftpd
        [22/tcp]=sshd [2222/tcp]=sshd
        [80/tcp]=nginx [8088/tcp]=nginx
        [443/tcp]=nginx-tls [8443/tcp]=nginx-tls
        [53/tcp]=dnsmasq [5300/tcp]=dnsmasq [53/udp]=dnsmasq [5300/udp]=dnsmasq
    )
    declare -gA SVCLAB_HOSTILE=(
        [40001/tcp]=silent [40002/tcp]=closer [40003/tcp]=streamer [40004/tcp]=escapes
    )
    SVCLAB_TCP_PORTS=(21 2121 22 2222 80 8088 443 8443 53 5300)
    SVCLAB_UDP_PORTS=(53 5300)
    SVCLAB_HOSTILE_PORTS=(40001 40002 40003 40004)
}

_svclab_log() { echo "svclab: $*" >&2; }

# svclab_ensure_daemons: install the daemons' packages with apt-get if a program is
# missing (as scripts/setup.sh does: a policy-rc.d keeps apt from starting them as
# system services). Returns 1 when that is impossible (not root, no apt-get).
svclab_ensure_daemons() {
    local -A pkg_of=(
        [/usr/sbin/sshd]=openssh-server [/usr/sbin/nginx]=nginx-light [/usr/sbin/dnsmasq]=dnsmasq
        [/usr/sbin/vsftpd]=vsftpd [openssl]=openssl [ssh-keygen]=openssh-client [python3]=python3
    )
    local missing=() cmd own_policy=0 rc=0
    for cmd in "${!pkg_of[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_of[$cmd]}")
    done
    [ "${#missing[@]}" = 0 ] && return 0
    command -v apt-get >/dev/null || { _svclab_log "missing ${missing[*]} and no apt-get"; return 1; }
    _svclab_log "installing ${missing[*]}"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq -o DPkg::Lock::Timeout=600 &&
        apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"; } >&2 || rc=1
    [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return "$rc"
}

# _svclab_in_target PREFIX WORKDIR NAME CMD...: CMD in the target namespace, in a mount
# namespace of its own with a private /run; output to WORKDIR/NAME.log.
_svclab_in_target() {
    local prefix=$1 work=$2 name=$3
    shift 3
    ip netns exec "$prefix-t" unshare --mount --propagation private \
        sh -c 'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec "$@"' sh "$@" \
        >"$work/$name.log" 2>&1 </dev/null &
}

# svclab_start PREFIX WORKDIR [--hostile] [--tune-for N]
svclab_start() {
    local prefix=${1:?usage: svclab_start PREFIX WORKDIR [--hostile] [--tune-for N]} work=${2:?WORKDIR}
    shift 2
    local hostile=0 conns=256 p
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --hostile) hostile=1; shift ;;
            --tune-for) conns=$(( $2 * 64 > 256 ? $2 * 64 : 256 )); shift 2 ;;
            *) _svclab_log "svclab_start: unknown option '$1'"; return 1 ;;
        esac
    done
    chmod 755 "$work"  # daemons that drop privileges read their files here

    # sshd, with an ed25519 host key of its own.
    ssh-keygen -q -t ed25519 -N '' -C '' -f "$work/ssh_host_ed25519_key" || return 1
    cat >"$work/sshd_config" <<EOF
Port 22
Port 2222
HostKey $work/ssh_host_ed25519_key
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups $conns
LoginGraceTime 30
EOF
    _svclab_in_target "$prefix" "$work" sshd /usr/sbin/sshd -D -e -f "$work/sshd_config"

    # nginx: HTTP on 80 and 8088, HTTPS on 443 and 8443 with a self-signed certificate.
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=scanfw-test" \
        -keyout "$work/tls.key" -out "$work/tls.crt" >"$work/openssl.log" 2>&1 ||
        { cat "$work/openssl.log" >&2; _svclab_log "openssl could not make a certificate"; return 1; }
    mkdir -p "$work/www" "$work/nginx-tmp"
    echo "scanfw services test" >"$work/www/index.html"
    cat >"$work/nginx.conf" <<EOF
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
worker_rlimit_nofile $(( conns * 4 ));
events { worker_connections $(( conns * 2 )); }
http {
    access_log off;
    client_body_temp_path $work/nginx-tmp/body;
    proxy_temp_path $work/nginx-tmp/proxy;
    fastcgi_temp_path $work/nginx-tmp/fastcgi;
    uwsgi_temp_path $work/nginx-tmp/uwsgi;
    scgi_temp_path $work/nginx-tmp/scgi;
    server {
        listen 80; listen [::]:80; listen 8088; listen [::]:8088;
        root $work/www;
    }
    server {
        listen 443 ssl; listen [::]:443 ssl; listen 8443 ssl; listen [::]:8443 ssl;
        ssl_certificate $work/tls.crt;
        ssl_certificate_key $work/tls.key;
        root $work/www;
    }
}
EOF
    _svclab_in_target "$prefix" "$work" nginx /usr/sbin/nginx -c "$work/nginx.conf" -e "$work/nginx-error.log"

    # dnsmasq: DNS only (no DHCP, no upstream, no /etc/hosts, not its system
    # configuration), one instance per port.
    for p in 53 5300; do
        _svclab_in_target "$prefix" "$work" "dnsmasq-$p" /usr/sbin/dnsmasq --keep-in-foreground \
            --conf-file=/dev/null --pid-file= --no-resolv --no-hosts --port="$p" --user=root \
            --log-facility=- --dns-forward-max=1000
    done

    # vsftpd: one instance per port, its own configuration only.
    mkdir -p "$work/vsftpd-empty"
    for p in 21 2121; do
        cat >"$work/vsftpd-$p.conf" <<EOF
listen=NO
listen_ipv6=YES
listen_port=$p
background=NO
anonymous_enable=NO
local_enable=NO
write_enable=NO
xferlog_enable=NO
seccomp_sandbox=NO
secure_chroot_dir=$work/vsftpd-empty
nopriv_user=nobody
max_clients=0
max_per_ip=0
vsftpd_log_file=$work/vsftpd-$p.xfer.log
EOF
        _svclab_in_target "$prefix" "$work" "vsftpd-$p" /usr/sbin/vsftpd "$work/vsftpd-$p.conf"
    done

    if [ "$hostile" = 1 ]; then
        _svclab_in_target "$prefix" "$work" hostile python3 "$SVCLAB_DIR/svclab_hostile.py" \
            --silent 40001 --closer 40002 --streamer 40003 --escapes 40004
    fi
    SVCLAB_WITH_HOSTILE=$hostile
}

# svclab_wait_bound PREFIX [SECONDS]: wait until every port svclab_start started is
# bound in the target namespace (default 15 s); prints the missing ones and the
# daemons' logs (from SVCLAB_WORK, if set) otherwise.
svclab_wait_bound() {
    local prefix=$1 secs=${2:-15} tcp udp p i missing=()
    local tcp_ports=("${SVCLAB_TCP_PORTS[@]}")
    [ "${SVCLAB_WITH_HOSTILE:-0}" = 1 ] && tcp_ports+=("${SVCLAB_HOSTILE_PORTS[@]}")
    for ((i = 0; i < secs * 10; i++)); do
        tcp=$(ip netns exec "$prefix-t" ss -Hltn | awk '{print $4}')
        udp=$(ip netns exec "$prefix-t" ss -Hlun | awk '{print $4}')
        missing=()
        for p in "${tcp_ports[@]}"; do grep -Eq ":$p\$" <<<"$tcp" || missing+=("$p/tcp"); done
        for p in "${SVCLAB_UDP_PORTS[@]}"; do grep -Eq ":$p\$" <<<"$udp" || missing+=("$p/udp"); done
        [ "${#missing[@]}" = 0 ] && return 0
        sleep 0.1
    done
    _svclab_log "not listening after $secs s: ${missing[*]}"
    return 1
}
