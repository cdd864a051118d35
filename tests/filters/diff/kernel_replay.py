#!/usr/bin/python3
"""The kernel side of the differential test: what does Linux's nftables decide?

    kernel_replay.py [--iif web1] [--oif uplink] [--iif-mac MAC] RULES.nft CAPTURE

prints, like `vifwall replay --json`, one JSON object per line per packet:

    {"packet": N, "verdict": "accept"|"drop"|"reject", "rule": H, "chain": "NAME"}

How: a router network namespace with two veths named like the ports (--iif toward a
"guest" namespace, --oif toward an "upstream" one), IPv4 and IPv6 forwarding, static
routes and neighbours (topology.py). RULES.nft is loaded as is with `nft -f`, so rule
handles are those of a fresh load; a second table (vwdifftrace) sets `meta nftrace set 1`
at prerouting. `nft -a monitor trace` writes to a file. Each frame of the capture is
written, in order, into the guest-side peer (source MAC == --iif-mac) or the
upstream-side peer (any other source), and we wait until the trace shows the verdict of
table inet vifwall's forward chain before sending the next, so conntrack sees the frames
in order. The deciding event is the first accept/drop of a rule (in any chain reached
from forward through jump/goto) or forward's policy; a rule whose statement is
`reject` gives "reject". The kernel forwards at layer 3 and decrements TTL/hop limit
before its forward hook: rulesets must not match ttl, hoplimit or the IP checksum.

A frame whose forward-chain verdict never shows up (it went to the router's input, or
the kernel dropped it before forwarding) is a corpus bug: it is printed with verdict
"unseen" and the exit status is 3, so a comparison can never silently skip it.

Exit status: 0 every packet seen, 3 some packet unseen, 1 setup error, 2 usage.
Needs root. Every namespace it makes starts with --ns-prefix and is removed on exit.
"""

import argparse
import atexit
import ctypes
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topology as topo  # noqa: E402

CLONE_NEWNET = 0x40000000
TRACE_TABLE = "vwdifftrace"
TABLE = "vifwall"
BASE_CHAIN = "forward"

TRACE_RULESET = """
table inet %s {
	chain pre {
		type filter hook prerouting priority -1000; policy accept;
		meta nftrace set 1
	}
	chain in {
		type filter hook input priority 1000; policy accept;
	}
}
""" % TRACE_TABLE

LINE_RE = re.compile(r"^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (.*)$")
RULE_RE = re.compile(r"(?:# handle|^unknown rule handle) (\d+) \(verdict ([^()]*)\)\s*$")
POLICY_RE = re.compile(r"^policy (\S+)")

_libc = ctypes.CDLL(None, use_errno=True)


