# SPDX-License-Identifier: MIT
# tests/e2e-binary.sh - the binary and its command line (sourced by test.sh).
#
# What fuseuring is before it serves anything: make check, a static
# binary with no libc, the aarch64 and clang builds; every option and
# argument it refuses and how it says so (exit status, message, hints
# that name the option that would help); the command line and -V as ps
# and a user see them; the descriptors the daemon holds; and test.sh's
# own interface (--help, --list, a name that is no test).

ONCE_TESTS+=(check static_binary bad_input option_hints argument_hints small_things fd_hygiene
	start_signals aarch64 clang_build suite_interface)

# A start that fails says so and takes away the BACKING it created, what
# the caller left it: stderr a pipe nobody reads (SIGPIPE), a file size
# limit below -o size= (SIGXFSZ), SIGCHLD ignored (fusermount3's exit
# status, as an ordinary user).
test_start_signals() {
	scratch signals
	user_ok
	local w rw status
	mkdir "$T/mnt2"
	mkfifo "$T/fifo"
	exec {rw}<>"$T/fifo" {w}>"$T/fifo"
	exec {rw}<&-	# no reader left: a write gets SIGPIPE
	"$FUSEURING" -f -o size=1M,pidfile="$T/mnt/pid" "$T/new.img" "$T/mnt" 2>&$w
	status=$?
	exec {w}>&-
	[ "$status" = 1 ] || fail "stderr without a reader: exit $status, want 1"
	[ -e "$T/new.img" ] && fail "stderr without a reader: the BACKING it created is left"
	bash -c 'ulimit -f 1024; exec "$0" -f -o size=10M "$1" "$2"' "$FUSEURING" \
		"$T/big.img" "$T/mnt2" 2>"$T/log"
	status=$?
	[ "$status" = 1 ] || fail "over RLIMIT_FSIZE: exit $status, want 1: $(cat "$T/log")"
	grep -q "File too large" "$T/log" || fail "over RLIMIT_FSIZE: $(cat "$T/log")"
	[ -e "$T/big.img" ] && fail "over RLIMIT_FSIZE: the BACKING it created is left"
	make_backing "$T/back" 8M
	chown 5:60 "$T/back"	# MOUNTPOINT stays root's: fusermount3 refuses
	as_user bash -c "trap '' CHLD; exec \"\$0\" -f \"\$1\" \"\$2\"" "$FUSEURING" \
		"$T/back" "$T/mnt" 2>"$T/log"
	status=$?
	[ "$status" = 1 ] || fail "SIGCHLD ignored: exit $status, want 1: $(cat "$T/log")"
	grep -q "fusermount3 failed (exit 1)" "$T/log" ||
		fail "SIGCHLD ignored: fusermount3's status (1) lost: $(cat "$T/log")"
	echo "SIGPIPE, SIGXFSZ, SIGCHLD ignored: each start failed, said so, left nothing"
}

