/* SPDX-License-Identifier: MIT */
/* check_core - unit checks for the protocol core (fuse_ops.c), hosted.
 *
 *   cc -std=gnu11 -DHOSTED -Wall -Wextra -Wshadow -Wno-unused-parameter \
 *	-fsanitize=address,undefined -g -O1 -o check_core \
 *	tests/check_core.c fuse_ops.c && ./check_core
 *
 * The core never touches BACKING itself: a handler describes one operation
 * (c->io) and returns CALL_BACKING; whoever runs the core performs it and
 * resumes the call with the result.  Here that is a fake BACKING, an
 * in-memory byte array that can also be told to come up short or fail on
 * a given step.  That is what lets these checks pin down the cases a real
 * disk rarely produces: a transfer that moves part of its bytes and then
 * fails, LSEEK results beyond 4 GiB, BACKING ending before the volume.
 *
 * Covered: READ and WRITE in pieces, partial-then-error, end of volume;
 * LSEEK with 64-bit results; INIT's max_pages for 4K, 16K and 64K pages;
 * the reply of every opcode; a read-only volume; and what the core asks
 * BACKING to do, call by call (kind, offset, length, flags): FSYNC's
 * fdatasync, FALLOCATE's mode and range, LSEEK's whence, WRITE at, past
 * and across the end, and the volume following BACKING's size; and every
 * bound the core checks, at it, one past it and far past it: the header's
 * counts against what arrived, the fixed argument, names, WRITE data,
 * BATCH_FORGET's list, a READ or a listing against the reply buffer,
 * offsets against the volume's end and 2^63, BACKING's results against
 * the errno range and 64 bits, INIT's length, versions and max_background.
 * Each request goes in through both transports: as read from /dev/fuse,
 * and as a FUSE-over-io_uring entry.
 *
 * Prints one line per failed check and then "check_core: N passed,
 * N failed"; exits 1 if any check failed.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not <errno.h> or <fcntl.h>: the core's own linux.h defines those values
 * (as the kernel's), and the two would collide. */
#include "../fuse_ops.h"

#define KiB		1024ull
#define MiB		(1024 * KiB)
#define GiB		(1024 * MiB)

#define MAX_WRITE	(128 * KiB)	/* reply buffer, as negotiated */
#define SMALL_SIZE	(1 * MiB)	/* the volume for READ and WRITE */
#define BIG_SIZE	(10 * GiB)	/* the volume for LSEEK: > 4 GiB */

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* --- reporting ------------------------------------------------------------ */

static int passed, failed;
static const char *test_name = "";	/* for messages: what is checked */
/* How requests reach the core; none for checks that send no request. */
static enum { NO_REQUESTS, VIA_DEV, VIA_URING } via;

static void begin(const char *name)
{
	test_name = name;
}

static bool check_at(int line, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return true;
	}
	failed++;
	printf("FAIL check_core.c:%d %s%s: ", line, test_name,
	       via == VIA_URING ? " [uring]" : via == VIA_DEV ? " [dev]" : "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return false;
}

#define CHECK(ok, ...)	check_at(__LINE__, (ok), __VA_ARGS__)

/* Results are byte counts or -errno: say which errno, so a message reads
 * "got 4096, want -5 (EIO)" rather than two bare numbers. */
static const char *errname(int64_t r)
{
	static const struct { int err; const char *name; } names[] = {
		{ EPERM, " (EPERM)" }, { ENOENT, " (ENOENT)" },
		{ EIO, " (EIO)" }, { ENXIO, " (ENXIO)" },
		{ ENOTDIR, " (ENOTDIR)" }, { EISDIR, " (EISDIR)" },
		{ EINVAL, " (EINVAL)" }, { ENOSPC, " (ENOSPC)" },
		{ EROFS, " (EROFS)" }, { ENOSYS, " (ENOSYS)" },
		{ EPROTO, " (EPROTO)" }, { EOPNOTSUPP, " (EOPNOTSUPP)" },
	};

	if (r == CALL_NO_REPLY)
		return " (CALL_NO_REPLY)";
	if (r == CALL_BACKING)
		return " (CALL_BACKING)";
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (r == -names[i].err)
			return names[i].name;
	return "";
}

static bool check_eq_at(int line, const char *what, int64_t got, int64_t want)
{
	return check_at(line, got == want, "%s: got %lld%s, want %lld%s", what,
			(long long)got, errname(got), (long long)want,
			errname(want));
}

#define CHECK_EQ(what, got, want) \
	check_eq_at(__LINE__, (what), (int64_t)(got), (int64_t)(want))

/* --- the fake BACKING ----------------------------------------------------- */

static uint8_t backing_bytes[SMALL_SIZE];	/* BACKING's contents */
/* What WRITE requests carry; a page more than the largest, for requests
 * that claim more than a buffer holds. */
static uint8_t write_source[MAX_WRITE + 4096];
static uint8_t *reply_buf;		/* page aligned, MAX_WRITE bytes */

/* Distinct bytes at every offset, so data landing in the wrong place
 * shows. */
static void fill_backing(void)
{
	for (size_t i = 0; i < sizeof(backing_bytes); i++)
		backing_bytes[i] = (uint8_t)(i * 7 + (i >> 12) * 13);
	for (size_t i = 0; i < sizeof(write_source); i++)
		write_source[i] = (uint8_t)(0xa5 ^ (i * 11));
}

struct fake {
	/* How READ and WRITE behave.  The first script_len transfers follow
	 * the script: n > 0 moves at most n bytes, 0 returns 0 (end of
	 * file), -errno fails.  Later ones move at most `chunk` bytes (0:
	 * all asked for), never past BACKING's end. */
	int64_t script[4];
	int script_len;
	uint64_t chunk;
	uint64_t shrunk_to;	/* nonzero: BACKING ends here, short of
				 * the volume's end */
	uint64_t overreport;	/* a transfer says it moved this many bytes
				 * more than it did (a kernel bug) */
	uint64_t lseek_to;	/* what LSEEK answers: an offset or -errno */
	uint64_t size;		/* what GETATTR and SIZE say BACKING's size
				 * is (0: sizeof(backing_bytes)) */
	int64_t fail_kind_with;	/* -errno for every call of fail_kind */
	enum backing_kind fail_kind;

	/* What happened, for the checks. */
	int step;		/* script entries used */
	int transfers;		/* READ and WRITE operations performed */
	int ops;		/* all operations performed */
	struct backing_io last;	/* the last operation asked for */
	struct backing_io log[8];	/* the first operations, in order */
	int promised;		/* reply_if_complete() at the first step */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static int64_t transfer(struct fake *f, const struct fuse_call *c,
			const struct backing_io *io)
{
	uint64_t end = f->shrunk_to ? f->shrunk_to : sizeof(backing_bytes);
	uint64_t n = io->length;

	/* The core must keep every transfer inside the buffer it belongs
	 * to: READ lands in the reply, WRITE comes from the request. */
	if (io->kind == BACKING_READ)
		CHECK(io->length > 0 && io->buf >= c->reply &&
		      io->buf + io->length <= c->reply + c->reply_cap,
		      "READ outside the reply buffer");
	else
		CHECK(io->length > 0 && io->buf >= c->data &&
		      io->buf + io->length <= c->data + c->data_len,
		      "WRITE from outside the request's data");
	f->transfers++;
	if (f->step < f->script_len) {
		int64_t s = f->script[f->step++];

		if (s <= 0)
			return s;
		n = min_u64(n, (uint64_t)s);
	} else if (f->chunk) {
		n = min_u64(n, f->chunk);
	}
	/* Like pread(2) and pwrite(2) on a file that ends at `end`. */
	n = io->offset < end ? min_u64(n, end - io->offset) : 0;
	if (!n)
		return 0;
	if (io->kind == BACKING_READ)
		memcpy(io->buf, backing_bytes + io->offset, n);
	else
		memcpy(backing_bytes + io->offset, io->buf, n);
	return (int64_t)(n + f->overreport);
}

/* Perform the operation the call asks for; return its result. */
static int64_t perform(struct fake *f, struct fuse_call *c)
{
	struct backing_io *io = &c->io;

	f->last = *io;
	if (f->ops < (int)ARRAY_LEN(f->log))
		f->log[f->ops] = *io;
	f->ops++;
	if (f->fail_kind_with && io->kind == f->fail_kind)
		return f->fail_kind_with;
	switch (io->kind) {
	case BACKING_READ:
	case BACKING_WRITE:
		return transfer(f, c, io);
	case BACKING_GETATTR:
	case BACKING_SIZE:
		c->got.attr = (struct backing_attr){
			.size = f->size ? f->size : sizeof(backing_bytes),
			.blksize = 4096, .blocks = sizeof(backing_bytes) / 512,
			.mtime = { .tv_sec = 1700000000 },
		};
		return 0;
	case BACKING_STATFS:
		c->got.fs = (struct backing_fs){
			.blocks = 1000, .bfree = 500, .bavail = 400,
			.bsize = 4096, .frsize = 4096,
		};
		return 0;
	case BACKING_LSEEK:
		return (int64_t)f->lseek_to;
	case BACKING_RESIZE:
		f->size = io->length;
		return 0;
	default:		/* FSYNC, FALLOCATE, SET_TIMES */
		return 0;
	}
}

/* --- driving the core ----------------------------------------------------- */

/* Start the call and answer its BACKING operations until it has its final
 * result, as the daemon's event loop does. */
static int drive(struct volume *v, struct fake *f, struct fuse_call *c)
{
	int r = fuse_call_start(v, c);

	f->promised = -1;
	for (int steps = 0; r == CALL_BACKING; steps++) {
		if (!CHECK(steps < 10000, "the call never finishes"))
			break;
		if (steps == 0)
			f->promised = fuse_call_reply_if_complete(c);
		r = fuse_call_resume(v, c, perform(f, c));
	}
	return r;
}

struct request {
	uint32_t opcode;
	uint64_t nodeid;
	const void *arg;	/* the opcode's fixed argument */
	uint32_t arg_len;
	const void *data;	/* what follows it: a name, WRITE data */
	uint32_t data_len;
};

/* memcpy with a source that may be NULL when there is nothing to copy. */
static void put(uint8_t *to, const void *from, uint32_t len)
{
	if (len)
		memcpy(to, from, len);
}

/* Deliver a request as the kernel would, run it to its end and return the
 * result.  The reply body is then in reply_buf.  Every buffer is exactly
 * as long as the kernel's, so AddressSanitizer sees any read past it. */
static int call(struct volume *v, struct fake *f, const struct request *q,
		struct fuse_call *c)
{
	static uint64_t unique;
	const uint32_t hdr = sizeof(struct fuse_in_header);
	struct fuse_in_header in = {
		.len = hdr + q->arg_len + q->data_len, .opcode = q->opcode,
		.unique = unique += 2, .nodeid = q->nodeid,
		.uid = 1000, .gid = 1000, .pid = 42,
	};
	uint8_t *msg = NULL;
	int r;

