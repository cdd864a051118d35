"""One frame aimed at each of the 200 rules (read from many_rules.nft, in a shuffled
order; an earlier rule may still catch it), plus random traffic over the same small
address and port space."""
import os
import re

from scapy.layers.inet import ICMP, TCP, UDP
from scapy.packet import Raw

G4 = ["10.1.%d.%d" % (a, h) for a in (0, 1) for h in range(1, 20)]
U4 = ["198.51.100.%d" % h for h in range(1, 20)]
G6 = ["fd00:1::%x" % h for h in range(1, 20)]
U6 = ["2001:db8:2::%x" % h for h in range(1, 20)]


def aimed(b, rule):
    r = b.rng
    m = re.match(r"ip saddr (\S+) tcp dport (\d+)", rule)
    if m:
        return b.send(m.group(1), r.choice(U4), TCP(sport=r.randrange(1, 40),
                                                    dport=int(m.group(2)), flags="S"))
    m = re.match(r"ip daddr (\S+) udp dport (\d+)", rule)
    if m:
        return b.send(r.choice(G4), m.group(1), UDP(sport=50, dport=int(m.group(2))))
    m = re.match(r"tcp sport (\d+) tcp dport (\d+)-(\d+)", rule)
    if m:
        src, dst = r.choice([(r.choice(G4), r.choice(U4)), (r.choice(U6), r.choice(G6))])
        return b.send(src, dst, TCP(sport=int(m.group(1)), dport=r.randint(
            int(m.group(2)), int(m.group(3))), flags="A"))
    m = re.match(r"ip6 saddr (\S+) meta l4proto udp", rule)
    if m:
        return b.send(m.group(1), r.choice(U6), UDP(sport=9, dport=r.randrange(1, 40)))
    m = re.match(r"meta l4proto icmp icmp id (\d+)", rule)
    if m:
        return b.send(r.choice(U4), r.choice(G4), ICMP(id=int(m.group(1)), seq=1) / Raw(b"p"))
    m = re.match(r"ip6 daddr (\S+) tcp dport != (\d+)", rule)
    if m:
        return b.send(r.choice(G6), m.group(1), TCP(sport=1000, dport=r.randrange(1, 40),
                                                    flags="S"))
    raise ValueError("no aim for rule: " + rule)


def build(b):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "many_rules.nft")
    rules = [ln.strip() for ln in open(path) if ln.startswith("\t\t") and
             not ln.strip().startswith("type ")]
    b.rng.shuffle(rules)
    for rule in rules:
        aimed(b, rule)
    b.mix(60, v6=0.3, guest4=G4, up4=U4, guest6=G6, up6=U6, ports=list(range(1, 40)))
