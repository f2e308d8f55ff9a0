#!/bin/bash
# SPDX-License-Identifier: MIT
# bench.sh - how close fuseuring gets to its backing file, and to other FUSE
# servers, measured in one run.  `sudo ./bench.sh --help` says how.
# doc/performance.md holds what it measured: every table with its date and
# the command that made it, the methods, and what the numbers say.

usage() {
	cat <<'EOF'
usage: sudo ./bench.sh [OPTIONS]

Puts BACKING, a 512 MiB file of random data, on /dev/shm, and runs fio
(ioengine=io_uring, direct=1, time based) on it through each mode, and on
BACKING itself ("direct", the limit) in the same run.  Every ratio says how
fast a mode is against another, higher = better: 1.00x is as fast; for a
latency job (qd1) it is the other's latency divided by the mode's.

Where each job runs ("access"):
  loop  a `losetup --direct-io=on` device over the volume (over BACKING for
        direct); the device really doing direct I/O is checked
  raw   the volume file itself (BACKING for direct)
  ext4  a file of 256 MiB in an ext4 made on that loop device

Modes: dev, uring, passthrough (fuseuring with that transport), each also
with -q1 (queues=1); auto and auto-resize (what the default chooses on a
fixed-size volume and with -o resize); NAME-ceiling (a build whose BACKING
does nothing: the transport's own limit; see --ceiling); and the servers
of --server.  uring needs the fuse module's enable_uring: it is switched on
for the modes that may use it and put back afterwards.

doc/performance.md holds the tables measured so far, each with its date and
the command that made it, and explains the methods and the numbers.

Options:
  --quick             dev, uring and passthrough on three loop jobs,
                      2-second jobs, one round: a smoke check of under a
                      minute, not a ranking (for that: --repeat 3, and
                      jobs of the default 8 seconds)
  --jobs "LIST"       jobs to run, each ACCESS/NAME (loop/randread-4k-qd64);
                      a NAME alone means loop/ and raw/.  NAME is
                      [rand]read|[rand]write-SIZE-qdDEPTH.  Sets:
                        default   randread-4k-qd64 randwrite-4k-qd64
                                  randread-4k-qd1 read-1m-qd16 write-1m-qd16
                                  on loop and raw
                        original  the original project's benchmark: ext4 on
                                  the loop device, 4k at iodepth 1024:
                                  ext4/read-4k-qd1024 ext4/randread-4k-qd1024
                                  ext4/write-4k-qd1024 ext4/randwrite-4k-qd1024
  --modes "LIST"      modes to run (default: dev dev-q1 uring uring-q1
                      passthrough passthrough-q1)
  --ceiling           also run each dev/uring mode's ceiling build, and give
                      every mode a "vs ceiling" ratio
  --server NAME='COMMAND'
                      also run COMMAND, a FUSE server that serves $BACKING as
                      $MNT/volume (in the foreground), as mode NAME.  The
                      command runs under bash with BACKING, BACKING_DIR (the
                      directory holding BACKING, named volume) and MNT set;
                      unmounting $MNT must end it.  Repeatable.  E.g.
                        --server libfuse-uring='passthrough_hp --foreground
                          --nopassthrough -o io_uring "$BACKING_DIR" "$MNT"'
  --versus NAME       add a column: each mode against mode NAME
  --repeat N          run everything N times, the modes interleaved, and
                      give medians (ratios: median of the ratios of each
                      round, within the round)
  --runtime S         seconds per job (default 8; ramp 1 s before)
  --queues "1 2 4"    instead: each mode with each queue count (-o
                      queues=N), loop device only (default job
                      randread-4k-qd64, modes dev uring passthrough auto
                      auto-resize): a scaling table
  -h, --help          this text

Columns: result (IOPS, MiB/s, or mean latency for qd1); the ratios; the
machine's CPU time per I/O (everything: fio, the loop worker, the kernel,
the daemon) and its idle share; the daemon's own CPU time and system calls
per I/O; context switches and wake-ups per I/O over the whole machine (perf,
when it works); the daemon's threads and RSS (its anonymous memory, the
request buffers: not the page-cache pages its mapping of BACKING shows).
A daemon column is blank
where there is no daemon (direct) or nothing to count it with (no perf);
"daemon syscalls/IO" is "-" where the daemon serves no READ or WRITE
(passthrough: the kernel moves the data), as its few calls are then not
per I/O.  Progress (job k/N and the time left) and each row as it is
measured go to stderr; the table, then one summary line per mode (its
geometric-mean ratios), to stdout at the end.
EOF
}

