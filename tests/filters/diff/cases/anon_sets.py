"""Random traffic over the set members and their neighbours."""


def build(b):
    b.mix(150, v6=0.35, ports=[1, 22, 23, 53, 80, 100, 101, 443, 999, 1000, 1500, 2000, 2001,
                               3389, 33434])
    from scapy.layers.inet import TCP
    for src in ("10.1.0.2", "10.1.0.15", "10.1.7.9", "10.1.0.21"):
        b.send(src, "198.51.100.7", TCP(sport=2000, dport=80, flags="S"))
    for flags in ("S", "SA", "A"):
        b.send("198.51.100.7", "10.1.0.5", TCP(sport=2000, dport=443, flags=flags))
    for tos in (0x20, 0x88, 0x00):
        b.send("10.1.0.5", "198.51.100.7", TCP(sport=2000, dport=9, flags="S"), tos=tos)
