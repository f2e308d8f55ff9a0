# SPDX-License-Identifier: MIT
# tests/e2e-faults.sh - faults, crashes, fuzzing and soaking (sourced by
# test.sh).
#
# What goes wrong underneath: BACKING full (ENOSPC, also in the middle of
# a WRITE), BACKING failing (EIO, whole or part of a transfer, injected by
# the sanitizer build), the daemon killed -9 or stopped under load; the
# request parser under libFuzzer; and a long mixed load (tests/soak.sh).

ONCE_TESTS+=(fuzz)
TRANSPORT_TESTS+=(enospc enospc_partial kill9_midwrite sigterm_under_load soak)
# how the daemon answers a BACKING that fills up in the middle of a WRITE:
# with passthrough the kernel writes BACKING itself
NOT_PASSTHROUGH_TESTS+=(enospc_partial)
SANITIZER_TESTS+=(enospc kill9_midwrite backing_eio backing_eio_partial)

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

# The request parser and every opcode handler under libFuzzer for
# FUZZ_SECONDS (default 30), from the seed corpus in tests/corpus.
test_fuzz() {
	command -v clang >/dev/null || skip "needs clang and libclang-rt-14-dev"
	[ -e "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] ||
		[ "$(uname -m)" != x86_64 ] || skip "needs libFuzzer (libclang-rt-14-dev)"
	make -s -j"$(nproc)" -C "$ROOT" fuzz >"$WORK/fuzz-build" 2>&1 || fail "make fuzz: $(tail -5 "$WORK/fuzz-build")"
	# every target, FUZZ_SECONDS shared among them; a failing input stays
	# in its corpus, for make check (tests/fuzz.sh)
	make -s -C "$ROOT" fuzz-run FUZZ_TOTAL_SECONDS="${FUZZ_SECONDS:-30}" >"$WORK/fuzz.log" 2>&1 ||
		fail "the fuzzers found a failure: $(tail -40 "$WORK/fuzz.log")"
	grep '^fuzz ' "$WORK/fuzz.log" | tr '\n' ';'
}

# tests/soak.sh on the pass's transport: SOAK_SECONDS (default 15; 6 with
# passthrough, where the daemon serves no data).
test_soak() {
	command -v fio >/dev/null || skip "needs fio"
	local secs=${SOAK_SECONDS:-15}
	passthrough_pass && secs=${SOAK_SECONDS:-6}
	FUSEURING="$FUSEURING" FUSEURING_OPTS="${MODE_OPTS[1]#-o }" "$ROOT/tests/soak.sh" "$secs" ||
		fail "soak failed"
}
