"""Random traffic over set members and their neighbours, some from a blocked MAC."""
from scapy.layers.inet import UDP
from scapy.packet import Raw


def build(b):
    b.mix(150, v6=0.35, ports=[53, 80, 443, 1023, 1024, 8080, 32767, 32768, 49151, 49152, 65535])
    for i in range(6):
        b.u(b.ip("198.51.100.7", "10.1.0.5") / UDP(sport=53, dport=2000) / Raw(b"r"),
            mac="02:76:77:00:02:66")
    for src in ("10.1.0.5", "10.1.0.15", "10.1.0.16", "10.1.7.200"):
        b.send(src, "198.51.100.53", UDP(sport=2000, dport=53) / Raw(b"q"))
