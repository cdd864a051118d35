# Network namespaces for integration tests. Source after tap.sh.
# Everything made here is removed on exit, also when the test fails or is interrupted:
# namespaces whose name starts with $NS_PREFIX, and processes registered with bg_track.
NS_PREFIX="vwt$$"
_bg_pids=()

ns_cleanup() {
	local pid ns
	for pid in "${_bg_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${_bg_pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$NS_PREFIX-"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns"
	done
}
trap ns_cleanup EXIT
trap 'exit 130' INT TERM

# ns NAME: the full name of test namespace NAME.
ns() { echo "$NS_PREFIX-$1"; }

# ns_add NAME...: create namespaces with loopback up.
ns_add() {
	local n
	for n in "$@"; do
		ip netns add "$(ns "$n")" || return 1
		ip -n "$(ns "$n")" link set lo up
	done
}

# nsx NAME CMD...: run CMD inside namespace NAME.
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

# veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both ends up.
veth() {
	ip link add "$2" netns "$(ns "$1")" type veth peer name "$4" netns "$(ns "$3")" || return 1
	ip -n "$(ns "$1")" link set "$2" up
	ip -n "$(ns "$3")" link set "$4" up
}

# bg_track PID: kill this process at exit.
bg_track() { _bg_pids+=("$1"); }
