/* SPDX-License-Identifier: MIT */
/* volume_io - I/O checks for test.sh (a hosted test helper, not shipped).
 *
 *   volume_io random VOLUME BACKING SEED COUNT
 *	COUNT O_DIRECT writes of 512 B to 1 MiB at random 512-aligned offsets
 *	through VOLUME, each read back at once; then VOLUME and BACKING are
 *	both compared, byte for byte, with what was written.  Every failure
 *	names SEED, which replays the same writes.
 *   volume_io fill FILE OFFSET LENGTH SEED [direct]
 *   volume_io check FILE OFFSET LENGTH SEED
 *	write, or verify, a pattern that depends on SEED and the offset.
 *   volume_io sync FILE fsync|fdatasync
 *	write one block and sync it.
 *   volume_io write-errno FILE OFFSET LENGTH [direct|buffered]
 *   volume_io read-errno FILE OFFSET LENGTH [direct|buffered]
 *	O_DIRECT where OFFSET and LENGTH allow it (or as told); go on after
 *	a short transfer until LENGTH is done; print the errno name the
 *	transfer failed with, or "ok" (also when a read meets the end).
 *   volume_io write-once FILE OFFSET LENGTH direct|buffered
 *   volume_io read-once FILE OFFSET LENGTH direct|buffered
 *	one pwrite or pread of LENGTH bytes (at most 4 MiB), nothing more:
 *	print the errno name it failed with, "short N" when it moved only N
 *	bytes, or "ok".
 *   volume_io burst FILE COUNT
 *	COUNT O_DIRECT reads of 4 KiB at random offsets, one at a time.
 *   volume_io notify-listen SOCKET SECONDS
 *	bind a datagram socket (like systemd's NOTIFY_SOCKET) and print each
 *	message received, until STOPPING=1 or SECONDS pass.
 *   volume_io seek FILE OFFSET data|hole
 *	print where lseek(SEEK_DATA or SEEK_HOLE) from OFFSET lands.
 *   volume_io reread FILE OFFSET LENGTH COUNT
 *	COUNT O_DIRECT reads of the same LENGTH bytes at OFFSET.
 *   volume_io logwrite FILE OFFSET LENGTH SEED LOG [WRITERS]
 *	WRITERS processes (default 4) each rewrite their share of the range,
 *	generation after generation, in O_DIRECT writes of 4 KiB to 64 KiB,
 *	each followed by fdatasync; once fdatasync returned, every 4 KiB
 *	block of the write is logged to LOG as "OFFSET GENERATION CHECKSUM".
 *	Generation G of a block is a fill pattern of its own (generation 0:
 *	what `fill ... SEED` wrote).  Runs until a write or sync fails.
 *   volume_io logcheck FILE OFFSET LENGTH SEED LOG
 *	after logwrite died: each 4 KiB block whose newest logged generation
 *	is G (0 if none) must hold generation G (its logged checksum) or
 *	G + 1 (the write that was in flight), whole: never a mix of the two,
 *	never anything else.
 *
 * Exit status 0 when the check holds, 1 with a message when it does not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ALIGN 4096

static uint64_t rng_state;
static const char *replay;	/* printed with every failure: how to replay it */

static uint64_t rng(void)
{
	/* xorshift64*: reproducible from the seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void die(const char *what)
{
	fprintf(stderr, "volume_io: %s: %s%s\n", what, strerror(errno), replay ? replay : "");
	exit(1);
}

static void *aligned(size_t n)
{
	void *p;

	if (posix_memalign(&p, ALIGN, n ? n : ALIGN))
		die("memory");
	return p;
}

static uint64_t parse(const char *s)
{
	return strtoull(s, 0, 0);
}

/* The pattern byte at `offset` for `seed`: every 8-byte word names its own
 * offset, so a misplaced block is caught, not just a wrong one. */
static void pattern(uint8_t *buf, uint64_t offset, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t pos = offset + i;
		uint64_t word = (pos / 8) * 0x9e3779b97f4a7c15ull ^ seed;

		buf[i] = (uint8_t)(word >> (8 * (pos % 8)));
	}
}

enum direction { READ_FROM, WRITE_TO };

/* All of len bytes at off, or die: a short transfer is an error here. */
static void transfer_all(enum direction dir, int fd, uint8_t *buf, size_t len,
			 off_t off, const char *what)
{
	size_t done = 0;

	while (done < len) {
		off_t at = off + (off_t)done;
		ssize_t n = dir == READ_FROM ? pread(fd, buf + done, len - done, at) :
					       pwrite(fd, buf + done, len - done, at);

		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			die(what);
		}
		done += (size_t)n;
	}
}

