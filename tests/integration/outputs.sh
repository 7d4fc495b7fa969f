#!/usr/bin/env bash
# outputs.sh SCANFW_BINARY TECHNIQUE|interrupt
#
# The nmap-compatible outputs, on a private test network (tests/lib/netlab.sh).
#
# TECHNIQUE (connect syn ack window null fin xmas udp maimon scanflags): scanfw -oA BASE
# on the target, and nmap with the same technique and ports (scanflags: flags FINACK
# as ack, nmap --scanflags FINACK -sA). Then:
#   - BASE.xml is valid against nmap.dtd (xmllint) and renders with nmap.xsl
#     (xsltproc) into HTML that lists every port of the XML with its state;
#   - ndiff nmap.xml BASE.xml shows no port difference, and, once the MAC address
#     nmap learns by ARP is taken out, no difference at all (nmap reads its service
#     names from a copy of /etc/services here, as scanfw does);
#   - BASE.gnmap parses back ("Host: ... Ports: 22/open/tcp//ssh///, ...") to the
#     ports of the XML, and its Ports and Ignored State fields equal nmap's;
#   - BASE.nmap has nmap's port table and "Not shown" line, line for line;
#   - BASE.jsonl is JSON Lines: every line parses (jq), one per (port, technique),
#     the last a summary whose counts match.
# interrupt: a slow scan gets SIGINT after about a second; scanfw must exit 130 and
# leave every file well formed (XML valid, JSON summary with "interrupted": true).
#
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netlab.sh
source "$here/../lib/netlab.sh"

usage() { echo "usage: $0 SCANFW_BINARY connect|syn|ack|window|null|fin|xmas|udp|maimon|scanflags|interrupt" >&2; exit 2; }
[ $# -eq 2 ] || usage
bin=$1 what=$2
plugin_args=()
case "$what" in
    connect) nmap_flag=(-sT) ;; syn) nmap_flag=(-sS) ;; ack) nmap_flag=(-sA) ;;
    window) nmap_flag=(-sW) ;; null) nmap_flag=(-sN) ;; fin) nmap_flag=(-sF) ;;
    xmas) nmap_flag=(-sX) ;; udp) nmap_flag=(-sU) ;; maimon) nmap_flag=(-sM) ;;
    scanflags)
        nmap_flag=(--scanflags FINACK -sA)
        plugin_args=(--plugin-arg scanflags.flags=FINACK --plugin-arg scanflags.as=ack)
        ;;
    interrupt) nmap_flag=() ;;
    *) usage ;;