def die(msg, code=1):
    print("kernel_replay: " + msg, file=sys.stderr)
    sys.exit(code)


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if check and p.returncode != 0:
        die("%s failed (exit %d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


class NetnsSwitch:
    """`with NetnsSwitch(name):` runs the block in network namespace @name (this thread)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + self.name)
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        if _libc.setns(self.home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back home")
        os.close(self.home)


def sysctl(ns, values):
    """Set net.* sysctls inside @ns (net sysctls follow the opener's namespace)."""
    with NetnsSwitch(ns):
        for key, val in values.items():
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write(str(val))


def sysctl_try(ns, values):
    try:
        sysctl(ns, values)
    except OSError:
        pass


class Router:
    """The three namespaces, the monitor process and the injection sockets."""

    def __init__(self, prefix, iif, oif):
        self.r, self.g, self.u = prefix + "-r", prefix + "-g", prefix + "-u"
        self.iif, self.oif = iif, oif
        self.made = []
        self.monitor = None
        self.socks = {}

    def setup(self, rules):
        for ns in (self.r, self.g, self.u):
            run(["ip", "netns", "add", ns])
            self.made.append(ns)
        run(["ip", "link", "add", self.iif, "netns", self.r, "address", topo.ROUTER_IIF_MAC,
             "type", "veth", "peer", "name", "vwdg", "netns", self.g, "address", topo.GUEST_MAC])
        run(["ip", "link", "add", self.oif, "netns", self.r, "address", topo.ROUTER_OIF_MAC,
             "type", "veth", "peer", "name", "vwdu", "netns", self.u,
             "address", topo.UPSTREAM_MAC])
        # The peers only absorb what the router forwards: no IPv6 chatter (DAD, MLD, RS)
        # from them that would cross the router while we trace.
        sysctl(self.g, {"net.ipv6.conf.vwdg.disable_ipv6": 1})
        sysctl(self.u, {"net.ipv6.conf.vwdu.disable_ipv6": 1})
        rs = {
            "net.ipv4.ip_forward": 1,
            "net.ipv6.conf.all.forwarding": 1,
            "net.ipv4.conf.all.rp_filter": 0,
            "net.ipv4.conf.default.rp_filter": 0,
        }
        for dev in (self.iif, self.oif):
            rs["net.ipv4.conf.%s.rp_filter" % dev] = 0
            rs["net.ipv6.conf.%s.accept_dad" % dev] = 0
            rs["net.ipv6.conf.%s.accept_ra" % dev] = 0
        sysctl(self.r, rs)
        batch = "\n".join([
            "link set lo up",
            "link set %s up" % self.iif,
            "link set %s up" % self.oif,
            "addr add %s/24 dev %s" % (topo.ROUTER_IIF_ADDR4, self.iif),
            "addr add %s/24 dev %s" % (topo.ROUTER_OIF_ADDR4, self.oif),
            "addr add %s/64 dev %s nodad" % (topo.ROUTER_IIF_ADDR6, self.iif),
            "addr add %s/64 dev %s nodad" % (topo.ROUTER_OIF_ADDR6, self.oif),
            "neigh add %s lladdr %s dev %s nud permanent" % (topo.GUEST_GW4, topo.GUEST_MAC,
                                                             self.iif),
            "neigh add %s lladdr %s dev %s nud permanent" % (topo.GUEST_GW6, topo.GUEST_MAC,
                                                             self.iif),
            "neigh add %s lladdr %s dev %s nud permanent" % (topo.UPSTREAM_GW4,
                                                             topo.UPSTREAM_MAC, self.oif),
            "neigh add %s lladdr %s dev %s nud permanent" % (topo.UPSTREAM_GW6,
                                                             topo.UPSTREAM_MAC, self.oif),
            "route add %s via %s dev %s" % (topo.GUEST_NET4, topo.GUEST_GW4, self.iif),
            "route add %s via %s dev %s" % (topo.GUEST_NET6, topo.GUEST_GW6, self.iif),
            "route add default via %s dev %s" % (topo.UPSTREAM_GW4, self.oif),
            "route add default via %s dev %s" % (topo.UPSTREAM_GW6, self.oif),
        ]) + "\n"
        run(["ip", "-n", self.r, "-batch", "-"], input=batch)
        for ns, dev in ((self.g, "vwdg"), (self.u, "vwdu")):
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "link", "set", dev, "up"])

        p = run(["ip", "netns", "exec", self.r, "nft", "-f", rules], check=False)
        if p.returncode != 0:
            die("nft -f %s refused the ruleset:\n%s" % (rules, p.stderr))
        run(["ip", "netns", "exec", self.r, "nft", "-f", "-"], input=TRACE_RULESET)
        # conntrack's knobs, stated rather than inherited (present once conntrack is loaded).
        sysctl_try(self.r, {"net.netfilter.nf_conntrack_tcp_loose": 1,
                            "net.netfilter.nf_conntrack_tcp_be_liberal": 0,
                            "net.netfilter.nf_conntrack_checksum": 1})

        for side, ns, dev in (("g", self.g, "vwdg"), ("u", self.u, "vwdu")):
            with NetnsSwitch(ns):
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
                s.bind((dev, 0))
            self.socks[side] = s

    def listing(self):
        return run(["ip", "netns", "exec", self.r, "nft", "-a", "list", "table", "inet",
                    TABLE]).stdout

    def ruleset_dump(self):
        return run(["ip", "netns", "exec", self.r, "nft", "-a", "list", "ruleset"]).stdout

    def start_monitor(self, path):
        out = open(path, "w")
        # `ip netns exec` execs nft in place: the pid is nft's own.
        self.monitor = subprocess.Popen(["ip", "netns", "exec", self.r, "nft", "-a", "monitor",
                                         "trace"], stdout=out, stderr=subprocess.STDOUT)
        out.close()

    def send(self, side, frame):
        self.socks[side].send(frame)

    def cleanup(self):
        if self.monitor is not None and self.monitor.poll() is None:
            self.monitor.terminate()
            try:
                self.monitor.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.monitor.kill()
                self.monitor.wait()
        self.monitor = None
        for s in self.socks.values():
            s.close()
        self.socks = {}
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        self.made = []


