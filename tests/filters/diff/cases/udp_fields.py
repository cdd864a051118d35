"""UDP frames with ports and lengths around every boundary."""
from scapy.layers.inet import UDP
from scapy.packet import Raw

PORTS = [9, 53, 67, 68, 123, 136, 137, 139, 140, 1023, 1024, 33433, 33434, 33500, 33534,
         33535, 50000]


def build(b):
    r = b.rng
    for i in range(140):
        src, dst = r.choice([("10.1.0.5", "198.51.100.7"), ("198.51.100.53", "10.1.0.3"),
                             ("fd00:1::5", "2001:db8:2::53"), ("2001:db8:2::53", "fd00:1::5")])
        n = r.choice([0, 1, 12, 13, 91, 92, 150, 192, 193, 504, 505, 1000])
        b.send(src, dst, UDP(sport=r.choice(PORTS), dport=r.choice(PORTS)) / Raw(b"u" * n))
