"""ICMP messages of many types and codes, both directions."""
from scapy.layers.inet import ICMP, IP, UDP
from scapy.packet import Raw


def build(b):
    r = b.rng
    for i in range(140):
        src, dst = r.choice([("10.1.0.5", "198.51.100.7"), ("198.51.100.9", "10.1.0.3")])
        t = r.choice([0, 0, 8, 8, 3, 5, 11, 12, 13, 14, 4])
        code = r.choice([0, 0, 1, 3, 4]) if t in (3, 8) else 0
        if t in (0, 8, 13, 14):
            l4 = ICMP(type=t, code=code, id=r.choice([1, 5, 10, 11, 100, 2000]),
                      seq=r.choice([0, 5, 1000, 1001, 40000])) / Raw(b"p" * 8)
        else:
            inner = bytes(IP(src=dst, dst=src, ttl=60) / UDP(sport=5000, dport=53))[:28]
            kw = {}
            if t == 3 and code == 4:
                kw["nexthopmtu"] = r.choice([576, 1399, 1400, 1500])
            if t == 5:
                kw["gw"] = r.choice(["198.51.100.1", "198.51.100.2"])
            l4 = ICMP(type=t, code=code, **kw) / Raw(inner)
        b.send(src, dst, l4)
