#!/bin/bash
# make bench: classification cost per packet on the ClassBench sets, vifwall's engine
# side by side with DPDK's rte_acl on the same rules and the same trace, in one run.
# Usage: tests/bench/run.sh BUILD_DIR   (env: BENCH_SETS, BENCH_PACKETS, BENCH_RUNS)
set -eu
build=${1:?usage: tests/bench/run.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
cb=${CLASSBENCH_DIR:-$top/../shared/classbench}
sets=${BENCH_SETS:-"acl1_1k fw1_1k ipc1_1k acl1_10k fw1_10k ipc1_10k"}
npk=${BENCH_PACKETS:-100000}
runs=${BENCH_RUNS:-11}
data="$build/bench/data"
mkdir -p "$data"

echo "# vifwall bench $(date -u +%FT%TZ) on $(nproc) CPUs; $npk packets, median of $runs runs"
for s in $sets; do
	[ -f "$cb/$s" ] || { echo "bench: $cb/$s missing (set CLASSBENCH_DIR)" >&2; exit 1; }
	[ -f "$data/$s.nft" ] || /usr/bin/python3 "$top/tests/bench/classbench.py" nft "$cb/$s" >"$data/$s.nft"
	[ -f "$data/$s.pcap" ] || /usr/bin/python3 "$top/tests/bench/classbench.py" trace "$cb/$s" "$npk" 1 "$data/$s.pcap"
	echo "== $s"
	"$build/bench/bench_acl" "$cb/$s" "$data/$s.pcap" "$runs"
done
