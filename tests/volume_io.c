/* volume_io - I/O checks for test.sh (a hosted test helper, not shipped).
 *
 *   volume_io random VOLUME BACKING SEED COUNT
 *	COUNT O_DIRECT writes of 512 B to 1 MiB at random 512-aligned offsets
 *	through VOLUME, each read back at once; then VOLUME and BACKING are
 *	both compared, byte for byte, with what was written.
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
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ALIGN 4096

static uint64_t rng_state;

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
	fprintf(stderr, "volume_io: %s: %s\n", what, strerror(errno));
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
			fprintf(stderr, "volume_io: %s differs at offset %llu\n",
				what, (unsigned long long)(base + i));
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
	printf("random: %u writes verified over %zu bytes\n", count, size);
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
	fprintf(stderr, "usage: see the comment at the top of volume_io.c\n");
	return 2;
}
