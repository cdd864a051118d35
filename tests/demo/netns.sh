#!/bin/bash
# vifwall demonstration in network namespaces (what `make demo` runs until the Xen
# image lands): two guests and an uplink host, each a namespace joined by a veth pair
# to an "appliance" namespace where vifwalld filters between them. Shows an allowed
# and a denied connection, anti-spoofing, fail-closed, then tears everything down.
#
#   sudo VIFWALL_BUILD=build tests/demo/netns.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${VIFWALL_BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
bin=$build/vifwalld
if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (it creates network namespaces)" >&2
	exit 1
fi
if [ ! -x "$bin" ]; then
	echo "demo: $bin is missing: run 'make' first" >&2
	exit 1
fi
. "$top/tests/lib/netns.sh"
NS_PREFIX=vifwall-demo # namespaces vifwall-demo-{appliance,web1,web2,uplink}
tmp=$(mktemp -d)
trap 'say "Tearing down: stopping vifwalld, deleting the namespaces."; ns_cleanup; rm -rf "$tmp"' EXIT
ns_cleanup # leftovers of an interrupted run

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { # NS CMD...: print the command as typed in NS, then run it there
	local n=$1; shift
	printf '\033[2m%s$ %s\033[0m\n' "$n" "$*" >&2
	nsx "$n" "$@"
}

say "Building the topology: guests web1 and web2 and a host behind the uplink, each in
    its own network namespace, joined by veth pairs to the appliance namespace. The
    appliance ends are named like Xen vifs: web1, web2, uplink. They have no address
    and no bridge, and the appliance does not route: only vifwalld forwards."
ns_add appliance web1 web2 uplink
veth web1 eth0 appliance web1
veth web2 eth0 appliance web2
veth uplink eth0 appliance uplink
n=1
for g in web1:10.0.0.11 web2:10.0.0.12 uplink:10.0.0.1; do
	name=${g%%:*} addr=${g#*:}
	nsx "$name" ip link set eth0 down
	nsx "$name" ip link set eth0 address "00:16:3e:00:00:0$n"
	nsx "$name" ip link set eth0 up
	nsx "$name" ip addr add "$addr/24" dev eth0
	printf '    %-7s eth0 00:16:3e:00:00:0%d  %s\n' "$name" $n "$addr"
	n=$((n + 1))
done
printf '    appliance: net.ipv4.ip_forward = %s\n' "$(nsx appliance cat /proc/sys/net/ipv4/ip_forward)"

say "The rules, in ordinary nft syntax: guests may ping and reach TCP port 80;
    everything else is dropped."
cat >"$tmp/rules.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		icmp type echo-request counter accept
		iifname "web*" tcp dport 80 counter accept
	}
}
NFT
sed 's/^/    /' "$tmp/rules.nft"

say "Before vifwalld runs, nothing passes (fail-closed): web1 pings web2."
show web1 ping -c 2 -W 1 10.0.0.12 | tail -2
nsx web1 ip neigh flush dev eth0 # forget the failed ARP lookup

say "Starting vifwalld on the three ports; web1 and web2 are anti-spoofed (mac=, ip=)."
for p in 80 22; do
	nsx uplink socat "TCP-LISTEN:$p,reuseaddr,fork" "SYSTEM:echo 'hello from port $p'" &
	bg_track $!
done
# ip netns exec execs vifwalld itself, so $! is its pid (signals reach it).
ip netns exec "$(ns appliance)" "$bin" --rules "$tmp/rules.nft" --uplink uplink \
	--port web1,mac=00:16:3e:00:00:01,ip=10.0.0.11 \
	--port web2,mac=00:16:3e:00:00:02,ip=10.0.0.12 --ctl "$tmp/ctl" 2>"$tmp/vifwalld.log" &
pid=$!
bg_track $pid
for _ in $(seq 100); do
	grep -q 'forwarding between' "$tmp/vifwalld.log" && break
	sleep 0.1
done
sed 's/^/    /' "$tmp/vifwalld.log"

say "web1 pings web2 (guest to guest) and the uplink host."
show web1 ping -c 3 -i 0.2 10.0.0.12 | tail -2
show web1 ping -c 3 -i 0.2 10.0.0.1 | tail -2

say "Allowed: web1 connects to TCP port 80 on the uplink host."
show web1 timeout 3 socat -u TCP:10.0.0.1:80,connect-timeout=2 -

say "Denied: web1 connects to TCP port 22 on the uplink host (gives up after 2 s)."
show web1 timeout 3 socat -u TCP:10.0.0.1:22,connect-timeout=2 - 2>/dev/null ||
	echo "no answer: the rules dropped the connection attempt, as they should"

say "Anti-spoofing: web1 pretends to be 10.0.0.99."
nsx web1 ip addr add 10.0.0.99/32 dev eth0
show web1 ping -c 2 -W 1 -I 10.0.0.99 10.0.0.1 | tail -2
nsx web1 ip addr del 10.0.0.99/32 dev eth0

say "The operator's view through the control socket: vifwall ports, then vifwall show
    (the rules with live counters: the denied connection fell to the policy,
    the pings hit the echo-request rule's counter)."
echo "appliance# vifwall ports"
"$build/vifwall" --ctl "$tmp/ctl" ports | sed 's/^/    /'
echo "appliance# vifwall show"
"$build/vifwall" --ctl "$tmp/ctl" show | sed 's/^/    /'
echo "appliance# vifwall stats   (drop reasons: 'rule' for the denied port, 'spoof-ip4')"
"$build/vifwall" --ctl "$tmp/ctl" stats | grep '^port' | sed 's/^/    /'

say "Fail-closed: vifwalld is killed; web1 can no longer reach web2."
kill -9 $pid
wait $pid 2>/dev/null
show web1 ping -c 2 -W 1 10.0.0.12 | tail -2

say "Done. vifwall forwarded what the rules allow, dropped the rest, and nothing
    passed without it."
