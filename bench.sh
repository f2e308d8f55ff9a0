#!/bin/bash
# bench.sh - how close fuseuring gets to its backing file.  sudo ./bench.sh [--quick]
#
# BACKING is a 512 MiB file on /dev/shm, filled so that reads hit real
# pages.  Every fio job (ioengine=io_uring, direct=1, time based, one ramp
# second) runs on
#   loop: a `losetup --direct-io=on` device, over BACKING itself ("direct",
#         the limit) and over the fuseuring volume;
#   raw:  the file itself: BACKING ("direct") and MOUNTPOINT/volume.
# fuseuring runs with transport dev, uring (when the kernel has it; the
# module parameter is switched on and restored) and passthrough, each with
# queues=1 and with the default.  Ratios compare with "direct" measured in
# the same run.  Needs fio, and perf or strace for the syscall count.
#   --quick   2-second jobs (a smoke check)
#   --jobs "randread-4k-qd64 ..."   a subset of the jobs
#   --modes "dev uring ..."         a subset of the modes (also: auto and
#                                   auto-resize, what the default chooses)
#   --queues "1 2 4 8 16"           instead: each mode with each queue count
#                                   (-o queues=N), loop device only; a scaling
#                                   table (default job randread-4k-qd64)

set -u
cd "$(dirname "$0")" || exit 1
RUNTIME=8
JOBS="randread-4k-qd64 randwrite-4k-qd64 randread-4k-qd1 read-1m-qd16 write-1m-qd16"
MODES="dev dev-q1 uring uring-q1 passthrough passthrough-q1"
QUEUES= JOBS_GIVEN= MODES_GIVEN=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) RUNTIME=2 ;;
	--jobs) JOBS=$2; JOBS_GIVEN=1; shift ;;
	--modes) MODES=$2; MODES_GIVEN=1; shift ;;
	--queues) QUEUES=$2; shift ;;
	*) echo "usage: sudo ./bench.sh [--quick] [--jobs LIST] [--modes LIST] [--queues LIST]" >&2; exit 2 ;;
	esac
	shift
done
if [ -n "$QUEUES" ]; then
	[ -n "$JOBS_GIVEN" ] || JOBS=randread-4k-qd64
	[ -n "$MODES_GIVEN" ] || MODES="dev uring passthrough auto auto-resize"
fi
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 2; }
command -v fio >/dev/null || { echo "bench.sh: needs fio (apt-get install fio)" >&2; exit 2; }
if perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
	SYSCALL_COUNTER=perf
elif command -v strace >/dev/null; then
	SYSCALL_COUNTER=strace
else
	SYSCALL_COUNTER=none
fi

URING_PARAM=/sys/module/fuse/parameters/enable_uring
ORIG_URING=$(cat "$URING_PARAM" 2>/dev/null || true)
WORK=$(mktemp -d /tmp/fuseuring-bench.XXXXXX)
BACKING=/dev/shm/fuseuring-bench.img
MNT=$WORK/mnt
PID= LOOP_DIRECT= LOOP_FUSE=

cleanup() {
	[ -n "$LOOP_FUSE" ] && losetup -d "$LOOP_FUSE" 2>/dev/null
	[ -n "$LOOP_DIRECT" ] && losetup -d "$LOOP_DIRECT" 2>/dev/null
	mountpoint -q "$MNT" && umount -l "$MNT"
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$ORIG_URING" ] && [ -w "$URING_PARAM" ] && echo "$ORIG_URING" >"$URING_PARAM"
	rm -rf "$WORK" "$BACKING"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make -s || exit 1
mkdir -p "$MNT"
echo "filling $BACKING ..." >&2
dd if=/dev/urandom of="$BACKING" bs=1M count=512 status=none
# loop_attach FILE: a loop device that really does direct I/O on FILE.  (If
# it silently fell back to buffered I/O, reads would hit FILE's page cache
# and never reach fuseuring: a flattering and meaningless number.)
loop_attach() {
	local dev
	dev=$(losetup -f --show --direct-io=on "$1") || return 1
	if [ "$(cat "/sys/block/${dev#/dev/}/loop/dio")" != 1 ]; then
		echo "bench.sh: $dev over $1 does not do direct I/O" >&2
		losetup -d "$dev"
		return 1
	fi
	echo "$dev"
}
LOOP_DIRECT=$(loop_attach "$BACKING") || exit 1

# job NAME -> fio arguments
job_args() {
	case $1 in
	randread-4k-qd64) echo "--rw=randread --bs=4k --iodepth=64" ;;
	randwrite-4k-qd64) echo "--rw=randwrite --bs=4k --iodepth=64" ;;
	randread-4k-qd1) echo "--rw=randread --bs=4k --iodepth=1" ;;
	read-1m-qd16) echo "--rw=read --bs=1m --iodepth=16" ;;
	write-1m-qd16) echo "--rw=write --bs=1m --iodepth=16" ;;
	esac
}

