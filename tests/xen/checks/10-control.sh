# Check group (sourced by dom0-test.sh with web1 and web2 up on the appliance):
# control from dom0 over the vchan with `vifwall -d`, as an operator would. Relies on
# $APPLIANCE, $aid, check, diag and wait_for from dom0-test.sh; vifwall is the dom0
# build run.sh packs into /usr/local/bin; tcpdump and jq come with dom0's root.
V="vifwall -d $APPLIANCE"
has() { printf '%s\n' "$1" | grep -q -- "$2"; }
# fails_with RC OUTPUT TEXT: the command failed and said TEXT.
fails_with() { [ "$1" != 0 ] && has "$2" "$3"; }
out=$($V ports 2>&1)
diag "$V ports: $(echo "$out" | tr '\n' '|')"
lists_ports() { for w in uplink web1 web2; do printf '%s\n' "$1" | grep -qw "$w" || return 1; done; }
check "vifwall -d $APPLIANCE ports lists uplink, web1 and web2" lists_ports "$out"
out=$(vifwall -d "$aid" ports 2>&1)
check "the appliance can be named by its domid too (vifwall -d $aid ports)" has "$out" web1

# One vchan, one client at a time: concurrent CLIs take turns, and each gets the
# fresh vchan vifwalld offers after the previous client left.
for i in 1 2 3 4; do $V ports >/tmp/ports.$i 2>&1 & done
wait
n=0
for i in 1 2 3 4; do grep -qw web2 /tmp/ports.$i && n=$((n + 1)); done
check "4 concurrent vifwall -d ports all answered ($n of 4)" [ $n = 4 ]
[ $n = 4 ] || diag "concurrent: $(cat /tmp/ports.* | tr '\n' '|')"

# A good ruleset: the default rules plus a counted guest-to-guest HTTP rule.
cat >/tmp/good.nft <<'NFT'
table inet vifwall {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		ct state invalid drop
		oifname "uplink" accept
		icmp type echo-request counter accept
		icmpv6 type { echo-request, nd-neighbor-solicit, nd-neighbor-advert } accept
		tcp dport 8080 counter accept comment "loaded from dom0"
	}
}
NFT
out=$($V load /tmp/good.nft 2>&1)
rc=$?
check "vifwall -d load of a good ruleset (exit $rc: $(echo "$out" | head -1))" [ $rc = 0 ]
check "vifwall -d show has the loaded rule" sh -c "$V show | grep -q 'tcp dport 8080'"
ping -c 1 -W 2 10.0.0.11 >/dev/null 2>&1
check "after the load dom0 still pings web1" ping -c 1 -W 2 10.0.0.11

printf 'table inet vifwall {\n\tchain forward {\n\t\ttype filter hook forward priority 0;\n\t\tbogus thing\n\t}\n}\n' >/tmp/bad.nft
out=$($V load /tmp/bad.nft 2>&1)
rc=$?
diag "bad load: $(echo "$out" | head -3 | tr '\n' '|')"
check "vifwall -d load of a broken ruleset fails (exit $rc)" [ $rc != 0 ]
check "... with nft's error naming the file and line (bad.nft:4)" has "$out" 'bad.nft:4'
check "... and the running rules stay: show still has the good rule, dom0 pings web1" sh -c "$V show | grep -q 'tcp dport 8080' && ping -c 1 -W 2 10.0.0.11 >/dev/null"

$V stats --json >/tmp/stats.json 2>&1
check "vifwall -d stats --json is JSON with the ports" sh -c "jq -e '.ports | length >= 3' /tmp/stats.json >/dev/null"
check "the 2-vCPU appliance runs 2 forwarding workers" sh -c "jq -e '.workers == 2' /tmp/stats.json >/dev/null"
$V stats --prometheus >/tmp/stats.prom 2>&1
check "vifwall -d stats --prometheus prints vifwall_ metrics" grep -q '^vifwall_' /tmp/stats.prom
diag "prometheus: $(grep -v '^#' /tmp/stats.prom | head -4 | tr '\n' '|')"

# A capture streamed over the vchan (the capture command may not be built yet).
if vifwall capture --help >/dev/null 2>&1; then
	rm -f /tmp/c.pcap
	ping -i 0.1 -W 1 10.0.0.11 >/dev/null 2>&1 &
	pp=$!
	timeout 120 $V capture web1 -c 100 -w /tmp/c.pcap >/tmp/capture.out 2>&1
	rc=$?
	kill $pp 2>/dev/null
	wait $pp 2>/dev/null
	n=$(tcpdump -r /tmp/c.pcap 2>/dev/null | wc -l)
	diag "capture (exit $rc): $(tr '\n' '|' </tmp/capture.out); tcpdump -r: $(tcpdump -r /tmp/c.pcap 2>&1 | head -2 | tr '\n' '|')"
	check "vifwall -d capture web1 -c 100 -w FILE while dom0 pings web1: tcpdump -r reads 100 packets ($n)" [ "$n" = 100 ]
	# A trace over the vchan: dom0's TCP to web1's port 9 meets the chain's policy drop.
	timeout 60 $V trace -c 3 >/tmp/trace.out 2>&1 &
	tp=$!
	sleep 3
	for i in 1 2 3; do timeout 2 bash -c 'echo >/dev/tcp/10.0.0.11/9' 2>/dev/null; done
	wait $tp
	diag "trace: $(head -3 /tmp/trace.out | cut -c1-160 | tr '\n' '|')"
	check "vifwall -d trace shows dom0's TCP to web1:9 dropped by the policy of chain forward" \
		sh -c "grep -q 'policy of chain forward' /tmp/trace.out && grep -q '10.0.0.11' /tmp/trace.out"
else
	diag "not yet possible: vifwall has no capture command in this build (no capture check)"
fi

# Errors an operator can hit say what is wrong.
out=$(vifwall -d Domain-0 ports 2>&1)
rc=$?
check "vifwall -d for a domain that is not an appliance fails and says so (exit $rc: $out)" fails_with $rc "$out" 'offers no vifwall control channel'
out=$(vifwall -d no-such-domain ports 2>&1)
rc=$?
check "vifwall -d for an unknown domain fails and says so (exit $rc: $out)" fails_with $rc "$out" "no domain named 'no-such-domain'"
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups vifwall -d "$APPLIANCE" ports 2>&1)
	rc=$?
	check "vifwall -d as a non-root user fails and says to run it as root (exit $rc: $out)" fails_with $rc "$out" 'needs root'
else
	diag "no setpriv in dom0: the non-root check is not run"
fi
# The channel still serves after all of the above.
check "vifwall -d ports still answers after the errors" sh -c "$V ports | grep -qw web1"
# Put the image's rules back for the groups that follow.
$V load /test/default-rules.nft >/dev/null 2>&1