set -u
cd "$(dirname "$0")" || exit 1
RUNTIME=8 RAMP=1
JOBS=default MODES="dev dev-q1 uring uring-q1 passthrough passthrough-q1"
QUEUES= JOBS_GIVEN= MODES_GIVEN= CEILING= VERSUS= REPEAT=1 QUICK=
declare -A SERVER_CMD
SERVERS=()
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0 ;;
	--quick) QUICK=1 ;;
	--jobs) JOBS=$2; JOBS_GIVEN=1; shift ;;
	--modes) MODES=$2; MODES_GIVEN=1; shift ;;
	--queues) QUEUES=$2; shift ;;
	--ceiling) CEILING=1 ;;
	--server)
		[[ $2 == ?*=?* ]] || { echo "bench.sh: --server NAME='COMMAND'" >&2; exit 2; }
		SERVER_CMD[${2%%=*}]=${2#*=}; SERVERS+=("${2%%=*}"); shift ;;
	--versus) VERSUS=$2; shift ;;
	--repeat) REPEAT=$2; shift ;;
	--runtime) RUNTIME=$2; shift ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
if [ -n "$QUICK" ]; then
	RUNTIME=2 RAMP=500ms
	[ -n "$JOBS_GIVEN" ] || JOBS="loop/randread-4k-qd64 loop/randwrite-4k-qd64 loop/randread-4k-qd1"
	[ -n "$MODES_GIVEN" ] || MODES="dev uring passthrough"
fi
if [ -n "$QUEUES" ]; then
	[ -n "$JOBS_GIVEN" ] || JOBS=loop/randread-4k-qd64
	[ -n "$MODES_GIVEN" ] || MODES="dev uring passthrough auto auto-resize"
fi
[[ $REPEAT =~ ^[1-9][0-9]*$ && $RUNTIME =~ ^[1-9][0-9]*$ ]] ||
	{ echo "bench.sh: --repeat and --runtime take a positive number" >&2; exit 2; }

# The job list, expanded; ext4 jobs last (mkfs overwrites the volume).
expand_jobs() {
	local j out=()
	for j in $1; do
		case $j in
		default) out+=($(expand_jobs "randread-4k-qd64 randwrite-4k-qd64 randread-4k-qd1 read-1m-qd16 write-1m-qd16")) ;;
		original) out+=(ext4/read-4k-qd1024 ext4/randread-4k-qd1024 ext4/write-4k-qd1024 ext4/randwrite-4k-qd1024) ;;
		*/*) out+=("$j") ;;
		*) out+=("loop/$j" "raw/$j") ;;
		esac
	done
	printf '%s\n' "${out[@]}" | awk -F/ '{ print ($1 == "loop" ? 0 : $1 == "raw" ? 1 : 2), NR, $0 }' |
		sort -k1,1n -k2,2n | cut -d' ' -f3
}
JOBS=$(expand_jobs "$JOBS")
for job in $JOBS; do
	[[ ${job%%/*} =~ ^(loop|raw|ext4)$ && ${job#*/} =~ ^(rand)?(read|write)-[0-9]+[kKmM]-qd[0-9]+$ ]] ||
		{ echo "bench.sh: unknown job $job (see --help)" >&2; exit 2; }
done

# Modes, with the ceiling builds right after their transports.
ALL_MODES=()
for mode in $MODES "${SERVERS[@]}"; do
	ALL_MODES+=("$mode")
	[ -n "$CEILING" ] && [[ $mode == dev* || $mode == uring* ]] && [[ $mode != *-ceiling ]] &&
		ALL_MODES+=("$mode-ceiling")
done
if [ -n "$QUEUES" ]; then
	swept=()
	for mode in "${ALL_MODES[@]}"; do
		for q in $QUEUES; do swept+=("$mode@q$q"); done
	done
	ALL_MODES=("${swept[@]}")
fi

