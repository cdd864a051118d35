"""Traffic to the rejected and dropped ports, both families."""


def build(b):
    b.mix(150, v6=0.45, ports=[22, 23, 53, 80, 123, 443, 1024, 5353, 8080])
