"""Unicast traffic over pkttype and mark rules."""


def build(b):
    b.mix(120, ports=[22, 53, 80, 443])
