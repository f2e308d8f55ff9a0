#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/soak.sh SECONDS - fuseuring under a long mixed load (root).
#
# One volume, two loop devices over its halves: fio writes and verifies
# random blocks on the first; ext4 on the second churns files (create,
# fsync, delete).  Every second the daemon's RSS and thread count are
# sampled; both must stay flat after a warm-up, and threads within the
# design's bound: the main thread, one per queue, and at most 3 io-wq
# threads per queue (BACKING here is a buffered file on the disk, whose
# writes io_uring hands to io-wq).  At the end fio's verification and
# `e2fsck -fn` must pass.  test.sh runs it for 20 seconds on each transport
# and for 8 with passthrough.
#   FUSEURING=path   the binary to soak (default: ../fuseuring)
#   FUSEURING_OPTS   extra -o options; a transport named there
#                    (transport=dev|uring|passthrough, or passthrough) must
#                    be the one serving

set -u
SECONDS_TO_RUN=${1:-600}
HERE=$(cd "$(dirname "$0")" && pwd)
FUSEURING=${FUSEURING:-$HERE/../fuseuring}
[ "$(id -u)" = 0 ] || { echo "soak: run as root" >&2; exit 2; }
command -v fio >/dev/null || { echo "soak: skipped: needs fio" >&2; exit 77; }

WORK=$(mktemp -d /tmp/fuseuring-soak.XXXXXX)
PID= LOOP_A= LOOP_B= CHURN= FIO=
stop_churn() {
	touch "$WORK/stop"
	wait "$CHURN" 2>/dev/null
	CHURN=
}
cleanup() {
	[ -n "$FIO" ] && kill "$FIO" 2>/dev/null && wait "$FIO" 2>/dev/null
	[ -n "$CHURN" ] && stop_churn
	mountpoint -q "$WORK/fs" && umount -l "$WORK/fs"
	[ -n "$LOOP_A" ] && losetup -d "$LOOP_A"
	[ -n "$LOOP_B" ] && losetup -d "$LOOP_B"
	mountpoint -q "$WORK/mnt" && umount -l "$WORK/mnt"
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "soak: FAIL: $*"; exit 1; }

mkdir -p "$WORK/mnt" "$WORK/fs"
truncate -s 512M "$WORK/back"
"$FUSEURING" -f ${FUSEURING_OPTS:+-o "$FUSEURING_OPTS"} "$WORK/back" "$WORK/mnt" 2>"$WORK/log" &
PID=$!
for _ in $(seq 200); do grep -q '^fuseuring: serving' "$WORK/log" && break; sleep 0.05; done
grep -q '^fuseuring: serving' "$WORK/log" || fail "fuseuring did not start: $(cat "$WORK/log")"
QUEUES=$(grep -o '[0-9]* queues' "$WORK/log" | cut -d' ' -f1)
# the transport asked for is the one soaked
case ",${FUSEURING_OPTS:-}," in
*,transport=dev,*) WANT=dev ;;
*,transport=uring,*) WANT=uring ;;
*,passthrough,*|*,transport=passthrough,*) WANT=passthrough ;;
*) WANT= ;;
esac
[ -z "$WANT" ] || grep -q "^fuseuring: serving .*transport $WANT[ ,]" "$WORK/log" ||
	fail "not serving with transport $WANT: $(cat "$WORK/log")"

LOOP_A=$(losetup -f --show --direct-io=on --sizelimit 256M "$WORK/mnt/volume") || fail "losetup"
LOOP_B=$(losetup -f --show --direct-io=on --offset 256M "$WORK/mnt/volume") || fail "losetup"
mkfs.ext4 -q -F "$LOOP_B" && mount "$LOOP_B" "$WORK/fs" || fail "ext4"

fio --name=soak --filename="$LOOP_A" --ioengine=io_uring --direct=1 \
	--rw=randwrite --bs=4k --iodepth=32 --verify=crc32c --verify_backlog=4096 \
	--verify_state_save=0 \
	--time_based --runtime="$SECONDS_TO_RUN" --output="$WORK/fio" &
FIO=$!
( i=0
  while [ ! -e "$WORK/stop" ]; do
	i=$((i + 1))
	mkdir -p "$WORK/fs/d$((i % 16))"
	for k in $(seq 20); do
		head -c $(((RANDOM % 64 + 1) * 1024)) /dev/urandom >"$WORK/fs/d$((i % 16))/f$i-$k"
	done
	sync -f "$WORK/fs"
	rm -f "$WORK/fs/d$(((i + 8) % 16))"/f* 2>/dev/null	# the files of 8 rounds ago
  done ) &
CHURN=$!

rss_min= rss_max=0 threads_min= threads_max=0 threads_warm=0 samples=0
end=$((SECONDS + SECONDS_TO_RUN))
while ((SECONDS < end)); do
	sleep 1
	kill -0 "$PID" 2>/dev/null || fail "fuseuring died: $(cat "$WORK/log")"
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
	threads=$(ls "/proc/$PID/task" | wc -l)
	samples=$((samples + 1))
	((threads > threads_max)) && threads_max=$threads
	((samples <= 3)) && { threads_warm=$threads; continue; }	# warm-up
	[ -z "$rss_min" ] || ((rss < rss_min)) && rss_min=$rss
	((rss > rss_max)) && rss_max=$rss
	[ -z "$threads_min" ] || ((threads < threads_min)) && threads_min=$threads
done
wait "$FIO" || fail "fio verify failed: $(grep -iE 'verify|error|bad' "$WORK/fio" | head -5)"
FIO=
stop_churn
umount "$WORK/fs" || fail "umount ext4"
e2fsck -fn "$LOOP_B" >"$WORK/fsck" 2>&1 || fail "e2fsck: $(cat "$WORK/fsck")"
losetup -d "$LOOP_A" "$LOOP_B"; LOOP_A= LOOP_B=
umount "$WORK/mnt" || fail "umount"
wait "$PID" || fail "fuseuring exit status $?"
PID=

((samples > 3)) || fail "too short to judge"
((rss_max - rss_min <= 2048)) || fail "RSS grew from ${rss_min} KiB to ${rss_max} KiB"
((threads_max <= 1 + QUEUES * 4)) || fail "$threads_max threads for $QUEUES queues"
((threads_max <= threads_warm + QUEUES)) || fail "threads grew from $threads_warm to $threads_max"
echo "soak: ${SECONDS_TO_RUN}s${WANT:+ on $WANT}: RSS ${rss_min}..${rss_max} KiB, threads ${threads_min}..${threads_max} ($QUEUES queues), fio verify ok, e2fsck clean"