[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 2; }
command -v fio >/dev/null || { echo "bench.sh: needs fio (apt-get install fio)" >&2; exit 2; }
[[ $JOBS == *ext4/* ]] && ! command -v mkfs.ext4 >/dev/null &&
	{ echo "bench.sh: ext4 jobs need mkfs.ext4 (e2fsprogs)" >&2; exit 2; }
PERF=
perf stat -e raw_syscalls:sys_enter,context-switches,sched:sched_wakeup true >/dev/null 2>&1 && PERF=1

URING_PARAM=/sys/module/fuse/parameters/enable_uring
ORIG_URING=$(cat "$URING_PARAM" 2>/dev/null || true)
WORK=$(mktemp -d /tmp/fuseuring-bench.XXXXXX)
BACKING_DIR=/dev/shm/fuseuring-bench
BACKING=$BACKING_DIR/volume
MNT=$WORK/mnt
EXT4=$WORK/ext4
export BACKING BACKING_DIR MNT
PID= LOOP_DIRECT= LOOP_FUSE= EXT4_ON=

# Every process of the server started as $PID.
server_pids() {
	local p=$1 c
	echo "$p"
	for c in $(pgrep -P "$p"); do server_pids "$c"; done
}

cleanup() {
	mountpoint -q "$EXT4" && umount "$EXT4"
	[ -n "$LOOP_FUSE" ] && losetup -d "$LOOP_FUSE" 2>/dev/null
	[ -n "$LOOP_DIRECT" ] && losetup -d "$LOOP_DIRECT" 2>/dev/null
	mountpoint -q "$MNT" && umount -l "$MNT"
	if [ -n "$PID" ]; then
		kill $(server_pids "$PID") 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	[ -n "$ORIG_URING" ] && [ -w "$URING_PARAM" ] && echo "$ORIG_URING" >"$URING_PARAM"
	rm -rf "$WORK" "$BACKING_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make -s fuseuring || exit 1
[ -n "$CEILING" ] && { make -s fuseuring-ceiling || exit 1; }
mkdir -p "$MNT" "$EXT4" "$BACKING_DIR"
echo "filling $BACKING ..." >&2
dd if=/dev/urandom of="$BACKING" bs=1M count=512 status=none
# loop_attach FILE: a loop device that really does direct I/O on FILE.  (If
# it silently fell back to buffered I/O, reads would hit FILE's page cache
# and never reach the server: a flattering and meaningless number.)
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

# job_args NAME -> fio arguments: (rand)read|write-SIZE-qdDEPTH
job_args() {
	local name=$1 rw bs qd
	rw=${name%%-*}; bs=${name#*-}; bs=${bs%%-*}; qd=${name##*-qd}
	echo "--rw=$rw --bs=$bs --iodepth=$qd"
}

# ext4_prepare LOOPDEV: ext4 on the loop device, mounted, with a 256 MiB
# file written for fio (once per server; mkfs overwrites the volume).
ext4_prepare() {
	[ "$EXT4_ON" = "$1" ] && return 0
	mkfs.ext4 -q -F -E nodiscard "$1" >/dev/null || return 1
	mount "$1" "$EXT4" || return 1
	EXT4_ON=$1
	dd if=/dev/zero of="$EXT4/fio.dat" bs=1M count=256 oflag=direct status=none
}
ext4_done() {
	[ -n "$EXT4_ON" ] && umount "$EXT4"
	EXT4_ON=
}

# loop_detach DEV: detach it and wait until it is gone (udev may still hold
# it open for a moment, and the volume stays busy until then)
loop_detach() {
	local dev=$1
	command -v udevadm >/dev/null && udevadm settle
	losetup -d "$dev" || return 1
	for _ in $(seq 100); do
		[ -e "/sys/block/${dev#/dev/}/loop/backing_file" ] || return 0
		sleep 0.05
	done
}

# target ACCESS LOOPDEV FILE -> what fio runs on
target() {
	case $1 in
	loop) echo "$2" ;;
	raw) echo "$3" ;;
	ext4) echo "$EXT4/fio.dat" ;;
	esac
}

# cpu_times: "busy idle" of the whole machine, in 1/100 s
cpu_times() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
# ticks PIDS: CPU time used by those processes (all their threads), 1/100 s
ticks() { local p t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }

# measure JOB FIO-TARGET [PIDS]: one fio job, watched.  Prints
# "value ios machine-us/io idle% cs/io wakeups/io daemon-us/io syscalls/io threads rss-MiB"
measure() {
	local job=$1 file=$2 pids=${3:-} b0 b1 c0=0 c1=0 t threads=0 rss=0 sc_pid= m_pid= r p
	local size=512m
	[[ $file == "$EXT4"/* ]] && size=256m
	read -r b0 i0 < <(cpu_times)
	[ -n "$pids" ] && c0=$(ticks $pids)
	if [ -n "$PERF" ]; then
		perf stat -x, -a -e context-switches,sched:sched_wakeup -o "$WORK/m" &
		m_pid=$!
		if [ -n "$pids" ]; then
			perf stat -x, -e raw_syscalls:sys_enter -p "$(echo $pids | tr ' ' ,)" -o "$WORK/sc" &
			sc_pid=$!
		fi
	fi
	# shellcheck disable=SC2046
	fio --name=bench --filename="$file" --ioengine=io_uring --direct=1 \
		--time_based --runtime="$RUNTIME" --ramp_time="$RAMP" --size=$size \
		$(job_args "${job#*/}") --output-format=terse --terse-version=3 \
		>"$WORK/fio" 2>"$WORK/fio.err" &
	local fio_pid=$!
	while kill -0 "$fio_pid" 2>/dev/null; do
		if [ -n "$pids" ]; then
			t=0 r=0
			for p in $pids; do
				t=$((t + $(ls "/proc/$p/task" 2>/dev/null | wc -l)))
				# its own memory (the request buffers), not the
				# page-cache pages its mapping of BACKING shows
				r=$((r + $(awk '/^RssAnon/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
			done
			((t > threads)) && threads=$t
			((r > rss)) && rss=$r
		fi
		sleep 0.2
	done
	wait "$fio_pid"
	for p in $sc_pid $m_pid; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	read -r b1 i1 < <(cpu_times)
	[ -n "$pids" ] && c1=$(ticks $pids)
	local sc=- cs=- wk=-
	if [ -n "$PERF" ]; then
		cs=$(awk -F, '/context-switches/ {print $1}' "$WORK/m")
		wk=$(awk -F, '/sched_wakeup/ {print $1}' "$WORK/m")
		[ -n "$pids" ] && sc=$(awk -F, '/raw_syscalls/ {print $1}' "$WORK/sc")
	fi
	# terse v3: read KiB $6, KiB/s $7, IOPS $8, mean total latency (µs) $40;
	# write: the same 41 fields later.  The ramp is busy too: its I/Os are
	# estimated from the rate.
	local ramp_s=${RAMP%ms}
	[ "$ramp_s" != "$RAMP" ] && ramp_s=$(awk -v m="$ramp_s" 'BEGIN { print m / 1000 }')
	awk -F';' -v job="${job#*/}" -v busy=$((b1 - b0)) -v idle=$((i1 - i0)) \
	    -v cpu=$((c1 - c0)) -v sc="$sc" -v cs="$cs" -v wk="$wk" -v r="$RUNTIME" \
	    -v ramp="$ramp_s" -v threads="$threads" -v rss="$rss" -v daemon="$pids" '
	function per(x, n) { return (x ~ /^[0-9.]+$/ && n > 0) ? x / n : "-" }
	{
		if ($8 + 0 > 0) { iops = $8; kib = $7; ios = $6 / $7 * $8; lat = $40 }
		else { iops = $49; kib = $48; ios = $47 / ($48 > 0 ? $48 : 1) * $49; lat = $81 }
		if (job ~ /-qd1$/) v = lat
		else if (job ~ /-[0-9]+[mM]-/) v = kib / 1024
		else v = iops
		all = ios * (r + ramp) / r	# with the ramp
		f3 = all > 0 ? sprintf("%.1f", busy * 10000 / all) : "-"
		f4 = busy + idle > 0 ? sprintf("%.0f%%", idle * 100 / (busy + idle)) : "-"
		f5 = per(cs, all); if (f5 != "-") f5 = sprintf("%.2f", f5)
		f6 = per(wk, all); if (f6 != "-") f6 = sprintf("%.2f", f6)
		f7 = f8 = f9 = f10 = "-"
		if (daemon != "") {
			f7 = per(cpu * 10000, all); if (f7 != "-") f7 = sprintf("%.1f", f7)
			f8 = per(sc, ios); if (f8 != "-") f8 = sprintf("%.3f", f8)
			f9 = threads; f10 = int(rss / 1024)
		}
		print v, int(ios), f3, f4, f5, f6, f7, f8, f9, f10
	}' "$WORK/fio"
}

# --- the modes --------------------------------------------------------------

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
	*) return 1 ;;
	esac
}

# mode_command MODE -> the server's command line
mode_command() {
	local mode=${1%@q*} queues= base
	[[ $1 == *@q* ]] && queues="-o queues=${1##*@q}"
	base=${mode%-ceiling}
	if [ -n "${SERVER_CMD[$base]+x}" ]; then
		echo "${SERVER_CMD[$base]}"
		return
	fi
	local bin=./fuseuring opts
	[ "$base" != "$mode" ] && bin=./fuseuring-ceiling
	opts=$(mode_opts "$base") || return 1
	echo "$bin -f $opts $queues \"\$BACKING\" \"\$MNT\""
}

# start_server MODE: serve $MNT/volume and put a loop device on it
start_server() {
	local cmd
	cmd=$(mode_command "$1") || { echo "bench.sh: unknown mode $1" >&2; return 1; }
	: >"$WORK/log"
	bash -c "$cmd" >>"$WORK/log" 2>&1 &
	PID=$!
	for _ in $(seq 300); do
		[[ $(findmnt -n -o FSTYPE "$MNT" 2>/dev/null) == fuse* ]] && [ -e "$MNT/volume" ] && break
		kill -0 "$PID" 2>/dev/null || { cat "$WORK/log" >&2; PID=; return 1; }
		sleep 0.05
	done
	LOOP_FUSE=$(loop_attach "$MNT/volume") || { stop_server; return 1; }
	PIDS=$(server_pids "$PID" | tr '\n' ' ')
}

stop_server() {
	ext4_done
	[ -n "$LOOP_FUSE" ] && loop_detach "$LOOP_FUSE"
	LOOP_FUSE=
	mountpoint -q "$MNT" && umount "$MNT"
	local sig
	for sig in TERM KILL; do
		for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break 2; sleep 0.1; done
		kill -$sig $(server_pids "$PID") 2>/dev/null
	done
	wait "$PID" 2>/dev/null
	PID=
}

uses_uring() {
	case ${1%@q*} in
	dev*|passthrough*) return 1 ;;
	*) return 0 ;;	# uring, auto (may choose it), other servers
	esac
}