	/* Poison the reply: a body the core did not write shows. */
	memset(reply_buf, 0xee, MAX_WRITE);
	memset(c, 0, sizeof(*c));
	if (via == VIA_URING) {
		/* Header and argument in the entry's header area; the rest
		 * in the payload, which then takes the reply. */
		struct fuse_uring_req_header h;

		memset(&h, 0, sizeof(h));
		memcpy(h.in_out, &in, hdr);
		put(h.op_in, q->arg, q->arg_len);
		h.ring_ent_in_out.commit_id = in.unique;
		h.ring_ent_in_out.payload_sz = q->data_len;
		put(reply_buf, q->data, q->data_len);
		r = fuse_call_parse_uring(c, &h, reply_buf, MAX_WRITE);
	} else {
		/* One message, header + argument + data, as read(2) from
		 * /dev/fuse gives it; the reply goes to its own buffer. */
		msg = malloc(in.len);
		memcpy(msg, &in, hdr);
		put(msg + hdr, q->arg, q->arg_len);
		put(msg + hdr + q->arg_len, q->data, q->data_len);
		r = fuse_call_parse_dev(c, msg, in.len, reply_buf, MAX_WRITE);
	}
	if (CHECK_EQ("parsing a well-formed request", r, 0))
		r = drive(v, f, c);
	free(msg);