def parse_listing(text):
    """handle -> (chain, rule text) for every rule of `nft -a list table` output."""
    rules = {}
    chain = None
    depth = 0
    pending = ""
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r"^chain (\S+) \{", s)
        if depth == 1 and m:
            chain = m.group(1)
        if depth == 2 and chain is not None:
            pending = (pending + " " + s).strip() if pending else s
            m = re.search(r"# handle (\d+)$", pending)
            if m:
                rules[int(m.group(1))] = (chain, pending[:m.start()].strip())
                pending = ""
            elif s.startswith("type ") or s == "" or s == "}":
                pending = ""
        depth += brace_delta(s)
        if depth <= 1:
            chain = None
            pending = ""
    return rules


def brace_delta(s):
    """Net { minus } in a line, ignoring quoted strings and the trailing # comment."""
    d, q = 0, False
    for c in s:
        if c == '"':
            q = not q
        elif not q and c == "#":
            break
        elif not q and c == "{":
            d += 1
        elif not q and c == "}":
            d -= 1
    return d


def is_reject(rule_text):
    unquoted = re.sub(r'"[^"]*"', '""', rule_text)
    return re.search(r"(^|\s)reject(\s|$)", unquoted) is not None


class TraceReader:
    """Reads complete lines appended to the monitor's output file."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.buf = b""

    def lines(self):
        data = self.f.read()
        if not data:
            return []
        self.buf += data
        *complete, self.buf = self.buf.split(b"\n")
        return [c.decode("utf-8", "replace") for c in complete]


class PacketTrace:
    """The trace events of one frame, and its deciding verdict once seen."""

    def __init__(self, number):
        self.number = number
        self.pre_id = None      # trace id at our prerouting chain
        self.id = None          # trace id in table vifwall
        self.path = []          # [chain, handle or None, verdict]
        self.result = None      # (verdict, handle, chain)
        self.problem = None     # why this frame has no forward verdict

    def feed(self, line, rules):
        m = LINE_RE.match(line)
        if not m:
            if line.strip():
                self.problem = "unexpected monitor output: " + line.strip()
            return
        tid, family, table, chain, rest = m.groups()
        if table == TRACE_TABLE:
            if chain == "pre" and rest.startswith("packet:") and self.pre_id is None:
                self.pre_id = tid
            elif chain == "in" and tid == self.pre_id and self.result is None:
                self.problem = "it was delivered to the router itself (input), not forwarded"
            return
        if family != "inet" or table != TABLE:
            return
        if self.result is not None:
            self.problem = "trace events after the deciding verdict: " + line
            return
        if rest.startswith("packet:"):
            if chain != BASE_CHAIN:
                self.problem = "it reached chain %s, not %s: %s" % (chain, BASE_CHAIN, line)
                return
            if self.id is not None:
                self.problem = "two evaluations of the forward chain: " + line
                return
            self.id = tid
            return
        if self.id is None:
            self.problem = "trace event before the packet line: " + line
            return
        if tid != self.id:
            self.problem = "events of another packet (id %s) interleaved: %s" % (tid, line)
            return
        m = RULE_RE.search(rest)
        if m and (rest.startswith("rule ") or rest.startswith("unknown rule handle")):
            handle, verdict = int(m.group(1)), m.group(2).strip()
            self.path.append([chain, handle, verdict])
            if handle not in rules or rules[handle][0] != chain:
                self.problem = "rule handle %d is not a rule of chain %s" % (handle, chain)
                return
            if verdict in ("accept", "drop"):
                if verdict == "drop" and is_reject(rules[handle][1]):
                    verdict = "reject"
                self.result = (verdict, handle, chain)
            elif not (verdict in ("continue", "return") or
                      verdict.startswith("jump ") or verdict.startswith("goto ")):
                self.problem = "unexpected verdict %r: %s" % (verdict, line)
            return
        m = POLICY_RE.match(rest)
        if m:
            self.path.append([chain, None, "policy " + m.group(1)])
            if chain != BASE_CHAIN:
                self.problem = "policy of a non-base chain: " + line
            elif m.group(1) not in ("accept", "drop"):
                self.problem = "unexpected policy: " + line
            else:
                self.result = (m.group(1), None, chain)
            return
        if rest.startswith("verdict "):  # end of a regular chain: back to the caller
            self.path.append([chain, None, rest.strip()])
            return
        self.problem = "unparsed trace line: " + line


def read_capture(path):
    """The frames of a pcap (either byte order, us or ns) or pcapng capture, as bytes.
    Raises ValueError for anything else; Ethernet link type only."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("too short")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1",
                 b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xd4, 0x4d) else ">"
        if struct.unpack(e + "I", data[20:24])[0] & 0xffff != 1:
            raise ValueError("link type is not Ethernet")
        frames, off = [], 24
        while off + 16 <= len(data):
            caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            frames.append(data[off + 16:off + 16 + caplen])
            off += 16 + caplen
        return frames
    if magic == b"\x0a\x0d\x0d\x0a":
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        frames, off = [], 0
        while off + 12 <= len(data):
            btype, blen = struct.unpack(e + "II", data[off:off + 8])
            if blen < 12:
                raise ValueError("bad pcapng block")
            if btype == 1 and struct.unpack(e + "H", data[off + 8:off + 10])[0] != 1:
                raise ValueError("link type is not Ethernet")
            if btype == 6:  # enhanced packet block
                caplen = struct.unpack(e + "I", data[off + 20:off + 24])[0]
                frames.append(data[off + 28:off + 28 + caplen])
            elif btype == 3:  # simple packet block
                frames.append(data[off + 12:off + blen - 4])
            off += blen
        return frames
    raise ValueError("unknown file format")


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(":"))


