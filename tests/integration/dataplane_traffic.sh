#!/bin/bash
# More traffic through vifwalld: three guests (g1, g2, g3) and an uplink side, each a
# namespace joined by a veth pair to "mid" where vifwalld runs on web1, web2, web3 and
# uplink. Checks UDP allowed and denied in both directions (replies to an allowed flow
# pass, a flow opened from the wrong side does not), guest to guest among three, and
# VLAN-tagged frames forwarded as frames (802.1Q frames sent by scapy, because this
# kernel has no 8021q module; the tag matched by `vlan id`, and arriving tagged).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VIFWALL_BUILD:-$top/build/asan}/vifwalld
cli=${VIFWALL_BUILD:-$top/build/asan}/vifwall
py=/usr/bin/python3
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; rm -rf "$tmp"' EXIT

MAC1=00:16:3e:00:00:01 MAC2=00:16:3e:00:00:02 MAC3=00:16:3e:00:00:03 MACU=00:16:3e:00:00:fe

# UDP: guests may send to 5353 anywhere; the uplink side may open 7000 on g3 only;
# g1 may open TCP 8080 on g3. VLAN 100 carries ICMP echo; VLAN 200 nothing.
cat >"$tmp/rules.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		vlan id 200 drop
		icmp type echo-request accept
		iifname "web*" udp dport 5353 accept
		iifname "uplink" oifname "web3" udp dport 7000 accept
		iifname "web1" oifname "web3" tcp dport 8080 accept
	}
}
NFT

# --- topology ---------------------------------------------------------------------
ns_add mid g1 g2 g3 up || { not_ok "create namespaces"; tap_done; }
veth g1 eth0 mid web1 && veth g2 eth0 mid web2 && veth g3 eth0 mid web3 &&
	veth up eth0 mid uplink || { not_ok "create veth pairs"; tap_done; }
setup() { # NS MAC IPv4
	nsx "$1" ip link set eth0 address "$2"
	nsx "$1" ip addr add "$3/24" dev eth0
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}
setup g1 $MAC1 10.0.0.11
setup g2 $MAC2 10.0.0.12
setup g3 $MAC3 10.0.0.13
setup up $MACU 10.0.0.1
ctl=$tmp/ctl
ip netns exec "$(ns mid)" "$bin" --rules "$tmp/rules.nft" --uplink uplink \
	--port "web1,mac=$MAC1,ip=10.0.0.11" \
	--port "web2,mac=$MAC2,ip=10.0.0.12" \
	--port "web3,mac=$MAC3,ip=10.0.0.13" \
	--ctl "$ctl" >"$tmp/daemon.log" 2>&1 &
bg_track $!
for _ in $(seq 150); do
	grep -q 'forwarding between' "$tmp/daemon.log" && [ -S "$ctl" ] && break
	sleep 0.1
done
check "vifwalld starts on web1, web2, web3 and uplink" grep -q 'forwarding between 4 ports' "$tmp/daemon.log"

ping4() { nsx "$1" ping -c 1 -w 6 -i 0.3 -q "$2" >/dev/null 2>&1; }

# --- three guests -----------------------------------------------------------------
for pair in "g1 10.0.0.12" "g1 10.0.0.13" "g2 10.0.0.13" "g3 10.0.0.11" "g2 10.0.0.1" \
	"up 10.0.0.13"; do
	set -- $pair
	check "ping $1 -> $2" ping4 "$1" "$2"
done

