#!/usr/bin/env python3
"""Bursts of UDP datagrams to closed ports on a schedule, and the ICMP port
unreachables each burst draws back: the measurement side of the limiter calibration
(tests/integration/icmp_calibration.sh; the model side is scanfw_limiter_model, which
reads the same plan). Run it in the scanner's namespace.

    netlab_icmp_bursts.py --plan PLAN.json --target4 198.18.0.2 --target6 fd00:5eed::2
                          [--sources4 A,B,...] [--sources6 A,B,...] [--seed N]

The plan (JSON):
  {"trials": 30, "period": 0.3, "spread": 0.004, "sources": "one" | "fresh",
   "bursts": [{"at": 0, "n": 200, "family": "4", "slack": 0.002, "span": 0.012}, ...]}
Trial i starts at i * period plus a uniform random delay in [0, spread) (so that its
position inside the kernel's clock tick is random: spread = one tick); its burst 0
goes out at once, and burst k `at` seconds after burst 0's first datagram. A burst is
`n` datagrams as fast as they go, to ports 40000 + j % 1000, from a socket of its own
(its own source port: each unreachable is counted for the burst whose datagram it
quotes). family "4", "6", or "46" (alternating, IPv4 first, two sockets). sources
"fresh": trial i sends from the i-th address of --sources4 / --sources6 (a fresh
per-peer bucket each); "one": from the route's address. slack and span are for the
model (scanfw_limiter_model checks them: a trial whose burst started later than at +
slack, or took longer than span, is not used); here they only cap how late a burst
may be sent at all.

Prints one JSON object: the plan, and per burst of each trial {"trial", "burst",
"first", "last" (seconds after the trial's first datagram), "back", "back4", "back6",
"arrived": [first, last] unreachable's arrival, or null}.
"""
import argparse
import heapq
import json
import random
import select
import socket
import struct
import threading
import time


def spin_until(t):
    """Sleep until t (time.monotonic), the last 2 ms spinning: sleep alone wakes up
    late by up to a millisecond or more on a busy machine."""
    while True:
        d = t - time.monotonic()
        if d <= 0:
            return
        if d > 0.002:
            time.sleep(d - 0.002)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--target4", default="198.18.0.2")
    ap.add_argument("--target6", default="fd00:5eed::2")
    ap.add_argument("--sources4", default="")
    ap.add_argument("--sources6", default="")
    ap.add_argument("--seed", type=int, default=None, help="for the trials' random delays")
    ap.add_argument("--wait", type=float, default=0.5, help="seconds to wait for the last answers")
    a = ap.parse_args()
    with open(a.plan) as f:
        plan = json.load(f)
    trials, period = int(plan["trials"]), float(plan["period"])
    spread = float(plan.get("spread", 0))
    bursts = plan["bursts"]
    fresh = plan.get("sources", "one") == "fresh"
    src = {"4": [s for s in a.sources4.split(",") if s], "6": [s for s in a.sources6.split(",") if s]}
    target = {"4": a.target4, "6": a.target6}
    rnd = random.Random(a.seed)

    # One socket per (trial, burst, family); the unreachables name its port. The ports
    # are chosen here, each used once: the kernel's ephemeral ports are unique only per
    # local address, and sockets bound to different (fresh) sources may share one.
    socks = {}      # (trial, burst, fam) -> socket
    owner = {}      # (fam, port) -> (trial, burst)
    port = 20000
    for i in range(trials):
        for k, b in enumerate(bursts):
            for fam in b["family"]:
                s = socket.socket(socket.AF_INET6 if fam == "6" else socket.AF_INET, socket.SOCK_DGRAM)
                if fresh and len(src[fam]) < trials:
                    raise SystemExit(f"need {trials} IPv{fam} sources, got {len(src[fam])}")
                addr = src[fam][i] if fresh else ("::" if fam == "6" else "0.0.0.0")
                while True:
                    port += 1
                    if port > 39999:
                        raise SystemExit("no free source ports in 20001-39999")
                    try:
                        s.bind((addr, port))
                        break
                    except OSError:  # in use: the next one
                        continue
                socks[(i, k, fam)] = s
                owner[(fam, port)] = (i, k)

    rx4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    rx6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    for r in (rx4, rx6):
        r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    back = {}  # (trial, burst, fam) -> count
    seen = {}  # (trial, burst) -> [first, last] arrival of its unreachables (monotonic)
    stop = threading.Event()
    t4 = socket.inet_pton(socket.AF_INET, a.target4)
    t6 = socket.inet_pton(socket.AF_INET6, a.target6)

    def receive():
        while not stop.is_set():
            ready, _, _ = select.select([rx4, rx6], [], [], 0.05)
            for r in ready:
                pkt = r.recv(65535)
                if r is rx6:  # ICMPv6 destination unreachable: 8 bytes, then the datagram
                    if len(pkt) < 8 + 40 + 8 or pkt[0] != 1:
                        continue
                    q = pkt[8:]
                    if q[6] != 17 or q[24:40] != t6:
                        continue
                    key = ("6", struct.unpack("!H", q[40:42])[0])
                else:  # IPv4 header, ICMP destination unreachable, the datagram's header
                    ihl = (pkt[0] & 15) * 4
                    icmp = pkt[ihl:]
                    if len(icmp) < 8 + 20 + 8 or icmp[0] != 3:
                        continue
                    q = icmp[8:]
                    qihl = (q[0] & 15) * 4
                    if q[9] != 17 or q[16:20] != t4:
                        continue
                    key = ("4", struct.unpack("!H", q[qihl:qihl + 2])[0])
                if key in owner:
                    i, k = owner[key]
                    back[(i, k, key[0])] = back.get((i, k, key[0]), 0) + 1
                    now = time.monotonic()
                    seen.setdefault((i, k), [now, now])[1] = now

    th = threading.Thread(target=receive, daemon=True)
    th.start()

    payload = b"netlab-calibration"
    first = {}   # trial -> monotonic time of its first datagram
    sent = {}    # (trial, burst) -> (first, last) monotonic
    t0 = time.monotonic() + 0.1
    events = [(t0 + i * period + rnd.uniform(0, spread), i, 0) for i in range(trials)]
    heapq.heapify(events)
    while events:
        due, i, k = heapq.heappop(events)
        spin_until(due)
        b = bursts[k]
        fams = b["family"]
        order = [fams[j % len(fams)] for j in range(int(b["n"]))]
        start = None
        for j, fam in enumerate(order):
            s = socks[(i, k, fam)]
            if start is None:
                start = time.monotonic()
            s.sendto(payload, (target[fam], 40000 + j % 1000))
        end = time.monotonic()
        sent[(i, k)] = (start, end)
        if k == 0:
            first[i] = start
            for kk in range(1, len(bursts)):
                heapq.heappush(events, (start + float(bursts[kk]["at"]), i, kk))
    time.sleep(a.wait)
    stop.set()
    th.join()

    out = []
    for (i, k), (s0, s1) in sorted(sent.items()):
        b4, b6 = back.get((i, k, "4"), 0), back.get((i, k, "6"), 0)
        arr = seen.get((i, k))
        out.append({"trial": i, "burst": k, "first": round(s0 - first[i], 6), "last": round(s1 - first[i], 6),
                    "back": b4 + b6, "back4": b4, "back6": b6,
                    "arrived": [round(t - first[i], 6) for t in arr] if arr else None})
    print(json.dumps({"plan": plan, "bursts": out}, separators=(",", ":")))


if __name__ == "__main__":
    main()
