"""IPv4 frames with chosen dscp/ecn, ids, DF set or not, many lengths."""
from scapy.layers.inet import TCP, UDP, ICMP
from scapy.packet import Raw


def build(b):
    r = b.rng
    for i in range(130):
        src, dst = r.choice([("10.1.0.5", "198.51.100.7"), ("198.51.100.9", "10.1.0.3")])
        tos = r.choice([0, 0x20, 0x28, 0xb8, 0x80, 0xa0, 0x01, 0x02, 0x03, 0x21, 0x29])
        ident = r.choice([1, 7, 999, 1000, 1050, 1100, 1101, 4242, 65535])
        flags = r.choice(["", "DF"])
        dport = r.choice([9, 53, 80, 123, 443])
        kind = r.choice(["tcp", "udp", "icmp"])
        n = r.choice([0, 2, 10, 60, 72, 160, 172, 300])
        if kind == "tcp":
            l4 = TCP(sport=1234, dport=dport, flags="S") / Raw(b"t" * n)
        elif kind == "udp":
            l4 = UDP(sport=1234, dport=dport) / Raw(b"u" * n)
        else:
            l4 = ICMP(id=i, seq=1) / Raw(b"i" * n)
        b.send(src, dst, l4, tos=tos, id=ident, flags=flags)
