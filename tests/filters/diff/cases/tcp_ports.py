"""TCP frames with ports at and around every boundary."""
from scapy.layers.inet import TCP

PORTS = [0, 1, 9, 10, 11, 22, 25, 53, 79, 80, 81, 110, 143, 443, 1023, 1024, 2999, 3000,
         3500, 3999, 4000, 4999, 5000, 5100, 5101, 8080, 49151, 49152, 50000, 59999, 60000,
         60001, 65535]


def build(b):
    r = b.rng
    for i in range(150):
        src, dst = r.choice([("10.1.0.5", "198.51.100.7"), ("198.51.100.9", "10.1.0.3"),
                             ("fd00:1::5", "2001:db8:2::7"), ("2001:db8:2::1", "fd00:1::2")])
        b.send(src, dst, TCP(sport=r.choice(PORTS), dport=r.choice(PORTS),
                             flags=r.choice(["S", "A", "PA"]), seq=r.randrange(1 << 32)))
