#!/usr/bin/env bash
# discovery.sh SCANFW CASE: host discovery against real kernels, side by side with
# nmap in the same scanner namespace (issue 13). Each case builds its own network
# (tests/lib/netlab.sh, a prefix unique to the run) and tears it down on exit, also
# on failure, SIGINT and SIGTERM.
#   range-FLAG  a routed range (198.19.0.0/27 mostly down, hosts that are up, down,
#               echo-only, timestamp-only, ack80-only, syn443-only; 198.19.1.0/28 up
#               but one): `scanfw -sn FLAG` and `nmap -sn -n FLAG` find the same up
#               hosts, the hosts netlab_up_hosts lists, with the same reasons and
#               TTLs where one probe alone can answer; runstats' hosts up/down/total
#               agree. FLAG: sn (the default set), PE, PP, PM, PS, PS22_443 (-PS22,443),
#               PA, PU.
#   range6      the same over IPv6 (fd00:5eed:0:ff::/123): -sn, -PE, -PS443, -PA
#   lan4, lan6  an Ethernet segment with 6 hosts (one drops all IP, one answers only
#               echo) and unused addresses: -sn (ARP, neighbour discovery) finds the
#               hosts nmap finds, each with its MAC, in -oX (<address addrtype="mac">)
#               and -oN ("MAC Address:"); -PE too, where nmap still asks by ARP
#   ports       port scans without -Pn on the range and the LAN: only hosts that are
#               up get port lines, every output carries host status and reason (XML
#               <status>, runstats, grepable Status:, -oJ), and ndiff against nmap's
#               XML shows no host or port difference
#   order       a -p- scan of the LAN and a /29 interrupted after 1 s: every host up is found and
#               has port results by then (discovery never waits behind port probes)
#   unpriv      as a user without privileges (uid 65534, no capabilities): scanfw
#               falls back to connect() and discovers with connect() to 80 and 443,
#               as nmap does unprivileged; the same up hosts and port states
# Exit: 0 pass, 1 fail, 77 skipped (not root, or nmap missing).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"
bin=${1:?usage: discovery.sh SCANFW CASE} case=${2:?usage: discovery.sh SCANFW CASE}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, raw sockets)"; exit 77; }
for tool in ip nft python3 jq nmap ndiff setpriv; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$bin" ] || { echo "FAIL: scanfw binary '$bin' not found" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/discovery.$case.XXXXXX")
chmod 755 "$work"
netlab_on_exit "rm -rf $(printf '%q' "$work")"
prefix=$(netlab_prefix "d${case//[^A-Za-z0-9]/}")

fail=0
problem() { echo "FAIL $*"; fail=1; }
ok() { echo "ok   $*"; }
check() {  # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else problem "$what"; fi
}
show() { echo "--- $1:"; cat "$1"; }
# In the background and waited for, so INT/TERM reach the trap (and the teardown) at once.
S() { netlab_exec_scanner "$prefix" "$@" & wait $!; }

# xml_hosts FILE: "ADDR STATE REASON TTL MAC" for each host of an nmap XML file, in
# address order (MAC "-" when none).
xml_hosts() {
    python3 - "$1" <<'EOF'
import ipaddress, sys, xml.etree.ElementTree as ET
rows = []
for h in ET.parse(sys.argv[1]).iter("host"):
    st = h.find("status")
    addr = mac = None
    for a in h.findall("address"):
        if a.get("addrtype") == "mac":
            mac = a.get("addr")
        else:
            addr = a.get("addr")
    rows.append((ipaddress.ip_address(addr), st.get("state"), st.get("reason"), st.get("reason_ttl"), mac or "-"))
for a, *rest in sorted(set(rows), key=lambda r: (r[0].version, int(r[0]))):
    print(a, *rest)
EOF
}
# xml_runstats FILE: "up down total" of <runstats><hosts>.
xml_runstats() {
    python3 -c 'import sys, xml.etree.ElementTree as ET
h = ET.parse(sys.argv[1]).find("runstats/hosts"); print(h.get("up"), h.get("down"), h.get("total"))' "$1"
}
up_of() { awk '$2 == "up" {print $1}' "$1"; }  # up_of HOSTS-FILE: the up addresses

