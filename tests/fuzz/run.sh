#!/bin/bash
# Run libFuzzer targets; crashes land in the current directory as crash-* files.
# Usage: tests/fuzz/run.sh BUILD_DIR smoke|long [TARGET]
#   smoke: a fixed number of runs with a fixed seed (deterministic; make check)
#   long:  FUZZ_SECONDS per target (make fuzz); new inputs are kept in BUILD_DIR/fuzz-corpus
# Prints one TAP line per target.
set -u
build=${1:?}; mode=${2:?}; only=${3:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
case $build in /*) ;; *) build="$top/$build" ;; esac # relative to the repository
n=0 rc_all=0
for bin in "$build"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	[ -n "$only" ] && [ "$name" != "$only" ] && continue
	n=$((n + 1))
	seeds="$top/tests/fuzz/corpus/${name#fuzz_}"
	work="$build/fuzz-corpus/${name#fuzz_}"
	if [ "$mode" = smoke ]; then
		# Start from the committed seeds only, so every run does the same work.
		work="$build/fuzz-smoke/${name#fuzz_}"
		rm -rf "$work"
	fi
	mkdir -p "$work"
	if [ "$mode" = smoke ]; then
		args=(-seed=1 -runs=${FUZZ_RUNS:-200000})
	else
		args=(-max_total_time=${FUZZ_SECONDS:-60})
	fi
	if "$bin" "${args[@]}" -max_len=4096 "$work" "$seeds" >"$build/fuzz-$name.log" 2>&1; then
		echo "ok $n - $name ($mode): $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' \
			"$build/fuzz-$name.log" | tail -1)"
	else
		echo "not ok $n - $name ($mode) found a crash:"
		grep -E 'ERROR|SUMMARY|Test unit written' "$build/fuzz-$name.log" | head -5 | sed 's/^/# /'
		rc_all=1
	fi
done
if [ "$n" -eq 0 ]; then
	echo "not ok 1 - no fuzz target ${only:-fuzz_*} in $build/fuzz"
	exit 1
fi
exit $rc_all
