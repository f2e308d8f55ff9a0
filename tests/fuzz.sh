#!/bin/bash
# SPDX-License-Identifier: MIT
# fuzz.sh - run fuzz targets under libFuzzer, one after the other, from
# their corpora (tests/fuzz.h); `make fuzz-run` runs every target so.
#
#   tests/fuzz.sh [--keep] SECONDS TARGET...
#
# Each TARGET (fuzz_TARGET, built by `make fuzz`) runs SECONDS from
# tests/corpus/TARGET/.  The first input that fails a check ends the run:
# it is kept as tests/corpus/TARGET/regression-HASH, where `make check`
# replays it (commit it with the fix), and the exit status is 1.  The new
# inputs the fuzzer finds go to a scratch directory and are dropped, so
# that a test run leaves the tree as it was; with --keep, those that add
# coverage (libFuzzer's -merge) join tests/corpus/TARGET/.
# Prints one line per target: inputs run and coverage.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
keep=
[ "${1:-}" = --keep ] && keep=1 && shift
seconds=${1:-}
[ $# -ge 2 ] && [[ "$seconds" =~ ^[0-9]+$ ]] || {
	echo "usage: $0 [--keep] SECONDS TARGET..." >&2
	exit 2
}
shift
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuseuring-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

for target in "$@"; do
	fuzzer=$ROOT/fuzz_$target corpus=$ROOT/tests/corpus/$target
	[ -x "$fuzzer" ] && [ -d "$corpus" ] || {
		echo "fuzz.sh: $target: no $fuzzer (make fuzz) or no $corpus" >&2
		exit 2
	}
	new=$scratch/$target log=$scratch/$target.log
	mkdir "$new"
	# New inputs go to the first directory given, the scratch one.
	if ! "$fuzzer" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$scratch/$target-" "$new" "$corpus" >"$log" 2>&1; then
		tail -40 "$log"
		for found in "$scratch/$target"-*; do
			[ -f "$found" ] || continue
			cp "$found" "$corpus/regression-${found##*-}"
			echo "fuzz.sh: $target: the failing input is kept as" \
				"tests/corpus/$target/regression-${found##*-}: fix the bug, commit both"
		done
		echo "fuzz.sh: $target: the fuzzer found a failure"
		exit 1
	fi
	added=
	if [ -n "$keep" ]; then
		"$fuzzer" -merge=1 "$corpus" "$new" >"$log.merge" 2>&1 ||
			{ tail -20 "$log.merge"; echo "fuzz.sh: $target: merge failed"; exit 1; }
		added=", $(grep -o '[0-9]* new files' "$log.merge" | cut -d' ' -f1) inputs kept"
	fi
	echo "fuzz $target: $(grep -o 'number_of_executed_units: [0-9]*' "$log" | cut -d' ' -f2)" \
		"inputs in ${seconds}s, $(grep -o 'cov: [0-9]*' "$log" | tail -1)$added"
done