static void pread_all(int fd, uint8_t *buf, size_t len, off_t off, const char *what)
{
	transfer_all(READ_FROM, fd, buf, len, off, what);
}

static void pwrite_all(int fd, uint8_t *buf, size_t len, off_t off, const char *what)
{
	transfer_all(WRITE_TO, fd, buf, len, off, what);
}

static void compare(const uint8_t *got, const uint8_t *want, size_t len,
		    uint64_t base, const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i]) {
			fprintf(stderr, "volume_io: %s differs at offset %llu%s\n",
				what, (unsigned long long)(base + i), replay ? replay : "");
			exit(1);
		}
}

static int cmd_random(const char *volume, const char *backing, uint64_t seed,
		      unsigned count)
{
	int fd = open(volume, O_RDWR | O_DIRECT);
	int bfd = open(backing, O_RDONLY);
	struct stat st;

	if (fd < 0)
		die(volume);
	if (bfd < 0)
		die(backing);
	if (fstat(fd, &st))
		die(volume);
	size_t size = (size_t)st.st_size;
	uint8_t *model = malloc(size);
	uint8_t *buf = aligned(1 << 20), *back = aligned(1 << 20);

	static char how[256];

	snprintf(how, sizeof(how), " (random I/O with seed %llu, %u writes: replay with "
		 "`volume_io random VOLUME BACKING %llu %u`)", (unsigned long long)seed,
		 count, (unsigned long long)seed, count);
	replay = how;
	if (!model)
		die("memory");
	rng_state = seed | 1;
	/* Start from what is there (O_DIRECT wants aligned memory). */
	for (size_t off = 0; off < size; off += 1 << 20) {
		size_t n = size - off < (1 << 20) ? size - off : (1 << 20);

		pread_all(fd, buf, n, (off_t)off, "initial read");
		memcpy(model + off, buf, n);
	}
	for (unsigned i = 0; i < count; i++) {
		size_t len = (size_t)(1 + rng() % 2048) * 512;	/* 512 B .. 1 MiB */
		uint64_t off;

		if (len > size)
			len = size;
		off = (rng() % ((size - len) / 512 + 1)) * 512;
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rng();
		pwrite_all(fd, buf, len, (off_t)off, "write");
		memcpy(model + off, buf, len);
		pread_all(fd, back, len, (off_t)off, "read back");
		compare(back, buf, len, off, "read-back after write");
	}
	if (fsync(fd))
		die("fsync");
	for (size_t off = 0; off < size; off += 1 << 20) {
		size_t n = size - off < (1 << 20) ? size - off : (1 << 20);

		pread_all(fd, buf, n, (off_t)off, "final read");
		compare(buf, model + off, n, off, "volume");
		pread_all(bfd, back, n, (off_t)off, "backing read");
		compare(back, model + off, n, off, "BACKING");
	}
	printf("random: seed %llu: %u writes verified over %zu bytes\n",
	       (unsigned long long)seed, count, size);
	return 0;
}

static int cmd_fill(const char *file, uint64_t off, uint64_t len, uint64_t seed,
		    int direct)
{
	int fd = open(file, O_WRONLY | (direct ? O_DIRECT : 0));
	uint8_t *buf = aligned(1 << 20);

	if (fd < 0)
		die(file);
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < (1 << 20) ? (size_t)(len - done) : (1 << 20);

		pattern(buf, off + done, n, seed);
		pwrite_all(fd, buf, n, (off_t)(off + done), "write");
		done += n;
	}
	if (fsync(fd))
		die("fsync");
	return close(fd) ? (die("close"), 1) : 0;
}

static int cmd_check(const char *file, uint64_t off, uint64_t len, uint64_t seed)
{
	int fd = open(file, O_RDONLY);
	uint8_t *buf = aligned(1 << 20), *want = aligned(1 << 20);

	if (fd < 0)
		die(file);
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < (1 << 20) ? (size_t)(len - done) : (1 << 20);

		pread_all(fd, buf, n, (off_t)(off + done), "read");
		pattern(want, off + done, n, seed);
		compare(buf, want, n, off + done, file);
		done += n;
	}
	return 0;
}

