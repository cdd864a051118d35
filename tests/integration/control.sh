#!/bin/bash
# vifwalld's control socket through the vifwall CLI: ports, stats (text, JSON,
# Prometheus), show with live counters, and load: a good ruleset takes effect at
# once on real traffic, a broken one is refused with nft's file:line and the running
# rules keep forwarding.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${VIFWALL_BUILD:-$top/build/asan}
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; rm -rf "$tmp"' EXIT
ctl=$tmp/run/ctl
vw() { "$build/vifwall" --ctl "$ctl" "$@"; }

rules() { # ICMP_VERDICT: a ruleset whose echo-request rule says accept or drop
	cat <<NFT
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		icmp type echo-request counter $1
	}
}
NFT
}
rules accept >"$tmp/allow.nft"
rules drop >"$tmp/deny.nft"
printf 'table inet vifwall {\n\tchain forward {\n\t\ttype filter hook forward priority 0;\n\t\tip saddr 10.0.0.1 acept\n\t}\n}\n' >"$tmp/broken.nft"

ns_add mid g1 up || { not_ok "create namespaces"; tap_done; }
veth g1 eth0 mid web1 && veth up eth0 mid uplink || { not_ok "create veth pairs"; tap_done; }
nsx g1 ip addr add 10.0.0.11/24 dev eth0
nsx up ip addr add 10.0.0.1/24 dev eth0

"$build/vifwall" --ctl "$tmp/none/ctl" ports >"$tmp/out" 2>&1
check "without vifwalld the CLI says so" grep -q 'is vifwalld running' "$tmp/out"

ip netns exec "$(ns mid)" "$build/vifwalld" --rules "$tmp/allow.nft" --uplink uplink \
	--port web1,ip=10.0.0.11 --ctl "$ctl" >"$tmp/daemon.log" 2>&1 &
bg_track $!
for _ in $(seq 100); do
	grep -q 'forwarding between' "$tmp/daemon.log" && [ -S "$ctl" ] && break
	sleep 0.1
done
check "vifwalld serves its control socket" test -S "$ctl"

ping_ok() { nsx g1 ping -c 1 -W 2 10.0.0.1 >/dev/null 2>&1; }
check "allowed ping passes" ping_ok

vw ports >"$tmp/out" 2>&1
check "ports lists web1 (guest) and uplink" \
	bash -c "grep -Eq '^web1 +guest +on' '$tmp/out' && grep -Eq '^uplink +uplink' '$tmp/out'"

vw stats --json >"$tmp/stats.json" 2>&1
check "stats --json: ports with counters, conntrack, memory" /usr/bin/python3 -c "
import json,sys
s=json.load(open('$tmp/stats.json'))
p={x['name']:x for x in s['ports']}
assert p['web1']['rx_packets']>=1 and 'spoof-ip4' in p['web1']['drop_reasons']
assert s['conntrack']['max_entries']>0 and s['memory']['rss_bytes']>0
assert s['ruleset']['generation']==1 and s['ruleset']['rules']==2"
vw stats --prometheus >"$tmp/out" 2>&1
check "stats --prometheus speaks the exposition format" \
	grep -Eq '^vifwall_port_rx_packets_total\{port="web1"\} [1-9]' "$tmp/out"

vw show >"$tmp/out" 2>&1
check "show prints the rules with handles and live counters" \
	grep -Eq 'echo-request counter accept  # handle [0-9]+ packets [1-9][0-9]* bytes' "$tmp/out"

vw load "$tmp/broken.nft" >"$tmp/out" 2>&1
rc=$?
check "a broken ruleset is refused with nft's file:line, exit 1" \
	bash -c "[ $rc = 1 ] && grep -q 'broken.nft:4:' '$tmp/out'"
check "after the refused load the old rules still forward" ping_ok
vw stats --json >"$tmp/stats.json"
check "the refused load left the generation alone" \
	/usr/bin/python3 -c "import json; assert json.load(open('$tmp/stats.json'))['ruleset']['generation']==1"

vw load "$tmp/deny.nft" >"$tmp/out" 2>&1
check "load reports the new ruleset" grep -q 'deny.nft: loaded: 1 chains, 2 rules.*generation 2' "$tmp/out"
check_fails "after loading deny.nft ping is dropped at once" ping_ok
vw load "$tmp/allow.nft" >/dev/null 2>&1
check "after loading allow.nft again ping passes" ping_ok
vw show >"$tmp/out" 2>&1
check "show names the loaded file and generation" grep -q '^# allow.nft (generation 3)' "$tmp/out"
tap_done
