#!/bin/bash
# make bench: classification cost per packet on the ClassBench sets, vifwall's engine
# (reference evaluator and fast path) side by side with DPDK's rte_acl on the same rules
# and the same trace, in one run. One table row per set:
#
#   rte_acl ns/pkt | reference ns/pkt | fast ns/pkt | fast instr/pkt | reference
#   instr/pkt | load s (kernel load + dump + compile) | fast build s | agree
#
# ns/pkt: median over BENCH_RUNS runs of the whole trace (wall clock: noisy on a shared
# machine). instr/pkt: callgrind, instructions of the classify loop only
# (--toggle-collect=bench_loop) over the first BENCH_CG_PACKETS packets, repeatable.
# The reference evaluator runs the first BENCH_REF_PACKETS packets only (it is linear in
# the rules). agree: rte_acl's match checksum equals the fast path's over the whole
# trace, and the reference's equals the fast path's over the packets it ran.
# Usage: tests/bench/run.sh BUILD_DIR
#   env: BENCH_SETS, BENCH_PACKETS, BENCH_RUNS, BENCH_REF_PACKETS, BENCH_REF_RUNS,
#        BENCH_CG_PACKETS (0: no callgrind), CLASSBENCH_DIR
set -eu
build=${1:?usage: tests/bench/run.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
cb=${CLASSBENCH_DIR:-$top/../shared/classbench}
sets=${BENCH_SETS:-"acl1_1k fw1_1k ipc1_1k acl1_10k fw1_10k ipc1_10k"}
npk=${BENCH_PACKETS:-100000}
runs=${BENCH_RUNS:-11}
refpk=${BENCH_REF_PACKETS:-2000}
refruns=${BENCH_REF_RUNS:-3}
cgpk=${BENCH_CG_PACKETS:-2000}
data="$build/bench/data"
mkdir -p "$data"

# field NAME LINE: the value of NAME=VALUE in LINE
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# Instructions per packet of the classify loop under callgrind (empty without valgrind).
# The loader's forked child reports a count of its own first: ours is the last.
instr() {
	local n=$1 out
	shift
	command -v valgrind >/dev/null && [ "$n" -gt 0 ] || return 0
	out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=bench_loop \
		"$@" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1)
	[ -n "$out" ] && awk -v i="$out" -v n="$n" 'BEGIN { printf "%.0f", i / n }'
}

echo "# vifwall bench $(date -u +%FT%TZ) on $(nproc) CPUs; $npk packets, median of $runs runs;" \
	"reference: first $refpk packets, $refruns runs; instr: first $cgpk packets"
printf "%-9s %6s %9s %9s %9s %11s %11s %7s %7s %s\n" set rules acl_ns ref_ns fast_ns \
	fast_instr ref_instr load_s build_s agree
for s in $sets; do
	[ -f "$cb/$s" ] || { echo "bench: $cb/$s missing (set CLASSBENCH_DIR)" >&2; exit 1; }
	[ -f "$data/$s.nft" ] || /usr/bin/python3 "$top/tests/bench/classbench.py" nft "$cb/$s" >"$data/$s.nft"
	[ -f "$data/$s.pcap" ] || /usr/bin/python3 "$top/tests/bench/classbench.py" trace "$cb/$s" "$npk" 1 "$data/$s.pcap"
	acl=$("$build/bench/bench_acl" "$cb/$s" "$data/$s.pcap" "$runs" | tail -1)
	fast=$("$build/bench/bench_classify" -m fast -r "$refpk" "$data/$s.nft" "$data/$s.pcap" "$runs")
	ref=$("$build/bench/bench_classify" -m reference -r "$refpk" -R "$refruns" \
		"$data/$s.nft" "$data/$s.pcap" "$runs")
	fi=$(instr "$cgpk" "$build/bench/bench_classify" -m fast -n "$cgpk" "$data/$s.nft" "$data/$s.pcap" 1)
	cgref=$((cgpk < 500 ? cgpk : 500))
	ri=$(instr "$cgref" "$build/bench/bench_classify" -m reference -r "$cgref" "$data/$s.nft" \
		"$data/$s.pcap" 1)
	agree=yes
	[ "$(field matchsum "$acl")" = "$(field matchsum "$fast")" ] || agree="NO(acl)"
	[ "$(field matchsum "$ref")" = "$(field first "$fast")" ] || agree="NO(ref)"
	printf "%-9s %6s %9s %9s %9s %11s %11s %7s %7s %s\n" "$s" "$(field rules "$fast")" \
		"$(field median "$acl")" "$(field median "$ref")" "$(field median "$fast")" \
		"${fi:--}" "${ri:--}" "$(field load "$ref" | tr -d s)" \
		"$(field build "$fast" | tr -d s)" "$agree"
done
