#!/usr/bin/python3
# Writes the seed frames of fuzz_packet into tests/fuzz/corpus/packet/ (run once;
# the files are committed). Needs python3-scapy: /usr/bin/python3 make_packet_seeds.py
import os
from scapy.all import ARP, UDP, TCP, ICMP, Dot1AD, Dot1Q, Ether, IP, IPv6, Raw
from scapy.layers.ipsec import AH
from scapy.layers.inet6 import (ICMPv6EchoRequest, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, RouterAlert)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "packet")
os.makedirs(out, exist_ok=True)
eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
v4 = IP(src="10.0.0.1", dst="10.0.0.2")
v6 = IPv6(src="2001:db8::1", dst="2001:db8::2")
seeds = {
    "ip4-tcp-syn": eth / v4 / TCP(sport=40000, dport=80, flags="S"),
    "ip4-udp-dns": eth / v4 / UDP(sport=5353, dport=53) / Raw(b"\x12\x34" + b"\0" * 10),
    # Ethernet padding after the IP packet, as a NIC adds it to reach 60 bytes.
    "ip4-icmp-padded": bytes(eth / v4 / ICMP()) + b"\0" * 18,
    "ip4-options-frag": eth / IP(src="10.0.0.1", dst="10.0.0.2", options=b"\x01\x01\x01\x00",
                                 flags="MF", frag=0) / UDP() / Raw(b"x" * 16),
    "ip4-later-frag": eth / IP(src="10.0.0.1", dst="10.0.0.2", frag=185, proto=17) / Raw(b"y" * 24),
    "vlan-ip4-udp": eth / Dot1Q(vlan=100) / v4 / UDP(sport=1, dport=2),
    "qinq-ip6-tcp": eth / Dot1AD(vlan=10) / Dot1Q(vlan=20) / v6 / TCP(dport=443, flags="S"),
    "ip6-tcp": eth / v6 / TCP(dport=22, flags="S"),
    "ip6-ext-chain": eth / v6 / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / IPv6ExtHdrDestOpt()
                     / IPv6ExtHdrRouting(addresses=["2001:db8::3"]) / UDP(dport=53),
    "ip6-frag-first": eth / v6 / IPv6ExtHdrFragment(offset=0, m=1, id=7) / UDP() / Raw(b"a" * 16),
    "ip6-frag-later": eth / v6 / IPv6ExtHdrFragment(offset=181, m=0, id=7, nh=17) / Raw(b"b" * 16),
    "ip6-ah-icmp6": eth / v6 / AH(nh=58, payloadlen=4, spi=1, seq=1, icv=b"\0" * 12)
                    / ICMPv6EchoRequest(),
    "ip6-none": eth / IPv6(src="2001:db8::1", dst="2001:db8::2", nh=59, plen=0),
    "arp-request": eth / ARP(psrc="10.0.0.1", pdst="10.0.0.2"),
}
for name, pkt in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes(pkt))
