#!/usr/bin/env python3
"""Listeners for netlab's target namespaces (tests, benchmarks, demo).

TCP ports: accept every connection and close it at once. The backlog is large
(65535, clamped by net.core.somaxconn): with `ip route add local 198.19.0.0/16 dev lo`
every address of the range answers a SYN with a SYN/ACK, and the scanner's kernel
resets the half-open connection, so the accept queue never fills.
UDP ports: answer every datagram with a few bytes (--reply), after a delay if the
port has one (a slow service), or as a DNS server would (":dns").
All sockets bind [::] dual-stack: IPv4 and IPv6, and every local address of the
namespace (its AnyIP ranges too). Runs until SIGTERM/SIGINT.

    netlab_listen.py --tcp 22,80,8080-8082 --udp 53:dns,161,5354:150ms,5355-5356:1s \
        [--reply TEXT] [--ready FILE]

UDP items: PORT or LO-HI, then options after ':' -- a delay (150ms, 1.5s, 2s) and/or
"dns". A DNS port answers a well-formed query (QR=0) with a response: the question
echoed, NOERROR, for an A question one A record (--dns-a, default 198.18.0.2),
NODATA for other types; opcodes other than QUERY get NOTIMP, a header with a
question it cannot parse gets FORMERR; anything shorter than a DNS header, or a
response, gets nothing (as a real server).

--ready FILE is written once every socket is bound.
"""
import argparse
import heapq
import ipaddress
import selectors
import signal
import socket
import struct
import sys
import time


def port_range(text):
    lo, _, hi = text.partition("-")
    lo, hi = int(lo), int(hi or lo)
    if not 0 < lo <= hi < 65536:
        raise argparse.ArgumentTypeError(f"bad port range '{text}'")
    return range(lo, hi + 1)


def tcp_ports(text):
    """'22,80,8080-8082' -> [22, 80, 8080, 8081, 8082]"""
    out = []
    for part in filter(None, text.split(",")):
        out.extend(port_range(part))
    return out


def duration(text):
    """'150ms' -> 0.15, '2s' -> 2.0"""
    for suffix, scale in (("ms", 1e-3), ("us", 1e-6), ("s", 1.0)):
        if text.endswith(suffix):
            try:
                v = float(text[: -len(suffix)]) * scale
            except ValueError:
                break
            if v >= 0:
                return v
    raise argparse.ArgumentTypeError(f"bad delay '{text}' (e.g. 150ms, 1s)")


def udp_ports(text):
    """'53:dns,161,5354:150ms' -> {53: (0.0, True), 161: (0.0, False), 5354: (0.15, False)}"""
    out = {}
    for item in filter(None, text.split(",")):
        spec, *opts = item.split(":")
        delay, dns = 0.0, False
        for o in opts:
            if o == "dns":
                dns = True
            else:
                delay = duration(o)
        for p in port_range(spec):
            out[p] = (delay, dns)
    return out


# ---- DNS ------------------------------------------------------------------------

def dns_answer(q, a_record):
    """The response a small authoritative server gives to datagram q, or None."""
    if len(q) < 12:
        return None
    ident, flags, qd, _an, _ns, _ar = struct.unpack("!HHHHHH", q[:12])
    if flags & 0x8000:  # a response: never answer
        return None
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100

    def header(rcode, qdcount, ancount):
        f = 0x8000 | (opcode << 11) | 0x0400 | rd | rcode  # QR, opcode, AA, RD, RCODE
        return struct.pack("!HHHHHH", ident, f, qdcount, ancount, 0, 0)

    if opcode != 0:
        return header(4, 0, 0)  # NOTIMP (nmap's probe is a STATUS request)
    if qd != 1:
        return header(1, 0, 0)  # FORMERR
    i = 12
    while True:  # QNAME: labels up to the root
        if i >= len(q):
            return header(1, 0, 0)
        n = q[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:  # no compression in a question
            return header(1, 0, 0)
        i += 1 + n
    if i + 4 > len(q):
        return header(1, 0, 0)
    question = q[12:i + 4]
    qtype, qclass = struct.unpack("!HH", q[i:i + 4])
    if qtype == 1 and qclass == 1:  # A IN: one record, the name by pointer to the question
        rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + a_record
        return header(0, 1, 1) + question + rr
    return header(0, 1, 0) + question  # NOERROR, no data


# ---- main -----------------------------------------------------------------------

def bind(kind, port):
    try:
        s = socket.socket(socket.AF_INET6, kind)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        addr = ("::", port)
    except OSError:  # no IPv6 in this namespace
        s = socket.socket(socket.AF_INET, kind)
        addr = ("0.0.0.0", port)
    if kind == socket.SOCK_STREAM:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    else:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(addr)
    if kind == socket.SOCK_STREAM:
        s.listen(65535)
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tcp", type=tcp_ports, default=[], help="TCP ports, e.g. 22,80,8080-8082")
    ap.add_argument("--udp", type=udp_ports, default={}, help="UDP ports, e.g. 53:dns,161,5354:150ms")
    ap.add_argument("--reply", default="scanfw-test\n", help="UDP reply payload (not DNS ports)")
    ap.add_argument("--dns-a", default="198.18.0.2", help="address in DNS A answers")
    ap.add_argument("--ready", help="file to create once all sockets are bound")
    args = ap.parse_args()
    if not args.tcp and not args.udp:
        ap.error("give --tcp and/or --udp")

    # Exit quietly on SIGTERM/SIGINT (netlab_down kills us that way).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    sel = selectors.DefaultSelector()
    for port in args.tcp:
        sel.register(bind(socket.SOCK_STREAM, port), selectors.EVENT_READ, None)
    for port, (delay, dns) in args.udp.items():
        sel.register(bind(socket.SOCK_DGRAM, port), selectors.EVENT_READ, (delay, dns))
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("ready\n")

    reply = args.reply.encode()
    a_record = ipaddress.IPv4Address(args.dns_a).packed
    later = []  # (due, seq, socket, payload, peer): delayed UDP answers
    seq = 0

    def send(s, payload, peer):
        try:
            s.sendto(payload, peer)
        except OSError:
            pass  # the peer's port is gone, or the buffer is full: as a real server

    while True:
        timeout = None
        if later:
            timeout = max(0.0, later[0][0] - time.monotonic())
        for key, _ in sel.select(timeout):
            s, udp = key.fileobj, key.data
            for _ in range(64):  # drain a burst before going back to select
                try:
                    if udp is None:
                        conn, _ = s.accept()
                        conn.close()
                        continue
                    data, peer = s.recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue  # an ICMP error queued on the socket, a vanished connection
                delay, dns = udp
                payload = dns_answer(data, a_record) if dns else reply
                if payload is None:
                    continue
                if delay > 0:
                    seq += 1
                    heapq.heappush(later, (time.monotonic() + delay, seq, s, payload, peer))
                else:
                    send(s, payload, peer)
        now = time.monotonic()
        while later and later[0][0] <= now:
            _, _, s, payload, peer = heapq.heappop(later)
            send(s, payload, peer)


if __name__ == "__main__":
    main()