	/* What goes back to the kernel: the header must describe the body. */
	if (r != CALL_NO_REPLY && r != CALL_BACKING) {
		struct fuse_out_header h = fuse_reply_header(c, r);

		CHECK_EQ("reply header len", h.len,
			 sizeof(struct fuse_out_header) + (r > 0 ? r : 0));
		CHECK_EQ("reply header error", h.error, r < 0 ? r : 0);
		CHECK_EQ("reply header unique", h.unique, in.unique);
	}
	return r;
}

/* The common case: a fixed argument and nothing after it. */
static int call_arg(struct volume *v, struct fake *f, uint32_t opcode,
		    uint64_t nodeid, const void *arg, uint32_t arg_len,
		    struct fuse_call *c)
{
	return call(v, f, &(struct request){ .opcode = opcode,
		    .nodeid = nodeid, .arg = arg, .arg_len = arg_len }, c);
}

static struct volume volume(uint64_t size)
{
	return (struct volume){
		.name = "volume", .name_len = 6, .root_is_file = false,
		.max_write = MAX_WRITE, .size = size, .mode = 0644,
		.uid = 1000, .gid = 1000,
	};
}

static int do_read(struct volume *v, struct fake *f, uint64_t offset,
		   uint32_t size, struct fuse_call *c)
{
	struct fuse_read_in rd = { .offset = offset, .size = size };

	return call_arg(v, f, FUSE_READ, VOLUME_NODE_ID, &rd, sizeof(rd), c);
}

static int do_write(struct volume *v, struct fake *f, uint64_t offset,
		    uint32_t size, struct fuse_call *c)
{
	struct fuse_write_in wr = { .offset = offset, .size = size };

	return call(v, f, &(struct request){ .opcode = FUSE_WRITE,
		    .nodeid = VOLUME_NODE_ID, .arg = &wr, .arg_len = sizeof(wr),
		    .data = write_source, .data_len = size }, c);
}

/* --- 1. READ and WRITE: whole, or an error -------------------------------- */

/* A volume is a disk: a READ or WRITE moves every byte asked for or fails.
 * A short READ would be taken for the end of the file (the kernel zero
 * fills the rest of the page); a short WRITE count would be taken for a
 * success of those bytes.  The only short READ is one that crosses the
 * end of the volume. */
struct rw_case {
	const char *name;
	uint32_t opcode;	/* FUSE_READ or FUSE_WRITE */
	uint64_t offset;
	uint32_t size;
	int64_t script[4];	/* see struct fake */
	int script_len;
	uint64_t chunk;
	uint64_t shrunk_to;
	uint64_t overreport;
	int want;		/* bytes transferred, or -errno */
};

static const struct rw_case rw_cases[] = {
	{ .name = "READ in one piece", .opcode = FUSE_READ,
	  .offset = 8192, .size = 65536, .want = 65536 },
	{ .name = "READ in 5000-byte pieces", .opcode = FUSE_READ,
	  .offset = 8192, .size = 65536, .chunk = 5000, .want = 65536 },
	{ .name = "READ: 4096 of 65536, then EIO", .opcode = FUSE_READ,
	  .offset = 8192, .size = 65536, .script = { 4096, -EIO },
	  .script_len = 2, .want = -EIO },
	{ .name = "READ: 4096 of 65536, then 0 before the volume's end",
	  .opcode = FUSE_READ, .offset = 8192, .size = 65536,
	  .script = { 4096, 0 }, .script_len = 2, .want = -EIO },
	{ .name = "READ: EIO at once", .opcode = FUSE_READ,
	  .offset = 8192, .size = 65536, .script = { -EIO },
	  .script_len = 1, .want = -EIO },
	{ .name = "READ across the end of a BACKING shrunk to half the volume",
	  .opcode = FUSE_READ, .offset = SMALL_SIZE / 2 - 4096,
	  .size = 65536, .shrunk_to = SMALL_SIZE / 2, .want = -EIO },
	{ .name = "READ at the end of the volume", .opcode = FUSE_READ,
	  .offset = SMALL_SIZE, .size = 4096, .want = 0 },
	{ .name = "READ after the end of the volume", .opcode = FUSE_READ,
	  .offset = SMALL_SIZE + 8192, .size = 4096, .want = 0 },
	{ .name = "READ across the end of the volume", .opcode = FUSE_READ,
	  .offset = SMALL_SIZE - 1000, .size = 4096, .want = 1000 },
	{ .name = "WRITE in one piece", .opcode = FUSE_WRITE,
	  .offset = 4096, .size = 65536, .want = 65536 },
	{ .name = "WRITE in 5000-byte pieces", .opcode = FUSE_WRITE,
	  .offset = 4096, .size = 65536, .chunk = 5000, .want = 65536 },
	{ .name = "WRITE: 4096 of 65536, then ENOSPC", .opcode = FUSE_WRITE,
	  .offset = 4096, .size = 65536, .script = { 4096, -ENOSPC },
	  .script_len = 2, .want = -ENOSPC },
	{ .name = "WRITE: 4096 of 65536, then EIO", .opcode = FUSE_WRITE,
	  .offset = 4096, .size = 65536, .script = { 4096, -EIO },
	  .script_len = 2, .want = -EIO },
	{ .name = "WRITE: 4096 of 65536, then 0", .opcode = FUSE_WRITE,
	  .offset = 4096, .size = 65536, .script = { 4096, 0 },
	  .script_len = 2, .want = -EIO },
	/* The largest READ the reply buffer holds, and the largest WRITE. */
	{ .name = "READ of max_write", .opcode = FUSE_READ,
	  .offset = 0, .size = MAX_WRITE, .want = MAX_WRITE },
	{ .name = "WRITE of max_write", .opcode = FUSE_WRITE,
	  .offset = 0, .size = MAX_WRITE, .want = MAX_WRITE },
	/* BACKING claiming more than it was asked for (at the limit: all of
	 * it; one past; far past) moves no more than was asked: the reply
	 * says what the request asked, never more. */
	{ .name = "READ: BACKING says it read what was asked", .opcode = FUSE_READ,
	  .offset = 8192, .size = 4096, .overreport = 0, .want = 4096 },
	{ .name = "READ: BACKING says it read 1 byte more", .opcode = FUSE_READ,
	  .offset = 8192, .size = 4096, .overreport = 1, .want = 4096 },
	{ .name = "READ: BACKING says it read 2^40 bytes more", .opcode = FUSE_READ,
	  .offset = 8192, .size = 4096, .overreport = 1ull << 40, .want = 4096 },
	{ .name = "WRITE: BACKING says it wrote 1 byte more", .opcode = FUSE_WRITE,
	  .offset = 8192, .size = 4096, .overreport = 1, .want = 4096 },
	{ .name = "WRITE: BACKING says it wrote 2^40 bytes more", .opcode = FUSE_WRITE,
	  .offset = 8192, .size = 4096, .overreport = 1ull << 40, .want = 4096 },
};

static void check_rw_case(const struct rw_case *t)
{
	struct volume v = volume(SMALL_SIZE);
	struct fake f = { .script_len = t->script_len, .chunk = t->chunk,
			  .shrunk_to = t->shrunk_to, .overreport = t->overreport };
	struct fuse_call c;
	int r;

	memcpy(f.script, t->script, sizeof(f.script));
	fill_backing();
	begin(t->name);
	if (t->opcode == FUSE_READ) {
		r = do_read(&v, &f, t->offset, t->size, &c);
		CHECK_EQ("READ result", r, t->want);
		if (t->want > 0 && r == t->want)
			CHECK(memcmp(reply_buf, backing_bytes + t->offset,
				     (size_t)r) == 0,
			      "the reply is not BACKING's bytes");
		/* The daemon may link the reply to the read and send
		 * this length before the read is done. */
		if (t->want > 0 && f.promised >= 0)
			CHECK_EQ("fuse_call_reply_if_complete", f.promised,
				 t->want);
	} else {
		const struct fuse_write_out *out = (void *)reply_buf;

		r = do_write(&v, &f, t->offset, t->size, &c);
		if (t->want < 0) {
			CHECK_EQ("WRITE result", r, t->want);
		} else if (CHECK_EQ("WRITE result", r, sizeof(*out))) {
			CHECK_EQ("fuse_write_out.size", out->size, t->want);
			CHECK(memcmp(backing_bytes + t->offset, write_source,
				     t->size) == 0,
			      "BACKING does not hold the data written");
		}
	}
	if (t->want == 0)
		CHECK_EQ("BACKING transfers for an empty READ", f.transfers, 0);
	if (t->chunk)
		CHECK(f.transfers > 1, "the transfer was not split: %d step(s)",
		      f.transfers);
}

/* --- 2. LSEEK: 64-bit results --------------------------------------------- */

struct seek_case {
	const char *name;
	uint32_t whence;
	uint64_t offset;	/* in the request */
	uint64_t backing_says;	/* BACKING's lseek result */
	int want;		/* reply length or -errno */
	uint64_t want_offset;
};

static const struct seek_case seek_cases[] = {
	{ "SEEK_DATA to 3 GiB (> 2^31)", SEEK_DATA, 0, 3 * GiB,
	  sizeof(struct fuse_lseek_out), 3 * GiB },
	{ "SEEK_HOLE to 5 GiB (> 2^32)", SEEK_HOLE, 1 * GiB, 5 * GiB,
	  sizeof(struct fuse_lseek_out), 5 * GiB },
	{ "SEEK_DATA from 4.5 GiB to 9 GiB", SEEK_DATA, 4 * GiB + 512 * MiB,
	  9 * GiB, sizeof(struct fuse_lseek_out), 9 * GiB },
	{ "SEEK_HOLE to 9 GiB + 4095", SEEK_HOLE, 6 * GiB, 9 * GiB + 4095,
	  sizeof(struct fuse_lseek_out), 9 * GiB + 4095 },
	/* BACKING may be longer than the volume: the volume ends first. */
	{ "SEEK_DATA to the volume's end", SEEK_DATA, 0, BIG_SIZE, -ENXIO, 0 },
	{ "SEEK_DATA beyond the volume", SEEK_DATA, 0, 11 * GiB, -ENXIO, 0 },
	{ "SEEK_HOLE to the volume's end", SEEK_HOLE, 0, BIG_SIZE,
	  sizeof(struct fuse_lseek_out), BIG_SIZE },
	{ "SEEK_HOLE beyond the volume", SEEK_HOLE, 0, 11 * GiB,
	  sizeof(struct fuse_lseek_out), BIG_SIZE },
	{ "SEEK_DATA, BACKING says ENXIO", SEEK_DATA, 8 * GiB,
	  (uint64_t)-ENXIO, -ENXIO, 0 },
	/* A start at or past the end needs no BACKING (backing_says 0). */
	{ "SEEK_DATA from the volume's end", SEEK_DATA, BIG_SIZE, 0,
	  -ENXIO, 0 },
	{ "SEEK_HOLE from past the end", SEEK_HOLE, 12 * GiB, 0, -ENXIO, 0 },
	/* The volume's last byte is in it; what BACKING has beyond the
	 * volume's end, as far as 2^63 - 1, is not. */
	{ "SEEK_DATA to the volume's last byte", SEEK_DATA, 0, BIG_SIZE - 1,
	  sizeof(struct fuse_lseek_out), BIG_SIZE - 1 },
	{ "SEEK_DATA from the volume's last byte", SEEK_DATA, BIG_SIZE - 1,
	  BIG_SIZE - 1, sizeof(struct fuse_lseek_out), BIG_SIZE - 1 },
	{ "SEEK_DATA to 2^63 - 1", SEEK_DATA, 0, INT64_MAX, -ENXIO, 0 },
	{ "SEEK_HOLE to 2^63 - 1", SEEK_HOLE, 0, INT64_MAX,
	  sizeof(struct fuse_lseek_out), BIG_SIZE },
	{ "SEEK_DATA from 2^63", SEEK_DATA, 1ull << 63, 0, -ENXIO, 0 },
	{ "SEEK_HOLE from 2^64 - 1", SEEK_HOLE, UINT64_MAX, 0, -ENXIO, 0 },
};

static void check_seek_case(const struct seek_case *t)
{
	struct volume v = volume(BIG_SIZE);
	struct fake f = { .lseek_to = t->backing_says, .size = BIG_SIZE };
	struct fuse_lseek_in in = { .offset = t->offset, .whence = t->whence };
	const struct fuse_lseek_out *out = (void *)reply_buf;
	struct fuse_call c;
	int r;

	begin(t->name);
	r = call_arg(&v, &f, FUSE_LSEEK, VOLUME_NODE_ID, &in, sizeof(in), &c);
	if (CHECK_EQ("LSEEK result", r, t->want) && r > 0)
		CHECK_EQ("fuse_lseek_out.offset", out->offset, t->want_offset);
	/* BACKING's size first; past its end, nothing more. */
	CHECK_EQ("first BACKING operation", f.log[0].kind, BACKING_SIZE);
	if (t->offset >= BIG_SIZE) {
		CHECK_EQ("BACKING operations", f.ops, 1);
	} else if (CHECK_EQ("BACKING operations", f.ops, 2)) {
		CHECK_EQ("BACKING operation", f.last.kind, BACKING_LSEEK);
		/* The 64-bit start and the whence reach BACKING intact. */
		CHECK_EQ("BACKING lseek offset", f.last.offset, t->offset);
		CHECK_EQ("BACKING lseek whence", f.last.flags, t->whence);
	}
}

/* --- 3. INIT: max_pages in the kernel's page size ------------------------- */

/* The kernel sizes a READ as max_pages of its own pages.  With 64 KiB
 * pages, max_pages = max_write / 4096 would ask for 16 times the buffer. */
static void check_init_pages(void)
{
	const uint64_t offered = FUSE_ASYNC_READ | FUSE_BIG_WRITES |
				 FUSE_DO_READDIRPLUS | FUSE_ASYNC_DIO |
				 FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES |
				 FUSE_INIT_EXT | FUSE_WRITEBACK_CACHE |
				 FUSE_PASSTHROUGH | FUSE_OVER_IO_URING;
	const struct fuse_init_in in = {
		.major = 7, .minor = 45, .max_readahead = 128 * KiB,
		.flags = (uint32_t)offered, .flags2 = (uint32_t)(offered >> 32),
	};
	static const uint32_t page_sizes[] = { 4096, 16384, 65536 };
	static const uint32_t max_writes[] = { 256 * KiB, 1 * MiB };
	char name[64];

	for (size_t i = 0; i < ARRAY_LEN(page_sizes); i++) {
		for (size_t j = 0; j < ARRAY_LEN(max_writes); j++) {
			uint32_t page = page_sizes[i];
			uint32_t max_write = max_writes[j];
			struct init_wish wish = { .max_write = max_write,
						  .page_size = page,
						  .max_background = (uint16_t)(20 + i + j) };
			struct fuse_init_out out;
			struct init_result res;
			int r;

			snprintf(name, sizeof(name),
				 "INIT, %u KiB pages, max_write %u KiB",
				 page / 1024, max_write / 1024);
			begin(name);
			r = fuse_init_negotiate((const uint8_t *)&in,
						sizeof(in), &wish, &out, &res);
			if (!CHECK_EQ("reply length", r, sizeof(out)))
				continue;
			CHECK_EQ("minor", out.minor, 45);
			CHECK_EQ("max_write", out.max_write, max_write);
			CHECK_EQ("max_pages", out.max_pages, max_write / page);
			CHECK_EQ("max_pages * page size",
				 (uint64_t)out.max_pages * page, max_write);
			CHECK(out.flags & FUSE_MAX_PAGES,
			      "FUSE_MAX_PAGES not in the reply's flags");
			/* As many background requests as the queues hold. */
			CHECK_EQ("max_background", out.max_background, 20 + i + j);
			CHECK_EQ("congestion_threshold", out.congestion_threshold,
				 out.max_background);
			/* Nothing the kernel did not offer, nothing unasked. */
			CHECK((res.flags & ~offered) == 0, "flags not offered");
			CHECK(!(res.flags & FUSE_WRITEBACK_CACHE),
			      "FUSE_WRITEBACK_CACHE accepted");
		}
	}
}

/* --- 4. every opcode's reply ---------------------------------------------- */

/* What each opcode answers on a volume mounted over a directory: node 1
 * is the directory, node 2 the volume file. */
enum want_kind {
	UNLISTED,		/* an opcode this table forgot */
	BYTES,			/* a reply body of `value` bytes */
	FAILS,			/* the error `value` */
	NO_REPLY,		/* CALL_NO_REPLY */
	DIRENTS,		/* ".", ".." and "volume" */
};

struct want {
	enum want_kind kind;
	uint64_t node;		/* the request's nodeid */
	int value;
};

#define B(node, type)	{ BYTES, node, (int)sizeof(struct type) }
#define E(node, err)	{ FAILS, node, -(err) }
#define NONE(node)	{ NO_REPLY, node, 0 }
#define OK(node)	{ BYTES, node, 0 }

static const struct want wants[FUSE_OPCODE_COUNT] = {
	[0] = E(2, ENOSYS),				/* not an opcode */
	[FUSE_LOOKUP] = B(1, fuse_entry_out),
	[FUSE_FORGET] = NONE(2),
	[FUSE_GETATTR] = B(2, fuse_attr_out),
	[FUSE_SETATTR] = B(2, fuse_attr_out),
	[FUSE_READLINK] = E(2, ENOSYS),
	[FUSE_SYMLINK] = E(1, ENOSYS),
	[7] = E(2, ENOSYS),				/* unused */
	[FUSE_MKNOD] = E(1, ENOSYS),
	[FUSE_MKDIR] = E(1, ENOSYS),
	[FUSE_UNLINK] = E(1, ENOSYS),
	[FUSE_RMDIR] = E(1, ENOSYS),
	[FUSE_RENAME] = E(1, ENOSYS),
	[FUSE_LINK] = E(2, ENOSYS),
	[FUSE_OPEN] = B(2, fuse_open_out),
	[FUSE_READ] = { BYTES, 2, 4096 },		/* all asked for */
	[FUSE_WRITE] = B(2, fuse_write_out),
	[FUSE_STATFS] = B(1, fuse_statfs_out),
	[FUSE_RELEASE] = OK(2),
	[19] = E(2, ENOSYS),				/* unused */
	[FUSE_FSYNC] = OK(2),
	[FUSE_SETXATTR] = E(2, ENOSYS),
	[FUSE_GETXATTR] = E(2, ENOSYS),
	[FUSE_LISTXATTR] = E(2, ENOSYS),
	[FUSE_REMOVEXATTR] = E(2, ENOSYS),
	[FUSE_FLUSH] = OK(2),
	[FUSE_INIT] = E(0, EPROTO),			/* at start only */
	[FUSE_OPENDIR] = B(1, fuse_open_out),
	[FUSE_READDIR] = { DIRENTS, 1, 0 },
	[FUSE_RELEASEDIR] = OK(1),
	[FUSE_FSYNCDIR] = OK(1),
	[FUSE_GETLK] = E(2, ENOSYS),
	[FUSE_SETLK] = E(2, ENOSYS),
	[FUSE_SETLKW] = E(2, ENOSYS),
	[FUSE_ACCESS] = E(2, ENOSYS),
	[FUSE_CREATE] = E(1, ENOSYS),
	[FUSE_INTERRUPT] = NONE(0),
	[FUSE_BMAP] = E(2, ENOSYS),
	[FUSE_DESTROY] = OK(0),
	[FUSE_IOCTL] = E(2, ENOSYS),
	[FUSE_POLL] = E(2, ENOSYS),
	[FUSE_NOTIFY_REPLY] = E(0, ENOSYS),
	[FUSE_BATCH_FORGET] = NONE(0),
	[FUSE_FALLOCATE] = OK(2),
	[FUSE_READDIRPLUS] = { DIRENTS, 1, 0 },
	[FUSE_RENAME2] = E(1, ENOSYS),
	[FUSE_LSEEK] = B(2, fuse_lseek_out),
	[FUSE_COPY_FILE_RANGE] = E(2, ENOSYS),
	[FUSE_SETUPMAPPING] = E(2, ENOSYS),
	[FUSE_REMOVEMAPPING] = E(2, ENOSYS),
	[FUSE_SYNCFS] = E(1, ENOSYS),
	[FUSE_TMPFILE] = E(1, ENOSYS),
	[FUSE_STATX] = E(2, ENOSYS),
	[FUSE_COPY_FILE_RANGE_64] = E(2, ENOSYS),
};

union any_arg {
	struct fuse_forget_in forget;
	struct fuse_getattr_in getattr;
	struct fuse_setattr_in setattr;
	struct fuse_open_in open;
	struct fuse_read_in read;
	struct fuse_write_in write;
	struct fuse_release_in release;
	struct fuse_flush_in flush;
	struct fuse_fsync_in fsync;
	struct fuse_init_in init;
	struct fuse_interrupt_in interrupt;
	struct fuse_batch_forget_in batch_forget;
	struct fuse_fallocate_in fallocate;
	struct fuse_lseek_in lseek;
};

/* A well-formed request for `opcode`: its fixed argument in *a, and what
 * follows it.  Opcodes the core does not implement get no argument: it
 * answers them without reading one. */
static struct request opcode_request(uint32_t opcode, uint64_t nodeid,
				     union any_arg *a)
{
	static const struct fuse_forget_one forget_list[1] = { { 2, 1 } };
	struct request q = { .opcode = opcode, .nodeid = nodeid, .arg = a };

