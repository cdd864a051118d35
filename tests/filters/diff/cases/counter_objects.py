"""Random traffic over rules that count into named counters."""


def build(b):
    b.mix(120, v6=0.3, ports=[22, 53, 80, 443])