# what fuseuring says it serves with
served_with() { grep -o 'transport [a-z]* ([^)]*), [0-9]* queues\?' "$WORK/log" | sed 's/ (.*),/,/'; }

# --- the table (rows) ----------------------------------------------------------------

# ratio JOB V REF: how much faster V is than REF (latency jobs: REF / V)
ratio() {
	awk -v j="$1" -v v="$2" -v d="$3" 'BEGIN {
		if (v !~ /^[0-9.]+$/ || d !~ /^[0-9.]+$/ || v <= 0 || d <= 0) print "-";
		else printf "%.3f", (j ~ /-qd1$/ ? d / v : v / d) }'
}
median() { printf '%s\n' "$@" | grep -v '^-\?$' | sort -g | awk '{ a[NR] = $1 } END {
	if (!NR) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# field N of a measured row
field() { echo "$1" | cut -d' ' -f"$2"; }
# median_ratio MODE JOB REF-MODE: the median of each round's ratio
median_ratio() {
	local r list=()
	for r in $ROUNDS; do
		[ -n "${R[row|$1|$2|$r]:-}" ] && [ -n "${R[row|$3|$2|$r]:-}" ] || continue
		list+=("$(ratio "$2" "$(field "${R[row|$1|$2|$r]}" 1)" "$(field "${R[row|$3|$2|$r]}" 1)")")
	done
	median "${list[@]}"
}
fmt_ratio() { [ "$1" = - ] && echo - || printf '%.2f×' "$1"; }
unit() { case $1 in *-qd1) echo "µs mean latency" ;; *-1m-*) echo "MiB/s" ;; *) echo "IOPS" ;; esac; }
ceiling_of() {
	local m=${1%@q*} q=
	[[ $1 == *@q* ]] && q=@q${1##*@q}
	[[ $m == dev* || $m == uring* ]] && [[ $m != *-ceiling ]] && echo "$m-ceiling$q"
}


declare -A GEO
# table_row MODE JOB: the row, medians over the rounds in $ROUNDS
table_row() {
	local mode=$1 job=$2 label=$1 vals=() cols=() list c v r rd rc rv ceil line
	[[ $mode == *@q* ]] && label="${mode%@q*} queues=${mode##*@q} (${R[served|$mode]:-?})"
	for r in $ROUNDS; do
		[ -n "${R[row|$mode|$job|$r]:-}" ] && vals+=("${R[row|$mode|$job|$r]}")
	done
	[ ${#vals[@]} -gt 0 ] || return 0
	for c in 1 3 4 5 6 7 8 9 10; do
		list=()
		for v in "${vals[@]}"; do list+=("$(field "$v" $c | tr -d %)"); done
		cols[$c]=$(median "${list[@]}")
	done
	# the medians of two rounds have more digits than the rounds
	local -A digits=([3]=1 [4]=0 [5]=2 [6]=2 [7]=1 [8]=3 [9]=0 [10]=0)
	for c in 3 4 5 6 7 8 9 10; do
		[ "${cols[$c]}" != - ] && cols[$c]=$(printf "%.${digits[$c]}f" "${cols[$c]}")
	done
	[ "${cols[4]}" != - ] && cols[4]+=%
	v=${cols[1]}
	[[ $job == *-qd1 ]] && v=$(printf '%.1f' "$v") || v=$(printf '%.0f' "$v")
	line="| $label | $job | $v $(unit "$job") | "
	rd=$(median_ratio "$mode" "$job" direct); line+="$(fmt_ratio "$rd") |"
	GEO[$mode|direct]+=" $rd"
	if [ -n "$CEILING" ]; then
		ceil=$(ceiling_of "$mode")
		rc=-; [ -n "$ceil" ] && rc=$(median_ratio "$mode" "$job" "$ceil")
		line+=" $(fmt_ratio "$rc") |"; GEO[$mode|ceiling]+=" $rc"
	fi
	if [ -n "$VERSUS" ]; then
		rv=-; [ "$mode" != "$VERSUS" ] && rv=$(median_ratio "$mode" "$job" "$VERSUS")
		line+=" $(fmt_ratio "$rv") |"; GEO[$mode|versus]+=" $rv"
	fi
	# the daemon's calls are not per I/O where it serves no READ or WRITE
	[[ ${R[served|$mode]:-} == "transport passthrough"* ]] && cols[8]=none
	for c in 3 4 5 6 7 8 9 10; do
		case ${cols[$c]} in
		-) line+="  |" ;;	# nothing to measure, or nothing measured
		none) line+=" - |" ;;
		*) line+=" ${cols[$c]} |" ;;
		esac
	done
	echo "$line"
}

