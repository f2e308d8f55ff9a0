#!/bin/bash
# test.sh - fuseuring's test suite.  Needs root:   sudo ./test.sh [TEST...]
#
# Each test is a function test_NAME that runs in a subshell of its own.
# Everything it sets up (daemon, mount, loop device, tmpfs) is registered
# with `defer` and undone in reverse order when the test ends, passed,
# failed or timed out.  Tests that touch the FUSE conversation run once per
# transport the kernel offers: "dev", and "uring" when FUSE over io_uring
# exists (enable_uring is switched on for that pass and put back after).
#
#   FUSEURING=./fuseuring-asan ./test.sh   runs the suite on another build.
#   TEST_TIMEOUT=SECONDS                   per test (default 120).
#   NO_SKIP=1                              a skipped test counts as failed
#                                          (CI: everything is installed there).
#
# The last line is "N passed, N failed[, N skipped]"; the exit status is 1
# if anything failed.

set -u
cd "$(dirname "$0")" || exit 1
ROOT=$PWD
FUSEURING=${FUSEURING:-$ROOT/fuseuring}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
URING_PARAM=/sys/module/fuse/parameters/enable_uring

if [ "$(id -u)" != 0 ]; then
	echo "test.sh: run as root (sudo ./test.sh): it mounts, and attaches loop devices" >&2
	exit 2
fi

WORK=$(mktemp -d /tmp/fuseuring-test.XXXXXX) || exit 1
ORIG_URING=$(cat "$URING_PARAM" 2>/dev/null || true)
PASSED=0 FAILED=0 SKIPPED=0
FAILED_NAMES=()

# --- cleanup -----------------------------------------------------------------

# Undo commands of the running test live in a file, so that the main shell
# can finish the job when a test had to be killed.
UNDO_FILE=$WORK/undo

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
trap final_cleanup EXIT
trap 'exit 130' INT TERM

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

passthrough_pass() { [[ " ${MODE_OPTS[*]} " == *passthrough* ]]; }

# --- tests: the binary and the command line ------------------------------------

# make check: the request core and the data path against a fake kernel,
# without root or FUSE (tests/check_core.c, tests/check_ring.c).
test_check() {
	scratch check
	make -s -C "$ROOT" check >"$T/check" 2>&1 || fail "make check: $(grep -v '^  ' "$T/check" | tail -20)"
	grep "passed, " "$T/check" | tr '\n' ' '
}

test_static_binary() {
	local bin=$ROOT/fuseuring size und
	[ -x "$bin" ] || fail "no $bin: run make"
	readelf -lW "$bin" | grep -q INTERP && fail "has a program interpreter"
	readelf -dW "$bin" | grep -q "no dynamic section" || fail "has a dynamic section"
	und=$(nm -u "$ROOT/fuseuring.debug" 2>&1)
	[ -z "$und" ] || fail "undefined symbols: $und"
	strings "$bin" | grep -qiE 'glibc|GLIBC_|musl' && fail "contains libc strings"
	size=$(stat -c %s "$bin")
	((size < 65536)) || fail "stripped size $size >= 65536"
	echo "size $size bytes"
}

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

test_bad_input() {
	scratch bad
	local sum
	make_backing "$T/back" 8M
	echo data | dd of="$T/back" conv=notrunc status=none
	sum=$(sha256sum <"$T/back")
	mkdir "$T/dir"
	expect_failure 1 "nothere.img: No such file" "$T/nothere.img" "$T/mnt"
	[ -e "$T/nothere.img" ] && fail "created BACKING without size="
	expect_failure 1 "nomnt: No such file" "$T/back" "$T/nomnt"
	expect_failure 2 "bogus: unknown option" -o bogus "$T/back" "$T/mnt"
	expect_failure 2 "unknown option" -x "$T/back" "$T/mnt"
	expect_failure 2 "size=12X: not a size" -o size=12X "$T/back" "$T/mnt"
	expect_failure 2 "size=99999999999999999999: not a size" -o size=99999999999999999999 "$T/back" "$T/mnt"
	expect_failure 2 "size=16777216T: not a size" -o size=16777216T "$T/back" "$T/mnt"
	expect_failure 2 "size: needs a value" -o size= "$T/back" "$T/mnt"
	expect_failure 2 "name=a/b: a name cannot contain" -o name=a/b "$T/back" "$T/mnt"
	expect_failure 2 "name=..: not a usable" -o name=.. "$T/back" "$T/mnt"
	expect_failure 2 "mode=999: not a octal" -o mode=999 "$T/back" "$T/mnt"
	expect_failure 2 "depth=0: out of range" -o depth=0 "$T/back" "$T/mnt"
	expect_failure 2 "empty option" -o ro,,name=x "$T/back" "$T/mnt"
	expect_failure 2 "missing MOUNTPOINT" "$T/back"
	expect_failure 2 "missing BACKING" -f
	expect_failure 2 "unexpected argument" "$T/back" "$T/mnt" extra
	expect_failure 2 "BACKING: empty path" "" "$T/mnt"
	expect_failure 2 "do not go together" -o ro,size=1M "$T/back" "$T/mnt"
	# one queue's buffers are one registered buffer, and the kernel takes
	# at most 1 GiB in one
	expect_failure 1 "1 GiB" -f -o depth=1024,max_write=1M,queues=1 "$T/back" "$T/mnt"
	expect_failure 1 "1 GiB" -o depth=1024,max_write=1M,queues=1 "$T/back" "$T/mnt"
	expect_failure 1 "dir: Is a directory" "$T/dir" "$T/mnt"
	expect_failure 1 "is BACKING itself" "$T/back" "$T/back"
	mkdir -p "$T/mnt/sub" && make_backing "$T/mnt/sub/inner" 1M
	expect_failure 1 "lies inside MOUNTPOINT" "$T/mnt/sub/inner" "$T/mnt"
	rm -r "$T/mnt/sub"
	new_loop "$T/back"
	expect_failure 1 "passthrough needs BACKING to be a regular file" -o passthrough "$LOOP" "$T/mnt"
	[ "$(sha256sum <"$T/back")" = "$sum" ] || fail "BACKING changed"
	"$FUSEURING" --help | grep -q "^Usage: fuseuring" || fail "--help"
	"$FUSEURING" -V | grep -q "^fuseuring [0-9]" || fail "--version"
}

# --- tests: serving ------------------------------------------------------------

test_volume_attrs() {
	scratch attrs
	make_backing "$T/back" 48M
	start_fuseuring "$T/back" "$T/mnt"
	[ "$(ls -A "$T/mnt")" = volume ] || fail "entries: $(ls -A "$T/mnt")"
	[ "$(stat -c %s "$T/mnt/volume")" = $((48 << 20)) ] || fail "size $(stat -c %s "$T/mnt/volume")"
	[ "$(stat -c %F:%a "$T/mnt/volume")" = "regular file:600" ] || fail "type/mode $(stat -c %F:%a "$T/mnt/volume")"
	[ "$(stat -c %u:%g "$T/mnt/volume")" = "$(id -u):$(id -g)" ] || fail "owner $(stat -c %u:%g "$T/mnt/volume")"
	[ "$(stat -c %a "$T/mnt")" = 700 ] || fail "directory mode $(stat -c %a "$T/mnt")"
	grep -q " $T/mnt fuse.fuseuring rw,nosuid,nodev" /proc/mounts || fail "mount entry: $(grep "$T/mnt" /proc/mounts)"
	stat "$T/mnt/other" 2>/dev/null && fail "a second name exists"
	# times and mode, as touch and chmod set them
	touch -d @1000000000 "$T/mnt/volume" || fail "touch"
	[ "$(stat -c %Y "$T/mnt/volume")" = 1000000000 ] || fail "mtime $(stat -c %Y "$T/mnt/volume")"
	[ "$(stat -c %Y "$T/back")" = 1000000000 ] || fail "BACKING mtime not set"
	chmod 640 "$T/mnt/volume" || fail "chmod"
	[ "$(stat -c %a "$T/mnt/volume")" = 640 ] || fail "mode after chmod"
	truncate -s 1M "$T/mnt/volume" 2>/dev/null && fail "truncate was allowed"
	[ "$(stat -c %s "$T/back")" = $((48 << 20)) ] || fail "BACKING size changed"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	scratch named
	make_backing "$T/back" 1M
	start_fuseuring -o name=disk0,mode=0644 "$T/back" "$T/mnt"
	[ "$(ls -A "$T/mnt")" = disk0 ] || fail "name=: $(ls -A "$T/mnt")"
	[ "$(stat -c %a "$T/mnt/disk0")" = 644 ] || fail "mode="
}

