"""Traffic over every map key and some misses."""


def build(b):
    b.mix(170, v6=0.3, ports=[1, 22, 53, 79, 80, 81, 443, 1023, 1024, 8080],
          guest4=["10.1.0.3", "10.1.0.5", "10.1.0.9"],
          up4=["198.51.100.7", "203.0.113.9", "8.8.8.8"])
    from scapy.layers.inet import TCP
    for src in ("10.1.0.5", "10.1.0.3"):
        b.send(src, "198.51.100.7", TCP(sport=2000, dport=8080, flags="S"))
    b.send("10.1.0.9", "198.51.100.7", TCP(sport=2000, dport=443, flags="R"))