# same DESCRIPTION FILE-A FILE-B: the files are equal.
same() {
    if diff -u "$2" "$3" >"$work/diff"; then
        ok "$1 ($(wc -l <"$3") lines)"
    else
        problem "$1:"
        cat "$work/diff"
    fi
}

# sweep NAME TARGETS... -- SCANFW-FLAGS -- NMAP-FLAGS: scanfw and nmap, one after the
# other in the scanner namespace, each with -oX; leaves $work/NAME.{scanfw,nmap}.xml
# and .hosts (xml_hosts).
sweep() {
    local name=$1 targets=() sf=() nf=()
    shift
    while [ "$1" != -- ]; do targets+=("$1"); shift; done
    shift
    while [ "$1" != -- ]; do sf+=("$1"); shift; done
    shift
    nf=("$@")
    local rc=0
    echo "+ scanfw ${sf[*]} ${targets[*]}"
    S timeout 120 "$bin" -q "${sf[@]}" -oX "$work/$name.scanfw.xml" -oN "$work/$name.scanfw.nmap" \
        -oG "$work/$name.scanfw.gnmap" -oJ "$work/$name.scanfw.jsonl" "${targets[@]}" \
        >"$work/$name.scanfw.out" 2>"$work/$name.scanfw.err" || rc=$?
    [ "$rc" = 0 ] || { problem "scanfw ${sf[*]} exited $rc"; show "$work/$name.scanfw.err"; }
    rc=0
    echo "+ nmap -n ${nf[*]} ${targets[*]}"
    S timeout 300 nmap -n "${nf[@]}" -oX "$work/$name.nmap.xml" -oN "$work/$name.nmap.nmap" \
        -oG "$work/$name.nmap.gnmap" "${targets[@]}" >"$work/$name.nmap.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || { problem "nmap ${nf[*]} exited $rc"; show "$work/$name.nmap.out"; }
    xml_hosts "$work/$name.scanfw.xml" >"$work/$name.scanfw.hosts"
    xml_hosts "$work/$name.nmap.xml" >"$work/$name.nmap.hosts"
}

# compare NAME WANT-FILE [EXACT-ADDRS]: scanfw's up set equals nmap's and the truth;
# for the addresses in EXACT-ADDRS (space-separated: hosts one probe alone can answer)
# reason and TTL equal nmap's; runstats agree.
compare() {
    local name=$1 want=$2 exact=${3:-}
    up_of "$work/$name.scanfw.hosts" >"$work/$name.scanfw.up"
    up_of "$work/$name.nmap.hosts" >"$work/$name.nmap.up"
    same "$name: scanfw's up hosts = nmap's" "$work/$name.nmap.up" "$work/$name.scanfw.up"
    same "$name: scanfw's up hosts = netlab_up_hosts" "$want" "$work/$name.scanfw.up"
    local a s n
    for a in $exact; do
        s=$(awk -v a="$a" '$1 == a && $2 == "up" {print $3, $4}' "$work/$name.scanfw.hosts")
        n=$(awk -v a="$a" '$1 == a && $2 == "up" {print $3, $4}' "$work/$name.nmap.hosts")
        [ -z "$n" ] && continue
        if [ "$s" = "$n" ]; then ok "$name: $a reason and ttl as nmap's: $s"; else problem "$name: $a: scanfw says '$s', nmap '$n'"; fi
    done
    # Hosts up: the same count in runstats; total: the addresses given.
    read -r su sd st < <(xml_runstats "$work/$name.scanfw.xml")
    read -r nu nd nt < <(xml_runstats "$work/$name.nmap.xml")
    check "$name: runstats hosts up=$su down=$sd total=$st, nmap's up=$nu down=$nd total=$nt" \
        test "$su $sd $st" = "$nu $nd $nt"
}