	memset(a, 0, sizeof(*a));
	switch (opcode) {
	case FUSE_LOOKUP:
		q.data = "volume";
		q.data_len = 7;			/* with its NUL */
		break;
	case FUSE_FORGET:
		a->forget.nlookup = 1;
		q.arg_len = sizeof(a->forget);
		break;
	case FUSE_GETATTR:
		q.arg_len = sizeof(a->getattr);
		break;
	case FUSE_SETATTR:
		a->setattr.valid = FATTR_MODE;
		a->setattr.mode = S_IFREG | 0640;
		q.arg_len = sizeof(a->setattr);
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		a->open.flags = opcode == FUSE_OPEN ? O_RDWR : O_RDONLY;
		q.arg_len = sizeof(a->open);
		break;
	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		a->read.size = 4096;
		q.arg_len = sizeof(a->read);
		break;
	case FUSE_WRITE:
		a->write.offset = 4096;
		a->write.size = 4096;
		q.arg_len = sizeof(a->write);
		q.data = write_source;
		q.data_len = 4096;
		break;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
		q.arg_len = sizeof(a->release);
		break;
	case FUSE_FLUSH:
		q.arg_len = sizeof(a->flush);
		break;
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR:
		a->fsync.fsync_flags = FUSE_FSYNC_FDATASYNC;
		q.arg_len = sizeof(a->fsync);
		break;
	case FUSE_INIT:
		a->init = (struct fuse_init_in){ .major = 7, .minor = 45 };
		q.arg_len = sizeof(a->init);
		break;
	case FUSE_INTERRUPT:
		a->interrupt.unique = 1;
		q.arg_len = sizeof(a->interrupt);
		break;
	case FUSE_BATCH_FORGET:
		a->batch_forget.count = 1;
		q.arg_len = sizeof(a->batch_forget);
		q.data = forget_list;
		q.data_len = sizeof(forget_list);
		break;
	case FUSE_FALLOCATE:
		a->fallocate.length = 4096;
		q.arg_len = sizeof(a->fallocate);
		break;
	case FUSE_LSEEK:
		a->lseek.whence = SEEK_DATA;
		q.arg_len = sizeof(a->lseek);
		break;
	}
	return q;
}

/* READDIR(PLUS) from offset 0 lists ".", ".." and the volume, each record
 * padded to 8 bytes; READDIRPLUS puts a fuse_entry_out before each. */
static void check_dirents(const uint8_t *p, int len, bool plus)
{
	static const char *const names[] = { ".", "..", "volume" };
	uint32_t at = 0;

	if (!CHECK(len > 0 && len % 8 == 0, "listing of %d bytes", len))
		return;
	for (uint64_t i = 0; i < 3; i++) {
		const struct fuse_entry_out *e = (const void *)(p + at);
		uint32_t namelen = (uint32_t)strlen(names[i]);

		if (plus)
			at += sizeof(*e);
		if (!CHECK(at + sizeof(struct fuse_dirent) <= (uint32_t)len,
			   "listing ends before \"%s\"", names[i]))
			return;
		const struct fuse_dirent *d = (const void *)(p + at);

		CHECK(d->namelen == namelen &&
		      memcmp(d + 1, names[i], namelen) == 0 && d->off == i + 1,
		      "entry %d is not \"%s\" with off %d", (int)i, names[i],
		      (int)i + 1);
		if (i == 2) {
			CHECK_EQ("the volume's ino", d->ino, VOLUME_NODE_ID);
			if (plus)
				CHECK_EQ("the volume's nodeid", e->nodeid,
					 VOLUME_NODE_ID);
		}
		at += FUSE_DIRENT_ALIGN(sizeof(*d) + namelen);
	}
	CHECK_EQ("listing length", len, at);
}

static void check_opcode(uint32_t opcode, const struct want *w)
{
	struct volume v = volume(SMALL_SIZE);
	struct fake f = { 0 };
	union any_arg arg;
	struct fuse_call c;
	struct request q = opcode_request(opcode, w->node, &arg);
	const char *name = fuse_opcode_name(opcode);
	char label[64];
	int r;

	snprintf(label, sizeof(label), "opcode %u (%s)", opcode,
		 name ? name : "unknown");
	begin(label);
	fill_backing();
	r = call(&v, &f, &q, &c);
	switch (w->kind) {
	case UNLISTED:
		CHECK(false, "no expectation in the table");
		break;
	case BYTES:
	case FAILS:
		CHECK_EQ("result", r, w->value);
		break;
	case NO_REPLY:
		CHECK_EQ("result", r, CALL_NO_REPLY);
		break;
	case DIRENTS:
		check_dirents(reply_buf, r, opcode == FUSE_READDIRPLUS);
		break;
	}
	if (opcode == FUSE_WRITE && r > 0) {
		const struct fuse_write_out *out = (const void *)reply_buf;

		CHECK_EQ("fuse_write_out.size", out->size, 4096);
	}
	if (opcode == FUSE_SETATTR && r > 0) {
		const struct fuse_attr_out *out = (const void *)reply_buf;

		CHECK_EQ("mode after SETATTR", out->attr.mode, S_IFREG | 0640);
	}
}

static void check_all_opcodes(void)
{
	for (uint32_t op = 0; op < FUSE_OPCODE_COUNT; op++)
		check_opcode(op, &wants[op]);
	/* Opcodes newer than the core, and nonsense. */
	static const struct want unknown = E(2, ENOSYS);

	check_opcode(FUSE_OPCODE_COUNT, &unknown);
	check_opcode(4096, &unknown);
}

/* --- 5. a read-only volume; names that are not the volume ----------------- */

static void check_read_only(void)
{
	struct volume v = volume(SMALL_SIZE);
	struct fake f = { 0 };
	struct fuse_call c;
	struct fuse_fallocate_in fa = { .length = 4096 };
	struct fuse_setattr_in sa = { .valid = FATTR_MODE, .mode = 0600 };
	struct fuse_open_in rw = { .flags = O_RDWR };
	struct fuse_open_in wo = { .flags = O_WRONLY };
	struct fuse_open_in ro = { .flags = O_RDONLY };

	v.read_only = true;
	fill_backing();
	begin("read-only WRITE");
	CHECK_EQ("result", do_write(&v, &f, 0, 4096, &c), -EROFS);
	begin("read-only FALLOCATE");
	CHECK_EQ("result", call_arg(&v, &f, FUSE_FALLOCATE, 2, &fa, sizeof(fa),
				    &c), -EROFS);
	begin("read-only SETATTR");
	CHECK_EQ("result", call_arg(&v, &f, FUSE_SETATTR, 2, &sa, sizeof(sa),
				    &c), -EROFS);
	CHECK_EQ("mode after a refused SETATTR", v.mode, 0644);
	/* Refused before BACKING is touched. */
	CHECK_EQ("BACKING operations for refused requests", f.ops, 0);
	begin("read-only OPEN O_RDWR");
	CHECK_EQ("result", call_arg(&v, &f, FUSE_OPEN, 2, &rw, sizeof(rw), &c),
		 -EROFS);
	begin("read-only OPEN O_WRONLY");
	CHECK_EQ("result", call_arg(&v, &f, FUSE_OPEN, 2, &wo, sizeof(wo), &c),
		 -EROFS);
	/* Reading stays possible. */
	begin("read-only OPEN O_RDONLY");
	CHECK_EQ("result", call_arg(&v, &f, FUSE_OPEN, 2, &ro, sizeof(ro), &c),
		 sizeof(struct fuse_open_out));
	begin("read-only READ");
	CHECK_EQ("result", do_read(&v, &f, 0, 4096, &c), 4096);

	/* Only the exact name, NUL-terminated, is the volume. */
	static const char *const others[] = { "volum", "volumes", "VOLUME",
					      "x", "", "volume/" };
	char label[64];

	for (size_t i = 0; i < ARRAY_LEN(others); i++) {
		snprintf(label, sizeof(label), "LOOKUP \"%s\"", others[i]);
		begin(label);
		struct request q = {
			.opcode = FUSE_LOOKUP, .nodeid = FUSE_ROOT_ID,
			.data = others[i],
			.data_len = (uint32_t)strlen(others[i]) + 1,
		};

		CHECK_EQ("result", call(&v, &f, &q, &c), -ENOENT);
	}
}

/* --- 6. what the core asks BACKING to do ---------------------------------- */

/* Every BACKING operation a request leads to, in order: kind, and the
 * offset, length and flags that matter for it.  The core's answer is only
 * as good as these: an fsync that became fdatasync, a punch-hole that lost
 * its mode, a range that reaches past the volume all reply "success". */
struct io_want {
	enum backing_kind kind;
	uint64_t offset, length;
	uint32_t flags;
};

struct calls_case {
	const char *name;
	uint32_t opcode;
	union any_arg arg;
	uint64_t volume_size;	/* what the volume last knew */
	uint64_t backing_size;	/* what BACKING says now (0: the same) */
	bool passthrough, resizable;
	enum backing_kind fail_kind;	/* with fail_with */
	int64_t fail_with;
	int want;		/* result: reply length or -errno */
	uint64_t want_size;	/* the volume's size after (0: unchanged) */
	int nio;
	struct io_want io[4];
};

#define IO(k, off, len, fl) { .kind = (k), .offset = (off), .length = (len), .flags = (fl) }
#define FA(off, len, m)	{ .fallocate = { .offset = (off), .length = (len), .mode = (m) } }
#define SK(off, wh)	{ .lseek = { .offset = (off), .whence = (wh) } }
#define WR(off, len)	{ .write = { .offset = (off), .size = (len) } }
#define SZ(sz)		{ .setattr = { .valid = FATTR_SIZE, .size = (sz) } }
#define PUNCH		(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
/* An fsync that BACKING answers with `res`: the reply is `result`. */
#define FSYNC_FAILS(res, result) \
	FUSE_FSYNC, { .fsync = { 0 } }, M, .fail_kind = BACKING_FSYNC, .fail_with = (res), \
	.want = (result), .nio = 1, .io = { IO(BACKING_FSYNC, 0, 0, 0) }
#define FSIZE		sizeof(struct fuse_lseek_out)
#define ATTR		sizeof(struct fuse_attr_out)
#define M		SMALL_SIZE

static const struct calls_case calls_cases[] = {
	{ "FSYNC: fsync", FUSE_FSYNC, { .fsync = { .fsync_flags = 0 } }, M, .want = 0,
	  .nio = 1, .io = { IO(BACKING_FSYNC, 0, 0, 0) } },
	{ "FSYNC: fdatasync", FUSE_FSYNC, { .fsync = { .fsync_flags = FUSE_FSYNC_FDATASYNC } },
	  M, .want = 0, .nio = 1, .io = { IO(BACKING_FSYNC, 0, 0, 1) } },
	{ "FSYNC: BACKING's EIO", FSYNC_FAILS(-EIO, -EIO) },
	/* the kernel takes errors in (-512, 0) only: the rest is EIO */
	{ "FSYNC: -512 (ERESTARTSYS) from BACKING", FSYNC_FAILS(-512, -EIO) },
	{ "FSYNC: -511 from BACKING", FSYNC_FAILS(-511, -511) },
	{ "FSYNC: -4095 from BACKING", FSYNC_FAILS(-4095, -EIO) },
	/* 64-bit results that are no errno: never passed on, never cut to
	 * 32 bits (-2^32 would become 0, a success), never mistaken for the
	 * core's own CALL_NO_REPLY and CALL_BACKING */
	{ "FSYNC: -4096 from BACKING", FSYNC_FAILS(-4096, -EIO) },
	{ "FSYNC: -100000 from BACKING", FSYNC_FAILS(-100000, -EIO) },
	{ "FSYNC: -100001 from BACKING", FSYNC_FAILS(-100001, -EIO) },
	{ "FSYNC: -2^32 from BACKING", FSYNC_FAILS(-(1ll << 32), -EIO) },
	{ "FSYNC: -2^63 from BACKING", FSYNC_FAILS(INT64_MIN, -EIO) },
	{ "LSEEK: a result of -4096 is no errno", FUSE_LSEEK, SK(0, SEEK_DATA), M,
	  .fail_kind = BACKING_LSEEK, .fail_with = -4096, .want = -EIO,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_LSEEK, 0, 0, SEEK_DATA) } },
	{ "FALLOCATE: punch inside", FUSE_FALLOCATE, FA(8192, 4096, PUNCH), M, .want = 0,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_FALLOCATE, 8192, 4096, PUNCH) } },
	{ "FALLOCATE: zero range inside", FUSE_FALLOCATE,
	  FA(0, 65536, FALLOC_FL_ZERO_RANGE), M, .want = 0,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_FALLOCATE, 0, 65536, FALLOC_FL_ZERO_RANGE) } },
	{ "FALLOCATE: punch across the end, cut there", FUSE_FALLOCATE,
	  FA(M - 4096, 65536, PUNCH), M, .want = 0,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_FALLOCATE, M - 4096, 4096, PUNCH) } },
	{ "FALLOCATE: punch at the end", FUSE_FALLOCATE, FA(M, 4096, PUNCH), M, .want = 0,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "FALLOCATE: punch past the end", FUSE_FALLOCATE, FA(M + 8192, 4096, PUNCH), M,
	  .want = 0, .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "FALLOCATE: extending the volume", FUSE_FALLOCATE, FA(M - 4096, 8192, 0), M,
	  .want = -ENOSPC, .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "FALLOCATE: extending, zero range", FUSE_FALLOCATE,
	  FA(M, 4096, FALLOC_FL_ZERO_RANGE), M, .want = -ENOSPC, .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "FALLOCATE: mode 0 inside", FUSE_FALLOCATE, FA(0, 4096, 0), M, .want = 0,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_FALLOCATE, 0, 4096, 0) } },
	{ "FALLOCATE: unknown mode", FUSE_FALLOCATE, FA(0, 4096, 0x40), M,
	  .want = -EOPNOTSUPP },
	{ "FALLOCATE: no length", FUSE_FALLOCATE, FA(0, 0, PUNCH), M, .want = -EINVAL },
	{ "FALLOCATE: end beyond 2^63", FUSE_FALLOCATE, FA(1ull << 62, 3ull << 61, PUNCH), M,
	  .want = -EINVAL },
	/* The range ends at most at 2^63 - 1 (the kernel's s_maxbytes); one
	 * past it or far past it is refused whole, never cut. */
	{ "FALLOCATE: end at 2^63 - 1", FUSE_FALLOCATE, FA(INT64_MAX - 4096, 4096, PUNCH), M,
	  .want = 0, .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "FALLOCATE: end at 2^63", FUSE_FALLOCATE, FA(INT64_MAX - 4096, 4097, PUNCH), M,
	  .want = -EINVAL },
	{ "FALLOCATE: from 2^63", FUSE_FALLOCATE, FA(1ull << 63, 1, PUNCH), M, .want = -EINVAL },
	{ "FALLOCATE: from 2^64 - 1", FUSE_FALLOCATE, FA(UINT64_MAX, 1, PUNCH), M,
	  .want = -EINVAL },
	{ "FALLOCATE: length 2^64 - 1", FUSE_FALLOCATE, FA(0, UINT64_MAX, PUNCH), M,
	  .want = -EINVAL },
	/* Up to the volume's end exactly; one byte more would extend it. */
	{ "FALLOCATE: mode 0 up to the end", FUSE_FALLOCATE, FA(M - 4096, 4096, 0), M,
	  .want = 0, .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_FALLOCATE, M - 4096, 4096, 0) } },
	{ "FALLOCATE: mode 0 one byte past the end", FUSE_FALLOCATE, FA(M - 4096, 4097, 0), M,
	  .want = -ENOSPC, .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "FALLOCATE: BACKING's ENOSPC", FUSE_FALLOCATE, FA(0, 4096, 0), M,
	  .fail_kind = BACKING_FALLOCATE, .fail_with = -ENOSPC, .want = -ENOSPC,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_FALLOCATE, 0, 4096, 0) } },
	{ "FALLOCATE: BACKING's size unknown", FUSE_FALLOCATE, FA(0, 4096, PUNCH), M,
	  .fail_kind = BACKING_SIZE, .fail_with = -EIO, .want = -EIO,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	/* passthrough: the kernel wrote past the end, BACKING grew */
	{ "FALLOCATE: punch in what a passthrough write added", FUSE_FALLOCATE,
	  FA(M + 4096, 4096, PUNCH), M, 2 * M, .passthrough = true, .want = 0, .want_size = 2 * M,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_FALLOCATE, M + 4096, 4096, PUNCH) } },
	{ "FALLOCATE: BACKING shrunk under the volume", FUSE_FALLOCATE,
	  FA(M / 2, 4096, PUNCH), M, M / 2, .want = 0, .want_size = M / 2,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "LSEEK: SEEK_DATA", FUSE_LSEEK, SK(4096, SEEK_DATA), M, .want = FSIZE,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_LSEEK, 4096, 0, SEEK_DATA) } },
	{ "LSEEK: SEEK_HOLE", FUSE_LSEEK, SK(4096, SEEK_HOLE), M, .want = FSIZE,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_LSEEK, 4096, 0, SEEK_HOLE) } },
	{ "LSEEK: SEEK_DATA at the end", FUSE_LSEEK, SK(M, SEEK_DATA), M, .want = -ENXIO,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "LSEEK: SEEK_HOLE at the end", FUSE_LSEEK, SK(M, SEEK_HOLE), M, .want = -ENXIO,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "LSEEK: SEEK_DATA past the end", FUSE_LSEEK, SK(M + 1, SEEK_DATA), M, .want = -ENXIO,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "LSEEK: SEEK_HOLE past the end", FUSE_LSEEK, SK(3 * M, SEEK_HOLE), M, .want = -ENXIO,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "LSEEK: SEEK_CUR is the kernel's", FUSE_LSEEK, SK(0, 1), M, .want = -EINVAL },
	{ "LSEEK: SEEK_DATA from the last byte", FUSE_LSEEK, SK(M - 1, SEEK_DATA), M, .want = FSIZE,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_LSEEK, M - 1, 0, SEEK_DATA) } },
	{ "LSEEK: SEEK_DATA from 2^63", FUSE_LSEEK, SK(1ull << 63, SEEK_DATA), M, .want = -ENXIO,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "LSEEK: SEEK_HOLE from 2^64 - 1", FUSE_LSEEK, SK(UINT64_MAX, SEEK_HOLE), M,
	  .want = -ENXIO, .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	{ "LSEEK: SEEK_DATA in what a passthrough write added", FUSE_LSEEK,
	  SK(M, SEEK_DATA), M, 2 * M, .passthrough = true, .want = FSIZE, .want_size = 2 * M,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_LSEEK, M, 0, SEEK_DATA) } },
	{ "WRITE: inside", FUSE_WRITE, WR(8192, 4096), M, .want = 8,
	  .nio = 1, .io = { IO(BACKING_WRITE, 8192, 4096, 0) } },
	{ "WRITE: across the end, cut there", FUSE_WRITE, WR(M - 1000, 4096), M, .want = 8,
	  .nio = 1, .io = { IO(BACKING_WRITE, M - 1000, 1000, 0) } },
	{ "WRITE: at the end", FUSE_WRITE, WR(M, 4096), M, .want = -ENOSPC },
	{ "WRITE: past the end", FUSE_WRITE, WR(M + 4096, 4096), M, .want = -ENOSPC },
	{ "WRITE: nothing", FUSE_WRITE, WR(M + 4096, 0), M, .want = 8 },
	{ "WRITE: at the last byte", FUSE_WRITE, WR(M - 1, 4096), M, .want = 8,
	  .nio = 1, .io = { IO(BACKING_WRITE, M - 1, 1, 0) } },
	{ "WRITE: at 2^63", FUSE_WRITE, WR(1ull << 63, 4096), M, .want = -ENOSPC },
	{ "WRITE: at 2^64 - 4096", FUSE_WRITE, WR(UINT64_MAX - 4095, 4096), M, .want = -ENOSPC },
	{ "READ: at the last byte", FUSE_READ, { .read = { .offset = M - 1, .size = 4096 } },
	  M, .want = 1, .nio = 1, .io = { IO(BACKING_READ, M - 1, 1, 0) } },
	{ "READ: at the end", FUSE_READ, { .read = { .offset = M, .size = 4096 } }, M, .want = 0 },
	{ "READ: at 2^63", FUSE_READ, { .read = { .offset = 1ull << 63, .size = 4096 } },
	  M, .want = 0 },
	{ "READ: at 2^64 - 4096", FUSE_READ, { .read = { .offset = UINT64_MAX - 4095, .size = 4096 } },
	  M, .want = 0 },
	{ "READ: across the end, cut there", FUSE_READ, { .read = { .offset = M - 512, .size = 4096 } },
	  M, .want = 512, .nio = 1, .io = { IO(BACKING_READ, M - 512, 512, 0) } },
	{ "SETATTR: the size it has", FUSE_SETATTR, SZ(M), M, .want = ATTR,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, { .kind = BACKING_GETATTR } } },
	{ "SETATTR: a new size", FUSE_SETATTR, SZ(M / 2), M, .resizable = true, .want = ATTR,
	  .want_size = M / 2,
	  .nio = 3, .io = { { .kind = BACKING_SIZE }, IO(BACKING_RESIZE, 0, M / 2, 0), { .kind = BACKING_GETATTR } } },
	{ "SETATTR: a new size, without -o resize", FUSE_SETATTR, SZ(M / 2), M, .want = -EPERM,
	  .nio = 1, .io = { { .kind = BACKING_SIZE } } },
	/* truncate back after a passthrough write grew BACKING: the size
	 * the volume last knew is not BACKING's */
	{ "SETATTR: back to the old size after a passthrough write", FUSE_SETATTR, SZ(M),
	  M, 2 * M, .passthrough = true, .resizable = true, .want = ATTR, .want_size = M,
	  .nio = 3, .io = { { .kind = BACKING_SIZE }, IO(BACKING_RESIZE, 0, M, 0), { .kind = BACKING_GETATTR } } },
	{ "SETATTR: BACKING's resize fails", FUSE_SETATTR, SZ(2 * M), M, .resizable = true,
	  .fail_kind = BACKING_RESIZE, .fail_with = -EFBIG, .want = -EFBIG,
	  .nio = 2, .io = { { .kind = BACKING_SIZE }, IO(BACKING_RESIZE, 0, 2 * M, 0) } },
	{ "SETATTR: times", FUSE_SETATTR,
	  { .setattr = { .valid = FATTR_MTIME, .mtime = 99, .mtimensec = 5 } }, M, .want = ATTR,
	  .nio = 2, .io = { { .kind = BACKING_SET_TIMES }, { .kind = BACKING_GETATTR } } },
	{ "GETATTR: BACKING grown by passthrough", FUSE_GETATTR, { .getattr = { 0 } },
	  M, 3 * M, .passthrough = true, .want = ATTR, .want_size = 3 * M,
	  .nio = 1, .io = { { .kind = BACKING_GETATTR } } },
	{ "GETATTR: BACKING grown by someone else", FUSE_GETATTR, { .getattr = { 0 } },
	  M, 3 * M, .want = ATTR, .want_size = 3 * M, .nio = 1, .io = { { .kind = BACKING_GETATTR } } },
	{ "STATFS", FUSE_STATFS, { .getattr = { 0 } }, M, .want = sizeof(struct fuse_statfs_out),
	  .nio = 1, .io = { { .kind = BACKING_STATFS } } },
};

