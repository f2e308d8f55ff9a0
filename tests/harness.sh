# SPDX-License-Identifier: MIT
# tests/harness.sh - what test.sh's end-to-end tests run on (sourced by
# test.sh; it only defines: nothing runs until test.sh calls it).
#
# Each test is a function test_NAME in the area file (tests/e2e-*.sh) of
# what it tests, and runs in a subshell of its own.  Everything it sets up
# (daemon, mount, loop device, tmpfs) is registered with `defer` and
# undone in reverse order when the test ends, passed, failed or timed
# out.  Here: the suite's start and end, the helpers that tests of more
# than one area use (a helper of one area lives in that area's file), and
# the passes.

# The passes, and which tests run in each: every area file adds its own.
ONCE_TESTS=()		# once, with no transport asked for
TRANSPORT_TESTS=()	# once per transport the kernel offers: "dev", and
			# "uring" when FUSE over io_uring exists; then with
			# -o passthrough, but for the NOT_PASSTHROUGH_TESTS
NOT_PASSTHROUGH_TESTS=()
URING_TESTS=()		# in the uring pass only
SANITIZER_TESTS=()	# on the sanitizer build (make sanitize), which also
			# injects faults, once per transport
PASSTHROUGH_TESTS=()	# with -o passthrough only

URING_PARAM=/sys/module/fuse/parameters/enable_uring
# The FUSE control filesystem: a directory per connection, named after the
# minor number of the mount's device.
FUSECTL=/sys/fs/fuse/connections

# --- the suite's start and end -------------------------------------------------

# start_suite: the suite's scratch directory, its counters, and the cleanup
# at its end.
start_suite() {
	WORK=$(mktemp -d /tmp/fuseuring-test.XXXXXX) || exit 1
	ORIG_URING=$(cat "$URING_PARAM" 2>/dev/null || true)
	PASSED=0 FAILED=0 SKIPPED=0
	FAILED_NAMES=()
	# Undo commands of the running test live in a file, so that the main
	# shell can finish the job when a test had to be killed.
	UNDO_FILE=$WORK/undo
	trap final_cleanup EXIT
	trap 'exit 130' INT TERM
}

defer() { printf '%s\n' "$*" >>"$UNDO_FILE"; }

run_undo() {
	[ -s "$UNDO_FILE" ] || return 0
	local cmd
	tac "$UNDO_FILE" | while IFS= read -r cmd; do
		eval "$cmd" >/dev/null 2>&1
	done
	rm -f "$UNDO_FILE"
}

restore_uring() {
	[ -n "$ORIG_URING" ] && [ -w "$URING_PARAM" ] && echo "$ORIG_URING" >"$URING_PARAM"
}

final_cleanup() {
	run_undo
	restore_uring
	rm -rf "$WORK"
}

# --- helpers for tests -------------------------------------------------------

fail() { echo "$*"; exit 1; }
skip() { echo "skipped: $*"; exit 77; }

