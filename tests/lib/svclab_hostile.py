#!/usr/bin/env python3
"""Hostile TCP services for service-detection tests (tests/lib/svclab.sh).

    svclab_hostile.py [--silent PORT] [--closer PORT] [--streamer PORT] [--escapes PORT]

  --silent    accept, never send a byte, never close (every probe waits its full time)
  --closer    accept and close at once (nmap reports "tcpwrapped")
  --streamer  accept and send binary bytes (0x00-0xff, over and over) as fast as the
              peer reads, forever: a scanner must bound what it reads
  --escapes   accept, send one banner of terminal escape sequences, control and 8-bit
              bytes, then stay silent: a scanner must not print them raw

Each socket binds [::] dual-stack (IPv4 and IPv6, every local address of the
namespace). One thread per connection, daemon threads: the process ends on SIGTERM.
"""
import argparse
import signal
import socket
import sys
import threading

CHUNK = bytes(range(256)) * 64  # 16 KiB of every byte value
ESCAPES = (b"\x1b[2J\x1b[H\x1b[31;1mHOSTILE\x1b[0m \x1b]0;owned\x07 \x1b[6n"
           b"\x00\x01\x02\x7f\x9b2J \xff\xfe binary\r\n")


def listener(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(1024)
    return s


def silent(conn):
    try:
        while conn.recv(4096):  # read and discard what the scanner sends; never answer
            pass
    except OSError:
        pass
    conn.close()


def closer(conn):
    conn.close()


def streamer(conn):
    try:
        while True:
            conn.sendall(CHUNK)
    except OSError:
        pass
    conn.close()


def escapes(conn):
    try:
        conn.sendall(ESCAPES)
    except OSError:
        pass
    silent(conn)


def serve(sock, handler):
    while True:
        conn, _ = sock.accept()
        if handler is closer:
            conn.close()
            continue
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    for name in ("silent", "closer", "streamer", "escapes"):
        ap.add_argument("--" + name, type=int)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threads = []
    for name, handler in (("silent", silent), ("closer", closer), ("streamer", streamer), ("escapes", escapes)):
        port = getattr(args, name)
        if port:
            t = threading.Thread(target=serve, args=(listener(port), handler), daemon=True)
            t.start()
            threads.append(t)
    if not threads:
        ap.error("give at least one port")
    signal.pause() if hasattr(signal, "pause") else threads[0].join()


if __name__ == "__main__":
    main()
