# SPDX-License-Identifier: MIT
# tests/e2e-system.sh - fitting into the system (sourced by test.sh).
#
# fuseuring among the system's tools and users: mount(8) (mount -t,
# fstab, mount -f, mount.fuse3, remount), permissions and allow_other,
# ordinary users (fusermount3, locked memory), systemd's notify protocol,
# the system log and -o log=, make install and its man pages, and
# README's quick start as written.

ONCE_TESTS+=(mount_helper remount remount_keeps_atime access_control unprivileged memlock_shared
	systemd_notify logging log_destinations install whatis_installed quickstart)

# --- mount(8) ----------------------------------------------------------------

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

# --- users -------------------------------------------------------------------

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

# An ordinary user's second and third volume: io_uring counts locked
# memory per user, so the first volume leaves little; the next ones start
# with smaller buffers; one for which nothing is left says why and how to
# raise the limit.  That the buffers shrank is not a warning.
test_memlock_shared() {
	scratch memlock
	user_ok
	local pid1 pid2 f
	# (3, not 2: awk exits 2 itself when a process ends, and its status
	# file goes, while the loop runs)
	for f in /proc/[0-9]*/status; do
		awk '/^Uid:/ && $2 != 5 {exit 1} /^VmPin:/ && $2 > 0 {exit 3}' "$f" 2>/dev/null
		[ $? = 3 ] && fail "processes of games already hold locked memory: $f"
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

# --- systemd and the logs ----------------------------------------------------

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
	# every thread's notifications, to count them (STOPPING=1 went twice)
	if command -v strace >/dev/null; then
		strace -qq -f -p "$DPID" -e trace=sendto -s 64 -o "$T/sent" &
		wait_until 10 every_thread_traced "$DPID" || fail "strace did not attach"
	fi
	kill -TERM "$DPID"
	wait "$listener" || fail "no STOPPING=1: $(cat "$T/notes")"
	wait_until 10 dead "$DPID" || fail "daemon did not exit"
	command -v strace >/dev/null || skip "needs strace to count STOPPING=1: READY=1 and STOPPING=1 were seen"
	wait
	[ "$(grep -c 'STOPPING=1' "$T/sent")" = 1 ] || fail "STOPPING=1 sent $(grep -c 'STOPPING=1' "$T/sent") times: $(cat "$T/sent")"
	echo "READY=1 with MAINPID, STOPPING=1 once"
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

# --- installing, and the quick start -----------------------------------------

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

# README's quick start, as written there, with a scratch directory for
# /mnt, in a fresh copy of the source: once with sudo (a stand-in that
# runs the command, recording it), once without (where sudo is installed,
# it is hidden in a mount namespace of the test's own).
test_quickstart() {
	command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
	scratch quickstart
	local pass src pid dir said
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
			# (one ln per directory: the first of PATH wins, as the
			# later ones find the name taken)
			mkdir "$T/nosudo"
			for dir in ${PATH//:/ }; do
				ln -s -t "$T/nosudo" "$dir"/* 2>/dev/null
			done
			rm -f "$T/nosudo/sudo"
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
