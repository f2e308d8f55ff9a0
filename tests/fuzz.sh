#!/bin/bash
# SPDX-License-Identifier: MIT
# fuzz.sh - run fuzz targets under libFuzzer, as many at once as there
# are CPUs, from their corpora (tests/fuzz.h); `make fuzz-run` runs every
# target so.
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

# fuzz_one TARGET: fuzz it; its line goes to $scratch/TARGET.result,
# a failure's story to $scratch/TARGET.failed (and the status is 1).
fuzz_one() {
	local target=$1 fuzzer=$ROOT/fuzz_$1 corpus=$ROOT/tests/corpus/$1
	local new=$scratch/$1 log=$scratch/$1.log added= found
	mkdir "$new"
	# New inputs go to the first directory given, the scratch one.
	if ! "$fuzzer" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$scratch/$target-" "$new" "$corpus" >"$log" 2>&1; then
		{
			tail -40 "$log"
			for found in "$scratch/$target"-*; do
				[ -f "$found" ] || continue
				cp "$found" "$corpus/regression-${found##*-}"
				echo "fuzz.sh: $target: the failing input is kept as" \
					"tests/corpus/$target/regression-${found##*-}: fix the bug, commit both"
			done
			echo "fuzz.sh: $target: the fuzzer found a failure"
		} >"$scratch/$target.failed"
		return 1
	fi
	if [ -n "$keep" ]; then
		if ! "$fuzzer" -merge=1 "$corpus" "$new" >"$log.merge" 2>&1; then
			{ tail -20 "$log.merge"; echo "fuzz.sh: $target: merge failed"; } \
				>"$scratch/$target.failed"
			return 1
		fi
		added=", $(grep -o '[0-9]* new files' "$log.merge" | cut -d' ' -f1) inputs kept"
	fi
	echo "fuzz $target: $(grep -o 'number_of_executed_units: [0-9]*' "$log" | cut -d' ' -f2)" \
		"inputs in ${seconds}s, $(grep -o 'cov: [0-9]*' "$log" | tail -1)$added" \
		>"$scratch/$target.result"
}

for target in "$@"; do
	[ -x "$ROOT/fuzz_$target" ] && [ -d "$ROOT/tests/corpus/$target" ] || {
		echo "fuzz.sh: $target: no $ROOT/fuzz_$target (make fuzz) or no" \
			"$ROOT/tests/corpus/$target" >&2
		exit 2
	}
done
# As many targets at once as there are CPUs: each still gets its seconds.
lanes=$(nproc 2>/dev/null || echo 1)
for target in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$lanes" ]; do
		wait -n
	done
	fuzz_one "$target" &
done
wait
status=0
for target in "$@"; do
	if [ -e "$scratch/$target.failed" ]; then
		cat "$scratch/$target.failed"
		status=1
	elif [ -e "$scratch/$target.result" ]; then
		cat "$scratch/$target.result"
	else
		echo "fuzz.sh: $target: ended without a result"
		status=1
	fi
done
exit $status
