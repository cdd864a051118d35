#!/bin/bash
# Live reload under traffic: a long TCP stream from guest g1 to the uplink side runs
# while `vifwall load` swaps the ruleset 100 times between two rulesets that both allow
# it. Every byte must arrive (SHA-256 of the stream on both ends) and vifwalld must
# drop nothing on the way; then a ruleset that forbids the flow stops it at once; and
# while a 20000-rule ruleset compiles, frames are still forwarded.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VIFWALL_BUILD:-$top/build/asan}/vifwalld
cli=${VIFWALL_BUILD:-$top/build/asan}/vifwall
py=/usr/bin/python3
reloads=${VWT_RELOADS:-100}
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; rm -rf "$tmp"' EXIT

MAC1=00:16:3e:00:00:01 MACU=00:16:3e:00:00:fe

# A and B allow the stream in different ways (B also lists more rules, in another
# order, and a set); C forbids it, established or not.
cat >"$tmp/a.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		icmp type echo-request accept
		iifname "web1" tcp dport 5001 accept
	}
}
NFT
cat >"$tmp/b.nft" <<'NFT'
table inet vifwall {
	set open { type inet_service; elements = { 22, 80, 5001 } }
	chain forward {
		type filter hook forward priority 0; policy drop;
		iifname "web1" tcp dport @open counter accept
		iifname "uplink" tcp sport 5001 ct state established accept
		icmp type echo-request accept
		udp dport 53 accept
		ct state established,related accept
	}
}
NFT
cat >"$tmp/c.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		icmp type { echo-request, echo-reply } accept
	}
}
NFT

ns_add mid g1 up || { not_ok "create namespaces"; tap_done; }
veth g1 eth0 mid web1 && veth up eth0 mid uplink || { not_ok "create veth pairs"; tap_done; }
for n in g1 up; do nsx $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
nsx g1 ip link set eth0 address $MAC1
nsx up ip link set eth0 address $MACU
nsx g1 ip addr add 10.0.0.11/24 dev eth0
nsx up ip addr add 10.0.0.1/24 dev eth0

ctl=$tmp/ctl
ip netns exec "$(ns mid)" "$bin" --rules "$tmp/a.nft" --uplink uplink \
	--port "web1,mac=$MAC1,ip=10.0.0.11" --ctl "$ctl" >"$tmp/daemon.log" 2>&1 &
bg_track $!
for _ in $(seq 150); do
	grep -q 'forwarding between' "$tmp/daemon.log" && [ -S "$ctl" ] && break
	sleep 0.1
done
check "vifwalld starts with ruleset A" test -S "$ctl"
vw() { "$cli" --ctl "$ctl" "$@"; }

# The stream's two ends: tests/lib/stream.py.
stream=$top/tests/lib/stream.py
# stream_start TAG RATE: start both ends; stream_stop TAG: stop the sender, wait both.
stream_start() {
	rm -f "$tmp/$1".*
	nsx up "$py" "$stream" recv 10.0.0.1 5001 "$tmp/$1.recv" "$tmp/$1.progress" &
	rpid=$!
	bg_track $rpid
	sleep 0.5
	nsx g1 "$py" "$stream" send 10.0.0.1 5001 "$tmp/$1.send" "$tmp/$1.stop" "$2" &
	spid=$!
	bg_track $spid
}
stream_stop() {
	touch "$tmp/$1.stop"
	wait "$spid"
	wait "$rpid"
}
progress() { cat "$tmp/$1.progress" 2>/dev/null || echo 0; }
drops() { # every drop of both ports (ring overflows too), from stats --json
	vw stats --json | "$py" -c "import json,sys; print(sum(p['drops'] + p['drop_reasons']['ring'] for p in json.load(sys.stdin)['ports']))"
}

# --- 100 reloads under a stream ---------------------------------------------------------
nsx g1 nstat -n >/dev/null 2>&1
d0=$(drops)
stream_start long 2000000
sleep 1
fails=0 t0=$SECONDS
for i in $(seq "$reloads"); do
	if [ $((i % 2)) = 1 ]; then f=b; else f=a; fi
	vw load "$tmp/$f.nft" >>"$tmp/loads.log" 2>&1 || fails=$((fails + 1))
done
took=$((SECONDS - t0))
sleep 1
stream_stop long
d1=$(drops)
check "$reloads reloads alternating A and B all succeeded ($fails failed, ${took} s)" [ "$fails" = 0 ]
gen=$(vw stats --json | "$py" -c "import json,sys; print(json.load(sys.stdin)['ruleset']['generation'])")
check "the daemon counts $((reloads + 1)) rulesets installed (generation $gen)" [ "$gen" = $((reloads + 1)) ]
sent=$(cat "$tmp/long.send" 2>/dev/null) recvd=$(cat "$tmp/long.recv" 2>/dev/null)
diag "sender: $sent; receiver: $recvd"
check "the stream arrived whole: same byte count and SHA-256 on both ends" \
	bash -c "[ -n '$sent' ] && [ '$sent' = '$recvd' ] && [ '${sent%% *}' -gt 1000000 ]"
check "vifwalld dropped no frame during the reloads (drops $d0 -> $d1)" [ "$d0" = "$d1" ]
diag "TCP retransmissions seen by g1 during the reloads:" \
	"$(nsx g1 nstat -a TcpRetransSegs 2>/dev/null | awk '/TcpRetransSegs/ {print $2}')"

# --- a ruleset that forbids the flow stops it at once ---------------------------------------
vw load "$tmp/a.nft" >/dev/null 2>&1
stream_start cut 2000000
sleep 1.5
p0=$(progress cut)
vw load "$tmp/c.nft" >/dev/null 2>&1
check "ruleset C (forbids the stream) loads" [ $? = 0 ]
sleep 1
p1=$(progress cut)
sleep 2
p2=$(progress cut)
check "before C the stream was flowing ($p0 bytes)" [ "$p0" -gt 0 ]
check "after C not one more byte arrives ($p1 then $p2 bytes)" [ "$p1" = "$p2" ]
d2=$(drops)
check "the stream's frames now count as drops ($d1 -> $d2)" [ "$d2" -gt "$d1" ]
ping_c() { nsx g1 ping -c 1 -w 5 -q 10.0.0.1 >/dev/null 2>&1; }
check "ping still passes under C" ping_c
kill "$spid" "$rpid" 2>/dev/null

# --- a big ruleset compiles while the loop goes on forwarding -------------------------------
"$py" - >"$tmp/big.nft" <<'PY'
print("table inet vifwall {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;")
print("\t\tct state established,related accept\n\t\ticmp type { echo-request, echo-reply } accept")
for i in range(20000):
    print("\t\tip saddr 172.%d.%d.%d tcp dport %d drop" % (16 + i // 65536, i // 256 % 256, i % 256, 1 + i))
print("\t}\n}")
PY
vw load "$tmp/big.nft" >"$tmp/big.out" 2>&1 &
lpid=$!
sleep 0.5
ping_c && ping_ok=1 || ping_ok=0
kill -0 "$lpid" 2>/dev/null && loading=1 || loading=0
check "while 20000 rules compile, g1's ping is answered (ping $ping_ok, load still running $loading)" \
	[ "$ping_ok$loading" = 11 ]
wait "$lpid"
check "then the 20000-rule ruleset is installed" grep -q '20002 rules' "$tmp/big.out"
tap_done
