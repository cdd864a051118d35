#!/bin/bash
# vifwall capture and vifwall trace against a running vifwalld: a filtered 100-frame
# capture that tcpdump reads back, errors for a bad expression and an unknown port,
# a trace naming the rule (file:line) that dropped a ping, and a capture client
# stopped with SIGSTOP that loses frames while vifwalld keeps forwarding.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
NS_PREFIX=${CAPTURE_NS_PREFIX:-$NS_PREFIX}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${VIFWALL_BUILD:-$top/build/asan}
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; rm -rf "$tmp"' EXIT
ctl=$tmp/run/ctl
vw() { "$build/vifwall" --ctl "$ctl" "$@"; }

# Pings from the guest are allowed; pings from the uplink's side stop at line 5.
cat >"$tmp/rules.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		ip saddr 10.0.0.1 icmp type echo-request counter drop
		icmp type echo-request accept
	}
}
NFT

ns_add mid g1 up || { not_ok "create namespaces"; tap_done; }
veth g1 eth0 mid web1 && veth up eth0 mid uplink || { not_ok "create veth pairs"; tap_done; }
# No IPv6 chatter (router solicitations, MLD): the policy would drop it into the trace.
for n in g1 up; do nsx $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
nsx g1 ip addr add 10.0.0.11/24 dev eth0
nsx up ip addr add 10.0.0.1/24 dev eth0

check "vifwall capture --help" vw capture --help
check "vifwall trace --help" vw trace --help

ip netns exec "$(ns mid)" "$build/vifwalld" --rules "$tmp/rules.nft" --uplink uplink \
	--port web1,ip=10.0.0.11 --ctl "$ctl" >"$tmp/daemon.log" 2>&1 &
bg_track $!
for _ in $(seq 100); do
	grep -q 'forwarding between' "$tmp/daemon.log" && [ -S "$ctl" ] && break
	sleep 0.1
done
check "vifwalld serves its control socket" test -S "$ctl"
ping_ok() { nsx g1 ping -c 1 -W 2 10.0.0.1 >/dev/null 2>&1; }
check "the guest's ping passes" ping_ok

# --- a filtered capture read back by tcpdump ---
# (ip netns exec, not nsx: $! must be the program's pid, not a subshell's)
ip netns exec "$(ns g1)" ping -i 0.02 -c 1000 10.0.0.1 >/dev/null 2>&1 &
pp=$!
# UDP beside the pings: frames the filter must leave out.
ip netns exec "$(ns g1)" bash -c 'for _ in $(seq 300); do echo x >/dev/udp/10.0.0.1/9999; sleep 0.02; done' 2>/dev/null &
up=$!
timeout 120 "$build/vifwall" --ctl "$ctl" capture web1 -c 100 -w "$tmp/c.pcap" icmp \
	>"$tmp/cap.out" 2>&1
rc=$?
kill $pp $up 2>/dev/null
wait $pp $up 2>/dev/null
n=$(tcpdump -nr "$tmp/c.pcap" 2>/dev/null | wc -l)
icmp=$(tcpdump -nr "$tmp/c.pcap" icmp 2>/dev/null | wc -l)
diag "capture exit $rc: $(tr '\n' '|' <"$tmp/cap.out"); tcpdump -r: $n frames, $icmp ICMP"
check "capture -c 100 icmp exits 0 and tcpdump -r reads exactly 100 frames" \
	test "$rc" = 0 -a "$n" = 100
check "all 100 captured frames are ICMP" test "$icmp" = 100
check "both directions are captured (echo requests in, replies out)" \
	bash -c "tcpdump -nr '$tmp/c.pcap' 2>/dev/null | grep -q 'echo request' &&
		 tcpdump -nr '$tmp/c.pcap' 2>/dev/null | grep -q 'echo reply'"
check "the summary says 100 packets captured" grep -q '^100 packets captured' "$tmp/cap.out"

ip netns exec "$(ns g1)" ping -i 0.05 -c 200 10.0.0.1 >/dev/null 2>&1 &
pp=$!
timeout 60 "$build/vifwall" --ctl "$ctl" capture web1 -c 4 icmp >"$tmp/text.out" 2>"$tmp/text.err"
rc=$?
kill $pp 2>/dev/null
wait $pp 2>/dev/null
diag "$(cat "$tmp/text.out")"
check "without -w: one line per frame, like tcpdump" bash -c "[ $rc = 0 ] &&
	[ \$(grep -c 'web1 \(In\|Out\) *IP 10.0.0.* > 10.0.0.*: ICMP echo' '$tmp/text.out') = 4 ]"

ip netns exec "$(ns g1)" ping -i 0.05 -c 200 10.0.0.1 >/dev/null 2>&1 &
pp=$!
timeout 60 "$build/vifwall" --ctl "$ctl" capture web1 -c 6 -w - icmp 2>/dev/null |
	tcpdump -nr - 2>/dev/null >"$tmp/pipe.out"
