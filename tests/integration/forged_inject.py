#!/usr/bin/env python3
"""Forged and malformed replies for tests/integration/forged.sh.

Runs in the target namespace. Sends raw Ethernet frames (AF_PACKET, no scapy) out of
the target's veth to the scanner, while scanfw scans the target, of two kinds:

Blind flood, continuous, sweeping every one of scanfw's source ports 61000-65535
each round:
  * TCP RSTs, RST/ACKs and SYN/ACKs with random sequence/acknowledgement numbers
    from every scanned TCP port;
  * UDP datagrams from ports that are not scanned;
  * ICMP unreachables quoting TCP and UDP probes this scan never sent (random
    sequence numbers and IP ids);
  * SYN/ACKs and UDP datagrams from a second address of the target namespace.

Sniffed near misses: the injector also reads the probes arriving at the target,
and answers each one at once (before the target's own answer) with
  * SYN/ACKs, RST/ACKs and RSTs whose numbers are off by a little, or sent to a
    neighbouring source port;
  * the right answer, but from another port of the target, or from the second address;
  * ICMP unreachables quoting the probe with a wrong sequence number, IP id,
    address or port;
  * the right answer (right ports, numbers and address: one that would change the
    port's state) made malformed: truncated IP or TCP/UDP headers, bad IHL, bad TCP
    data offset, bad UDP length, bad IP total length, IP fragments, a wrong IP
    version, and ICMP errors quoting the real probe with a cut or broken quote or as
    a fragment.
None of these may change any port's state.

Every category is counted; on exit (SIGTERM/SIGINT, the --stop-file appearing, or
--max-seconds) the counts are written as JSON to --stats, so the test can check that
the injection really happened. The flood is paced to --pps packets per second.
"""
import argparse
import array
import json
import os
import random
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SRC_PORT_BASE, SRC_PORT_COUNT = 61000, 4536  # scanfw's source ports, 61000-65535
SYN, RST, ACK = 0x02, 0x04, 0x10
M32 = 0xFFFFFFFF


def csum(data):
    """Internet checksum, returned packed (byte-order independent, RFC 1071)."""
    if len(data) & 1:
        data += b"\0"
    s = sum(array.array("H", data))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return struct.pack("=H", ~s & 0xFFFF)


def ipv4(src, dst, proto, payload, ident=0, frag=0, ttl=64):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, ttl, proto, 0, src, dst)
    return hdr[:10] + csum(hdr) + hdr[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, window=0):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & M32, ack & M32, 0x50, flags, window, 0, 0)
    return seg[:16] + csum(src + dst + struct.pack("!BBH", 0, 6, len(seg)) + seg) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return seg[:6] + csum(src + dst + struct.pack("!BBH", 0, 17, len(seg)) + seg) + seg[8:]


def icmp_unreach(code, quoted):
    body = struct.pack("!BBHI", 3, code, 0, 0) + quoted
    return body[:2] + csum(body) + body[4:]


def set_byte(pkt, i, value):
    return pkt[:i] + bytes([value]) + pkt[i + 1:]


def set_u16(pkt, i, value):
    return pkt[:i] + struct.pack("!H", value) + pkt[i + 2:]