# make check: the request core and the data path against a fake kernel,
# without root or FUSE (tests/check_core.c, tests/check_ring.c).
test_check() {
	scratch check
	make -s -j"$(nproc)" -C "$ROOT" check >"$T/check" 2>&1 || fail "make check: $(grep -v '^  ' "$T/check" | tail -20)"
	grep "passed, \|^replayed " "$T/check" | tr '\n' ' '
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
	((size <= 61440)) || fail "stripped size $size > 61440 (60 KiB)"
	echo "size $size bytes"
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

# Failures an option would fix name it: a BACKING that cannot be written
# (read-only filesystem, immutable, no permission) suggests -o ro; truncate
# without -o resize is logged, once.
# The paths in the wrong order, a MOUNTPOINT that is not there yet, and
# an ordinary user with /dev/fuse closed to users: the message says
# which argument is wrong, the order, and what to do.
test_argument_hints() {
	scratch arghints
	local out
	make_backing "$T/back" 8M
	expect_failure 1 "$T/mnt: Is a directory: BACKING is a file or a block device (the order is: fuseuring \[-o OPTIONS\] BACKING MOUNTPOINT)" \
		-f "$T/mnt" "$T/back"
	expect_failure 1 "$T/new.img: No such file or directory: MOUNTPOINT must be there first ('mkdir $T/new.img'); the order is" \
		-o size=1G "$T/mnt" "$T/new.img"
	[ -e "$T/new.img" ] && fail "a wrong order created something"
	[ "$(stat -c %s "$T/back")" = $((8 << 20)) ] || fail "BACKING changed"
	user_ok
	chown 5:60 "$T/back" "$T/mnt"
	chmod 600 /dev/fuse	# (user_ok puts the mode it found back)
	out=$(as_user "$FUSEURING" -f "$T/back" "$T/mnt" 2>&1 </dev/null) && fail "mounted with /dev/fuse at 0600"
	echo "$out" | grep -q "^fuseuring: mounting on $T/mnt: fusermount3 failed (exit 1): /dev/fuse is not open to other users (its mode is 0600" ||
		fail "/dev/fuse at 0600: $out"
	mountpoint -q "$T/mnt" && fail "left a mount"
	echo "swapped paths, a missing MOUNTPOINT, /dev/fuse at 0600: each named, with the way out"
}

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
	make -s -j"$(nproc)" -C "$ROOT" ARCH=aarch64 >/dev/null || fail "make ARCH=aarch64"
	readelf -h "$bin" | grep -q "AArch64" || fail "not an aarch64 binary"
	readelf -lW "$bin" | grep -q INTERP && fail "not static"
	(($(stat -c %s "$bin") <= 61440)) || fail "stripped size $(stat -c %s "$bin") > 61440 (60 KiB)"
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

# test.sh's own interface: a name that is no test is an error (exit 2,
# naming it), not a green "0 passed"; --list names every test; --help
# tells the usage and the environment.  All three answer before anything
# is built or run, and without root: on a copy of the suite alone (no
# Makefile, no binary: a real run cannot start there), as root and as
# nobody.
test_suite_interface() {
	command -v setpriv >/dev/null || skip "needs util-linux setpriv"
	scratch interface
	local suite=$T/suite who out status names word
	local run=(timeout 20 env -u FUSEURING "$suite/test.sh")
	mkdir -p "$suite/tests"
	cp "$ROOT/test.sh" "$suite/" && cp "$ROOT"/tests/*.sh "$suite/tests/" || fail "copying the suite"
	chmod 755 "$WORK" "$T"
	names=$(declare -F | sed -n 's/^declare -f test_//p' | sort)
	for who in root nobody; do
		[ $who = nobody ] && run=(as_nobody "${run[@]}")
		out=$("${run[@]}" random_io nosuchtest 2>&1)
		status=$?
		[ "$status" = 2 ] || fail "$who: ./test.sh random_io nosuchtest: exit $status, want 2: $out"
		[[ $out = *nosuchtest* && $out != *random_io* ]] || fail "$who: ./test.sh random_io nosuchtest said: $out"
		out=$("${run[@]}" --list 2>&1)
		status=$?
		[ "$status" = 0 ] || fail "$who: ./test.sh --list: exit $status: $out"
		grep -qx quickstart <<<"$out" && grep -qx random_io <<<"$out" || fail "$who: ./test.sh --list: $out"
		[ "$(sort <<<"$out")" = "$names" ] || fail "$who: ./test.sh --list is not the suite's test functions: $out"
		out=$("${run[@]}" --help 2>&1)
		status=$?
		[ "$status" = 0 ] || fail "$who: ./test.sh --help: exit $status: $out"
		for word in NO_SKIP= FUSEURING= TEST_TIMEOUT= FUZZ_SECONDS= SOAK_SECONDS= --list tests/; do
			[[ $out = *"$word"* ]] || fail "$who: ./test.sh --help does not mention $word: $out"
		done
	done
	[ "$(ls "$suite")" = "$(printf 'test.sh\ntests')" ] || fail "something was built in the suite's copy: $(ls "$suite")"
	echo "a name that is no test: exit 2; --list: $(grep -c . <<<"$names") tests; --help; as root and as nobody"
}
