# SPDX-License-Identifier: MIT
# tests/e2e-transports.sh - transports and queues (sourced by test.sh).
#
# How requests travel: which transport auto chooses and why, and what
# transport= refuses; FUSE over io_uring really in use, and without a
# CPU count; /dev/fuse read without READ_MULTISHOT (kernels before 6.7);
# passthrough, where the kernel moves the data itself; and the sizes the
# queues are given: max_write, queues=, depth=, the kernel's
# max_background.

ONCE_TESTS+=(transport_choice uring_unknown_cpus cached_reads cache_mapping)
TRANSPORT_TESTS+=(max_write queues_depth)
URING_TESTS+=(uring_in_use)
SANITIZER_TESTS+=(without_multishot)
PASSTHROUGH_TESTS+=(passthrough_bypasses_daemon passthrough_size_follows)

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

# cpus_listed possible|online: how many CPUs /sys lists ("0-3,8" is 5)
cpus_listed() {
	awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); c += n == 2 ? r[2] - r[1] + 1 : 1 } }
		END { print c }' "/sys/devices/system/cpu/$1"
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

# The dev transport answers a READ that BACKING's page cache holds whole
# straight from a mapping of BACKING (one copy instead of two): the bytes
# are BACKING's, it asks mincore first (seen with strace), and a READ of
# holes does not fill them (tmpfs would allocate a page for a fault).
test_cached_reads() {
	command -v strace >/dev/null || skip "needs strace"
	scratch cached
	local blocks tracer
	mkdir "$T/tmpfs"
	mount -t tmpfs -o size=128M tmpfs "$T/tmpfs" || fail "tmpfs"
	defer "umount -l '$T/tmpfs'"
	make_backing "$T/tmpfs/back" 64M
	vio fill "$T/tmpfs/back" 0 $((16 << 20)) 71 || fail "fill"
	blocks=$(stat -c %b "$T/tmpfs/back")
	MODE_OPTS=(-o transport=dev)
	start_fuseuring "$T/tmpfs/back" "$T/mnt"
	strace -qq -f -p "$DPID" -e trace=mincore -o "$T/mincore" &
	tracer=$!
	defer "kill $tracer"
	wait_until 10 every_thread_traced "$DPID" || fail "strace did not attach"
	dd if="$T/mnt/volume" iflag=direct bs=1M count=16 of="$T/direct" status=none ||
		fail "O_DIRECT reads of 1 MiB"
	vio check "$T/direct" 0 $((16 << 20)) 71 || fail "O_DIRECT reads of 1 MiB: not BACKING's bytes"
	cmp "$T/mnt/volume" "$T/tmpfs/back" || fail "buffered reads of the whole volume"
	[ "$(stat -c %b "$T/tmpfs/back")" = "$blocks" ] ||
		fail "reading the volume filled holes of BACKING: $blocks blocks, now $(stat -c %b "$T/tmpfs/back")"
	stop_fuseuring "$T/mnt" || fail "exit status $?"
	wait "$tracer"
	grep -q '^[0-9]* *mincore(' "$T/mincore" || fail "no READ asked the page cache (no mincore)"
	echo "$(grep -c 'mincore(' "$T/mincore") READs asked the page cache; BACKING's bytes, its holes left empty"
}

vm_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# BACKING's mapping, which the dev transport answers large READs from
# (the daemon's RSS grows by the pages the kernel copied from it): not
# made where mincore would lie (a user's -o ro of root's file: every page
# "cached", so every large READ would fault BACKING in inside a queue);
# and a BACKING shrunk by someone else to inside a page never gets that
# page's zeros past its new end sent.
test_cache_mapping() {
	scratch cachemap
	user_ok
	local base used grew upid off new got
	mkdir "$T/tmpfs" "$T/umnt"
	mount -t tmpfs -o size=64M tmpfs "$T/tmpfs" || fail "tmpfs"
	defer "umount -l '$T/tmpfs'"
	make_backing "$T/tmpfs/back" 16M
	vio fill "$T/tmpfs/back" 0 $((16 << 20)) 73 || fail "fill"
	MODE_OPTS=(-o transport=dev)
	start_fuseuring "$T/tmpfs/back" "$T/mnt"
	base=$(vm_rss "$DPID")
	dd if="$T/mnt/volume" iflag=direct bs=1M count=8 of=/dev/null status=none || fail "8 MiB"
	used=$(($(vm_rss "$DPID") - base))
	[ "$used" -ge 4096 ] || fail "8 MiB from the page cache, and the daemon's RSS grew by $used KiB: no reply from the mapping"
	stop_fuseuring "$T/mnt" || fail "exit status $?"

	chmod 644 "$T/tmpfs/back"
	chown 5:60 "$T/umnt"
	# (setpriv itself, not as_user: $! must be the daemon, not a subshell)
	setpriv --reuid=5 --regid=60 --clear-groups -- \
		"$FUSEURING" -f -o ro,transport=dev "$T/tmpfs/back" "$T/umnt" 2>"$T/ulog" </dev/null &
	upid=$!
	defer "stop_pid $upid"
	defer "umount -l '$T/umnt'"
	wait_until 20 grep -q '^fuseuring: serving' "$T/ulog" || fail "as a user, -o ro: $(cat "$T/ulog")"
	base=$(vm_rss "$upid")
	as_user dd if="$T/umnt/volume" iflag=direct bs=1M count=8 of=/dev/null status=none || fail "8 MiB as a user"
	grew=$(($(vm_rss "$upid") - base))
	[ "$grew" -lt 2048 ] ||
		fail "a user's -o ro of root's BACKING: the daemon's RSS grew by $grew KiB, so it mapped BACKING, whose mincore lies to it"
	umount "$T/umnt" && wait_until 10 dead "$upid" || fail "the user's daemon did not end"

	make_backing "$T/tmpfs/small" $(((10 << 20) + 3000))
	vio fill "$T/tmpfs/small" 0 $(((10 << 20) + 3000)) 74 || fail "fill"
	start_fuseuring "$T/tmpfs/small" "$T/mnt"
	stat -c %s "$T/mnt/volume" >/dev/null
	new=$(((10 << 20) + 1000))
	off=$(((10 << 20) - (124 << 10)))
	truncate -s "$new" "$T/tmpfs/small"
	got=$(vio read-once "$T/mnt/volume" "$off" $((128 << 10)) direct)
	# (EIO, as a READ_FIXED that meets the end.  A short read would mean
	# the kernel knew the new size already, and the check went untried.)
	[ "$got" = EIO ] ||
		fail "a READ across BACKING's new end (shrunk elsewhere to inside a page, $((new - off)) bytes there): $got"

	stop_fuseuring "$T/mnt" || fail "exit status $?"
	echo "the mapping used as root (RSS +$used KiB), not where mincore lies; no byte past BACKING's end ($got)"
}