class Injector:
    def __init__(self, args):
        self.args = args
        self.scanner = socket.inet_aton(args.scanner)
        self.target = socket.inet_aton(args.target)
        self.alias = socket.inet_aton(args.alias)
        self.tcp_ports = [int(p) for p in args.tcp_ports.split(",")]
        self.udp_ports = [int(p) for p in args.udp_ports.split(",")]
        scanned_udp = set(self.udp_ports)
        self.unscanned_udp = [p for p in (54, 124, 160, 163, 1900, 5353, 40000) if p not in scanned_udp]
        src_mac = open(f"/sys/class/net/{args.iface}/address").read().strip()
        self.eth = bytes.fromhex(args.dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + \
            struct.pack("!H", ETH_P_IP)
        self.out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.out.bind((args.iface, 0))
        self.sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sniff.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sniff.bind((args.iface, 0))
        self.sniff.setblocking(False)
        self.counts = {}
        self.send_errors = 0
        self.rounds = 0  # complete sweeps of 61000-65535 by the blind flood
        self.probes = {"tcp": 0, "udp": 0}
        self.tries_seen = set()
        self.udp_sport_of = {}  # scanned UDP port -> source port its probe came from
        self.udp_probe_ids = {}  # (our source port, scanned UDP port) -> the probe's IP id
        self.rng = random.Random(args.seed)
        self.stop = False

    # ---- sending ------------------------------------------------------------

    def send(self, category, ip_packet):
        try:
            self.out.send(self.eth + ip_packet)
        except OSError:
            self.send_errors += 1  # ENOBUFS under load: not counted as sent
            return
        self.counts[category] = self.counts.get(category, 0) + 1

    def r32(self):
        return self.rng.getrandbits(32)

    # ---- the blind flood ------------------------------------------------------

    def blind(self, dport, rnd):
        """Frames aimed at one of scanfw's source ports; `rnd` rotates the choices."""
        s, t, a = self.scanner, self.target, self.alias
        tp, up = self.tcp_ports, self.udp_ports
        for i, p in enumerate(tp):
            kind = (dport + i + rnd) % 3
            if kind == 0:
                self.send("blind_tcp_rst", ipv4(t, s, 6, tcp(t, s, p, dport, self.r32(), 0, RST)))
            elif kind == 1:
                self.send("blind_tcp_rstack",
                          ipv4(t, s, 6, tcp(t, s, p, dport, 0, self.r32(), RST | ACK, self.rng.randrange(2) * 512)))
            else:
                self.send("blind_tcp_synack", ipv4(t, s, 6, tcp(t, s, p, dport, self.r32(), self.r32(), SYN | ACK, 64240)))
        q = self.unscanned_udp[(dport + rnd) % len(self.unscanned_udp)]
        self.send("blind_udp_from_unscanned_port", ipv4(t, s, 17, udp(t, s, q, dport, b"forged-udp")))
        p = tp[(dport + rnd) % len(tp)]
        probe = ipv4(s, t, 6, tcp(s, t, dport, p, self.r32(), self.r32(), SYN, 1024), ident=self.r32() & 0xFFFF)
        self.send("blind_icmp_quoting_unsent_tcp", ipv4(t, s, 1, icmp_unreach(13 if rnd & 1 else 3, probe[:28])))
        p = up[(dport + rnd) % len(up)]
        ident = self.r32() & 0xFFFF
        if self.udp_probe_ids.get((dport, p)) == ident:
            ident ^= 1  # a blind guess that happened to be right would be a real answer
        probe = ipv4(s, t, 17, udp(s, t, dport, p, b"x" * 8), ident=ident)
        self.send("blind_icmp_quoting_unsent_udp", ipv4(t, s, 1, icmp_unreach(3, probe[:28])))
        p = tp[(dport + rnd + 1) % len(tp)]
        self.send("blind_wrong_address_tcp", ipv4(a, s, 6, tcp(a, s, p, dport, self.r32(), self.r32(), SYN | ACK, 64240)))
        p = up[(dport + rnd + 1) % len(up)]
        self.send("blind_wrong_address_udp", ipv4(a, s, 17, udp(a, s, p, dport, b"forged-udp")))

    # ---- answers to sniffed probes ----------------------------------------------

    def drain(self, budget=512):
        for _ in range(budget):  # bounded: the flood must go on, and stop when told
            try:
                frame, addr = self.sniff.recvfrom(65535)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING or len(frame) < 14 + 28 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
            if ip[0] != 0x45 or ip[12:16] != self.scanner or ip[16:20] != self.target:
                continue
            proto = ip[9]
            sport, dport = struct.unpack("!HH", ip[20:24])
            if not SRC_PORT_BASE <= sport < SRC_PORT_BASE + SRC_PORT_COUNT:
                continue
            # The scanner's kernel answers forged SYN/ACKs with resets from the same
            # ports; a probe never has RST set.
            if proto == 6 and dport in self.tcp_ports and len(ip) >= 40 and not ip[33] & RST:
                self.probes["tcp"] += 1
                self.answer_tcp(ip)
            elif proto == 17 and dport in self.udp_ports:
                self.probes["udp"] += 1
                self.udp_sport_of[dport] = sport
                self.answer_udp(ip)

    def first_try(self, key):
        if key in self.tries_seen:
            return False
        self.tries_seen.add(key)
        return True

    def answer_tcp(self, probe):
        s, t, a = self.scanner, self.target, self.alias
        sport, p, seq, ack = struct.unpack("!HHII", probe[20:32])
        ident = struct.unpack("!H", probe[4:6])[0]
        if self.first_try(("tcp", sport, p, seq)):
            self.counts["sniffed_first_tries"] = self.counts.get("sniffed_first_tries", 0) + 1

        def reply(src, from_port, to_port, rseq, rack, flags, window=0):
            return ipv4(src, s, 6, tcp(src, s, from_port, to_port, rseq, rack, flags, window), ttl=63)

        # Near misses: numbers a little off, or a neighbouring source port of ours.
        for bad in (seq + 2, seq - 1, seq + 1000, seq ^ 0x80000000):
            self.send("near_miss_synack_ack", reply(t, p, sport, self.r32(), bad, SYN | ACK, 64240))
        for bad in (seq + 2, seq - 1):
            self.send("near_miss_rstack_ack", reply(t, p, sport, 0, bad, RST | ACK, 512))
        for bad in (ack + 1, ack - 1, ack ^ 1):
            self.send("near_miss_rst_seq", reply(t, p, sport, bad, 0, RST, 512))
        for other in (sport + 1, sport - 1):
            if SRC_PORT_BASE <= other < SRC_PORT_BASE + SRC_PORT_COUNT:
                self.send("near_miss_our_port", reply(t, p, other, self.r32(), seq + 1, SYN | ACK, 64240))
                self.send("near_miss_our_port", reply(t, p, other, ack, seq + 1, RST | ACK, 512))

        # The right numbers, from the wrong port or the wrong address.
        for q in [x for x in self.tcp_ports if x != p] + [23, 443]:
            self.send("wrong_source_port_tcp", reply(t, q, sport, self.r32(), seq + 1, SYN | ACK, 64240))
            self.send("wrong_source_port_tcp", reply(t, q, sport, ack, seq + 1, RST | ACK, 512))
            self.send("wrong_source_port_tcp", reply(t, q, sport, ack, 0, RST, 512))
        self.send("wrong_address_tcp", reply(a, p, sport, self.r32(), seq + 1, SYN | ACK, 64240))
        self.send("wrong_address_tcp", reply(a, p, sport, ack, seq + 1, RST | ACK, 512))
        self.send("wrong_address_tcp", reply(a, p, sport, ack, 0, RST))

        # ICMP errors quoting probes this scan never sent.
        def quoted(qsrc_port, qdst, qdport, qseq):
            return ipv4(s, qdst, 6, tcp(s, qdst, qsrc_port, qdport, qseq, ack, probe[33], 1024), ident=ident)[:28]
        other = self.tcp_ports[(self.tcp_ports.index(p) + 1) % len(self.tcp_ports)]
        for q in (quoted(sport, t, p, seq ^ 1), quoted(sport, t, p, seq + 1), quoted(sport, a, p, seq),
                  quoted(sport, t, other, seq), quoted(sport ^ 1, t, p, seq)):
            for code in (13, 3, 1):
                self.send("icmp_quoting_unsent_tcp", ipv4(t, s, 1, icmp_unreach(code, q), ttl=63))

        # The right answers, malformed. Each would change the port's state if accepted.
        for good in (reply(t, p, sport, 0, seq + 1, RST | ACK), reply(t, p, sport, self.r32(), seq + 1, SYN | ACK, 64240),
                     reply(t, p, sport, ack, 0, RST, 512)):
            self.malformed_common(good)
            self.send("malformed_tcp_header_cut", set_u16(good, 2, 32)[:32])  # consistent IP length, 12-byte TCP
            for off in (0x00, 0x40, 0xF0):
                self.send("malformed_tcp_data_offset", set_byte(good, 32, off))
        self.malformed_icmp(probe, 13)

    def answer_udp(self, probe):
        s, t, a = self.scanner, self.target, self.alias
        sport, p = struct.unpack("!HH", probe[20:24])
        ident = struct.unpack("!H", probe[4:6])[0]
        self.udp_probe_ids[(sport, p)] = ident
        if self.first_try(("udp", sport, p, ident)):
            self.counts["sniffed_first_tries"] = self.counts.get("sniffed_first_tries", 0) + 1

        def reply(src, from_port, to_port):
            return ipv4(src, s, 17, udp(src, s, from_port, to_port, b"answer!!"), ttl=63)

        for other in (sport + 1, sport - 1):
            if SRC_PORT_BASE <= other < SRC_PORT_BASE + SRC_PORT_COUNT:
                self.send("near_miss_our_port", reply(t, p, other))
        for q in self.unscanned_udp + [x for x in self.udp_ports if x != p]:
            if self.udp_sport_of.get(q, sport) != sport:  # a scanned port whose probe used another port of ours
                self.send("wrong_source_port_udp", reply(t, q, sport))
            elif q in self.unscanned_udp:
                self.send("wrong_source_port_udp", reply(t, q, sport))
        self.send("wrong_address_udp", reply(a, p, sport))

        def quoted(qsrc_port, qdst, qdport, qident):
            return ipv4(s, qdst, 17, udp(s, qdst, qsrc_port, qdport, b"x" * 8), ident=qident)[:28]
        for q in (quoted(sport, t, p, ident ^ 1), quoted(sport, t, p, ident ^ 0x8000), quoted(sport, a, p, ident),
                  quoted(sport ^ 1, t, p, ident)):
            for code in (3, 13):
                self.send("icmp_quoting_unsent_udp", ipv4(t, s, 1, icmp_unreach(code, q), ttl=63))

        good = reply(t, p, sport)
        self.malformed_common(good)
        for length in (0, 4, 7, 300):
            self.send("malformed_udp_length", set_u16(good, 24, length))
        self.send("malformed_udp_header_cut", set_u16(good, 2, 24)[:24])  # consistent IP length, 4-byte UDP
        self.malformed_icmp(probe, 3)

    def malformed_common(self, good):
        """IP-level damage to a packet that, intact, would be a valid answer."""
        for cut in (len(good) - 1, 28, 21, 19, 12):
            self.send("malformed_truncated", good[:cut])  # IP total length says more
        for first in (0x44, 0x40, 0x4F, 0x48, 0x47):  # IHL < 5, or longer than the packet/segment allows
            self.send("malformed_bad_ihl", set_byte(good, 0, first))
        for total in (0, 16, 19):
            self.send("malformed_bad_total_length", set_u16(good, 2, total))
        for version in (0x65, 0x05, 0xF5):
            self.send("malformed_bad_version", set_byte(good, 0, version))
        for frag in (0x2000, 0x0001, 0x2001, 0x1FFF):  # more-fragments, non-zero offset
            self.send("malformed_fragment", set_u16(good, 6, frag))

    def malformed_icmp(self, probe, code):
        """ICMP errors quoting the real probe (which would count), made malformed."""
        s, t = self.scanner, self.target
        whole = ipv4(t, s, 1, icmp_unreach(code, probe[:28]), ttl=63)
        self.send("malformed_icmp", set_u16(whole, 6, 0x2000))             # outer packet a fragment
        self.send("malformed_icmp", ipv4(t, s, 1, icmp_unreach(code, probe[:24]), ttl=63))  # 4 bytes of quote
        self.send("malformed_icmp", ipv4(t, s, 1, icmp_unreach(code, set_byte(probe[:28], 0, 0x44)), ttl=63))
        self.send("malformed_icmp", ipv4(t, s, 1, icmp_unreach(code, set_byte(probe[:28], 0, 0x4F)), ttl=63))
        self.send("malformed_icmp", ipv4(t, s, 1, icmp_unreach(code, set_u16(probe[:28], 6, 0x0001)), ttl=63))
        self.send("malformed_icmp", whole[:len(whole) - 3])              # truncated outer packet
        self.send("malformed_icmp", ipv4(t, s, 1, icmp_unreach(code, b"")[:6], ttl=63))  # ICMP header cut

    # ---- main loop ------------------------------------------------------------------

    def run(self):
        args = self.args
        deadline = time.monotonic() + args.max_seconds
        start = time.monotonic()
        sent_blind = 0
        ready_written = False
        while not self.stop and time.monotonic() < deadline:
            if args.stop_file and os.path.exists(args.stop_file):
                break
            rnd = self.rounds
            for d in range(SRC_PORT_BASE, SRC_PORT_BASE + SRC_PORT_COUNT):
                before = sum(self.counts.values())
                self.blind(d, rnd)
                sent_blind += sum(self.counts.values()) - before
                if d % 32 == 0:
                    self.drain()
                    # Pace the flood: never ahead of --pps since the start.
                    ahead = sent_blind / args.pps - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(ahead)
                    if not ready_written and args.ready_file:
                        open(args.ready_file, "w").close()
                        ready_written = True
                    if self.stop or time.monotonic() >= deadline or (args.stop_file and os.path.exists(args.stop_file)):
                        break
            else:
                self.rounds += 1
        self.drain()

    def stats(self):
        return {"rounds": self.rounds, "probes_sniffed": self.probes, "send_errors": self.send_errors,
                "sent_total": sum(self.counts.values()), "counts": dict(sorted(self.counts.items()))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst-mac", required=True, help="MAC address of the scanner's interface")
    ap.add_argument("--scanner", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--alias", required=True, help="a second address of the target namespace")
    ap.add_argument("--tcp-ports", required=True)
    ap.add_argument("--udp-ports", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--ready-file")
    ap.add_argument("--stop-file")
    ap.add_argument("--pps", type=float, default=40000)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()

    inj = Injector(args)

    def on_signal(_sig, _frame):
        inj.stop = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        inj.run()
    finally:
        with open(args.stats + ".tmp", "w") as f:
            json.dump(inj.stats(), f, indent=1)
        os.replace(args.stats + ".tmp", args.stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
