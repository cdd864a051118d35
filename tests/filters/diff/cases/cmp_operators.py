"""Ports 1-9 select the rule; addresses, ports and sequence numbers around each bound."""
from scapy.layers.inet import TCP, UDP
from scapy.packet import Raw

G4 = ["10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.200", "10.1.0.201", "10.1.1.1"]
U4 = ["198.51.100.6", "198.51.100.7", "198.51.100.8", "198.51.100.199", "198.51.100.200",
      "203.0.113.9"]
G6 = ["fd00:1::4", "fd00:1::5", "fd00:1::6", "fd00:1::1:0"]
U6 = ["2001:db8:2::7", "2001:db8:2::53", "2001:db8:2::54", "2001:db8:1::1"]


def build(b):
    r = b.rng
    for i in range(170):
        six = r.random() < 0.35
        g, u = (r.choice(G6), r.choice(U6)) if six else (r.choice(G4), r.choice(U4))
        src, dst = (g, u) if r.random() < 0.6 else (u, g)
        dport = r.randrange(1, 10)
        if dport == 7:
            l4 = UDP(sport=r.choice([100, 1000]), dport=7)
            kw = {} if six else {"tos": r.choice([0, 0x40, 0x44, 0x48, 0xa0, 0xa4, 0xc0])}
        else:
            l4 = TCP(sport=r.choice([1, 255, 256, 257, 1000, 64999, 65000, 65001]), dport=dport,
                     flags="A", seq=r.choice([0, 99999, 100000, 100001, 3999999999,
                                              4000000000, 4294967295]))
            kw = {}
        if r.random() < 0.3:
            l4 = l4 / Raw(b"x" * r.choice([1, 20, 21]))
        b.send(src, dst, l4, **kw)
