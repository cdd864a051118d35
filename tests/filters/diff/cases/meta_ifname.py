"""Both directions over every interface-name rule."""


def build(b):
    b.mix(130, ports=[22, 53, 80, 443, 1000])
