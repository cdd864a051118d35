#!/bin/bash
# The flow cache in vifwalld: a UDP flow's later packets are served from the cache
# (vifwall stats shows the hits), the rule's counter still counts every packet, and a
# new ruleset that drops the flow stops it at the next packet.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
NS_PREFIX="vwflow$$" # this test's namespaces, removed by ns_cleanup
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${VIFWALL_BUILD:-$top/build/asan}
py=/usr/bin/python3
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; rm -rf "$tmp"' EXIT
ctl=$tmp/run/ctl
vw() { "$build/vifwall" --ctl "$ctl" "$@"; }

rules() { # VERDICT for the UDP flow to port 7000
	cat <<NFT
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		icmp type { echo-request, echo-reply } accept
		udp dport 7000 counter $1
	}
}
NFT
}
rules accept >"$tmp/allow.nft"
rules drop >"$tmp/deny.nft"

ns_add mid g1 up || { not_ok "create namespaces"; tap_done; }
veth g1 eth0 mid web1 && veth up eth0 mid uplink || { not_ok "create veth pairs"; tap_done; }
nsx g1 ip addr add 10.0.0.11/24 dev eth0
nsx up ip addr add 10.0.0.1/24 dev eth0

ip netns exec "$(ns mid)" "$build/vifwalld" --rules "$tmp/allow.nft" --uplink uplink \
	--port web1,ip=10.0.0.11 --ctl "$ctl" >"$tmp/daemon.log" 2>&1 &
bg_track $!
for _ in $(seq 100); do
	grep -q 'forwarding between' "$tmp/daemon.log" && [ -S "$ctl" ] && break
	sleep 0.1
done
check "vifwalld serves its control socket" test -S "$ctl"
nsx g1 ping -c 1 -W 2 10.0.0.1 >/dev/null 2>&1 # ARP both ways

# receive N: count datagrams on port 7000 until 2 s of silence
recv() {
	nsx up "$py" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.0.0.1', 7000)); s.settimeout(2); n = 0
try:
    while True:
        s.recv(100); n += 1
except socket.timeout:
    print(n)" >"$tmp/$1" &
	bg_track $!
	sleep 0.5
}
# send N: N datagrams from one socket (one flow), a little apart
send() {
	nsx g1 "$py" -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.0.0.11', 40000))
for i in range($1):
    s.sendto(b'x' * 32, ('10.0.0.1', 7000)); time.sleep(0.005)"
}
stat() { # KEY: flow_cache.KEY from vifwall stats --json
	vw stats --json | "$py" -c "import json,sys; print(json.load(sys.stdin)['flow_cache']['$1'])"
}

hits0=$(stat hits)
recv got1
send 50
wait_for() { for _ in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done; }
wait_for "$tmp/got1"
check "50 datagrams of one flow arrive" test "$(cat "$tmp/got1")" = 50
check "the flow cache served them after the first (hits $hits0 -> $(stat hits))" \
	test "$(($(stat hits) - hits0))" -ge 49
vw show >"$tmp/show" 2>&1
check "the rule's counter still counts every packet (50)" \
	grep -Eq 'udp dport 7000 counter accept  # handle [0-9]+ packets 50 ' "$tmp/show"
vw stats >"$tmp/stats" 2>&1
check "vifwall stats has a flow cache line" grep -Eq '^flow cache: [0-9]+ entries, active, hits [1-9]' "$tmp/stats"

vw load "$tmp/deny.nft" >"$tmp/out" 2>&1
check "a ruleset that drops the flow loads" grep -q 'generation' "$tmp/out"
recv got2
send 10
wait_for "$tmp/got2"
check "after the reload not one datagram of the cached flow arrives" test "$(cat "$tmp/got2")" = 0
vw show >"$tmp/show" 2>&1
check "the new rule counted all 10" \
	grep -Eq 'udp dport 7000 counter drop  # handle [0-9]+ packets 10 ' "$tmp/show"
tap_done
