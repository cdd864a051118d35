#!/bin/bash
# Differential test of the rule engine against the kernel's nftables: for every case in
# tests/filters/diff/cases/, generate its capture, run it through the kernel's forward
# hook (tests/filters/diff/kernel_replay.py) and through `vifwall replay --json`, and
# require the same verdict and deciding rule for every packet. Two TAP lines per case:
# the kernel saw every packet (else the corpus is wrong), and vifwall agrees with it.
#
#   tests/integration/filters_diff.sh [CASE...]          all cases, or the ones named
#   FILTERS_DIFF_KERNEL_ONLY=DIR tests/integration/filters_diff.sh [CASE...]
#       kernel side only: writes DIR/CASE.jsonl (golden output), DIR/CASE.pcap,
#       DIR/CASE.explain (each packet's path through the chains) and DIR/CASE.trace.
#
# Work files (pcaps, both sides' JSON lines, logs) go to $VIFWALL_BUILD/filters-diff/.
. "$(dirname "$0")/../lib/tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
diffdir=$top/tests/filters/diff
build=${VIFWALL_BUILD:-$top/build/asan}
bin=$build/vifwall
py=${VWDIFF_PYTHON:-/usr/bin/python3}
kernel_only=${FILTERS_DIFF_KERNEL_ONLY:-}
work=$build/filters-diff

# Namespaces are made by kernel_replay.py (it removes its own); this is the safety net
# for one killed mid-run.
ns_prefix="vwdiff-$$"
cleanup() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$ns_prefix-"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_root
if ! "$py" -c 'import scapy' 2>/dev/null; then
	not_ok "$py cannot import scapy (install python3-scapy: make deps)"
	tap_done
fi

if [ $# -gt 0 ]; then
	cases=("$@")
else
	cases=()
	for f in "$diffdir"/cases/*.nft; do
		cases+=("$(basename "$f" .nft)")
	done
fi

if [ -n "$kernel_only" ]; then
	mkdir -p "$kernel_only" || exit 1
	work=$kernel_only
fi
mkdir -p "$work" || exit 1

t_start=$SECONDS
# All captures in one python run (scapy takes a while to load).
declare -A frames
"$py" "$diffdir/gen_packets.py" --outdir "$work" "${cases[@]}" >"$work/gen.out" 2>"$work/gen.err"
while read -r name count; do
	frames[$name]=$count
done <"$work/gen.out"

i=0
for c in "${cases[@]}"; do
	i=$((i + 1))
	rules=$diffdir/cases/$c.nft
	pcap=$work/$c.pcap
	if [ -n "$kernel_only" ]; then
		kout=$work/$c.jsonl
	else
		kout=$work/$c.kernel.jsonl
	fi
	if [ ! -f "$rules" ] || [ ! -f "$diffdir/cases/$c.py" ]; then
		not_ok "$c: no cases/$c.nft and cases/$c.py"
		continue
	fi

	n=${frames[$c]:-}
	if [ -z "$n" ]; then
		not_ok "$c: gen_packets.py made no capture"
		diag "$(grep -A4 "case $c[: ]" "$work/gen.err" | head -5)"
		continue
	fi

	"$py" "$diffdir/kernel_replay.py" --iif web1 --oif uplink --iif-mac 00:16:3e:00:00:01 \
		--ns-prefix "$ns_prefix-$i" --trace "$work/$c.trace" --explain "$work/$c.explain" \
		--ruleset-out "$work/$c.ruleset" -o "$kout" "$rules" "$pcap" 2>"$work/$c.kernel.err"
	rc=$?
	if [ $rc -eq 0 ] && [ "$(wc -l <"$kout")" -eq "$n" ]; then
		ok "$c: the kernel's forward chain saw every packet ($n frames)"
	else
		not_ok "$c: the kernel's forward chain did not see every packet (exit $rc): corpus bug"
		diag "$(head -8 "$work/$c.kernel.err")"
		[ $rc -eq 3 ] || continue
	fi
	[ -n "$kernel_only" ] && continue

	if [ ! -x "$bin" ]; then
		not_ok "$c: vifwall replay: no binary at $bin (build it first)"
		continue
	fi
	vout=$work/$c.vifwall.jsonl
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		"$bin" replay --json --iif web1 --oif uplink --iif-mac 00:16:3e:00:00:01 \
		"$rules" "$pcap" >"$vout" 2>"$work/$c.vifwall.err"
	rc=$?
	if [ $rc -ne 0 ] && [ ! -s "$vout" ]; then
		not_ok "$c: \`vifwall replay --json\` is missing or failed (exit $rc), nothing to compare"
		diag "$(head -5 "$work/$c.vifwall.err")"
		continue
	fi
	if cmp_out=$("$py" "$diffdir/compare_jsonl.py" "$kout" "$vout" 5) && [ $rc -eq 0 ]; then
		ok "$c: vifwall agrees with the kernel on all $n packets"
	else
		not_ok "$c: vifwall differs from the kernel (replay exit $rc)"
		diag "$cmp_out"
		[ $rc -eq 0 ] || diag "$(head -3 "$work/$c.vifwall.err")"
		diag "kernel's paths: $work/$c.explain"
	fi
done
diag "filters_diff: ${#cases[@]} cases in $((SECONDS - t_start)) s"
tap_done
