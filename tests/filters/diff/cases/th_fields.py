"""TCP and UDP (and some ICMP) over th port rules."""


def build(b):
    b.mix(140, v6=0.4, ports=[9, 53, 80, 123, 1234, 5000, 5005, 5011, 40000, 40001, 65535])