# --- UDP ----------------------------------------------------------------------------
# udp_srv NS ADDR PORT: answer each datagram with "re:" + it (socat forks one per peer).
udp_srv() {
	nsx "$1" socat "UDP4-RECVFROM:$3,bind=$2,reuseaddr,fork" SYSTEM:'read l; echo "re:$l"' \
		2>/dev/null &
	bg_track $!
}
# udp_ask NS ADDR PORT: send one datagram, succeed when the answer comes back.
udp_ask() {
	echo "q$3" | nsx "$1" timeout 3 socat -T 2 - "UDP4:$2:$3" 2>/dev/null | grep -q "re:q$3"
}
udp_srv up 10.0.0.1 5353
udp_srv g3 10.0.0.13 5353
udp_srv g3 10.0.0.13 7000
udp_srv g2 10.0.0.12 7000
udp_srv g1 10.0.0.11 9999
sleep 0.3
check "UDP 5353 g1 -> uplink side allowed, and its reply comes back" udp_ask g1 10.0.0.1 5353
check "UDP 5353 g2 -> g3 (guest to guest) allowed with its reply" udp_ask g2 10.0.0.13 5353
check "UDP 7000 uplink side -> g3 allowed with its reply" udp_ask up 10.0.0.13 7000
check_fails "UDP 7000 uplink side -> g2 denied (the rule names web3 only)" udp_ask up 10.0.0.12 7000
check_fails "UDP 9999 g3 -> g1 denied" udp_ask g3 10.0.0.11 9999
check_fails "UDP 5353 uplink side -> g3 denied (5353 is allowed from guests only)" \
	udp_ask up 10.0.0.13 5353

# --- TCP guest to guest ---------------------------------------------------------------
nsx g3 socat "TCP-LISTEN:8080,reuseaddr,fork" "SYSTEM:echo hello 8080" 2>/dev/null &
bg_track $!
sleep 0.3
tcp_ok() { nsx "$1" timeout 3 socat -u "TCP:$2:$3,connect-timeout=2" - 2>/dev/null | grep -q "hello $3"; }
check "TCP 8080 g1 -> g3 allowed" tcp_ok g1 10.0.0.13 8080
check_fails "TCP 8080 g2 -> g3 denied (the rule names web1 only)" tcp_ok g2 10.0.0.13 8080

# --- VLAN -----------------------------------------------------------------------------
# send_vlan ID COUNT: g1 sends COUNT ICMP echo requests to g3 tagged with VLAN ID.
send_vlan() {
	nsx g1 "$py" - "$1" "$2" <<'PY'
import sys
from scapy.all import Ether, Dot1Q, IP, ICMP, sendp, conf
conf.verb = 0
vid, n = int(sys.argv[1]), int(sys.argv[2])
f = (Ether(src="00:16:3e:00:00:01", dst="00:16:3e:00:00:03") / Dot1Q(vlan=vid) /
     IP(src="10.0.0.11", dst="10.0.0.13") / ICMP(id=vid, seq=1) / b"vifwall-vlan")
sendp(f, iface="eth0", count=n)
PY
}
nsx g3 tcpdump -l -n -e -i eth0 'vlan and icmp' >"$tmp/vlan.txt" 2>/dev/null &
tdp=$!
bg_track $tdp
sleep 1
send_vlan 100 5
send_vlan 200 5
sleep 0.5
kill "$tdp" 2>/dev/null; wait "$tdp" 2>/dev/null
diag "g3 saw: $(head -2 "$tmp/vlan.txt" | tr '\n' '|')"
check "5 frames tagged VLAN 100 reached g3 still tagged" \
	[ "$(grep -c 'vlan 100,.*ICMP echo request' "$tmp/vlan.txt")" = 5 ]
check "no frame of VLAN 200 reached g3 ('vlan id 200 drop')" \
	[ "$(grep -c 'vlan 200' "$tmp/vlan.txt")" = 0 ]

# --- counters ---------------------------------------------------------------------------
"$cli" --ctl "$ctl" stats --json >"$tmp/stats.json" 2>&1
check "stats: rule drops on web1 (VLAN 200) and uplink (UDP denied), no spoofing drops" "$py" -c "
import json
p = {x['name']: x for x in json.load(open('$tmp/stats.json'))['ports']}
assert p['web1']['drop_reasons']['rule'] >= 5, p['web1']
assert p['uplink']['drop_reasons']['rule'] >= 2, p['uplink']
for n in ('web1', 'web2', 'web3'):
    r = p[n]['drop_reasons']
    assert all(v == 0 for k, v in r.items() if k.startswith('spoof')), (n, r)
"
tap_done
