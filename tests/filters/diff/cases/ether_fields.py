"""Upstream frames from several source MACs, guest frames from the guest MAC."""
from scapy.layers.inet import TCP, UDP, ICMP
from scapy.packet import Raw

MACS = ["02:76:77:00:02:01", "02:76:77:00:02:66", "02:76:77:00:02:67",
        "02:76:77:00:02:68", "0a:00:27:00:00:09"]


def build(b):
    r = b.rng
    for i in range(60):
        dport = r.choice([22, 53, 80, 443, 8080])
        src = r.choice(["198.51.100.7", "2001:db8:2::7"])
        dst = "fd00:1::5" if ":" in src else "10.1.0.5"
        l4 = r.choice([TCP(sport=dport, dport=dport, flags="S"), UDP(sport=dport, dport=dport)
                       / Raw(b"u")])
        b.u(b.ip(src, dst) / l4, mac=r.choice(MACS))
    b.mix(40, ports=[22, 53, 80, 443], from_guest=1.0)
    for i in range(10):
        b.g(b.ip("10.1.0.5", "198.51.100.7") / ICMP(id=i, seq=i))