# busy_ticks: CPU time used by everything on the machine, in 1/100 s.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# fio_run TARGET JOB: prints "IOPS KiB/s mean-latency-us ios machine-busy-us-per-io"
fio_run() {
	local b0 b1
	b0=$(busy_ticks)
	# shellcheck disable=SC2046
	fio --name=bench --filename="$1" --ioengine=io_uring --direct=1 \
		--time_based --runtime="$RUNTIME" --ramp_time=1 --size=512m \
		$(job_args "$2") --output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '{ if ($8 + 0 > 0) print $8, $7, $40, $6 / ($7 > 0 ? $7 : 1) * $8;
			     else print $49, $48, $81, $47 / ($48 > 0 ? $48 : 1) * $49 }' >"$WORK/fio.1"
	b1=$(busy_ticks)
	# the ramp second is busy too: count it against the measured I/Os
	awk -v b=$((b1 - b0)) -v r="$RUNTIME" '{ printf "%s %s %s %s %.1f\n", $1, $2, $3, $4,
		($4 > 0 ? b * 10000 / ($4 * (r + 1) / r) : 0) }' "$WORK/fio.1" 2>/dev/null	# gone after Ctrl-C
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
requests() {
	local before
	before=$(grep -c 'stats:' "$WORK/log")
	kill -USR1 "$PID"
	for _ in $(seq 100); do
		[ "$(grep -c 'stats:' "$WORK/log")" -gt "$before" ] && break
		sleep 0.02
	done
	grep 'stats:' "$WORK/log" | tail -1 | grep -o ' requests=[0-9]*' | cut -d= -f2
}

# measure TARGET JOB: fio with the daemon watched: CPU, syscalls, threads, RSS.
measure() {
	local target=$1 job=$2 c0 c1 r0 r1 sc=- out threads=0 rss=0 t r
	c0=$(cpu_ticks "$PID"); r0=$(requests)
	case $SYSCALL_COUNTER in
	perf) perf stat -x, -e raw_syscalls:sys_enter -p "$PID" -o "$WORK/sc" &
	      ;;
	strace) strace -c -f -p "$PID" -o "$WORK/sc" 2>/dev/null &
	      ;;
	esac
	local counter=$!
	[ "$SYSCALL_COUNTER" = none ] && counter=
	fio_run "$target" "$job" >"$WORK/fio" &
	local fio_pid=$!
	while kill -0 "$fio_pid" 2>/dev/null; do
		t=$(ls "/proc/$PID/task" 2>/dev/null | wc -l)
		r=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null)
		((t > threads)) && threads=$t
		((${r:-0} > rss)) && rss=$r
		sleep 0.2
	done
	wait "$fio_pid"
	[ -n "$counter" ] && kill -INT "$counter" 2>/dev/null && wait "$counter" 2>/dev/null
	c1=$(cpu_ticks "$PID"); r1=$(requests)
	case $SYSCALL_COUNTER in
	perf) sc=$(awk -F, '/raw_syscalls/ {print $1}' "$WORK/sc") ;;
	strace) sc=$(awk '/total/ {print $3}' "$WORK/sc") ;;
	esac
	[[ $sc =~ ^[0-9]+$ ]] || sc=-
	read -r iops kib lat ios busy <"$WORK/fio"
	# ticks are 1/100 s
	echo "$iops $kib $lat $ios $busy $(((c1 - c0) * 10000)) $((r1 - r0)) ${sc:--} $threads $rss"
}

start_daemon() {
	local opts=$1
	: >"$WORK/log"
	./fuseuring -f $opts "$BACKING" "$MNT" 2>>"$WORK/log" &
	PID=$!
	for _ in $(seq 200); do
		grep -q '^fuseuring: serving' "$WORK/log" && break
		kill -0 "$PID" 2>/dev/null || { cat "$WORK/log" >&2; PID=; return 1; }
		sleep 0.05
	done
	LOOP_FUSE=$(loop_attach "$MNT/volume") || { umount "$MNT"; wait "$PID"; PID=; return 1; }
}

stop_daemon() {
	losetup -d "$LOOP_FUSE"; LOOP_FUSE=
	umount "$MNT"; wait "$PID"; PID=
}

mode_opts() {
	case $1 in
	dev) echo "-o transport=dev" ;;
	dev-q1) echo "-o transport=dev,queues=1" ;;
	uring) echo "-o transport=uring" ;;
	uring-q1) echo "-o transport=uring,queues=1" ;;
	passthrough) echo "-o passthrough" ;;
	passthrough-q1) echo "-o passthrough,queues=1" ;;
	auto) echo "" ;;			# a fixed-size volume
	auto-resize) echo "-o resize" ;;	# one that may grow: passthrough where allowed
	esac
}

# value JOB IOPS KIB LAT -> the figure that matters for the job
value() {
	case $1 in
	*-qd1) echo "$4" ;;
	*-1m-*) awk -v k="$3" 'BEGIN { printf "%.0f", k / 1024 }' ;;
	*) echo "$2" ;;
	esac
}
unit() { case $1 in *-qd1) echo "µs mean latency" ;; *-1m-*) echo "MiB/s" ;; *) echo "IOPS" ;; esac; }