esac

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, raw sockets)"
for tool in ip:iproute2 nft:nftables python3:python3 ss:iproute2 timeout:coreutils nmap:nmap ndiff:ndiff \
            xmllint:libxml2-utils xsltproc:xsltproc jq:jq; do
    command -v "${tool%%:*}" >/dev/null ||
        { echo "FAIL: ${tool%%:*} is needed (apt-get install ${tool#*:}; scripts/setup.sh does)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "FAIL: scanfw binary '$bin' not found or not executable" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
DTD=/usr/share/nmap/nmap.dtd XSL=/usr/share/nmap/nmap.xsl
[ -r "$DTD" ] && [ -r "$XSL" ] || { echo "FAIL: $DTD or $XSL missing (apt-get install nmap)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/outputs.$what.XXXXXX")
netlab_on_exit "rm -rf $(printf '%q' "$work")"
prefix=$(netlab_prefix "out$what")
netlab_up "$prefix"
scanner_ns=$(netlab_scanner_ns "$prefix")
TARGET=$NETLAB_TARGET_IP

fail=0
problem() { echo "FAIL: $*"; fail=1; }
# In the background and waited for, so INT/TERM reach our trap (and the teardown) at once.
run() { "$@" & wait $!; }
show() { echo "--- $1:"; cat "$1"; }

# xml_ports FILE.xml: "proto/port state" for every <port>, sorted.
xml_ports() {
    python3 - "$1" <<'EOF' | sort
import sys, xml.etree.ElementTree as ET
for p in ET.parse(sys.argv[1]).iter("port"):
    print(f'{p.get("protocol")}/{p.get("portid")} {p.find("state").get("state")}')
EOF
}

# check_xml FILE.xml: valid against nmap.dtd, and nmap.xsl renders it into HTML with
# a row (port, protocol, state) for each of its ports.
check_xml() {
    local xml=$1 html=${1%.xml}.html
    if ! xmllint --noout --dtdvalid "$DTD" "$xml" 2>"$work/xmllint.err"; then
        problem "$xml is not valid against $DTD:"; cat "$work/xmllint.err"; show "$xml"; return
    fi
    if ! xsltproc -o "$html" "$XSL" "$xml" 2>"$work/xsltproc.err"; then
        problem "xsltproc $XSL $xml failed:"; cat "$work/xsltproc.err"; return
    fi
    local missing
    missing=$(python3 - "$html" <(xml_ports "$xml") <<'EOF'
import sys
from html.parser import HTMLParser
class Rows(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows, self.row, self.cell = [], None, None
    def handle_starttag(self, tag, attrs):
        if tag == "tr": self.row = []
        elif tag == "td" and self.row is not None: self.cell = ""
    def handle_data(self, data):
        if self.cell is not None: self.cell += data
    def handle_endtag(self, tag):
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row.append(self.cell.strip()); self.cell = None
        elif tag == "tr" and self.row is not None:
            if len(self.row) >= 3: self.rows.append(f"{self.row[1]}/{self.row[0]} {self.row[2]}")
            self.row = None
r = Rows(); r.feed(open(sys.argv[1]).read())
for want in open(sys.argv[2]).read().splitlines():
    if want not in r.rows: print(want)
EOF
)
    [ -z "$missing" ] || problem "the HTML report of $xml lacks these ports: $missing"
    grep -q "<html" "$html" || problem "$html is not HTML"
}

# check_json FILE.jsonl INTERRUPTED: JSON Lines, the scan's record: what the scan is,
# host statuses and results, then one summary that counts them.
check_json() {
    local json=$1 interrupted=$2
    if ! jq -e . "$json" >/dev/null 2>"$work/jq.err"; then
        problem "$json is not JSON Lines:"; cat "$work/jq.err"; show "$json"; return
    fi
    local verdict
    verdict=$(jq -rs --argjson interrupted "$interrupted" '
        .[0] as $scan | (.[1:-1] | map(select(.type != "host"))) as $results | .[-1] as $summary
        | if $scan.type != "scan" then "the first line does not say what the scan is"
          elif $summary.type != "summary" then "last line is not the summary"
          elif any($results[]; .type != null or (.port | type) != "number") then "a result line without a port"
          elif $summary.results != ($results | length) then "summary counts \($summary.results) results, file has \($results | length)"
          elif $summary.interrupted != $interrupted then "summary says interrupted: \($summary.interrupted)"
          elif ($summary.states | add // 0) != $summary.results then "summary states do not add up"
          elif any($results[]; (.reason | length) == 0 or (has("ttl") and .ttl <= 0)) then "a result without reason or with ttl 0"
          else "ok" end' "$json")
    [ "$verdict" = ok ] || { problem "$json: $verdict"; show "$json"; }
}

# ---- interrupt ------------------------------------------------------------------------

if [ "$what" = interrupt ]; then
    base=$work/scanfw
    # 65535 ports at 300 probes/s: minutes of work, stopped after about a second.
    cmd=("$bin" --plugin syn -p 1-65535 --rate 300 --timeout 2s -oA "$base" "$TARGET")
    echo "+ ip netns exec $scanner_ns ${cmd[*]}   (SIGINT after 1 s)"
    ip netns exec "$scanner_ns" "${cmd[@]}" >"$work/stdout" 2>"$work/stderr" &
    pid=$!
    sleep 1
    kill -INT "$pid"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        problem "scanfw still running 10 s after SIGINT"; kill -KILL "$pid" 2>/dev/null || true
    fi
    rc=0; wait "$pid" || rc=$?
    echo "scanfw exit $rc"
    [ "$rc" = 130 ] || { problem "scanfw exited $rc after SIGINT, not 130"; show "$work/stderr"; }
    for ext in xml gnmap nmap jsonl; do [ -s "$base.$ext" ] || problem "$base.$ext missing or empty"; done
    check_xml "$base.xml"
    grep -q 'exit="error" errormsg="interrupted' "$base.xml" || problem "the XML does not say it was interrupted"
    [ "$(tail -n 1 "$base.xml")" = "</nmaprun>" ] || problem "the XML does not end with </nmaprun>"
    [ -n "$(xml_ports "$base.xml")$(grep -o '<extraports [^>]*>' "$base.xml")" ] ||
        problem "the XML has none of the ports scanned before the interrupt"
    check_json "$base.jsonl" true
    for ext in gnmap nmap; do
        tail -n 1 "$base.$ext" | grep -q '^# scanfw interrupted at ' ||
            problem "$base.$ext does not end with '# scanfw interrupted at ...'"
    done
    echo "results before the interrupt: $(jq -s '.[-1].results' "$base.jsonl")"
    [ "$fail" = 0 ] && echo "== interrupt: PASS" || echo "== interrupt: FAIL"
    exit "$fail"
fi

# ---- one technique against nmap -------------------------------------------------------

# The fixed layout (tests/lib/netlab.sh) plus a range of closed ports, so that both summarise
# them (extraports, "Not shown", "Ignored State").
if [ "$what" = udp ]; then ports="U:1-30,53,123,161,162"; else ports="T:1-40,80,113,8080-8082"; fi

# Both discover the host first (ARP on this segment), both name ports from nmap's
# nmap-services.
cmd=(nmap "${nmap_flag[@]}" -n --reason -p "$ports" --max-retries 1 -oA "$work/nmap" "$TARGET")
echo "+ ip netns exec $scanner_ns ${cmd[*]}"
rc=0
run netlab_exec_scanner "$prefix" timeout 60 "${cmd[@]}" >"$work/nmap.stdout" 2>&1 || rc=$?
[ "$rc" = 0 ] || { problem "nmap exited $rc"; show "$work/nmap.stdout"; exit 1; }

base=$work/scanfw
cmd=("$bin" --plugin "$what" "${plugin_args[@]}" -p "$ports" --timeout 300ms --retries 1 --reason -oA "$base" "$TARGET")
echo "+ ip netns exec $scanner_ns ${cmd[*]}"
rc=0
run netlab_exec_scanner "$prefix" timeout 60 "${cmd[@]}" >"$work/scanfw.stdout" 2>"$work/scanfw.stderr" || rc=$?
[ "$rc" = 0 ] || { problem "scanfw exited $rc"; show "$work/scanfw.stderr"; exit 1; }

# XML: DTD, stylesheet, ndiff.
check_xml "$base.xml"
ndiff "$work/nmap.xml" "$base.xml" >"$work/ndiff.txt" || true
if grep -Eq '^[-+ ]?[0-9]+/(tcp|udp) |^[-+]Not shown' "$work/ndiff.txt"; then
    problem "ndiff nmap.xml scanfw.xml shows port differences:"; cat "$work/ndiff.txt"
fi
rc=0
ndiff "$work/nmap.xml" "$base.xml" >"$work/ndiff-all.txt" || rc=$?
[ "$rc" = 0 ] || { problem "ndiff finds differences (exit $rc): the host's status, addresses (the MAC too) and ports must all be nmap's"; cat "$work/ndiff-all.txt"; }

# Grepable: parse the Ports field back and hold it to the XML; the fields equal nmap's.
python3 - "$base.gnmap" >"$work/gnmap-ports" <<'EOF'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"Host: (\S+) \(([^)]*)\)\tPorts: ([^\t]*)(\t|$)", line)
    if not m:
        continue
    for entry in filter(None, m.group(3).split(", ")):
        port, state, proto, owner, service, rpc, version, rest = entry.split("/")
        print(f"{proto}/{port} {state}")
EOF
sort -o "$work/gnmap-ports" "$work/gnmap-ports"
if ! diff -u <(xml_ports "$base.xml") "$work/gnmap-ports" >"$work/gnmap.diff"; then
    problem "the grepable Ports field and the XML disagree:"; cat "$work/gnmap.diff"; show "$base.gnmap"
fi
fields() { grep -v '^#' "$1" | sed -E 's/^Host: [^\t]*\t//'; }
if ! diff -u <(fields "$work/nmap.gnmap") <(fields "$base.gnmap") >"$work/gnmap-nmap.diff"; then
    problem "grepable output differs from nmap's:"; cat "$work/gnmap-nmap.diff"
fi

# Normal: the port table (with reasons) and the "Not shown" line are nmap's.
table() { grep -E '^(PORT |[0-9]+/(tcp|udp) |Not shown: )' "$1"; }
if ! diff -u <(table "$work/nmap.nmap") <(table "$base.nmap") >"$work/nmap-table.diff"; then
    problem "the normal output's port table differs from nmap's:"; cat "$work/nmap-table.diff"
fi

check_json "$base.jsonl" false

# Two more ways in: the XML to stdout ('-'), and --open.
if [ "$what" = connect ]; then
    rc=0
    run netlab_exec_scanner "$prefix" timeout 60 "$bin" --plugin connect -p 22,113 --timeout 300ms -oX - "$TARGET" \
        >"$work/stdout.xml" 2>"$work/stdout.err" || rc=$?
    [ "$rc" = 0 ] || problem "scanfw -oX - exited $rc"
    check_xml "$work/stdout.xml"
    [ "$(xml_ports "$work/stdout.xml" | tr '\n' ' ')" = "tcp/113 closed tcp/22 open " ] ||
        problem "-oX - did not give 22 open and 113 closed"
fi
if [ "$what" = syn ]; then
    rc=0
    run netlab_exec_scanner "$prefix" timeout 60 "$bin" --plugin syn -p "$ports" --timeout 300ms --open -oG - \
        "$TARGET" >"$work/open.gnmap" 2>"$work/open.err" || rc=$?
    [ "$rc" = 0 ] || problem "scanfw --open -oG - exited $rc"
    grep -qx "$(printf 'Host: %s ()\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///' "$TARGET")" "$work/open.gnmap" ||
        { problem "--open did not leave exactly the open ports"; show "$work/open.gnmap"; }
fi

echo "--- ndiff nmap.xml scanfw.xml:"
cat "$work/ndiff.txt"
echo "--- scanfw.gnmap:"
cat "$base.gnmap"
[ "$fail" = 0 ] && echo "== outputs $what: PASS" || echo "== outputs $what: FAIL"
exit "$fail"
