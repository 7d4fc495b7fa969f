#!/usr/bin/env python3
"""Tiny test listeners for scanfw's integration tests and demo.

TCP ports: accept every connection and close it at once.
UDP ports: answer every datagram with a few bytes.
All sockets bind [::] dual-stack (IPv4 and IPv6) and run until the process is killed.

    listeners.py --tcp 22,80 --udp 53
"""
import argparse
import selectors
import signal
import socket
import sys


def port_list(text):
    """'22,80,8080-8082' -> [22, 80, 8080, 8081, 8082]"""
    ports = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        ports.extend(range(int(lo), int(hi or lo) + 1))
    for p in ports:
        if not 0 < p < 65536:
            raise argparse.ArgumentTypeError(f"bad port {p}")
    return ports


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tcp", type=port_list, default=[], help="TCP ports, e.g. 22,80")
    ap.add_argument("--udp", type=port_list, default=[], help="UDP ports, e.g. 53")
    ap.add_argument("--reply", default="scanfw-test\n", help="UDP reply payload")
    args = ap.parse_args()
    if not args.tcp and not args.udp:
        ap.error("give --tcp and/or --udp")

    # Exit quietly on SIGTERM/SIGINT (the test scripts kill us that way).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    sel = selectors.DefaultSelector()
    for port in args.tcp:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.listen(128)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "tcp")
    for port in args.udp:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "udp")
    reply = args.reply.encode()

    while True:
        for key, _ in sel.select():
            s = key.fileobj
            try:
                if key.data == "tcp":
                    conn, _ = s.accept()
                    conn.close()
                else:
                    _, peer = s.recvfrom(65535)
                    s.sendto(reply, peer)
            except (BlockingIOError, ConnectionError, OSError):
                pass  # a probe that vanished or an ICMP error: ignore


if __name__ == "__main__":
    main()
