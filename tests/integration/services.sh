#!/usr/bin/env bash
# services.sh SERVICE_PROBE_TOOL
#
# Version detection (-sV) against real daemons, compared with nmap. Builds a private
# test network (testnet.sh), stops its stand-in listeners, and starts in the target
# namespace, each with a configuration written here into a temporary directory and
# each on its standard port and on another one:
#   sshd (host key made here), nginx (HTTP; HTTPS with a certificate made here),
#   dnsmasq (DNS over UDP and TCP, no DHCP), vsftpd (FTP), a TCP port that accepts
#   and says nothing, and one that accepts and closes at once (tcpwrapped).
# Then runs the library (SERVICE_PROBE_TOOL, tests/tools/service_probe.cpp) and
# `nmap -sV -Pn -n` on the same ports, over IPv4 and IPv6 at the same time, and
# requires name, product, version, extrainfo and tunnel to be identical for every
# port, and a few of them to be what the daemons are (so that two empty answers
# cannot pass). Everything it started and wrote goes away on exit, also on failure.
#
# Exit: 0 all identical, 1 a failure, 77 skipped (not root). A missing daemon is a
# failure: scripts/setup.sh installs them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/testnet.sh
source "$here/testnet.sh"

[ $# -eq 1 ] || { echo "usage: $0 SERVICE_PROBE_TOOL" >&2; exit 2; }
tool=$1

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, daemons on ports below 1024)"
[ -x "$tool" ] || die "service probe tool '$tool' not found or not executable"
tool=$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")
for t in ip nft ss nmap jq openssl python3 timeout unshare ssh-keygen \
         /usr/sbin/sshd /usr/sbin/nginx /usr/sbin/dnsmasq /usr/sbin/vsftpd; do
    command -v "$t" >/dev/null || die "$t is not installed (scripts/setup.sh installs it)"
done

# ---- the layout ----------------------------------------------------------------

# port/proto -> what runs there. Ports avoid the ones testnet.sh's firewall rules
# drop or reject (TCP 8080-8082, UDP 161-162).
declare -A DAEMON=(
    [21/tcp]=vsftpd [2121/tcp]=vsftpd
    [22/tcp]=sshd [2222/tcp]=sshd
    [80/tcp]=nginx [8088/tcp]=nginx
    [443/tcp]=nginx-tls [10443/tcp]=nginx-tls
    [53/tcp]=dnsmasq [5300/tcp]=dnsmasq [53/udp]=dnsmasq [5300/udp]=dnsmasq
    [40001/tcp]=silent [40002/tcp]=closer
)
TCP_PORTS=(21 2121 22 2222 80 8088 443 10443 53 5300 40001 40002)
UDP_PORTS=(53 5300)
# What the library must say whatever nmap says: name, and a word the product has.
declare -A MUST_NAME=(
    [21/tcp]=ftp [2121/tcp]=ftp [22/tcp]=ssh [2222/tcp]=ssh [80/tcp]=http [8088/tcp]=http
    [443/tcp]=http [10443/tcp]=http [53/tcp]=domain [53/udp]=domain [40002/tcp]=tcpwrapped [40001/tcp]=""
)
declare -A MUST_PRODUCT=(
    [21/tcp]=vsftpd [22/tcp]=OpenSSH [2222/tcp]=OpenSSH [80/tcp]=nginx [443/tcp]=nginx [10443/tcp]=nginx
    [53/tcp]=dnsmasq [53/udp]=dnsmasq
)
declare -A MUST_TUNNEL=([443/tcp]=ssl [10443/tcp]=ssl [80/tcp]="" [22/tcp]="")

# ---- network and daemons ------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/services.XXXXXX")
chmod 755 "$work"  # daemons that drop privileges read their files here
testnet_on_exit "rm -rf $(printf '%q' "$work")"
prefix=$(testnet_prefix svc)
testnet_up "$prefix"
echo "== services: testnet $prefix up, work dir $work"
T4=$TESTNET_TARGET_IP T6=$TESTNET_TARGET_IP6

# testnet.sh's listeners hold 22, 80 and 53: they go, the real daemons come.
for pid in $(ip netns pids "$prefix-t"); do kill "$pid" 2>/dev/null || true; done
for _ in $(seq 50); do [ -z "$(ip netns pids "$prefix-t")" ] && break; sleep 0.1; done
[ -z "$(ip netns pids "$prefix-t")" ] || die "testnet listeners did not stop"