kill $pp 2>/dev/null
wait $pp 2>/dev/null
check "-w - writes pcap to stdout: tcpdump -r - reads 6 ICMP frames" \
	bash -c "[ \$(grep -c ICMP '$tmp/pipe.out') = 6 ]"

# --- errors ---
for i in 1 2 3 4; do
	"$build/vifwall" --ctl "$ctl" capture uplink -c 1 'udp port 1' >/dev/null 2>&1 &
	held[$i]=$!
done
for _ in $(seq 100); do
	[ "$(grep -c 'capture on uplink started' "$tmp/daemon.log")" = 4 ] && break
	sleep 0.1
done
vw capture uplink -c 1 >"$tmp/out" 2>&1
rc=$?
diag "$(cat "$tmp/out")"
check "a fifth capture at once is refused (vifwalld allows 4)" \
	bash -c "[ $rc = 1 ] && grep -q '4 captures are running' '$tmp/out'"
kill -INT "${held[@]}" 2>/dev/null
wait "${held[@]}" 2>/dev/null
vw capture web1 -c 1 'icmp and and' >"$tmp/out" 2>&1
rc=$?
diag "$(cat "$tmp/out")"
check "a bad EXPR fails with exit 1 and libpcap's message" \
	bash -c "[ $rc = 1 ] && grep -q 'bad filter expression.*syntax error' '$tmp/out'"
vw capture nosuch -c 1 >"$tmp/out" 2>&1
rc=$?
diag "$(cat "$tmp/out")"
check "an unknown port fails with exit 1 and says so" \
	bash -c "[ $rc = 1 ] && grep -q \"no port 'nosuch'\" '$tmp/out'"

# --- trace: a denied ping, with its rule ---
# A UDP probe the policy drops first, then the denied pings.
"$build/vifwall" --ctl "$ctl" trace >"$tmp/trace.out" 2>"$tmp/trace.err" &
tp=$!
for _ in $(seq 100); do grep -q 'trace started' "$tmp/daemon.log" && break; sleep 0.1; done
nsx g1 bash -c 'echo x >/dev/udp/10.0.0.1/9999'
for _ in $(seq 30); do
	nsx up ping -c 1 -W 1 10.0.0.11 >/dev/null 2>&1
	grep -q 'rules.nft:5' "$tmp/trace.out" && break
done
kill -INT $tp
wait $tp
rc=$?
diag "$(head -3 "$tmp/trace.out")"
check "trace shows the denied ping: ports, reason rule, the rule's file:line and handle" \
	grep -Eq '^[0-9:.]+ uplink > web1 rule  .*rules\.nft:5 \(handle [0-9]+\) chain forward: ip saddr 10\.0\.0\.1 .*IP 10\.0\.0\.1 > 10\.0\.0\.11: ICMP echo request' \
	"$tmp/trace.out"
check "trace shows a chain's policy drop" \
	grep -q 'web1 > uplink rule  policy of chain forward  IP 10.0.0.11.[0-9]* > 10.0.0.1.9999: UDP' \
	"$tmp/trace.out"
check "Ctrl-C ends trace with exit 0" test "$rc" = 0

# --- a stopped capture client: vifwalld drops capture records, never waits ---
# While the client is stopped, ~15 MB of frames meet a few MB of queue and buffer.
"$build/vifwall" --ctl "$ctl" capture web1 -w "$tmp/big.pcap" >"$tmp/big.out" 2>&1 &
cp=$!
for _ in $(seq 100); do grep -q 'listening on web1' "$tmp/big.out" && break; sleep 0.1; done
kill -STOP $cp
nsx g1 ping -f -s 1400 -c 5000 10.0.0.1 >"$tmp/flood.out" 2>&1
diag "flood while the client is stopped: $(grep 'packets transmitted' "$tmp/flood.out")"
check "with the capture client stopped, vifwalld still forwards" ping_ok
check "...and most of a 5000-ping flood came back" \
	bash -c "grep -Eq ' (4[5-9][0-9][0-9]|5000) received' '$tmp/flood.out'"
kill -CONT $cp
# vifwalld tells a client its losses before any record kept after them: once a
# marker ping (33 bytes of data) is in the file, the client knows the count.
for _ in $(seq 50); do
	nsx g1 ping -c 1 -s 33 -W 1 10.0.0.1 >/dev/null 2>&1
	tcpdump -nr "$tmp/big.pcap" 'icmp and ip[2:2] = 61' 2>/dev/null | grep -q . && break
done
kill -INT $cp 2>/dev/null
wait $cp
rc=$?
diag "$(tr '\n' '|' <"$tmp/big.out")"
check "after SIGCONT the capture ends well and reports frames dropped by vifwalld" \
	bash -c "[ $rc = 0 ] && grep -Eq '^[1-9][0-9]* packets dropped by vifwalld' '$tmp/big.out'"
check "the file of the lossy capture is whole: tcpdump -r reads it" \
	bash -c "tcpdump -nr '$tmp/big.pcap' >/dev/null 2>&1"
vw ports >"$tmp/out" 2>&1
check "vifwalld is still serving" grep -q '^web1' "$tmp/out"
tap_done
