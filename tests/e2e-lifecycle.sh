# SPDX-License-Identifier: MIT
# tests/e2e-lifecycle.sh - the daemon's lifecycle (sourced by test.sh).
#
# How a server starts and ends: the start line, detaching, the pidfile;
# MOUNTPOINT as a regular file, through a symlink, with a long BACKING
# path, mounted by descriptor; starts that fail and what they leave; every
# way out (umount, signals, an aborted connection, a failed queue), also
# with a loop device still holding the volume; BACKING's lock; and a
# restart after kill -9 with -o recover.

ONCE_TESTS+=(start_line pidfile failed_start_cleanup symlink_mountpoint long_backing_path
	mount_by_descriptor sigint_sighup exit_routes backing_lock crash_restart)
TRANSPORT_TESTS+=(detach file_mountpoint umount_ends_daemon sigterm_with_loop abort_ends_daemon)
SANITIZER_TESTS+=(sigterm_with_loop)

# --- starting ----------------------------------------------------------------

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

# --- MOUNTPOINT --------------------------------------------------------------

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
	killed_after_serving "$T/new.img" "$T/link"
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

# --- ending ------------------------------------------------------------------

test_umount_ends_daemon() {
	scratch umount
	make_backing "$T/back" 8M
	start_fuseuring "$T/back" "$T/mnt"
	umount "$T/mnt" || fail "umount"
	wait_until 10 dead "$DPID" || fail "daemon still running after umount"
	wait "$DPID" || fail "exit status $?"
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
	failed-main-ring)
		# the same for the main thread's ring (signals, blocking calls)
		timeout 20 strace -qq -p "$pid" -e trace=io_uring_enter \
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
		for route in signal umount abort signal+abort failed-queue failed-main-ring; do
			exit_route "$who" "$route"
		done
	done
	echo "root and user: signal, umount, abort, both at once, a failed queue or main ring: no mount left"
}

# --- BACKING's lock, and a restart after a crash -----------------------------

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
	expect_failure 1 "$T/mnt: Transport endpoint is not connected: a FUSE mount whose server died is still there, and $LOOP still holds its volume.*'losetup -d $LOOP', then start again with -o recover (or 'umount $T/mnt'); or take the dead mount away at once with 'umount -l $T/mnt'" \
		-f -o transport=dev "$T/back" "$T/mnt"
	: >"$T/log"
	run_unit 2 "-o transport=dev"
	dead "$DPID" && fail "the restart failed: $(cat "$T/log")"
	grep -q "recover: detached the mount of a fuseuring that died; $LOOP still holds the old volume, which answers only errors: 'losetup -d $LOOP', then attach the new volume" "$T/log" ||
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
