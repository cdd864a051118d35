"""Established connections hit with invalid segments, plus odd flags on new tuples."""


def build(b):
    r = b.rng
    for i in range(6):
        six = i % 2 == 1
        g = "fd00:1::5" if six else "10.1.0.5"
        u = "2001:db8:2::80" if six else "198.51.100.80"
        f = b.tcp(g, u, 43000 + i, 80, window=8192)
        f.handshake()
        f.data(True, 100)
        f.ack(False)
        # far beyond the window, both directions
        f.seg(True, "PA", payload=b"z" * 10, seq=(f.nxt[True] + 5000000) % (1 << 32))
        f.seg(False, "PA", payload=b"z" * 10, seq=(f.nxt[False] + 3000000000) % (1 << 32))
        # acknowledging data never sent
        f.seg(True, "A", ack=(f.nxt[False] + 1000000) % (1 << 32))
        # bad flag combinations inside the connection
        f.seg(True, "SF")
        f.seg(False, "SR")
        f.seg(True, "")
        f.seg(False, "FPU")
        # a SYN on the established connection, and its old SYN again
        f.seg(True, "S", seq=(f.nxt[True] + 100000) % (1 << 32))
        # the connection still works
        f.data(True, 20)
        f.data(False, 20)
        f.ack(True)
        # RST with a sequence number outside the window, then a valid one
        f.seg(False, "R", seq=(f.nxt[False] + 4000000) % (1 << 32))
        f.data(True, 5)
        f.rst(False)
        f.data(True, 5)
    # New tuples opened with odd flags (no SYN: mid-stream pickup; or invalid combos).
    for i, flags in enumerate(["A", "PA", "FA", "R", "RA", "SA", "SF", "SR", "", "FPU",
                               "S", "SE", "U"]):
        g = "10.1.0.%d" % (10 + i % 3)
        f = b.tcp(g, "203.0.113.9", 45000 + i, 443)
        f.seg(True, flags, payload=b"m" * (5 if "A" in flags else 0))
        f.seg(False, "A")
        f.seg(True, "PA", payload=b"n" * 5)
