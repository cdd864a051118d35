"""Addresses and ports chosen to land on both sides of every mask."""
from scapy.layers.inet import TCP

G4 = ["10.1.0.5", "10.1.7.5", "10.1.0.6", "10.1.0.7", "10.1.0.8"]
U4 = ["198.51.100.7", "203.0.113.7", "198.51.100.8", "198.51.100.9"]
G6 = ["fd00:1::5", "fd00:1::6", "fd00:1::1:5"]
U6 = ["2001:db8:2::7", "2001:db8:2::8"]


def build(b):
    r = b.rng
    for i in range(150):
        six = r.random() < 0.3
        g, u = (r.choice(G6), r.choice(U6)) if six else (r.choice(G4), r.choice(U4))
        src, dst = (g, u) if r.random() < 0.6 else (u, g)
        dport = r.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 32768, 40000])
        b.send(src, dst, TCP(sport=r.choice([1024, 1100, 1279, 1280, 2048, 40000]), dport=dport,
                             flags=r.choice(["S", "SA", "A", "FA", "R", "PA"]),
                             seq=r.randrange(1 << 32), ack=r.randrange(1 << 32)))
