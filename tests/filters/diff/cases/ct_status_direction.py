"""Flows at every stage: first packet, unanswered retries, first reply, after the
handshake, long exchanges; TCP, UDP and ICMP, IPv4 and IPv6."""


def build(b):
    r = b.rng
    for i in range(6):
        six = i % 3 == 1
        g = "fd00:1::5" if six else "10.1.0.5"
        u = "2001:db8:2::80" if six else "198.51.100.80"
        f = b.tcp(g, u, 48000 + i, 80)
        f.syn()
        f.syn(seq=f.nxt[True] - 1)
        f.synack()
        f.ack()
        f.data(True, 50)
        f.data(False, 50)
        f.ack(True)
        f.close(True)
    for i in range(10):
        six = i % 3 == 2
        g = "fd00:1::5" if six else "10.1.0.5"
        u = "2001:db8:2::53" if six else "198.51.100.53"
        b.udp(g, u, 33000 + i, 53, b"q")
        b.udp(g, u, 33000 + i, 53, b"q")
        b.udp(u, g, 53, 33000 + i, b"a")
        b.udp(g, u, 33000 + i, 53, b"q")
        b.udp(u, g, 53, 33000 + i, b"a")
    for i in range(5):
        b.ping("10.1.0.5", "198.51.100.7", 400 + i, 1)
        b.ping("198.51.100.7", "10.1.0.5", 400 + i, 1, reply=True)
        b.ping("10.1.0.5", "198.51.100.7", 400 + i, 2)
        b.ping("fd00:1::5", "2001:db8:2::7", 400 + i, 1)
        b.ping("2001:db8:2::7", "fd00:1::5", 400 + i, 1, reply=True)
