#!/bin/bash
# vifwalld started from its configuration file alone (--config, no other option): the
# file's rules, uplink, control socket, guest port with its mac/ip and table sizes all
# take effect on real traffic; --check-config prints them; a bad file, or a --config
# that does not exist, is refused with exit status 2 (and FILE:LINE for a bad file)
# before any port is touched.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
NS_PREFIX="vwconf$$" # this test's namespaces, removed by ns_cleanup
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${VIFWALL_BUILD:-$top/build/asan}
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; rm -rf "$tmp"' EXIT
ctl=$tmp/ctl

cat >"$tmp/rules.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		icmp type echo-request accept
	}
}
NFT
cat >"$tmp/vifwalld.conf" <<CONF
# vifwalld.conf of the config.sh integration test
rules = $tmp/rules.nft
uplink = uplink
ctl = $ctl            # the control socket
ring-blocks = 8
mac-table-entries = 256
conntrack-entries = 1024
flow-cache-entries = 1024

[port web1]
mac = 00:16:3e:00:00:01
ip = 10.0.0.11
CONF
# Line 7 is wrong: a number out of range.
sed 's/^conntrack-entries = 1024$/conntrack-entries = 0/' "$tmp/vifwalld.conf" >"$tmp/bad.conf"

ns_add mid g1 up || { not_ok "create namespaces"; tap_done; }
veth g1 eth0 mid web1 && veth up eth0 mid uplink || { not_ok "create veth pairs"; tap_done; }
nsx g1 ip link set eth0 address 00:16:3e:00:00:01
nsx g1 ip addr add 10.0.0.11/24 dev eth0
nsx up ip addr add 10.0.0.1/24 dev eth0

"$build/vifwalld" --config "$tmp/vifwalld.conf" --check-config >"$tmp/out" 2>&1
rc=$?
check "--check-config prints the file's settings, exit 0" \
	bash -c "[ $rc = 0 ] && grep -qx 'conntrack-entries = 1024' '$tmp/out' &&
		 grep -qx 'ip = 10.0.0.11' '$tmp/out' && grep -qx 'antispoof = on' '$tmp/out'"

ip netns exec "$(ns mid)" "$build/vifwalld" --config "$tmp/bad.conf" >"$tmp/bad.log" 2>&1
rc=$?
check "a bad file is refused with exit 2 and FILE:LINE" \
	bash -c "[ $rc = 2 ] && grep -q 'bad.conf:7: conntrack-entries 0 is out of range' '$tmp/bad.log'"
diag "$(cat "$tmp/bad.log")"
"$build/vifwalld" --config "$tmp/missing.conf" >"$tmp/out" 2>&1
rc=$?
check "--config with a missing file is refused with exit 2" \
	bash -c "[ $rc = 2 ] && grep -q 'missing.conf: no such file' '$tmp/out'"
check "a refused start touched no port (web1 still has IPv6 on)" \
	[ "$(nsx mid cat /proc/sys/net/ipv6/conf/web1/disable_ipv6)" = 0 ]

ip netns exec "$(ns mid)" "$build/vifwalld" --config "$tmp/vifwalld.conf" \
	>"$tmp/daemon.log" 2>&1 &
bg_track $!
for _ in $(seq 100); do
	grep -q 'forwarding between' "$tmp/daemon.log" && [ -S "$ctl" ] && break
	sleep 0.1
done
check "vifwalld --config alone starts and serves the file's control socket" test -S "$ctl"

ping_g1() { nsx g1 ping -c 1 -q "$@" 10.0.0.1 >/dev/null 2>&1; }
check "the file's rules forward a ping from web1 to the uplink" ping_g1 -W 3
# A source address the file does not give web1: anti-spoofing from the file drops it.
nsx g1 ip addr add 10.0.0.99/24 dev eth0
check_fails "a spoofed source (10.0.0.99) does not get through" \
	ping_g1 -W 1 -I 10.0.0.99

"$build/vifwall" --ctl "$ctl" stats --json >"$tmp/stats.json" 2>&1
check "stats: the file's table sizes, the spoof drop, resident memory" /usr/bin/python3 -c "
import json
s=json.load(open('$tmp/stats.json'))
p={x['name']:x for x in s['ports']}
d=p['web1']['drop_reasons']; assert d['spoof-ip4']+d['spoof-arp']>=1, d
assert s['conntrack']['max_entries']==1024, s['conntrack']
assert s['mac_table']['max_entries']==256, s['mac_table']
assert s['memory']['rss_bytes']>0
print('# rss_bytes', s['memory']['rss_bytes'])"
tap_done
