#!/usr/bin/python3
"""Compare the kernel's verdicts with vifwall's, packet by packet.

    compare_jsonl.py EXPECTED.jsonl ACTUAL.jsonl [MAX_SHOWN]

Both files hold one {"packet", "verdict", "rule", "chain"} object per line. Lines are
compared as JSON values (spacing and key order do not matter; other keys are ignored).
Prints the first MAX_SHOWN (default 5) differing packets and a count; exit 0 when they
agree on every packet, 1 otherwise.
"""
import json
import sys

KEYS = ("packet", "verdict", "rule", "chain")


def load(path, who):
    rows, bad = [], []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                rows.append(tuple(obj.get(k) for k in KEYS) if isinstance(obj, dict) else None)
                if not isinstance(obj, dict):
                    bad.append("%s line %d is not a JSON object: %s" % (who, i, line.strip()))
            except ValueError:
                rows.append(None)
                bad.append("%s line %d is not JSON: %s" % (who, i, line.strip()[:200]))
    return rows, bad


def show(row):
    if row is None:
        return "(missing or malformed)"
    _, verdict, rule, chain = row
    return "%s by %s in %s" % (verdict, "policy" if rule is None else "rule %s" % rule, chain)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    shown_max = int(sys.argv[3]) if len(sys.argv) == 4 else 5
    exp, bad_e = load(sys.argv[1], "kernel")
    act, bad_a = load(sys.argv[2], "vifwall")
    for msg in (bad_e + bad_a)[:shown_max]:
        print(msg)
    diffs = 0
    for i in range(max(len(exp), len(act))):
        e = exp[i] if i < len(exp) else None
        a = act[i] if i < len(act) else None
        if e != a:
            diffs += 1
            if diffs <= shown_max:
                print("packet %d: kernel %s, vifwall %s" % (i + 1, show(e), show(a)))
    if len(exp) != len(act):
        print("kernel gave %d lines, vifwall %d" % (len(exp), len(act)))
    if diffs:
        print("%d of %d packets differ" % (diffs, max(len(exp), len(act))))
    return 1 if diffs or bad_e or bad_a else 0


if __name__ == "__main__":
    sys.exit(main())
