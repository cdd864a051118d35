#!/bin/bash
# make bench: classification cost per packet on the ClassBench sets, vifwall's engine
# (reference evaluator and fast path) side by side with DPDK's rte_acl on the same rules
# and the same trace, in one run. One table row per set:
#
#   rte_acl ns/pkt | reference ns/pkt | fast ns/pkt | flow-cache hit ns | flow-cache
#   ns, whole trace | fast instr/pkt | flow-cache hit instr | reference instr/pkt |
#   load s (kernel load + dump + compile) | fast build s | agree
#
# Flow cache (bench_classify's fc_* fields): every ClassBench packet is a flow of its
# own, so the hit cost is measured on the first BENCH_FC_FLOWS packets replayed (all
# hits, entries in the CPU caches), and again with the whole trace as the working set
# (100k flows: memory-bound, a few percent misses where buckets overflow).
#
# ns/pkt: median over BENCH_RUNS runs of the whole trace (wall clock: noisy on a shared
# machine). instr/pkt: callgrind, instructions of the classify loop only
# (--toggle-collect=bench_loop) over the first BENCH_CG_PACKETS packets, repeatable.
# The reference evaluator runs the first BENCH_REF_PACKETS packets only (it is linear in
# the rules). agree: rte_acl's match checksum equals the fast path's over the whole
# trace, the reference's equals the fast path's over the packets it ran, and every
# flow-cache verdict equals the fast path's.
# Usage: tests/bench/run.sh BUILD_DIR
#   env: BENCH_SETS, BENCH_PACKETS, BENCH_RUNS, BENCH_REF_PACKETS, BENCH_REF_RUNS,
#        BENCH_CG_PACKETS (0: no callgrind), BENCH_FC_FLOWS, CLASSBENCH_DIR
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
fcflows=${BENCH_FC_FLOWS:-256}
data="$build/bench/data"
mkdir -p "$data"

# field NAME LINE: the value of NAME=VALUE in LINE
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# Instructions per packet of the classify loop under callgrind (empty without valgrind).
# The loader's forked child reports a count of its own first: ours is the last.
# FN: the loop function to collect (bench_loop; bench_loop_fc for the cache's hits).
instr() {
	local fn=$1 n=$2 out
	shift 2
	command -v valgrind >/dev/null && [ "$n" -gt 0 ] || return 0
	out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$fn" \
		"$@" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1)
	[ -n "$out" ] && awk -v i="$out" -v n="$n" 'BEGIN { printf "%.0f", i / n }'
}

echo "# vifwall bench $(date -u +%FT%TZ) on $(nproc) CPUs; $npk packets, median of $runs runs;" \
	"reference: first $refpk packets, $refruns runs; instr: first $cgpk packets;" \
	"flow cache: $fcflows flows replayed"
printf "%-9s %6s %9s %9s %9s %9s %9s %11s %9s %11s %7s %7s %s\n" set rules acl_ns ref_ns \
	fast_ns fc_ns fc_all_ns fast_instr fc_instr ref_instr load_s build_s agree
for s in $sets; do
	[ -f "$cb/$s" ] || { echo "bench: $cb/$s missing (set CLASSBENCH_DIR)" >&2; exit 1; }
	[ -f "$data/$s.nft" ] || /usr/bin/python3 "$top/tests/bench/classbench.py" nft "$cb/$s" >"$data/$s.nft"
	[ -f "$data/$s.pcap" ] || /usr/bin/python3 "$top/tests/bench/classbench.py" trace "$cb/$s" "$npk" 1 "$data/$s.pcap"
	acl=$("$build/bench/bench_acl" "$cb/$s" "$data/$s.pcap" "$runs" | tail -1)
	fast=$("$build/bench/bench_classify" -m fast -r "$refpk" -F "$fcflows" "$data/$s.nft" \
		"$data/$s.pcap" "$runs")
	ref=$("$build/bench/bench_classify" -m reference -r "$refpk" -R "$refruns" \
		"$data/$s.nft" "$data/$s.pcap" "$runs")
	fi=$(instr bench_loop "$cgpk" "$build/bench/bench_classify" -m fast -n "$cgpk" "$data/$s.nft" \
		"$data/$s.pcap" 1)
	cgfc=$((cgpk < fcflows ? cgpk : fcflows))
	ci=$(instr bench_loop_fc "$cgfc" "$build/bench/bench_classify" -m fc -F "$fcflows" \
		-n "$cgfc" "$data/$s.nft" "$data/$s.pcap" 1)
	cgref=$((cgpk < 500 ? cgpk : 500))
	ri=$(instr bench_loop "$cgref" "$build/bench/bench_classify" -m reference -r "$cgref" \
		"$data/$s.nft" "$data/$s.pcap" 1)
	agree=yes
	[ "$(field matchsum "$acl")" = "$(field matchsum "$fast")" ] || agree="NO(acl)"
	[ "$(field matchsum "$ref")" = "$(field first "$fast")" ] || agree="NO(ref)"
	[ "$(field fc_agree "$fast")" = yes ] || agree="NO(fc)"
	printf "%-9s %6s %9s %9s %9s %9s %9s %11s %9s %11s %7s %7s %s\n" "$s" \
		"$(field rules "$fast")" "$(field median "$acl")" "$(field median "$ref")" \
		"$(field median "$fast")" "$(field fc_median "$fast")" \
		"$(field fc_all_median "$fast")" "${fi:--}" "${ci:--}" "${ri:--}" \
		"$(field load "$ref" | tr -d s)" \
		"$(field build "$fast" | tr -d s)" "$agree"
done
