"""Packets of many lengths, some small ones padded to the Ethernet minimum (60 bytes)."""
from scapy.layers.inet import TCP, UDP, ICMP
from scapy.layers.inet6 import ICMPv6EchoRequest
from scapy.packet import Raw


def build(b):
    r = b.rng
    for i in range(60):
        n = r.choice([0, 1, 4, 12, 13, 20, 21, 40, 44, 56, 57, 80, 100, 960, 961, 1360,
                      1400, 1420])
        kind = r.choice(["udp", "tcp", "icmp"])
        v6 = r.random() < 0.35
        src, dst = ("fd00:1::5", "2001:db8:2::7") if v6 else ("10.1.0.5", "198.51.100.7")
        if r.random() < 0.4:
            src, dst = dst, src
        if kind == "udp":
            l4 = UDP(sport=4000 + i, dport=9) / Raw(b"u" * n)
        elif kind == "tcp":
            l4 = TCP(sport=4000 + i, dport=9, flags="S") / Raw(b"t" * n)
        elif v6:
            l4 = ICMPv6EchoRequest(id=i, seq=1, data=b"e" * n)
        else:
            l4 = ICMP(id=i, seq=1) / Raw(b"e" * n)
        b.send(src, dst, l4, pad_to=60 if r.random() < 0.5 else 0)
    b.mix(50)
