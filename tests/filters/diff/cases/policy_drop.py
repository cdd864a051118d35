"""Mostly policy drop; accepted web, DNS replies and ICMPv6."""


def build(b):
    b.mix(130, ports=[22, 53, 80, 443, 444, 8443])
