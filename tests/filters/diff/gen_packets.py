#!/usr/bin/python3
"""Write the frames of one differential case into a pcap, deterministically.

    gen_packets.py CASE OUT.pcap      CASE: a name in cases/ or a path to NAME.py

A case's cases/NAME.py defines `build(b)`, which adds frames through the Builder `b`
below: single frames from the guest (b.g) or from upstream (b.u), stateful helpers
(b.tcp, b.udp, b.ping, b.icmp_error) and a seeded random mix (b.mix). The random
generator is seeded from the case name, so a case always yields the same frames.

Frames are valid for the router of topology.py: addressed to its MACs, TTL/hop limit
64, checksums computed, unicast addresses outside the router's own subnets. Frames
from the guest use topology.GUEST_MAC as source (the --iif-mac); every other frame
comes from upstream. Timestamps start at a fixed time and advance 1 ms a frame.
"""

import importlib.util
import ipaddress
import os
import random
import struct
import sys
import zlib

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topology as topo  # noqa: E402

from scapy.config import conf  # noqa: E402
conf.verb = 0
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.layers.inet import IP, TCP, UDP, ICMP  # noqa: E402
from scapy.layers.inet6 import (IPv6, ICMPv6EchoRequest, ICMPv6EchoReply,  # noqa: E402
                                ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6TimeExceeded,
                                ICMPv6ParamProblem)
from scapy.packet import Raw  # noqa: E402

CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
MIN_FRAMES = 100
T0 = 1700000000  # fixed capture start (seconds)

# Address pools the random mix draws from.
GUEST4 = ["10.1.0.%d" % i for i in (2, 3, 5, 10, 77, 200)] + ["10.1.7.9", "10.1.255.1"]
GUEST6 = ["fd00:1::%x" % i for i in (2, 3, 5, 0x10, 0x77, 0xbeef)]
UP4 = ["198.51.100.%d" % i for i in (1, 7, 53, 80, 200)] + ["203.0.113.9", "8.8.8.8",
                                                            "93.184.216.34"]
UP6 = ["2001:db8:2::%x" % i for i in (1, 7, 0x53, 0x80)] + ["2001:db8:99::1",
                                                            "2606:4700::1111"]
PORTS = [0, 1, 22, 23, 53, 79, 80, 81, 123, 443, 1023, 1024, 1025, 3306, 5353, 8080,
         32768, 49152, 65535]
ICMP_ECHO = 8
ICMP_REPLY = 0
_RESERVED = [ipaddress.ip_network(n) for n in topo.RESERVED_NETS]


def is_v6(addr):
    return ":" in addr


def check_addr(addr):
    a = ipaddress.ip_address(addr)
    if a.is_multicast or a.is_loopback or a.is_link_local or a.is_unspecified:
        raise ValueError("address %s cannot be forwarded" % addr)
    if any(a in n for n in _RESERVED if n.version == a.version):
        raise ValueError("address %s is in the router's own subnets" % addr)


def ip_hdr(src, dst, **kw):
    """An IPv4 or IPv6 header (by the address family) with TTL/hop limit 64."""
    check_addr(src)
    check_addr(dst)
    if is_v6(src):
        kw.setdefault("hlim", 64)
        return IPv6(src=src, dst=dst, **kw)
    kw.setdefault("ttl", 64)
    return IP(src=src, dst=dst, **kw)


def in_guest_net(addr):
    a = ipaddress.ip_address(addr)
    net = ipaddress.ip_network(topo.GUEST_NET6 if a.version == 6 else topo.GUEST_NET4)
    return a in net


