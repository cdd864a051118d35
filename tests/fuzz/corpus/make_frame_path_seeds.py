#!/usr/bin/python3
# Writes the seeds of fuzz_frame_path into tests/fuzz/corpus/frame_path/ (run once; the
# files are committed). Each seed is a short conversation in fuzz_frame_path's input
# format (a header byte with the ingress port and flags, a 2-byte length, the frame)
# between guests web1 (00:16:3e:00:00:01, 10.0.0.11), web2 (:02, 10.0.0.12) and the
# uplink side (:fe, 10.0.0.1). Needs python3-scapy.
import os
import struct
from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPv6, Raw
from scapy.layers.inet6 import ICMPv6ND_NA

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "frame_path")
os.makedirs(out, exist_ok=True)
M1, M2, MU, BC = "00:16:3e:00:00:01", "00:16:3e:00:00:02", "00:16:3e:00:00:fe", "ff:ff:ff:ff:ff:ff"
WEB1, WEB2, UP = 0, 1, 2
CSUM_PARTIAL, GSO = 4, 8


def rec(port, frame, flags=0, gso=None):
    b = bytes(frame)
    head = bytes([port | flags])
    if flags & GSO:
        head += struct.pack(">HB", *gso)
    return head + struct.pack(">H", len(b)) + b


def w1(dst, src="10.0.0.11", mac=M1):
    return Ether(src=mac, dst=dst) / IP(src=src, dst="10.0.0.1")


seeds = {
    "tcp-handshake": [
        rec(WEB1, w1(MU) / TCP(sport=40000, dport=80, flags="S", seq=1)),
        rec(UP, Ether(src=MU, dst=M1) / IP(src="10.0.0.1", dst="10.0.0.11")
            / TCP(sport=80, dport=40000, flags="SA", seq=100, ack=2)),
        rec(WEB1, w1(MU) / TCP(sport=40000, dport=80, flags="A", seq=2, ack=101)),
        rec(WEB1, w1(MU) / TCP(sport=40000, dport=80, flags="PA", seq=2, ack=101) / Raw(b"GET /\r\n")),
    ],
    "reject-tcp-8080": [rec(WEB1, w1(MU) / TCP(sport=40001, dport=8080, flags="S"))],
    "icmp-echo-and-reject": [
        rec(WEB1, w1(MU) / ICMP(type=8)),
        rec(WEB1, w1(MU) / ICMP(type=13)),
    ],
    "udp-dns-and-reject": [
        rec(WEB2, Ether(src=M2, dst=MU) / IP(src="10.0.0.12", dst="10.0.0.1") / UDP(sport=5000, dport=53)),
        rec(WEB2, Ether(src=M2, dst=MU) / IP(src="10.0.0.12", dst="10.0.0.1") / UDP(sport=5000, dport=99)),
    ],
    "broadcast-and-arp": [
        rec(WEB1, Ether(src=M1, dst=BC) / ARP(op=1, hwsrc=M1, psrc="10.0.0.11", pdst="10.0.0.1")),
        rec(UP, Ether(src=MU, dst=M1) / ARP(op=2, hwsrc=MU, psrc="10.0.0.1", hwdst=M1, pdst="10.0.0.11")),
        rec(WEB1, Ether(src=M1, dst=BC) / IP(src="10.0.0.11", dst="255.255.255.255") / UDP(sport=68, dport=67)),
    ],
    "spoofed": [
        rec(WEB1, w1(MU, src="10.0.0.99") / ICMP()),
        rec(WEB1, w1(MU, mac="00:16:3e:00:00:66") / ICMP()),
        rec(WEB1, Ether(src=M1, dst=BC) / ARP(op=2, hwsrc=M1, psrc="10.0.0.12")),
        rec(WEB2, Ether(src=M2, dst=BC) / IPv6(src="fe80::1", dst="ff02::1")
            / ICMPv6ND_NA(tgt="fd00::99")),
    ],
    "vlan": [rec(WEB1, Ether(src=M1, dst=MU) / Dot1Q(vlan=7) / IP(src="10.0.0.11", dst="10.0.0.1") / ICMP())],
    "csum-partial-and-gso": [
        rec(WEB1, w1(MU) / TCP(sport=40002, dport=22, flags="S", chksum=0), CSUM_PARTIAL),
        rec(UP, Ether(src=MU, dst=M1) / IP(src="10.0.0.1", dst="10.0.0.11")
            / TCP(sport=22, dport=40002, flags="A", chksum=0) / Raw(b"z" * 3000),
            CSUM_PARTIAL | GSO, (1448, 1)),
    ],
}
for name, recs in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"".join(recs))