static unsigned resized_elsewhere_calls;
static uint64_t resized_from, resized_to;

static void note_resized_elsewhere(uint64_t from, uint64_t to)
{
	resized_elsewhere_calls++;
	resized_from = from;
	resized_to = to;
}

static void check_calls_case(const struct calls_case *t)
{
	struct volume v = volume(t->volume_size);
	struct fake f = { .size = t->backing_size ? t->backing_size : t->volume_size,
			  .fail_kind = t->fail_kind, .fail_kind_with = t->fail_with,
			  .lseek_to = 4096 };
	union any_arg arg = t->arg;
	struct request q = opcode_request(t->opcode, t->opcode == FUSE_STATFS ? 1 : 2, &arg);
	struct fuse_call c;
	uint64_t want_size = t->want_size ? t->want_size : t->volume_size;
	char what[64];
	int r;

	begin(t->name);
	fill_backing();
	v.backing_id = t->passthrough;
	v.resizable = t->resizable;
	v.resized_elsewhere = note_resized_elsewhere;
	resized_elsewhere_calls = 0;
	q.arg = &t->arg;	/* the case's argument, not the default one */
	if (t->opcode == FUSE_WRITE)
		q.data_len = t->arg.write.size;
	r = call(&v, &f, &q, &c);
	CHECK_EQ("result", r, t->want);
	CHECK_EQ("the volume's size after", v.size, want_size);
	/* Only a change nobody here made is news for the log. */
	if (!t->passthrough && t->backing_size && t->backing_size != t->volume_size &&
	    CHECK_EQ("resized_elsewhere() calls", resized_elsewhere_calls, 1)) {
		CHECK_EQ("resized_elsewhere() from", resized_from, t->volume_size);
		CHECK_EQ("resized_elsewhere() to", resized_to, t->backing_size);
	} else if (t->passthrough || !t->backing_size) {
		CHECK_EQ("resized_elsewhere() calls", resized_elsewhere_calls, 0);
	}
	if (!CHECK_EQ("BACKING operations", f.ops, t->nio))
		return;
	for (int i = 0; i < t->nio; i++) {
		const struct backing_io *io = &f.log[i];
		const struct io_want *w = &t->io[i];

		snprintf(what, sizeof(what), "operation %d: kind", i);
		if (!CHECK_EQ(what, io->kind, w->kind))
			continue;
		switch (w->kind) {
		case BACKING_FALLOCATE:
		case BACKING_READ:
		case BACKING_WRITE:
			snprintf(what, sizeof(what), "operation %d: offset", i);
			CHECK_EQ(what, io->offset, w->offset);
			/* fall through */
		case BACKING_RESIZE:
			snprintf(what, sizeof(what), "operation %d: length", i);
			CHECK_EQ(what, io->length, w->length);
			if (w->kind == BACKING_RESIZE)
				break;
			/* fall through */
		case BACKING_FSYNC:
			snprintf(what, sizeof(what), "operation %d: flags", i);
			CHECK_EQ(what, io->flags, w->flags);
			break;
		case BACKING_LSEEK:
			snprintf(what, sizeof(what), "operation %d: offset", i);
			CHECK_EQ(what, io->offset, w->offset);
			snprintf(what, sizeof(what), "operation %d: whence", i);
			CHECK_EQ(what, io->flags, w->flags);
			break;
		case BACKING_SET_TIMES:
			CHECK(io->times[0].tv_nsec == UTIME_OMIT &&
			      io->times[1].tv_sec == 99 && io->times[1].tv_nsec == 5,
			      "times %lld.%ld %lld.%ld, want omit and 99.5",
			      (long long)io->times[0].tv_sec, (long)io->times[0].tv_nsec,
			      (long long)io->times[1].tv_sec, (long)io->times[1].tv_nsec);
			break;
		default:
			break;
		}
	}
	/* A reply that says where the volume ends says BACKING's end, and
	 * BACKING's allocation and times. */
	if (t->opcode == FUSE_GETATTR || (t->opcode == FUSE_SETATTR && r > 0)) {
		const struct fuse_attr *a = &((const struct fuse_attr_out *)reply_buf)->attr;

		CHECK_EQ("attr.size", a->size, want_size);
		CHECK_EQ("attr.blocks", a->blocks, sizeof(backing_bytes) / 512);
		CHECK_EQ("attr.blksize", a->blksize, 4096);
		CHECK_EQ("attr.mtime", a->mtime, 1700000000);
	}
}