class Builder:
    def __init__(self, name):
        self.name = name
        self.rng = random.Random(zlib.crc32(name.encode()))
        self.frames = []

    def ip(self, src, dst, **kw):
        """An IPv4 or IPv6 header, TTL/hop limit 64 (see ip_hdr)."""
        return ip_hdr(src, dst, **kw)

    # ---- single frames -------------------------------------------------------------
    def g(self, l3, pad_to=0):
        """A frame from the guest (source GUEST_MAC) into the router's guest-side port."""
        return self._add(Ether(src=topo.GUEST_MAC, dst=topo.ROUTER_IIF_MAC) / l3, pad_to)

    def u(self, l3, mac=topo.UPSTREAM_MAC, pad_to=0):
        """A frame from upstream (any MAC but GUEST_MAC) into the router's uplink port."""
        assert mac.lower() != topo.GUEST_MAC
        return self._add(Ether(src=mac, dst=topo.ROUTER_OIF_MAC) / l3, pad_to)

    def send(self, src, dst, l4, pad_to=0, **ipkw):
        """One frame from src to dst; the side follows from src (guest prefix or not).
        @ipkw are IP/IPv6 header fields (tos, id, flags, tc, fl, ...)."""
        l3 = ip_hdr(src, dst, **ipkw) / l4
        if in_guest_net(src):
            return self.g(l3, pad_to=pad_to)
        return self.u(l3, pad_to=pad_to)

    def _add(self, frame, pad_to):
        l3 = frame.payload
        if isinstance(l3, (IP, IPv6)):
            # The router must send it out the other port: vifwall replays iif<->oif only.
            to_guest = in_guest_net(l3.dst)
            if to_guest != (frame.src != topo.GUEST_MAC):
                raise ValueError("frame %s -> %s would not cross the router between its "
                                 "two ports" % (l3.src, l3.dst))
        data = bytes(frame)  # computes lengths and checksums
        if len(data) > 14 + 1500:
            raise ValueError("frame of %d bytes exceeds the 1500-byte MTU" % len(data))
        if pad_to and len(data) < pad_to:  # Ethernet padding after the IP packet
            data += b"\0" * (pad_to - len(data))
        self.frames.append(data)
        return data

    # ---- flows ---------------------------------------------------------------------
    def tcp(self, client, server, sport, dport, **kw):
        return TcpFlow(self, client, server, sport, dport, **kw)

    def udp(self, src, dst, sport, dport, payload=b"q", **ipkw):
        return self.send(src, dst, UDP(sport=sport, dport=dport) / Raw(payload), **ipkw)

    def ping(self, src, dst, ident, seq, reply=False, payload=b"ping", **ipkw):
        if is_v6(src):
            cls = ICMPv6EchoReply if reply else ICMPv6EchoRequest
            return self.send(src, dst, cls(id=ident, seq=seq, data=payload), **ipkw)
        return self.send(src, dst, ICMP(type=ICMP_REPLY if reply else ICMP_ECHO, id=ident,
                                        seq=seq) / Raw(payload), **ipkw)

    def icmp_error(self, orig, src, kind="unreach", code=None, mtu=1280):
        """An ICMP(v6) error from @src about the frame @orig (bytes, as sent), to its
        sender, quoting its IP header and the start of its payload."""
        l3 = Ether(orig).payload
        quoted = bytes(l3)
        if isinstance(l3, IPv6):
            quoted = quoted[:1232 - 48]
            if kind == "unreach":
                l4 = ICMPv6DestUnreach(code=4 if code is None else code)
            elif kind == "toobig":
                l4 = ICMPv6PacketTooBig(mtu=mtu)
            elif kind == "timex":
                l4 = ICMPv6TimeExceeded(code=0 if code is None else code)
            else:
                l4 = ICMPv6ParamProblem(code=0 if code is None else code, ptr=6)
            return self.send(src, l3.src, l4 / Raw(quoted))
        quoted = quoted[:l3.ihl * 4 + 8]
        types = {"unreach": 3, "timex": 11, "param": 12, "quench": 4, "redirect": 5}
        t = types[kind]
        if code is None:
            code = 3 if t == 3 else 0
        kw = {"nexthopmtu": mtu} if (t == 3 and code == 4) else {}
        return self.send(src, l3.src, ICMP(type=t, code=code, **kw) / Raw(quoted))

    # ---- random mix ----------------------------------------------------------------
    def mix(self, n, v6=0.3, protos=("tcp", "udp", "icmp"), guest4=GUEST4, guest6=GUEST6,
            up4=UP4, up6=UP6, ports=PORTS, from_guest=0.6, tcp_flags=None, **ipkw):
        """@n frames of seeded random traffic drawn from the given pools."""
        r = self.rng
        for _ in range(n):
            six = r.random() < v6
            g = r.choice(guest6 if six else guest4)
            u = r.choice(up6 if six else up4)
            src, dst = (g, u) if r.random() < from_guest else (u, g)
            proto = r.choice(protos)
            if proto == "tcp":
                flags = r.choice(tcp_flags or ["S", "S", "SA", "A", "PA", "FA", "R", "RA"])
                l4 = TCP(sport=r.choice(ports), dport=r.choice(ports), flags=flags,
                         seq=r.randrange(1 << 32), ack=r.randrange(1 << 32) if "A" in flags
                         else 0, window=r.choice([0, 512, 8192, 65535]))
                if r.random() < 0.3:
                    l4 = l4 / Raw(b"x" * r.choice([1, 10, 100, 1000]))
            elif proto == "udp":
                l4 = UDP(sport=r.choice(ports), dport=r.choice(ports)) / Raw(
                    b"u" * r.choice([0, 1, 20, 300]))
            elif six:
                l4 = (ICMPv6EchoRequest if r.random() < 0.7 else ICMPv6EchoReply)(
                    id=r.randrange(65536), seq=r.randrange(65536), data=b"p" * r.choice([0, 8]))
            else:
                l4 = ICMP(type=r.choice([ICMP_ECHO, ICMP_ECHO, ICMP_REPLY]),
                          id=r.randrange(65536), seq=r.randrange(65536)) / Raw(b"p" * 8)
            kw = dict(ipkw)
            if not six and "tos" not in kw and r.random() < 0.3:
                kw["tos"] = r.choice([0x04, 0x10, 0x28, 0xb8, 0x01, 0x03])
            if six and "tc" not in kw and r.random() < 0.3:
                kw["tc"] = r.choice([0x04, 0x28, 0xb8, 0x02])
            self.send(src, dst, l4, **kw)


