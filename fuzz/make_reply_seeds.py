#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_reply (fuzz/corpus/reply/): real IPv4 and IPv6
packets built by hand, as a scan target would send them to the scanner, answering the fixed probe
tag of fuzz_reply.cpp (source port 61234, seq 0x11223344, ack 0x55667788, IP id
0x9abc), plus truncated and malformed variants. Run it from anywhere:
    python3 fuzz/make_reply_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "reply")
SCANNER, TARGET = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])
SPORT, SEQ, ACK, IPID = 61234, 0x11223344, 0x55667788, 0x9ABC


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=1, ttl=64, frag=0, options=b""):
    ihl = 5 + len(options) // 4
    total = ihl * 4 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, ident, frag, ttl, proto, 0, src, dst) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(src, dst, sport, dport, seq, ack, flags, window=0, options=b"", payload=b""):
    off = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, window, 0, 0) + options + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    return seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 17, len(seg))
    return seg[:6] + struct.pack("!H", csum(pseudo + seg) or 0xFFFF) + seg[8:]


def icmp_unreach(code, quoted, quote_len=28):
    body = struct.pack("!BBHI", 3, code, 0, 0) + quoted[:quote_len]
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    return ipv4(TARGET, SCANNER, 1, body, ttl=63)


# Our probes, as the scanner sent them (what ICMP errors quote).
syn_probe = ipv4(SCANNER, TARGET, 6, tcp(SCANNER, TARGET, SPORT, 8081, SEQ, ACK, 0x02, 1024), ident=IPID)
ack_probe = ipv4(SCANNER, TARGET, 6, tcp(SCANNER, TARGET, SPORT, 8081, SEQ, ACK, 0x10, 1024), ident=IPID)
udp_probe = ipv4(SCANNER, TARGET, 17, udp(SCANNER, TARGET, SPORT, 123, b"\xe3" + b"\0" * 47), ident=IPID)

synack = ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 22, SPORT, 0xCAFEBABE, SEQ + 1, 0x12, 64240,
                                      options=b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + b"\0" * 8 + b"\x01\x03\x03\x07"))
seeds = {
    "tcp-synack": synack,
    "tcp-rst-ack-to-syn": ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 113, SPORT, 0, SEQ + 1, 0x14)),
    "tcp-rst-to-ack": ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 80, SPORT, ACK, 0, 0x04)),
    "tcp-rst-ack-to-null": ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 113, SPORT, 0, SEQ, 0x14)),
    "tcp-rst-window": ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 80, SPORT, ACK, 0, 0x04, window=512)),
    "tcp-synack-wrong-ack": ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 22, SPORT, 1, SEQ + 7, 0x12)),
    "tcp-with-ip-options": ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 22, SPORT, 1, SEQ + 1, 0x12),
                                options=b"\x01\x01\x01\x00"),
    "udp-dns-reply": ipv4(TARGET, SCANNER, 17, udp(TARGET, SCANNER, 53, SPORT, b"\x12\x34\x81\x80" + b"\0" * 8)),
    "udp-empty": ipv4(TARGET, SCANNER, 17, udp(TARGET, SCANNER, 161, SPORT, b"")),
    "icmp-port-unreach-udp": icmp_unreach(3, udp_probe),
    "icmp-admin-prohibited-tcp": icmp_unreach(13, syn_probe),
    "icmp-host-unreach-tcp-full-quote": icmp_unreach(1, ack_probe, quote_len=len(ack_probe)),
    "icmp-host-prohibited-udp": icmp_unreach(10, udp_probe),
    "icmp-quote-too-short": icmp_unreach(3, udp_probe, quote_len=24),
    "icmp-echo-reply": ipv4(TARGET, SCANNER, 1, struct.pack("!BBHHH", 0, 0, 0, 1, 1) + b"ping"),
    "trunc-synack-30": synack[:30],
    "trunc-ip-header-19": synack[:19],
    "bad-ihl-4": bytes([0x44]) + synack[1:],
    "bad-ihl-15": bytes([0x4F]) + synack[1:],
    "bad-tcp-offset-4": synack[:32] + bytes([0x40]) + synack[33:],
    "bad-tcp-offset-15": synack[:32] + bytes([0xF0]) + synack[33:],
    "bad-total-length": synack[:2] + struct.pack("!H", 4000) + synack[4:],
    "fragment-first": ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 22, SPORT, 1, SEQ + 1, 0x12), frag=0x2000),
    "fragment-later": ipv4(TARGET, SCANNER, 6, tcp(TARGET, SCANNER, 22, SPORT, 1, SEQ + 1, 0x12)[:8], frag=0x0003),
    "bad-udp-length": ipv4(TARGET, SCANNER, 17, udp(TARGET, SCANNER, 53, SPORT, b"abcd")[:4] + b"\xff\xff" +
                           udp(TARGET, SCANNER, 53, SPORT, b"abcd")[6:]),
}

# IPv6 (fd00:5eed::2 is the target, fd00:5eed::1 the scanner; the flow label's low
# 16 bits carry the probe's IP id).
T6, S6 = bytes.fromhex("fd005eed000000000000000000000002"), bytes.fromhex("fd005eed000000000000000000000001")


def ipv6(src, dst, nxt, payload, flow=0, hops=64):
    return struct.pack("!IHBB16s16s", 0x60000000 | flow, len(payload), nxt, hops, src, dst) + payload


def tcp6(src, dst, sport, dport, seq, ack, flags, window=0):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, window, 0, 0)
    pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    return seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]


def icmp6_unreach(code, quoted):
    return struct.pack("!BBHI", 1, code, 0, 0) + quoted


syn6_probe = ipv6(S6, T6, 6, tcp6(S6, T6, SPORT, 8081, SEQ, ACK, 0x02, 1024), flow=IPID)
udp6_probe = ipv6(S6, T6, 17, struct.pack("!HHHH", SPORT, 123, 16, 0) + b"\0" * 8, flow=IPID)
synack6 = ipv6(T6, S6, 6, tcp6(T6, S6, 22, SPORT, 0xCAFEBABE, SEQ + 1, 0x12, 64240))
seeds.update({
    "v6-tcp-synack": synack6,
    "v6-tcp-rst-ack": ipv6(T6, S6, 6, tcp6(T6, S6, 113, SPORT, 0, SEQ + 1, 0x14)),
    "v6-udp-reply": ipv6(T6, S6, 17, struct.pack("!HHHH", 53, SPORT, 12, 0) + b"abcd"),
    "v6-icmp6-admin-prohibited-tcp": ipv6(T6, S6, 58, icmp6_unreach(1, syn6_probe)),
    "v6-icmp6-port-unreach-udp": ipv6(T6, S6, 58, icmp6_unreach(4, udp6_probe)),
    # A destination-options header (60) before TCP; a fragment header (44): refused.
    "v6-dstopts-synack": ipv6(T6, S6, 60, bytes([6, 0]) + b"\x01\x04\0\0\0\0" + synack6[40:]),
    "v6-fragment-synack": ipv6(T6, S6, 44, bytes([6, 0, 0, 1]) + b"\0\0\0\x2a" + synack6[40:]),
    "v6-trunc-synack": synack6[:50],
})

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {OUT}")