/* --- 7. bounds: each limit at, one past and far past ----------------------
 *
 * Requests laid out as the kernel lays them out, but with the counts in
 * their headers set by hand.  What the protocol says about each count
 * decides the outcome: the header's len is the whole request, extensions
 * end it, the fixed argument is whole, a name ends in a NUL, WRITE data is
 * exactly its size, BATCH_FORGET's list holds its count, a READ or a
 * listing fits the reply buffer.  Every buffer is exactly as long as what
 * was delivered (the /dev/fuse message as read(2) returned it, the entry's
 * payload buffer, the reply buffer of reply_cap bytes), so reading or
 * writing one byte past it stops the run under AddressSanitizer; and a
 * reply is never longer than its buffer. */

/* A count a header states, true or not.  In struct wire's len, read_len
 * and payload_sz, 0 stands for the true count, SAYS(n) for n. */
#define SAYS(n)		((uint64_t)(n) | 1ull << 32)

struct wire {
	uint32_t opcode;
	uint64_t nodeid;
	const void *arg;	/* the fixed argument (uring: in op_in) */
	uint32_t arg_len;
	const void *data;	/* what follows it (uring: the payload) */
	uint32_t data_len;
	uint32_t ext_len;	/* extension bytes after the data (zeros) */
	uint16_t total_extlen;	/* what the header says of them, in 8s */
	uint64_t len;		/* fuse_in_header.len */
	uint64_t read_len;	/* dev: what read(2) returned */
	uint64_t payload_sz;	/* uring: the entry's payload_sz */
	uint32_t reply_cap;	/* the reply buffer (uring: the payload
				 * buffer); 0: MAX_WRITE */
};

static uint32_t stated(uint64_t says, uint32_t truth)
{
	return says ? (uint32_t)says : truth;
}

/* Deliver w through the current transport and run it to its end.  The
 * parse result goes to *parsed; the result is the call's answer, or the
 * parse result when parsing refused the request. */
