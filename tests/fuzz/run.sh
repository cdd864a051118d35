#!/bin/bash
# Run libFuzzer targets.
# Usage: tests/fuzz/run.sh BUILD_DIR smoke|long [TARGET]
#   smoke: a fixed number of runs with a fixed seed (deterministic; make check)
#   long:  FUZZ_SECONDS per target (make fuzz); new inputs are kept in BUILD_DIR/fuzz-corpus
# Prints one TAP line per target.
set -u
build=${1:?}; mode=${2:?}; only=${3:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
n=0 rc_all=0
for bin in "$top/$build"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	[ -n "$only" ] && [ "$name" != "$only" ] && continue
	n=$((n + 1))
	seeds="$top/tests/fuzz/corpus/${name#fuzz_}"
	work="$top/$build/fuzz-corpus/${name#fuzz_}"
	mkdir -p "$work"
	if [ "$mode" = smoke ]; then
		args=(-seed=1 -runs=${FUZZ_RUNS:-200000})
	else
		args=(-max_total_time=${FUZZ_SECONDS:-60})
	fi
	if "$bin" "${args[@]}" -max_len=4096 "$work" "$seeds" >"$top/$build/fuzz-$name.log" 2>&1; then
		echo "ok $n - $name ($mode): $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' \
			"$top/$build/fuzz-$name.log" | tail -1)"
	else
		echo "not ok $n - $name ($mode) found a crash:"
		grep -E 'ERROR|SUMMARY|Test unit written' "$top/$build/fuzz-$name.log" | head -5 | sed 's/^/# /'
		rc_all=1
	fi
done
exit $rc_all
