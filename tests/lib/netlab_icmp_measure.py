#!/usr/bin/env python3
"""How many ICMP port unreachables a target sends back: the measurement behind
netlab's ICMP limiter profiles (netlab_icmp_measure in netlab.sh). Run it in the
scanner's namespace, against closed UDP ports of the target.

    netlab_icmp_measure.py --target 198.18.0.2 [--ports 40000-40999] [--burst 300]
                           [--rate 2000] [--seconds 2] [--settle 2] [--source ADDR]
    (--seconds 0: the burst only)

Two phases, from one source address and port:
  burst      --burst datagrams as fast as possible; counts the unreachables that
             come back within 0.5 s: what the limiter lets through at once.
  sustained  after --settle quiet seconds, --rate datagrams a second for --seconds;
             counts the unreachables per 250 ms window. "steady" is the count in
             the last second (the limiter's rate once its burst is spent).
Prints one JSON line: {"family", "target", "burst_sent", "burst_back",
"sustained_sent", "windows": [...], "steady_per_s", "sustained_back"}.
"""
import argparse
import ipaddress
import json
import socket
import struct
import threading
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True)
    ap.add_argument("--source", help="source address (default: the route's)")
    ap.add_argument("--ports", default="40000-40999", help="closed UDP ports of the target")
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--settle", type=float, default=2.0)
    a = ap.parse_args()

    target = ipaddress.ip_address(a.target)
    v6 = target.version == 6
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    lo, _, hi = a.ports.partition("-")
    ports = list(range(int(lo), int(hi or lo) + 1))

    tx = socket.socket(fam, socket.SOCK_DGRAM)
    tx.bind((a.source or ("::" if v6 else "0.0.0.0"), 0))
    sport = tx.getsockname()[1]
    rx = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.settimeout(0.05)

    times = []  # arrival time of each unreachable quoting one of our datagrams
    stop = threading.Event()

    def ours(quoted_dst, proto_ok, udp):
        return proto_ok and quoted_dst == target.packed and len(udp) >= 4 and \
            struct.unpack("!H", udp[:2])[0] == sport

    def receive():
        while not stop.is_set():
            try:
                pkt = rx.recv(65535)
            except socket.timeout:
                continue
            now = time.monotonic()
            if v6:  # ICMPv6 message; type 1 destination unreachable, 4 parameter problem
                if len(pkt) < 8 + 40 or pkt[0] not in (1, 4):
                    continue
                q = pkt[8:]
                if ours(q[24:40], q[6] == 17, q[40:]):
                    times.append(now)
            else:  # IPv4 header, then ICMP; type 3 destination unreachable
                ihl = (pkt[0] & 15) * 4
                icmp = pkt[ihl:]
                if len(icmp) < 8 + 20 or icmp[0] not in (3, 12):
                    continue
                q = icmp[8:]
                qihl = (q[0] & 15) * 4
                if ours(q[16:20], q[9] == 17, q[qihl:]):
                    times.append(now)

    th = threading.Thread(target=receive, daemon=True)
    th.start()

    def count(t0, t1):
        return sum(1 for t in times if t0 <= t < t1)

    # burst
    t0 = time.monotonic()
    for i in range(a.burst):
        tx.sendto(b"netlab", (a.target, ports[i % len(ports)]))
    time.sleep(0.5)
    burst_back = count(t0, time.monotonic())

    if a.seconds <= 0:  # the burst only
        stop.set()
        th.join()
        print(json.dumps({"family": 6 if v6 else 4, "target": a.target, "source": a.source,
                          "burst_sent": a.burst, "burst_back": burst_back}, separators=(",", ":")))
        return

    # sustained
    time.sleep(a.settle)
    interval = 1.0 / a.rate
    n = int(a.rate * a.seconds)
    s0 = time.monotonic()
    for i in range(n):
        due = s0 + i * interval
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        tx.sendto(b"netlab", (a.target, ports[i % len(ports)]))
    end = s0 + a.seconds
    time.sleep(max(0.0, end - time.monotonic()) + 0.3)
    stop.set()
    th.join()
    windows = []
    w = s0
    while w < end - 1e-9:
        windows.append(count(w, w + 0.25))
        w += 0.25
    steady = count(end - 1.0, end + 0.05)  # the last second, and its stragglers
    print(json.dumps({
        "family": 6 if v6 else 4, "target": a.target, "source": a.source,
        "burst_sent": a.burst, "burst_back": burst_back,
        "sustained_sent": n, "sustained_rate": a.rate, "windows": windows,
        "steady_per_s": steady, "sustained_back": count(s0, end + 0.3),
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