ACCESSES="loop raw"
[ -n "$QUEUES" ] && ACCESSES=loop
declare -A DIRECT DIRECT_BUSY
for access in $ACCESSES; do
	for job in $JOBS; do
		target=$LOOP_DIRECT; [ $access = raw ] && target=$BACKING
		read -r iops kib lat _ busy < <(fio_run "$target" "$job")
		DIRECT[$access/$job]=$(value "$job" "$iops" "$kib" "$lat")
		DIRECT_BUSY[$access/$job]=$busy
		echo "direct $access $job: ${DIRECT[$access/$job]} $(unit "$job"), machine CPU $busy µs/IO" >&2
	done
done

# ran: the transport and queue count the daemon says it serves with
ran() { grep -o 'transport [a-z]* ([^)]*), [0-9]* queues' "$WORK/log" | sed 's/ (.*),/,/'; }

if [ -n "$QUEUES" ]; then
	echo
	echo "fuseuring queue sweep: $(date -u +%Y-%m-%d), $(nproc) CPUs, Linux $(uname -r), ${RUNTIME}s jobs, loop device"
	echo
	echo "| mode | queues asked | served with | job | result | vs direct | daemon CPU µs/IO | threads |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	for job in $JOBS; do
		echo "| direct | | | $job | ${DIRECT[loop/$job]} $(unit "$job") | 1.00× | | |"
	done
	for mode in $MODES; do
		[ -e "$URING_PARAM" ] && [[ $mode == uring* || $mode == auto ]] && echo Y >"$URING_PARAM"
		for q in $QUEUES; do
			start_daemon "$(mode_opts "$mode") -o queues=$q" ||
				{ echo "skipping $mode queues=$q: did not start" >&2; continue; }
			for job in $JOBS; do
				read -r iops kib lat ios busy cpu_us reqs sc threads rss < <(measure "$LOOP_FUSE" "$job")
				v=$(value "$job" "$iops" "$kib" "$lat")
				ratio=$(awk -v v="$v" -v d="${DIRECT[loop/$job]}" 'BEGIN { if (v <= 0 || d <= 0) print "-"; else printf "%.2f", v / d }')
				per_io=$(awk -v c="$cpu_us" -v n="$ios" 'BEGIN { if (n > 0) printf "%.1f", c / n; else print "-" }')
				echo "| $mode | $q | $(ran) | $job | $v $(unit "$job") | ${ratio}× | $per_io | $threads |"
			done
			stop_daemon
		done
		[ -n "$ORIG_URING" ] && echo "$ORIG_URING" >"$URING_PARAM"
	done
	exit 0
fi

ROWS=()
for mode in $MODES; do
	if [[ $mode == uring* ]]; then
		[ -e "$URING_PARAM" ] || { echo "skipping $mode: no FUSE over io_uring in this kernel" >&2; continue; }
		echo Y >"$URING_PARAM"
	fi
	start_daemon "$(mode_opts "$mode")" || { echo "skipping $mode: fuseuring or its loop device did not start" >&2; continue; }
	for access in loop raw; do
		for job in $JOBS; do
			target=$LOOP_FUSE; [ $access = raw ] && target=$MNT/volume
			read -r iops kib lat ios busy cpu_us reqs sc threads rss < <(measure "$target" "$job")
			v=$(value "$job" "$iops" "$kib" "$lat")
			d=${DIRECT[$access/$job]}
			ratio=$(awk -v v="$v" -v d="$d" 'BEGIN { if (v <= 0 || d <= 0) print "-"; else printf "%.2f", v / d }')
			per_io=$(awk -v c="$cpu_us" -v n="$ios" 'BEGIN { if (n > 0) printf "%.1f", c / n; else print "-" }')
			per_req=$(awk -v s="$sc" -v n="$reqs" 'BEGIN { if (s != "-" && n > 0) printf "%.3f", s / n; else print "-" }')
			row="| $mode | $access | $job | $v $(unit "$job") | ${ratio}× | $busy | $per_io | $per_req | $threads | $((rss / 1024)) MiB |"
			echo "$row" >&2
			ROWS+=("$row")
		done
	done
	stop_daemon
	[ -n "$ORIG_URING" ] && echo "$ORIG_URING" >"$URING_PARAM"
done

echo
echo "fuseuring bench: $(date -u +%Y-%m-%d), $(nproc) CPUs, Linux $(uname -r), ${RUNTIME}s jobs"
echo "(qd1 rows: ratio of mean latencies, lower is better; others: higher is better)"
echo
echo "| mode | access | job | result | vs direct | machine CPU µs/IO | daemon CPU µs/IO | syscalls/request | threads | RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for job in $JOBS; do
	for access in loop raw; do
		echo "| direct | $access | $job | ${DIRECT[$access/$job]} $(unit "$job") | 1.00× | ${DIRECT_BUSY[$access/$job]} | | | | |"
	done
done
printf '%s\n' "${ROWS[@]}"
