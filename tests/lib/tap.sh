# TAP helpers for shell tests: source it, call check/ok/not_ok, end with tap_done.
_tap_n=0
_tap_failed=0

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $*"; _tap_failed=1; }
diag() { echo "$*" | sed 's/^/# /'; }

# check DESCRIPTION CMD...: one test that passes when CMD exits 0.
check() {
	local desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# check_fails DESCRIPTION CMD...: one test that passes when CMD exits non-zero.
check_fails() {
	local desc=$1; shift
	if "$@"; then not_ok "$desc"; else ok "$desc"; fi
}

tap_done() { echo "1..$_tap_n"; exit $_tap_failed; }

# A test that needs root reports it as a failure rather than passing silently.
need_root() {
	if [ "$(id -u)" != 0 ]; then
		not_ok "$(basename "$0") needs root (network namespaces)"
		tap_done
	fi
}