test_random_io() {
	scratch random
	make_backing "$T/back" 64M
	start_fuseuring "$T/back" "$T/mnt"
	vio random "$T/mnt/volume" "$T/back" "$RANDOM" 300 || fail "random I/O"
	# past the end: nothing is written, BACKING does not grow (with
	# passthrough the kernel writes BACKING itself, like a plain file)
	if ! passthrough_pass; then
		[ "$(vio write-errno "$T/mnt/volume" $((64 << 20)) 4096)" = ENOSPC ] || fail "write past the end"
		[ "$(stat -c %s "$T/back")" = $((64 << 20)) ] || fail "BACKING grew"
	fi
	# a read that runs past the end returns what exists
	[ "$(dd if="$T/mnt/volume" bs=1M skip=63 count=4 status=none | wc -c)" = $((1 << 20)) ] || fail "short read at the end"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
}

test_ext4_on_loop() {
	command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
	scratch ext4
	mkdir "$T/fs"
	make_backing "$T/back" 128M
	start_fuseuring "$T/back" "$T/mnt"
	new_loop "$T/mnt/volume"
	mkfs.ext4 -q -F "$LOOP" || fail "mkfs.ext4"
	mount "$LOOP" "$T/fs" || fail "mount ext4"
	defer "umount '$T/fs'"
	for i in 1 2 3 4 5; do
		head -c $((i * 3 << 20)) /dev/urandom >"$T/fs/file$i"
	done
	mkdir "$T/fs/tree" && cp -a /etc/. "$T/fs/tree/" 2>/dev/null
	(cd "$T/fs" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/sums"
	umount "$T/fs" || fail "umount ext4"
	e2fsck -fn "$LOOP" >"$T/fsck" 2>&1 || fail "e2fsck: $(cat "$T/fsck")"
	mount "$LOOP" "$T/fs" || fail "remount ext4"
	(cd "$T/fs" && sha256sum --quiet -c "$T/sums") || fail "checksums after remount"
	umount "$T/fs" || fail "umount ext4"
	cmp "$LOOP" "$T/back" || fail "loop device and BACKING differ"
}

# fio's crc32c verify through a loop device: requests of 4 KiB to 1 MiB,
# 128 at a time, far more than the daemon's odd depths take at once.
test_fio_verify_odd_depth() {
	command -v fio >/dev/null || skip "needs fio"
	local opts seed
	for opts in depth=15,queues=2 depth=7,queues=3; do
		scratch fio
		seed=$RANDOM
		make_backing "$T/back" 256M
		start_fuseuring -o "$opts" "$T/back" "$T/mnt"
		new_loop "$T/mnt/volume"
		timeout 60 fio --name=verify --filename="$LOOP" --ioengine=io_uring --direct=1 \
			--rw=randwrite --bsrange=4k-1m --iodepth=128 --size=256M --randseed=$seed \
			--verify=crc32c --verify_fatal=1 --do_verify=1 --output="$T/fio" >/dev/null 2>&1 ||
			fail "fio with -o $opts, --randseed=$seed: $(grep -iE 'error|verify|bad|crc' "$T/fio" | head -5)"
		alive "$DPID" || fail "-o $opts: daemon died: $(cat "$T/log")"
		losetup -d "$LOOP" || fail "losetup -d"
		stop_fuseuring "$T/mnt" || fail "-o $opts: exit status $?"
	done
}

# FSYNC reaches BACKING's storage: with BACKING a loop device, an fsync on
# the volume must show up as a flush on that device.
test_fsync_reaches_backing() {
	scratch fsync
	local flushes before line
	make_backing "$T/disk" 32M
	new_loop "$T/disk"
	local dev=$LOOP
	flushes() { awk '{print $16}' "/sys/block/${dev#/dev/}/stat"; }
	start_fuseuring "$dev" "$T/mnt"
	[ "$(stat -c %s "$T/mnt/volume")" = $((32 << 20)) ] || fail "block device size"
	for how in fsync fdatasync; do
		before=$(flushes)
		vio sync "$T/mnt/volume" $how || fail "$how failed"
		[ "$(flushes)" -gt "$before" ] || fail "$how on the volume did not flush BACKING"
	done
	line=$(stats "$DPID")
	[ "$(count FSYNC "$line")" -ge 2 ] || fail "FSYNC not served: $line"
}

test_discard() {
	command -v blkdiscard >/dev/null || skip "needs util-linux blkdiscard"
	scratch discard
	local used_before used_after
	make_backing "$T/back" 64M
	start_fuseuring "$T/back" "$T/mnt"
	vio fill "$T/mnt/volume" 0 $((48 << 20)) 7 direct || fail "fill"
	used_before=$(du -k "$T/back" | cut -f1)
	((used_before >= 48 * 1024)) || fail "BACKING not allocated: ${used_before}K"
	new_loop "$T/mnt/volume"
	blkdiscard -o $((8 << 20)) -l $((16 << 20)) "$LOOP" || fail "blkdiscard"
	used_after=$(du -k "$T/back" | cut -f1)
	((used_after <= used_before - 15 * 1024)) || fail "discard freed nothing: ${used_before}K -> ${used_after}K"
	cmp -n $((16 << 20)) -i $((8 << 20)):0 "$LOOP" /dev/zero || fail "discarded range is not zero"
	# punch-hole and zero-range on the volume itself
	fallocate --punch-hole -o $((32 << 20)) -l $((4 << 20)) "$T/mnt/volume" || fail "punch hole"
	fallocate --zero-range -o $((40 << 20)) -l $((4 << 20)) "$T/mnt/volume" || fail "zero range"
	cmp -n $((4 << 20)) -i $((32 << 20)):0 "$T/back" /dev/zero || fail "hole is not zero"
	cmp -n $((4 << 20)) -i $((40 << 20)):0 "$T/back" /dev/zero || fail "zeroed range is not zero"
	# (a filesystem may keep a block or two of extent metadata)
	((used_after - $(du -k "$T/back" | cut -f1) >= 3 * 1024)) || fail "punch hole freed nothing: ${used_after}K -> $(du -k "$T/back" | cut -f1)K"
	vio check "$T/mnt/volume" 0 $((8 << 20)) 7 || fail "data before the discard"
	vio check "$T/mnt/volume" $((24 << 20)) $((8 << 20)) 7 || fail "data after the discard"
	vio check "$T/mnt/volume" $((36 << 20)) $((4 << 20)) 7 || fail "data between"
	[ "$(stat -c %s "$T/back")" = $((64 << 20)) ] || fail "BACKING size changed"
	# SEEK_DATA and SEEK_HOLE see BACKING's holes
	[ "$(vio seek "$T/mnt/volume" $((8 << 20)) data)" = $((24 << 20)) ] || fail "SEEK_DATA"
	[ "$(vio seek "$T/mnt/volume" 0 hole)" = $((8 << 20)) ] || fail "SEEK_HOLE"
}

# SEEK_DATA and SEEK_HOLE far into a large sparse volume: LSEEK answers
# are 64-bit offsets.
test_seek_large() {
	scratch seek
	local g=$((1 << 30)) m=$((1 << 20)) at got
	make_backing "$T/back" 10G
	start_fuseuring "$T/back" "$T/mnt"
	vio fill "$T/mnt/volume" $((5 * g)) $m 63 direct || fail "write at 5G"
	vio fill "$T/mnt/volume" $((9 * g)) $m 64 direct || fail "write at 9G"
	for at in "$((4 * g)) data $((5 * g))" "$((3 * g)) data $((5 * g))" \
		  "$((5 * g)) hole $((5 * g + m))" "0 hole 0" "$((6 * g)) data $((9 * g))" \
		  "$((9 * g + 4096)) hole $((9 * g + m))" "$((9 * g + m)) data ENXIO"; do
		set -- $at
		got=$(vio seek "$T/mnt/volume" "$1" "$2")
		[ "$got" = "$3" ] || fail "SEEK_${2^^} from $1: $got, want $3"
	done
	vio check "$T/mnt/volume" $((9 * g)) $m 64 || fail "data at 9G"
}

test_read_only() {
	scratch ro
	local sum
	make_backing "$T/back" 16M
	vio fill "$T/back" 0 $((16 << 20)) 3 || fail "fill"
	sum=$(sha256sum <"$T/back")
	start_fuseuring -o ro "$T/back" "$T/mnt"
	grep -q " $T/mnt fuse.fuseuring ro," /proc/mounts || fail "not mounted read-only"
	vio check "$T/mnt/volume" 0 $((16 << 20)) 3 || fail "read"
	[ "$(vio write-errno "$T/mnt/volume" 0 4096)" = EROFS ] || fail "write was not refused with EROFS"
	dd if=/dev/zero of="$T/mnt/volume" bs=4k count=1 conv=notrunc status=none 2>/dev/null && fail "dd wrote"
	fallocate --punch-hole -o 0 -l 4096 "$T/mnt/volume" 2>/dev/null && fail "punch hole on ro"
	touch "$T/mnt/volume" 2>/dev/null && fail "touch on ro"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	[ "$(sha256sum <"$T/back")" = "$sum" ] || fail "BACKING changed"
}

test_detach() {
	scratch detach
	local pid
	make_backing "$T/back" 8M
	"$FUSEURING" "${MODE_OPTS[@]}" -o pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/log" ||
		fail "fuseuring: $(cat "$T/log")"
	pid=$(cat "$T/pid") || fail "no pidfile"
	defer "stop_pid $pid"
	defer "umount -l '$T/mnt'"
	# usable on the very next line
	vio fill "$T/mnt/volume" 0 $((1 << 20)) 5 || fail "volume not usable right after fuseuring returned"
	alive "$pid" || fail "daemon is gone"
	[ "$(cat /proc/$pid/task/*/comm | grep -c fuseuring)" -ge 2 ] || fail "no worker threads"
	umount "$T/mnt" || fail "umount"
	wait_until 10 dead "$pid" || fail "daemon did not exit after umount"
	[ -e "$T/pid" ] && fail "pidfile left behind"
	vio check "$T/back" 0 $((1 << 20)) 5 || fail "data"
	# a failure after detaching still reaches the caller
	expect_failure 1 "pid: No such file" -o pidfile=/proc/no/such/dir/pid "$T/back" "$T/mnt"
}

# The pidfile is a regular file of the daemon's own: a FIFO at its path is
# refused at once (not waited on), and a file that took its place while
# the daemon ran is not removed at exit.
test_pidfile() {
	scratch pidfile
	local fg out status pid
	make_backing "$T/back" 8M
	mkfifo "$T/fifo"
	defer "umount -l '$T/mnt'"
	for fg in -f ""; do
		out=$(timeout -k 1 10 "$FUSEURING" $fg -o pidfile="$T/fifo" "$T/back" "$T/mnt" 2>&1 </dev/null)
		status=$?
		if [ "$status" != 1 ]; then
			# one stuck opening the FIFO goes on once a reader comes
			pid=$(timeout 1 cat "$T/fifo") && [ -n "$pid" ] && stop_pid "$pid"
			fail "a FIFO as pidfile (${fg:-detached}): exit $status, want 1: $out"
		fi
		echo "$out" | grep -q "^fuseuring: .*not a regular file" ||
			fail "a FIFO as pidfile (${fg:-detached}): no message about it: $out"
		grep -q " $T/mnt " /proc/mounts && fail "a FIFO as pidfile (${fg:-detached}): left a mount"
		[ -p "$T/fifo" ] || fail "the FIFO is gone"
	done
	start_fuseuring -o pidfile="$T/pid" "$T/back" "$T/mnt"
	wait_until 5 test -s "$T/pid" || fail "no pidfile"
	[ "$(cat "$T/pid")" = "$DPID" ] || fail "pidfile says $(cat "$T/pid"), want $DPID"
	# someone else's file takes its place (created first: a new inode)
	echo "someone else's" >"$T/other" && mv "$T/other" "$T/pid" || fail "mv"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	[ "$(cat "$T/pid" 2>/dev/null)" = "someone else's" ] || fail "the daemon removed a file that was not its pidfile"
}

test_umount_ends_daemon() {
	scratch umount
	make_backing "$T/back" 8M
	start_fuseuring "$T/back" "$T/mnt"
	umount "$T/mnt" || fail "umount"
	wait_until 10 dead "$DPID" || fail "daemon still running after umount"
	wait "$DPID" || fail "exit status $?"
}

# Aborting the connection (fusectl's abort) ends the daemon with status 1
# and a message, and takes the dead mount away rather than leaving one
# that answers ENOTCONN.
test_abort_ends_daemon() {
	scratch abort
	local conn=/sys/fs/fuse/connections dev status
	make_backing "$T/back" 8M
	if ! grep -q " $conn fusectl " /proc/mounts; then
		mount -t fusectl none "$conn" || skip "cannot mount fusectl on $conn"
		defer "umount '$conn'"
	fi
	start_fuseuring "$T/back" "$T/mnt"
	vio fill "$T/mnt/volume" 0 $((1 << 20)) 95 direct || fail "write"
	dev=$(awk -v m="$T/mnt" '$5 == m {split($3, d, ":"); print d[2]}' /proc/self/mountinfo)
	[ -e "$conn/$dev/abort" ] || fail "no $conn/$dev/abort for the mount"
	echo 1 >"$conn/$dev/abort" || fail "abort"
	wait_until 10 dead "$DPID" || fail "daemon still running after the abort"
	wait "$DPID"
	status=$?
	[ "$status" = 1 ] || fail "exit status $status after the abort, want 1: $(cat "$T/log")"
	grep -q "^fuseuring: .*aborted" "$T/log" || fail "no message about the abort: $(cat "$T/log")"
	grep -q " $T/mnt " /proc/mounts && fail "the dead mount is still there"
	vio check "$T/back" 0 $((1 << 20)) 95 || fail "data"
}

# SIGTERM while a loop device holds the volume: nothing is lost, the daemon
# serves until the loop device goes, then exits 0.
test_sigterm_with_loop() {
	scratch sigterm
	make_backing "$T/back" 32M
	start_fuseuring "$T/back" "$T/mnt"
	new_loop "$T/mnt/volume"
	vio fill "$LOOP" 0 $((8 << 20)) 11 direct || fail "write before"
	kill -TERM "$DPID"
	wait_until 10 eval '! mountpoint -q "$T/mnt"' || fail "not unmounted after SIGTERM"
	alive "$DPID" || fail "daemon exited while the loop device is attached"
	vio fill "$LOOP" $((8 << 20)) $((8 << 20)) 12 direct || fail "write after SIGTERM"
	losetup -d "$LOOP" || fail "losetup -d"
	wait_until 10 dead "$DPID" || fail "daemon did not exit after the loop device went"
	wait "$DPID" || fail "exit status $?"
	vio check "$T/back" 0 $((8 << 20)) 11 || fail "data before SIGTERM"
	vio check "$T/back" $((8 << 20)) $((8 << 20)) 12 || fail "data after SIGTERM"
	# a second signal does not wait
	scratch sigterm2
	make_backing "$T/back" 8M
	start_fuseuring "$T/back" "$T/mnt"
	new_loop "$T/mnt/volume"
	kill -TERM "$DPID"
	wait_until 10 eval '! mountpoint -q "$T/mnt"' || fail "not unmounted"
	kill -TERM "$DPID"
	wait_until 10 dead "$DPID" || fail "second signal did not end the daemon"
	wait "$DPID" && fail "forced exit reported success"
	return 0
}

# BACKING on a small tmpfs: writing past what it can hold gets ENOSPC, the
# daemon keeps serving, and what was written before is intact.
test_enospc() {
	scratch enospc
	mkdir "$T/small"
	mount -t tmpfs -o size=16M tmpfs "$T/small" || fail "mount tmpfs"
	defer "umount -l '$T/small'"
	make_backing "$T/small/back" 64M
	start_fuseuring "$T/small/back" "$T/mnt"
	vio fill "$T/mnt/volume" 0 $((8 << 20)) 21 || fail "first 8M"
	[ "$(vio write-errno "$T/mnt/volume" $((8 << 20)) $((32 << 20)))" = ENOSPC ] || fail "no ENOSPC"
	alive "$DPID" || fail "daemon died"
	vio check "$T/mnt/volume" 0 $((8 << 20)) 21 || fail "earlier data"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
}

# One WRITE that BACKING takes only part of (its tmpfs fills up in the
# middle) fails whole with ENOSPC, buffered or direct, on the volume or
# on a loop device over it: the writer never sees a short count.
test_enospc_partial() {
	scratch partial
	local m=$((1 << 20)) avail file len how got
	mkdir "$T/small"
	mount -t tmpfs -o size=16M tmpfs "$T/small" || fail "mount tmpfs"
	defer "umount -l '$T/small'"
	make_backing "$T/small/back" 64M
	# max_write=1M: a write of 1 MiB is one request, even buffered
	start_fuseuring -o max_write=1M "$T/small/back" "$T/mnt"
	vio fill "$T/mnt/volume" 0 $((8 * m)) 22 || fail "first 8M"
	avail=$(($(stat -f -c '%a * %S' "$T/small")))
	fallocate -l $((avail - 300 * 1024)) "$T/small/filler" || fail "filler"
	new_loop "$T/mnt/volume"
	for file in "$T/mnt/volume" "$LOOP"; do
		# the loop device splits 1 MiB of pages in two: 512K is one request
		len=$([ "$file" = "$LOOP" ] && echo $((m / 2)) || echo $m)
		for how in direct buffered; do
			# 300 KiB free again: the write at 32M fills the tmpfs part way
			fallocate --punch-hole -o $((32 * m)) -l $m "$T/mnt/volume" || fail "punch hole"
			avail=$(($(stat -f -c '%a * %S' "$T/small")))
			((avail > 0 && avail < len)) || fail "free space on the tmpfs: $avail"
			if [ "$file" = "$LOOP" ] && [ $how = buffered ]; then
				# the page cache takes it; fsync says what became of it
				got=$(vio write-errno "$file" $((32 * m)) $len buffered)
				[[ $got = ENOSPC || $got = EIO ]] || fail "buffered write to the loop device: $got"
			else
				got=$(vio write-once "$file" $((32 * m)) $len $how)
				[ "$got" = ENOSPC ] || fail "$how write of $len bytes to $file with $avail free: $got, want ENOSPC"
			fi
		done
	done
	alive "$DPID" || fail "daemon died"
	vio check "$T/mnt/volume" 0 $((8 * m)) 22 || fail "earlier data"
	losetup -d "$LOOP" || fail "losetup -d"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
}

test_concurrent_writers() {
	scratch concurrent
	local pids=() i
	make_backing "$T/back" 64M
	start_fuseuring "$T/back" "$T/mnt"
	for i in 0 1 2 3 4 5 6 7; do
		vio fill "$T/mnt/volume" $((i << 23)) $((8 << 20)) $((100 + i)) $([ $((i % 2)) = 0 ] && echo direct) &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || fail "a writer failed"; done
	for i in 0 1 2 3 4 5 6 7; do
		vio check "$T/mnt/volume" $((i << 23)) $((8 << 20)) $((100 + i)) || fail "region $i via the volume"
		vio check "$T/back" $((i << 23)) $((8 << 20)) $((100 + i)) || fail "region $i in BACKING"
	done
}

# --- tests: transports ---------------------------------------------------------

# transport=uring refuses to run without FUSE over io_uring; auto picks it
# exactly when the kernel offers it.
test_transport_choice() {
	[ -e "$URING_PARAM" ] || skip "needs FUSE over io_uring (Linux 6.14+)"
	scratch choice
	make_backing "$T/back" 8M
	defer restore_uring
	echo N >"$URING_PARAM"
	expect_failure 1 "transport=uring: FUSE over io_uring is switched off" -f -o transport=uring "$T/back" "$T/mnt"
	expect_failure 1 "transport=uring: FUSE over io_uring is switched off" -o transport=uring "$T/back" "$T/mnt"
	start_fuseuring "$T/back" "$T/mnt"
	grep -q "transport dev," "$T/log" || fail "auto without the kernel's offer: $(cat "$T/log")"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	echo Y >"$URING_PARAM"
	: >"$T/log"
	start_fuseuring "$T/back" "$T/mnt"
	grep -q "transport uring," "$T/log" || fail "auto with the kernel's offer: $(cat "$T/log")"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	"$FUSEURING" --help | grep -q "transport=.*auto|dev|uring" || fail "--help does not describe transport="
}

# FUSE over io_uring wants one queue per possible CPU.  Where
# /sys/devices/system/cpu/possible says nothing, transport=uring refuses
# and auto falls back to /dev/fuse.  fuseuring runs in a mount namespace
# of its own, with the list hidden; its mount lives and dies there too.
test_uring_unknown_cpus() {
	[ -e "$URING_PARAM" ] || skip "needs FUSE over io_uring (Linux 6.14+)"
	command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "needs util-linux unshare and nsenter"
	scratch cpus
	make_backing "$T/back" 8M
	defer restore_uring
	echo Y >"$URING_PARAM"
	cat >"$T/hidden" <<-EOF
	#!/bin/sh
	exec unshare -m --propagation private sh -c 'mount --bind /dev/null /sys/devices/system/cpu/possible && exec "\$0" "\$@"' "$FUSEURING" "\$@"
	EOF
	chmod +x "$T/hidden"
	local FUSEURING=$T/hidden
	expect_failure 1 "possible CPUs" -f -o transport=uring "$T/back" "$T/mnt"
	start_fuseuring "$T/back" "$T/mnt"
	grep -q "transport dev," "$T/log" || fail "auto without a CPU count: $(cat "$T/log")"
	nsenter -t "$DPID" -m "$WORK/volume_io" fill "$T/mnt/volume" 0 $((1 << 20)) 93 || fail "write"
	vio check "$T/back" 0 $((1 << 20)) 93 || fail "BACKING"
	nsenter -t "$DPID" -m umount "$T/mnt" || fail "umount"
	wait_until 10 dead "$DPID" || fail "daemon did not exit after umount"
	wait "$DPID" || fail "exit status $?"
}

# With transport=uring, requests really travel through the ring: during a
# burst of reads none arrives on /dev/fuse, the daemon commits every one
# with a URING_CMD, and it makes no read(2) calls at all.
test_uring_in_use() {
	local n=2000 before after perf_ok=
	scratch inuse
	make_backing "$T/back" 32M
	start_fuseuring "$T/back" "$T/mnt"
	grep -q "transport uring," "$T/log" || fail "not serving over io_uring: $(cat "$T/log")"
	vio burst "$T/mnt/volume" 10 || fail "warm-up"
	before=$(stats "$DPID")
	if perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
		perf_ok=1
		perf stat -x, -o "$T/perf" -p "$DPID" -e 'io_uring:io_uring_submit_req' \
			--filter 'opcode == 46' -e syscalls:sys_enter_read -e raw_syscalls:sys_enter \
			-- "$WORK/volume_io" burst "$T/mnt/volume" $n || fail "burst under perf"
	else
		vio burst "$T/mnt/volume" $n || fail "burst"
	fi
	after=$(stats "$DPID")
	local reads=$(($(count READ "$after") - $(count READ "$before")))
	local ring=$(($(count via_ring "$after") - $(count via_ring "$before")))
	local dev=$(($(count via_dev "$after") - $(count via_dev "$before")))
	((reads >= n)) || fail "$reads READ requests for $n reads"
	((ring >= n && dev == 0)) || fail "requests: $ring through the ring, $dev through /dev/fuse"
	if [ -n "$perf_ok" ]; then
		local cmds sysreads calls
		cmds=$(awk -F, '/io_uring_submit_req/ {print $1}' "$T/perf")
		sysreads=$(awk -F, '/sys_enter_read/ {print $1}' "$T/perf")
		calls=$(awk -F, '/raw_syscalls/ {print $1}' "$T/perf")
		((cmds >= n)) || fail "only $cmds URING_CMD submissions for $n requests"
		((sysreads == 0)) || fail "$sysreads read(2) calls during the burst"
		echo "$n reads: $cmds URING_CMDs, $calls system calls, 0 reads of /dev/fuse"
	else
		echo "$n reads through the ring (perf not usable: kernel-side counts not checked)"
	fi
}

# --- tests: passthrough --------------------------------------------------------

# With passthrough the kernel moves the data itself: the daemon sees no
# READ or WRITE, while fsync and discard still reach it.
test_passthrough_bypasses_daemon() {
	scratch bypass
	local line
	make_backing "$T/back" 32M
	start_fuseuring "$T/back" "$T/mnt"
	grep -q ", passthrough" "$T/log" || fail "not in passthrough mode: $(cat "$T/log")"
	vio fill "$T/mnt/volume" 0 $((16 << 20)) 31 direct || fail "fill"
	vio fill "$T/mnt/volume" $((16 << 20)) $((16 << 20)) 32 || fail "buffered fill"
	vio check "$T/mnt/volume" 0 $((16 << 20)) 31 || fail "check"
	vio burst "$T/mnt/volume" 500 || fail "burst"
	fallocate --punch-hole -o 0 -l 4096 "$T/mnt/volume" || fail "punch hole"
	line=$(stats "$DPID")
	[ "$(count READ "$line")" = 0 ] && [ "$(count WRITE "$line")" = 0 ] || fail "the daemon saw data requests: $line"
	[ "$(count FSYNC "$line")" -ge 1 ] && [ "$(count FALLOCATE "$line")" -ge 1 ] || fail "fsync or discard did not reach the daemon: $line"
	vio check "$T/back" $((16 << 20)) $((16 << 20)) 32 || fail "BACKING"
}

# --- tests: faults and crashes ------------------------------------------------

# An EIO from BACKING reaches the reader and the writer as EIO, the daemon
# keeps serving, and the data around the bad range is intact.  The error
# is injected by the test build (make sanitize) as an io_uring completion
# with -EIO, exactly how a real one arrives.
test_backing_eio() {
	scratch eio
	local m=$((1 << 20))
	make_backing "$T/back" 16M
	vio fill "$T/back" 0 $((16 * m)) 41 || fail "fill"
	FUSEURING_FAULT_EIO=4M:64K start_fuseuring "$T/back" "$T/mnt"
	[ "$(vio read-errno "$T/mnt/volume" $((4 * m)) 4096)" = EIO ] || fail "read in the bad range"
	[ "$(vio read-errno "$T/mnt/volume" $((4 * m - 8192)) 16384)" = EIO ] || fail "read across the bad range"
	[ "$(vio write-errno "$T/mnt/volume" $((4 * m + 8192)) 4096)" = EIO ] || fail "write in the bad range"
	dd if="$T/mnt/volume" of=/dev/null bs=64k 2>/dev/null && fail "a buffered read through the bad range succeeded"
	alive "$DPID" || fail "daemon died"
	vio check "$T/mnt/volume" 0 $((4 * m)) 41 || fail "data before the bad range"
	vio check "$T/mnt/volume" $((4 * m + 65536)) $((12 * m - 65536)) 41 || fail "data after the bad range"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
}

# A BACKING transfer that runs into a bad range comes back short, ending
# where the range starts (a failing disk moves the sectors before the bad
# one); the continuation fails with EIO.  The request fails whole: no
# reader or writer, direct or buffered, on the volume or on a loop device
# over it, sees a short count or success, the volume keeps its size, and a
# copy of all of it fails instead of ending early.  Twice: with the test
# build's FUSEURING_FAULT_EIO doing just that to BACKING, and with BACKING
# on a second fuseuring whose bad range makes the page cache come back
# short the same way.
test_backing_eio_partial() {
	scratch partial
	local m=$((1 << 20)) bad=$((4 << 20)) pass file got cases pid
	make_backing "$T/back" 16M
	vio fill "$T/back" 0 $((16 * m)) 43 || fail "fill"
	FUSEURING_FAULT_EIO=4M:64K start_fuseuring "$T/back" "$T/mnt"
	local daemons=$DPID
	for pass in injected nested; do
		if [ $pass = nested ]; then
			losetup -d "$LOOP" || fail "losetup -d"
			stop_fuseuring "$T/mnt" || fail "exit status $?"
			mkdir "$T/inner"
			: >"$T/log"
			FUSEURING_FAULT_EIO=4M:64K start_fuseuring "$T/back" "$T/inner"
			daemons=$DPID
			: >"$T/log"
			start_fuseuring "$T/inner/volume" "$T/mnt"
			daemons="$daemons $DPID"
		fi
		new_loop "$T/mnt/volume"
		for file in "$T/mnt/volume" "$LOOP"; do
			cases=("read-once $((bad - 8192)) 16384 direct" "read-once $((bad - 131072)) 262144 direct"
			       "write-once $((bad - 8192)) 16384 direct" "read-once $bad 4096 direct"
			       "read-errno $((bad - 8192)) 16384 buffered" "write-errno $((bad - 8192)) 16384 buffered")
			# one buffered write is one request on the volume; on the loop
			# device, the page cache takes it and only fsync can tell
			[ "$file" = "$LOOP" ] || cases+=("write-once $((bad - 8192)) 16384 buffered")
			for got in "${cases[@]}"; do
				set -- $got
				got=$(vio "$1" "$file" "$2" "$3" "$4")
				[ "$got" = EIO ] || fail "$pass: $4 $1 of $3 bytes at $2 on $file: $got, want EIO"
			done
			[ "$(stat -c %s "$T/mnt/volume")" = $((16 * m)) ] || fail "$pass: the volume's size is now $(stat -c %s "$T/mnt/volume")"
			dd if="$file" of=/dev/null bs=1M status=none 2>/dev/null && fail "$pass: dd of $file succeeded"
			dd if="$file" of=/dev/null bs=1M iflag=direct status=none 2>/dev/null && fail "$pass: dd iflag=direct of $file succeeded"
			cp "$file" "$T/copy" 2>/dev/null && fail "$pass: cp of $file succeeded ($(stat -c %s "$T/copy") bytes)"
			rm -f "$T/copy"
		done
		for pid in $daemons; do alive "$pid" || fail "$pass: a daemon died"; done
		# the failed writes touched only the 64K on either side of the bad range
		vio check "$T/mnt/volume" 0 $((bad - 65536)) 43 || fail "$pass: data before the bad range"
		vio check "$T/mnt/volume" $((bad + 131072)) $((12 * m - 131072)) 43 || fail "$pass: data after the bad range"
	done
	vio check "$T/back" 0 $((bad - 65536)) 43 || fail "BACKING before the bad range"
	vio check "$T/back" $((bad + 131072)) $((12 * m - 131072)) 43 || fail "BACKING after the bad range"
	losetup -d "$LOOP" || fail "losetup -d"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
}

# Kernels before 6.7 have no READ_MULTISHOT: each /dev/fuse buffer then
# waits with a read of its own.  The test build takes that path on demand.
test_without_multishot() {
	scratch oldkernel
	make_backing "$T/back" 64M
	FUSEURING_NO_MULTISHOT=1 start_fuseuring "$T/back" "$T/mnt"
	grep -q "test build: reading /dev/fuse without READ_MULTISHOT" "$T/log" ||
		fail "FUSEURING_NO_MULTISHOT did not take effect: $(cat "$T/log")"
	vio random "$T/mnt/volume" "$T/back" 11 200 || fail "random I/O"
	local pids=() i
	for i in 0 1 2 3; do
		vio fill "$T/mnt/volume" $((i << 24)) $((16 << 20)) $((90 + i)) direct &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || fail "a writer failed"; done
	for i in 0 1 2 3; do
		vio check "$T/back" $((i << 24)) $((16 << 20)) $((90 + i)) || fail "region $i"
	done
	stop_fuseuring "$T/mnt" || fail "exit status $?"
}

# kill -9 in the middle of writes: the writer gets an error within seconds,
# what was fsync'd is in BACKING, the dead mount is reported clearly, and
# after umount fuseuring starts cleanly.
test_kill9_midwrite() {
	scratch kill9
	local writer m=$((1 << 20))
	make_backing "$T/back" 64M
	start_fuseuring "$T/back" "$T/mnt"
	vio fill "$T/mnt/volume" 0 $((16 * m)) 51 || fail "fill"
	( while vio fill "$T/mnt/volume" $((16 * m)) $((48 * m)) 52 direct; do :; done ) 2>"$T/writer" &
	writer=$!
	defer "kill -KILL $writer"
	wait_until 10 vio check "$T/back" $((16 * m)) 4096 52 2>/dev/null || fail "the writer did not start"
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	wait_until 10 dead "$writer" || fail "the writer hangs after kill -9"
	# ECANCELED: a request the kernel had handed to a FUSE-over-io_uring
	# entry when the ring died with the daemon.
	grep -qE "Transport endpoint is not connected|Input/output error|Software caused connection abort|Operation canceled" "$T/writer" ||
		fail "writer error: $(cat "$T/writer")"
	vio check "$T/back" 0 $((16 * m)) 51 || fail "fsync'd data lost"
	expect_failure 1 "a FUSE mount whose server died is still there" "$T/back" "$T/mnt"
	umount "$T/mnt" || fail "umount of the dead mount"
	: >"$T/log"
	start_fuseuring "$T/back" "$T/mnt"
	vio check "$T/mnt/volume" 0 $((16 * m)) 51 || fail "data after restart"
}

# SIGTERM with ext4 busy on a loop device over the volume: the loop device
# keeps working, and afterwards BACKING holds a clean filesystem with every
# file that was fsync'd.
test_sigterm_under_load() {
	command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
	scratch load
	local writer
	mkdir "$T/fs"
	make_backing "$T/back" 128M
	start_fuseuring "$T/back" "$T/mnt"
	new_loop "$T/mnt/volume"
	mkfs.ext4 -q -F "$LOOP" && mount "$LOOP" "$T/fs" || fail "ext4"
	defer "umount -l '$T/fs'"
	( i=0; while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		head -c $((64 << 10)) /dev/urandom >"$T/fs/f$i" && sync -d "$T/fs/f$i" &&
			sha256sum "$T/fs/f$i" | sed "s| $T/fs/| |" >>"$T/synced" || exit 1
	  done ) &
	writer=$!
	defer "kill $writer"
	wait_until 20 eval '[ "$(wc -l <"$T/synced" 2>/dev/null || echo 0)" -ge 20 ]' || fail "writer too slow"
	kill -TERM "$DPID"
	wait_until 10 eval '! mountpoint -q "$T/mnt"' || fail "not unmounted after SIGTERM"
	local before=$(wc -l <"$T/synced")
	wait_until 20 eval '[ "$(wc -l <"$T/synced")" -ge $((before + 20)) ]' || fail "writes stopped after SIGTERM"
	touch "$T/stop"
	wait "$writer" || fail "a write or fsync failed"
	umount "$T/fs" || fail "umount ext4"
	losetup -d "$LOOP" || fail "losetup -d"
	wait_until 10 dead "$DPID" || fail "daemon did not exit"
	wait "$DPID" || fail "exit status $?"
	e2fsck -fn "$T/back" >"$T/fsck" 2>&1 || fail "e2fsck: $(cat "$T/fsck")"
	new_loop "$T/back" -r
	mount -o ro "$LOOP" "$T/fs" || fail "mount BACKING"
	(cd "$T/fs" && sha256sum --quiet -c "$T/synced") || fail "fsync'd files differ"
	echo "$(wc -l <"$T/synced") fsync'd files intact"
}

# --- tests: access ----------------------------------------------------------------

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# Nobody but the owner gets in by default; allow_other lets others in as far
# as mode, uid and gid say.
test_access_control() {
	command -v setpriv >/dev/null || skip "needs util-linux setpriv"
	scratch access
	chmod 755 "$WORK" "$T"
	make_backing "$T/back" 4M
	echo secret | dd of="$T/back" conv=notrunc status=none
	start_fuseuring "$T/back" "$T/mnt"
	as_nobody cat "$T/mnt/volume" >/dev/null 2>&1 && fail "another user read the volume"
	as_nobody ls "$T/mnt" >/dev/null 2>&1 && fail "another user listed the mount"
	as_nobody dd if=/dev/zero of="$T/mnt/volume" bs=512 count=1 conv=notrunc status=none 2>/dev/null &&
		fail "another user wrote the volume"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	: >"$T/log"
	start_fuseuring -o allow_other,mode=0644 "$T/back" "$T/mnt"
	as_nobody ls "$T/mnt" >/dev/null || fail "allow_other: listing"
	[ "$(as_nobody head -c 6 "$T/mnt/volume")" = secret ] || fail "allow_other,mode=0644: reading"
	as_nobody dd if=/dev/zero of="$T/mnt/volume" bs=512 count=1 conv=notrunc status=none 2>/dev/null &&
		fail "allow_other,mode=0644: another user wrote"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	: >"$T/log"
	start_fuseuring -o allow_other,uid=65534,gid=65534 "$T/back" "$T/mnt"
	[ "$(stat -c %u:%g:%a "$T/mnt/volume")" = 65534:65534:600 ] || fail "uid=,gid=: $(stat -c %u:%g:%a "$T/mnt/volume")"
	as_nobody dd if=/dev/zero of="$T/mnt/volume" bs=512 count=1 conv=notrunc status=none ||
		fail "uid=65534: the owner cannot write"
	[ "$(head -c 6 "$T/back" | tr -d '\0')" = "" ] || fail "the owner's write did not reach BACKING"
}

# The daemon holds only what it needs, and nothing leaks into a child.
test_fd_hygiene() {
	scratch fds
	local fd flags target unexpected=
	make_backing "$T/back" 4M
	start_fuseuring -o queues=2 "$T/back" "$T/mnt"
	for fd in /proc/$DPID/fd/*; do
		fd=${fd##*/}
		((fd <= 2)) && continue
		target=$(readlink "/proc/$DPID/fd/$fd")
		flags=$(awk '/^flags/ {print $2}' "/proc/$DPID/fdinfo/$fd")
		((8#$flags & 02000000)) || fail "fd $fd ($target) is not close-on-exec"
		case $target in
		"$T/back"|/dev/fuse|"anon_inode:[io_uring]"|"anon_inode:[signalfd]") ;;
		*) unexpected="$unexpected $fd:$target" ;;
		esac
	done
	[ -z "$unexpected" ] || fail "unexpected descriptors:$unexpected"
	[ "$(ls "/proc/$DPID/fd" | wc -l)" -le $((3 + 1 + 1 + 2 + 3 + 1)) ] || fail "too many descriptors: $(ls -l /proc/$DPID/fd)"
}