# The routed range: 198.19.0.0/27 down by default with hosts of each behaviour, and
# 198.19.1.0/28 up by default with one host down.
RANGE_HOSTS="198.19.0.1=up 198.19.0.2=echo 198.19.0.3=timestamp 198.19.0.4=ack80 198.19.0.5=syn443 198.19.0.6=down
    198.19.0.9=up 198.19.0.10=echo 198.19.0.11=timestamp 198.19.0.12=ack80 198.19.0.13=syn443 198.19.0.30=up"
RANGE_EXACT="198.19.0.2 198.19.0.3 198.19.0.4 198.19.0.5 198.19.0.10 198.19.0.11 198.19.0.12 198.19.0.13"
RANGE_TARGETS=(198.19.0.0/27 198.19.1.0/28)
RANGE6_HOSTS="fd00:5eed:0:ff::1=up fd00:5eed:0:ff::2=echo fd00:5eed:0:ff::3=timestamp fd00:5eed:0:ff::4=ack80
    fd00:5eed:0:ff::5=syn443 fd00:5eed:0:ff::6=down fd00:5eed:0:ff::11=up fd00:5eed:0:ff::12=echo"
RANGE6_EXACT="fd00:5eed:0:ff::2 fd00:5eed:0:ff::4 fd00:5eed:0:ff::5 fd00:5eed:0:ff::12"
range_up() {
    netlab_up "$prefix"
    # shellcheck disable=SC2086 # lists of words
    netlab_range "$prefix" 198.19.0.0/24 fd00:5eed:0:ff::/120 default=down $RANGE_HOSTS $RANGE6_HOSTS
    netlab_range "$prefix" 198.19.1.0/24 198.19.1.7=down
}

case "$case" in
range-*)
    flag=${case#range-}
    # The flag, and the probes of netlab_up_hosts it stands for ("none": only hosts
    # that answer everything; Linux answers no address mask request at all).
    case "$flag" in
        sn) sflags=() probes=echo,timestamp,ack80,syn443 ;;
        PE) sflags=(-PE) probes=echo ;;
        PP) sflags=(-PP) probes=timestamp ;;
        PM) sflags=(-PM) probes=netmask ;;
        PS) sflags=(-PS) probes=none ;;                # port 80: a listener on "up" hosts
        PS22_443) sflags=('-PS22,443') probes=syn443 ;;
        PA) sflags=(-PA) probes=ack80 ;;
        PU) sflags=(-PU) probes=none ;;                # 40125: port unreachable from "up" hosts
        *) echo "unknown case $case" >&2; exit 2 ;;
    esac
    range_up
    netlab_up_hosts "$prefix" --probes "$probes" "${RANGE_TARGETS[@]}" >"$work/want"
    if [ "$flag" = PM ]; then : >"$work/want"; fi   # no Linux host answers -PM
    sweep "$flag" "${RANGE_TARGETS[@]}" -- -sn "${sflags[@]}" -- -sn "${sflags[@]}"
    compare "$flag" "$work/want" "$RANGE_EXACT"
    # Without -v neither lists the hosts that are down (nmap's rule).
    check "$flag: as many <host> entries as nmap's XML" \
        test "$(wc -l <"$work/$flag.scanfw.hosts")" = "$(wc -l <"$work/$flag.nmap.hosts")"
    check "$flag: the grepable output says Status: Up for each up host" \
        test "$(grep -c 'Status: Up' "$work/$flag.scanfw.gnmap" || true)" = "$(wc -l <"$work/want")"
    ;;
range6)
    range_up
    for f in sn PE PS443 PA; do
        case "$f" in
            sn) sflags=() probes=echo,timestamp,ack80,syn443 ;;
            PE) sflags=(-PE) probes=echo ;;
            PS443) sflags=(-PS443) probes=syn443 ;;
            PA) sflags=(-PA) probes=ack80 ;;
        esac
        netlab_up_hosts "$prefix" --probes "$probes" fd00:5eed:0:ff::/123 >"$work/want"
        sweep "6$f" fd00:5eed:0:ff::/123 -- -sn "${sflags[@]}" -- -6 -sn "${sflags[@]}"
        compare "6$f" "$work/want" "$RANGE6_EXACT"
    done
    ;;
