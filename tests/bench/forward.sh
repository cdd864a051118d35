#!/bin/bash
# make bench, second part: forwarding throughput, vifwalld against the Linux bridge with
# the same rules in the kernel's nftables, interleaved in one run: every repetition runs
# every rule count, A then B.
#
# Topology (as tests/integration/dataplane_basic.sh): namespaces g1, g2 (guests) and up
# (the uplink side), each joined by a veth pair to a middle namespace "mid" whose ends
# are named like vifs: web1, web2, uplink. A: vifwalld on those three ports with
# RULES.inet.nft. B: a bridge in mid joining the same three ports, RULES.bridge.nft in
# the kernel (the same rules in the same order in `table bridge`'s forward chain: no
# br_netfilter, no conntrack; see docs/performance.md). Both know g1's MAC statically.
#
# Traffic: fwd_gen in "up" sends 60-byte frames (64 on the wire) to g1's MAC, round
# robin over FWD_FLOWS flows drawn from the ClassBench set so that each is accepted by
# the rules while the deciding rules spread across the set (fwd_flows.py); a sink in g1
# counts them. Offered load is paced. Loss = 1 - received / sent.
#
# CPUs: the generator and the sink run on FWD_GEN_CPU. Receive packet steering on mid's
# uplink port sends every frame's receive processing to FWD_CPU, where vifwalld is also
# pinned: in A and in B everything between the generator's transmit and the sink's ring
# (softirq receive, the bridge or vifwalld, transmit to g1, g1's receive) runs on
# FWD_CPU, "the forwarding core". CPU per packet = that core's busy time during a probe
# / frames received, where busy = wall time - the core's idle, iowait and steal time.
# Not the user/system/softirq columns of /proc/stat: this kernel samples those once a
# tick (TICK_CPU_ACCOUNTING), which misses short bursts of work between the ticks of an
# otherwise idle core and over-counts work that wakes in step with the tick; the same
# probe read 5% busy that way and 23% by idle time, which NOHZ measures exactly.
#
# Per configuration (rule count x A or B) and repetition: a search on the offered rate
# (geometric, FWD_PROBE_S seconds a probe, until the bracket is within FWD_PREC) for the
# highest rate losing < FWD_LOSS; reported: min/median/max over FWD_REPS of that rate,
# and of CPU ns per forwarded packet at it. A rate the generator could not offer in full
# is marked ">=" (generator-bound).
#
# Usage: tests/bench/forward.sh BUILD_DIR       (root)
#   env: FWD_RULES ("10 1000 10000"), FWD_SET (acl1_10k), FWD_FLOWS (4096), FWD_REPS (5),
#        FWD_PROBE_S (2), FWD_PREC (1.05), FWD_LOSS (0.001), FWD_START (100000),
#        FWD_MAX_RATE (3000000), FWD_MIN_RATE (1000), FWD_CPU (0), FWD_GEN_CPU (1),
#        FWD_SEED (1), FWD_NS_PREFIX (vwb$$), FWD_LOG (BUILD/bench/forward.log),
#        CLASSBENCH_DIR
set -u
build=${1:?usage: tests/bench/forward.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
cb=${CLASSBENCH_DIR:-$top/../shared/classbench}
rulecounts=${FWD_RULES:-"10 1000 10000"}
set_name=${FWD_SET:-acl1_10k}
nflows=${FWD_FLOWS:-4096}
reps=${FWD_REPS:-5}
probe_s=${FWD_PROBE_S:-2}
prec=${FWD_PREC:-1.05}
maxloss=${FWD_LOSS:-0.001}
start_rate=${FWD_START:-100000}
max_rate=${FWD_MAX_RATE:-3000000}
min_rate=${FWD_MIN_RATE:-1000}
fcpu=${FWD_CPU:-0}
gcpu=${FWD_GEN_CPU:-1}
seed=${FWD_SEED:-1}
P=${FWD_NS_PREFIX:-vwb$$}
gen=$build/bench/fwd_gen
daemon=$build/vifwalld
data=$build/bench/data
log=${FWD_LOG:-$build/bench/forward.log}
hz=$(getconf CLK_TCK)

MAC1=00:16:3e:00:00:01 MAC2=00:16:3e:00:00:02 MACU=00:16:3e:00:00:fe

die() { echo "forward.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -x "$gen" ] && [ -x "$daemon" ] || die "build first: make BUILD=$build all $gen"
[ -f "$cb/$set_name" ] || die "$cb/$set_name missing (set CLASSBENCH_DIR)"
for c in "$fcpu" "$gcpu"; do
	[ -d "/sys/devices/system/cpu/cpu$c" ] || die "no CPU $c (FWD_CPU, FWD_GEN_CPU)"
done
mkdir -p "$data" "$(dirname "$log")"
: >"$log"

# --- cleanup: our processes by PID, our namespaces by prefix, also on Ctrl-C ---------
pids=()
cleanup() {
	local p ns
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for ns in mid g1 g2 up; do
		ip netns list | grep -q "^$P-$ns\b" || continue
		ip netns pids "$P-$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$P-$ns"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nsx() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }

# --- topology -------------------------------------------------------------------------
for ns in mid g1 g2 up; do
	ip netns add "$P-$ns" || die "cannot create namespace $P-$ns"
	ip -n "$P-$ns" link set lo up
	nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
mkveth() { # GUESTNS MAC MIDNAME
	ip link add eth0 netns "$P-$1" type veth peer name "$3" netns "$P-mid" || exit 1
	ip -n "$P-$1" link set eth0 address "$2"
	ip -n "$P-$1" link set eth0 up
	ip -n "$P-mid" link set "$3" up
}
mkveth g1 $MAC1 web1
mkveth g2 $MAC2 web2
mkveth up $MACU uplink
nsx g1 ip addr add 10.0.0.11/24 dev eth0
nsx g2 ip addr add 10.0.0.12/24 dev eth0
nsx up ip addr add 10.0.0.1/24 dev eth0
# g1's own IP stack would route-look-up every frame of 4096 foreign flows and drop it,
# costing the forwarding core more than the forwarder does (perf). The sink's packet
# socket (ETH_P_ALL) sees a frame before the netdev ingress hook; dropping there keeps
# the measured work to what A and B actually differ in.
nsx g1 nft -f - <<'NFT' || die "cannot install the sink's ingress drop in g1"
table netdev sink {
	chain in {
		type filter hook ingress device "eth0" priority 0; policy drop;
	}
}
NFT
# Receive processing of the uplink port on the forwarding core (see the top).
printf '%x' $((1 << fcpu)) | nsx mid tee /sys/class/net/uplink/queues/rx-0/rps_cpus >/dev/null ||
	die "cannot set receive packet steering on the uplink port"

# --- systems under test: start_A/stop_A (vifwalld), start_B/stop_B (kernel bridge) ----
dpid=
start_A() { # PREFIX
	# Not through nsx: $! must be the daemon's PID (exec chain ip -> taskset -> vifwalld).
	# One worker: the comparison is one forwarding core against one (B's softirq on FWD_CPU).
	ip netns exec "$P-mid" taskset -c "$fcpu" "$daemon" --workers 1 --rules "$1.inet.nft" --uplink uplink \
		--port "web1,mac=$MAC1,ip=10.0.0.11" --port "web2,mac=$MAC2,ip=10.0.0.12" \
		>>"$log" 2>&1 &
	dpid=$!
	pids+=("$dpid")
	local i
	for i in $(seq 300); do
		grep -q 'forwarding between' <(tail -5 "$log") && return 0
		kill -0 "$dpid" 2>/dev/null || die "vifwalld did not start (see $log)"
		sleep 0.1
	done
	die "vifwalld did not start in 30 s (see $log)"
}
stop_A() {
	kill -TERM "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=
}
start_B() { # PREFIX
	nsx mid ip link add vwbr0 type bridge stp_state 0 || die "cannot create the bridge"
	for p in web1 web2 uplink; do nsx mid ip link set "$p" master vwbr0; done
	nsx mid bridge fdb replace $MAC1 dev web1 master static
	nsx mid bridge fdb replace $MAC2 dev web2 master static
	nsx mid bridge fdb replace $MACU dev uplink master static
	nsx mid nft -f "$1.bridge.nft" || die "the kernel refused $1.bridge.nft"
	nsx mid ip link set vwbr0 up
}
stop_B() {
	nsx mid ip link del vwbr0
	nsx mid nft flush ruleset
}

# --- one probe: RATE -> "pass|fail sent_rate ns_per_pkt loss" ------------------------
# "WALL_NS NOT_BUSY_TICKS" of the forwarding core: not busy = idle + iowait + steal.
# The whole core, not vifwalld's own time: softirq work done in vifwalld's context (its
# send delivers to g1) would count in both, twice. It also holds whatever else the
# machine runs there: run on a quiet machine (the log has each probe's numbers).
cpu_mark() {
	echo "$(date +%s%N) $(awk -v c="cpu$fcpu" '$1 == c { print $5 + $6 + $9 }' /proc/stat)"
}
probe() { # PREFIX SYSTEM RATE
	local sink_out gen_out c0 c1 sent srate recv drops spid txdrops
	sink_out=$(mktemp) gen_out=$(mktemp)
	ip netns exec "$P-g1" taskset -c "$gcpu" "$gen" sink eth0 $MACU "$(awk -v s="$probe_s" 'BEGIN{print s + 1}')" \
		>"$sink_out" &
	spid=$!
	pids+=("$spid")
	for _ in $(seq 100); do grep -q ready "$sink_out" && break; sleep 0.02; done
	c0=$(cpu_mark)
	nsx up taskset -c "$gcpu" "$gen" gen eth0 "$1.pcap" $MACU $MAC1 "$3" "$probe_s" >"$gen_out"
	# The CPU window closes at once: what is still in flight is a few ms of work, and an
	# idle-polling forwarder must not be charged for the sink's drain time.
	c1=$(cpu_mark)
	wait "$spid"
	sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$gen_out")
	srate=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' "$gen_out")
	recv=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' "$sink_out")
	drops=$(sed -n 's/.*ring_drops=\([0-9]*\).*/\1/p' "$sink_out")
	txdrops=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$gen_out")
	rm -f "$sink_out" "$gen_out"
	[ -n "$sent" ] && [ -n "$recv" ] || die "probe failed: generator or sink printed nothing"
	read -r w0 i0 <<<"$c0"
	read -r w1 i1 <<<"$c1"
	awk -v r="$3" -v s="$sent" -v sr="$srate" -v n="$recv" -v d="$drops" -v e="$txdrops" \
		-v wall=$((w1 - w0)) -v idle=$((i1 - i0)) \
		-v hz="$hz" -v ml="$maxloss" -v sys="$2" 'BEGIN {
		busy = wall - idle * 1e9 / hz
		if (busy < 0) busy = 0
		loss = s ? (s - n) / s : 1
		ok = (loss < ml) ? "pass" : "fail"
		gb = (sr < 0.97 * r) ? "gen" : "-"
		printf "%s %d %.0f %.5f %s\n", ok, sr, n ? busy / n : 0, loss, gb
		printf "probe %s offered=%d sent=%d rate=%d received=%d sink_drops=%d loss=%.5f " \
			"backlog_drops=%d core_busy=%.0f%% ns_per_pkt=%.0f %s %s\n", sys, r, s, sr, n, d,
			loss, e, wall ? 100 * busy / wall : 0, n ? busy / n : 0, ok, gb > "/dev/stderr" }' 2>>"$log"
}

# --- the search: prints "RATE NS_PER_PKT GENBOUND" ----------------------------------
search() { # PREFIX SYSTEM START
	local r=$3 lo=0 hi=0 lo_ns=0 gb=- out verdict grow
	grow=$( [ "$3" = "$start_rate" ] && echo 4 || echo 1.5 )
	while :; do
		out=$(probe "$1" "$2" "$r")
		read -r verdict srate ns _ g <<<"$out"
		[ -n "$verdict" ] || { echo ERR; return; }
		if [ "$verdict" = pass ]; then
			lo=$r lo_ns=$ns
			if [ "$g" = gen ]; then # the generator's ceiling: no higher rate to offer
				lo=$srate gb=">="
				break
			fi
			[ "$hi" != 0 ] && break
			r=$(awk -v r="$r" -v g="$grow" -v m="$max_rate" 'BEGIN{x = r * g; printf "%d", (x > m ? m : x)}')
			[ "$r" = "$lo" ] && break
		else
			hi=$r
			[ "$lo" != 0 ] && break
			r=$(awk -v r="$r" -v g="$grow" 'BEGIN{printf "%d", r / g}')
			[ "$r" -lt "$min_rate" ] && break
		fi
	done
	while [ "$lo" != 0 ] && [ "$hi" != 0 ] && [ "$gb" = - ] &&
		awk -v l="$lo" -v h="$hi" -v p="$prec" 'BEGIN{exit !(h / l > p)}'; do
		r=$(awk -v l="$lo" -v h="$hi" 'BEGIN{printf "%d", sqrt(l * h)}')
		read -r verdict _ ns _ g <<<"$(probe "$1" "$2" "$r")"
		[ -n "$verdict" ] || { echo ERR; return; }
		if [ "$verdict" = pass ]; then lo=$r lo_ns=$ns; else hi=$r; fi
	done
	echo "$lo $lo_ns $gb"
}

# --- rules and flows ------------------------------------------------------------------
declare -A rate_of ns_of gb_of prev
for n in $rulecounts; do
	pre="$data/fwd_${set_name}_${n}_${nflows}_$seed"
	if [ ! -f "$pre.pcap" ]; then
		/usr/bin/python3 "$top/tests/bench/fwd_flows.py" "$cb/$set_name" "$n" "$nflows" "$seed" \
			"$pre" >"$pre.info" || die "fwd_flows.py failed for $n rules"
	fi
done

echo "# vifwall forwarding bench $(date -u +%FT%TZ) on $(nproc) CPUs, kernel $(uname -r): $set_name, $nflows flows," \
	"64-byte frames, ${probe_s} s probes, loss < $maxloss, $reps repetitions of every configuration, interleaved;" \
	"forwarding core CPU $fcpu, generator CPU $gcpu; log $log"
for n in $rulecounts; do
	pre="$data/fwd_${set_name}_${n}_${nflows}_$seed"
	echo "# $n rules: $(cat "$pre.info")"
	echo "== $n rules: $(cat "$pre.info")" >>"$log"
done
# Every repetition runs every configuration, so that what the targets compare (A
# against B, and A at 10000 rules against A at 10) is measured minutes apart at most,
# not one rule count after the other: this VM's speed drifts over minutes.
for rep in $(seq "$reps"); do
	for n in $rulecounts; do
		pre="$data/fwd_${set_name}_${n}_${nflows}_$seed"
		for sys in A B; do
			echo "== rules=$n rep=$rep system=$sys" >>"$log"
			"start_$sys" "$pre"
			read -r rt ns gbd <<<"$(search "$pre" "$sys" "${prev[$n$sys]:-$start_rate}")"
			"stop_$sys"
			[ "$rt" != ERR ] || die "a probe failed (see $log)"
			prev[$n$sys]=$rt
			[ "$rt" = 0 ] && prev[$n$sys]=$start_rate
			rate_of[$n$sys]+="$rt "
			ns_of[$n$sys]+="$ns "
			[ "$gbd" = ">=" ] && gb_of[$n$sys]=">="
			echo "result rules=$n rep=$rep system=$sys rate=$rt ns_per_pkt=$ns $gbd" >>"$log"
		done
	done
done

# --- the table ------------------------------------------------------------------------
mmm() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {
	if (!NR) { print "- - -"; exit }
	printf "%d %d %d\n", v[1], (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR] }'; }
med() { mmm | awk '{print $2}'; }
printf "%-6s %-12s %24s %24s\n" rules system "kpps min/med/max" "CPU ns/pkt min/med/max"
for n in $rulecounts; do
	for sys in A B; do
		name=vifwalld
		[ $sys = B ] && name=kernel-bridge
		read -r a b c <<<"$(mmm <<<"${rate_of[$n$sys]}")"
		read -r x y z <<<"$(mmm <<<"${ns_of[$n$sys]}")"
		printf "%-6s %-12s %24s %24s\n" "$n" "$name" \
			"${gb_of[$n$sys]:-}$(awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN{printf "%.1f/%.1f/%.1f", a/1e3, b/1e3, c/1e3}')" \
			"$x/$y/$z"
	done
done
if [ -n "${rate_of[1000A]:-}" ] && [ -n "${rate_of[1000B]:-}" ]; then
	awk -v a="$(med <<<"${rate_of[1000A]}")" -v b="$(med <<<"${rate_of[1000B]}")" 'BEGIN {
		x = b ? a / b : 0
		printf "target 1000 rules: vifwalld / kernel = %.2fx (target >= 5x): %s\n", x,
			(x >= 5 ? "met" : "NOT met") }'
fi
if [ -n "${rate_of[10000A]:-}" ] && [ -n "${rate_of[10A]:-}" ]; then
	awk -v a="$(med <<<"${rate_of[10000A]}")" -v b="$(med <<<"${rate_of[10A]}")" 'BEGIN {
		x = b ? a / b : 0
		printf "target 10000 rules: vifwalld at 10000 / at 10 = %.0f%% (target >= 90%%): %s\n",
			100 * x, (x >= 0.9 ? "met" : "NOT met") }'
fi
