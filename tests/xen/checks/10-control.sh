# Check group (sourced by dom0-test.sh with web1 and web2 up on the appliance):
# control from dom0 over the vchan with `vifwall -d`, as an operator would.
V="vifwall -d $APPLIANCE"
out=$($V ports 2>&1)
diag "$V ports: $(echo "$out" | tr '\n' '|')"
check "vifwall -d $APPLIANCE ports lists uplink, web1 and web2" sh -c "echo '$out' | grep -qw uplink && echo '$out' | grep -qw web1 && echo '$out' | grep -qw web2"
out=$(vifwall -d "$aid" ports 2>&1)
check "the appliance can be named by its domid too (vifwall -d $aid ports)" sh -c "echo '$out' | grep -qw web1"

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
check "vifwall -d load of a good ruleset ($(echo "$out" | head -1))" [ $? = 0 ]
check "vifwall -d show has the loaded rule" sh -c "$V show | grep -q 'tcp dport 8080'"
ping -c 1 -W 2 10.0.0.11 >/dev/null 2>&1
check "after the load dom0 still pings web1" ping -c 1 -W 2 10.0.0.11

printf 'table inet vifwall {\n\tchain forward {\n\t\ttype filter hook forward priority 0;\n\t\tbogus thing\n\t}\n}\n' >/tmp/bad.nft
out=$($V load /tmp/bad.nft 2>&1)
rc=$?
diag "bad load: $(echo "$out" | head -3 | tr '\n' '|')"
check "vifwall -d load of a broken ruleset fails (exit $rc)" [ $rc != 0 ]
check "... with nft's error naming the file and line (bad.nft:4)" sh -c "echo '$out' | grep -q 'bad.nft:4'"
check "... and the running rules stay: show still has the good rule, dom0 pings web1" sh -c "$V show | grep -q 'tcp dport 8080' && ping -c 1 -W 2 10.0.0.11 >/dev/null"

$V stats --json >/tmp/stats.json 2>&1
check "vifwall -d stats --json is JSON with the ports" sh -c "jq -e '.ports | length >= 3' /tmp/stats.json >/dev/null"
$V stats --prometheus >/tmp/stats.prom 2>&1
check "vifwall -d stats --prometheus prints vifwall_ metrics" grep -q '^vifwall_' /tmp/stats.prom
diag "prometheus: $(grep -v '^#' /tmp/stats.prom | head -4 | tr '\n' '|')"
check "vifwall -d for a domain that is not an appliance says so" sh -c "! vifwall -d Domain-0 ports 2>&1 | grep -q . || vifwall -d Domain-0 ports 2>&1 | grep -q 'offers no vifwall control channel'"
# Put the image's rules back for the groups that follow.
$V load /test/default-rules.nft >/dev/null 2>&1
