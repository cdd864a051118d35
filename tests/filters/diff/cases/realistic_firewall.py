"""A day in a guest's life: sessions out and in, scans, pings, spoofed sources."""
from scapy.layers.inet import UDP
from scapy.packet import Raw


def build(b):
    r = b.rng
    for i in range(4):
        b.tcp("10.1.0.5", r.choice(["198.51.100.80", "203.0.113.9"]), 41000 + i,
              r.choice([80, 443])).session(2)
    b.tcp("fd00:1::5", "2001:db8:2::80", 41100, 443).session(2)
    smtp = b.tcp("10.1.0.5", "203.0.113.25", 41200, 25)
    smtp.syn()
    smtp.syn(seq=smtp.nxt[True] - 1)
    b.tcp("198.51.100.10", "10.1.0.5", 53000, 22).session(1)       # trusted ssh
    ssh = b.tcp("203.0.113.66", "10.1.0.5", 53001, 22)               # untrusted ssh
    ssh.syn()
    b.tcp("203.0.113.66", "10.1.0.5", 53002, 80).session(1)          # public web
    b.tcp("2001:db8:2::66", "fd00:1::5", 53003, 443).session(1)
    for i in range(8):
        b.ping("203.0.113.66", "10.1.0.5", 600, i)
        b.ping("2001:db8:2::66", "fd00:1::5", 601, i)
    for i in range(5):
        b.udp("10.1.0.5", "198.51.100.53", 34000 + i, 53, b"q")
        b.udp("198.51.100.53", "10.1.0.5", 53, 34000 + i, b"a" * 40)
    for port in (21, 23, 3306, 5432, 6379, 8080):
        b.tcp("203.0.113.99", "10.1.0.5", 50000 + port, port).syn()
    for i in range(4):                                               # spoofed sources
        b.g(b.ip("172.16.0.%d" % (i + 1), "198.51.100.53") / UDP(sport=53, dport=53) /
            Raw(b"s"))
    b.mix(20, ports=[22, 53, 80, 443, 5000])