static int deliver(struct volume *v, struct fake *f, const struct wire *w,
		   struct fuse_call *c, int *parsed)
{
	static uint64_t unique = 1;
	const uint32_t hdr = sizeof(struct fuse_in_header);
	const uint32_t body = w->arg_len + w->data_len + w->ext_len;
	const uint32_t cap = w->reply_cap ? w->reply_cap : MAX_WRITE;
	struct fuse_in_header in = {
		.len = stated(w->len, hdr + body), .opcode = w->opcode,
		.unique = unique += 2, .nodeid = w->nodeid,
		.total_extlen = w->total_extlen,
	};
	uint8_t *whole = calloc(1, hdr + body);	/* header, argument, data, extensions */
	uint8_t *reply = malloc(cap), *msg = NULL;
	int r;

	memcpy(whole, &in, hdr);
	put(whole + hdr, w->arg, w->arg_len);
	put(whole + hdr + w->arg_len, w->data, w->data_len);
	memset(c, 0, sizeof(*c));
	if (via == VIA_URING) {
		/* The argument in op_in, the rest in the payload buffer, as
		 * far as it holds it. */
		struct fuse_uring_req_header h;
		uint32_t payload = body - w->arg_len;

		memset(&h, 0, sizeof(h));
		memcpy(h.in_out, &in, hdr);
		if (CHECK(w->arg_len <= sizeof(h.op_in), "an argument longer than op_in"))
			put(h.op_in, w->arg, w->arg_len);
		h.ring_ent_in_out.payload_sz = stated(w->payload_sz, payload);
		memcpy(reply, whole + hdr + w->arg_len, payload < cap ? payload : cap);
		r = fuse_call_parse_uring(c, &h, reply, cap);
	} else {
		uint32_t got = stated(w->read_len, hdr + body);

		msg = malloc(got ? got : 1);
		memcpy(msg, whole, got < hdr + body ? got : hdr + body);
		r = fuse_call_parse_dev(c, msg, got, reply, cap);
	}
	*parsed = r;
	if (r == 0)
		r = drive(v, f, c);
	/* The reply body goes into the reply buffer: never past its end. */
	CHECK(r <= (int)cap, "a reply of %d bytes for a buffer of %u", r, cap);
	free(whole);
	free(msg);
	free(reply);
	return r;
}

#define DEV		(1u << VIA_DEV)
#define URING		(1u << VIA_URING)
#define BOTH		(DEV | URING)
#define REQ(op, node)	.opcode = (op), .nodeid = (node)
#define ARG(type, ...)	.arg = &(struct type){ __VA_ARGS__ }, .arg_len = sizeof(struct type)
#define NAME(s)		.data = (s), .data_len = sizeof(s) - 1
#define DATA(n)		.data = write_source, .data_len = (n)
#define HDR		sizeof(struct fuse_in_header)
#define U32_MAX		0xffffffffu
/* A WRITE that says it has `said` bytes, with `sent` bytes of data */
#define WRITE_OF(said, sent) \
	REQ(FUSE_WRITE, 2), ARG(fuse_write_in, .size = (said)), DATA(sent)
/* A GETATTR followed by 8 bytes of extensions, of which the header says
 * `units` 8-byte units */
#define EXTENDED_GETATTR(units) \
	{ REQ(FUSE_GETATTR, 2), ARG(fuse_getattr_in, .fh = 0), .ext_len = 8, \
	  .total_extlen = (units) }
/* READDIR(PLUS) of the root, asking for `asked` bytes, into a reply
 * buffer of `cap` (0: MAX_WRITE) */
#define LISTING(op, asked, cap) \
	{ REQ(op, 1), ARG(fuse_read_in, .size = (asked)), .reply_cap = (cap) }

struct bound_case {
	const char *name;
	unsigned via;		/* DEV, URING or BOTH */
	struct wire w;
	int parsed;		/* what parsing says: 0, -EINVAL, CALL_NO_REPLY */
	int want;		/* the answer when parsing said 0 */
};

/* A GETATTR's argument with room for anything after it: op_in is 128 bytes. */
static const uint8_t getattr_arg[128];

static const struct bound_case bound_cases[] = {
	/* The header against what arrived: dev's read(2) returns one whole
	 * request, and its len says how long (fs/fuse/dev.c). */
	{ "a message as long as a header", BOTH, { REQ(FUSE_STATFS, 1) },
	  .want = sizeof(struct fuse_statfs_out) },
	{ "a message one byte short of a header", DEV,
	  { REQ(FUSE_STATFS, 1), .read_len = SAYS(HDR - 1) },
	  .parsed = CALL_NO_REPLY },
	{ "an empty message", DEV, { REQ(FUSE_STATFS, 1), .read_len = SAYS(0) },
	  .parsed = CALL_NO_REPLY },
	{ "len one byte past the message", DEV,
	  { REQ(FUSE_GETATTR, 2), ARG(fuse_getattr_in, .fh = 0), .len = SAYS(HDR + 17) },
	  .parsed = -EINVAL },
	{ "len one byte short of the message", DEV,
	  { REQ(FUSE_GETATTR, 2), ARG(fuse_getattr_in, .fh = 0), .len = SAYS(HDR + 15) },
	  .parsed = -EINVAL },
	{ "len 2^32 - 1", DEV,
	  { REQ(FUSE_GETATTR, 2), ARG(fuse_getattr_in, .fh = 0), .len = SAYS(U32_MAX) },
	  .parsed = -EINVAL },
	{ "len one byte short of a header", URING,
	  { REQ(FUSE_STATFS, 1), .len = SAYS(HDR - 1) },
	  .parsed = -EINVAL },
	{ "len 0", URING, { REQ(FUSE_STATFS, 1), .len = SAYS(0) },
	  .parsed = -EINVAL },
	/* Extensions end the request, after the argument and the data. */
	{ "8 bytes of extensions", BOTH,
	  EXTENDED_GETATTR(1), .want = sizeof(struct fuse_attr_out) },
	{ "extensions one unit more than sent", BOTH,
	  EXTENDED_GETATTR(2), .parsed = -EINVAL },
	{ "extensions over the whole body", BOTH, EXTENDED_GETATTR(3), .parsed = -EINVAL },
	{ "extensions one unit past the body", BOTH,
	  EXTENDED_GETATTR(4), .parsed = -EINVAL },
	{ "extensions of 2^16 - 1 units", BOTH,
	  EXTENDED_GETATTR(0xffff), .parsed = -EINVAL },
	/* The fixed argument, whole.  FUSE over io_uring: in op_in, 128
	 * bytes; the header's len counts it and the payload. */
	{ "READ's argument whole", BOTH,
	  { REQ(FUSE_READ, 2), ARG(fuse_read_in, .size = 4096) },
	  .want = 4096 },
	{ "READ's argument one byte short", BOTH,
	  { REQ(FUSE_READ, 2), .arg = &(struct fuse_read_in){ .size = 4096 },
	    .arg_len = sizeof(struct fuse_read_in) - 1 },
	  .parsed = -EINVAL },
	{ "READ without its argument", BOTH, { REQ(FUSE_READ, 2) },
	  .parsed = -EINVAL },
	{ "an argument filling op_in", URING,
	  { REQ(FUSE_GETATTR, 2), .arg = getattr_arg, .arg_len = 128 },
	  .want = sizeof(struct fuse_attr_out) },
	{ "an argument one byte longer than op_in", URING,
	  { REQ(FUSE_GETATTR, 2), .arg = getattr_arg, .arg_len = 128,
	    .len = SAYS(HDR + 129) },
	  .parsed = -EINVAL },
	{ "an argument of 2^32 - 41 bytes", URING,
	  { REQ(FUSE_GETATTR, 2), .arg = getattr_arg, .arg_len = 128,
	    .len = SAYS(U32_MAX) },
	  .parsed = -EINVAL },
	{ "len one byte short of the payload", URING,
	  { WRITE_OF(4096, 4096), .len = SAYS(HDR + 4095) },
	  .parsed = -EINVAL },
	{ "len of a header, with a payload", URING,
	  { WRITE_OF(4096, 4096), .len = SAYS(HDR) },
	  .parsed = -EINVAL },
	/* INIT's oldest argument is major and minor: 8 bytes (answered at
	 * start only, so EPROTO here). */
	{ "INIT's oldest argument", BOTH,
	  { REQ(FUSE_INIT, 0), .arg = &(struct fuse_init_in){ .major = 7, .minor = 45 },
	    .arg_len = 8 },
	  .want = -EPROTO },
	{ "INIT one byte short of its oldest argument", BOTH,
	  { REQ(FUSE_INIT, 0), .arg = &(struct fuse_init_in){ .major = 7, .minor = 45 },
	    .arg_len = 7 },
	  .parsed = -EINVAL },
	/* A name ends in a NUL inside the request. */
	{ "LOOKUP: the name and its NUL", BOTH, { REQ(FUSE_LOOKUP, 1), NAME("volume\0") },
	  .want = sizeof(struct fuse_entry_out) },
	{ "LOOKUP: the name without its NUL", BOTH,
	  { REQ(FUSE_LOOKUP, 1), NAME("volume"), .reply_cap = 6 },
	  .parsed = -EINVAL },
	{ "LOOKUP: no name", BOTH, { REQ(FUSE_LOOKUP, 1) },
	  .parsed = -EINVAL },
	/* WRITE data is exactly fuse_write_in.size bytes; with FUSE over
	 * io_uring it is the payload, which the payload buffer holds. */
	{ "WRITE: data as long as its size", BOTH, { WRITE_OF(4096, 4096) },
	  .want = sizeof(struct fuse_write_out) },
	{ "WRITE: one byte more data than its size", BOTH, { WRITE_OF(4096, 4097) },
	  .parsed = -EINVAL },
	{ "WRITE: one byte less data than its size", BOTH, { WRITE_OF(4096, 4095) },
	  .parsed = -EINVAL },
	{ "WRITE: size 2^32 - 1", BOTH, { WRITE_OF(U32_MAX, 4096) },
	  .parsed = -EINVAL },
	{ "WRITE: a payload as large as its buffer", URING,
	  { WRITE_OF(MAX_WRITE, MAX_WRITE) },
	  .want = sizeof(struct fuse_write_out) },
	{ "WRITE: a payload one byte larger than its buffer", URING,
	  { WRITE_OF(MAX_WRITE + 1, MAX_WRITE + 1) },
	  .parsed = -EINVAL },
	{ "WRITE: a payload a page larger than its buffer", URING,
	  { WRITE_OF(MAX_WRITE + 4096, MAX_WRITE + 4096) },
	  .parsed = -EINVAL },
	{ "WRITE: a payload_sz of 2^32 - 1", URING,
	  { WRITE_OF(4096, 4096), .payload_sz = SAYS(U32_MAX) },
	  .parsed = -EINVAL },
	/* BATCH_FORGET's list holds count entries of 16 bytes.  Malformed,
	 * it is dropped: it takes no reply. */
	{ "BATCH_FORGET: a list of one", BOTH,
	  { REQ(FUSE_BATCH_FORGET, 0), ARG(fuse_batch_forget_in, .count = 1), DATA(16) },
	  .want = CALL_NO_REPLY },
	{ "BATCH_FORGET: an entry one byte short", BOTH,
	  { REQ(FUSE_BATCH_FORGET, 0), ARG(fuse_batch_forget_in, .count = 1), DATA(15) },
	  .parsed = CALL_NO_REPLY },
	{ "BATCH_FORGET: a count one past the list", BOTH,
	  { REQ(FUSE_BATCH_FORGET, 0), ARG(fuse_batch_forget_in, .count = 2), DATA(16) },
	  .parsed = CALL_NO_REPLY },
	{ "BATCH_FORGET: a count of 2^28 (2^32 bytes)", BOTH,
	  { REQ(FUSE_BATCH_FORGET, 0), ARG(fuse_batch_forget_in, .count = 1u << 28),
	    DATA(16) },
	  .parsed = CALL_NO_REPLY },
	{ "BATCH_FORGET: a count of 2^32 - 1", BOTH,
	  { REQ(FUSE_BATCH_FORGET, 0), ARG(fuse_batch_forget_in, .count = U32_MAX),
	    DATA(16) },
	  .parsed = CALL_NO_REPLY },
	{ "FORGET: its argument whole", BOTH,
	  { REQ(FUSE_FORGET, 2), ARG(fuse_forget_in, .nlookup = 1) },
	  .want = CALL_NO_REPLY },
	{ "FORGET: its argument one byte short", BOTH,
	  { REQ(FUSE_FORGET, 2), .arg = &(struct fuse_forget_in){ .nlookup = 1 },
	    .arg_len = 7 },
	  .parsed = CALL_NO_REPLY },
	/* A READ's data is its reply: no more than the reply buffer holds
	 * (max_write, what INIT allowed), wherever the volume ends. */
	{ "READ of reply_cap", BOTH,
	  { REQ(FUSE_READ, 2), ARG(fuse_read_in, .size = MAX_WRITE) },
	  .want = MAX_WRITE },
	{ "READ one byte past reply_cap", BOTH,
	  { REQ(FUSE_READ, 2), ARG(fuse_read_in, .size = MAX_WRITE + 1) },
	  .want = -EINVAL },
	{ "READ a page past reply_cap", BOTH,
	  { REQ(FUSE_READ, 2), ARG(fuse_read_in, .size = MAX_WRITE + 4096) },
	  .want = -EINVAL },
	{ "READ of 2^32 - 1", BOTH,
	  { REQ(FUSE_READ, 2), ARG(fuse_read_in, .size = U32_MAX) },
	  .want = -EINVAL },
	{ "READ past reply_cap, near the volume's end", BOTH,
	  { REQ(FUSE_READ, 2),
	    ARG(fuse_read_in, .offset = SMALL_SIZE - 100, .size = MAX_WRITE + 1) },
	  .want = -EINVAL },
	/* A listing is whole records (24 bytes and the name, padded to 8:
	 * 32 each for ".", ".." and "volume"; READDIRPLUS puts a 128-byte
	 * fuse_entry_out before each), no longer than asked, and no longer
	 * than the reply buffer. */
	{ "READDIR: room for three", BOTH, LISTING(FUSE_READDIR, 96, 0), .want = 96 },
	{ "READDIR: one byte short of three", BOTH,
	  LISTING(FUSE_READDIR, 95, 0), .want = 64 },
	{ "READDIR: no room for one", BOTH, LISTING(FUSE_READDIR, 31, 0), .want = 0 },
	{ "READDIR: a reply buffer for three", BOTH,
	  LISTING(FUSE_READDIR, 4096, 96), .want = 96 },
	{ "READDIR: a reply buffer one byte short of three", BOTH,
	  LISTING(FUSE_READDIR, 4096, 95), .want = 64 },
	{ "READDIR: a reply buffer of 8 bytes", BOTH,
	  LISTING(FUSE_READDIR, 4096, 8), .want = 0 },
	{ "READDIRPLUS: room for three", BOTH,
	  LISTING(FUSE_READDIRPLUS, 480, 0), .want = 480 },
	{ "READDIRPLUS: one byte short of three", BOTH,
	  LISTING(FUSE_READDIRPLUS, 479, 0), .want = 320 },
	{ "READDIRPLUS: a reply buffer one byte short of three", BOTH,
	  LISTING(FUSE_READDIRPLUS, 4096, 479), .want = 320 },
	/* Opcodes past the table are unknown, not read from beyond it. */
	{ "the last opcode", BOTH, { REQ(FUSE_OPCODE_COUNT - 1, 2) },
	  .want = -ENOSYS },
	{ "one past the last opcode", BOTH, { REQ(FUSE_OPCODE_COUNT, 2) },
	  .want = -ENOSYS },
	{ "opcode 2^32 - 1", BOTH, { REQ(U32_MAX, 2) },
	  .want = -ENOSYS },
};