lan4 | lan6)
    netlab_up "$prefix" --bare
    netlab_lan "$prefix" 6 3=down 4=echo
    if [ "$case" = lan4 ]; then fam=4 net=198.18.1.0/26 self=198.18.1.1 six=(); else
        fam=6 net=fd00:5eed:0:1::/122 self=fd00:5eed:0:1::1 six=(-6); fi
    # The truth: every LAN host (ARP and ND reach a host that drops all IP), and the
    # scanner's own address, which nmap lists up (localhost-response).
    { netlab_up_hosts "$prefix" --probes arp "$net"; echo "$self"; } |
        python3 -c 'import ipaddress, sys
for a in sorted({ipaddress.ip_address(l.strip()) for l in sys.stdin if l.strip()}, key=int): print(a)' >"$work/want"
    # MACs, as nmap prints them (upper case).
    for ((i = 1; i <= 6; i++)); do
        a=$(netlab_lan_hosts "$prefix" "$fam" | sed -n "${i}p")
        echo "$a $(netlab_mac "$prefix" "h$i" eth0 | tr a-f A-F)"
    done | sort >"$work/macs.want"
    sweep sn "$net" -- -sn -- "${six[@]}" -sn
    compare sn "$work/want" "$(netlab_lan_hosts "$prefix" "$fam" | paste -sd' ')"
    awk '$5 != "-" {print $1, $5}' "$work/sn.scanfw.hosts" | sort >"$work/macs.scanfw"
    awk '$5 != "-" {print $1, $5}' "$work/sn.nmap.hosts" | sort >"$work/macs.nmap"
    same "$case: MACs in scanfw's XML = the hosts' own" "$work/macs.want" "$work/macs.scanfw"
    same "$case: MACs in scanfw's XML = nmap's" "$work/macs.nmap" "$work/macs.scanfw"
    # Normal output: "MAC Address: XX:... (Vendor)" under each host's report.
    for o in scanfw nmap; do
        awk '/scan report for/ {h = $NF} /^MAC Address:/ {print h, $3}' "$work/sn.$o.nmap" | sort >"$work/macs.$o.normal"
    done
    same "$case: MAC Address lines of scanfw's -oN = the hosts' own" "$work/macs.want" "$work/macs.scanfw.normal"
    same "$case: MAC Address lines of scanfw's -oN = nmap's" "$work/macs.nmap.normal" "$work/macs.scanfw.normal"
    # -PE: nmap still asks a host on the segment by ARP / ND, so every host is up.
    sweep PE "$net" -- -sn -PE -- "${six[@]}" -sn -PE
    compare PE "$work/want"
    ;;
ports)
    range_up
    netlab_lan "$prefix" 6 3=down 4=echo
    targets=(198.19.0.0/28 198.19.1.0/29 198.18.1.0/27)
    ports=22,80,113,443
    netlab_up_hosts "$prefix" "${targets[@]}" >"$work/want"
    echo 198.18.1.1 >>"$work/want"
    sort -V -o "$work/want" "$work/want"
    base=$work/p.scanfw
    echo "+ scanfw -p $ports --reason -oA $base ${targets[*]}"
    rc=0
    S timeout 120 "$bin" -q -p "$ports" --reason -oA "$base" "${targets[@]}" >"$work/p.out" 2>"$work/p.err" || rc=$?
    [ "$rc" = 0 ] || { problem "scanfw exited $rc"; show "$work/p.err"; }
    rc=0
    echo "+ nmap -n -p $ports --reason -oA $work/p.nmap ${targets[*]}"
    S timeout 300 nmap -n -p "$ports" --reason -oA "$work/p.nmap" "${targets[@]}" >"$work/p.nmap.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || { problem "nmap exited $rc"; show "$work/p.nmap.out"; }
    xml_hosts "$base.xml" >"$work/p.scanfw.hosts"
    xml_hosts "$work/p.nmap.xml" >"$work/p.nmap.hosts"
    up_of "$work/p.scanfw.hosts" | sort -V >"$work/p.scanfw.up"
    same "ports: hosts up = the truth" "$work/want" "$work/p.scanfw.up"
    up_of "$work/p.nmap.hosts" | sort -V >"$work/p.nmap.up"
    same "ports: hosts up = nmap's" "$work/p.nmap.up" "$work/p.scanfw.up"
    # Port lines: only for up hosts, and the same as nmap's (XML <port> and <extraports>).
    python3 - "$base.xml" >"$work/p.scanfw.ports" <<'EOF'
