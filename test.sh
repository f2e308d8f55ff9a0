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

# The FUSE control filesystem: a directory per connection, named after the
# minor number of the mount's device.
FUSECTL=/sys/fs/fuse/connections
# fusectl_ready: it is mounted (by us, until the test ends, if need be)
fusectl_ready() {
	grep -q " $FUSECTL fusectl " /proc/mounts && return 0
	mount -t fusectl none "$FUSECTL" || return 1
	defer "umount '$FUSECTL'"
}
# fuse_conn MNT: the connection's directory of the FUSE mount at MNT
fuse_conn() { awk -v m="$1" -v c="$FUSECTL" '$5 == m {split($3, d, ":"); print c "/" d[2]}' /proc/self/mountinfo; }
# cpus_listed possible|online: how many CPUs /sys lists ("0-3,8" is 5)
cpus_listed() {
	awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); c += n == 2 ? r[2] - r[1] + 1 : 1 } }
		END { print c }' "/sys/devices/system/cpu/$1"
}

passthrough_pass() { [[ " ${MODE_OPTS[*]} " == *passthrough* ]]; }

# --- tests: the binary and the command line ------------------------------------

# make check: the request core and the data path against a fake kernel,
# without root or FUSE (tests/check_core.c, tests/check_ring.c).
test_check() {
	scratch check
	make -s -C "$ROOT" check >"$T/check" 2>&1 || fail "make check: $(grep -v '^  ' "$T/check" | tail -20)"
	grep "passed, \|inputs replayed" "$T/check" | tr '\n' ' '
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
	expect_failure 2 "mode=999: not an octal mode" -o mode=999 "$T/back" "$T/mnt"
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

# -o size=: creates a missing BACKING (sparse, of that size), extends a
# smaller one (sparse, its data kept), and never shrinks a larger one.
test_size_option() {
	scratch size
	local m=$((1 << 20))
	start_fuseuring -o size=24M "$T/new.img" "$T/mnt"
	[ "$(stat -c %s "$T/new.img"):$(stat -c %s "$T/mnt/volume")" = $((24 * m)):$((24 * m)) ] ||
		fail "size=24M on a missing BACKING: BACKING $(stat -c %s "$T/new.img"), volume $(stat -c %s "$T/mnt/volume")"
	(($(du -k "$T/new.img" | cut -f1) < 1024)) || fail "the new BACKING is not sparse: $(du -k "$T/new.img")"
	vio fill "$T/mnt/volume" $((20 * m)) $((4 * m)) 44 direct || fail "write to the new BACKING"
	vio check "$T/new.img" $((20 * m)) $((4 * m)) 44 || fail "the new BACKING"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# a smaller BACKING grows
	make_backing "$T/small" 8M
	vio fill "$T/small" 0 $((8 * m)) 45 || fail "fill"
	: >"$T/log"
	start_fuseuring -o size=32M "$T/small" "$T/mnt"
	[ "$(stat -c %s "$T/small"):$(stat -c %s "$T/mnt/volume")" = $((32 * m)):$((32 * m)) ] ||
		fail "size=32M on 8M: BACKING $(stat -c %s "$T/small"), volume $(stat -c %s "$T/mnt/volume")"
	(($(du -k "$T/small" | cut -f1) < 9 * 1024)) || fail "BACKING was not extended sparse: $(du -k "$T/small")"
	vio check "$T/mnt/volume" 0 $((8 * m)) 45 || fail "the data of the smaller BACKING"
	cmp -n $((24 * m)) -i $((8 * m)):0 "$T/mnt/volume" /dev/zero || fail "the space it grew by is not zero"
	vio fill "$T/mnt/volume" $((28 * m)) $((4 * m)) 46 direct || fail "write to the space it grew by"
	vio check "$T/small" $((28 * m)) $((4 * m)) 46 || fail "BACKING's new space"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# a larger one is left as it is
	: >"$T/log"
	start_fuseuring -o size=4M "$T/small" "$T/mnt"
	[ "$(stat -c %s "$T/small"):$(stat -c %s "$T/mnt/volume")" = $((32 * m)):$((32 * m)) ] ||
		fail "size=4M on 32M: BACKING $(stat -c %s "$T/small"), volume $(stat -c %s "$T/mnt/volume")"
	vio check "$T/mnt/volume" 0 $((8 * m)) 45 || fail "data after size=4M"
	vio check "$T/mnt/volume" $((28 * m)) $((4 * m)) 46 || fail "data after size=4M"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	echo "created 24M, grew 8M to 32M, left 32M at size=4M"
}

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
	if passthrough_pass; then
		# the kernel grows BACKING with writes past the end, so truncate
		# resizes it too (the start line says so)
		grep -q "truncate resizes it" "$T/log" || fail "start line: $(cat "$T/log")"
		truncate -s 40M "$T/mnt/volume" || fail "truncate refused with passthrough"
		[ "$(stat -c %s "$T/back")" = $((40 << 20)) ] || fail "BACKING is $(stat -c %s "$T/back") after truncate"
	else
		truncate -s 1M "$T/mnt/volume" 2>/dev/null && fail "truncate was allowed"
		[ "$(stat -c %s "$T/back")" = $((48 << 20)) ] || fail "BACKING size changed"
	fi
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	scratch named
	make_backing "$T/back" 1M
	start_fuseuring -o name=disk0,mode=0644 "$T/back" "$T/mnt"
	[ "$(ls -A "$T/mnt")" = disk0 ] || fail "name=: $(ls -A "$T/mnt")"
	[ "$(stat -c %a "$T/mnt/disk0")" = 644 ] || fail "mode="
}

