"""Random traffic over counting rules."""


def build(b):
    b.mix(130, v6=0.3, ports=[22, 53, 80, 443])
