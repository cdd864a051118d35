#!/bin/bash
# A hostile guest: g2 floods new UDP flows (every datagram a new source port) as fast
# as it can while g1 runs a TCP stream to the uplink side. vifwalld runs from a
# configuration file with a small connection table (256). Checks: the table stays
# within its bound (early drops, like the kernel's nf_conntrack_max), g1's established
# stream keeps flowing during the flood and arrives whole, g1's pings are answered
# during the flood, and the daemon's memory does not grow with the flood.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/dataplane.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VIFWALL_BUILD:-$top/build/asan}/vifwalld
cli=${VIFWALL_BUILD:-$top/build/asan}/vifwall
py=/usr/bin/python3
stream=$top/tests/lib/stream.py
flood_s=${VWT_FLOOD_SECONDS:-6}
need_root
tmp=$(mktemp -d)
trap 'ns_cleanup; rm -rf "$tmp"' EXIT

cat >"$tmp/rules.nft" <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		icmp type echo-request accept
		iifname "web1" tcp dport 5001 accept
		iifname "web2" udp dport 9 accept
	}
}
NFT
ctl=$tmp/ctl
cat >"$tmp/vifwalld.conf" <<CONF
rules = $tmp/rules.nft
uplink = uplink
ctl = $ctl
conntrack-entries = 256

[port web1]
mac = $MAC1
ip = 10.0.0.11

[port web2]
mac = $MAC2
ip = 10.0.0.12
CONF

dp_topology

ip netns exec "$(ns mid)" "$bin" --config "$tmp/vifwalld.conf" >"$tmp/daemon.log" 2>&1 &
bg_track $!
check "vifwalld starts from its configuration file" dp_wait "$tmp/daemon.log" "$ctl"
ping1() { nsx g1 ping -c 1 -w 5 -q 10.0.0.1 >/dev/null 2>&1; }
check "g1 reaches the uplink side before the flood" ping1
rss0=$(stat "s['memory']['rss_bytes']")

# g1's stream, paced at 1 MB/s.
nsx up "$py" "$stream" recv 10.0.0.1 5001 "$tmp/s.recv" "$tmp/s.progress" &
bg_track $!
sleep 0.5
nsx g1 "$py" "$stream" send 10.0.0.1 5001 "$tmp/s.send" "$tmp/s.stop" 1000000 &
spid=$!
bg_track $spid
sleep 1.5
progress() { cat "$tmp/s.progress" 2>/dev/null || echo 0; }

# The flood: every few datagrams a new source port (1024-61000, round and round), so
# nearly every datagram is a new flow for the connection tracker.
nsx g2 "$py" - "$flood_s" >"$tmp/flood.out" 2>&1 <<'PY' &
import socket, sys, time
end = time.monotonic() + float(sys.argv[1])
n, port = 0, 1024
while time.monotonic() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.0.0.12", port))
    port = 1024 if port >= 61000 else port + 1
    for _ in range(4):
        try:
            s.sendto(b"x" * 18, ("10.0.0.1", 9)); n += 1
        except OSError:
            pass
    s.close()
print("sent", n, "datagrams")
PY
fpid=$!
bg_track $fpid
sleep 1
p0=$(progress)
pings=0
for _ in 1 2 3 4; do
	nsx g1 ping -c 1 -w 2 -q 10.0.0.1 >/dev/null 2>&1 && pings=$((pings + 1))
done
# At least a second between the two reads: the receiver writes its progress every
# 50 ms at most, and four answered pings can take less than that.
sleep 1
p1=$(progress)
ct_mid=$(stat "s['conntrack']['entries']")
wait $fpid
diag "flood: $(cat "$tmp/flood.out")"
check "g1's stream kept flowing during the flood ($p0 -> $p1 bytes)" [ "$p1" -gt "$p0" ]
check "g1's pings were answered during the flood ($pings of 4)" [ "$pings" -ge 3 ]
check "the connection table stayed within 256 during the flood ($ct_mid)" [ "$ct_mid" -le 256 ]
stat "s['conntrack']" >"$tmp/ct.txt"
diag "conntrack: $(cat "$tmp/ct.txt")"
check "the flood filled the table and forced early drops" \
	"$py" -c "c = $(sed "s/'/\"/g" "$tmp/ct.txt"); assert c['inserted'] > 1000 and c['early_drops'] + c['table_full_drops'] > 0 and c['max_entries'] == 256, c"

touch "$tmp/s.stop"
wait $spid
for _ in $(seq 50); do [ -s "$tmp/s.recv" ] && break; sleep 0.1; done
sent=$(cat "$tmp/s.send" 2>/dev/null) recvd=$(cat "$tmp/s.recv" 2>/dev/null)
diag "stream: sender $sent; receiver $recvd"
check "g1's stream arrived whole (same bytes and SHA-256 at both ends)" \
	bash -c "[ -n '$sent' ] && [ '$sent' = '$recvd' ]"
rss1=$(stat "s['memory']['rss_bytes']")
diag "vifwalld RSS before the flood $rss0 bytes, after $rss1"
check "vifwalld's memory did not grow by more than 4 MiB with the flood" \
	[ $((rss1 - rss0)) -lt $((4 << 20)) ]
tap_done