class TcpFlow:
    """A TCP connection with valid sequence numbers on both sides.

    The client is the side that sends the SYN. Every method adds one frame and returns
    its bytes; `seq`/`ack` overrides make deliberately wrong segments."""

    def __init__(self, b, client, server, sport, dport, window=65535):
        self.b = b
        self.addr = {True: client, False: server}
        self.port = {True: sport, False: dport}
        self.nxt = {True: b.rng.randrange(1 << 31), False: b.rng.randrange(1 << 31)}
        self.window = window
        self.synced = {True: False, False: False}

    def seg(self, from_client, flags, payload=b"", seq=None, ack=None, window=None, **ipkw):
        me, peer = from_client, not from_client
        s = self.nxt[me] if seq is None else seq
        a = self.nxt[peer] if ack is None else ack
        l4 = TCP(sport=self.port[me], dport=self.port[peer], flags=flags, seq=s,
                 ack=a if "A" in flags else 0,
                 window=self.window if window is None else window)
        if payload:
            l4 = l4 / Raw(payload)
        if seq is None:
            self.nxt[me] = (s + len(payload) + ("S" in flags) + ("F" in flags)) % (1 << 32)
        return self.b.send(self.addr[me], self.addr[peer], l4, **ipkw)

    def syn(self, **kw):
        return self.seg(True, "S", **kw)

    def synack(self, **kw):
        return self.seg(False, "SA", **kw)

    def ack(self, from_client=True, **kw):
        return self.seg(from_client, "A", **kw)

    def data(self, from_client=True, n=100, **kw):
        return self.seg(from_client, "PA", payload=b"d" * n, **kw)

    def fin(self, from_client=True, **kw):
        return self.seg(from_client, "FA", **kw)

    def rst(self, from_client=True, **kw):
        return self.seg(from_client, "R", **kw)

    def handshake(self):
        self.syn()
        self.synack()
        self.ack()

    def close(self, from_client=True):
        self.fin(from_client)
        self.ack(not from_client)
        self.fin(not from_client)
        self.ack(from_client)

    def session(self, exchanges=2):
        self.handshake()
        for _ in range(exchanges):
            self.data(True, self.b.rng.choice([10, 100, 500]))
            self.data(False, self.b.rng.choice([10, 100, 1000]))
        self.close(self.b.rng.random() < 0.5)


def load_case(case):
    sys.modules.setdefault("gen_packets", sys.modules[__name__])
    path = case if case.endswith(".py") else os.path.join(CASES_DIR, case + ".py")
    name = os.path.basename(path)[:-3]
    spec = importlib.util.spec_from_file_location("vwdiff_case_" + name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return name, mod


def generate(case):
    name, mod = load_case(case)
    b = Builder(name)
    mod.build(b)
    return b.frames


def write_pcap(path, frames):
    """A classic little-endian pcap, Ethernet link type, microsecond timestamps."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, data in enumerate(frames):
            ts = T0 * 1000000 + i * 1000
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(data), len(data)))
            f.write(data)


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--outdir":
        jobs = [(c, os.path.join(args[1], os.path.basename(c)[:-3] if c.endswith(".py")
                                 else c) + ".pcap") for c in args[2:]]
    elif len(args) == 2:
        jobs = [(args[0], args[1])]
    else:
        print("usage: gen_packets.py CASE OUT.pcap\n"
              "       gen_packets.py --outdir DIR CASE...   (prints CASE FRAMES per line)",
              file=sys.stderr)
        sys.exit(2)
    status = 0
    for case, out in jobs:
        try:
            frames = generate(case)
        except Exception as e:  # a broken case must not stop the others
            print("gen_packets: case %s: %s: %s" % (case, type(e).__name__, e), file=sys.stderr)
            status = 1
            continue
        if len(frames) < MIN_FRAMES:
            print("gen_packets: case %s has %d frames, fewer than %d" %
                  (case, len(frames), MIN_FRAMES), file=sys.stderr)
            status = 1
            continue
        write_pcap(out, frames)
        print("%s %d" % (case, len(frames)) if len(jobs) > 1 or args[0] == "--outdir"
              else len(frames))
    sys.exit(status)


if __name__ == "__main__":
    main()
