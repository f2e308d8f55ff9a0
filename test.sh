#!/bin/bash
# SPDX-License-Identifier: MIT
# test.sh - fuseuring's end-to-end tests.  They mount and attach loop
# devices: they need root.
#
#   sudo ./test.sh            every test, in every pass it belongs to
#   sudo ./test.sh NAME...    only the tests named (test_NAME), in every
#                             pass they belong to
#   ./test.sh --list          every test's name, one a line
#   ./test.sh --help          this text
#
# The passes: some tests run once; the transport tests once per transport
# the kernel offers ("dev", and "uring" where FUSE over io_uring exists:
# enable_uring is switched on for that pass and put back after), again on
# the sanitizer build (make sanitize, which also injects faults), and
# again with -o passthrough.
#
#   FUSEURING=./fuseuring-asan   runs the suite on another build (by
#                                default ./fuseuring, which make builds).
#   TEST_TIMEOUT=SECONDS         per test (default 120).
#   NO_SKIP=1                    a skipped test counts as failed
#                                (CI: everything is installed there).
#   FUZZ_SECONDS=SECONDS         test_fuzz's libFuzzer run (default 30).
#   SOAK_SECONDS=SECONDS         test_soak's tests/soak.sh (default 15; 6
#                                with passthrough).
#   RANDOM_IO_SEED=N             replays test_random_io's writes.
#
# The tests live in tests/e2e-*.sh, a file an area, each adding its tests
# to the passes' lists; tests/harness.sh runs them (cleanup, timeouts,
# skips, the passes) and holds the helpers they share.
#
# The last line is "N passed, N failed[, N skipped]"; the exit status is 1
# if anything failed, 2 if the command line names something that is no
# test, or the user is not root.

set -u
cd "$(dirname "$0")" || exit 1
ROOT=$PWD
FUSEURING=${FUSEURING:-$ROOT/fuseuring}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}

source tests/harness.sh
for area in binary data transports lifecycle mounts system faults; do
	source "tests/e2e-$area.sh"
done
passes_complete || exit 2

# usage: the comment at the top of this file
usage() { sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; }

SELECTION=()
for arg in "$@"; do
	case $arg in
	--help|-h) usage; exit 0 ;;
	--list) every_test; exit 0 ;;
	-*) echo "test.sh: unknown option $arg (./test.sh --help)" >&2; exit 2 ;;
	*) SELECTION+=("$arg") ;;
	esac
done
UNKNOWN=0
for name in "${SELECTION[@]}"; do
	listed "$name" $(every_test) && continue
	echo "test.sh: no test is named $name (./test.sh --list names them)" >&2
	UNKNOWN=$((UNKNOWN + 1))
done
((UNKNOWN == 0)) || exit 2

if [ "$(id -u)" != 0 ]; then
	echo "test.sh: run as root (sudo ./test.sh): it mounts, and attaches loop devices" >&2
	exit 2
fi

start_suite
if [ "$FUSEURING" = "$ROOT/fuseuring" ]; then
	make -s -j"$(nproc)" -C "$ROOT" >/dev/null || { echo "test.sh: make failed"; exit 1; }
fi
cc -O2 -Wall -o "$WORK/volume_io" "$ROOT/tests/volume_io.c" || { echo "test.sh: cannot build tests/volume_io"; exit 1; }

run_once_pass
run_transport_passes
run_sanitizer_passes
run_passthrough_pass

echo
echo "$PASSED passed, $FAILED failed$( ((SKIPPED)) && echo ", $SKIPPED skipped")"
((FAILED == 0))
