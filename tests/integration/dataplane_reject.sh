#!/bin/bash
# `reject` on real traffic: the kernel's own TCP and ICMP stacks in the guests judge
# the answers vifwalld sends back (netback-bridge/reject.c). Guest g1 and an uplink
# host "up" through vifwalld: TCP to port 22 is rejected with a reset (connect fails
# at once with "connection refused"), UDP to port 53 and pings to 10.0.0.99 with
# ICMP port / admin-prohibited unreachables, IPv6 TCP with a reset; the rejects are
# counted as rule drops.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VIFWALL_BUILD:-$top/build/asan}/vifwalld
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; rm -rf "$tmp"' EXIT
PY=/usr/bin/python3

cat >"$tmp/rules.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		tcp dport 22 reject with tcp reset
		udp dport 53 reject
		ip daddr 10.0.0.99 reject with icmpx type admin-prohibited
		icmp type echo-request accept
		tcp dport 80 accept
	}
}
NFT

ns_add mid g1 up || { not_ok "create namespaces"; tap_done; }
veth g1 eth0 mid web1 && veth up eth0 mid uplink || { not_ok "create veth pairs"; tap_done; }
setup() { # NS MAC ADDRS...
	local n=$1 mac=$2
	shift 2
	nsx "$n" ip link set eth0 down
	nsx "$n" ip link set eth0 address "$mac"
	nsx "$n" ip link set eth0 up
	for a in "$@"; do nsx "$n" ip addr add "$a" dev eth0 nodad; done
}
setup g1 00:16:3e:00:00:01 10.0.0.11/24 fd00::11/64
setup up 00:16:3e:00:00:fe 10.0.0.1/24 fd00::1/64
# 10.0.0.99 answers ARP on the uplink side, so that pings to it reach the rules.
nsx up ip addr add 10.0.0.99/24 dev eth0

ip netns exec "$(ns mid)" "$bin" --rules "$tmp/rules.nft" --uplink uplink \
	--port "web1,mac=00:16:3e:00:00:01,ip=10.0.0.11,ip=fd00::11" >"$tmp/daemon.log" 2>&1 &
pid=$!
bg_track "$pid"
for i in $(seq 100); do grep -q 'forwarding between' "$tmp/daemon.log" && break; sleep 0.1; done
check "vifwalld forwards" grep -q 'forwarding between' "$tmp/daemon.log"
check "ping g1 -> up is accepted" nsx g1 ping -q -c 1 -W 2 10.0.0.1

# connect PROTO ADDR PORT: the errno name a connect (TCP) or a send + receive (UDP)
# ends with, within 3 s ("timeout" when nothing came back).
connect() {
	nsx g1 "$PY" - "$@" <<'PY'
import errno, socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(fam, kind)
s.settimeout(3)
try:
    s.connect((sys.argv[2], int(sys.argv[3])))
    if kind == socket.SOCK_DGRAM:
        s.send(b"x")
        s.recv(10)
    print("connected")
except socket.timeout:
    print("timeout")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}
r=$(connect tcp 10.0.0.1 22)
check "TCP to port 22 is refused by a reset from vifwalld (got $r)" [ "$r" = ECONNREFUSED ]
r=$(connect tcp fd00::1 22)
check "IPv6 TCP to port 22 is refused by a reset (got $r)" [ "$r" = ECONNREFUSED ]
r=$(connect udp 10.0.0.1 53)
check "UDP to port 53 gets ICMP port unreachable (got $r)" [ "$r" = ECONNREFUSED ]
out=$(nsx g1 ping -c 1 -W 2 10.0.0.99 2>&1)
check "ping 10.0.0.99 gets ICMP communication administratively prohibited (iputils: Packet filtered)" grep -qi "packet filtered" <<<"$out"
r=$(connect tcp 10.0.0.1 443)
check "TCP to port 443 (policy drop) just times out (got $r)" [ "$r" = timeout ]
kill -USR1 "$pid"
sleep 0.5
check "the rejected frames are counted as rule drops" grep -q "rule=" "$tmp/daemon.log"
kill "$pid"
wait "$pid" 2>/dev/null
tap_done
