"""Random traffic over the address pools."""


def build(b):
    b.mix(160, v6=0.4, ports=[22, 53, 80])