static int cmd_sync(const char *file, const char *how)
{
	int fd = open(file, O_WRONLY);
	uint8_t block[4096];

	if (fd < 0)
		die(file);
	pattern(block, 0, sizeof(block), 42);
	pwrite_all(fd, block, sizeof(block), 0, "write");
	if ((strcmp(how, "fdatasync") ? fsync(fd) : fdatasync(fd)) != 0)
		die(how);
	return 0;
}

/* O_DIRECT: 1 yes, 0 no, -1 where OFFSET and LENGTH allow it. */
static int open_mode(const char *mode)
{
	if (!mode)
		return -1;
	if (!strcmp(mode, "direct"))
		return 1;
	if (!strcmp(mode, "buffered"))
		return 0;
	fprintf(stderr, "volume_io: %s: want direct or buffered\n", mode);
	exit(2);
}

static int cmd_errno(const char *file, uint64_t off, uint64_t len, int write,
		     int mode)
{
	int direct = mode > 0 || (mode < 0 && !(off % 4096) && !(len % 4096)) ?
			     O_DIRECT : 0;
	int fd = open(file, (write ? O_WRONLY : O_RDONLY) | direct);
	uint8_t *buf = aligned(1 << 20);

	if (fd < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	memset(buf, 0xa5, 1 << 20);
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < (1 << 20) ? (size_t)(len - done) : (1 << 20);
		ssize_t r = write ? pwrite(fd, buf, n, (off_t)(off + done)) :
				    pread(fd, buf, n, (off_t)(off + done));

		if (r < 0) {
			printf("%s\n", strerrorname_np(errno));
			return 0;
		}
		if (r == 0)
			break;
		done += (uint64_t)r;
	}
	if (write && fsync(fd) < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	printf("ok\n");
	return 0;
}

/* One system call: a short count is reported, not made up for. */
static int cmd_once(const char *file, uint64_t off, uint64_t len, int write,
		    int mode)
{
	int fd = open(file, (write ? O_WRONLY : O_RDONLY) | (mode > 0 ? O_DIRECT : 0));
	uint8_t *buf = aligned(4 << 20);
	ssize_t r;

	if (len > 4 << 20) {
		fprintf(stderr, "volume_io: at most 4 MiB at once\n");
		return 2;
	}
	if (fd < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	memset(buf, 0xa5, len);
	r = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
	if (r < 0)
		printf("%s\n", strerrorname_np(errno));
	else if ((uint64_t)r < len)
		printf("short %zd\n", r);
	else
		printf("ok\n");
	return 0;
}

static int cmd_burst(const char *file, unsigned count)
{
	int fd = open(file, O_RDONLY | O_DIRECT);
	uint8_t *buf = aligned(4096);
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		die(file);
	rng_state = 12345;
	for (unsigned i = 0; i < count; i++)
		pread_all(fd, buf, 4096, (off_t)(rng() % (uint64_t)(st.st_size / 4096)) * 4096,
			  "read");
	return 0;
}

static int cmd_notify_listen(const char *path, int seconds)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	char msg[4096];

	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die(path);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, seconds * 1000) <= 0)
			return 1;
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);

		if (n < 0)
			die("recv");
		msg[n] = 0;
		printf("%s\n", msg);
		fflush(stdout);
		if (strstr(msg, "STOPPING=1"))
			return 0;
	}
}

static int cmd_seek(const char *file, uint64_t off, const char *what)
{
	int fd = open(file, O_RDONLY);
	off_t r;

	if (fd < 0)
		die(file);
	r = lseek(fd, (off_t)off, strcmp(what, "hole") ? SEEK_DATA : SEEK_HOLE);
	if (r < 0)
		printf("%s\n", strerrorname_np(errno));
	else
		printf("%lld\n", (long long)r);
	return 0;
}

static int cmd_reread(const char *file, uint64_t off, uint64_t len, unsigned count)
{
	int fd = open(file, O_RDONLY | O_DIRECT);
	uint8_t *buf = aligned(len + ALIGN);

	if (fd < 0)
		die(file);
	for (unsigned i = 0; i < count; i++)
		pread_all(fd, buf, len, (off_t)off, "read");
	return 0;
}

/* --- logwrite / logcheck: what fdatasync acknowledged survives kill -9 ------- */

#define BLOCK 4096

