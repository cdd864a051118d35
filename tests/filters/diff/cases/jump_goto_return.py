"""Random traffic through nested jump/goto/return chains."""


def build(b):
    b.mix(140, protos=("tcp", "udp", "icmp"), ports=[22, 53, 80, 123, 443, 999, 5353, 8080])
    from scapy.layers.inet import TCP, UDP
    from scapy.layers.inet6 import ICMPv6EchoReply
    from scapy.packet import Raw
    for src in ("10.1.0.5", "10.1.0.6"):                     # goto dns, both ends of it
        for n in (10, 200):
            b.send(src, "203.0.113.9", UDP(sport=3333, dport=53) / Raw(b"d" * n))
    b.send("10.1.0.5", "198.51.100.7", TCP(sport=2000, dport=80, flags="S"))   # web: syn
    b.send("10.1.0.5", "198.51.100.7", TCP(sport=2000, dport=80, flags="R"))   # web: rst
    b.send("198.51.100.7", "10.1.0.5", TCP(sport=443, dport=2000, flags="SA"))
    b.send("198.51.100.7", "10.1.0.5", UDP(sport=53, dport=2000))
    b.send("8.8.8.8", "10.1.0.5", UDP(sport=53, dport=2000))                   # return
    b.send("2001:db8:2::7", "fd00:1::5", ICMPv6EchoReply(id=1, seq=1))