# --- tests: fitting into the system ----------------------------------------------

# place_tool LINK TARGET: put a symlink where the system looks (/sbin,
# /usr/local/bin) for the duration of the test, keeping what was there.
place_tool() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		mv "$1" "$1.fuseuring-test" || fail "cannot move $1 aside"
		defer "mv '$1.fuseuring-test' '$1'"
	fi
	ln -s "$2" "$1" || fail "cannot create $1"
	defer "rm -f '$1'"
}

# mount -t fuseuring, an fstab line, and mount.fuse3 (-t fuse.fuseuring).
test_mount_helper() {
	scratch helper
	make_backing "$T/back" 8M
	place_tool /sbin/mount.fuseuring "$FUSEURING"
	defer "umount -l '$T/mnt'"
	mount -t fuseuring "$T/back" "$T/mnt" -o size=16M,nofail,_netdev,x-systemd.automount,noatime ||
		fail "mount -t fuseuring"
	[ "$(stat -c %s "$T/mnt/volume")" = $((16 << 20)) ] || fail "size= through mount"
	umount "$T/mnt" || fail "umount"
	echo "$T/back $T/mnt fuseuring ro,nofail,comment=test 0 0" >"$T/fstab"
	mount -T "$T/fstab" "$T/mnt" || fail "mount from fstab"
	grep -q " $T/mnt fuse.fuseuring ro," /proc/mounts || fail "fstab options: $(grep "$T/mnt" /proc/mounts)"
	umount "$T/mnt" || fail "umount"
	mount -f -t fuseuring "$T/back" "$T/mnt" || fail "mount -f"
	mountpoint -q "$T/mnt" && fail "mount -f mounted"
	if [ -x /sbin/mount.fuse3 ]; then
		place_tool /usr/local/bin/fuseuring "$FUSEURING"
		mount -t fuse.fuseuring "$T/back" "$T/mnt" -o noatime || fail "mount -t fuse.fuseuring"
		[ -e "$T/mnt/volume" ] || fail "no volume through mount.fuse3"
		umount "$T/mnt" || fail "umount"
		echo "mount -t fuseuring, fstab, mount -f and mount.fuse3"
	else
		echo "mount -t fuseuring, fstab, mount -f; mount.fuse3 not installed (fuse3)"
	fi
}

