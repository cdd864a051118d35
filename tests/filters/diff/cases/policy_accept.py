"""Mostly policy accept, some explicit drops and one explicit accept."""


def build(b):
    b.mix(130, ports=[0, 1, 22, 23, 53, 99, 100, 101, 443])
