# The data-plane tests' common ground: guests g1 and g2 and the uplink side "up", each
# joined by a veth pair to the middle namespace "mid" whose ends are named like vifs
# (web1, web2, uplink), and helpers to wait for vifwalld and read its stats. Source
# after tap.sh and netns.sh; set $cli and $py first.

MAC1=00:16:3e:00:00:01 MAC2=00:16:3e:00:00:02 MACU=00:16:3e:00:00:fe

# dp_guest NS MAC ADDR: eth0 of namespace NS gets MAC and ADDR/24, no IPv6.
dp_guest() {
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	nsx "$1" ip link set eth0 address "$2"
	nsx "$1" ip addr add "$3/24" dev eth0
}

# dp_topology: the namespaces and veth pairs above, g1 10.0.0.11, g2 10.0.0.12, up
# 10.0.0.1; ends the test when they cannot be made.
dp_topology() {
	ns_add mid g1 g2 up || { not_ok "create namespaces"; tap_done; }
	veth g1 eth0 mid web1 && veth g2 eth0 mid web2 && veth up eth0 mid uplink ||
		{ not_ok "create veth pairs"; tap_done; }
	dp_guest g1 $MAC1 10.0.0.11
	dp_guest g2 $MAC2 10.0.0.12
	dp_guest up $MACU 10.0.0.1
}

# dp_wait LOG CTL: wait up to 15 s for vifwalld to forward and serve CTL.
dp_wait() {
	for _ in $(seq 150); do
		grep -q 'forwarding between' "$1" && [ -S "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# vw ARGS...: vifwall on the test's control socket $ctl.
vw() { "$cli" --ctl "$ctl" "$@"; }

# stat EXPR: a python expression over the stats JSON object s.
stat() {
	vw stats --json | "$py" -c "import json,sys; s=json.load(sys.stdin); print($1)"
}
