"""IPv6 frames with chosen traffic class, flow labels and payload lengths."""
from scapy.layers.inet import TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest
from scapy.packet import Raw


def build(b):
    r = b.rng
    for i in range(130):
        src, dst = r.choice([("fd00:1::5", "2001:db8:2::7"), ("2001:db8:2::9", "fd00:1::3")])
        tc = r.choice([0, 0x20, 0x28, 0xb8, 0x01, 0x02, 0x03, 0x21])
        fl = r.choice([0, 1, 7, 100, 101, 12345, 1000000, 1000001, 0xfffff])
        dport = r.choice([9, 53, 80, 443])
        kind = r.choice(["tcp", "udp", "icmp"])
        n = r.choice([0, 1, 2, 80, 92, 180, 192, 990, 1100])
        if kind == "tcp":
            l4 = TCP(sport=1234, dport=dport, flags="S") / Raw(b"t" * n)
        elif kind == "udp":
            l4 = UDP(sport=1234, dport=dport) / Raw(b"u" * n)
        else:
            l4 = ICMPv6EchoRequest(id=i, seq=1, data=b"i" * n)
        b.send(src, dst, l4, tc=tc, fl=fl)