# A regular file as MOUNTPOINT: the volume is that very path.
test_file_mountpoint() {
	scratch filemnt
	make_backing "$T/back" 32M
	touch "$T/vol"
	start_fuseuring "$T/back" "$T/vol"
	[ "$(stat -c %F:%s "$T/vol")" = "regular file:$((32 << 20))" ] || fail "$(stat -c %F:%s "$T/vol")"
	vio random "$T/vol" "$T/back" 7 50 || fail "I/O"
	new_loop "$T/vol"
	vio fill "$LOOP" 0 $((1 << 20)) 61 direct && vio check "$T/back" 0 $((1 << 20)) 61 || fail "through a loop device"
}

# -o resize: truncate grows and shrinks BACKING, and a loop device sees it.
test_resize() {
	scratch resize
	make_backing "$T/back" 16M
	start_fuseuring -o resize "$T/back" "$T/mnt"
	new_loop "$T/mnt/volume"
	truncate -s 48M "$T/mnt/volume" || fail "grow"
	[ "$(stat -c %s "$T/back")" = $((48 << 20)) ] || fail "BACKING did not grow"
	losetup -c "$LOOP" && [ "$(blockdev --getsize64 "$LOOP")" = $((48 << 20)) ] || fail "loop device did not see the new size"
	vio fill "$LOOP" $((40 << 20)) $((8 << 20)) 71 direct || fail "write into the new space"
	truncate -s 8M "$T/mnt/volume" || fail "shrink"
	[ "$(stat -c %s "$T/back"):$(stat -c %s "$T/mnt/volume")" = $((8 << 20)):$((8 << 20)) ] || fail "shrink: $(stat -c %s "$T/back")"
	[ "$(vio write-errno "$T/mnt/volume" $((8 << 20)) 4096)" = ENOSPC ] || passthrough_pass || fail "write past the new end"
}

