"""Traffic whose fields hit, miss and straddle the map keys."""


def build(b):
    b.mix(140, v6=0.25, ports=[22, 53, 80, 123, 443, 1000],
          guest4=["10.1.0.2", "10.1.0.7", "10.1.0.8", "10.1.7.9"])