static uint64_t checksum(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Generation 0 is `fill ... SEED`; each next one differs in every byte. */
static uint64_t gen_seed(uint64_t seed, uint64_t gen)
{
	return seed + gen * 0x0101010101010101ull;
}

static uint64_t generation_sum(uint64_t off, uint64_t seed, uint64_t gen)
{
	uint8_t block[BLOCK];

	pattern(block, off, BLOCK, gen_seed(seed, gen));
	return checksum(block, BLOCK);
}

/* One writer: blocks [first, first + count) of the range, over and over. */
static int log_writer(int fd, int log, uint64_t base, uint64_t first, uint64_t count,
		      uint64_t seed, unsigned who)
{
	uint8_t *buf = aligned(16 * BLOCK);
	char line[16 * 64];

	rng_state = (seed * 31 + who) | 1;
	for (uint64_t gen = 1;; gen++) {
		for (uint64_t b = first; b < first + count;) {
			uint64_t n = 1 + rng() % 16, off = base + b * BLOCK;
			size_t used = 0;

			if (n > first + count - b)
				n = first + count - b;
			pattern(buf, off, n * BLOCK, gen_seed(seed, gen));
			if (pwrite(fd, buf, n * BLOCK, (off_t)off) != (ssize_t)(n * BLOCK)) {
				fprintf(stderr, "volume_io: writer %u: write of %llu blocks at %llu: %s\n",
					who, (unsigned long long)n, (unsigned long long)off,
					strerror(errno));
				return 1;
			}
			if (fdatasync(fd)) {
				fprintf(stderr, "volume_io: writer %u: fdatasync: %s\n", who,
					strerror(errno));
				return 1;
			}
			for (uint64_t k = 0; k < n; k++)
				used += (size_t)snprintf(line + used, sizeof(line) - used,
					"%llu %llu %016llx\n",
					(unsigned long long)(off + k * BLOCK), (unsigned long long)gen,
					(unsigned long long)checksum(buf + k * BLOCK, BLOCK));
			/* O_APPEND: one write(2) per fdatasync, never interleaved */
			if (write(log, line, used) != (ssize_t)used)
				die("log");
			b += n;
		}
	}
}

static int cmd_logwrite(const char *file, uint64_t off, uint64_t len, uint64_t seed,
			const char *logpath, unsigned writers)
{
	int fd = open(file, O_WRONLY | O_DIRECT);
	int log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	uint64_t blocks = len / BLOCK, share;
	int status = 0;

	if (fd < 0)
		die(file);
	if (log < 0)
		die(logpath);
	if (!writers || off % BLOCK || len % BLOCK || blocks < writers) {
		fprintf(stderr, "volume_io: logwrite: OFFSET and LENGTH in 4 KiB blocks, "
			"at least one per writer\n");
		return 2;
	}
	share = blocks / writers;
	for (unsigned w = 0; w < writers; w++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);	/* no writer outlives us */
			exit(log_writer(fd, log, off, w * share,
					w + 1 == writers ? blocks - w * share : share, seed, w));
		}
	}
	/* Each writer stops at its first error; all of them end when the
	 * daemon dies. */
	for (unsigned w = 0; w < writers; w++) {
		int st;

		if (wait(&st) < 0)
			die("wait");
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			status = 1;
	}
	return status;
}