# A block device as BACKING, with its size from the device.
test_block_backing() {
	scratch block
	make_backing "$T/disk" 48M
	new_loop "$T/disk"
	local dev=$LOOP
	start_fuseuring -o direct "$dev" "$T/mnt"
	[ "$(stat -c %s "$T/mnt/volume")" = $((48 << 20)) ] || fail "size $(stat -c %s "$T/mnt/volume")"
	vio random "$T/mnt/volume" "$dev" 9 100 || fail "I/O"
	vio check "$T/disk" 0 4096 0 2>/dev/null; cmp "$dev" "$T/disk" || fail "device and its file differ"
}

# An ordinary user mounts through fusermount3 and unmounts with it.
test_unprivileged() {
	command -v fusermount3 >/dev/null || skip "needs fuse3 (fusermount3)"
	command -v setpriv >/dev/null || skip "needs util-linux setpriv"
	scratch unpriv
	local pid mode
	chmod 755 "$WORK" "$T"
	make_backing "$T/back" 16M
	chown -R 65534:65534 "$T"
	# without udev, /dev/fuse may be root's only; fuse3's udev rule makes it 0666
	mode=$(stat -c %a /dev/fuse)
	defer "chmod $mode /dev/fuse"
	chmod 666 /dev/fuse
	defer "umount -l '$T/mnt'"
	as_nobody "$FUSEURING" -o pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/log" ||
		fail "fuseuring as a user: $(cat "$T/log")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	grep -q " $T/mnt fuse.fuseuring .*user_id=65534" /proc/mounts || fail "not mounted as the user"
	[ "$(awk '/^Uid/ {print $2}' "/proc/$pid/status")" = 65534 ] || fail "daemon runs as $(awk '/^Uid/ {print $2}' "/proc/$pid/status")"
	# the /dev/fuse descriptor from fusermount3 too
	local fd
	for fd in /proc/$pid/fd/*; do
		fd=${fd##*/}
		((fd <= 2)) && continue
		((8#$(awk '/^flags/ {print $2}' "/proc/$pid/fdinfo/$fd") & 02000000)) ||
			fail "fd $fd ($(readlink "/proc/$pid/fd/$fd")) is not close-on-exec"
	done
	as_nobody "$WORK/volume_io" fill "$T/mnt/volume" 0 $((4 << 20)) 81 || fail "the user's write"
	vio check "$T/back" 0 $((4 << 20)) 81 || fail "BACKING"
	as_nobody fusermount3 -u "$T/mnt" || fail "fusermount3 -u"
	wait_until 10 dead "$pid" || fail "daemon did not exit"
	as_nobody "$FUSEURING" -o passthrough "$T/back" "$T/mnt" 2>"$T/log" && fail "passthrough as a user"
	grep -q "passthrough.*needs CAP_SYS_ADMIN" "$T/log" || fail "passthrough refusal: $(cat "$T/log")"
	! mountpoint -q "$T/mnt" || fail "left a mount"
}

# systemd's Type=notify: READY=1 once serving, STOPPING=1 when stopping.
test_systemd_notify() {
	scratch notify
	local listener
	make_backing "$T/back" 8M
	"$WORK/volume_io" notify-listen "$T/notify" 20 >"$T/notes" &
	listener=$!
	defer "kill $listener"
	wait_until 10 grep -q listening "$T/notes" || fail "listener"
	NOTIFY_SOCKET=$T/notify start_fuseuring "$T/back" "$T/mnt"
	wait_until 10 grep -q '^READY=1' "$T/notes" || fail "no READY=1: $(cat "$T/notes")"
	grep -q "^MAINPID=$DPID" "$T/notes" || fail "MAINPID: $(cat "$T/notes")"
	kill -TERM "$DPID"
	wait "$listener" || fail "no STOPPING=1: $(cat "$T/notes")"
	wait_until 10 dead "$DPID" || fail "daemon did not exit"
}

# Detached, messages reach the system log; -o debug logs every request.
test_logging() {
	scratch logs
	local pid line
	make_backing "$T/back" 8M
	"$FUSEURING" -o pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/log" || fail "fuseuring"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	defer "umount -l '$T/mnt'"
	kill -USR1 "$pid"
	if [ -S /dev/log ]; then
		command -v journalctl >/dev/null || skip "a syslog daemon has /dev/log; cannot read it back"
		wait_until 10 eval 'journalctl -q --no-pager _PID=$pid | grep -q "stats:"' || fail "stats not in the journal"
	else
		wait_until 10 eval 'dmesg | grep -q "fuseuring\[$pid\]: stats:"' || fail "stats not in the kernel log"
	fi
	umount "$T/mnt"
	wait_until 10 dead "$pid" || fail "daemon did not exit"
	: >"$T/log"
	start_fuseuring -o debug "$T/back" "$T/mnt"
	dd if="$T/mnt/volume" of=/dev/null bs=4k count=1 skip=3 iflag=direct status=none || fail "read"
	grep -q "request [0-9]* READ node 2 offset 12288 size 4096: 4096 bytes" "$T/log" ||
		fail "no debug line for the READ: $(tail -5 "$T/log")"
	grep -q "request [0-9]* LOOKUP node 1: 128 bytes\|request [0-9]* GETATTR node" "$T/log" || fail "no debug line for metadata"
}

# make install, the mount helper link, and a man page that renders.
test_install() {
	scratch install
	make -s -C "$ROOT" install PREFIX=/usr/local DESTDIR="$T/root" >/dev/null || fail "make install"
	[ -x "$T/root/usr/local/bin/fuseuring" ] || fail "binary"
	[ "$(readlink "$T/root/sbin/mount.fuseuring")" = /usr/local/bin/fuseuring ] || fail "mount.fuseuring link"
	[ -f "$T/root/usr/local/share/man/man1/fuseuring.1" ] || fail "man page"
	if command -v groff >/dev/null; then
		out=$(groff -man -ww -z "$ROOT/fuseuring.1" 2>&1)
		[ -z "$out" ] || fail "man page warnings: $out"
		MANWIDTH=80 man -l "$ROOT/fuseuring.1" 2>&1 | grep -q "transport=auto|dev|uring" || fail "man -l"
	else
		skip "needs groff (man-db) to render the man page"
	fi
	for o in $("$FUSEURING" --help | awk '/^      [a-z_]/ {sub(/=.*/, "", $1); print $1}'); do
		grep -q "^\.B.* $o\|^\.BR* $o\|^\.BI $o=\|^\.B $o\|^\.BR $o=" "$ROOT/fuseuring.1" || fail "option $o missing from the man page"
	done
}

# make ARCH=aarch64 builds a static aarch64 binary; it runs under qemu-user.
test_aarch64() {
	command -v aarch64-linux-gnu-gcc >/dev/null || skip "needs gcc-aarch64-linux-gnu"
	command -v qemu-aarch64-static >/dev/null || skip "needs qemu-user-static"
	local bin=$ROOT/fuseuring-aarch64 out
	make -s -C "$ROOT" ARCH=aarch64 >/dev/null || fail "make ARCH=aarch64"
	readelf -h "$bin" | grep -q "AArch64" || fail "not an aarch64 binary"
	readelf -lW "$bin" | grep -q INTERP && fail "not static"
	qemu-aarch64-static "$bin" --help | grep -q "^Usage: fuseuring" || fail "--help"
	qemu-aarch64-static "$bin" -o depth=x a b 2>/dev/null; [ $? = 2 ] || fail "bad option: exit status"
	out=$(qemu-aarch64-static "$bin" -o size=99999999999999999999 a b 2>&1); [ $? = 2 ] || fail "bad size: $out"
	echo "$(stat -c %s "$bin") bytes"
}

# --- tests: fuzzing and soaking ----------------------------------------------------

# The request parser and every opcode handler under libFuzzer for
# FUZZ_SECONDS (default 30), from the seed corpus in tests/corpus.
test_fuzz() {
	command -v clang >/dev/null || skip "needs clang and libclang-rt-14-dev"
	[ -e "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] ||
		[ "$(uname -m)" != x86_64 ] || skip "needs libFuzzer (libclang-rt-14-dev)"
	make -s -C "$ROOT" fuzz >"$WORK/fuzz-build" 2>&1 || fail "make fuzz: $(tail -5 "$WORK/fuzz-build")"
	scratch fuzz
	mkdir "$T/corpus" && cp "$ROOT"/tests/corpus/* "$T/corpus/"
	"$ROOT/fuzz_request" -max_total_time="${FUZZ_SECONDS:-30}" -print_final_stats=1 \
		-artifact_prefix="$T/" "$T/corpus" >"$T/fuzz.log" 2>&1 ||
		fail "the fuzzer found a failure: $(ls "$T"/crash-* "$T"/leak-* "$T"/timeout-* 2>/dev/null) $(tail -40 "$T/fuzz.log")"
	echo "$(grep -o 'number_of_executed_units: [0-9]*' "$T/fuzz.log" | cut -d' ' -f2) inputs," \
		"$(grep -o 'cov: [0-9]*' "$T/fuzz.log" | tail -1)"
}

test_soak() {
	command -v fio >/dev/null || skip "needs fio"
	FUSEURING="$FUSEURING" FUSEURING_OPTS="${MODE_OPTS[1]#-o }" "$ROOT/tests/soak.sh" "${SOAK_SECONDS:-20}" ||
		fail "soak failed"
}

# --- running -------------------------------------------------------------------

ONCE_TESTS=(check static_binary bad_input transport_choice uring_unknown_cpus access_control
	fd_hygiene pidfile mount_helper unprivileged systemd_notify logging install aarch64 fuzz)
TRANSPORT_TESTS=(volume_attrs random_io ext4_on_loop fio_verify_odd_depth
	fsync_reaches_backing discard seek_large read_only detach umount_ends_daemon
	abort_ends_daemon sigterm_with_loop enospc enospc_partial concurrent_writers
	kill9_midwrite sigterm_under_load file_mountpoint resize block_backing)
URING_TESTS=(uring_in_use soak)
# On the sanitizer build (make sanitize), which also injects faults.
SANITIZER_TESTS=(random_io ext4_on_loop discard enospc concurrent_writers
	sigterm_with_loop kill9_midwrite backing_eio backing_eio_partial without_multishot)
PASSTHROUGH_TESTS=(passthrough_bypasses_daemon)

run_test() {
	local name=$1 label=$2 out=$WORK/out status watchdog
	set -m	# the test gets its own process group, for the watchdog
	( trap run_undo EXIT; "test_$name" ) >"$out" 2>&1 &
	local tpid=$!
	set +m
	( sleep "$TEST_TIMEOUT"; echo "timed out after ${TEST_TIMEOUT}s" >>"$out";
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
	case $status in
	0)	PASSED=$((PASSED + 1)); echo "ok      $label $(tail -1 "$out" | grep -v '^$' | sed 's/^/# /')" ;;
	77)	SKIPPED=$((SKIPPED + 1)); echo "skip    $label: $(tail -1 "$out")" ;;
	*)	FAILED=$((FAILED + 1)); FAILED_NAMES+=("$label"); echo "FAIL    $label"
		sed 's/^/        /' "$out" ;;
	esac
}

wanted() {
	[ ${#SELECTION[@]} -eq 0 ] && return 0
	local t
	for t in "${SELECTION[@]}"; do [ "$t" = "$1" ] && return 0; done
	return 1
}

SELECTION=("$@")
if [ "$FUSEURING" = "$ROOT/fuseuring" ]; then
	make -s -C "$ROOT" >/dev/null || { echo "test.sh: make failed"; exit 1; }
fi
cc -O2 -Wall -o "$WORK/volume_io" "$ROOT/tests/volume_io.c" || { echo "test.sh: cannot build tests/volume_io"; exit 1; }

MODE_OPTS=()
for t in "${ONCE_TESTS[@]}"; do
	wanted "$t" && run_test "$t" "$t"
done

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

# The integrity tests on the sanitizer build, on every transport.  Its
# reports go to files, so that a detached daemon's are not lost either.
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

# The same tests with the kernel doing the I/O, but those that need a block
# device as BACKING (passthrough takes regular files only) and the one about
# how the daemon answers a BACKING that fills up in the middle of a WRITE
# (the kernel writes BACKING itself).
MODE_OPTS=(-o passthrough)
for t in "${TRANSPORT_TESTS[@]}" "${PASSTHROUGH_TESTS[@]}"; do
	case $t in fsync_reaches_backing|block_backing|enospc_partial) continue ;; esac
	wanted "$t" && run_test "$t" "$t [passthrough]"
done

echo
echo "$PASSED passed, $FAILED failed$( ((SKIPPED)) && echo ", $SKIPPED skipped")"
((FAILED == 0))
