#!/usr/bin/env python3
"""shards_norm.py FORMAT MODE FILE: one output of a scan as text that two runs of the
same scan share (tests/integration/shards.sh compares a merge of shards with an
unsharded scan this way). Times, latencies, the command line, the seed and the shard
are left out; hosts, ports, states, reasons, TTLs, summaries and the order of hosts
are kept. MODE is "pn" or "discovery": with discovery, which probe a host answered
first (its status reason) is a race, so host reasons are left out too.

FORMAT: json (-oJ), xml (-oX), grepable (-oG), normal (-oN), table (stdout).
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

fmt, mode, path = sys.argv[1:4]
discovery = mode == "discovery"
out = []

LATENCY = re.compile(r" \(\d+(\.\d+)?s latency\)")
SECONDS = re.compile(r" in \d+(\.\d+)? seconds")
RECEIVED = re.compile(r", received [a-z-]+")
DATE = re.compile(r" at [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}")

if fmt == "json":
    # Results and host statuses as a sorted set: -oJ lines come in the order of the
    # answers. The summary's counts must agree.
    results, hosts, summary = [], set(), None
    for n, line in enumerate(open(path), 1):
        j = json.loads(line)
        t = j.get("type")
        if t == "scan":
            continue
        if t == "summary":
            summary = j
        elif t == "host":
            hosts.add(f"H {j['host']} {j['status']}" + ("" if discovery else f" {j['reason']}"))
        else:
            results.append(f"R {j['host']} {j['protocol']}/{j['port']} {j['technique']} {j['state']} "
                           f"{j['reason']} ttl={j.get('ttl', 0)}")
    out += sorted(results) + sorted(hosts)
    if summary is None:
        out.append("NO SUMMARY")
    else:
        out.append("S " + " ".join(f"{k}={json.dumps(summary.get(k))}" for k in
                                   ("hosts", "up", "down", "results", "states", "done", "interrupted")))
elif fmt == "xml":
    # Document order: hosts must come in the same (address) order.
    root = ET.parse(path).getroot()
    for si in root.iter("scaninfo"):
        out.append("scaninfo " + " ".join(f"{k}={si.get(k)}" for k in ("type", "protocol", "numservices", "services")))
    for h in root.iter("host"):
        st = h.find("status")
        addr = " ".join(a.get("addr") for a in h.iter("address"))
        reason = "" if discovery else f" {st.get('reason')}"
        out.append(f"host {addr} {st.get('state')}{reason} comment={h.get('comment')}")
        for e in h.iter("extraports"):
            out.append(f"  extraports {e.get('state')} {e.get('count')}")
            for r in e.iter("extrareasons"):
                out.append(f"    {r.get('reason')} {r.get('count')} {r.get('proto')} {r.get('ports')}")
        for p in h.iter("port"):
            s = p.find("state")
            svc = p.find("service")
            out.append(f"  {p.get('protocol')}/{p.get('portid')} {s.get('state')} {s.get('reason')} "
                       f"ttl={s.get('reason_ttl')} {svc.get('name') if svc is not None else '-'}")
    rs = root.find("runstats")
    fin, hs = rs.find("finished"), rs.find("hosts")
    out.append(f"finished exit={fin.get('exit')} errormsg={fin.get('errormsg')}")
    out.append(f"hosts up={hs.get('up')} down={hs.get('down')} total={hs.get('total')}")
elif fmt in ("grepable", "normal", "table"):
    lines = open(path).read().splitlines()
    for i, line in enumerate(lines):
        if fmt != "table" and i == 0 and line.startswith("# "):  # banner: date and command line
            continue
        line = LATENCY.sub("", SECONDS.sub(" in S seconds", DATE.sub(" at DATE", line)))
        if discovery:
            line = RECEIVED.sub("", line)
        out.append(line)
else:
    sys.exit(f"unknown format {fmt}")
print("\n".join(out))