static int cmd_logcheck(const char *file, uint64_t off, uint64_t len, uint64_t seed,
			const char *logpath)
{
	uint64_t blocks = len / BLOCK, logged = 0, newer = 0, lines = 0, bad = 0;
	uint64_t *gen = calloc(blocks ? blocks : 1, sizeof(*gen));
	uint64_t *sum = calloc(blocks ? blocks : 1, sizeof(*sum));
	FILE *log = fopen(logpath, "r");
	int fd = open(file, O_RDONLY);
	uint8_t *buf = aligned(BLOCK);
	unsigned long long at, g, c;

	if (!gen || !sum)
		die("memory");
	if (!log)
		die(logpath);
	if (fd < 0)
		die(file);
	while (fscanf(log, "%llu %llu %llx", &at, &g, &c) == 3) {
		uint64_t b = (at - off) / BLOCK;

		lines++;
		if (at < off || (at - off) % BLOCK || b >= blocks || !g) {
			fprintf(stderr, "volume_io: log line %llu: %llu %llu: not a block of the range\n",
				(unsigned long long)lines, at, g);
			return 1;
		}
		if (c != generation_sum(at, seed, g)) {
			fprintf(stderr, "volume_io: log line %llu: block at %llu generation %llu: "
				"logged checksum %016llx, want %016llx\n",
				(unsigned long long)lines, at, g, c,
				(unsigned long long)generation_sum(at, seed, g));
			return 1;
		}
		/* a block's generations are logged in order */
		if (g <= gen[b]) {
			fprintf(stderr, "volume_io: log line %llu: block at %llu: generation %llu "
				"after %llu\n", (unsigned long long)lines, at, g,
				(unsigned long long)gen[b]);
			return 1;
		}
		gen[b] = g;
		sum[b] = c;
	}
	if (!lines) {
		fprintf(stderr, "volume_io: %s: nothing was logged\n", logpath);
		return 1;
	}
	for (uint64_t b = 0; b < blocks; b++) {
		uint64_t at = off + b * BLOCK, have;

		pread_all(fd, buf, BLOCK, (off_t)at, "read");
		have = checksum(buf, BLOCK);
		if (gen[b] && have == sum[b]) {
			logged++;
		} else if (!gen[b] && have == generation_sum(at, seed, 0)) {
			/* never acknowledged, never reached */
		} else if (have == generation_sum(at, seed, gen[b] + 1)) {
			newer++;	/* in flight when the daemon died, and it landed */
		} else {
			uint8_t old[BLOCK], next[BLOCK];
			unsigned from_old = 0, from_next = 0;

			pattern(old, at, BLOCK, gen_seed(seed, gen[b]));
			pattern(next, at, BLOCK, gen_seed(seed, gen[b] + 1));
			for (unsigned i = 0; i < BLOCK; i++) {
				from_old += buf[i] == old[i];
				from_next += buf[i] == next[i];
			}
			if (bad++ < 10)
				fprintf(stderr, "volume_io: %s: block at %llu: %s (newest logged "
					"generation %llu): %u of 4096 bytes match it, %u the next\n",
					file, (unsigned long long)at,
					gen[b] ? "an fdatasync'd write is not there" :
						 "neither the filled data nor the first write",
					(unsigned long long)gen[b], from_old, from_next);
		}
	}
	if (bad) {
		fprintf(stderr, "volume_io: %llu of %llu blocks hold neither their newest "
			"logged generation nor the one after it, whole\n",
			(unsigned long long)bad, (unsigned long long)blocks);
		return 1;
	}
	printf("%llu blocks logged as synced are intact, %llu hold the write in flight\n",
	       (unsigned long long)logged, (unsigned long long)newer);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "random"))
		return cmd_random(argv[2], argv[3], parse(argv[4]), (unsigned)parse(argv[5]));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "fill"))
		return cmd_fill(argv[2], parse(argv[3]), parse(argv[4]), parse(argv[5]),
				argc == 7 && !strcmp(argv[6], "direct"));
	if (argc == 6 && !strcmp(argv[1], "check"))
		return cmd_check(argv[2], parse(argv[3]), parse(argv[4]), parse(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "sync"))
		return cmd_sync(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "notify-listen"))
		return cmd_notify_listen(argv[2], (int)parse(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "burst"))
		return cmd_burst(argv[2], (unsigned)parse(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "seek"))
		return cmd_seek(argv[2], parse(argv[3]), argv[4]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "write-errno"))
		return cmd_errno(argv[2], parse(argv[3]), parse(argv[4]), 1,
				 open_mode(argc == 6 ? argv[5] : 0));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "read-errno"))
		return cmd_errno(argv[2], parse(argv[3]), parse(argv[4]), 0,
				 open_mode(argc == 6 ? argv[5] : 0));
	if (argc == 6 && !strcmp(argv[1], "write-once"))
		return cmd_once(argv[2], parse(argv[3]), parse(argv[4]), 1, open_mode(argv[5]));
	if (argc == 6 && !strcmp(argv[1], "read-once"))
		return cmd_once(argv[2], parse(argv[3]), parse(argv[4]), 0, open_mode(argv[5]));
	if (argc == 6 && !strcmp(argv[1], "reread"))
		return cmd_reread(argv[2], parse(argv[3]), parse(argv[4]), (unsigned)parse(argv[5]));
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "logwrite"))
		return cmd_logwrite(argv[2], parse(argv[3]), parse(argv[4]), parse(argv[5]),
				    argv[6], argc == 8 ? (unsigned)parse(argv[7]) : 4);
	if (argc == 7 && !strcmp(argv[1], "logcheck"))
		return cmd_logcheck(argv[2], parse(argv[3]), parse(argv[4]), parse(argv[5]),
				    argv[6]);
	fprintf(stderr, "usage: see the comment at the top of volume_io.c\n");
	return 2;
}