static void check_bound_case(const struct bound_case *t)
{
	struct volume v = volume(SMALL_SIZE);
	struct fake f = { 0 };
	struct fuse_call c;
	int parsed, r;

	if (!(t->via & (1u << via)))
		return;
	begin(t->name);
	fill_backing();
	r = deliver(&v, &f, &t->w, &c, &parsed);
	if (CHECK_EQ("parsing", parsed, t->parsed) && parsed == 0)
		CHECK_EQ("result", r, t->want);
	/* Refused requests never reach BACKING. */
	if (t->parsed)
		CHECK_EQ("BACKING operations", f.ops, 0);
}

/* INIT: its length against its oldest layout (major and minor, 8 bytes)
 * and a newer kernel's longer one, the versions it can be answered in,
 * and max_background in the u16 the reply has for it. */
struct init_case {
	const char *name;
	uint32_t len;		/* bytes of fuse_init_in the kernel sent */
	uint32_t major, minor;
	uint32_t slots;		/* init_wish.max_background */
	int want;		/* reply length, or -errno */
	uint32_t want_minor;	/* what both sides speak */
	uint16_t want_background;
};

static const struct init_case init_cases[] = {
	{ "INIT of 8 bytes", 8, 7, 45, 16, 64, 45, 16 },
	{ "INIT of 7 bytes", 7, 7, 45, 16, -EPROTO, 0, 0 },
	{ "INIT of 0 bytes", 0, 7, 45, 16, -EPROTO, 0, 0 },
	{ "INIT of 64 bytes", 64, 7, 45, 16, 64, 45, 16 },
	{ "INIT of 65 bytes", 65, 7, 45, 16, 64, 45, 16 },
	{ "INIT of 4096 bytes", 4096, 7, 45, 16, 64, 45, 16 },
	/* 7.9 is the oldest with today's structs; before 7.23 the reply is
	 * the first 24 bytes; newer minors are answered in ours. */
	{ "INIT 7.8", 64, 7, 8, 16, -EPROTO, 0, 0 },
	{ "INIT 7.9", 64, 7, 9, 16, 24, 9, 16 },
	{ "INIT 7.22", 64, 7, 22, 16, 24, 22, 16 },
	{ "INIT 7.23", 64, 7, 23, 16, 64, 23, 16 },
	{ "INIT 7.46", 64, 7, 46, 16, 64, 45, 16 },
	{ "INIT 7.(2^32 - 1)", 64, 7, U32_MAX, 16, 64, 45, 16 },
	/* A newer major: answered with ours, 8 bytes; INIT comes again. */
	{ "INIT 6.45", 64, 6, 45, 16, -EPROTO, 0, 0 },
	{ "INIT 8.0", 64, 8, 0, 16, 8, 0, 0 },
	{ "INIT (2^32 - 1).0", 64, U32_MAX, 0, 16, 8, 0, 0 },
	/* max_background: as many as the queues hold, up to 65535. */
	{ "max_background 65534", 64, 7, 45, 65534, 64, 45, 65534 },
	{ "max_background 65535", 64, 7, 45, 65535, 64, 45, 65535 },
	{ "max_background 65536", 64, 7, 45, 65536, 64, 45, 65535 },
	{ "max_background 2^20", 64, 7, 45, 1u << 20, 64, 45, 65535 },
	{ "max_background 2^32 - 1", 64, 7, 45, U32_MAX, 64, 45, 65535 },
};

static void check_init_case(const struct init_case *t)
{
	struct fuse_init_in in = { .major = t->major, .minor = t->minor,
				   .max_readahead = 128 * KiB, .flags = 0 };
	struct init_wish wish = { .max_write = 256 * KiB, .page_size = 4096,
				  .max_background = t->slots };
	uint8_t *body = calloc(1, t->len ? t->len : 1);	/* exactly what was sent */
	struct fuse_init_out out;
	struct init_result res;
	int r;

	begin(t->name);
	memcpy(body, &in, t->len < sizeof(in) ? t->len : sizeof(in));
	r = fuse_init_negotiate(body, t->len, &wish, &out, &res);
	free(body);
	if (!CHECK_EQ("reply length", r, t->want) || r < 0)
		return;
	CHECK_EQ("INIT again", res.again, t->major > 7);
	if (res.again) {
		CHECK(out.major == 7 && out.minor == 45, "answered %u.%u, want 7.45",
		      out.major, out.minor);
		return;
	}
	CHECK_EQ("minor spoken", res.minor, t->want_minor);
	CHECK_EQ("max_background", out.max_background, t->want_background);
	CHECK_EQ("congestion_threshold", out.congestion_threshold, t->want_background);
}

int main(void)
{
	reply_buf = aligned_alloc(4096, MAX_WRITE);
	if (!reply_buf)
		return 2;
	for (via = VIA_DEV; via <= VIA_URING; via++) {
		for (size_t i = 0; i < ARRAY_LEN(rw_cases); i++)
			check_rw_case(&rw_cases[i]);
		for (size_t i = 0; i < ARRAY_LEN(seek_cases); i++)
			check_seek_case(&seek_cases[i]);
		check_all_opcodes();
		check_read_only();
		for (size_t i = 0; i < ARRAY_LEN(calls_cases); i++)
			check_calls_case(&calls_cases[i]);
		for (size_t i = 0; i < ARRAY_LEN(bound_cases); i++)
			check_bound_case(&bound_cases[i]);
	}
	via = NO_REQUESTS;
	check_init_pages();
	for (size_t i = 0; i < ARRAY_LEN(init_cases); i++)
		check_init_case(&init_cases[i]);
	free(reply_buf);
	printf("check_core: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
