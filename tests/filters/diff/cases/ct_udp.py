"""DNS-like and NTP-like exchanges, unsolicited datagrams, replies to dropped requests,
replies from the wrong port; IPv4 and IPv6."""


def build(b):
    r = b.rng
    for i in range(20):
        six = i % 4 == 3
        g = "fd00:1::5" if six else "10.1.0.%d" % (5 + i % 3)
        u = "2001:db8:2::53" if six else r.choice(["198.51.100.53", "8.8.8.8"])
        sport = 30000 + i
        dport = r.choice([53, 53, 123, 5500, 7000])
        b.udp(g, u, sport, dport, b"q" * 30)
        b.udp(u, g, dport, sport, b"a" * 80)           # the reply
        b.udp(g, u, sport, dport, b"q" * 20)           # a second request, same flow
        b.udp(u, g, dport, sport, b"a" * 60)
        if i % 5 == 0:
            b.udp(u, g, dport + 1, sport, b"x")         # reply from another port: new
        if i % 7 == 0:
            b.udp(u, g, 4444, 9999, b"inbound")         # unsolicited, allowed port
            b.udp(g, u, 9999, 4444, b"back")            # its reply, from the guest
    for i in range(10):
        b.udp("198.51.100.66", "10.1.0.5", 6000 + i, 1234, b"scan")