def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def probe_frame():
    """An ICMP echo from the upstream gateway to the router itself (input, never forward)."""
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x7764, 1) + b"vwdiff-probe"
    icmp = icmp[:2] + struct.pack("!H", inet_csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                     socket.inet_aton(topo.UPSTREAM_GW4), socket.inet_aton(topo.ROUTER_OIF_ADDR4))
    ip = ip[:10] + struct.pack("!H", inet_csum(ip)) + ip[12:]
    return (mac_bytes(topo.ROUTER_OIF_MAC) + mac_bytes(topo.UPSTREAM_MAC) + b"\x08\x00" +
            ip + icmp)


def wait_monitor_ready(router, reader, timeout):
    probe = probe_frame()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        router.send("u", probe)
        t = time.monotonic() + 0.05
        while time.monotonic() < t:
            if any((" inet %s " % TRACE_TABLE) in ln for ln in reader.lines()):
                # Let the last probes' events land, then forget them.
                time.sleep(0.1)
                reader.lines()
                return
            if router.monitor.poll() is not None:
                die("nft monitor trace exited with status %d" % router.monitor.returncode)
            time.sleep(0.002)
    die("nft monitor trace showed no event within %.0f s" % timeout)


def replay(router, reader, frames, iif_mac, rules, timeout, explain):
    results = []
    for n, frame in enumerate(frames, 1):
        pt = PacketTrace(n)
        side = "g" if frame[6:12] == iif_mac else "u"
        router.send(side, frame)
        deadline = time.monotonic() + timeout
        delay = 0.0002
        while pt.result is None and pt.problem is None:
            lines = reader.lines()
            for ln in lines:
                pt.feed(ln, rules)
            if pt.result is not None or pt.problem is not None:
                break
            if time.monotonic() > deadline:
                pt.problem = ("no verdict from chain %s of table inet %s within %.1f s "
                              "(dropped before the forward hook?)" % (BASE_CHAIN, TABLE, timeout))
                break
            if not lines:
                time.sleep(delay)
                delay = min(delay * 2, 0.005)
        if pt.problem is not None:
            print("kernel_replay: packet %d (%s, from %s): %s" %
                  (n, "iif->oif" if side == "g" else "oif->iif", mac_str(frame[6:12]),
                   pt.problem), file=sys.stderr)
            # Let stray events of this frame land so they are not blamed on the next one.
            time.sleep(0.2)
            reader.lines()
        results.append(pt)
        if explain is not None:
            explain.write(json.dumps({"packet": n, "trace_id": pt.id, "path": pt.path,
                                      "problem": pt.problem}) + "\n")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iif", default=topo.IIF, help="guest-side port name (default web1)")
    ap.add_argument("--oif", default=topo.OIF, help="upstream-side port name (default uplink)")
    ap.add_argument("--iif-mac", help="frames from this MAC travel iif->oif "
                    "(default: the source of the first frame)")
    ap.add_argument("-o", "--output", help="write the JSON lines here (default stdout)")
    ap.add_argument("--trace", help="keep nft monitor trace's raw output in this file")
    ap.add_argument("--explain", help="write each packet's path through the chains here")
    ap.add_argument("--ruleset-out", help="write `nft -a list ruleset` (with counters) "
                    "after the replay here")
    ap.add_argument("--timeout", type=float, default=2.0,
                    help="seconds to wait for one frame's verdict (default 2)")
    ap.add_argument("--ns-prefix", default="vwdiff-%d" % os.getpid(),
                    help="name prefix of the namespaces made (default vwdiff-PID)")
    ap.add_argument("rules")
    ap.add_argument("capture")
    a = ap.parse_args()

    if not a.ns_prefix.startswith("vwdiff-"):
        die("--ns-prefix must start with vwdiff-", 2)
    if os.geteuid() != 0:
        die("needs root (network namespaces, nftables)", 2)
    for name in (a.iif, a.oif):
        if not 0 < len(name) < 16 or name in ("vwdg", "vwdu", "lo"):
            die("bad port name %r" % name, 2)
    try:
        frames = read_capture(a.capture)
    except (OSError, ValueError, struct.error) as e:
        die("%s: not a readable pcap or pcapng capture (%s)" % (a.capture, e))
    if not frames:
        die("%s: no packets" % a.capture)
    if a.iif_mac:
        try:
            iif_mac = mac_bytes(a.iif_mac)
        except ValueError:
            iif_mac = b""
        if len(iif_mac) != 6:
            die("bad --iif-mac %r" % a.iif_mac, 2)
    else:
        iif_mac = frames[0][6:12]

    router = Router(a.ns_prefix, a.iif, a.oif)
    atexit.register(router.cleanup)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))

    tmpdir = tempfile.mkdtemp(prefix="vwdiff-")
    trace_path = a.trace or os.path.join(tmpdir, "trace.txt")
    try:
        router.setup(a.rules)
        rules = parse_listing(router.listing())
        router.start_monitor(trace_path)
        reader = TraceReader(trace_path)
        wait_monitor_ready(router, reader, 5.0)
        explain = open(a.explain, "w") if a.explain else None
        results = replay(router, reader, frames, iif_mac, rules, a.timeout, explain)
        if explain:
            explain.close()
        if a.ruleset_out:
            with open(a.ruleset_out, "w") as f:
                f.write(router.ruleset_dump())
    finally:
        router.cleanup()
        if not a.trace:
            try:
                os.unlink(trace_path)
            except OSError:
                pass
        os.rmdir(tmpdir)

    out = open(a.output, "w") if a.output else sys.stdout
    unseen = 0
    for pt in results:
        if pt.result is None:
            unseen += 1
            obj = {"packet": pt.number, "verdict": "unseen", "rule": None, "chain": None}
        else:
            v, h, c = pt.result
            obj = {"packet": pt.number, "verdict": v, "rule": h, "chain": c}
        out.write(json.dumps(obj) + "\n")
    out.flush()
    if unseen:
        print("kernel_replay: %d of %d packets never got a verdict from chain %s of table "
              "inet %s: fix the corpus" % (unseen, len(results), BASE_CHAIN, TABLE),
              file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
