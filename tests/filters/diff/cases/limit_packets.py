"""Many packets at each limited service, close together in time."""


def build(b):
    b.mix(140, v6=0.3, ports=[22, 53, 80], protos=("tcp", "udp", "icmp", "tcp"))
