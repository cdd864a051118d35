"""Traffic over the concatenated keys and near misses."""


def build(b):
    more(b)
    b.mix(170, v6=0.35, guest4=["10.1.0.3", "10.1.0.5", "10.1.0.7", "10.1.0.8", "10.1.7.9",
                                "10.1.1.1"],
          up4=["198.51.100.7", "203.0.113.9"], guest6=["fd00:1::2", "fd00:1::3", "fd00:1::4"],
          up6=["2001:db8:2::53", "2001:db8:2::7", "2001:db8:2::8"],
          ports=[22, 53, 80, 85, 90, 91, 123, 443, 999, 1000, 1500, 1999, 2000, 2001, 8080])


def more(b):
    """Exact hits on the named concatenated sets."""
    from scapy.layers.inet import TCP, UDP
    for src, port in (("10.1.0.5", 22), ("10.1.0.5", 443), ("10.1.0.3", 80), ("10.1.0.3", 22),
                      ("10.1.0.4", 80)):
        b.send(src, "198.51.100.7", TCP(sport=40000, dport=port, flags="S"))
    for dst, port in (("2001:db8:2::53", 53), ("2001:db8:2::7", 123), ("2001:db8:2::7", 53)):
        b.send("fd00:1::4", dst, UDP(sport=40000, dport=port))
