"""Every protocol in both families."""


def build(b):
    b.mix(130, v6=0.5)