# in_target NAME CMD...: start CMD in the target namespace, in its own mount
# namespace with a private /run (sshd wants /run/sshd; nothing of the host's /run
# is used or changed), output to $work/NAME.log.
in_target() {
    local name=$1
    shift
    testnet_exec_target "$prefix" unshare --mount --propagation private \
        sh -c 'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec "$@"' sh "$@" \
        >"$work/$name.log" 2>&1 </dev/null &
}

# sshd, with an ed25519 host key of its own.
ssh-keygen -q -t ed25519 -N '' -C '' -f "$work/ssh_host_ed25519_key"
cat >"$work/sshd_config" <<EOF
Port 22
Port 2222
HostKey $work/ssh_host_ed25519_key
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
EOF
in_target sshd /usr/sbin/sshd -D -e -f "$work/sshd_config"

# nginx: HTTP on 80 and 8088, HTTPS on 443 and 10443 with a self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=scanfw-test" \
    -keyout "$work/tls.key" -out "$work/tls.crt" >"$work/openssl.log" 2>&1 ||
    { cat "$work/openssl.log"; die "openssl could not make a certificate"; }
mkdir -p "$work/www" "$work/nginx-tmp"
echo "scanfw services test" >"$work/www/index.html"
cat >"$work/nginx.conf" <<EOF
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 256; }
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
        listen 443 ssl; listen [::]:443 ssl; listen 10443 ssl; listen [::]:10443 ssl;
        ssl_certificate $work/tls.crt;
        ssl_certificate_key $work/tls.key;
        root $work/www;
    }
}
EOF
in_target nginx /usr/sbin/nginx -c "$work/nginx.conf" -e "$work/nginx-error.log"

# dnsmasq: DNS only (no DHCP, no upstream, no /etc/hosts, not its system config),
# one instance per port.
for p in 53 5300; do
    in_target "dnsmasq-$p" /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= \
        --no-resolv --no-hosts --port="$p" --user=root --log-facility=-
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
vsftpd_log_file=$work/vsftpd-$p.xfer.log
EOF
    in_target "vsftpd-$p" /usr/sbin/vsftpd "$work/vsftpd-$p.conf"
done

# A port that accepts and says nothing; one that accepts and closes at once.
cat >"$work/plain.py" <<'EOF'
import socket, sys, threading
def serve(port, close_at_once):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(128)
    held = []
    while True:
        c, _ = s.accept()
        if close_at_once:
            c.close()
        else:
            held.append(c)  # kept open, never written to
threading.Thread(target=serve, args=(int(sys.argv[2]), True), daemon=True).start()
serve(int(sys.argv[1]), False)
EOF
in_target plain python3 "$work/plain.py" 40001 40002

# Wait until every port is bound (10 s).
for _ in $(seq 100); do
    tcp=$(ip netns exec "$prefix-t" ss -Hltn | awk '{print $4}')
    udp=$(ip netns exec "$prefix-t" ss -Hlun | awk '{print $4}')
    missing=()
    for p in "${TCP_PORTS[@]}"; do grep -Eq ":$p\$" <<<"$tcp" || missing+=("$p/tcp"); done
    for p in "${UDP_PORTS[@]}"; do grep -Eq ":$p\$" <<<"$udp" || missing+=("$p/udp"); done
    [ "${#missing[@]}" = 0 ] && break
    sleep 0.1
