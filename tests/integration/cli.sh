#!/bin/bash
# The command-line tool's surface: help, version, per-command help, unknown input,
# and check's answers on good, broken and unsupported rulesets.
. "$(dirname "$0")/../lib/tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VIFWALL_BUILD:-$top/build/asan}/vifwall
data=$top/tests/integration/data
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

check "vifwall --help lists the commands" \
	bash -c "'$bin' --help | grep -q '^  check ' && '$bin' --help | grep -q '^  replay '"
check "vifwall --version prints the version" \
	bash -c "'$bin' --version | grep -Eq '^vifwall [0-9]+\.[0-9]+\.[0-9]+$'"
check "vifwall check --help shows its usage" \
	bash -c "'$bin' check --help | grep -q '^usage: vifwall check RULES.nft'"
check "vifwall replay --help shows its usage" \
	bash -c "'$bin' replay --help | grep -q '^usage: vifwall replay '"
"$bin" frobnicate >"$tmp/out" 2>&1; rc=$?
check "an unknown command exits 2 and says so" \
	bash -c "[ $rc = 2 ] && grep -q \"unknown command 'frobnicate'\" '$tmp/out'"
"$bin" >/dev/null 2>&1; rc=$?
check "no command exits 2" [ $rc = 2 ]

if [ "$(id -u)" = 0 ]; then
	"$bin" check "$data/good.nft" >"$tmp/out" 2>&1; rc=$?
	check "check accepts a good ruleset with a summary line" \
		bash -c "[ $rc = 0 ] && grep -Eq 'ok: 2 chains, [0-9]+ rules, 1 sets, 3 elements' '$tmp/out'"
	"$bin" check "$data/syntax-error.nft" >"$tmp/out" 2>&1; rc=$?
	check "check refuses a syntax error with file:line:column, exit 1" \
		bash -c "[ $rc = 1 ] && grep -q 'syntax-error.nft:5:[0-9]' '$tmp/out'"
	"$bin" check "$data/unsupported.nft" >"$tmp/out" 2>&1; rc=$?
	check "check refuses an unsupported construct naming the line and the construct" \
		bash -c "[ $rc = 1 ] && grep -q 'unsupported.nft:6' '$tmp/out' && grep -qi 'numgen' '$tmp/out'"
	sed -n '1,20s/^/# /p' "$tmp/out"
	"$bin" replay --iif web1 --oif uplink "$data/good.nft" "$data/good.nft" >"$tmp/out" 2>&1; rc=$?
	check "replay refuses a file that is not a capture" \
		bash -c "[ $rc = 1 ] && grep -q 'not a readable pcap or pcapng capture' '$tmp/out'"
else
	not_ok "check and replay need root here (network namespaces)"
fi
tap_done
