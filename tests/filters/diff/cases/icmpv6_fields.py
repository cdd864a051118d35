"""ICMPv6 messages of many types and codes, both directions."""
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (IPv6, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6DestUnreach,
                                ICMPv6PacketTooBig, ICMPv6TimeExceeded, ICMPv6ParamProblem)
from scapy.packet import Raw


def build(b):
    r = b.rng
    for i in range(140):
        src, dst = r.choice([("fd00:1::5", "2001:db8:2::7"), ("2001:db8:2::9", "fd00:1::3")])
        inner = bytes(IPv6(src=dst, dst=src, hlim=60) / UDP(sport=5000, dport=53) /
                      Raw(b"q" * 8))
        t = r.choice(["req", "req", "rep", "rep", "unreach", "toobig", "timex", "param"])
        ident = r.choice([1, 5, 10, 11, 100, 2000])
        seq = r.choice([0, 5, 999, 1000, 40000])
        if t == "req":
            l4 = ICMPv6EchoRequest(id=ident, seq=seq, data=b"p" * 8)
        elif t == "rep":
            l4 = ICMPv6EchoReply(id=ident, seq=seq, data=b"p" * 8)
        elif t == "unreach":
            l4 = ICMPv6DestUnreach(code=r.choice([0, 1, 3, 4])) / Raw(inner)
        elif t == "toobig":
            l4 = ICMPv6PacketTooBig(mtu=r.choice([1280, 1399, 1400, 1500])) / Raw(inner)
        elif t == "timex":
            l4 = ICMPv6TimeExceeded(code=r.choice([0, 1])) / Raw(inner)
        else:
            l4 = ICMPv6ParamProblem(code=r.choice([0, 1]), ptr=6) / Raw(inner)
        b.send(src, dst, l4)
