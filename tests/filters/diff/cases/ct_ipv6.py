"""IPv6 sessions and errors, mirroring the IPv4 stateful cases."""


def build(b):
    r = b.rng
    for i in range(4):
        f = b.tcp("fd00:1::5", "2001:db8:2::80", 47000 + i, 443)
        f.handshake()
        d = f.data(True, 1000)
        b.icmp_error(d, "2001:db8:2::1", "toobig", mtu=1280)
        f.data(True, 500)
        f.data(False, 800)
        f.ack(True)
        f.close(i % 2 == 0)
    inbound = b.tcp("2001:db8:2::9", "fd00:1::7", 52000, 22)
    inbound.session(3)
    refused = b.tcp("2001:db8:2::9", "fd00:1::7", 52001, 23)
    refused.syn()
    refused.synack()
    for i in range(10):
        req = b.udp("fd00:1::5", "2001:db8:2::53", 32000 + i, 53, b"q" * 30)
        if i % 3 == 0:
            b.icmp_error(req, "2001:db8:2::53", "unreach", code=4)
        elif i % 3 == 1:
            b.icmp_error(req, "2001:db8:99::1", "timex", code=0)
        b.udp("2001:db8:2::53", "fd00:1::5", 53, 32000 + i, b"a" * 50)
    for i in range(8):
        b.ping("fd00:1::5", "2001:db8:2::7", 200 + i, 1)
        b.ping("2001:db8:2::7", "fd00:1::5", 200 + i, 1, reply=True)
        b.ping("2001:db8:2::7", "fd00:1::6", 300 + i, 1)
        b.ping("fd00:1::6", "2001:db8:2::7", 300 + i, 1, reply=True)
    from scapy.layers.inet import UDP
    from scapy.layers.l2 import Ether
    for i in range(5):
        ghost = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
                      b.ip("fd00:1::9", "2001:db8:2::99") / UDP(sport=8000 + i, dport=53))
        b.icmp_error(ghost, "2001:db8:2::99", "unreach", code=4)
