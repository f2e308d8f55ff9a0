# SPDX-License-Identifier: MIT
# tests/e2e-mounts.sh - our mount, found and taken away (sourced by test.sh).
#
# Our mount is known by its tag and ID, never by the text of a path: a
# rename while mount(2) runs, two servers started on one MOUNTPOINT at
# once, another mount on top of ours, an unmount that fusermount3 cannot
# do yet, a mountinfo line over 12 KiB.  And what a start guards against
# or leaves: descriptors 0-2 closed, messages over 1 KiB, the pidfile and
# the log in the wrong place, paths that lead elsewhere by the time they
# are used, a child killed while starting, the advice after a crash with a
# filesystem still mounted from a loop device on the volume.

ONCE_TESTS+=(long_messages closed_std_fds pidfile_places paths_from_descriptors
	mount_identity same_pid_mounts planted_tag covered_mount covered_while_unmounting
	bind_copies unmount_retry
	long_mountpoint killed_while_starting interrupted_start stuck_start crash_advice)


# The formatter once spun forever on a message longer than its buffer
# with text after a %s: SIGTERM with a long MOUNTPOINT, a start with a
# long missing BACKING.
test_long_messages() {
	scratch longmsg
	local dir=$T/m out status
	while [ ${#dir} -lt 1100 ]; do dir=$dir/a-directory-name-of-forty-characters-xxxx; done
	mkdir -p "$dir"
	make_backing "$T/back" 8M
	"$FUSEURING" -f "$T/back" "$dir" 2>"$T/log" &
	DPID=$!
	defer "stop_pid $DPID"
	defer "umount -l '$dir'"
	wait_until 20 served_or_dead || fail "did not start: $(cat "$T/log")"
	alive "$DPID" || fail "exited: $(cat "$T/log")"
	kill -TERM "$DPID"
	wait_until 10 dead "$DPID" || fail "SIGTERM with a MOUNTPOINT of ${#dir} bytes: still running (spinning?)"
	wait "$DPID" || fail "exit status $?"
	grep -q "^fuseuring: SIGTERM: unmounting /" "$T/log" || fail "no SIGTERM line: $(cat "$T/log")"
	mountpoint -q "$dir" && fail "SIGTERM left the mount"
	out=$(timeout 10 "$FUSEURING" -f "$dir/missing.img" "$T/mnt" 2>&1)
	status=$?
	[ "$status" = 1 ] || fail "a missing BACKING of ${#dir} bytes: exit $status, want 1 (124: it hung)"
	echo "$out" | grep -q "^fuseuring: /.*" || fail "no message: $out"
	echo "messages of over 1 KiB: SIGTERM line said, the start refused, nothing hung"
}

# Started with 0, 1 and 2 closed, the next descriptors opened once took
# their numbers: log lines went into BACKING.
test_closed_std_fds() {
	scratch closedfds
	local pid
	mkdir "$T/m2"
	defer "umount -l '$T/mnt'"
	defer "umount -l '$T/m2'"
	"$FUSEURING" -f -o size=1M "$T/z.img" "$T/mnt" 0<&- 1>&- 2>&- &
	pid=$!
	defer "stop_pid $pid"
	wait_until 20 test -e "$T/mnt/volume" || fail "-f with 0-2 closed: no volume"
	[ "$(stat -c %s "$T/mnt/volume")" = $((1 << 20)) ] || fail "-f: volume of $(stat -c %s "$T/mnt/volume") bytes"
	vio fill "$T/mnt/volume" 0 $((512 << 10)) 41 direct || fail "-f: write"
	kill -TERM "$pid"
	wait_until 10 dead "$pid" || fail "-f: SIGTERM did not end it"
	vio check "$T/z.img" 0 $((512 << 10)) 41 || fail "-f: BACKING lost what was written"
	grep -qa "fuseuring" "$T/z.img" && fail "-f: log lines were written into BACKING"
	"$FUSEURING" -o size=1M,pidfile="$T/pid" "$T/y.img" "$T/m2" 0<&- 1>&- 2>&- ||
		fail "detached with 0-2 closed: exit $?"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	[ "$(stat -c %s "$T/m2/volume")" = $((1 << 20)) ] || fail "detached: volume of $(stat -c %s "$T/m2/volume") bytes"
	vio fill "$T/m2/volume" 0 $((512 << 10)) 43 direct || fail "detached: write"
	vio check "$T/y.img" 0 $((512 << 10)) 43 || fail "detached: BACKING"
	sigterm_leaves_no_mount "$pid" "$T/m2"
	grep -qa "fuseuring" "$T/y.img" && fail "detached: log lines were written into BACKING"
	echo "0, 1 and 2 closed, in the foreground and detached: BACKING holds only what was written"
}

# The pidfile: written before mounting, never under MOUNTPOINT, never
# BACKING or MOUNTPOINT itself (nor the log); two servers given one.
test_pidfile_places() {
	scratch pidplaces
	local sum out status p1 p2
	make_backing "$T/back" 8M
	make_backing "$T/back2" 8M
	vio fill "$T/back" 0 $((1 << 20)) 47 || fail "fill"
	sum=$(md5sum <"$T/back")
	defer "umount -l '$T/mnt'"
	out=$(timeout 10 "$FUSEURING" -o pidfile="$T/mnt/pid" "$T/back" "$T/mnt" 2>&1 </dev/null)
	status=$?
	[ "$status" = 1 ] || fail "a pidfile under MOUNTPOINT: exit $status, want 1 (124: it hung): $out"
	echo "$out" | grep -q "pidfile $T/mnt/pid: lies inside MOUNTPOINT" || fail "under MOUNTPOINT: $out"
	expect_failure 1 "pidfile $T/back: is BACKING itself" -o pidfile="$T/back" "$T/back" "$T/mnt"
	expect_failure 1 "-o log $T/back: is BACKING itself" -o log="$T/back" "$T/back" "$T/mnt"
	[ "$(md5sum <"$T/back")" = "$sum" ] || fail "BACKING changed"
	mountpoint -q "$T/mnt" && fail "a refused start left a mount"
	# two servers, one pidfile: the first one's exit leaves the second's
	mkdir "$T/m2"
	defer "umount -l '$T/m2'"
	"$FUSEURING" -o pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/log" || fail "first: $(cat "$T/log")"
	p1=$(cat "$T/pid")
	defer "stop_pid $p1"
	"$FUSEURING" -o pidfile="$T/pid" "$T/back2" "$T/m2" 2>"$T/log" || fail "second: $(cat "$T/log")"
	p2=$(cat "$T/pid")
	defer "stop_pid $p2"
	[ "$p1" != "$p2" ] || fail "the second server did not write its pid"
	sigterm_leaves_no_mount "$p1" "$T/mnt"
	[ "$(cat "$T/pid" 2>/dev/null)" = "$p2" ] || fail "the first server's exit took the second's pidfile"
	sigterm_leaves_no_mount "$p2" "$T/m2"
	[ -e "$T/pid" ] && fail "the second server left its pidfile"
	echo "pidfile under MOUNTPOINT and BACKING as pidfile or log refused at once; one pidfile, two servers"
}

# BACKING and MOUNTPOINT are what the descriptors opened, not what the
# text given leads to later: a symlink with "..", a BACKING that is a
# symlink into MOUNTPOINT, an -o ro server's BACKING renamed.
test_paths_from_descriptors() {
	scratch descpaths
	local pid status
	mkdir -p "$T/real/sub" "$T/d"
	ln -s "$T/real/sub" "$T/d/lnk"
	expect_failure 1 "nomnt: No such file" -o size=1M "$T/d/lnk/../new.img" "$T/nomnt"
	[ -e "$T/real/new.img" ] && fail "a failed start left the BACKING it created through lnk/.."
	[ -e "$T/d/new.img" ] && fail "a failed start left a file where the text led"
	make_backing "$T/mnt/inside.img" 8M
	ln -s "$T/mnt/inside.img" "$T/link.img"
	expect_failure 1 "lies inside MOUNTPOINT" "$T/link.img" "$T/mnt"
	rm "$T/mnt/inside.img"
	make_backing "$T/back" 8M
	defer "umount -l '$T/mnt'"
	"$FUSEURING" -o ro,pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/log" || fail "-o ro: $(cat "$T/log")"
	pid=$(cat "$T/pid")
	defer "stop_pid $pid"
	mv "$T/back" "$T/moved" && make_backing "$T/back" 8M
	"$FUSEURING" -o remount,rw x "$T/mnt" 2>"$T/log"
	status=$?
	[ "$status" = 32 ] || fail "remount,rw of an -o ro server whose BACKING was renamed: exit $status, want 32: $(cat "$T/log")"
	grep -q "remount,rw: its server has .* open read-only" "$T/log" || fail "remount,rw: $(cat "$T/log")"
	grep -q " $T/mnt fuse.fuseuring ro," /proc/mounts || fail "not read-only any more"
	sigterm_leaves_no_mount "$pid" "$T/mnt"
	echo "lnk/.. cleaned up where the kernel created it; a symlink into MOUNTPOINT refused; remount,rw refused after a rename"
}

# Our mount is found by its tag, where MOUNTPOINT's directory is: a
# rename while mount(2) runs (BACKING's long path takes that way) does
# not make the filesystem above "ours", and of two servers started on one
# MOUNTPOINT at once, the one that landed on top of the other goes.
test_mount_identity() {
	command -v strace >/dev/null || skip "needs strace"
	scratch identity
	local dir pid status
	dir=$(long_dir) || fail "mkdir"
	mkdir -p "$T/fs"
	make_backing "$dir/back" 8M
	mount -t tmpfs -o size=1M tmpfs "$T/fs" || fail "tmpfs"
	defer "umount -l '$T/fs'"
	mkdir -p "$T/fs/a/m"
	strace -f -qq -o /dev/null -e trace=mount -e inject=mount:delay_exit=1000000 \
		"$FUSEURING" -f -o pidfile="$T/pid" "$dir/back" "$T/fs/a/m" 2>"$T/log" &
	defer "stop_pid $!"
	defer "umount -l '$T/fs/b/m'"
	wait_until 20 grep -q " $T/fs/a/m fuse.fuseuring " /proc/mounts ||
		fail "not mounted: $(cat "$T/log")"
	mv "$T/fs/a" "$T/fs/b" && mkdir -p "$T/fs/a/m" || fail "rename"
	wait_until 20 grep -q serving "$T/log" || fail "did not start: $(cat "$T/log")"
	pid=$(cat "$T/pid")
	grep -q " $T/fs/b/m fuse.fuseuring " /proc/mounts || fail "not at the renamed place"
	kill -TERM "$pid"
	wait_until 10 dead "$pid" || fail "SIGTERM did not end the daemon"
	mountpoint -q "$T/fs" || fail "SIGTERM took the filesystem above MOUNTPOINT away"
	grep -q " $T/fs/b/m fuse.fuseuring " /proc/mounts && fail "our mount is left"
	# two servers at once: the first is held between its checks and its
	# mount, the second mounts meanwhile
	make_backing "$T/b1" 8M
	make_backing "$T/b2" 8M
	defer "umount -l '$T/mnt'"
	strace -f -qq -o /dev/null -e trace=move_mount -e inject=move_mount:delay_enter=1500000 \
		"$FUSEURING" -f -o pidfile="$T/p1" "$T/b1" "$T/mnt" 2>"$T/log1" &
	local first=$!
	defer "stop_pid $first"
	wait_until 10 test -s "$T/p1" || fail "the first server did not start: $(cat "$T/log1")"
	"$FUSEURING" -o pidfile="$T/p2" "$T/b2" "$T/mnt" 2>"$T/log2" || fail "second: $(cat "$T/log2")"
	defer "stop_pid $(cat "$T/p2")"
	wait "$first"
	status=$?
	[ "$status" = 1 ] || fail "the server that landed on top: exit $status, want 1: $(cat "$T/log1")"
	grep -q "changed while mounting" "$T/log1" || fail "the first server's message: $(cat "$T/log1")"
	[ "$(grep -c " $T/mnt fuse.fuseuring " /proc/mounts)" = 1 ] ||
		fail "mounts at $T/mnt: $(grep " $T/mnt " /proc/mounts)"
	grep -q "^$T/b2 $T/mnt fuse.fuseuring " /proc/mounts || fail "not the second server's"
	sigterm_leaves_no_mount "$(cat "$T/p2")" "$T/mnt"
	echo "renamed while mount(2) ran: ours found, the tmpfs above left; two at once: one serves"
}

# A directory under $T whose path is over 300 bytes: a BACKING there takes
# the mount(2) way (fsconfig's source is shorter), which finds our mount
# by its tag.
long_dir() {
	local dir=$T
	while [ ${#dir} -lt 300 ]; do dir=$dir/a-directory-name-of-forty-characters-xxxx; done
	mkdir -p "$dir" && echo "$dir"
}

# Two servers with the same pid (each pid 2 of its own pid namespace, as
# pid reuse also makes them) do not take each other's mount: SIGTERM to
# the second takes away its own mount, neither the first's live one nor
# the dead one a SIGKILLed first left.  Both by fsmount and by mount(2).
test_same_pid_mounts() {
	command -v unshare >/dev/null || skip "needs util-linux unshare"
	scratch samepid
	local dir way kill_first at back first second
	dir=$(long_dir) || fail "mkdir"
	for way in fsmount mount2; do
		back=$T/$way
		[ "$way" = mount2 ] && back=$dir/$way
		make_backing "$back-1" 8M
		make_backing "$back-2" 8M
		mkdir -p "$T/$way/1" "$T/$way/2" "$T/$way/3"
		defer "umount -l '$T/$way/1'; umount -l '$T/$way/2'; umount -l '$T/$way/3'"
		for kill_first in KILL none; do
			at=1
			[ "$kill_first" = none ] && at=3
			first=$(in_pid_namespace "$T/log1" "$back-1" "$T/$way/$at") || fail "first: $first"
			[ "$kill_first" = KILL ] && { kill -KILL "$first"; wait_until 10 dead "$first"; }
			second=$(in_pid_namespace "$T/log2" "$back-2" "$T/$way/2") || fail "second: $second"
			kill -TERM "$second"
			wait_until 10 dead "$second" ||
				fail "$way, first $kill_first: SIGTERM did not end the second: $(cat "$T/log2")"
			grep -q " $T/$way/2 " /proc/self/mountinfo &&
				fail "$way, first $kill_first: the second's mount is left: $(cat "$T/log2")"
			grep -q " $T/$way/$at " /proc/self/mountinfo ||
				fail "$way, first $kill_first: the first's mount was taken away"
			if [ "$kill_first" = none ]; then
				alive "$first" || fail "$way: the first server ended"
				cmp -n 4096 "$back-1" "$T/$way/$at/volume" || fail "$way: the first no longer serves"
				sigterm_leaves_no_mount "$first" "$T/$way/$at"
			fi
		done
	done
	echo "one pid, two servers, by fsmount and by mount(2): SIGTERM took only the second's mount"
}

# in_pid_namespace LOG BACKING MOUNTPOINT: fuseuring -f as pid 2 of a new
# pid namespace (a shell is pid 1); once it serves, its pid out here.
in_pid_namespace() {
	local log=$1 ns pid=
	shift
	unshare -pf --kill-child sh -c '"$0" "$@"; :' "$FUSEURING" -f "$@" >/dev/null 2>"$log" &
	ns=$!
	defer "stop_pid $ns"
	wait_until 20 grep -q serving "$log" || { cat "$log"; return 1; }
	# unshare, its child the shell, the shell's child fuseuring
	pid=$(cat /proc/$ns/task/*/children)
	pid=$(cat /proc/${pid%% *}/task/*/children)
	pid=${pid%% *}
	[ "$(awk '/^NSpid/ {print $3}' "/proc/$pid/status")" = 2 ] ||
		{ echo "pid $pid is not pid 2 in its namespace"; return 1; }
	echo "$pid"
}

# A mount that carries our tag (someone read it from the mount(2) call)
# and is mounted before ours on the same parent, with another user_id
# and its own connection, is not taken for ours: SIGTERM leaves it.
test_planted_tag() {
	command -v strace >/dev/null || skip "needs strace"
	scratch planted
	local dir tag fd pid
	dir=$(long_dir) || fail "mkdir"
	make_backing "$dir/back" 8M
	mkdir -p "$T/planted"
	strace -f -qq -s 1000 -o "$T/trace" -e trace=mount -e inject=mount:delay_enter=1500000 \
		"$FUSEURING" -f -o pidfile="$T/pid" "$dir/back" "$T/mnt" 2>"$T/log" &
	defer "stop_pid $!"
	defer "umount -l '$T/mnt'"
	wait_until 20 grep -qs "max_read=" "$T/trace" || fail "no mount(2): $(cat "$T/log")"
	tag=$(grep -o "max_read=[0-9]*" "$T/trace" | head -1)
	exec {fd}<>/dev/fuse || fail "open /dev/fuse"
	defer "umount -l '$T/planted'"
	mount -i -n --no-canonicalize -t fuse.fuseuring \
		-o "fd=$fd,rootmode=40000,user_id=65534,group_id=65534,$tag" "$dir/back" "$T/planted" ||
		fail "planting a mount with $tag"
	wait_until 20 grep -q serving "$T/log" || fail "did not start: $(cat "$T/log")"
	pid=$(cat "$T/pid")
	kill -TERM "$pid"
	wait_until 10 dead "$pid" || fail "SIGTERM did not end the daemon: $(cat "$T/log")"
	grep -q " $T/planted " /proc/self/mountinfo ||
		fail "SIGTERM took the planted mount away: $(cat "$T/log")"
	grep -q " $T/mnt " /proc/self/mountinfo && fail "our mount is left: $(cat "$T/log")"
	exec {fd}<&-
	echo "a mount with our $tag planted first: ours served, and the only one taken away"
}

# Another mount on top of ours: SIGTERM cannot reach ours, says so, goes
# on serving and tries again; it goes once the other one does.  A second
# signal exits, and says what is left and why.
test_covered_mount() {
	scratch covered
	make_backing "$T/back" 8M
	start_fuseuring "$T/back" "$T/mnt"
	mount -t tmpfs -o size=1M tmpfs "$T/mnt" || fail "tmpfs over the mount"
	defer "umount -l '$T/mnt'"
	kill -TERM "$DPID"
	wait_until 5 grep -q "cannot unmount $T/mnt now (another mount covers it at $T/mnt (tmpfs tmpfs)" "$T/log" ||
		fail "no word of the covering mount: $(cat "$T/log")"
	alive "$DPID" || fail "exited with its mount covered: $(cat "$T/log")"
	umount "$T/mnt" || fail "umount the tmpfs"
	wait_until 10 dead "$DPID" || fail "our mount was not taken away once uncovered: $(cat "$T/log")"
	wait "$DPID" || fail "exit status $?"
	mountpoint -q "$T/mnt" && fail "a mount is left"
	: >"$T/log"
	start_fuseuring "$T/back" "$T/mnt"
	mount -t tmpfs -o size=1M tmpfs "$T/mnt" || fail "tmpfs over the mount"
	kill -TERM "$DPID"
	wait_until 5 grep -q "trying again every second" "$T/log" || fail "$(cat "$T/log")"
	kill -TERM "$DPID"
	wait_until 10 dead "$DPID" || fail "a second signal did not end it"
	wait "$DPID" && fail "exit status 0 with a dead mount left"
	grep -q "our mount stays, dead, answering errors (another mount covers it at $T/mnt (tmpfs tmpfs)" "$T/log" ||
		fail "no word of the mount left: $(cat "$T/log")"
	echo "covered: kept serving, unmounted once uncovered; a second signal said what it left"
}

# umount2 on a descriptor of our mount's root goes down to the topmost
# mount there: one mounted on top of ours between the check and the
# umount2 is the one that goes.  That is seen, said, and ours is taken
# away at the next try.
test_covered_while_unmounting() {
	command -v strace >/dev/null || skip "needs strace"
	scratch downward
	local pid
	make_backing "$T/back" 8M
	strace -f -qq -o "$T/trace" -e trace=umount2 -e inject=umount2:delay_enter=1000000:when=1 \
		"$FUSEURING" -f -o pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/log" &
	defer "stop_pid $!"
	defer "umount -l '$T/mnt'"
	wait_until 20 grep -q serving "$T/log" || fail "did not start: $(cat "$T/log")"
	pid=$(cat "$T/pid")
	kill -TERM "$pid"
	wait_until 10 grep -qs "umount2(" "$T/trace" || fail "no umount2: $(cat "$T/log")"
	mount -t tmpfs -o size=1M tmpfs "$T/mnt" || fail "tmpfs over the mount"
	wait_until 10 grep -q "went instead of ours" "$T/log" ||
		fail "no word of the mount that went instead: $(cat "$T/log")"
	wait_until 10 dead "$pid" || fail "ours was not taken away at the next try: $(cat "$T/log")"
	grep -q " $T/mnt " /proc/self/mountinfo && fail "a mount is left: $(cat "$T/log")"
	echo "a tmpfs put on ours while umount2 waited went instead; ours went at the next try"
}

# A copy of our mount made by mount --bind keeps the volume open after
# SIGTERM took ours away: the daemon says where, serves on, and ends once
# the copy goes.
test_bind_copies() {
	scratch copies
	make_backing "$T/back" 8M
	mkdir "$T/copy"
	start_fuseuring "$T/back" "$T/mnt"
	mount --bind "$T/mnt" "$T/copy" || fail "mount --bind"
	defer "umount -l '$T/copy'"
	kill -TERM "$DPID"
	wait_until 5 grep -q "unmounted; 1 mount --bind copies stay (the first at $T/copy): serving until they go" "$T/log" ||
		fail "no word of the copy: $(cat "$T/log")"
	alive "$DPID" || fail "exited with a copy of its mount left: $(cat "$T/log")"
	cmp -n 4096 "$T/back" "$T/copy/volume" || fail "the copy is not served"
	umount "$T/copy" || fail "umount the copy"
	wait_until 10 dead "$DPID" || fail "the copy went, the daemon stayed: $(cat "$T/log")"
	wait "$DPID" || fail "exit status $?"
	grep -q " $T/\(mnt\|copy\) " /proc/self/mountinfo && fail "a mount is left"
	echo "a bind copy: named after SIGTERM, served until it went"
}

# Unprivileged, the unmount runs fusermount3; where it cannot start
# (RLIMIT_NPROC), SIGTERM says so and tries again until it can.
test_unmount_retry() {
	command -v prlimit >/dev/null || skip "needs util-linux prlimit"
	scratch retry
	user_ok
	local pid limit
	make_backing "$T/back" 8M
	chown 5:60 "$T/back" "$T/mnt"
	defer "umount -l '$T/mnt'"
	# as as_user, but a program: $! must be the daemon itself
	setpriv --reuid=5 --regid=60 --clear-groups -- "$FUSEURING" -f "$T/back" "$T/mnt" 2>"$T/log" &
	pid=$!
	defer "stop_pid $pid"
	wait_until 20 grep -q serving "$T/log" || fail "start: $(cat "$T/log")"
	# (the user lowers its own soft limit: root here may not)
	limit=$(awk '/^Max processes/ {print $3}' "/proc/$pid/limits")
	as_user prlimit --pid "$pid" --nproc=1: || fail "prlimit --nproc=1:"
	kill -TERM "$pid"
	wait_until 10 grep -q "cannot unmount $T/mnt now (.*); trying again every second" "$T/log" ||
		fail "no word of the failed unmount: $(cat "$T/log")"
	alive "$pid" || fail "exited without its mount taken away: $(cat "$T/log")"
	grep -q " $T/mnt fuse.fuseuring " /proc/mounts || fail "the mount went without fusermount3?"
	as_user prlimit --pid "$pid" --nproc="$limit": || fail "prlimit --nproc=$limit:"
	wait_until 10 dead "$pid" || fail "the retries did not take the mount away: $(cat "$T/log")"
	wait "$pid" || fail "exit status $?"
	mountpoint -q "$T/mnt" && fail "a mount is left"
	echo "fusermount3 could not start: said, retried, unmounted once it could"
}

# A MOUNTPOINT whose mountinfo line is over 12 KiB (backslashes and
# spaces print as four bytes each): its mount is still found, by SIGTERM,
# by an aborted connection, and by -o recover after SIGKILL.
test_long_mountpoint() {
	scratch longmnt
	local dir=$T/m part pid conn len
	part=$(printf '\\ %.0s' $(seq 120))	# 240 bytes, each printed as 4
	while [ ${#dir} -lt 3300 ]; do dir=$dir/$part; done
	mkdir -p "$dir"
	make_backing "$T/back" 8M
	defer "umount -l '$dir'"
	"$FUSEURING" -f "$T/back" "$dir" 2>"$T/log" &
	pid=$!
	defer "stop_pid $pid"
	wait_until 20 grep -q serving "$T/log" || fail "did not start: $(cat "$T/log")"
	len=$(grep -F " fuse.fuseuring $T/back " /proc/self/mountinfo | wc -c)
	((len > 12288)) || fail "the mountinfo line is not over 12 KiB: $len bytes"
	vio fill "$dir/volume" 0 $((1 << 20)) 53 direct || fail "write"
	sigterm_leaves_no_mount "$pid" "$dir"
	killed_after_serving "$T/back" "$dir"
	"$FUSEURING" -f -o recover "$T/back" "$dir" 2>"$T/log" &
	pid=$!
	defer "stop_pid $pid"
	wait_until 20 grep -q serving "$T/log" || fail "-o recover: $(cat "$T/log")"
	vio check "$dir/volume" 0 $((1 << 20)) 53 || fail "data after -o recover"
	if fusectl_ready; then
		conn=$(grep -F " fuse.fuseuring $T/back " /proc/self/mountinfo | awk -v c="$FUSECTL" '{split($3, d, ":"); print c "/" d[2]}')
		echo 1 >"$conn/abort" || fail "abort"
		wait_until 10 dead "$pid" || fail "an aborted connection did not end the daemon"
		mountpoint -q "$dir" && fail "an aborted connection left the mount"
	else
		sigterm_leaves_no_mount "$pid" "$dir"
	fi
	echo "a mountinfo line of $len bytes: SIGTERM, SIGKILL + -o recover, abort"
}

# The parent of a detaching daemon that is killed while starting says so,
# and what is left (here its dead mount: -o recover takes it away).
test_killed_while_starting() {
	command -v strace >/dev/null || skip "needs strace"
	scratch killedstart
	local parent child status
	make_backing "$T/back" 8M
	defer "umount -l '$T/mnt'"
	strace -f -qq -o /dev/null -e trace=move_mount -e inject=move_mount:delay_exit=3000000 \
		"$FUSEURING" -o pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/log" &
	parent=$!
	defer "stop_pid $parent"
	wait_until 10 grep -q " $T/mnt fuse.fuseuring " /proc/mounts || fail "not mounted: $(cat "$T/log")"
	child=$(cat "$T/pid")
	kill -KILL "$child"
	wait "$parent"
	status=$?
	[ "$status" = 1 ] || fail "the parent: exit $status, want 1: $(cat "$T/log")"
	grep -q "the daemon (pid $child) was killed by signal 9 while starting; its dead mount is left at $T/mnt: start again with -o recover" "$T/log" ||
		fail "the parent said: $(cat "$T/log")"
	"$FUSEURING" -o recover,pidfile="$T/pid" "$T/back" "$T/mnt" 2>"$T/log" || fail "-o recover: $(cat "$T/log")"
	sigterm_leaves_no_mount "$(cat "$T/pid")" "$T/mnt"
	echo "killed while starting: the parent named the signal and the dead mount; -o recover took it"
}

# SIGTERM to a start that has made something (here: created BACKING, and
# takes its lock, held up) waits, blocked.  Before the fork (a child
# would not inherit it): the start fails, and takes its BACKING away.
# After the fork, to the parent: the parent stops the child once it
# serves, waits for it to go, and says so.
test_interrupted_start() {
	command -v strace >/dev/null || skip "needs strace"
	scratch interrupted
	local child status
	defer "umount -l '$T/mnt'"
	defer "[ -s '$T/pid' ] && stop_pid \$(cat '$T/pid')"
	# (strace without -f follows the process started, and ends with it)
	status=$(term_during fcntl -e inject=fcntl:delay_enter=1000000:when=1)
	[ "$status" = 1 ] || fail "before the fork: exit $status, want 1: $(cat "$T/log")"
	grep -q "interrupted while starting" "$T/log" || fail "before the fork: $(cat "$T/log")"
	[ -e "$T/new.img" ] && fail "before the fork: the BACKING it created is left"
	grep -q " $T/mnt " /proc/self/mountinfo && fail "before the fork: a mount is left"
	# after the fork: the child held in move_mount
	status=$(term_during move_mount -f -e inject=move_mount:delay_enter=1000000)
	[ "$status" = 1 ] || fail "after the fork: exit $status, want 1: $(cat "$T/log")"
	grep -q "interrupted while starting; stopping the daemon" "$T/log" ||
		fail "after the fork: the parent said: $(cat "$T/log")"
	child=$(cat "$T/pid" 2>/dev/null)
	[ -z "$child" ] || dead "$child" || fail "after the fork: the daemon serves on"
	grep -q " $T/mnt " /proc/self/mountinfo && fail "after the fork: a mount is left"
	# and at the last moment: while the parent opens the volume
	rm -f "$T/new.img"
	status=$(term_during openat -P "$T/mnt/volume" -e inject=openat:delay_enter=1000000)
	[ "$status" = 1 ] || fail "at the last moment: exit $status, want 1: $(cat "$T/log")"
	grep -q "interrupted while starting; stopping the daemon" "$T/log" ||
		fail "at the last moment: the parent said: $(cat "$T/log")"
	grep -q " $T/mnt " /proc/self/mountinfo && fail "at the last moment: a mount is left"
	echo "SIGTERM before the fork: the start failed, its BACKING gone; after, to the last moment: the child stopped"
}

# term_during SYSCALL STRACE_OPTION...: a start with -o size= under strace
# (SYSCALL traced, the options given), SIGTERM to the process started once
# SYSCALL is entered; its exit status out.
term_during() {
	local syscall=$1 tracer pid
	shift
	strace -qq -o "$T/trace" -e trace="$syscall" "$@" \
		"$FUSEURING" -o size=16M,pidfile="$T/pid" "$T/new.img" "$T/mnt" 2>"$T/log" >/dev/null &
	tracer=$!
	defer "stop_pid $tracer"
	wait_until 10 grep -qs "$syscall(" "$T/trace" || fail "no $syscall: $(cat "$T/log")"
	pid=$(cat /proc/$tracer/task/*/children)
	kill -TERM "${pid%% *}" || fail "no process to signal"
	wait "$tracer"
	echo $?
}

# A start that waits in the kernel on something that does not answer (a
# stopped FUSE server's volume as BACKING, with or without -o size=, as
# MOUNTPOINT, its directory for the pidfile) ends with SIGTERM: it has
# made nothing yet, so the signal's default action may end it.
test_stuck_start() {
	scratch stuck
	local pid status case
	make_backing "$T/back" 8M
	mkdir "$T/mnt2"
	start_fuseuring "$T/back" "$T/mnt"
	kill -STOP "$DPID"
	defer "kill -CONT $DPID"
	for case in "$T/mnt/volume $T/mnt2" "-o size=8M $T/mnt/volume $T/mnt2" \
		    "-o size=8M $T/new.img $T/mnt/volume" "-o pidfile=$T/mnt/pid $T/back2 $T/mnt2" \
		    "-o size=8M,pidfile=$T/mnt/pid $T/back2 $T/mnt2"; do
		make_backing "$T/back2" 8M
		# shellcheck disable=SC2086 # (the case's words)
		"$FUSEURING" -f $case 2>"$T/log2" &
		pid=$!
		defer "stop_pid $pid"
		wait_until 10 grep -qs request_wait_answer "/proc/$pid/wchan" ||
			fail "$case: not waiting on the stopped server: $(cat "/proc/$pid/wchan" "$T/log2")"
		kill -TERM "$pid"
		wait_until 5 dead "$pid" || fail "$case: SIGTERM did not end the start"
		wait "$pid"
		status=$?
		[ "$status" = 143 ] || fail "$case: exit $status, want 143 (SIGTERM): $(cat "$T/log2")"
		grep -q " $T/mnt2 " /proc/self/mountinfo && fail "$case: a mount is left at $T/mnt2"
		[ -e "$T/new.img" ] && fail "$case: new.img was made"
	done
	kill -CONT "$DPID"
	echo "starts stuck on a stopped server (BACKING, MOUNTPOINT, the pidfile's directory): ended by SIGTERM"
}

# After a crash with a filesystem still mounted from a loop device on the
# volume: the message names it, and following it word for word works.
test_crash_advice() {
	command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
	scratch crashfs
	local loop out
	make_backing "$T/back" 64M
	start_fuseuring "$T/back" "$T/mnt"
	new_loop "$T/mnt/volume"
	loop=$LOOP
	mkfs.ext4 -q "$loop" || fail "mkfs"
	mkdir "$T/data"
	mount "$loop" "$T/data" || fail "mount ext4"
	defer "umount -l '$T/data'"
	echo kept >"$T/data/file" && sync
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	out=$("$FUSEURING" -f "$T/back" "$T/mnt" 2>&1) && fail "started over the dead mount"
	echo "$out" | grep -q "ext4 on $loop is mounted at $T/data: 'umount $T/data', then 'losetup -d $loop', then start again with -o recover" ||
		fail "the advice: $out"
	umount "$T/data" || fail "umount $T/data (as advised)"
	losetup -d "$loop" || fail "losetup -d (as advised)"
	wait_until 10 eval '! losetup "$loop" >/dev/null 2>&1' || fail "$loop is still attached"
	: >"$T/log"
	start_fuseuring -o recover "$T/back" "$T/mnt"
	new_loop "$T/mnt/volume"
	e2fsck -fn "$LOOP" >/dev/null 2>&1 || fail "fsck after the crash"
	echo "the advice named ext4 on the loop device and its mount; followed as written, the volume came back"
}