done
if [ "${#missing[@]}" != 0 ]; then
    for f in "$work"/*.log; do echo "--- $f"; cat "$f"; done
    die "not listening after 10 s: ${missing[*]}"
fi
echo "== daemons up: ${!DAEMON[*]}"

# ---- both scanners, both families, at once --------------------------------------

ours=()
for p in "${TCP_PORTS[@]}"; do ours+=("$p/tcp"); done
for p in "${UDP_PORTS[@]}"; do ours+=("$p/udp"); done
nmap_ports="T:$(IFS=,; echo "${TCP_PORTS[*]}"),U:$(IFS=,; echo "${UDP_PORTS[*]}")"

# Each at most 250 s (the slowest port, the silent one, takes nmap about 160 s:
# every probe of rarity 7 or less waits its full time), under ctest's TIMEOUT.
t0=$(date +%s)
pids=()
for fam in 4 6; do
    target=$T4 flag=()
    [ "$fam" = 6 ] && target=$T6 flag=(-6)
    testnet_exec_scanner "$prefix" timeout 250 "$tool" "$target" "${ours[@]}" \
        >"$work/ours$fam.jsonl" 2>"$work/ours$fam.err" &
    pids+=($!)
    testnet_exec_scanner "$prefix" timeout 250 nmap "${flag[@]}" -sV -sS -sU -Pn -n -p "$nmap_ports" \
        -oX "$work/nmap$fam.xml" "$target" >"$work/nmap$fam.out" 2>&1 &
    pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
echo "== both scanners done in $(( $(date +%s) - t0 )) s"
if [ "$rc" != 0 ]; then
    for f in "$work"/ours*.err "$work"/nmap*.out; do echo "--- $f"; cat "$f"; done
    die "a scanner failed or ran out of time"
fi

# ---- compare ----------------------------------------------------------------------

# Both as lines "port/proto<TAB>name<TAB>product<TAB>version<TAB>extrainfo<TAB>tunnel";
# a port nmap names only from its table (method "table") counts as unidentified.
read_nmap() {
    python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
for port in ET.parse(sys.argv[1]).iter("port"):
    s = port.find("service")
    f = dict(name="", product="", version="", extrainfo="", tunnel="")
    if s is not None and s.get("method") == "probed":
        f = {k: s.get(k) or "" for k in f}
    print("\t".join([f'{port.get("portid")}/{port.get("protocol")}', f["name"], f["product"],
                     f["version"], f["extrainfo"], f["tunnel"]]))
EOF
}
read_ours() {
    jq -r '[ "\(.port)/\(.protocol)", .name, .product, .version, .extrainfo, .tunnel ] | @tsv' "$1"
}

fail=0
problem() { echo "FAIL: $*"; fail=1; }
for fam in 4 6; do
    declare -A N=() O=()
    while IFS=$'\t' read -r key rest; do N[$key]=$rest; done < <(read_nmap "$work/nmap$fam.xml")
    while IFS=$'\t' read -r key rest; do O[$key]=$rest; done < <(read_ours "$work/ours$fam.jsonl")
    echo
    echo "IPv$fam  (fields: name | product | version | extrainfo | tunnel)"
    printf '%-4s %-10s %-10s %-62s %s\n' "" PORT DAEMON "nmap -sV" "scanfw services"
    for key in $(printf '%s\n' "${!DAEMON[@]}" | sort -t/ -k2,2 -k1n); do
        n=${N[$key]-MISSING} o=${O[$key]-MISSING}
        verdict=ok
        [ "$n" = "$o" ] || { verdict=FAIL; problem "IPv$fam $key: nmap says '${n//$'\t'/ | }', we say '${o//$'\t'/ | }'"; }
        # A tab is blank to read, which would merge empty fields: split on \x1f.
        IFS=$'\x1f' read -r oname oproduct _ _ otunnel <<<"${o//$'\t'/$'\x1f'}"
        if [ -n "${MUST_NAME[$key]+x}" ] && [ "$oname" != "${MUST_NAME[$key]}" ]; then
            verdict=FAIL; problem "IPv$fam $key: name '$oname', expected '${MUST_NAME[$key]}'"
        fi
        if [ -n "${MUST_PRODUCT[$key]+x}" ] && [[ $oproduct != *"${MUST_PRODUCT[$key]}"* ]]; then
            verdict=FAIL; problem "IPv$fam $key: product '$oproduct' lacks '${MUST_PRODUCT[$key]}'"
        fi
        if [ -n "${MUST_TUNNEL[$key]+x}" ] && [ "$otunnel" != "${MUST_TUNNEL[$key]}" ]; then
            verdict=FAIL; problem "IPv$fam $key: tunnel '$otunnel', expected '${MUST_TUNNEL[$key]}'"
        fi
        printf '%-4s %-10s %-10s %-62s %s\n' "$verdict" "$key" "${DAEMON[$key]}" "${n//$'\t'/ | }" "${o//$'\t'/ | }"
    done
    unset N O
done

if [ "$fail" = 0 ]; then
    echo "== services: PASS"
else
    echo "--- our stderr (IPv4):"; tail -n 20 "$work/ours4.err"
    echo "== services: FAIL"
fi
exit "$fail"
