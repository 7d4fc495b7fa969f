#!/usr/bin/env python3
"""Listeners for the benchmark's target namespace.

TCP ports: listen with a large backlog on 0.0.0.0, so with
`ip route add local 198.19.0.0/16 dev lo` every address of the /16 answers a SYN
with a SYN/ACK (the scanner's kernel then resets the half-open connection, so the
accept queue never fills; anything that is accepted is closed at once).
UDP ports: answer every datagram with a few bytes.

    listeners.py --tcp 22,80 --udp 53 [--ready FILE]

Writes FILE (if given) once every socket is bound; runs until SIGTERM/SIGINT.
"""
import argparse
import selectors
import signal
import socket
import sys


def port_list(text):
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
    ap.add_argument("--tcp", type=port_list, default=[])
    ap.add_argument("--udp", type=port_list, default=[])
    ap.add_argument("--ready", help="file to create once all sockets are bound")
    args = ap.parse_args()
    if not args.tcp and not args.udp:
        ap.error("give --tcp and/or --udp")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    sel = selectors.DefaultSelector()
    for port in args.tcp:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(65535)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "tcp")
    for port in args.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("0.0.0.0", port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "udp")
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("ready\n")

    reply = b"scanfw-bench\n"
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            for _ in range(64):  # drain a burst before going back to select
                try:
                    if key.data == "tcp":
                        conn, _ = s.accept()
                        conn.close()
                    else:
                        _, peer = s.recvfrom(65535)
                        s.sendto(reply, peer)
                except (BlockingIOError, InterruptedError):
                    break
                except (ConnectionError, OSError):
                    continue


if __name__ == "__main__":
    main()
