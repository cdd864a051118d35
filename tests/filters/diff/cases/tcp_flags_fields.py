"""TCP frames with every flag combination of interest and chosen header fields."""
from scapy.layers.inet import TCP
from scapy.packet import Raw

FLAGS = ["S", "SA", "A", "PA", "F", "FA", "R", "RA", "SF", "SR", "FPU", "", "U", "UA",
         "SE", "SEC", "AC", "FSRPAU"]


def build(b):
    r = b.rng
    for i in range(150):
        src, dst = r.choice([("10.1.0.5", "198.51.100.7"), ("198.51.100.9", "10.1.0.3"),
                             ("fd00:1::5", "2001:db8:2::7")])
        opts = r.choice([[], [], [("MSS", 1460)], [("NOP", None), ("NOP", None),
                                                   ("Timestamp", (1, 0))]])
        l4 = TCP(sport=r.choice([80, 1234]), dport=r.choice([9, 21, 22, 23, 25, 80, 443,
                                                               8080]),
                 flags=r.choice(FLAGS), window=r.choice([0, 100, 1023, 1024, 65535]),
                 seq=r.choice([0, 500, 1000, 1001, 1234567, r.randrange(1 << 32)]),
                 ack=r.choice([0, 42, 43, r.randrange(1 << 32)]),
                 urgptr=r.choice([0, 0, 5]), options=opts)
        if r.random() < 0.3:
            l4 = l4 / Raw(b"x" * 20)
        b.send(src, dst, l4)