# wait_until SECONDS COMMAND...: poll until COMMAND succeeds.
wait_until() {
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
dead() { ! alive "$1"; }

# stop_pid PID: TERM, then KILL if it lingers; reap it if it is our child.
stop_pid() {
	alive "$1" && kill -TERM "$1" 2>/dev/null
	wait_until 5 dead "$1" || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# A fresh directory for this test.
scratch() {
	T=$(mktemp -d "$WORK/$1.XXXX")
	mkdir -p "$T/mnt"
}

# make_backing FILE SIZE: a sparse file.
make_backing() { truncate -s "$2" "$1"; }

# start_fuseuring ARGS... BACKING MOUNTPOINT: run fuseuring -f in the
# background with the pass's transport options; wait until it serves.
# Sets DPID; its messages go to $T/log.
start_fuseuring() {
	local mnt=${*: -1}
	"$FUSEURING" -f "${MODE_OPTS[@]}" "$@" 2>>"$T/log" &
	DPID=$!
	defer "stop_pid $DPID"
	defer "umount -l '$mnt'"
	wait_until 20 served_or_dead || fail "fuseuring did not start: $(cat "$T/log")"
	alive "$DPID" || fail "fuseuring exited: $(cat "$T/log")"
}
# killed_after_serving ARGS...: fuseuring -f ARGS, killed with SIGKILL once
# it serves: its dead mount is left.  Its messages go to $T/log.
killed_after_serving() {
	local pid
	"$FUSEURING" -f "$@" 2>"$T/log" &
	pid=$!
	defer "stop_pid $pid"
	wait_until 20 grep -q serving "$T/log" || fail "did not start: $(cat "$T/log")"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
}
served_or_dead() { grep -q '^fuseuring: serving' "$T/log" 2>/dev/null || dead "$DPID"; }

# stop_fuseuring MOUNTPOINT: unmount and return the daemon's exit status.
stop_fuseuring() {
	umount "$1" || return 99
	wait_until 10 dead "$DPID" || return 98
	wait "$DPID"
}

# new_loop FILE [losetup options]: attach with direct I/O; sets LOOP.
new_loop() {
	local file=$1; shift
	LOOP=$(losetup -f --show --direct-io=on "$@" "$file") || fail "losetup $file"
	defer "losetup -d $LOOP"
}

# every_thread_traced PID: a tracer (strace -f -p PID) holds each of its
# threads
every_thread_traced() {
	! grep -q '^TracerPid:[[:space:]]*0$' /proc/"$1"/task/*/status
}

# stats PID: ask for counters (SIGUSR1) and print the newest stats line.
stats() {
	local before
	before=$(grep -c 'stats:' "$T/log")
	kill -USR1 "$1"
	wait_until 5 stats_newer "$before" || fail "no stats from fuseuring"
	grep 'stats:' "$T/log" | tail -1
}
stats_newer() { [ "$(grep -c 'stats:' "$T/log")" -gt "$1" ]; }

# count OPCODE STATS_LINE: that opcode's request count.
count() { echo "$2" | grep -o " $1=[0-9]*" | cut -d= -f2 | grep . || echo 0; }

vio() { "$WORK/volume_io" "$@"; }

# fusectl_ready: it is mounted (by us, until the test ends, if need be)
fusectl_ready() {
	grep -q " $FUSECTL fusectl " /proc/mounts && return 0
	mount -t fusectl none "$FUSECTL" || return 1
	defer "umount '$FUSECTL'"
}
# fuse_conn MNT: the connection's directory of the FUSE mount at MNT
fuse_conn() { awk -v m="$1" -v c="$FUSECTL" '$5 == m {split($3, d, ":"); print c "/" d[2]}' /proc/self/mountinfo; }

passthrough_pass() { [[ " ${MODE_OPTS[*]} " == *passthrough* ]]; }

# expect_failure EXIT_STATUS TEXT ARGS...: fuseuring fails with that status
# and an error naming TEXT, and mounts nothing.
expect_failure() {
	local want=$1 text=$2 out status mounts; shift 2
	mounts=$(grep -c " $T/mnt " /proc/mounts)
	out=$(timeout 20 "$FUSEURING" "$@" 2>&1 </dev/null)
	status=$?
	[ "$status" = "$want" ] || fail "fuseuring $*: exit $status, want $want: $out"
	echo "$out" | grep -q "^fuseuring: .*$text" || fail "fuseuring $*: no message about '$text': $out"
	[ "$(grep -c " $T/mnt " /proc/mounts)" = "$mounts" ] || fail "fuseuring $*: left a mount"
	return 0
}

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# as_user ARGS...: run as an ordinary user of its own (games): locked
# memory is counted per user, and other tests use nobody.
as_user() { setpriv --reuid=5 --regid=60 --clear-groups -- "$@"; }
user_ok() {
	command -v setpriv >/dev/null || skip "needs util-linux setpriv"
	command -v fusermount3 >/dev/null || skip "needs fuse3 (fusermount3)"
	[ "$(getent passwd games | cut -d: -f3)" = 5 ] || skip "needs the user games (uid 5)"
	local mode
	mode=$(stat -c %a /dev/fuse)
	defer "chmod $mode /dev/fuse"
	chmod 666 /dev/fuse	# as fuse3's udev rule has it
	chmod 755 "$WORK" "$T"
}

# --- running -------------------------------------------------------------------

# listed NAME WORD...: NAME is one of the WORDs.
listed() {
	local word
	for word in "${@:2}"; do [ "$word" = "$1" ] && return 0; done
	return 1
}

# every_test: each test's name, once, in the order the passes run them.
every_test() {
	printf '%s\n' "${ONCE_TESTS[@]}" "${TRANSPORT_TESTS[@]}" "${URING_TESTS[@]}" \
		"${SANITIZER_TESTS[@]}" "${PASSTHROUGH_TESTS[@]}" | awk '!seen[$0]++'
}

# passes_complete: every test function runs in a pass, and every name in a
# pass is a test function; else say which, and fail.
passes_complete() {
	local functions names
	functions=$(declare -F | sed -n 's/^declare -f test_//p' | sort)
	names=$( (every_test; printf '%s\n' "${NOT_PASSTHROUGH_TESTS[@]}") | sort -u)
	[ "$functions" = "$names" ] && return 0
	comm -23 <(echo "$functions") <(echo "$names") | sed 's/^/test.sh: test_/; s/$/ is in no pass/' >&2
	comm -13 <(echo "$functions") <(echo "$names") | sed 's/^/test.sh: a pass names /; s/$/, which is no test/' >&2
	return 1
}

run_test() {
	local name=$1 label=$2 out=$WORK/out status watchdog began=$SECONDS
	set -m	# the test gets its own process group, for the watchdog
	( trap run_undo EXIT; "test_$name" ) >"$out" 2>&1 &
	local tpid=$!
	set +m
	# (its sleep goes with it: a sleep left behind would keep whatever
	# the suite inherited open, a lock for one, until the timeout)
	( trap 'kill "$nap" 2>/dev/null; exit' TERM
	  sleep "$TEST_TIMEOUT" & nap=$!; wait "$nap"
	  echo "timed out after ${TEST_TIMEOUT}s" >>"$out"
	  kill -TERM -- "-$tpid"; sleep 5; kill -KILL -- "-$tpid" ) 2>/dev/null &
	watchdog=$!
	wait "$tpid"
	status=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	run_undo
	if ls "$WORK"/sanitizer.* >/dev/null 2>&1; then
		cat "$WORK"/sanitizer.* >>"$out"
		rm -f "$WORK"/sanitizer.*
		status=1
	fi
	[ "$status" = 77 ] && [ -n "${NO_SKIP:-}" ] && status=1 && echo "NO_SKIP is set: a skip is a failure" >>"$out"
	label="$label ($((SECONDS - began)) s)"
	case $status in
	0)	PASSED=$((PASSED + 1)); echo "ok      $label $(tail -1 "$out" | grep -v '^$' | sed 's/^/# /')" ;;
	77)	SKIPPED=$((SKIPPED + 1)); echo "skip    $label: $(tail -1 "$out")" ;;
	*)	FAILED=$((FAILED + 1)); FAILED_NAMES+=("$label"); echo "FAIL    $label"
		sed 's/^/        /' "$out" ;;
	esac
}

# wanted NAME: the test was named on the command line, or none was.
wanted() { [ ${#SELECTION[@]} -eq 0 ] || listed "$1" "${SELECTION[@]}"; }

# The tests that do not depend on the transport, once.
run_once_pass() {
	local t
	MODE_OPTS=()
	for t in "${ONCE_TESTS[@]}"; do
		wanted "$t" && run_test "$t" "$t"
	done
}

# The transport tests once per transport (sets TRANSPORTS, for the
# sanitizer pass too).
run_transport_passes() {
	local transport t
	TRANSPORTS=(dev)
	if [ -e "$URING_PARAM" ]; then
		TRANSPORTS+=(uring)
	else
		SKIPPED=$((SKIPPED + 1))
		echo "skip    [uring]: needs a kernel with FUSE over io_uring (Linux 6.14+)"
		[ -n "${NO_SKIP:-}" ] && FAILED=$((FAILED + 1)) && FAILED_NAMES+=("[uring] skipped")
	fi
	for transport in "${TRANSPORTS[@]}"; do
		MODE_OPTS=(-o "transport=$transport")
		[ "$transport" = uring ] && echo Y >"$URING_PARAM"
		for t in "${TRANSPORT_TESTS[@]}" $([ "$transport" = uring ] && echo "${URING_TESTS[@]}"); do
			wanted "$t" && run_test "$t" "$t [$transport]"
		done
		restore_uring
	done
}

# The integrity tests on the sanitizer build, on every transport.  Its
# reports go to files, so that a detached daemon's are not lost either.
run_sanitizer_passes() {
	local transport t
	if make -s -C "$ROOT" sanitize >"$WORK/asan-build" 2>&1; then
		SHIPPED=$FUSEURING
		FUSEURING=$ROOT/fuseuring-asan
		export ASAN_OPTIONS="log_path=$WORK/sanitizer:abort_on_error=1"
		export UBSAN_OPTIONS="log_path=$WORK/sanitizer:print_stacktrace=1"
		for transport in "${TRANSPORTS[@]}"; do
			MODE_OPTS=(-o "transport=$transport")
			[ "$transport" = uring ] && echo Y >"$URING_PARAM"
			for t in "${SANITIZER_TESTS[@]}"; do
				wanted "$t" && run_test "$t" "$t [asan $transport]"
			done
			restore_uring
		done
		unset ASAN_OPTIONS UBSAN_OPTIONS
		FUSEURING=$SHIPPED
	else
		# a compile error in the test build is a failure, not a skip
		FAILED=$((FAILED + 1)); FAILED_NAMES+=("[asan] build")
		echo "FAIL    [asan]: make sanitize failed:"
		sed 's/^/        /' "$WORK/asan-build" | tail -20
	fi
}

# The transport tests again with the kernel doing the I/O, and the
# passthrough tests.
run_passthrough_pass() {
	local t
	MODE_OPTS=(-o passthrough)
	for t in "${TRANSPORT_TESTS[@]}" "${PASSTHROUGH_TESTS[@]}"; do
		listed "$t" "${NOT_PASSTHROUGH_TESTS[@]}" && continue
		wanted "$t" && run_test "$t" "$t [passthrough]"
	done
}
