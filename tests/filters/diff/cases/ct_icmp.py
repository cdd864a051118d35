"""Pings both ways, ICMP errors about live flows (related) and about unknown ones."""


def build(b):
    r = b.rng
    for i in range(15):
        g = "10.1.0.%d" % (5 + i % 3)
        u = r.choice(["198.51.100.7", "203.0.113.9"])
        b.ping(g, u, 100 + i, 1)
        b.ping(u, g, 100 + i, 1, reply=True)
        b.ping(g, u, 100 + i, 2)
        b.ping(u, g, 100 + i, 2, reply=True)
        if i % 4 == 0:
            b.ping(u, g, 100 + i, 9, reply=True)           # reply to a request never sent
            b.ping(u, g, 900 + i, 1)                        # inbound ping
            b.ping(g, u, 900 + i, 1, reply=True)
    for i in range(12):
        g = "10.1.0.5"
        u = "198.51.100.53"
        req = b.udp(g, u, 31000 + i, 53, b"q" * 20)
        kind = ["unreach", "timex", "param", "unreach"][i % 4]
        code = [3, 0, 0, 4][i % 4]
        # from the far host, or a router on the way
        src = u if i % 2 == 0 else "203.0.113.1"
        b.icmp_error(req, src, kind, code=code, mtu=1400)
        b.udp(u, g, 53, 31000 + i, b"a" * 40)
    for i in range(5):
        f = b.tcp("10.1.0.6", "198.51.100.80", 46000 + i, 80)
        f.syn()
        syn = f.synack()
        b.icmp_error(syn, "10.1.0.6", "unreach", code=3)  # error from the guest side
        f.ack()
        data = f.data(True, 100)
        b.icmp_error(data, "203.0.113.1", "unreach", code=4, mtu=576)
    # errors quoting flows that never existed
    from scapy.layers.inet import UDP
    from scapy.layers.l2 import Ether
    for i in range(6):
        ghost = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
                      b.ip("10.1.0.9", "198.51.100.99") / UDP(sport=7777 + i, dport=53))
        b.icmp_error(ghost, "198.51.100.99", "unreach", code=3)
