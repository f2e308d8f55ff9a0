# SPDX-License-Identifier: MIT
# tests/e2e-data.sh - data integrity and filesystems (sourced by test.sh).
#
# What is written through the volume is what BACKING holds and what reads
# give back: random I/O against a model, ext4 and fio's verify over a loop
# device, concurrent writers, fsync and fdatasync reaching BACKING's
# storage, discard, holes and SEEK_DATA/SEEK_HOLE, a read-only volume; and
# the volume's size and attributes: -o size=, -o resize, BACKING resized
# by someone else, a block device as BACKING.

ONCE_TESTS+=(size_option)
TRANSPORT_TESTS+=(volume_attrs random_io ext4_on_loop fio_verify_odd_depth fsync_reaches_backing
	discard seek_large read_only concurrent_writers resize block_backing backing_resized_elsewhere)
# BACKING a block device: passthrough takes regular files only
NOT_PASSTHROUGH_TESTS+=(fsync_reaches_backing block_backing)
SANITIZER_TESTS+=(random_io ext4_on_loop discard concurrent_writers)

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
# 128 at a time, far more than the daemon's odd depths take at once; and
# 1 MiB requests alone, whose READs the page cache answers (dev).
test_fio_verify_odd_depth() {
	command -v fio >/dev/null || skip "needs fio"
	local opts seed sizes
	for opts in depth=15,queues=2/4k-1m depth=7,queues=3/4k-1m depth=16/1m-1m; do
		sizes=${opts#*/}
		opts=${opts%/*}
		scratch fio
		seed=$RANDOM
		make_backing "$T/back" 256M
		start_fuseuring -o "$opts" "$T/back" "$T/mnt"
		new_loop "$T/mnt/volume"
		timeout 60 fio --name=verify --filename="$LOOP" --ioengine=io_uring --direct=1 \
			--rw=randwrite --bsrange="$sizes" --iodepth=128 --size=256M --randseed=$seed \
			--verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 --output="$T/fio" >/dev/null 2>&1 ||
			fail "fio with -o $opts, --bsrange=$sizes --randseed=$seed: $(grep -iE 'error|verify|bad|crc' "$T/fio" | head -5)"
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
	# the device grows (losetup -c): the volume follows
	truncate -s 64M "$T/disk" && losetup -c "$dev" || fail "growing $dev"
	wait_until 5 size_is "$T/mnt/volume" $((64 << 20)) ||
		fail "the volume stays at $(stat -c %s "$T/mnt/volume") bytes after $dev grew to 64 MiB"
	vio fill "$T/mnt/volume" $((60 << 20)) $((1 << 20)) 68 direct || fail "a write where the device grew"
	vio check "$T/disk" $((60 << 20)) $((1 << 20)) 68 || fail "BACKING where the device grew"
	echo "one block read 200 times: aligned $aligned device reads, unaligned $unaligned; grown with losetup -c"
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