import sys, xml.etree.ElementTree as ET
for h in ET.parse(sys.argv[1]).iter("host"):
    addr = next(a.get("addr") for a in h.findall("address") if a.get("addrtype") != "mac")
    up = h.find("status").get("state")
    for p in h.iter("port"):
        print(addr, up, p.get("portid"), p.find("state").get("state"))
    for e in h.iter("extraports"):
        print(addr, up, "extra", e.get("state"), e.get("count"))
EOF
    check "ports: no port line for a host that is down" \
        test "$(awk '$2 != "up"' "$work/p.scanfw.ports" | wc -l)" = 0
    check "ports: every up host has its 4 ports in the XML" \
        test "$(awk '$3 != "extra" {n[$1]++} $3 == "extra" {n[$1] += $5} END {for (h in n) if (n[h] != 4) bad++; print bad + 0}' \
            "$work/p.scanfw.ports")" = 0
    ndiff "$work/p.nmap.xml" "$base.xml" >"$work/ndiff.txt" || true
    if grep -Eq '^[-+ ]?[0-9]+/(tcp|udp) |^[-+]Not shown|^[-+]?[0-9a-f.:]+.*(up|down)|Host is|^[-+][0-9]' "$work/ndiff.txt"; then
        problem "ports: ndiff nmap.xml scanfw.xml shows host or port differences:"
        cat "$work/ndiff.txt"
    else
        ok "ports: ndiff shows no host or port difference"
    fi
    rc=0
    ndiff "$work/p.nmap.xml" "$base.xml" >"$work/ndiff-all.txt" || rc=$?
    check "ports: ndiff finds no difference at all (exit $rc)" test "$rc" = 0
    [ "$rc" = 0 ] || cat "$work/ndiff-all.txt"
    # Status and reason in every format.
    read -r su sd st < <(xml_runstats "$base.xml")
    read -r nu nd nt < <(xml_runstats "$work/p.nmap.xml")
    check "ports: runstats hosts up=$su down=$sd total=$st = nmap's ($nu $nd $nt)" test "$su $sd $st" = "$nu $nd $nt"
    check "ports: XML status of every host has state and reason" \
        test "$(grep -c '<status state="\(up\|down\)" reason="[a-z-]\+" reason_ttl="[0-9]\+"/>' "$base.xml")" = \
        "$(grep -c '<status ' "$base.xml")"
    for o in scanfw nmap; do
        f=$work/p.$o.gnmap
        [ "$o" = scanfw ] && f=$base.gnmap
        awk -F'\t' '/Status: Up/ {split($1, a, " "); print a[2]}' "$f" | sort -V >"$work/p.$o.gup"
        awk -F'\t' '/Ports: / {split($1, a, " "); print a[2]}' "$f" | sort -V >"$work/p.$o.gports"
    done
    same "ports: grepable Status: Up hosts = nmap's" "$work/p.nmap.gup" "$work/p.scanfw.gup"
    same "ports: grepable Ports: hosts = nmap's" "$work/p.nmap.gports" "$work/p.scanfw.gports"
    check "ports: normal output says 'Host is up' for each up host" \
        test "$(grep -c '^Host is up, received [a-z-]\+' "$base.nmap" || true)" -ge "$(wc -l <"$work/want")"
    # -oJ: a host object with status and reason for every address, before its ports.
    verdict=$(jq -rs '
        (map(select(.type == "host"))) as $h | (map(select(.port))) as $r | .[-1] as $sum
        | ($h | map(select(.status == "up")) | map(.host)) as $up
        | if any($h[]; (.reason | length) == 0) then "a host without reason"
          elif any($r[]; .host as $x | ($up | index($x)) == null) then "a port result of a host not up"
          elif ($sum.hosts_up // $sum.up // null) == null then "the summary has no up count: \($sum)"
          else "ok \($h | length) hosts, \($up | length) up, \($r | length) results" end' "$base.jsonl")
    if [[ $verdict == ok* ]]; then ok "ports: -oJ: $verdict"; else problem "ports: -oJ: $verdict"; fi
    python3 - "$base.jsonl" <<'EOF' || problem "ports: -oJ: a host's result comes before its host object"
import json, sys
seen = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "host":
        seen.add(o["host"])
    elif "port" in o and o["host"] not in seen:
        sys.exit(f"{o['host']} port {o['port']} before the host's status")
EOF
    jq -c 'select(.type == "host")' "$base.jsonl" | sed -n '1,3p'  # (head would end jq with SIGPIPE)
    echo "--- ndiff nmap.xml scanfw.xml:"
    cat "$work/ndiff.txt"
    ;;
unpriv)
    range_up
    netlab_lan "$prefix" 6 3=down 4=echo
    targets=(198.19.0.0/27 198.19.1.0/28 198.18.1.0/26)
    # connect() to 80 and 443: "up" hosts (80 open, 443 closed) and syn443 ones
    # (refused); on the LAN every host but the two that drop (no ARP without raw sockets).
    { netlab_up_hosts "$prefix" --probes syn443 "${targets[@]:0:2}"; echo 198.18.1.1
      for i in 1 2 5 6; do echo "198.18.1.$((7 * i + 3))"; done; } | sort -V >"$work/want"
    nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
    # Output files are written as nobody: a folder of its own (root without
    # CAP_DAC_OVERRIDE, as scanfw runs, can then still read them).
    mkdir "$work/u"
    chown nobody "$work/u"
    netlab_exec_scanner "$prefix" "${nobody[@]}" "$bin" --dry-run -sn "${targets[@]}" >"$work/dry" 2>&1 || true
    cat "$work/dry"
    check "unpriv: the dry run says connect() only, tcp-connect-ping" \
        grep -q "host discovery: tcp-connect-ping.*connect() only" "$work/dry"
    for n in sn ps; do
        if [ "$n" = sn ]; then sf=(-sn) nf=(-sn); else sf=(-p '22,80,113,443' --reason) nf=("${sf[@]}"); fi
        rc=0
        S "${nobody[@]}" timeout 120 "$bin" -q "${sf[@]}" -oX "$work/u/$n.scanfw.xml" -oJ "$work/u/$n.scanfw.jsonl" \
            "${targets[@]}" >"$work/u$n.out" 2>"$work/u$n.err" || rc=$?
        [ "$rc" = 0 ] || { problem "unpriv: scanfw ${sf[*]} as nobody exited $rc"; show "$work/u$n.err"; }
        rc=0
        S "${nobody[@]}" timeout 300 nmap -n "${nf[@]}" -oX "$work/u/$n.nmap.xml" "${targets[@]}" >"$work/u$n.nmap.out" 2>&1 || rc=$?
        [ "$rc" = 0 ] || { problem "unpriv: nmap ${nf[*]} as nobody exited $rc"; show "$work/u$n.nmap.out"; }
        xml_hosts "$work/u/$n.scanfw.xml" >"$work/u$n.scanfw.hosts"
        xml_hosts "$work/u/$n.nmap.xml" >"$work/u$n.nmap.hosts"
        up_of "$work/u$n.scanfw.hosts" | sort -V >"$work/u$n.scanfw.up"
        up_of "$work/u$n.nmap.hosts" | sort -V >"$work/u$n.nmap.up"
        same "unpriv ${sf[*]}: up hosts = nmap's as nobody" "$work/u$n.nmap.up" "$work/u$n.scanfw.up"
        same "unpriv ${sf[*]}: up hosts = the truth" "$work/want" "$work/u$n.scanfw.up"
        grep -q 'reason="\(syn-ack\|conn-refused\|localhost-response\)"' "$work/u/$n.scanfw.xml" ||
            problem "unpriv: no syn-ack / conn-refused reason in scanfw's XML"
    done
    # The port scan as nobody: connect(), only up hosts, ndiff-equal to nmap's -sT.
    ndiff "$work/u/ps.nmap.xml" "$work/u/ps.scanfw.xml" >"$work/ndiff.txt" || true
    if grep -Eq '^[-+ ]?[0-9]+/(tcp|udp) |^[-+]Not shown|^[-+][0-9]' "$work/ndiff.txt"; then
        problem "unpriv: ndiff shows host or port differences:"; cat "$work/ndiff.txt"
    else
        ok "unpriv: ndiff of the connect() scans shows no host or port difference"
    fi
    check "unpriv: scanfw as nobody scanned with connect() (scaninfo type connect)" \
        grep -q '<scaninfo type="connect"' "$work/u/ps.scanfw.xml"
    ;;
order)
    # A full port scan of the Ethernet segment and a routed /29 with host discovery,
    # interrupted after 1 s: every host up must be found by then (discovery's probes go
    # first; behind the scanner's own address, up at once, the other hosts' waited for
    # its 65,535 ports), and each that answers TCP must have ports already (the port
    # scan spreads over the hosts up), in an -oJ whose summary says interrupted.
    range_up
    netlab_lan "$prefix" 6 3=down 4=echo
    targets=(198.18.1.0/26 198.19.1.0/29)
    { netlab_up_hosts "$prefix" "${targets[@]}"; echo 198.18.1.1; } | sort -V >"$work/want"
    base=$work/o.scanfw
    echo "+ scanfw -sS -p- --rate 5000 -oJ $base.jsonl ${targets[*]}, SIGINT after 1 s"
    rc=0
    S timeout --preserve-status -s INT -k 10 1 "$bin" -q -sS -p- --rate 5000 -oJ "$base.jsonl" "${targets[@]}" \
        >"$work/o.out" 2>"$work/o.err" || rc=$?
    check "order: scanfw exits 130 after SIGINT (exit $rc)" test "$rc" = 130
    jq -r 'select(.type == "host" and .status == "up") | .host' "$base.jsonl" | sort -V >"$work/o.up"
    same "order: hosts up after 1 s = the truth" "$work/want" "$work/o.up"
    # Ports answer at once on the hosts that answer TCP (a RST from port 443); the
    # others' silence takes its timeouts.
    { netlab_up_hosts "$prefix" --probes syn443 "${targets[@]}"; echo 198.18.1.1; } | sort -V >"$work/want.tcp"
    jq -r 'select(.port) | .host' "$base.jsonl" | sort -V | uniq | grep -Fxf "$work/want.tcp" >"$work/o.ported" || true
    same "order: every host up that answers TCP has port results after 1 s" "$work/want.tcp" "$work/o.ported"
    check "order: the -oJ summary says interrupted" \
        test "$(jq -rs '.[-1].interrupted' "$base.jsonl")" = true
    jq -r 'select(.port) | .host' "$base.jsonl" | sort -V | uniq -c
    ;;
*) echo "usage: $0 SCANFW range-{sn,PE,PP,PM,PS,PS22_443,PA,PU}|range6|lan4|lan6|ports|unpriv|order" >&2; exit 2 ;;
esac

[ "$fail" = 0 ] && echo "== discovery $case: PASS" || echo "== discovery $case: FAIL"
exit "$fail"