# --- running ----------------------------------------------------------------

declare -A R	# R[what|mode|job|round]
# runs_job MODE JOB: a ceiling build keeps no data: no file system on it
runs_job() { [[ $1 != *-ceiling* || $2 != ext4/* ]]; }
# mode_jobs MODE: how many of the jobs MODE runs in a round
mode_jobs() { local job n=0; for job in $JOBS; do runs_job "$1" "$job" && n=$((n + 1)); done; echo $n; }
TOTAL=0	# the jobs to run; less those of a mode that does not start
for mode in direct "${ALL_MODES[@]}"; do TOTAL=$((TOTAL + $(mode_jobs "$mode") * REPEAT)); done
DONE=0 START=$(date +%s)
HEADER="| mode | job | result | vs direct |"
[ -n "$CEILING" ] && HEADER+=" vs ceiling |"
[ -n "$VERSUS" ] && HEADER+=" vs $VERSUS |"
HEADER+=" machine CPU µs/IO | idle | context switches/IO | wake-ups/IO | daemon CPU µs/IO | daemon syscalls/IO | threads | RSS MiB |"
NCOLS=$(($(echo "$HEADER" | tr -cd '|' | wc -c) - 1))

echo "bench: $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) CPUs, Linux $(uname -r), ${RUNTIME}s jobs, $REPEAT round(s); $TOTAL jobs" >&2
echo "$HEADER" >&2

# duration SECONDS: "9 s", "1 min 05 s"
duration() {
	if [ "$1" -lt 60 ]; then echo "$1 s"; else printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); fi
}

# progress MODE JOB ROUND: "job k/N", and the time left: the jobs left at
# the seconds per job so far, which start from a guess (the job's runtime,
# its ramp and a second of setup) weighted as two jobs, so that the first
# jobs (direct's, with no server to start) do not swing the estimate.
progress() {
	local guess=$((RUNTIME + 2)) left
	left=$(( ($(date +%s) - START + 2 * guess) * (TOTAL - DONE) / (DONE + 2) ))
	printf 'job %d/%d: %s %s%s, about %s left\n' $((DONE + 1)) "$TOTAL" "$1" "$2" \
		"$([ "$REPEAT" -gt 1 ] && echo " (round $3/$REPEAT)")" "$(duration "$left")" >&2
}

# run_jobs MODE ROUND LOOPDEV FILE [PIDS]
run_jobs() {
	local mode=$1 round=$2 job file out
	for job in $JOBS; do
		runs_job "$mode" "$job" || continue
		progress "$mode" "$job" "$round"
		if [[ $job == ext4/* ]]; then
			ext4_prepare "$3" || { echo "bench.sh: cannot make ext4 on $3" >&2; return 1; }
		fi
		file=$(target "${job%%/*}" "$3" "$4")
		out=$(measure "$job" "$file" "${5:-}")
		DONE=$((DONE + 1))
		R[row|$mode|$job|$round]=$out
		ROUNDS=$round table_row "$mode" "$job" >&2
	done
}

for round in $(seq "$REPEAT"); do
	run_jobs direct "$round" "$LOOP_DIRECT" "$BACKING"
	ext4_done
	for mode in "${ALL_MODES[@]}"; do
		if uses_uring "$mode"; then
			[ -e "$URING_PARAM" ] || { echo "skipping $mode: no FUSE over io_uring in this kernel" >&2
				TOTAL=$((TOTAL - $(mode_jobs "$mode"))); continue; }
			echo Y >"$URING_PARAM"
		fi
		if start_server "$mode"; then
			R[served|$mode]=$(served_with)
			run_jobs "$mode" "$round" "$LOOP_FUSE" "$MNT/volume" "$PIDS"
			stop_server
		else
			echo "skipping $mode: the server or its loop device did not start" >&2
			TOTAL=$((TOTAL - $(mode_jobs "$mode")))
		fi
		[ -n "$ORIG_URING" ] && echo "$ORIG_URING" >"$URING_PARAM"
	done
done

# --- the table ---

ROUNDS=$(seq "$REPEAT")
GEO=()
echo
echo "fuseuring bench: $(date -u +%Y-%m-%d), $(nproc) CPUs, Linux $(uname -r), ${RUNTIME}s jobs, $REPEAT round(s)$([ "$REPEAT" -gt 1 ] && echo ", medians")"
echo "(every ratio: higher is better; qd1 jobs compare mean latencies, other ÷ this)"
echo
echo "$HEADER"
printf '|%.0s --- ' $(seq "$NCOLS"); echo '|'
for mode in direct "${ALL_MODES[@]}"; do
	for job in $JOBS; do table_row "$mode" "$job"; done
done
echo
geomean() { printf '%s\n' $1 | awk '$1 != "-" && $1 > 0 { s += log($1); n++ } END { if (n) printf "%.2f× (%d jobs)", exp(s / n), n; else print "-" }'; }
for mode in "${ALL_MODES[@]}"; do
	line="$mode: $(geomean "${GEO[$mode|direct]:-}") of direct"
	[ -n "$CEILING" ] && [ -n "$(ceiling_of "$mode")" ] && line+=", $(geomean "${GEO[$mode|ceiling]:-}") of its ceiling"
	[ -n "$VERSUS" ] && [ "$mode" != "$VERSUS" ] && line+=", $(geomean "${GEO[$mode|versus]:-}") of $VERSUS"
	echo "$line (geometric means; higher is better)"
done
if [ -n "$QUICK" ]; then
	echo
	echo "--quick is a smoke check: it shows that each mode works, not which is faster."
	echo "Its ${RUNTIME}-second jobs$([ "$REPEAT" = 1 ] && echo ", one round,") move between runs by as much as many modes differ;"
	echo "to rank modes, run --repeat 3 with the default 8-second jobs (see doc/performance.md)."
fi
