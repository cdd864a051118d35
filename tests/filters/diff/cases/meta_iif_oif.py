"""Both directions over the iif/oif rules."""


def build(b):
    b.mix(130, ports=[25, 161, 162, 1000])
