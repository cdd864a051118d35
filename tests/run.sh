#!/bin/bash
# Run every test against one build flavour and print "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR        (make check passes build/asan)
#
# Every test speaks TAP ("ok N ..." / "not ok N ..."): cmocka does with
# CMOCKA_MESSAGE_OUTPUT=TAP, the shell tests through tests/lib/tap.sh. A test program
# that exits non-zero without reporting a failure counts as one failure, so a crash
# is never lost. Logs of each test go to BUILD_DIR/test-logs/.
set -u
build=${1:?usage: tests/run.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs="$build/test-logs"
rm -rf "$logs"; mkdir -p "$logs"
case $build in /*) ;; *) build="$top/$build" ;; esac
export VIFWALL_BUILD="$build"
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0

# run NAME CMD...: run one test program, count its TAP lines.
run() {
	local name=$1; shift
	local log="$logs/$(echo "$name" | tr '/ ' '__').log"
	local t0=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	local p f
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	passed=$((passed + p)); failed=$((failed + f))
	printf '%-44s %4d passed %3d failed  %3ds\n' "$name" "$p" "$f" $((SECONDS - t0))
	if [ "$f" -ne 0 ]; then
		grep -E '^not ok|^# ' "$log" | head -40 | sed 's/^/    /'
		echo "    (full log: $log)"
	fi
}

style_test() {
	if make -s --no-print-directory format-check >/dev/null 2>&1; then
		echo "ok 1 - sources match .clang-format"
	else
		echo "not ok 1 - sources differ from .clang-format (run 'make format')"
		make -s --no-print-directory format-check 2>&1 | head -20
	fi
}

run style style_test

for t in $(find "$build/tests" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
	run "unit ${t#$build/tests/}" "$t"
done

for f in $(find "$build/fuzz" -type f -name 'fuzz_*' -perm -u+x 2>/dev/null | sort); do
	run "fuzz-smoke $(basename "$f")" tests/fuzz/run.sh "$build" smoke "$(basename "$f")"
done

for s in tests/integration/*.sh; do
	[ -e "$s" ] || continue
	run "integration $(basename "$s" .sh)" bash "$s"
done

# The forwarding workers again, with the daemon built with ThreadSanitizer: a data
# race between them fails the test (it greps the daemon's log).
if [ -n "${VIFWALL_TSAN_BUILD:-}" ]; then
	case $VIFWALL_TSAN_BUILD in /*) ;; *) VIFWALL_TSAN_BUILD="$top/$VIFWALL_TSAN_BUILD" ;; esac
	run "integration dataplane_workers (tsan)" \
		env VIFWALL_BUILD="$VIFWALL_TSAN_BUILD" bash tests/integration/dataplane_workers.sh
fi

# The end-to-end test on real Xen inside QEMU (tests/xen/run.sh), when the caller
# built the appliance image: make check does, in $VIFWALL_XEN_BUILD (not sanitized:
# the image carries the programs an operator runs).
if [ -n "${VIFWALL_XEN_BUILD:-}" ]; then
	run "xen end-to-end" env BUILD="$VIFWALL_XEN_BUILD" tests/xen/run.sh
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
