"""Packets of varied sizes at each byte-limited service."""


def build(b):
    b.mix(140, v6=0.3, ports=[53, 80], protos=("tcp", "udp", "icmp"))