# Random writes, each read back at once, then the volume and BACKING
# compared with a model.  The seed is printed: RANDOM_IO_SEED=N replays it.
test_random_io() {
	scratch random
	local seed=${RANDOM_IO_SEED:-$RANDOM}
	make_backing "$T/back" 64M
	start_fuseuring "$T/back" "$T/mnt"
	vio random "$T/mnt/volume" "$T/back" "$seed" 300 ||
		fail "random I/O failed with seed $seed: RANDOM_IO_SEED=$seed ./test.sh random_io replays it"
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
			--verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 --output="$T/fio" >/dev/null 2>&1 ||
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
	# Each reaches BACKING as itself (a flush cannot tell them apart):
	# the daemon's own system calls say which.
	command -v strace >/dev/null || skip "telling fsync from fdatasync needs strace: both flushed BACKING"
	strace -f -e trace=fsync,fdatasync -o "$T/trace" -p "$DPID" 2>"$T/strace.err" &
	defer "kill $!"
	wait_until 10 grep -q attached "$T/strace.err" || fail "strace did not attach: $(cat "$T/strace.err")"
	synced() { grep -c "^[0-9]* *$1(" "$T/trace"; }
	for how in fsync fdatasync; do
		local other=fsync mine
		[ $how = fsync ] && other=fdatasync
		before=$(synced $how) mine=$(synced $other)
		vio sync "$T/mnt/volume" $how || fail "$how failed"
		wait_until 5 eval '[ "$(synced $how)" -gt "$before" ]' ||
			fail "$how on the volume: no $how of BACKING: $(cat "$T/trace")"
		[ "$(synced $other)" = "$mine" ] || fail "$how on the volume became $other of BACKING: $(cat "$T/trace")"
	done
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
	vio check "$T/mnt/volume" $((44 << 20)) $((4 << 20)) 7 || fail "data just after the zeroed range"
	vio check "$T/back" $((36 << 20)) $((4 << 20)) 7 || fail "BACKING just after the hole"
	vio check "$T/back" $((44 << 20)) $((4 << 20)) 7 || fail "BACKING just after the zeroed range"
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

# -o ro: a read-only mount, a daemon that refuses changes by itself, and
# BACKING opened read-only.
test_read_only() {
	scratch ro
	local sum fd flags backing_fds=0 before after op
	make_backing "$T/back" 16M
	vio fill "$T/back" 0 $((16 << 20)) 3 || fail "fill"
	sum=$(sha256sum <"$T/back")
	start_fuseuring -o ro "$T/back" "$T/mnt"
	grep -q " $T/mnt fuse.fuseuring ro," /proc/mounts || fail "not mounted read-only"
	# BACKING is open read-only
	for fd in /proc/$DPID/fd/*; do
		[ "$(readlink "$fd")" = "$T/back" ] || continue
		backing_fds=$((backing_fds + 1))
		flags=$(awk '/^flags/ {print $2}' "/proc/$DPID/fdinfo/${fd##*/}")
		((8#$flags & 3)) && fail "BACKING is open for writing: fd ${fd##*/}, flags $flags"
	done
	((backing_fds > 0)) || fail "no descriptor of BACKING: $(ls -l "/proc/$DPID/fd")"
	vio check "$T/mnt/volume" 0 $((16 << 20)) 3 || fail "read"
	[ "$(vio write-errno "$T/mnt/volume" 0 4096)" = EROFS ] || fail "write was not refused with EROFS"
	dd if=/dev/zero of="$T/mnt/volume" bs=4k count=1 conv=notrunc status=none 2>/dev/null && fail "dd wrote"
	fallocate --punch-hole -o 0 -l 4096 "$T/mnt/volume" 2>/dev/null && fail "punch hole on ro"
	touch "$T/mnt/volume" 2>/dev/null && fail "touch on ro"
	# The kernel refused all that itself.  The daemon refuses on its own
	# too: with the mount made writable behind its back, the requests
	# reach it (its stats count them) and it answers EROFS.  WRITE and
	# FALLOCATE need a writable open, which it refuses first; make check
	# refuses them in the request core (tests/check_core.c).
	mount -i -o remount,rw "$T/mnt" || fail "mount -o remount,rw"
	grep -q " $T/mnt fuse.fuseuring rw," /proc/mounts || fail "still read-only after remount,rw"
	before=$(stats "$DPID")
	[ "$(vio write-errno "$T/mnt/volume" 0 4096 direct)" = EROFS ] || fail "rw mount: direct write not refused with EROFS"
	[ "$(vio write-errno "$T/mnt/volume" 0 4096 buffered)" = EROFS ] || fail "rw mount: buffered write not refused with EROFS"
	for op in "touch -d @1000000000" "chmod 644"; do
		$op "$T/mnt/volume" 2>"$T/err" && fail "rw mount: $op succeeded"
		grep -q "Read-only file system" "$T/err" || fail "rw mount: $op: $(cat "$T/err")"
	done
	after=$(stats "$DPID")
	local opens=$(($(count OPEN "$after") - $(count OPEN "$before")))
	local setattrs=$(($(count SETATTR "$after") - $(count SETATTR "$before")))
	local errors=$(($(count errors "$after") - $(count errors "$before")))
	((opens >= 2 && setattrs >= 2 && errors >= opens + setattrs)) ||
		fail "rw mount: $opens OPEN, $setattrs SETATTR, $errors errors from the daemon: $after"
	[ "$(stat -c %a "$T/mnt/volume")" = 600 ] || fail "rw mount: mode is now $(stat -c %a "$T/mnt/volume")"
	[ "$(stat -c %Y "$T/mnt/volume")" != 1000000000 ] || fail "rw mount: mtime changed"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	[ "$(sha256sum <"$T/back")" = "$sum" ] || fail "BACKING changed"
	echo "refused by the mount, then by the daemon: $opens OPEN and $setattrs SETATTR, all EROFS"
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

# SIGINT and SIGHUP stop the daemon as SIGTERM does (test_sigterm_with_loop):
# the volume is unmounted at once, a loop device over it keeps working, and
# the daemon exits 0 once the loop device goes.
test_sigint_sighup() {
	local sig
	for sig in INT HUP; do
		scratch "sig$sig"
		make_backing "$T/back" 16M
		start_fuseuring "$T/back" "$T/mnt"
		new_loop "$T/mnt/volume"
		vio fill "$LOOP" 0 $((4 << 20)) 47 direct || fail "write before SIG$sig"
		kill -"$sig" "$DPID"
		wait_until 10 eval '! mountpoint -q "$T/mnt"' || fail "not unmounted after SIG$sig"
		alive "$DPID" || fail "SIG$sig: the daemon exited while the loop device is attached: $(cat "$T/log")"
		vio fill "$LOOP" $((4 << 20)) $((4 << 20)) 48 direct || fail "write after SIG$sig"
		losetup -d "$LOOP" || fail "losetup -d"
		wait_until 10 dead "$DPID" || fail "SIG$sig: the daemon did not exit after the loop device went"
		wait "$DPID" || fail "SIG$sig: exit status $?: $(cat "$T/log")"
		vio check "$T/back" 0 $((4 << 20)) 47 || fail "data before SIG$sig"
		vio check "$T/back" $((4 << 20)) $((4 << 20)) 48 || fail "data after SIG$sig"
	done
	echo "SIGINT and SIGHUP: unmounted, served the loop device, exit 0"
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
	local conn status
	make_backing "$T/back" 8M
	fusectl_ready || skip "cannot mount fusectl on $FUSECTL"
	start_fuseuring "$T/back" "$T/mnt"
	vio fill "$T/mnt/volume" 0 $((1 << 20)) 95 direct || fail "write"
	conn=$(fuse_conn "$T/mnt")
	[ -e "$conn/abort" ] || fail "no $FUSECTL/N/abort for the mount"
	echo 1 >"$conn/abort" || fail "abort"
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

# -o max_write= sizes READ and WRITE requests: one 1 MiB O_DIRECT write or
# read arrives as 16 requests of 64K with max_write=64K, as one with
# max_write=1M (the debug log says each request's size).  With passthrough
# the kernel moves the data and only the negotiated size can be seen.
test_max_write() {
	scratch maxwrite
	local spec opt bytes want sizes op
	make_backing "$T/back" 16M
	for spec in 64K:65536:16 1M:1048576:1; do
		IFS=: read -r opt bytes want <<<"$spec"
		: >"$T/log"
		start_fuseuring -o max_write=$opt,debug "$T/back" "$T/mnt"
		grep -q "^fuseuring: serving .*max_write $bytes" "$T/log" || fail "max_write=$opt: $(grep serving "$T/log")"
		vio fill "$T/mnt/volume" $((2 << 20)) $((1 << 20)) 49 direct || fail "max_write=$opt: write"
		vio reread "$T/mnt/volume" $((2 << 20)) $((1 << 20)) 1 || fail "max_write=$opt: read"
		vio check "$T/back" $((2 << 20)) $((1 << 20)) 49 || fail "max_write=$opt: BACKING"
		stop_fuseuring "$T/mnt" || fail "exit status $?"
		passthrough_pass && continue
		for op in WRITE READ; do
			sizes=$(sed -n "s/^fuseuring: request [0-9]* $op node 2 offset [0-9]* size \([0-9]*\):.*/\1/p" "$T/log" | sort | uniq -c | xargs)
			[ "$sizes" = "$want $bytes" ] || fail "max_write=$opt: 1 MiB $op arrived as: ${sizes:-nothing} (count size), want $want $bytes"
		done
	done
	passthrough_pass && echo "passthrough: max_write negotiated, the kernel moved the data" ||
		echo "1 MiB: 16 requests with max_write=64K, 1 with max_write=1M"
}

# -o queues= and depth=: a worker thread per queue besides the main thread,
# and never more requests in flight than depth allows (the stats' busy_max,
# the sum of each queue's most) -- which 16 readers at once reach.  With
# FUSE over io_uring depth counts per kernel queue (one per possible CPU),
# and queue 0 has 2 more entries for /dev/fuse.
test_queues_depth() {
	scratch queues
	local qd q d threads t line busy bound pids i kq fed conn bg
	kq=$(cpus_listed possible)	# FUSE over io_uring's kernel queues
	fed=$(cpus_listed online)	# only their kernel queues get requests
	((fed < kq)) || fed=$kq
	make_backing "$T/back" 64M
	# (dev serves with at most as many queues as there are CPUs)
	for qd in 1:4 "$(($(nproc) > 1 ? 2 : 1)):3"; do
		IFS=: read -r q d <<<"$qd"
		: >"$T/log"
		start_fuseuring -o queues=$q,depth=$d "$T/back" "$T/mnt"
		grep -q "^fuseuring: serving .* $q queues, depth $d," "$T/log" ||
			fail "queues=$q,depth=$d: $(grep serving "$T/log")"
		threads=0
		for t in /proc/$DPID/task/*; do
			case $(cat "$t/comm") in iou-*) ;; *) threads=$((threads + 1)) ;; esac
		done
		((threads == q + 1)) || fail "queues=$q: $threads threads, want $((q + 1)): $(cat /proc/$DPID/task/*/comm | xargs)"
		pids=()
		for i in $(seq 16); do
			vio burst "$T/mnt/volume" 300 &
			pids+=($!)
		done
		for i in "${pids[@]}"; do wait "$i" || fail "a reader failed"; done
		line=$(stats "$DPID")
		[[ $line = *" queues=$q depth=$d "* ]] || fail "stats: $line"
		busy=$(count busy_max "$line")
		if passthrough_pass; then
			bound=$((q * d))
		elif [[ $line = *transport=uring* ]]; then
			bound=$((kq * d + 2))
		else
			bound=$((q * d))
		fi
		((busy <= bound)) || fail "queues=$q,depth=$d: $busy requests in flight, more than $bound: $line"
		# The kernel lets as many background requests (a loop device's
		# direct I/O, readahead) wait for the daemon as its queues can
		# be given: the /dev/fuse reads, or the ring entries of the
		# online CPUs' kernel queues.
		bg=unchecked
		if fusectl_ready; then
			conn=$(fuse_conn "$T/mnt")
			bg=$(cat "$conn/max_background") || fail "no max_background in $FUSECTL for the mount"
			[[ $line = *transport=uring* ]] && bound=$((fed * d))
			[ "$bg" = "$bound" ] || fail "queues=$q,depth=$d: the kernel's max_background is $bg, want $bound"
			[ "$(cat "$conn/congestion_threshold")" = "$bound" ] ||
				fail "queues=$q,depth=$d: congestion_threshold $(cat "$conn/congestion_threshold"), want $bound"
		fi
		passthrough_pass || ((busy >= d)) || fail "queues=$q,depth=$d: at most $busy requests in flight under 16 readers"
		stop_fuseuring "$T/mnt" || fail "exit status $?"
		echo "queues=$q,depth=$d: $threads threads, at most $busy in flight, max_background $bg"
	done
	[ "$bg" != unchecked ] || skip "cannot mount fusectl on $FUSECTL: max_background not checked"
}

# --- tests: transports ---------------------------------------------------------

# transport=uring refuses to run without FUSE over io_uring.  auto takes
# the fastest path the situation allows (README, Performance): passthrough
# where the kernel lets us (root, a regular file, no -o direct or debug),
# else uring from 8 CPUs on, else dev; and it says why.  dev never runs more
# /dev/fuse readers than help (4, and no more than the CPUs).
test_transport_choice() {
	[ -e "$URING_PARAM" ] || skip "needs FUSE over io_uring (Linux 6.14+)"
	scratch choice
	local cpus line
	cpus=$(nproc)
	make_backing "$T/back" 8M
	defer restore_uring
	echo N >"$URING_PARAM"
	expect_failure 1 "transport=uring: FUSE over io_uring is switched off" -f -o transport=uring "$T/back" "$T/mnt"
	expect_failure 1 "transport=uring: FUSE over io_uring is switched off" -o transport=uring "$T/back" "$T/mnt"
	expect_failure 2 "passthrough and transport=dev do not go together" -o passthrough,transport=dev "$T/back" "$T/mnt"
	# root, a regular file, a volume that may grow: passthrough
	start_fuseuring -o resize "$T/back" "$T/mnt"
	grep -q "transport passthrough (auto: the kernel moves the data itself" "$T/log" ||
		fail "auto as root on a resizable file: $(cat "$T/log")"
	line=$(stats "$DPID")
	[[ $line = *"transport=passthrough (auto:"* ]] || fail "stats do not say what was chosen: $line"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# a fixed-size volume: not passthrough, which would let a write past
	# the end grow BACKING
	: >"$T/log"
	start_fuseuring "$T/back" "$T/mnt"
	grep -q "transport dev (auto: FUSE over io_uring is off; passthrough would grow BACKING past its end" "$T/log" ||
		fail "auto on a fixed-size volume: $(cat "$T/log")"
	[ "$(vio write-errno "$T/mnt/volume" $((8 << 20)) 4096)" = ENOSPC ] || fail "a write past the end was not refused"
	[ "$(stat -c %s "$T/back")" = $((8 << 20)) ] || fail "BACKING grew to $(stat -c %s "$T/back")"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# where passthrough is not allowed: dev, and the reasons
	: >"$T/log"
	start_fuseuring -o direct "$T/back" "$T/mnt"
	grep -q "transport dev (auto: FUSE over io_uring is off; -o direct)" "$T/log" ||
		fail "auto without passthrough or uring: $(cat "$T/log")"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	echo Y >"$URING_PARAM"
	: >"$T/log"
	start_fuseuring -o direct "$T/back" "$T/mnt"
	if ((cpus >= 8)); then
		grep -q "transport uring (auto: $cpus CPUs; -o direct)" "$T/log" || fail "auto on $cpus CPUs: $(cat "$T/log")"
	else
		grep -q "transport dev (auto: fewer than 8 CPUs; -o direct)" "$T/log" || fail "auto on $cpus CPUs: $(cat "$T/log")"
	fi
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# asked for: as asked, with passthrough also as transport=
	: >"$T/log"
	start_fuseuring -o transport=passthrough "$T/back" "$T/mnt"
	grep -q "transport passthrough (asked for; the volume grows with writes past its end, and truncate resizes it)" "$T/log" ||
		fail "transport=passthrough: $(cat "$T/log")"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# read-only: passthrough, which cannot grow what nobody writes
	: >"$T/log"
	start_fuseuring -o ro "$T/back" "$T/mnt"
	grep -q "transport passthrough (auto: the kernel moves the data itself, the fastest path; read-only, so BACKING cannot grow)" "$T/log" ||
		fail "auto on a read-only volume: $(cat "$T/log")"
	cmp -n $((1 << 20)) "$T/back" "$T/mnt/volume" || fail "reading a read-only passthrough volume"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# sixteen /dev/fuse readers would wake each other on every request
	: >"$T/log"
	start_fuseuring -o transport=dev,queues=16 "$T/back" "$T/mnt"
	local cap=$((cpus < 4 ? cpus : 4))
	grep -q "transport dev (asked for), $cap queues" "$T/log" || fail "dev with queues=16: $(cat "$T/log")"
	grep -q "$cap queues, not 16: more readers of /dev/fuse only wake each other" "$T/log" || fail "no word about the cap: $(cat "$T/log")"
	[ "$(ls /proc/$DPID/task | wc -l)" = $((cap + 1)) ] || fail "threads: $(ls /proc/$DPID/task | wc -l), want $((cap + 1))"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	"$FUSEURING" --help | grep -q "transport=.*auto|dev|uring|passthrough" || fail "--help does not describe transport="
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
	# -o direct: passthrough would be chosen before either transport
	start_fuseuring -o direct "$T/back" "$T/mnt"
	grep -q "transport dev (auto: possible CPUs unknown" "$T/log" || fail "auto without a CPU count: $(cat "$T/log")"
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
	local n=2000 before after
	scratch inuse
	make_backing "$T/back" 32M
	start_fuseuring "$T/back" "$T/mnt"
	grep -q "transport uring (" "$T/log" || fail "not serving over io_uring: $(cat "$T/log")"
	vio burst "$T/mnt/volume" 10 || fail "warm-up"
	before=$(stats "$DPID")
	# The proof is counted by the kernel, not by the daemon: every reply
	# on the ring is an IORING_OP_URING_CMD (46) submission.  (The dev
	# transport reads /dev/fuse through io_uring too, so its read(2) count
	# is 0 as well and proves nothing.)  Without those counts the test fails.
	command -v perf >/dev/null || skip "needs linux-perf: URING_CMD submissions are counted with perf"
	perf stat -x, -o "$T/perf" -p "$DPID" -e 'io_uring:io_uring_submit_req' \
		--filter 'opcode == 46' -e syscalls:sys_enter_read -e raw_syscalls:sys_enter \
		-- "$WORK/volume_io" burst "$T/mnt/volume" $n >"$T/perf.out" 2>&1 ||
		fail "perf cannot count io_uring submissions: $(cat "$T/perf.out" "$T/perf" 2>/dev/null | tail -5)"
	after=$(stats "$DPID")
	local reads=$(($(count READ "$after") - $(count READ "$before")))
	local ring=$(($(count via_uring "$after") - $(count via_uring "$before")))
	local dev=$(($(count via_dev "$after") - $(count via_dev "$before")))
	((reads >= n)) || fail "$reads READ requests for $n reads"
	((ring >= n && dev == 0)) || fail "requests: $ring through the ring, $dev through /dev/fuse"
	local cmds sysreads calls
	cmds=$(awk -F, '/io_uring_submit_req/ {print $1}' "$T/perf")
	sysreads=$(awk -F, '/sys_enter_read/ {print $1}' "$T/perf")
	calls=$(awk -F, '/raw_syscalls/ {print $1}' "$T/perf")
	[[ $cmds =~ ^[0-9]+$ && $sysreads =~ ^[0-9]+$ ]] || fail "perf counted nothing: $(cat "$T/perf")"
	((cmds >= n)) || fail "only $cmds URING_CMD submissions for $n requests"
	((sysreads == 0)) || fail "$sysreads read(2) calls during the burst"
	echo "$n reads: $cmds URING_CMDs, $calls system calls, 0 reads of /dev/fuse"
}

# --- tests: passthrough --------------------------------------------------------

# With passthrough the kernel moves the data itself: the daemon sees no
# READ or WRITE, while fsync and discard still reach it.
test_passthrough_bypasses_daemon() {
	scratch bypass
	local line
	make_backing "$T/back" 32M
	start_fuseuring "$T/back" "$T/mnt"
	grep -q "transport passthrough (" "$T/log" || fail "not in passthrough mode: $(cat "$T/log")"
	vio fill "$T/mnt/volume" 0 $((16 << 20)) 31 direct || fail "fill"
	vio fill "$T/mnt/volume" $((16 << 20)) $((16 << 20)) 32 || fail "buffered fill"
	vio check "$T/mnt/volume" 0 $((16 << 20)) 31 || fail "check"
	vio burst "$T/mnt/volume" 500 || fail "burst"
	fallocate --punch-hole -o 0 -l 4096 "$T/mnt/volume" || fail "punch hole"
	line=$(stats "$DPID")
	# the counters are printed, and they say 0
	[[ $line = *" READ=0 "* && $line = *" WRITE=0 "* ]] || fail "the daemon saw data requests, or did not say: $line"
	[[ $line = *"the daemon sees no READ or WRITE"* ]] || fail "stats do not say that the kernel moves the data: $line"
	[ "$(count FSYNC "$line")" -ge 1 ] && [ "$(count FALLOCATE "$line")" -ge 1 ] || fail "fsync or discard did not reach the daemon: $line"
	vio check "$T/back" $((16 << 20)) $((16 << 20)) 32 || fail "BACKING"
}

# --- tests: faults and crashes ------------------------------------------------

# An EIO from BACKING reaches the reader and the writer as EIO, the daemon
# keeps serving, and the data around the bad range is intact.  The error
# is injected by the test build (make sanitize) as an io_uring completion
# with -EIO, exactly how a real one arrives.  The lost write is the next
# fsync's EIO, once; a punch into the bad range fails with EIO too.
test_backing_eio() {
	scratch eio
	local m=$((1 << 20)) out
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
	# the lost write is the next fsync's error, once (tests/fault.c)
	out=$(vio sync "$T/mnt/volume" fsync 2>&1) && fail "fsync after a lost write succeeded"
	[[ $out = *"Input/output error"* ]] || fail "fsync after a lost write: $out, want EIO"
	vio sync "$T/mnt/volume" fdatasync || fail "a lost write was reported twice"
	out=$(fallocate --punch-hole -o $((4 * m + 4096)) -l 4096 "$T/mnt/volume" 2>&1) && fail "a punch into the bad range succeeded"
	[[ $out = *"Input/output error"* ]] || fail "a punch into the bad range: $out, want EIO"
	fallocate --punch-hole -o $((8 * m)) -l 4096 "$T/mnt/volume" || fail "a punch outside the bad range"
	alive "$DPID" || fail "daemon died"
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

# kill -9 in the middle of writes: the writers get an error within
# seconds, the dead mount is reported clearly, and after umount fuseuring
# starts cleanly.  What was fsync'd is in BACKING: four writers rewrite
# 4K blocks over and over, O_DIRECT, and log each block once the
# fdatasync after its write returned; after the kill every block holds its
# newest logged content, or the write that was in flight, whole.
test_kill9_midwrite() {
	scratch kill9
	local writer m=$((1 << 20)) seed=$RANDOM
	make_backing "$T/back" 64M
	start_fuseuring "$T/back" "$T/mnt"
	vio fill "$T/mnt/volume" 0 $((64 * m)) $seed || fail "fill"
	: >"$T/synced"
	vio logwrite "$T/mnt/volume" $((16 * m)) $((48 * m)) $seed "$T/synced" 4 2>"$T/writer" &
	writer=$!
	defer "kill -KILL $writer"
	wait_until 20 eval '[ "$(wc -l <"$T/synced")" -ge 400 ]' ||
		fail "the writers did not get going: $(wc -l <"$T/synced") blocks synced; $(cat "$T/writer")"
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	local synced=$(wc -l <"$T/synced")
	wait_until 10 dead "$writer" || fail "the writers hang after kill -9"
	wait "$writer" && fail "the writers did not notice the daemon's death"
	# ECANCELED: a request the kernel had handed to a FUSE-over-io_uring
	# entry when the ring died with the daemon.
	grep -qE "Transport endpoint is not connected|Input/output error|Software caused connection abort|Operation canceled" "$T/writer" ||
		fail "writer error: $(cat "$T/writer")"
	vio logcheck "$T/back" $((16 * m)) $((48 * m)) $seed "$T/synced" >"$T/result" ||
		fail "BACKING after kill -9 does not hold what was fsync'd (seed $seed)"
	vio check "$T/back" 0 $((16 * m)) $seed || fail "data written before the writers started"
	expect_failure 1 "a FUSE mount whose server died is still there" "$T/back" "$T/mnt"
	umount "$T/mnt" || fail "umount of the dead mount"
	: >"$T/log"
	start_fuseuring "$T/back" "$T/mnt"
	vio check "$T/mnt/volume" 0 $((16 * m)) $seed || fail "data after restart"
	vio logcheck "$T/mnt/volume" $((16 * m)) $((48 * m)) $seed "$T/synced" >/dev/null || fail "the volume after restart"
	echo "kill -9 after $synced block writes were fsync'd: $(cat "$T/result")"
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
	: >"$T/synced"
	( i=0; while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		head -c $((64 << 10)) /dev/urandom >"$T/fs/f$i" && sync -d "$T/fs/f$i" &&
			sha256sum "$T/fs/f$i" | sed "s| $T/fs/| |" >>"$T/synced" || exit 1
	  done ) &
	writer=$!
	defer "kill $writer"
	wait_until 20 eval '[ "$(wc -l <"$T/synced")" -ge 20 ]' || fail "writer too slow"
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
	# mount -f checks what a mount would: a bad BACKING fails, and says so
	mount -f -t fuseuring "$T/nothere" "$T/mnt" >"$T/fake" 2>&1 && fail "mount -f of a missing BACKING succeeded"
	grep -q "^fuseuring: $T/nothere: No such file" "$T/fake" || fail "mount -f of a missing BACKING: $(cat "$T/fake")"
	mount -f -t fuseuring "$T" "$T/mnt" >"$T/fake" 2>&1 && fail "mount -f of a directory as BACKING succeeded"
	grep -q "^fuseuring: $T: Is a directory" "$T/fake" || fail "mount -f of a directory as BACKING: $(cat "$T/fake")"
	mountpoint -q "$T/mnt" && fail "mount -f mounted"
	[ -e "$T/nothere" ] && fail "mount -f created BACKING"
	[ -x /sbin/mount.fuse3 ] || skip "mount.fuse3 (fuse3) not installed: only mount -t fuseuring, fstab and mount -f were checked"
	place_tool /usr/local/bin/fuseuring "$FUSEURING"
	mount -t fuse.fuseuring "$T/back" "$T/mnt" -o noatime || fail "mount -t fuse.fuseuring"
	[ -e "$T/mnt/volume" ] || fail "no volume through mount.fuse3"
	cmp -n $((1 << 20)) "$T/mnt/volume" "$T/back" || fail "the volume through mount.fuse3 is not BACKING"
	umount "$T/mnt" || fail "umount"
	echo "mount -t fuseuring, fstab, mount -f and mount.fuse3"
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
	vio check "$T/mnt/volume" $((40 << 20)) $((8 << 20)) 71 || fail "the new space read back through the volume"
	vio check "$T/back" $((40 << 20)) $((8 << 20)) 71 || fail "the new space read back from BACKING"
	vio check "$LOOP" $((40 << 20)) $((8 << 20)) 71 || fail "the new space read back through the loop device"
	cmp -n $((24 << 20)) -i $((16 << 20)):0 "$T/mnt/volume" /dev/zero || fail "the new space before the write is not zero"
	truncate -s 8M "$T/mnt/volume" || fail "shrink"
	[ "$(stat -c %s "$T/back"):$(stat -c %s "$T/mnt/volume")" = $((8 << 20)):$((8 << 20)) ] || fail "shrink: $(stat -c %s "$T/back")"
	[ "$(vio write-errno "$T/mnt/volume" $((8 << 20)) 4096)" = ENOSPC ] || passthrough_pass || fail "write past the new end"
}

# With passthrough the kernel writes BACKING itself, and a write past the
# end grows it: the volume's size follows BACKING, and so does everything
# whose answer depends on it (discard, SEEK_DATA/SEEK_HOLE, truncate), as
# BACKING itself shows.
test_passthrough_size_follows() {
	scratch follows
	local m=$((1 << 20))
	make_backing "$T/back" 16M
	start_fuseuring -o resize "$T/back" "$T/mnt"
	vio fill "$T/mnt/volume" $((16 * m)) $m 41 direct || fail "write past the end"
	vio check "$T/back" $((16 * m)) $m 41 || fail "BACKING does not hold the write past the end"
	[ "$(stat -c %s "$T/back"):$(stat -c %s "$T/mnt/volume")" = $((17 * m)):$((17 * m)) ] ||
		fail "after the write: BACKING $(stat -c %s "$T/back") bytes, volume $(stat -c %s "$T/mnt/volume")"
	[ "$(vio seek "$T/mnt/volume" $((16 * m)) data)" = $((16 * m)) ] ||
		fail "SEEK_DATA in the new space: $(vio seek "$T/mnt/volume" $((16 * m)) data)"
	[ "$(vio seek "$T/mnt/volume" $((16 * m + 4096)) hole)" = $((17 * m)) ] ||
		fail "SEEK_HOLE in the new space: $(vio seek "$T/mnt/volume" $((16 * m + 4096)) hole)"
	fallocate --punch-hole -o $((16 * m + 65536)) -l 65536 "$T/mnt/volume" || fail "punch in the new space"
	cmp -n 65536 -i $((16 * m + 65536)):0 "$T/back" /dev/zero || fail "the punch in the new space did not reach BACKING"
	cmp -n 65536 -i $((16 * m + 65536)):0 "$T/mnt/volume" /dev/zero || fail "the punched range still reads data"
	vio check "$T/back" $((16 * m)) 65536 41 || fail "the punch reached data before it"
	truncate -s 16M "$T/mnt/volume" || fail "truncate back to 16M"
	[ "$(stat -c %s "$T/back"):$(stat -c %s "$T/mnt/volume")" = $((16 * m)):$((16 * m)) ] ||
		fail "after truncate: BACKING $(stat -c %s "$T/back") bytes, volume $(stat -c %s "$T/mnt/volume")"
	grep -q 'BACKING changed size' "$T/log" && fail "passthrough growth logged as someone else's: $(cat "$T/log")"
	return 0
}

size_is() { [ "$(stat -c %s "$1")" = "$2" ]; }

# BACKING grown by someone else: the volume follows (once the kernel's
# cached attributes expire), writes reach the new space, and the log says
# so once (not with passthrough, where the kernel's own writes grow it).
test_backing_resized_elsewhere() {
	scratch elsewhere
	local m=$((1 << 20))
	make_backing "$T/back" 16M
	start_fuseuring "$T/back" "$T/mnt"
	truncate -s 20M "$T/back"
	wait_until 10 size_is "$T/mnt/volume" $((20 * m)) || fail "the volume did not follow BACKING to 20M"
	vio fill "$T/mnt/volume" $((18 * m)) $m 43 direct || fail "write into the grown space"
	vio check "$T/back" $((18 * m)) $m 43 || fail "BACKING does not hold the write into the grown space"
	truncate -s 24M "$T/back"
	wait_until 10 size_is "$T/mnt/volume" $((24 * m)) || fail "the volume did not follow BACKING to 24M"
	if passthrough_pass; then
		grep -q 'BACKING changed size' "$T/log" && fail "logged with passthrough: $(cat "$T/log")"
	else
		[ "$(grep -c 'BACKING changed size' "$T/log")" = 1 ] || fail "want one log line: $(cat "$T/log")"
	fi
	return 0
}

# A block device as BACKING, with its size from the device.  -o direct
# opens it a second time with O_DIRECT, and aligned requests take that
# descriptor: the same block read again and again through the volume is
# read from the device every time, while unaligned reads come from the
# page cache of the other descriptor.
test_block_backing() {
	scratch block
	local fd flags direct=0 plain=0 before aligned unaligned o_direct=040000
	[ "$(uname -m)" = aarch64 ] && o_direct=0200000
	make_backing "$T/disk" 48M
	new_loop "$T/disk"
	local dev=$LOOP
	reads() { awk '{print $1}' "/sys/block/${dev#/dev/}/stat"; }
	start_fuseuring -o direct "$dev" "$T/mnt"
	[ "$(stat -c %s "$T/mnt/volume")" = $((48 << 20)) ] || fail "size $(stat -c %s "$T/mnt/volume")"
	for fd in /proc/$DPID/fd/*; do
		[ "$(readlink "$fd")" = "$dev" ] || continue
		flags=$(awk '/^flags/ {print $2}' "/proc/$DPID/fdinfo/${fd##*/}")
		if ((8#$flags & o_direct)); then direct=$((direct + 1)); else plain=$((plain + 1)); fi
	done
	[ "$direct:$plain" = 1:1 ] || fail "descriptors of $dev: $direct with O_DIRECT and $plain without, want one of each"
	before=$(reads)
	vio reread "$T/mnt/volume" $((5 << 20)) 4096 200 || fail "aligned reads"
	aligned=$(($(reads) - before))
	((aligned >= 200)) || fail "200 aligned reads of one block: $aligned reads of $dev (not O_DIRECT?)"
	before=$(reads)
	vio reread "$T/mnt/volume" $(((6 << 20) + 100)) 4096 200 || fail "unaligned reads"
	unaligned=$(($(reads) - before))
	((unaligned < 50)) || fail "200 unaligned reads of one block: $unaligned reads of $dev (not from the page cache?)"
	vio random "$T/mnt/volume" "$dev" 9 100 || fail "I/O"
	vio fill "$T/mnt/volume" $((7 << 20)) $((1 << 20)) 66 direct || fail "write"
	vio check "$T/disk" $((7 << 20)) $((1 << 20)) 66 || fail "a write through the volume is not in the loop device's file"
	cmp "$T/mnt/volume" "$T/disk" || fail "the volume and the loop device's file differ"
	echo "one block read 200 times: aligned $aligned device reads, unaligned $unaligned"
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
	# root may remount a user's mount (fusermount3 cannot remount)
	"$FUSEURING" "$T/back" "$T/mnt" -o remount,ro 2>"$T/log" || fail "root's remount,ro: $(cat "$T/log")"
	grep -q " $T/mnt fuse.fuseuring ro," /proc/mounts || fail "not read-only after remount,ro"
	"$FUSEURING" "$T/back" "$T/mnt" -o remount,rw 2>"$T/log" || fail "root's remount,rw: $(cat "$T/log")"
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
	# man mount.fuseuring; the unit with the binary's path; whatis and
	# apropos, from the index make install updates (without DESTDIR)
	[ "$(cat "$T/root/usr/local/share/man/man8/mount.fuseuring.8")" = ".so man1/fuseuring.1" ] || fail "man8/mount.fuseuring.8"
	[ "$(readlink "$T/root/sbin/mount.fuse.fuseuring")" = /usr/local/bin/fuseuring ] || fail "mount.fuse.fuseuring link"
	MANWIDTH=200 man -M "$T/root/usr/local/share/man" mount.fuseuring 2>/dev/null | grep -q "mount.fuseuring - serve a file" ||
		fail "man mount.fuseuring"
	grep -q "^ExecStart=/usr/local/bin/fuseuring " "$T/root/usr/local/lib/systemd/system/fuseuring@.service" || fail "unit"
	make -s -C "$ROOT" install PREFIX="$T/p" SBINDIR="$T/p/sbin" >/dev/null 2>&1 || fail "make install PREFIX=$T/p"
	grep -q "^ExecStart=$T/p/bin/fuseuring " "$T/p/lib/systemd/system/fuseuring@.service" || fail "unit: BINDIR not filled in"
	command -v mandb >/dev/null || skip "whatis and apropos need man-db's mandb: the rest of make install was checked"
	whatis -M "$T/p/share/man" mount.fuseuring 2>&1 | grep -q "^mount.fuseuring (" || fail "whatis mount.fuseuring: $(whatis -M "$T/p/share/man" mount.fuseuring 2>&1)"
	apropos -M "$T/p/share/man" io_uring 2>&1 | grep -q "^fuseuring (1)" || fail "apropos io_uring"
	make -s -C "$ROOT" uninstall PREFIX="$T/p" SBINDIR="$T/p/sbin" >/dev/null 2>&1 || fail "make uninstall"
	[ -z "$(find "$T/p" \( -type f -o -type l \) ! -name index.db)" ] || fail "uninstall left: $(find "$T/p" -type f -o -type l)"
}

# make ARCH=aarch64 builds a static aarch64 binary.  Under qemu-user it
# runs as far as qemu allows: the start code (argv, envp, the auxiliary
# vector's page size), option and size parsing with every kind of error,
# and the io_uring_setup of the kernel check that comes before anything
# else is opened.  Debian 12's qemu-user (7.2) does not implement io_uring:
# it answers syscall 425 with ENOSYS, so the test wants exactly that call,
# the message for it, and nothing opened or created.  Under a qemu that
# passes io_uring through, the ring must be built: the run then fails only
# at MOUNTPOINT, after creating BACKING with size=.
test_aarch64() {
	command -v aarch64-linux-gnu-gcc >/dev/null || skip "needs gcc-aarch64-linux-gnu"
	command -v qemu-aarch64-static >/dev/null || skip "needs qemu-user-static"
	scratch aarch64
	local bin=$ROOT/fuseuring-aarch64 out status
	make -s -C "$ROOT" ARCH=aarch64 >/dev/null || fail "make ARCH=aarch64"
	readelf -h "$bin" | grep -q "AArch64" || fail "not an aarch64 binary"
	readelf -lW "$bin" | grep -q INTERP && fail "not static"
	printf '#!/bin/sh\nexec qemu-aarch64-static "%s" "$@"\n' "$bin" >"$T/run"
	chmod +x "$T/run"
	local FUSEURING=$T/run
	make_backing "$T/back" 8M
	"$FUSEURING" --help | grep -q "^Usage: fuseuring" || fail "--help"
	"$FUSEURING" -V | grep -q "^fuseuring [0-9]" || fail "--version"
	expect_failure 2 "depth=x: not a number" -o depth=x "$T/back" "$T/mnt"
	expect_failure 2 "depth=0: out of range" -o depth=0 "$T/back" "$T/mnt"
	expect_failure 2 "bogus: unknown option" "$T/back" -o ro,bogus "$T/mnt"
	expect_failure 2 "size=12X: not a size" -o size=12X "$T/back" "$T/mnt"
	expect_failure 2 "size=99999999999999999999: not a size" -o size=99999999999999999999 "$T/back" "$T/mnt"
	expect_failure 2 "size=16777216T: not a size" -o size=16777216T "$T/back" "$T/mnt"
	expect_failure 2 "size=8388608T: out of range (1 to 9223372036854775807)" -o size=8388608T "$T/back" "$T/mnt"
	expect_failure 2 "max_write=18432: not a multiple of the page size (4096)" -o max_write=18K "$T/back" "$T/mnt"
	expect_failure 2 "max_write=2M: out of range" -o max_write=2M "$T/back" "$T/mnt"
	expect_failure 2 "do not go together" -o ro,size=1M "$T/back" "$T/mnt"
	expect_failure 2 "missing MOUNTPOINT" "$T/back"
	# everything accepted: on to the kernel check, whose first system call
	# is io_uring_setup (425 on aarch64)
	set -- -f -o size=8388607T,max_write=1M,depth=1024,queues=3 "$T/new.img" "$T/nomnt"
	out=$(qemu-aarch64-static -strace "$bin" "$@" 2>&1 </dev/null)
	echo "$out" | grep -qE "Unknown syscall 425$|io_uring_setup\(" ||
		fail "no io_uring_setup (system call 425) after the options: $(echo "$out" | tail -4)"
	out=$(qemu-aarch64-static -d unimp "$bin" "$@" 2>&1 </dev/null)
	status=$?
	if echo "$out" | grep -q "^Unsupported syscall: 425$"; then
		[ "$status" = 1 ] || fail "io_uring_setup refused: exit $status, want 1: $out"
		echo "$out" | grep -q "^fuseuring: io_uring is not available: Function not implemented" ||
			fail "io_uring_setup refused: no message about it: $out"
		[ "$(echo "$out" | grep -c "^Unsupported syscall")" = 1 ] || fail "other system calls unknown to qemu: $out"
		[ -e "$T/new.img" ] && fail "BACKING created before the kernel check"
		echo "$(stat -c %s "$bin") bytes; options parsed, io_uring_setup (425) reached: qemu-user does not implement it"
	else
		# the ring is built and BACKING opened: MOUNTPOINT is what fails
		out=$("$FUSEURING" -f "$T/back" "$T/nomnt" 2>&1 </dev/null)
		status=$?
		[ "$status" = 1 ] && echo "$out" | grep -q "^fuseuring: .*nomnt: No such file" ||
			fail "with io_uring from qemu: exit $status, want 1 and a message about MOUNTPOINT: $out"
		echo "$(stat -c %s "$bin") bytes; options parsed, io_uring ring built, BACKING opened"
	fi
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
	local found
	"$ROOT/fuzz_request" -max_total_time="${FUZZ_SECONDS:-30}" -print_final_stats=1 \
		-artifact_prefix="$T/" "$T/corpus" >"$T/fuzz.log" 2>&1 || {
		# an input that found a bug stays: make check replays tests/corpus
		for found in "$T"/crash-* "$T"/leak-* "$T"/timeout-*; do
			[ -e "$found" ] && cp "$found" "$ROOT/tests/corpus/regression-${found##*-}" &&
				echo "kept as tests/corpus/regression-${found##*-}: commit it"
		done
		fail "the fuzzer found a failure: $(tail -40 "$T/fuzz.log")"
	}
	echo "$(grep -o 'number_of_executed_units: [0-9]*' "$T/fuzz.log" | cut -d' ' -f2) inputs," \
		"$(grep -o 'cov: [0-9]*' "$T/fuzz.log" | tail -1)"
}

# tests/soak.sh on the pass's transport: SOAK_SECONDS (default 20; 8 with
# passthrough, where the daemon serves no data).
test_soak() {
	command -v fio >/dev/null || skip "needs fio"
	local secs=${SOAK_SECONDS:-20}
	passthrough_pass && secs=${SOAK_SECONDS:-8}
	FUSEURING="$FUSEURING" FUSEURING_OPTS="${MODE_OPTS[1]#-o }" "$ROOT/tests/soak.sh" "$secs" ||
		fail "soak failed"
}

# --- tests: a newcomer's and a sysadmin's way in (issue 14) ------------------------

# processes_of TEXT: pids whose command line holds TEXT (not this shell's).
processes_of() {
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$BASHPID" ] && continue
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$1" && echo "${p#/proc/}"
	done
	return 0
}
stop_processes_of() {
	local p
	for p in $(processes_of "$1"); do stop_pid "$p"; done
}

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

# One BACKING, one read-write server: a second one (or a read-only one) is
# refused while it serves, naming the pid that holds BACKING's lock;
# read-only servers share it; block devices too; the lock goes with the
# server, so that "umount && start again" works at once.
test_backing_lock() {
	scratch lock
	local first i
	mkdir "$T/mnt2" "$T/mnt3"
	make_backing "$T/back" 16M
	start_fuseuring "$T/back" "$T/mnt"
	first=$DPID
	expect_failure 1 "back: in use: pid $first (.*) holds it for writing; a second server would corrupt it" \
		-f "$T/back" "$T/mnt2"
	expect_failure 1 "back: in use: pid $first (.*) holds it for writing" -f -o ro "$T/back" "$T/mnt2"
	mountpoint -q "$T/mnt2" && fail "the second server mounted"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# two read-only servers share it; a read-write one is refused
	vio fill "$T/back" 0 $((16 << 20)) 19 || fail "fill BACKING"
	: >"$T/log"
	start_fuseuring -o ro "$T/back" "$T/mnt"
	first=$DPID
	: >"$T/log"
	start_fuseuring -o ro "$T/back" "$T/mnt2"
	expect_failure 1 "back: in use: pid \($first\|$DPID\) .*, pid [0-9]* (.*) hold it read-only; serving it read-write needs it alone" \
		-f "$T/back" "$T/mnt3"
	cmp "$T/mnt/volume" "$T/back" || fail "the first read-only volume is not BACKING"
	cmp "$T/mnt2/volume" "$T/back" || fail "the second read-only volume is not BACKING"
	stop_fuseuring "$T/mnt2" || fail "exit status $?"
	DPID=$first
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# unmounted and started again at once, ten times: the old server's
	# lock (with passthrough, the kernel's) is gone by then
	"$FUSEURING" -o quiet "$T/back" "$T/mnt" 2>"$T/err" || fail "start: $(cat "$T/err")"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		umount "$T/mnt" && "$FUSEURING" -o quiet "$T/back" "$T/mnt" 2>"$T/err" ||
			fail "umount and start again, round $i: $(cat "$T/err")"
	done
	umount "$T/mnt" || fail "umount"
	# a block device
	new_loop "$T/back"
	: >"$T/log"
	start_fuseuring "$LOOP" "$T/mnt"
	expect_failure 1 "$LOOP: in use: pid $DPID (.*) holds it for writing" -f "$LOOP" "$T/mnt2"
	echo "second read-write server refused; two read-only ones shared it; block devices locked"
}

# An ordinary user's second and third volume: io_uring counts locked
# memory per user, so the first volume leaves little; the next ones start
# with smaller buffers; one for which nothing is left says why and how to
# raise the limit.  That the buffers shrank is not a warning.
test_memlock_shared() {
	scratch memlock
	user_ok
	local pid1 pid2 f
	for f in /proc/[0-9]*/status; do
		awk '/^Uid:/ && $2 != 5 {exit 1} /^VmPin:/ && $2 > 0 {exit 2}' "$f" 2>/dev/null
		[ $? = 2 ] && fail "processes of games already hold locked memory: $f"
	done
	mkdir "$T/mnt2" "$T/mnt3"
	make_backing "$T/b1" 16M && make_backing "$T/b2" 16M && make_backing "$T/b3" 16M
	chown -R 5:60 "$T"
	defer "umount -l '$T/mnt'"
	defer "umount -l '$T/mnt2'"
	defer "umount -l '$T/mnt3'"
	ulimit -l 8192	# an ordinary user's limit on Debian
	as_user "$FUSEURING" -o pidfile="$T/p1" "$T/b1" "$T/mnt" 2>"$T/log1" || fail "first volume: $(cat "$T/log1")"
	pid1=$(cat "$T/p1")
	defer "stop_pid $pid1"
	as_user "$FUSEURING" -o pidfile="$T/p2" "$T/b2" "$T/mnt2" 2>"$T/log2" ||
		fail "second volume of the same user: $(cat "$T/log2")"
	pid2=$(cat "$T/p2")
	defer "stop_pid $pid2"
	grep -q "^fuseuring: serving .*, depth [0-9]*, max_write [0-9]*" "$T/log2" || fail "no serving line: $(cat "$T/log2")"
	as_user "$WORK/volume_io" fill "$T/mnt2/volume" 0 $((4 << 20)) 83 direct || fail "the second volume's write"
	vio check "$T/b2" 0 $((4 << 20)) 83 || fail "the second volume's BACKING"
	# what was asked and not given, and why, is in the start line
	grep -q "^fuseuring: serving .*, depth 16, max_write 131072 (not 2 queues, depth 16, max_write 262144: locked memory is limited to 8192 KiB), FUSE" "$T/log1" ||
		fail "the first volume's start line: $(cat "$T/log1")"
	grep -q "^fuseuring: serving .*, depth [0-9]*, max_write [0-9]* (not 2 queues, depth 16, max_write 262144: locked memory is limited to 8192 KiB, and this user's other mounts hold part of it), FUSE" "$T/log2" ||
		fail "the second volume's start line: $(cat "$T/log2")"
	# nothing left for a third
	(ulimit -l 64; as_user "$FUSEURING" "$T/b3" "$T/mnt3") 2>"$T/log3" && fail "a third volume with 64 KiB"
	grep -q "^fuseuring: .*other mounts of this user hold its locked memory.*'ulimit -l'.*LimitMEMLOCK=" "$T/log3" ||
		fail "the third volume's failure: $(cat "$T/log3")"
	grep -q "io_uring is not available" "$T/log3" && fail "a lack of locked memory called a lack of io_uring: $(cat "$T/log3")"
	mountpoint -q "$T/mnt3" && fail "the third volume mounted"
	as_user fusermount3 -u "$T/mnt2" && as_user fusermount3 -u "$T/mnt" || fail "fusermount3 -u"
	wait_until 10 dead "$pid1" && wait_until 10 dead "$pid2" || fail "daemons did not exit"
	echo "$(grep -o 'depth [0-9]*, max_write [0-9]*' "$T/log1"), then $(grep -o 'depth [0-9]*, max_write [0-9]*' "$T/log2")"
}

# kill -9 with a loop device on the volume, then what systemd's
# Restart=on-failure does: the unit's own command line (from make install,
# BINDIR filled in) with a fake NOTIFY_SOCKET.  A plain restart names the
# loop device and the ways out; the unit's (-o recover) serves again.  With
# passthrough, the kernel still writes BACKING through the old loop device:
# the restart is refused, naming it, until it is detached.
test_crash_restart() {
	scratch crash
	local unit execstart listener out
	make_backing "$T/back" 32M
	make -s -C "$ROOT" install DESTDIR="$T/root" BINDIR=/opt/fu/bin >/dev/null || fail "make install"
	unit=$T/root/usr/local/lib/systemd/system/fuseuring@.service
	[ -f "$unit" ] || fail "make install did not install the unit"
	execstart=$(sed -n 's/^ExecStart=//p' "$unit")
	[[ $execstart = "/opt/fu/bin/fuseuring "* ]] || fail "ExecStart does not run BINDIR's fuseuring: $execstart"
	grep -q "^Restart=on-failure" "$unit" && grep -q "^Type=notify" "$unit" || fail "unit: $(cat "$unit")"
	# (checked last: the unit's command line needs no systemd)
	verify_unit() {
		command -v systemd-analyze >/dev/null || return 1
		mkdir "$T/units"
		sed "s|/opt/fu/bin/fuseuring|$FUSEURING|" "$unit" >"$T/units/fuseuring@test.service"
		out=$(timeout 30 systemd-analyze verify "$T/units/fuseuring@test.service" 2>&1 | grep -v "Command 'man ")
		[ -z "$out" ] || fail "systemd-analyze verify: $out"
	}
	# run_unit N OPTIONS: ExecStart as systemd runs it ($OPTIONS split,
	# ${VAR} whole), READY=1 awaited on a socket of its own
	run_unit() {
		local cmd=${execstart#/opt/fu/bin/fuseuring } word args=()
		cmd=${cmd//\$\{BACKING\}/$T/back}
		cmd=${cmd//\$\{MOUNTPOINT\}/$T/mnt}
		for word in ${cmd//\$OPTIONS/$2}; do args+=("$word"); done
		"$WORK/volume_io" notify-listen "$T/notify$1" 30 >"$T/notes$1" &
		listener=$!
		defer "kill $listener"
		wait_until 10 grep -q listening "$T/notes$1" || fail "listener"
		NOTIFY_SOCKET=$T/notify$1 "$FUSEURING" "${args[@]}" 2>>"$T/log" &
		DPID=$!
		defer "stop_pid $DPID"
		defer "umount -l '$T/mnt'"
		local notes=$T/notes$1
		wait_until 20 eval 'grep -q "^READY=1" "$notes" || dead $DPID' || fail "no READY=1: $(cat "$T/log")"
	}
	run_unit 1 "-o transport=dev"
	dead "$DPID" && fail "the unit's fuseuring did not start: $(cat "$T/log")"
	new_loop "$T/mnt/volume"
	vio fill "$LOOP" 0 $((1 << 20)) 77 direct || fail "write"
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	umount "$T/mnt" 2>/dev/null && fail "umount took the busy dead mount away"
	expect_failure 1 "$T/mnt: Transport endpoint is not connected: a FUSE mount whose server died is still there, and $LOOP still holds its volume.*'losetup -d $LOOP', then 'umount $T/mnt'.*'umount -l $T/mnt'.*-o recover" \
		-f -o transport=dev "$T/back" "$T/mnt"
	: >"$T/log"
	run_unit 2 "-o transport=dev"
	dead "$DPID" && fail "the restart failed: $(cat "$T/log")"
	grep -q "recover: detached the mount of a fuseuring that died; $LOOP still holds the old volume: 'losetup -d $LOOP'" "$T/log" ||
		fail "the restart did not say what it did: $(cat "$T/log")"
	vio check "$T/mnt/volume" 0 $((1 << 20)) 77 || fail "data after the restart"
	losetup -d "$LOOP" || fail "losetup -d"
	kill -TERM "$DPID"
	wait_until 10 dead "$DPID" || fail "the restarted daemon did not stop"
	wait "$DPID" || fail "exit status $?"
	# passthrough: the old loop device still reaches BACKING
	: >"$T/log"
	run_unit 3 "-o passthrough"
	dead "$DPID" && fail "passthrough: did not start: $(cat "$T/log")"
	new_loop "$T/mnt/volume"
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	: >"$T/log"
	NOTIFY_SOCKET= "$FUSEURING" -f -o recover,passthrough "$T/back" "$T/mnt" 2>"$T/log" &&
		fail "passthrough: restarted while the old loop device can still write BACKING"
	grep -q "back: locked, by no process .*loop devices: $LOOP" "$T/log" || fail "passthrough: $(cat "$T/log")"
	losetup -d "$LOOP" || fail "losetup -d"
	: >"$T/log"
	run_unit 4 "-o passthrough"
	dead "$DPID" && fail "passthrough: no restart after losetup -d: $(cat "$T/log")"
	verify_unit || skip "systemd-analyze (systemd) not installed: the unit was not verified; the restarts were checked"
	echo "unit verified; restarted by the unit's command line after kill -9, with and without passthrough"
}

# A detached start says what serves the volume and why, on the terminal,
# before it returns; -o quiet and mount(8) (without -v) keep quiet.
test_start_line() {
	scratch startline
	local pid line
	make_backing "$T/back" 8M
	defer "umount -l '$T/mnt'"
	"$FUSEURING" -o resize,pidfile="$T/pid" "$T/back" "$T/mnt" >"$T/out" 2>"$T/err" || fail "fuseuring: $(cat "$T/err")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	grep -q "^fuseuring: serving $T/back at $T/mnt/volume: transport passthrough (auto: [^)]*), [0-9]* queues, depth [0-9]*, max_write [0-9]*, FUSE 7\.[0-9]*$" "$T/err" ||
		fail "no serving line on stderr: $(cat "$T/err")"
	[ -s "$T/out" ] && fail "stdout: $(cat "$T/out")"
	umount "$T/mnt" && wait_until 10 dead "$pid" || fail "umount"
	"$FUSEURING" -o pidfile="$T/pid",direct "$T/back" "$T/mnt" 2>"$T/err" || fail "fuseuring: $(cat "$T/err")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	grep -q "^fuseuring: serving .*: transport dev (auto: .*; -o direct)" "$T/err" || fail "-o direct: $(cat "$T/err")"
	umount "$T/mnt" && wait_until 10 dead "$pid" || fail "umount"
	"$FUSEURING" -o quiet,pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/err" || fail "quiet: $(cat "$T/err")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	[ -s "$T/err" ] && fail "-o quiet printed: $(cat "$T/err")"
	umount "$T/mnt" && wait_until 10 dead "$pid" || fail "umount"
	# as mount(8)'s helper: nothing, but for mount -v
	ln -s "$FUSEURING" "$T/mount.fuseuring"
	"$T/mount.fuseuring" "$T/back" "$T/mnt" -o pidfile="$T/pid" 2>"$T/err" || fail "mount.fuseuring: $(cat "$T/err")"
	pid=$(cat "$T/pid")
	[ -s "$T/err" ] && fail "mount.fuseuring without -v printed: $(cat "$T/err")"
	umount "$T/mnt" && wait_until 10 dead "$pid" || fail "umount"
	"$T/mount.fuseuring" "$T/back" "$T/mnt" -v -o pidfile="$T/pid" 2>"$T/err" || fail "mount.fuseuring -v: $(cat "$T/err")"
	pid=$(cat "$T/pid")
	grep -q "^fuseuring: serving $T/back at $T/mnt/volume" "$T/err" || fail "mount.fuseuring -v: $(cat "$T/err")"
	umount "$T/mnt" && wait_until 10 dead "$pid" || fail "umount"
	# the stats of a passthrough volume say who moves the data
	start_fuseuring -o passthrough "$T/back" "$T/mnt"
	line=$(stats "$DPID")
	[[ $line = *"the kernel reads and writes BACKING itself"* ]] || fail "passthrough stats: $line"
	echo "serving line on the terminal; quiet with -o quiet and mount without -v"
}

# Where messages go: -o debug (and -d) stay in the foreground, as with
# libfuse; -o log=FILE gets a detached daemon's messages, stats included;
# an ordinary user whose messages would be lost is told before detaching.
test_log_destinations() {
	scratch logdest
	local opt pid
	make_backing "$T/back" 8M
	defer "umount -l '$T/mnt'"
	for opt in -odebug -d; do
		: >"$T/log"
		"$FUSEURING" $opt "$T/back" "$T/mnt" 2>"$T/log" &
		pid=$!
		defer "stop_pid $pid"
		wait_until 20 eval 'grep -q "^fuseuring: serving" "$T/log" || dead $pid' || fail "$opt: did not start"
		alive "$pid" || fail "$opt detached (or failed): $(cat "$T/log")"
		[ "$(ls "/proc/$pid/task" | wc -l)" -ge 2 ] || fail "$opt: the process started is not the daemon"
		dd if="$T/mnt/volume" of=/dev/null bs=4k count=1 skip=5 iflag=direct status=none || fail "read"
		wait_until 5 grep -q "request [0-9]* READ node 2 offset 20480 size 4096" "$T/log" ||
			fail "$opt: no debug line on stderr: $(tail -3 "$T/log")"
		umount "$T/mnt" && wait_until 10 dead "$pid" || fail "umount"
	done
	"$FUSEURING" -o log="$T/file.log",pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/err" || fail "log=: $(cat "$T/err")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	kill -USR1 "$pid"
	wait_until 10 grep -q "^@[0-9]* fuseuring\[$pid\]: stats: " "$T/file.log" || fail "no stats in the log file: $(cat "$T/file.log")"
	grep -q "^@[0-9]* fuseuring\[$pid\]: serving $T/back" "$T/file.log" || fail "no serving line in the log file"
	umount "$T/mnt" && wait_until 10 dead "$pid" || fail "umount"
	# Nowhere to log, as a user: nothing listens on /dev/log.  Where
	# something does, a mount namespace of our own hides it (a bind
	# mount of /dev/null: connect() is refused there).
	user_ok
	chown 5:60 "$T" "$T/back" "$T/mnt"
	local ns=()
	if [ -e /dev/log ]; then
		command -v unshare >/dev/null && command -v nsenter >/dev/null ||
			skip "/dev/log listens and hiding it needs unshare and nsenter (util-linux): lost messages not tried"
		ns=(unshare -m --propagation private sh -c 'mount --bind /dev/null /dev/log && exec "$@"' sh)
	fi
	"${ns[@]}" setpriv --reuid=5 --regid=60 --clear-groups -- \
		"$FUSEURING" -o depth=2,pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/err" || fail "as a user: $(cat "$T/err")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	grep -q "^fuseuring: warning: once detached, messages (stats, errors) are lost: .*-o log=FILE" "$T/err" ||
		fail "no warning about lost messages: $(cat "$T/err")"
	[ ${#ns[@]} = 0 ] || ns=(nsenter -m -t "$pid")
	"${ns[@]}" setpriv --reuid=5 --regid=60 --clear-groups -- fusermount3 -u "$T/mnt" || fail "fusermount3 -u"
	wait_until 10 dead "$pid" || fail "the daemon did not end after fusermount3 -u"
	echo "debug and -d in the foreground, log=FILE, a warning where messages would be lost"
}

# Failures an option would fix name it: a BACKING that cannot be written
# (read-only filesystem, immutable, no permission) suggests -o ro; truncate
# without -o resize is logged, once.
test_option_hints() {
	scratch hints
	local out
	make_backing "$T/back" 8M
	mkdir "$T/rofs"
	mount -t tmpfs -o size=16M tmpfs "$T/rofs" || fail "tmpfs"
	defer "umount -l '$T/rofs'"
	make_backing "$T/rofs/back" 8M
	mount -o remount,ro "$T/rofs" || fail "remount ro"
	expect_failure 1 "rofs/back: Read-only file system: cannot open it for writing (to serve it read-only, add -o ro)" \
		-f "$T/rofs/back" "$T/mnt"
	start_fuseuring -o ro "$T/rofs/back" "$T/mnt"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	: >"$T/log"
	start_fuseuring "$T/back" "$T/mnt"
	truncate -s 4M "$T/mnt/volume" 2>/dev/null && fail "truncate without -o resize"
	truncate -s 16M "$T/mnt/volume" 2>/dev/null && fail "truncate without -o resize"
	wait_until 5 grep -q "truncate on the volume refused (EPERM): its size changes only with -o resize" "$T/log" ||
		fail "truncate refused without a word: $(cat "$T/log")"
	[ "$(grep -c "truncate on the volume refused" "$T/log")" = 1 ] || fail "said more than once: $(cat "$T/log")"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# EPERM: an immutable BACKING (chattr +i; $WORK's filesystem may not
	# have the flag: then an ext4 image of our own has it)
	if ! chattr +i "$T/back" 2>/dev/null; then
		command -v mkfs.ext4 >/dev/null || skip "chattr +i needs a filesystem with the flag (e2fsprogs for one of our own): EROFS was checked"
		truncate -s 16M "$T/ext4.img" && mkfs.ext4 -q "$T/ext4.img" && mkdir "$T/ext4" &&
			mount -o loop "$T/ext4.img" "$T/ext4" || fail "an ext4 image for chattr +i"
		defer "umount -l '$T/ext4'"
		mv "$T/back" "$T/ext4/back" && ln -s "$T/ext4/back" "$T/back"
		chattr +i "$T/ext4/back" || fail "chattr +i on ext4"
		defer "chattr -i '$T/ext4/back'"
	else
		defer "chattr -i '$T/back'"
	fi
	expect_failure 1 "back: Operation not permitted: cannot open it for writing (to serve it read-only, add -o ro)" \
		-f "$T/back" "$T/mnt"
	chattr -i "$(readlink -f "$T/back")"
	command -v setpriv >/dev/null && [ "$(getent passwd games | cut -d: -f3)" = 5 ] ||
		skip "the EACCES case needs setpriv and the games user (uid 5): EROFS and EPERM were checked"
	chmod 755 "$WORK" "$T" && chmod 444 "$(readlink -f "$T/back")"
	[ -d "$T/ext4" ] && chmod 755 "$T/ext4"
	out=$(as_user "$FUSEURING" -f "$T/back" "$T/mnt" 2>&1 </dev/null) && fail "a user opened a file it may not write"
	echo "$out" | grep -q "^fuseuring: .*back: Permission denied: cannot open it for writing (to serve it read-only, add -o ro)" ||
		fail "EACCES: $out"
	echo "-o ro suggested for EROFS, EPERM and EACCES; -o resize named once"
}

# A start that fails leaves no BACKING it created (or grew) behind:
# missing MOUNTPOINT, BACKING inside MOUNTPOINT, fusermount3 failing, a
# failure after detaching; mount -f neither.
test_failed_start_cleanup() {
	scratch cleanup
	local out
	expect_failure 1 "nomnt: No such file" -o size=1G "$T/new.img" "$T/nomnt"
	[ -e "$T/new.img" ] && fail "a missing MOUNTPOINT left the new BACKING"
	mkdir "$T/mnt/sub"
	expect_failure 1 "lies inside MOUNTPOINT" -o size=1G "$T/mnt/sub/new.img" "$T/mnt"
	[ -e "$T/mnt/sub/new.img" ] && fail "BACKING inside MOUNTPOINT: left the new BACKING"
	rmdir "$T/mnt/sub"
	defer "umount -l '$T/mnt'"
	expect_failure 1 "pid: No such file" -o size=1G,pidfile=/proc/no/such/dir/pid "$T/new.img" "$T/mnt"
	[ -e "$T/new.img" ] && fail "a failure after detaching left the new BACKING"
	make_backing "$T/old.img" 4M
	expect_failure 1 "nomnt: No such file" -o size=1G "$T/old.img" "$T/nomnt"
	[ "$(stat -c %s "$T/old.img")" = $((4 << 20)) ] || fail "a failed start left BACKING grown: $(stat -c %s "$T/old.img")"
	ln -s "$FUSEURING" "$T/mount.fuseuring"
	"$T/mount.fuseuring" -f "$T/new.img" "$T/mnt" -o size=1G || fail "mount -f"
	[ -e "$T/new.img" ] && fail "mount -f created BACKING"
	start_fuseuring -o size=16M "$T/new.img" "$T/mnt"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	[ "$(stat -c %s "$T/new.img")" = $((16 << 20)) ] || fail "a start that worked did not keep BACKING"
	rm "$T/new.img"
	command -v setpriv >/dev/null && command -v fusermount3 >/dev/null &&
		[ "$(getent passwd games | cut -d: -f3)" = 5 ] ||
		skip "the fusermount3 case needs setpriv, fusermount3 (fuse3) and the games user (uid 5): the rest was checked"
	mkdir "$T/user"
	chmod 755 "$WORK" "$T" && chown 5:60 "$T/user"
	# fusermount3 refuses a mountpoint the user may not write
	out=$(as_user "$FUSEURING" -o size=1G "$T/user/new.img" "$T/mnt" 2>&1 </dev/null) && fail "fusermount3 on root's directory"
	echo "$out" | grep -q "fusermount3 failed" || fail "fusermount3 failure: $out"
	[ -e "$T/user/new.img" ] && fail "a fusermount3 failure left the new BACKING"
	echo "nothing left by failed starts: no MOUNTPOINT, BACKING inside it, after detaching, fusermount3; mount -f"
}

# mount -o remount,ro / rw through mount(8): fuseuring as
# mount.fuse.fuseuring, and as mount.fuse3 runs it; mount -v says what was
# mounted; mount(8)'s exit statuses; a volume served ro stays ro.
test_remount() {
	scratch remount
	local out status
	make_backing "$T/back" 8M
	place_tool /sbin/mount.fuse.fuseuring "$FUSEURING"
	defer "umount -l '$T/mnt'"
	out=$(mount -t fuse.fuseuring "$T/back" "$T/mnt" 2>&1) || fail "mount -t fuse.fuseuring: $out"
	[ -z "$out" ] || fail "mount without -v printed: $out"
	umount "$T/mnt" || fail "umount"
	out=$(mount -v -t fuse.fuseuring "$T/back" "$T/mnt" 2>&1) || fail "mount -v: $out"
	echo "$out" | grep -q "serving $T/back at $T/mnt/volume" || fail "mount -v said: $out"
	mount -o remount,ro "$T/mnt" || fail "mount -o remount,ro"
	grep -q " $T/mnt fuse.fuseuring ro,nosuid,nodev" /proc/mounts || fail "after remount,ro: $(grep " $T/mnt " /proc/mounts)"
	[ "$(vio write-errno "$T/mnt/volume" 0 4096)" = EROFS ] || fail "writable after remount,ro"
	out=$(mount -v -o remount,rw "$T/mnt" 2>&1) || fail "mount -o remount,rw: $out"
	echo "$out" | grep -q "$T/mnt: remounted read-write" || fail "mount -v -o remount,rw said: $out"
	grep -q " $T/mnt fuse.fuseuring rw,nosuid,nodev" /proc/mounts || fail "after remount,rw: $(grep " $T/mnt " /proc/mounts)"
	vio fill "$T/mnt/volume" 0 $((1 << 20)) 85 || fail "write after remount,rw"
	mount -o remount,noexec "$T/mnt" || fail "remount,noexec"
	grep -q " $T/mnt fuse.fuseuring rw,nosuid,nodev,noexec" /proc/mounts || fail "after remount,noexec: $(grep " $T/mnt " /proc/mounts)"
	# as fuse3's mount.fuse3 runs it, with the mount table's options
	"$FUSEURING" "$T/back" "$T/mnt" -o ro,nosuid,nodev,relatime,remount,user_id=0,group_id=0,default_permissions ||
		fail "remount as mount.fuse3 asks for it"
	grep -q " $T/mnt fuse.fuseuring ro,nosuid,nodev,noexec" /proc/mounts || fail "after that remount: $(grep " $T/mnt " /proc/mounts)"
	# neither ro nor rw asked for: it stays read-only
	"$FUSEURING" "$T/back" "$T/mnt" -o remount,exec || fail "fuseuring -o remount,exec"
	grep -q " $T/mnt fuse.fuseuring ro,nosuid,nodev[, ]" /proc/mounts || fail "remount,exec changed more: $(grep " $T/mnt " /proc/mounts)"
	umount "$T/mnt" || fail "umount"
	vio check "$T/back" 0 $((1 << 20)) 85 || fail "data"
	# served read-only: stays so
	start_fuseuring -o ro "$T/back" "$T/mnt"
	out=$(mount -o remount,rw "$T/mnt" 2>&1)
	status=$?
	[ "$status" = 32 ] || fail "remount,rw of a read-only server: exit $status, want 32: $out"
	echo "$out" | grep -q "remount,rw: its server has $T/back open read-only (-o ro)" || fail "remount,rw refused: $out"
	grep -q " $T/mnt fuse.fuseuring ro," /proc/mounts || fail "became writable"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	# mount(8)'s exit statuses: 1 usage, 32 failure
	ln -s "$FUSEURING" "$T/mount.fuseuring"
	"$T/mount.fuseuring" "$T/back" "$T/mnt" -o bogus 2>/dev/null
	status=$?
	[ "$status" = 1 ] || fail "a bad option as mount helper: exit $status, want 1"
	"$T/mount.fuseuring" "$T/back" "$T/nomnt" 2>/dev/null
	status=$?
	[ "$status" = 32 ] || fail "a failed mount as mount helper: exit $status, want 32"
	echo "remount ro, rw, noexec; mount -v; exits 1 and 32"
}

# Small things: ps shows the command line as given; /proc/mounts shows an
# absolute BACKING; signals by name; no warning nobody can act on; -V says
# what the kernel offers.
test_small_things() {
	scratch small
	local cmdline release
	(cd "$T" && exec "$FUSEURING" -f -o size=8M,pidfile=pid back mnt 2>>log) &
	DPID=$!
	defer "stop_pid $DPID"
	defer "umount -l '$T/mnt'"
	wait_until 20 served_or_dead || fail "did not start: $(cat "$T/log")"
	cmdline=$(tr '\0' ' ' <"/proc/$DPID/cmdline")
	[ "$cmdline" = "$FUSEURING -f -o size=8M,pidfile=pid back mnt " ] || fail "ps shows: $cmdline"
	grep -q "^$T/back $T/mnt fuse.fuseuring " /proc/mounts || fail "mount source: $(grep " $T/mnt " /proc/mounts)"
	grep -q "warning" "$T/log" && fail "a warning at a start where nothing is wrong: $(cat "$T/log")"
	kill -INT "$DPID"
	wait_until 10 grep -q "^fuseuring: SIGINT: unmounting $T/mnt" "$T/log" || fail "no word of SIGINT: $(cat "$T/log")"
	wait_until 10 dead "$DPID" || fail "did not exit"
	"$FUSEURING" -V >"$T/version" || fail "-V"
	release=$(uname -r)
	grep -q "^fuseuring [0-9.]* (FUSE protocol 7\.[0-9]*)$" "$T/version" &&
		grep -q "^Linux $release offers:" "$T/version" &&
		grep -q "^  io_uring  *yes" "$T/version" &&
		grep -q "^  multishot reads  *\(yes\|no\)" "$T/version" &&
		grep -q "^  FUSE, /dev/fuse  *yes" "$T/version" &&
		grep -q "^  FUSE passthrough  *" "$T/version" || fail "-V: $(cat "$T/version")"
	if [ -e "$URING_PARAM" ]; then
		grep -q "^  FUSE over io_uring  *$([ "$(cat "$URING_PARAM")" = Y ] && echo on || echo off)" "$T/version" ||
			fail "-V on FUSE over io_uring ($(cat "$URING_PARAM")): $(cat "$T/version")"
	fi
	echo "$(head -1 "$T/version"); $(grep "FUSE over io_uring" "$T/version" | tr -s ' ')"
}

# README's quick start, as written there, with a scratch directory for
# /mnt, in a fresh copy of the source: once with sudo (a stand-in that
# runs the command, recording it), once without (where sudo is installed,
# it is hidden in a mount namespace of the test's own).
test_quickstart() {
	command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
	scratch quickstart
	local pass src pid dir cmd said
	awk '/^## /{on = $0 == "## Quick start"} on && /^```sh$/{code=1; next} on && /^```$/{code=0} on && code' \
		"$ROOT/README.md" >"$T/block"
	grep -q "fuseuring" "$T/block" && grep -q "mkfs" "$T/block" || fail "no quick start in README.md: $(cat "$T/block")"
	grep -q "/mnt/" "$T/block" || fail "the quick start does not use /mnt"
	sed "s|/mnt/|$T/m/|g" "$T/block" >"$T/block.sh"
	mkdir -p "$T/bin" && printf '#!/bin/sh\necho "$*" >>"%s/sudo.log"\nexec "$@"\n' "$T" >"$T/bin/sudo"
	chmod +x "$T/bin/sudo"
	for pass in with-sudo without-sudo; do
		src=$T/$pass
		mkdir "$src"
		(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - 2>/dev/null) |
			tar -xf - -C "$src" || fail "copying the source"
		defer "umount -l '$T/m/data'"
		defer "losetup -nO NAME,BACK-FILE | awk -v p='$T/m/fu/' 'index(\$2, p) == 1 {print \$1}' | xargs -rn1 losetup -d"
		defer "stop_processes_of '$T/m/fu'"
		defer "umount -l '$T/m/fu'"
		if [ $pass = with-sudo ]; then
			(cd "$src" && PATH=$T/bin:$PATH bash -e "$T/block.sh") >"$T/$pass.out" 2>&1
		elif command -v sudo >/dev/null; then
			# every command of PATH but sudo
			mkdir "$T/nosudo"
			for dir in ${PATH//:/ }; do
				for cmd in "$dir"/*; do
					[ -x "$cmd" ] && [ "${cmd##*/}" != sudo ] && [ ! -e "$T/nosudo/${cmd##*/}" ] &&
						ln -s "$cmd" "$T/nosudo/${cmd##*/}"
				done
			done
			(cd "$src" && PATH=$T/nosudo bash -e "$T/block.sh") >"$T/$pass.out" 2>&1
		else
			(cd "$src" && bash -e "$T/block.sh") >"$T/$pass.out" 2>&1
		fi || fail "README's quick start $pass: $(tail -15 "$T/$pass.out")"
		grep -q "^fuseuring: serving $src/disk.img at $T/m/fu/volume" "$T/$pass.out" ||
			fail "$pass: no serving line: $(cat "$T/$pass.out")"
		# the line README shows is the line it prints
		said=$(tr '\n' ' ' <"$ROOT/README.md" | grep -o 'at /mnt/fu/volume: transport [a-z]* (auto:' | head -1)
		[ -n "$said" ] || fail "README's quick start shows no serving line"
		grep -q "${said#at /mnt/fu/volume: }" "$T/$pass.out" ||
			fail "$pass: README says '$said': $(cat "$T/$pass.out")"
		mountpoint -q "$T/m/fu" && fail "$pass: still mounted"
		for pid in $(processes_of "$T/m/fu"); do
			wait_until 10 dead "$pid" || fail "$pass: the daemon did not exit after umount"
		done
		rm -rf "$T/m"
	done
	grep -q "fuseuring -o size=1G disk.img $T/m/fu" "$T/sudo.log" || fail "sudo was not used: $(cat "$T/sudo.log" 2>/dev/null)"
	echo "README's quick start ran as written, with and without sudo"
}

# --- tests: the lifecycle's ways in and out (issue 18) ---------------------------

# sigterm_leaves_no_mount PID MNT: SIGTERM ends the daemon and takes its
# mount at MNT away.
sigterm_leaves_no_mount() {
	kill -TERM "$1"
	wait_until 10 dead "$1" || fail "SIGTERM did not end the daemon"
	mountpoint -q "$2" && fail "SIGTERM left the mount at $2"
	return 0
}

# MOUNTPOINT through a symlink (/var/run is one to /run on Debian): served,
# and every way out takes the mount away, also a start that fails after
# mounting; a dead mount there is recovered.  mountinfo shows the resolved
# path, so our mount is known by its ID, not by the text typed.
test_symlink_mountpoint() {
	scratch symlink
	local pid out
	mkdir "$T/real"
	ln -s real "$T/link"
	defer "umount -l '$T/real'"
	"$FUSEURING" -o size=64M,pidfile="$T/pid" "$T/new.img" "$T/link" 2>"$T/log" ||
		fail "MOUNTPOINT through a symlink: $(cat "$T/log")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	grep -q "serving $T/new.img at $T/real/volume" "$T/log" || fail "start line: $(cat "$T/log")"
	vio fill "$T/link/volume" 0 $((1 << 20)) 61 direct || fail "write through the link"
	vio check "$T/new.img" 0 $((1 << 20)) 61 || fail "BACKING"
	sigterm_leaves_no_mount "$pid" "$T/real"
	# a start that fails after mounting takes its mount, and its new BACKING, away
	mkfifo "$T/fifo"
	out=$("$FUSEURING" -o size=64M,pidfile="$T/fifo" "$T/new2.img" "$T/link" 2>&1) &&
		fail "a FIFO as pidfile was taken"
	echo "$out" | grep -q "pidfile $T/fifo: not a regular file" || fail "the failure: $out"
	mountpoint -q "$T/real" && fail "a failed start left a mount at $T/real"
	[ -e "$T/new2.img" ] && fail "a failed start left its new BACKING"
	# a server killed there leaves a dead mount; -o recover takes it away
	"$FUSEURING" -f "$T/new.img" "$T/link" 2>"$T/log" &
	pid=$!
	defer "stop_pid $pid"
	wait_until 10 grep -q serving "$T/log" || fail "did not start: $(cat "$T/log")"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	out=$("$FUSEURING" "$T/new.img" "$T/link" 2>&1) && fail "started over a dead mount"
	echo "$out" | grep -q "a FUSE mount whose server died is still there" || fail "dead mount: $out"
	"$FUSEURING" -o recover,pidfile="$T/pid" "$T/new.img" "$T/link" 2>"$T/log" ||
		fail "-o recover through a symlink: $(cat "$T/log")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	vio check "$T/link/volume" 0 $((1 << 20)) 61 || fail "the volume after -o recover"
	umount "$T/link" || fail "umount through the link"
	wait_until 10 dead "$pid" || fail "umount did not end the daemon"
	mountpoint -q "$T/real" && fail "left a mount"
	echo "served through a symlink; SIGTERM, a failed start, SIGKILL + -o recover, umount: no mount left"
}

# A BACKING path longer than fsconfig takes (255 bytes): root mounts with
# mount(2) instead, onto the checked directory through /proc/self/fd, and
# the mount is as well known and as well taken away.
test_long_backing_path() {
	scratch longpath
	local dir=$T pid
	while [ ${#dir} -lt 300 ]; do dir=$dir/a-directory-name-of-forty-characters-xxxx; done
	mkdir -p "$dir"
	make_backing "$dir/back" 8M
	defer "umount -l '$T/mnt'"
	"$FUSEURING" -o pidfile="$T/pid" "$dir/back" "$T/mnt" 2>"$T/log" || fail "fuseuring: $(cat "$T/log")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	grep -q " $T/mnt fuse.fuseuring " /proc/mounts || fail "not mounted"
	grep -q "$dir/back" /proc/self/mountinfo || fail "mountinfo does not name BACKING"
	vio fill "$T/mnt/volume" 0 $((1 << 20)) 67 direct || fail "write"
	vio check "$dir/back" 0 $((1 << 20)) 67 || fail "BACKING"
	sigterm_leaves_no_mount "$pid" "$T/mnt"
	echo "BACKING's path of ${#dir} bytes: mount(2) through /proc/self/fd, unmounted on SIGTERM"
}

# Root mounts with the new mount API, onto the descriptor of the directory
# it checked (move_mount), not by path a second time.
test_mount_by_descriptor() {
	command -v strace >/dev/null || skip "needs strace"
	scratch mountfd
	make_backing "$T/back" 8M
	defer "umount -l '$T/mnt'"
	strace -f -qq -o "$T/trace" -e trace=mount,fsopen,fsmount,move_mount \
		"$FUSEURING" -f "$T/back" "$T/mnt" 2>"$T/log" &
	DPID=$!
	defer "stop_pid $DPID"
	wait_until 20 served_or_dead || fail "fuseuring did not start: $(cat "$T/log")"
	umount "$T/mnt" || fail "umount"
	wait_until 10 dead "$DPID" || fail "umount did not end the daemon"
	grep -q 'move_mount([0-9]*, "", [0-9]*, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH) = 0' "$T/trace" ||
		fail "no move_mount onto a descriptor: $(cat "$T/trace")"
	grep -q '^[0-9]* *mount(' "$T/trace" && fail "mounted by path: $(grep 'mount(' "$T/trace")"
	echo "fsopen, fsmount, move_mount onto the checked directory"
}

# make install, for real: whatis and apropos find it where Debian looks
# (/usr/local/man and /usr/local/share/man are one directory with two
# indexes); make uninstall takes it away again.
test_whatis_installed() {
	command -v mandb >/dev/null || skip "needs man-db"
	[ -e /usr/local/bin/fuseuring ] && skip "a fuseuring is installed in /usr/local already"
	scratch whatis
	defer "make -s -C '$ROOT' uninstall >/dev/null 2>&1"
	make -s -C "$ROOT" install >/dev/null || fail "make install"
	whatis fuseuring 2>&1 | grep -q "^fuseuring (1)" || fail "whatis fuseuring: $(whatis fuseuring 2>&1)"
	apropos io_uring 2>&1 | grep -q "^fuseuring (1)" || fail "apropos io_uring: $(apropos io_uring 2>&1)"
	whatis mount.fuseuring 2>&1 | grep -q "^mount.fuseuring (8)" || fail "whatis mount.fuseuring"
	make -s -C "$ROOT" uninstall >/dev/null || fail "make uninstall"
	whatis fuseuring >/dev/null 2>&1 && fail "whatis still finds it after make uninstall"
	echo "whatis and apropos find the installed man pages; uninstall removes them"
}

# README says gcc or clang: both build a static binary that runs.
test_clang_build() {
	command -v clang >/dev/null || skip "needs clang"
	scratch clang
	(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - 2>/dev/null) |
		tar -xf - -C "$T" || fail "copying the source"
	make -s -C "$T" CC=clang >"$T/build.log" 2>&1 || fail "make CC=clang: $(tail -20 "$T/build.log")"
	[ -s "$T/build.log" ] && fail "make CC=clang warned: $(head -20 "$T/build.log")"
	readelf -l "$T/fuseuring" | grep -q INTERP && fail "the clang build is not static"
	"$T/fuseuring" -V | grep -q "^fuseuring " || fail "the clang build does not run"
	echo "make CC=clang: a static binary of $(stat -c %s "$T/fuseuring") bytes"
}

# A remount changes what was asked (ro/rw, exec) and keeps the atime mode:
# strictatime with nodiratime used to come back as relatime.
test_remount_keeps_atime() {
	scratch atime
	local mode opts
	make_backing "$T/back" 8M
	start_fuseuring "$T/back" "$T/mnt"
	for mode in strictatime,nodiratime relatime noatime strictatime; do
		mount -o "remount,bind,$mode" "$T/mnt" || fail "mount -o remount,bind,$mode"
		"$FUSEURING" "$T/back" "$T/mnt" -o remount,ro || fail "remount,ro with $mode"
		opts=$(awk -v m="$T/mnt" '$5 == m {print $6}' /proc/self/mountinfo)
		case $mode in
		strictatime*) [[ ,$opts, != *,relatime,* && ,$opts, != *,noatime,* ]] ;;
		*) [[ ,$opts, = *,$mode,* ]] ;;
		esac || fail "$mode became $opts"
		[[ $opts = ro,* ]] || fail "remount,ro with $mode: $opts"
		"$FUSEURING" "$T/back" "$T/mnt" -o remount,rw || fail "remount,rw with $mode"
	done
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	echo "strictatime (with and without nodiratime), relatime, noatime: kept by remount"
}

# exit_route WHO ROUTE: start a daemon in the foreground as WHO (root or
# the user games), end it by ROUTE and check its exit status and that no
# mount is left.
exit_route() {
	local who=$1 route=$2 pid conn tid status want=0 as=()
	local mnt=$T/$who-$route
	mkdir "$mnt"
	make_backing "$mnt.img" 16M
	# as as_user, but a program: $! must be the daemon itself
	[ "$who" = user ] && as=(setpriv --reuid=5 --regid=60 --clear-groups --) &&
		chown 5:60 "$mnt" "$mnt.img"
	defer "umount -l '$mnt'"
	"${as[@]}" "$FUSEURING" -f "$mnt.img" "$mnt" 2>"$mnt.log" &
	pid=$!
	defer "stop_pid $pid"
	wait_until 20 grep -q serving "$mnt.log" || fail "$who: did not start: $(cat "$mnt.log")"
	"${as[@]}" "$WORK/volume_io" fill "$mnt/volume" 0 $((1 << 20)) 57 direct || fail "$who: write"
	conn=$(fuse_conn "$mnt")
	case $route in
	signal)	kill -TERM "$pid" ;;
	umount)	if [ "$who" = user ]; then as_user fusermount3 -u "$mnt"; else umount "$mnt"; fi ||
			fail "$who: unmounting by hand" ;;
	abort)	echo 1 >"$conn/abort" || fail "$who: abort"
		want=1 ;;
	signal+abort)
		kill -TERM "$pid"; echo 1 >"$conn/abort"
		want=any ;;
	failed-queue)
		# a queue's io_uring_enter fails for good (strace injects the
		# error into the shipped binary's worker thread)
		tid=$(ls "/proc/$pid/task" | grep -vx "$pid" | head -1)
		timeout 20 strace -qq -p "$tid" -e trace=io_uring_enter \
			-e inject=io_uring_enter:error=EBADF:when=1 -o /dev/null &
		want=1 ;;
	esac
	wait_until 15 dead "$pid" || fail "$who, $route: the daemon is still running"
	wait "$pid"
	status=$?
	[ "$want" = any ] || [ "$status" = "$want" ] ||
		fail "$who, $route: exit status $status, want $want: $(cat "$mnt.log")"
	grep -q " $mnt " /proc/self/mountinfo && fail "$who, $route: a mount is left: $(grep " $mnt " /proc/self/mountinfo)"
	vio check "$mnt.img" 0 $((1 << 20)) 57 || fail "$who, $route: BACKING"
	return 0
}

# Every way out of the shipped binary, as root and as an ordinary user,
# leaves no mount: a signal, an unmount by hand, an aborted connection,
# a signal and an abort at once, a queue that fails.  (The unprivileged
# unmount runs fusermount3 from whichever thread notices.)
test_exit_routes() {
	command -v strace >/dev/null || skip "needs strace"
	scratch exits
	user_ok
	local who route
	fusectl_ready || skip "cannot mount fusectl on $FUSECTL"
	for who in root user; do
		for route in signal umount abort signal+abort failed-queue; do
			exit_route "$who" "$route"
		done
	done
	echo "root and user: signal, umount, abort, both at once, a failed queue: no mount left"
}

# --- running -------------------------------------------------------------------

ONCE_TESTS=(check static_binary bad_input transport_choice uring_unknown_cpus access_control
	fd_hygiene pidfile mount_helper unprivileged systemd_notify logging install aarch64 fuzz
	size_option sigint_sighup backing_lock memlock_shared crash_restart start_line
	log_destinations option_hints failed_start_cleanup remount small_things quickstart
	symlink_mountpoint mount_by_descriptor exit_routes whatis_installed clang_build
	remount_keeps_atime long_backing_path)
TRANSPORT_TESTS=(volume_attrs random_io ext4_on_loop fio_verify_odd_depth
	fsync_reaches_backing discard seek_large read_only detach umount_ends_daemon
	abort_ends_daemon sigterm_with_loop enospc enospc_partial concurrent_writers
	kill9_midwrite sigterm_under_load file_mountpoint resize block_backing
	backing_resized_elsewhere max_write queues_depth soak)
URING_TESTS=(uring_in_use)
# On the sanitizer build (make sanitize), which also injects faults.
SANITIZER_TESTS=(random_io ext4_on_loop discard enospc concurrent_writers
	sigterm_with_loop kill9_midwrite backing_eio backing_eio_partial without_multishot)
PASSTHROUGH_TESTS=(passthrough_bypasses_daemon passthrough_size_follows)

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
