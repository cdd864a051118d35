"""Outbound and inbound TCP connections: handshakes, data both ways, FIN and RST
teardowns, half-closes, segments after the close, refused inbound connections, reuse of
a tuple after close; IPv4 and IPv6, flows interleaved."""


def build(b):
    r = b.rng
    flows = []
    for i in range(6):
        six = i % 3 == 2
        g = "fd00:1::5" if six else "10.1.0.5"
        u = "2001:db8:2::80" if six else "198.51.100.80"
        flows.append(b.tcp(g, u, 40000 + i, 80))
    # Interleaved handshakes and data.
    for f in flows:
        f.syn()
    for f in flows:
        f.synack()
        f.ack()
    for _ in range(3):
        for f in flows:
            f.data(True, r.choice([10, 200]))
            f.data(False, r.choice([10, 1000]))
            f.ack(True)
    # Teardowns: client FIN, server FIN, RST from either side, half-close with data.
    flows[0].close(True)
    flows[1].close(False)
    flows[2].rst(True)
    flows[3].rst(False)
    flows[4].fin(True)
    flows[4].data(False, 50)
    flows[4].ack(True)
    flows[4].fin(False)
    flows[4].ack(True)
    flows[5].fin(True)
    flows[5].fin(False)
    flows[5].ack(True)
    # After the end: stray segments on closed flows.
    flows[0].ack(True)
    flows[2].data(False, 10)
    flows[3].ack(True)
    # Inbound: allowed to 8080, refused to 22 (SYN retried, then a stray reply).
    inbound = b.tcp("198.51.100.9", "10.1.0.7", 51000, 8080)
    inbound.session(3)
    refused = b.tcp("198.51.100.9", "10.1.0.7", 51001, 22)
    refused.syn()
    refused.syn(seq=refused.nxt[True] - 1)
    refused.synack()
    inbound6 = b.tcp("2001:db8:2::9", "fd00:1::7", 51002, 8080)
    inbound6.session(2)
    # Reuse of a tuple after a full close (TIME_WAIT), and a fresh outbound session.
    again = b.tcp("10.1.0.5", "198.51.100.80", 40000, 80)
    again.session(2)
    for i in range(3):
        b.tcp("10.1.0.6", "203.0.113.9", 42000 + i, 443).session(2)
