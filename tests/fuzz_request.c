/* SPDX-License-Identifier: MIT */
/* fuzz_request - libFuzzer harness for the protocol core (make fuzz).
 *
 * Feeds arbitrary sequences of requests to the same parsing and opcode code
 * the daemon runs (fuse_ops.c).  BACKING is a tiny in-memory file whose
 * bytes the core's READs and WRITEs really move, and next to it runs a
 * reference model of the volume, written from what the volume promises,
 * not from fuse_ops.c.  For every request the harness checks:
 *   - memory: nothing reads outside the request (ASan: every buffer is
 *     exactly as long as what the kernel would have delivered), every
 *     BACKING transfer stays inside the buffer it must use and inside the
 *     volume (without overflowing: offsets near 2^64 included);
 *   - parsing: what is malformed gets EINVAL (or nothing, when nothing can
 *     be answered or the request takes no reply), what is well formed is
 *     served;
 *   - the answer: its result (length or errno) is the model's, and so is
 *     its content: READ returns the model's bytes, WRITE reports exactly
 *     what BACKING took, LOOKUP finds the one name and nothing else,
 *     GETATTR, SETATTR, OPEN, READDIR(PLUS), LSEEK and STATFS say what the
 *     model says;
 *   - state across requests: SETATTR's size, mode, owner and times, WRITE
 *     and FALLOCATE's bytes, FORGET (the two nodes live as long as the
 *     mount, however often they are forgotten); after the last request,
 *     BACKING holds exactly the model's bytes;
 *   - the volume's switches: read-only (every change is EROFS and BACKING is
 *     never written), passthrough (OPEN hands the kernel BACKING, sizes are
 *     BACKING's), a file as the root (no directory, no second node),
 *     resizable (size changes only then);
 *   - a request that fails in BACKING after partial progress fails whole;
 *     the reply a READ promises before its transfer is the one it sends;
 *   - every BACKING call FSYNC, FALLOCATE, LSEEK and SETATTR make: kind,
 *     offset, length and flags, and none more;
 *   - the volume's size follows BACKING's (a GETATTR or SIZE step reads
 *     it), and only a change by others is reported to the daemon.
 *
 * Input: one control byte, then requests, each as
 *	u8 how, u16 length (little endian), then length bytes
 * Control bits: 0-2 the volume's size (sizes[]), 3 mount over a file,
 * 4 read-only, 5 passthrough, 6 resizable, 7 BACKING 4 KiB longer than the
 * volume.  `how` bits: 0 delivery (0: read from /dev/fuse, the bytes are the
 * whole message; 1: a FUSE-over-io_uring entry, the first 288 bytes are the
 * header area, the rest the payload), 1-2 what BACKING does (0 complete,
 * 1 every transfer moves half of what is asked (rounded up), 2 fail with
 * EIO, 3 transfers move nothing), 3 with 2: fail only the second call (a
 * transfer moves half first).
 *
 * write_seeds() writes seed and regression inputs into tests/corpus/request
 * (make corpus): rerun it whenever the input format above changes.  `make
 * check` replays that corpus through the same checks (tests/fuzz.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuse_ops.h"
#include "fuzz.h"

#define MAX_WRITE	(64 * 1024)
#define CAPACITY	(68 * 1024)		/* the most BACKING can hold */
#define RING_HEADER	((uint32_t)sizeof(struct fuse_uring_req_header))

/* A failed check names itself and aborts: libFuzzer keeps the input. */
#define CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz_request: %s:%d: %s: ", __FILE__,	\
				__LINE__, #cond);				\
			fprintf(stderr, __VA_ARGS__);				\
			fprintf(stderr, " (request %u, opcode %u)\n",		\
				cur_request, cur_opcode);			\
			abort();						\
		}								\
	} while (0)

static unsigned cur_request, cur_opcode;

static const uint64_t sizes[8] = {
	16384, 10000, 49152, 65536 - 512, 4096, 32768, 1, 61440,
};

static const char NAME[] = "volume";
#define NAME_LEN	6
#define NOW_SEC		1000	/* what UTIME_NOW sets */

/* --- the fake BACKING -------------------------------------------------------- */

static struct {
	uint8_t bytes[CAPACITY];
	uint64_t size;
	struct statx_timestamp atime, mtime;
	bool read_only;			/* no call may change it */
	/* the current request */
	unsigned how, fail_at, calls;
	uint64_t moved;			/* READ/WRITE: bytes transferred */
	uint64_t start_offset;
	const uint8_t *start_buf;
	struct backing_io log[4];	/* the request's first calls, in order */
} back;

static bool is_transfer(enum backing_kind k)
{
	return k == BACKING_READ || k == BACKING_WRITE;
}

/* Whether call number `n` of a request fails, for `how`. */
static bool fails(unsigned how, unsigned fail_at, unsigned n)
{
	return (how & 3) == 2 && n == fail_at;
}

static uint64_t half(uint64_t n)
{
	return (n + 1) / 2;
}

static int64_t fake_backing(struct fuse_call *c)
{
	struct backing_io *io = &c->io;
	unsigned n = back.calls++;

	if (n < sizeof(back.log) / sizeof(back.log[0]))
		back.log[n] = *io;

	if (back.read_only)
		CHECK(io->kind != BACKING_WRITE && io->kind != BACKING_FALLOCATE &&
		      io->kind != BACKING_RESIZE && io->kind != BACKING_SET_TIMES,
		      "a read-only volume changes BACKING (kind %d)", io->kind);
	if (is_transfer(io->kind)) {
		if (n == 0) {
			back.start_offset = io->offset;
			back.start_buf = io->buf;
		}
		/* a short transfer goes on exactly where it stopped */
		CHECK(io->offset == back.start_offset + back.moved &&
		      io->buf == back.start_buf + back.moved,
		      "transfer resumed at offset %llu, buffer +%td after %llu bytes",
		      (unsigned long long)io->offset, io->buf - back.start_buf,
		      (unsigned long long)back.moved);
	}
	if (fails(back.how, back.fail_at, n))
		return -EIO;
	switch (io->kind) {
	case BACKING_READ:
	case BACKING_WRITE: {
		uint64_t len = io->length;

		if ((back.how & 3) == 3)
			return 0;
		if ((back.how & 3) == 1 || (back.how & 3) == 2)
			len = half(len);
		if (io->offset >= back.size)
			return 0;
		if (len > back.size - io->offset)
			len = back.size - io->offset;
		if (io->kind == BACKING_READ)
			memcpy(io->buf, back.bytes + io->offset, len);
		else
			memcpy(back.bytes + io->offset, io->buf, len);
		back.moved += len;
		return (int64_t)len;
	}
	case BACKING_FSYNC:
		return 0;
	case BACKING_FALLOCATE:
		if (io->flags & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
			memset(back.bytes + io->offset, 0, io->length);
		return 0;
	case BACKING_LSEEK:
		/* no holes: data up to the end, the hole at the end */
		if (io->offset >= back.size)
			return -ENXIO;
		return (int64_t)(io->flags == SEEK_DATA ? io->offset : back.size);
	case BACKING_GETATTR:
	case BACKING_SIZE:
		memset(&c->got.attr, 0, sizeof(c->got.attr));
		c->got.attr.size = back.size;
		c->got.attr.blocks = back.size / 512;
		c->got.attr.blksize = 4096;
		c->got.attr.atime = back.atime;
		c->got.attr.mtime = back.mtime;
		c->got.attr.ctime.tv_sec = 3;
		return 0;
	case BACKING_STATFS:
		c->got.fs = (struct backing_fs){ .blocks = 1000, .bfree = 600, .bavail = 500,
						 .bsize = 4096, .frsize = 4096 };
		return 0;
	case BACKING_SET_TIMES: {
		struct statx_timestamp *t[2] = { &back.atime, &back.mtime };

		/* utimensat(2): both checked before either is set */
		for (int i = 0; i < 2; i++)
			if (io->times[i].tv_nsec != UTIME_NOW && io->times[i].tv_nsec != UTIME_OMIT &&
			    (io->times[i].tv_nsec < 0 || io->times[i].tv_nsec >= 1000000000))
				return -EINVAL;
		for (int i = 0; i < 2; i++)
			if (io->times[i].tv_nsec == UTIME_NOW)
				*t[i] = (struct statx_timestamp){ .tv_sec = NOW_SEC };
			else if (io->times[i].tv_nsec != UTIME_OMIT)
				*t[i] = (struct statx_timestamp){ .tv_sec = io->times[i].tv_sec,
								  .tv_nsec = (uint32_t)io->times[i].tv_nsec };
		return 0;
	}
	case BACKING_RESIZE:
		if (io->length > CAPACITY)
			return -EFBIG;
		if (io->length < back.size)
			memset(back.bytes + io->length, 0, back.size - io->length);
		back.size = io->length;
		return 0;
	}
	CHECK(0, "unknown BACKING operation %d", io->kind);
	return -EIO;
}

/* --- the model ---------------------------------------------------------------- */

struct model {
	uint64_t size, back_size;
	uint32_t mode, uid, gid;
	struct statx_timestamp atime, mtime;
	bool root_is_file, read_only, passthrough, resizable;
	uint64_t lookups;	/* of node 2, as the kernel counts them */
	unsigned resized_elsewhere;	/* BACKING's size changes the daemon is told of */
	uint8_t bytes[CAPACITY];
};

static struct model m;

enum node { NODE_NONE, NODE_DIR, NODE_FILE };

static enum node node_of(uint64_t id)
{
	if (id == FUSE_ROOT_ID)
		return m.root_is_file ? NODE_FILE : NODE_DIR;
	if (id == VOLUME_NODE_ID && !m.root_is_file)
		return NODE_FILE;
	return NODE_NONE;
}

/* What each opcode takes, from the protocol (fuse_proto.h). */
enum tail { TAIL_NONE, TAIL_NAME, TAIL_DATA, TAIL_FORGETS };

struct spec {
	uint32_t arg;
	enum tail tail;
	bool no_reply;
	bool served;	/* fuseuring answers it (else ENOSYS) */
};

static struct spec spec_of(uint32_t op)
{
	switch (op) {
	case FUSE_LOOKUP: return (struct spec){ 0, TAIL_NAME, false, true };
	case FUSE_FORGET: return (struct spec){ sizeof(struct fuse_forget_in), 0, true, true };
	case FUSE_GETATTR: return (struct spec){ sizeof(struct fuse_getattr_in), 0, false, true };
	case FUSE_SETATTR: return (struct spec){ sizeof(struct fuse_setattr_in), 0, false, true };
	case FUSE_OPEN: case FUSE_OPENDIR:
		return (struct spec){ sizeof(struct fuse_open_in), 0, false, true };
	case FUSE_READ: case FUSE_READDIR: case FUSE_READDIRPLUS:
		return (struct spec){ sizeof(struct fuse_read_in), 0, false, true };
	case FUSE_WRITE: return (struct spec){ sizeof(struct fuse_write_in), TAIL_DATA, false, true };
	case FUSE_STATFS: case FUSE_DESTROY: return (struct spec){ 0, 0, false, true };
	case FUSE_RELEASE: case FUSE_RELEASEDIR:
		return (struct spec){ sizeof(struct fuse_release_in), 0, false, true };
	case FUSE_FSYNC: case FUSE_FSYNCDIR:
		return (struct spec){ sizeof(struct fuse_fsync_in), 0, false, true };
	case FUSE_FLUSH: return (struct spec){ sizeof(struct fuse_flush_in), 0, false, true };
	case FUSE_INIT: return (struct spec){ FUSE_INIT_IN_OLDEST_SIZE, 0, false, true };
	case FUSE_INTERRUPT: return (struct spec){ sizeof(struct fuse_interrupt_in), 0, true, true };
	case FUSE_BATCH_FORGET:
		return (struct spec){ sizeof(struct fuse_batch_forget_in), TAIL_FORGETS, true, true };
	case FUSE_FALLOCATE: return (struct spec){ sizeof(struct fuse_fallocate_in), 0, false, true };
	case FUSE_LSEEK: return (struct spec){ sizeof(struct fuse_lseek_in), 0, false, true };
	default: return (struct spec){ 0, 0, false, false };
	}
}

/* A request as the model reads it. */
struct request {
	struct fuse_in_header in;
	uint8_t arg[128];
	uint32_t arg_len;
	const uint8_t *data;
	uint32_t data_len;
};

static bool has_nul(const uint8_t *p, uint32_t n)
{
	return n && memchr(p, 0, n);
}

/* 0, -EINVAL or CALL_NO_REPLY, as the protocol has it. */
static int model_parse(struct request *q, bool ring, const uint8_t *msg, uint32_t len,
		       const struct fuse_uring_req_header *h, const uint8_t *payload)
{
	const uint32_t hdr = sizeof(struct fuse_in_header);
	uint32_t ext;
	bool valid;

	memset(q, 0, sizeof(*q));
	if (ring) {
		uint32_t psz = h->ring_ent_in_out.payload_sz;

		memcpy(&q->in, h->in_out, hdr);
		ext = q->in.total_extlen * 8u;
		if (psz > MAX_WRITE || ext > psz || q->in.len < hdr || q->in.len - hdr < psz ||
		    q->in.len - hdr - psz > sizeof(h->op_in))
			return -EINVAL;
		q->arg_len = q->in.len - hdr - psz;
		memcpy(q->arg, h->op_in, q->arg_len);
		q->data = payload;
		q->data_len = psz - ext;
	} else {
		if (len < hdr)
			return CALL_NO_REPLY;
		memcpy(&q->in, msg, hdr);
		ext = q->in.total_extlen * 8u;
		if (q->in.len != len || ext > len - hdr)
			return -EINVAL;
		uint32_t body = len - hdr - ext, want = spec_of(q->in.opcode).arg;

		q->arg_len = body < want ? body : want;
		memcpy(q->arg, msg + hdr, q->arg_len < 128 ? q->arg_len : 128);
		q->data = msg + hdr + q->arg_len;
		q->data_len = body - q->arg_len;
	}
	struct spec s = spec_of(q->in.opcode);

	valid = q->arg_len >= s.arg;
	if (valid && s.tail == TAIL_NAME)
		valid = has_nul(q->data, q->data_len);
	if (valid && s.tail == TAIL_DATA)
		valid = q->data_len == ((struct fuse_write_in *)q->arg)->size;
	if (valid && s.tail == TAIL_FORGETS)
		valid = (uint64_t)((struct fuse_batch_forget_in *)q->arg)->count *
				sizeof(struct fuse_forget_one) <= q->data_len;
	if (valid)
		return 0;
	return s.no_reply ? CALL_NO_REPLY : -EINVAL;
}

/* A transfer of `len` bytes under `how`: 0 or -EIO, and how much moved. */
static int transfer_outcome(uint64_t len, uint64_t *moved)
{
	*moved = 0;
	switch (back.how & 3) {
	case 0: case 1:
		*moved = len;
		return 0;
	case 3:
		return -EIO;	/* BACKING ended early: an error, never a short reply */
	default:
		if (back.fail_at == 0)
			return -EIO;
		*moved = half(len);
		return *moved == len ? 0 : -EIO;
	}
}

static uint32_t dir_mode(uint32_t mode)
{
	/* whoever may read the volume may list the directory */
	return mode | ((mode & 0444) >> 2);
}

static void check_attr(const struct fuse_attr *a, uint64_t id, const char *what)
{
	enum node n = node_of(id);

	CHECK(a->ino == id, "%s: ino %llu, want %llu", what, (unsigned long long)a->ino,
	      (unsigned long long)id);
	CHECK(n != NODE_NONE, "%s: attributes of a node that does not exist", what);
	if (n == NODE_FILE) {
		uint64_t size = m.size;

		CHECK(a->mode == (S_IFREG | m.mode), "%s: mode 0%o, want 0%o", what, a->mode,
		      S_IFREG | m.mode);
		CHECK(a->size == size, "%s: size %llu, want %llu", what,
		      (unsigned long long)a->size, (unsigned long long)size);
		CHECK(a->nlink == 1, "%s: nlink %u", what, a->nlink);
		/* BACKING's allocation, as its GETATTR said */
		CHECK(a->blocks == m.back_size / 512 && a->blksize == 4096,
		      "%s: blocks %llu blksize %u, want %llu and 4096", what,
		      (unsigned long long)a->blocks, a->blksize,
		      (unsigned long long)(m.back_size / 512));
	} else {
		CHECK(a->mode == (S_IFDIR | dir_mode(m.mode)), "%s: mode 0%o, want 0%o", what,
		      a->mode, S_IFDIR | dir_mode(m.mode));
		CHECK(a->nlink == 2, "%s: nlink %u", what, a->nlink);
	}
	CHECK(a->uid == m.uid && a->gid == m.gid, "%s: owner %u:%u, want %u:%u", what,
	      a->uid, a->gid, m.uid, m.gid);
	CHECK(a->atime == (uint64_t)m.atime.tv_sec && a->atimensec == m.atime.tv_nsec &&
	      a->mtime == (uint64_t)m.mtime.tv_sec && a->mtimensec == m.mtime.tv_nsec,
	      "%s: times %llu.%u %llu.%u, want %llu.%u %llu.%u", what,
	      (unsigned long long)a->atime, a->atimensec, (unsigned long long)a->mtime,
	      a->mtimensec, (unsigned long long)m.atime.tv_sec, m.atime.tv_nsec,
	      (unsigned long long)m.mtime.tv_sec, m.mtime.tv_nsec);
}

/* READDIR and READDIRPLUS: ".", ".." and the one name, from the index the
 * kernel passes as offset, as many as fit. */
static int check_listing(const struct fuse_read_in *r, const uint8_t *reply, int got, bool plus)
{
	uint32_t cap = r->size < MAX_WRITE ? r->size : MAX_WRITE, used = 0;

	for (uint64_t i = r->offset; i < 3; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." : NAME;
		uint32_t len = (uint32_t)strlen(name);
		uint32_t rec = FUSE_DIRENT_ALIGN(sizeof(struct fuse_dirent) + len) +
			       (plus ? sizeof(struct fuse_entry_out) : 0);

		if (rec > cap - used)
			break;
		if (got >= 0 && used + rec <= (uint32_t)got) {
			const uint8_t *p = reply + used;

			if (plus) {
				const struct fuse_entry_out *e = (const void *)p;

				CHECK(e->nodeid == (i == 2 ? VOLUME_NODE_ID : 0),
				      "entry %llu: nodeid %llu", (unsigned long long)i,
				      (unsigned long long)e->nodeid);
				if (i == 2)
					check_attr(&e->attr, VOLUME_NODE_ID, "READDIRPLUS entry");
				p += sizeof(*e);
			}
			const struct fuse_dirent *d = (const void *)p;

			CHECK(d->ino == (i == 2 ? VOLUME_NODE_ID : FUSE_ROOT_ID) && d->off == i + 1 &&
			      d->namelen == len && d->type == (i == 2 ? DT_REG : DT_DIR) &&
			      !memcmp(d + 1, name, len),
			      "entry %llu: ino %llu off %llu type %u name %.*s, want %s",
			      (unsigned long long)i, (unsigned long long)d->ino,
			      (unsigned long long)d->off, d->type,
			      (int)(d->namelen < 16 ? d->namelen : 16), (const char *)(d + 1), name);
		}
		if (plus && i == 2 && got >= 0)
			m.lookups++;
		used += rec;
	}
	return (int)used;
}

static bool step_fails(unsigned step)
{
	return fails(back.how, back.fail_at, step);
}

/* Step `step` reads BACKING's attributes (GETATTR, or SIZE before an
 * answer that depends on the size): true if it fails.  Otherwise the
 * volume takes BACKING's size, which passthrough writes and others may
 * have changed; only a change by others is news for the daemon's log. */
static bool size_step_fails(unsigned step)
{
	if (step_fails(step))
		return true;
	if (m.size != m.back_size && !m.passthrough)
		m.resized_elsewhere++;
	m.size = m.back_size;
	return false;
}

/* The request made exactly `n` BACKING calls. */
static void check_ncalls(unsigned n)
{
	CHECK(back.calls == n, "%u BACKING calls, want %u", back.calls, n);
}

/* BACKING call `i` of the request was this one. */
static void check_call(unsigned i, enum backing_kind kind, uint64_t offset, uint64_t length,
		       uint32_t flags)
{
	const struct backing_io *io = &back.log[i];

	CHECK(back.calls > i, "BACKING call %u (kind %d) never made", i, kind);
	CHECK(io->kind == kind && io->offset == offset && io->length == length &&
	      io->flags == flags,
	      "BACKING call %u: kind %d %llu+%llu flags 0x%x, want kind %d %llu+%llu flags 0x%x",
	      i, io->kind, (unsigned long long)io->offset, (unsigned long long)io->length,
	      io->flags, kind, (unsigned long long)offset, (unsigned long long)length, flags);
}

static int require_file(uint64_t id)
{
	switch (node_of(id)) {
	case NODE_FILE: return 0;
	case NODE_DIR: return -EISDIR;
	default: return -ENOENT;
	}
}

static int require_writable(uint64_t id)
{
	int err = require_file(id);

	return err ? err : m.read_only ? -EROFS : 0;
}

/* What the request must be answered with (checked against the core's `r`
 * and `reply`), and the model's state after it. */
static void model_answer(const struct request *q, int r, const uint8_t *reply)
{
	const void *arg = q->arg;
	uint64_t id = q->in.nodeid;
	int want;

	switch (q->in.opcode) {
	case FUSE_LOOKUP: {
		size_t n = strnlen((const char *)q->data, q->data_len);

		if (node_of(id) != NODE_DIR)
			want = -ENOTDIR;
		else if (n != NAME_LEN || memcmp(q->data, NAME, NAME_LEN))
			want = -ENOENT;	/* the one name, nothing else */
		else
			want = size_step_fails(0) ? -EIO : (int)sizeof(struct fuse_entry_out);
		CHECK(r == want, "LOOKUP of \"%.*s\": %d, want %d", (int)(n < 32 ? n : 32),
		      (const char *)q->data, r, want);
		if (r > 0) {
			const struct fuse_entry_out *e = (const void *)reply;

			CHECK(e->nodeid == VOLUME_NODE_ID, "LOOKUP: nodeid %llu",
			      (unsigned long long)e->nodeid);
			check_attr(&e->attr, VOLUME_NODE_ID, "LOOKUP");
			m.lookups++;
		}
		return;
	}
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		CHECK(r == CALL_NO_REPLY, "%d, want no reply", r);
		if (q->in.opcode == FUSE_FORGET && id == VOLUME_NODE_ID) {
			uint64_t n = ((const struct fuse_forget_in *)arg)->nlookup;

			m.lookups -= n < m.lookups ? n : m.lookups;
		}
		if (q->in.opcode == FUSE_BATCH_FORGET) {
			const struct fuse_forget_one *f = (const void *)q->data;

			for (uint32_t i = 0; i < ((const struct fuse_batch_forget_in *)arg)->count; i++)
				if (f[i].nodeid == VOLUME_NODE_ID)
					m.lookups -= f[i].nlookup < m.lookups ? f[i].nlookup : m.lookups;
		}
		return;
	case FUSE_GETATTR:
		/* however often node 2 was forgotten, it is there */
		want = node_of(id) == NODE_NONE ? -ENOENT :
		       size_step_fails(0) ? -EIO : (int)sizeof(struct fuse_attr_out);
		CHECK(r == want, "GETATTR of node %llu: %d, want %d", (unsigned long long)id, r, want);
		if (r > 0)
			check_attr(&((const struct fuse_attr_out *)reply)->attr, id, "GETATTR");
		return;
	case FUSE_SETATTR: {
		const struct fuse_setattr_in *s = arg;
		unsigned step = 0;

		if (node_of(id) == NODE_NONE)
			want = -ENOENT;
		else if (m.read_only)
			want = -EROFS;
		else if (node_of(id) == NODE_DIR)
			want = -EPERM;
		/* whether the size changes is BACKING's to say */
		else if ((s->valid & FATTR_SIZE) && size_step_fails(step++))
			want = -EIO;
		else if ((s->valid & FATTR_SIZE) && s->size != m.size && !m.resizable)
			want = -EPERM;	/* a volume keeps its size unless -o resize */
		else
			want = 0;
		if (want) {
			CHECK(r == want, "SETATTR valid 0x%x: %d, want %d", s->valid, r, want);
			return;
		}
		if ((s->valid & FATTR_SIZE) && s->size != m.size) {
			check_call(step, BACKING_RESIZE, 0, s->size, 0);
			want = step_fails(step++) ? -EIO : s->size > CAPACITY ? -EFBIG : 0;
			if (want) {
				CHECK(r == want, "SETATTR size %llu: %d, want %d",
				      (unsigned long long)s->size, r, want);
				return;
			}
			if (s->size < m.back_size)
				memset(m.bytes + s->size, 0, m.back_size - s->size);
			m.size = m.back_size = s->size;
		}
		if (s->valid & (FATTR_ATIME | FATTR_MTIME)) {
			struct kernel_timespec t[2];
			struct statx_timestamp *dst[2] = { &m.atime, &m.mtime };
			uint32_t set[2] = { FATTR_ATIME, FATTR_MTIME }, now[2] = { FATTR_ATIME_NOW, FATTR_MTIME_NOW };

			t[0] = (struct kernel_timespec){ (int64_t)s->atime, s->atimensec };
			t[1] = (struct kernel_timespec){ (int64_t)s->mtime, s->mtimensec };
			for (int i = 0; i < 2; i++)
				if (!(s->valid & set[i]))
					t[i].tv_nsec = UTIME_OMIT;
				else if (s->valid & now[i])
					t[i] = (struct kernel_timespec){ 0, UTIME_NOW };
			want = step_fails(step++) ? -EIO : 0;
			for (int i = 0; i < 2 && !want; i++)
				if (t[i].tv_nsec != UTIME_NOW && t[i].tv_nsec != UTIME_OMIT &&
				    t[i].tv_nsec >= 1000000000)
					want = -EINVAL;
			if (want) {
				CHECK(r == want, "SETATTR times: %d, want %d", r, want);
				return;
			}
			for (int i = 0; i < 2; i++)
				if (t[i].tv_nsec == UTIME_NOW)
					*dst[i] = (struct statx_timestamp){ .tv_sec = NOW_SEC };
				else if (t[i].tv_nsec != UTIME_OMIT)
					*dst[i] = (struct statx_timestamp){ .tv_sec = t[i].tv_sec,
									    .tv_nsec = (uint32_t)t[i].tv_nsec };
		}
		if (s->valid & FATTR_MODE)
			m.mode = s->mode & 07777;
		if (s->valid & FATTR_UID)
			m.uid = s->uid;
		if (s->valid & FATTR_GID)
			m.gid = s->gid;
		want = size_step_fails(step) ? -EIO : (int)sizeof(struct fuse_attr_out);
		CHECK(r == want, "SETATTR valid 0x%x: %d, want %d", s->valid, r, want);
		check_call(step, BACKING_GETATTR, 0, 0, 0);
		check_ncalls(step + 1);
		if (r > 0)
			check_attr(&((const struct fuse_attr_out *)reply)->attr, id, "SETATTR");
		return;
	}
	case FUSE_OPEN: {
		uint32_t flags = ((const struct fuse_open_in *)arg)->flags;

		want = require_file(id);
		if (!want && m.read_only && (flags & O_ACCMODE) != O_RDONLY)
			want = -EROFS;
		if (!want)
			want = sizeof(struct fuse_open_out);
		CHECK(r == want, "OPEN flags 0%o of node %llu: %d, want %d", flags,
		      (unsigned long long)id, r, want);
		if (r > 0) {
			const struct fuse_open_out *o = (const void *)reply;

			if (m.passthrough)
				CHECK((o->open_flags & FOPEN_PASSTHROUGH) && o->backing_id == 1,
				      "passthrough OPEN: flags 0x%x backing_id %d", o->open_flags,
				      o->backing_id);
			else
				CHECK(!(o->open_flags & FOPEN_PASSTHROUGH) &&
				      !(o->open_flags & FOPEN_DIRECT_IO) == !(flags & O_DIRECT),
				      "OPEN flags 0%o: open_flags 0x%x", flags, o->open_flags);
		}
		return;
	}
	case FUSE_READ: {
		const struct fuse_read_in *rd = arg;
		uint64_t len = 0, moved;

		want = require_file(id);
		if (!want && rd->size > MAX_WRITE)
			want = -EINVAL;
		if (!want && rd->offset < m.size && rd->size) {
			len = m.size - rd->offset < rd->size ? m.size - rd->offset : rd->size;
			want = transfer_outcome(len, &moved);
		}
		if (!want)
			want = (int)len;
		CHECK(r == want, "READ %u at %llu of %llu: %d, want %d", rd->size,
		      (unsigned long long)rd->offset, (unsigned long long)m.size, r, want);
		if (r > 0)
			CHECK(!memcmp(reply, m.bytes + rd->offset, (size_t)r),
			      "READ %u at %llu: not the volume's bytes", rd->size,
			      (unsigned long long)rd->offset);
		return;
	}
	case FUSE_WRITE: {
		const struct fuse_write_in *w = arg;
		uint64_t len = 0, moved = 0;

		want = require_writable(id);
		if (!want && w->size && w->offset >= m.size)
			want = -ENOSPC;	/* the volume does not grow */
		if (!want && w->size) {
			len = m.size - w->offset < w->size ? m.size - w->offset : w->size;
			want = transfer_outcome(len, &moved);
		}
		/* what BACKING took is in BACKING, also when the request failed */
		memcpy(m.bytes + (moved ? w->offset : 0), q->data, moved);
		if (!want)
			want = sizeof(struct fuse_write_out);
		CHECK(r == want, "WRITE %u at %llu of %llu: %d, want %d", w->size,
		      (unsigned long long)w->offset, (unsigned long long)m.size, r, want);
		CHECK(back.moved == moved, "WRITE %u at %llu: BACKING took %llu bytes, want %llu",
		      w->size, (unsigned long long)w->offset, (unsigned long long)back.moved,
		      (unsigned long long)moved);
		if (r > 0)
			CHECK(((const struct fuse_write_out *)reply)->size == len,
			      "WRITE %u at %llu of %llu: reports %u bytes, BACKING took %llu",
			      w->size, (unsigned long long)w->offset, (unsigned long long)m.size,
			      ((const struct fuse_write_out *)reply)->size, (unsigned long long)len);
		return;
	}
	case FUSE_STATFS:
		want = step_fails(0) ? -EIO : (int)sizeof(struct fuse_statfs_out);
		CHECK(r == want, "STATFS: %d, want %d", r, want);
		if (r > 0) {
			const struct fuse_kstatfs *st = &((const struct fuse_statfs_out *)reply)->st;

			CHECK(st->blocks == 1000 && st->bfree == 600 && st->bavail == 500 &&
			      st->bsize == 4096 && st->frsize == 4096 && st->files == 2 &&
			      st->namelen == 255, "STATFS: not BACKING's figures");
		}
		return;
	case FUSE_RELEASE:
	case FUSE_FLUSH:
	case FUSE_RELEASEDIR:
	case FUSE_FSYNCDIR:
	case FUSE_DESTROY:
		CHECK(r == 0, "%d, want 0", r);
		return;
	case FUSE_FSYNC: {
		uint32_t datasync = ((const struct fuse_fsync_in *)arg)->fsync_flags &
				    FUSE_FSYNC_FDATASYNC;

		want = require_file(id);
		if (!want && step_fails(0))
			want = -EIO;
		CHECK(r == want, "FSYNC: %d, want %d", r, want);
		/* fdatasync only when the kernel asked for just the data */
		if (!require_file(id))
			check_call(0, BACKING_FSYNC, 0, 0, datasync);
		check_ncalls(require_file(id) ? 0 : 1);
		return;
	}
	case FUSE_INIT:
		CHECK(r == -EPROTO, "INIT again: %d, want EPROTO", r);
		return;
	case FUSE_OPENDIR:
		want = node_of(id) == NODE_DIR ? (int)sizeof(struct fuse_open_out) :
		       node_of(id) == NODE_FILE ? -ENOTDIR : -ENOENT;
		CHECK(r == want, "OPENDIR of node %llu: %d, want %d", (unsigned long long)id, r, want);
		return;
	case FUSE_READDIR:
	case FUSE_READDIRPLUS: {
		bool plus = q->in.opcode == FUSE_READDIRPLUS;

		want = node_of(id) != NODE_DIR ? -ENOTDIR : plus && size_step_fails(0) ? -EIO : 0;
		if (!want)
			want = check_listing(arg, reply, r, plus);
		CHECK(r == want, "%s at %llu: %d, want %d", plus ? "READDIRPLUS" : "READDIR",
		      (unsigned long long)((const struct fuse_read_in *)arg)->offset, r, want);
		return;
	}
	case FUSE_FALLOCATE: {
		const struct fuse_fallocate_in *f = arg;
		const uint32_t known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
		uint64_t end = 0;
		unsigned calls = 0;

		want = require_writable(id);
		if (!want && (f->mode & ~known))
			want = -EOPNOTSUPP;
		if (!want && (f->length == 0 || f->offset > INT64_MAX ||
			      f->length > (uint64_t)INT64_MAX - f->offset))
			want = -EINVAL;
		if (!want) {
			/* the volume ends where BACKING does now */
			check_call(calls++, BACKING_SIZE, 0, 0, 0);
			if (size_step_fails(0))
				want = -EIO;
		}
		if (!want) {
			end = f->offset + f->length;
			if (end > m.size && !(f->mode & FALLOC_FL_KEEP_SIZE))
				want = -ENOSPC;	/* nothing may extend the volume */
			else if (end > m.size)
				end = m.size;
		}
		if (!want && f->offset < end) {
			check_call(calls++, BACKING_FALLOCATE, f->offset, end - f->offset, f->mode);
			if (step_fails(1))
				want = -EIO;
		}
		if (!want && f->offset < end && (f->mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)))
			memset(m.bytes + f->offset, 0, end - f->offset);
		CHECK(r == want, "FALLOCATE mode 0x%x %llu+%llu of %llu: %d, want %d", f->mode,
		      (unsigned long long)f->offset, (unsigned long long)f->length,
		      (unsigned long long)m.size, r, want);
		check_ncalls(calls);
		return;
	}
	case FUSE_LSEEK: {
		const struct fuse_lseek_in *l = arg;
		uint64_t at = 0;
		unsigned calls = 0;

		want = require_file(id);
		if (!want && l->whence != SEEK_DATA && l->whence != SEEK_HOLE)
			want = -EINVAL;
		if (!want) {
			/* where the volume ends is BACKING's to say */
			check_call(calls++, BACKING_SIZE, 0, 0, 0);
			if (size_step_fails(0))
				want = -EIO;
		}
		if (!want && l->offset >= m.size)
			want = -ENXIO;
		if (!want) {
			check_call(calls++, BACKING_LSEEK, l->offset, 0, l->whence);
			if (step_fails(1))
				want = -EIO;
		}
		if (!want) {
			/* BACKING's hole at its end is the volume's end */
			at = l->whence == SEEK_DATA ? l->offset : m.size;
			want = sizeof(struct fuse_lseek_out);
		}
		CHECK(r == want, "LSEEK %u from %llu: %d, want %d", l->whence,
		      (unsigned long long)l->offset, r, want);
		if (r > 0)
			CHECK(((const struct fuse_lseek_out *)reply)->offset == at,
			      "LSEEK %u from %llu: %llu, want %llu", l->whence,
			      (unsigned long long)l->offset,
			      (unsigned long long)((const struct fuse_lseek_out *)reply)->offset,
			      (unsigned long long)at);
		check_ncalls(calls);
		return;
	}
	default:
		CHECK(r == -ENOSYS, "an opcode fuseuring does not serve: %d, want ENOSYS", r);
		CHECK(!spec_of(q->in.opcode).served, "opcode served but not modelled");
		return;
	}
}

/* --- INIT ---------------------------------------------------------------------- */

static void check_init(const uint8_t *body, uint32_t len)
{
	struct init_wish wish = { .max_write = MAX_WRITE, .page_size = 4096, .passthrough = len & 1,
				  .io_uring = len & 2 };
	struct fuse_init_out out;
	struct init_result res;
	int r = fuse_init_negotiate(body, len, &wish, &out, &res);

	if (r < 0) {
		CHECK(r == -EPROTO, "INIT: %d", r);
		return;
	}
	CHECK(r == 8 || r == 24 || r == (int)sizeof(out), "INIT reply of %d bytes", r);
	CHECK(out.major == FUSE_KERNEL_VERSION, "INIT major %u", out.major);
	if (res.again)
		return;
	CHECK(out.max_write == MAX_WRITE, "INIT max_write %u", out.max_write);
	CHECK((res.flags & ~res.kernel_flags) == 0, "INIT accepted flags not offered");
}

/* --- one request ----------------------------------------------------------------- */

/* The volume as the daemon sets it up, from the model's starting state. */
static struct volume v;
static unsigned resized_elsewhere_calls;

static void note_resized_elsewhere(uint64_t from, uint64_t to)
{
	(void)from, (void)to;
	resized_elsewhere_calls++;
}

static void check_io(const struct fuse_call *c, const uint8_t *body)
{
	const struct backing_io *io = &c->io;
	uint64_t size = v.size;

	switch (io->kind) {
	case BACKING_READ:
		CHECK(io->length > 0 && io->buf >= body && io->length <= MAX_WRITE &&
		      io->buf - body <= (ptrdiff_t)(MAX_WRITE - io->length),
		      "READ into the reply buffer +%td, %llu bytes", io->buf - body,
		      (unsigned long long)io->length);
		CHECK(io->offset <= size && io->length <= size - io->offset,
		      "READ of %llu at %llu outside the volume (%llu)",
		      (unsigned long long)io->length, (unsigned long long)io->offset,
		      (unsigned long long)size);
		break;
	case BACKING_WRITE:
		CHECK(io->length > 0 && io->buf >= c->data && io->length <= c->data_len &&
		      io->buf - c->data <= (ptrdiff_t)(c->data_len - io->length),
		      "WRITE from outside the request's data");
		CHECK(io->offset <= size && io->length <= size - io->offset,
		      "WRITE of %llu at %llu outside the volume (%llu)",
		      (unsigned long long)io->length, (unsigned long long)io->offset,
		      (unsigned long long)size);
		break;
	case BACKING_FALLOCATE:
		CHECK(io->length > 0 && io->offset <= size && io->length <= size - io->offset,
		      "FALLOCATE of %llu at %llu outside the volume (%llu)",
		      (unsigned long long)io->length, (unsigned long long)io->offset,
		      (unsigned long long)size);
		break;
	case BACKING_LSEEK:
		CHECK(io->flags == SEEK_DATA || io->flags == SEEK_HOLE, "LSEEK whence %u", io->flags);
		break;
	default:
		break;
	}
}

static void run_request(unsigned how, const uint8_t *rec, uint32_t len)
{
	bool ring = how & 1;
	uint8_t *msg = 0, *reply = 0, *payload = 0, *data = 0, *body;
	struct fuse_uring_req_header hdr;
	struct request q;
	struct fuse_call c;
	int r, want;

	if (ring) {
		if (len < RING_HEADER)
			return;		/* the kernel never delivers that */
		memcpy(&hdr, rec, RING_HEADER);
		payload = calloc(1, MAX_WRITE);
		memcpy(payload, rec + RING_HEADER,
		       len - RING_HEADER < MAX_WRITE ? len - RING_HEADER : MAX_WRITE);
		want = model_parse(&q, true, 0, 0, &hdr, payload);
		r = fuse_call_parse_uring(&c, &hdr, payload, MAX_WRITE);
		body = payload;
	} else {
		msg = malloc(len ? len : 1);
		memcpy(msg, rec, len);
		reply = malloc(MAX_WRITE);
		want = model_parse(&q, false, msg, len, 0, 0);
		r = fuse_call_parse_dev(&c, msg, len, reply, MAX_WRITE);
		body = reply;
		if (len >= sizeof(struct fuse_in_header) && q.in.opcode == FUSE_INIT)
			check_init(msg + sizeof(struct fuse_in_header),
				   len - (uint32_t)sizeof(struct fuse_in_header));
	}
	cur_opcode = q.in.opcode;
	CHECK(r == want, "parsed to %d, want %d", r, want);
	if (r == CALL_NO_REPLY)
		goto out;
	CHECK(c.in.unique == q.in.unique && c.in.nodeid == q.in.nodeid &&
	      c.in.opcode == q.in.opcode, "header parsed wrong");
	if (r == 0) {
		CHECK(c.data_len == q.data_len && (!q.data_len || !memcmp(c.data, q.data, q.data_len)),
		      "the request's data: %u bytes, want %u", c.data_len, q.data_len);
		/* the reply may overwrite the request: keep what the model needs */
		data = malloc(q.data_len ? q.data_len : 1);
		memcpy(data, q.data, q.data_len);
		q.data = data;
	}

	back.how = (how >> 1) & 3;
	back.fail_at = (how >> 3) & 1;
	back.calls = 0;
	back.moved = 0;
	if (r == 0)
		r = fuse_call_start(&v, &c);
	for (int steps = 0; r == CALL_BACKING; steps++) {
		int promised = fuse_call_reply_if_complete(&c);

		CHECK(steps < 4096, "a transfer makes no progress");
		check_io(&c, body);
		r = fuse_call_resume(&v, &c, fake_backing(&c));
		/* the linked-reply shortcut sends what resuming would give */
		if (promised >= 0 && back.how == 0)
			CHECK(r == promised, "READ promised %d, replied %d", promised, r);
	}
	if (want == 0)
		model_answer(&q, r, body);
	else
		CHECK(r == want, "%d after a parse error %d", r, want);
	if (r == CALL_NO_REPLY)
		goto out;
	CHECK(r >= 0 ? r <= MAX_WRITE : r > -512, "reply %d", r);
	struct fuse_out_header h = fuse_reply_header(&c, r);

	CHECK(h.len == sizeof(h) + (r > 0 ? (uint32_t)r : 0) && h.error == (r < 0 ? r : 0) &&
	      h.unique == c.in.unique, "reply header");
out:
	free(msg);
	free(reply);
	free(payload);
	free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	static uint8_t initial[CAPACITY];

	if (size < 1 || size > 4 * MAX_WRITE)
		return 0;
	if (!initial[1])
		for (size_t i = 0; i < CAPACITY; i++)
			initial[i] = (uint8_t)(i * 7 + 3 + (i >> 8));

	unsigned control = input[0];
	uint64_t vsize = sizes[control & 7];

	memset(&m, 0, sizeof(m));
	m.size = vsize;
	m.back_size = vsize + (control & 128 ? 4096 : 0);
	m.mode = 0600;
	m.uid = 1000;
	m.gid = 100;
	m.atime.tv_sec = 1;
	m.mtime.tv_sec = 2;
	m.root_is_file = control & 8;
	m.read_only = control & 16;
	m.passthrough = control & 32;
	m.resizable = control & 64;
	memcpy(m.bytes, initial, m.back_size);

	back.size = m.back_size;
	memcpy(back.bytes, m.bytes, CAPACITY);
	back.atime = m.atime;
	back.mtime = m.mtime;
	back.read_only = m.read_only;

	v = (struct volume){
		.name = NAME, .name_len = NAME_LEN, .max_write = MAX_WRITE,
		.size = vsize, .mode = m.mode, .uid = m.uid, .gid = m.gid,
		.root_is_file = m.root_is_file, .read_only = m.read_only,
		.backing_id = m.passthrough ? 1 : 0, .resizable = m.resizable,
		.resized_elsewhere = note_resized_elsewhere,
	};
	resized_elsewhere_calls = 0;

	size_t at = 1;

	for (cur_request = 0; size - at >= 3; cur_request++) {
		unsigned how = input[at];
		uint32_t len = input[at + 1] | (uint32_t)input[at + 2] << 8;

		at += 3;
		if (len > size - at)
			len = (uint32_t)(size - at);
		run_request(how, input + at, len);
		at += len;
	}
	/* what the requests left in BACKING is exactly the model's */
	CHECK(back.size == m.back_size, "BACKING is %llu bytes, want %llu",
	      (unsigned long long)back.size, (unsigned long long)m.back_size);
	if (memcmp(back.bytes, m.bytes, CAPACITY))
		for (size_t i = 0; i < CAPACITY; i++)
			CHECK(back.bytes[i] == m.bytes[i], "BACKING differs from the model at %zu", i);
	CHECK(v.size == m.size, "the volume's size is %llu, want %llu",
	      (unsigned long long)v.size, (unsigned long long)m.size);
	CHECK(resized_elsewhere_calls == m.resized_elsewhere,
	      "told of %u size changes by others, want %u", resized_elsewhere_calls,
	      m.resized_elsewhere);
	return 0;
}

#ifdef MAKE_CORPUS
/* Seeds: requests laid out as the kernel sends them, alone and in
 * sequences, and inputs that once found a bug. */
static const char *dir;
static int seq;
static uint8_t input[4 * MAX_WRITE];
static size_t input_len;
static unsigned next_unique = 2;

static void begin(unsigned control)
{
	input[0] = (uint8_t)control;
	input_len = 1;
}

static void save(const char *name)
{
	char numbered[256];

	snprintf(numbered, sizeof(numbered), "%02d-%s", seq++, name);
	seed_write(dir, numbered, input, input_len);
}

static void record(unsigned how, const void *a, size_t alen, const void *b, size_t blen)
{
	size_t len = alen + blen;

	input[input_len++] = (uint8_t)how;
	input[input_len++] = (uint8_t)len;
	input[input_len++] = (uint8_t)(len >> 8);
	memcpy(input + input_len, a, alen);
	if (blen)	/* else b may be NULL, which memcpy must not be given */
		memcpy(input + input_len + alen, b, blen);
	input_len += len;
}

/* Append one request, delivered as `how` says (bit 0: ring entry). */
static void request(unsigned how, uint32_t opcode, uint64_t nodeid, const void *arg,
		    size_t arg_len, const void *data, size_t data_len)
{
	uint8_t buf[256];
	struct fuse_in_header in = {
		.len = (uint32_t)(sizeof(in) + arg_len + data_len),
		.opcode = opcode, .unique = next_unique, .nodeid = nodeid,
	};

	next_unique += 2;
	if (!(how & 1)) {
		memcpy(buf, &in, sizeof(in));
		if (arg_len)	/* else arg may be NULL */
			memcpy(buf + sizeof(in), arg, arg_len);
		record(how, buf, sizeof(in) + arg_len, data, data_len);
		return;
	}
	/* A ring entry: header and argument in the header area, the rest in
	 * the payload. */
	struct fuse_uring_req_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.in_out, &in, sizeof(in));
	if (arg_len)
		memcpy(h.op_in, arg, arg_len);
	h.ring_ent_in_out.commit_id = in.unique;
	h.ring_ent_in_out.payload_sz = (uint32_t)data_len;
	record(how, &h, sizeof(h), data, data_len);
}

/* One request alone, both ways. */
static void single(unsigned control, unsigned how, uint32_t opcode, uint64_t nodeid,
		   const void *arg, size_t arg_len, const void *data, size_t data_len,
		   const char *name)
{
	char ring_name[64];

	begin(control);
	request(how, opcode, nodeid, arg, arg_len, data, data_len);
	save(name);
	begin(control);
	request(how | 1, opcode, nodeid, arg, arg_len, data, data_len);
	snprintf(ring_name, sizeof(ring_name), "ring-%s", name);
	save(ring_name);
}

#define FAIL_SECOND	(2 << 1 | 8)	/* how: short, then EIO */

void write_seeds(const char *out)
{
	static uint8_t data[8192];
	struct fuse_init_in init = { .major = 7, .minor = 45, .max_readahead = 131072,
				     .flags = 0x73fffffb, .flags2 = 0x2f7 };
	struct fuse_read_in rd = { .offset = 4096, .size = 8192 };
	struct fuse_read_in rd0 = { .offset = 0, .size = 4096 };
	struct fuse_read_in rd_huge = { .offset = 0xfffffffffffff000ull, .size = 8192 };
	struct fuse_read_in rd_end = { .offset = 12288, .size = 8192 };
	struct fuse_read_in dir0 = { .offset = 0, .size = 4096 };
	struct fuse_write_in wr = { .offset = 8192, .size = 4096 };
	struct fuse_write_in wr_end = { .offset = 12288, .size = 8192 };
	struct fuse_setattr_in sa = { .valid = FATTR_MODE | FATTR_ATIME | FATTR_MTIME_NOW | FATTR_MTIME,
				      .mode = 0100644, .atime = 12345, .atimensec = 678 };
	struct fuse_setattr_in grow = { .valid = FATTR_SIZE, .size = 40960 };
	struct fuse_setattr_in shrink = { .valid = FATTR_SIZE, .size = 4096 };
	struct fuse_setattr_in owner = { .valid = FATTR_UID | FATTR_GID, .uid = 7, .gid = 8 };
	struct fuse_fallocate_in punch = { .offset = 4096, .length = 8192, .mode = 3 };
	struct fuse_fallocate_in zero = { .offset = 0, .length = 100000, .mode = 0x11 };
	struct fuse_lseek_in ls = { .offset = 0, .whence = SEEK_DATA };
	struct fuse_lseek_in lh = { .offset = 100, .whence = SEEK_HOLE };
	struct fuse_open_in op = { .flags = O_RDWR };
	struct fuse_open_in op_direct = { .flags = O_RDWR | O_DIRECT };
	struct fuse_open_in op_ro = { .flags = O_RDONLY };
	struct fuse_getattr_in ga = { 0 };
	struct fuse_fsync_in fs = { .fsync_flags = 1 };
	struct fuse_release_in rel = { 0 };
	struct fuse_forget_in fg = { .nlookup = 5 };
	struct fuse_batch_forget_in bf = { .count = 2 };
	struct fuse_forget_one forgets[2] = { { 2, 1 }, { 2, 3 } };
	struct fuse_interrupt_in intr = { .unique = 4 };

	dir = out;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0x5a ^ i);

	/* single requests, as before: one of each opcode */
	single(0, 0, FUSE_INIT, 0, &init, sizeof(init), 0, 0, "init-7.45");
	single(0, 0, FUSE_INIT, 0, &init, 16, 0, 0, "init-7.35-short");
	init.minor = 22;
	single(0, 0, FUSE_INIT, 0, &init, 8, 0, 0, "init-oldest");
	single(0, 0, FUSE_LOOKUP, 1, 0, 0, "volume", 7, "lookup");
	single(0, 0, FUSE_LOOKUP, 1, 0, 0, "nothere", 8, "lookup-missing");
	single(0, 0, FUSE_LOOKUP, 1, 0, 0, "volumex", 8, "lookup-longer");
	single(0, 0, FUSE_LOOKUP, 1, 0, 0, "volum", 6, "lookup-shorter");
	single(0, 0, FUSE_GETATTR, 2, &ga, sizeof(ga), 0, 0, "getattr");
	single(0, 0, FUSE_SETATTR, 2, &sa, sizeof(sa), 0, 0, "setattr");
	single(0, 0, FUSE_OPEN, 2, &op, sizeof(op), 0, 0, "open");
	single(0, 0, FUSE_READ, 2, &rd, sizeof(rd), 0, 0, "read");
	single(0, 2, FUSE_READ, 2, &rd, sizeof(rd), 0, 0, "read-short");
	single(0, FAIL_SECOND, FUSE_READ, 2, &rd, sizeof(rd), 0, 0, "read-short-then-eio");
	single(0, 0, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096, "write");
	single(0, 2, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096, "write-short");
	single(0, 4, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096, "write-eio");
	single(0, FAIL_SECOND, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096, "write-short-then-eio");
	single(0, 6, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096, "write-nothing-taken");
	single(0, 0, FUSE_FSYNC, 2, &fs, sizeof(fs), 0, 0, "fsync");
	single(0, 0, FUSE_FALLOCATE, 2, &punch, sizeof(punch), 0, 0, "fallocate-punch");
	single(0, 0, FUSE_LSEEK, 2, &ls, sizeof(ls), 0, 0, "lseek-data");
	single(0, 0, FUSE_LSEEK, 2, &lh, sizeof(lh), 0, 0, "lseek-hole");
	single(0, 0, FUSE_STATFS, 1, 0, 0, 0, 0, "statfs");
	single(0, 0, FUSE_OPENDIR, 1, &op_ro, sizeof(op_ro), 0, 0, "opendir");
	single(0, 0, FUSE_READDIRPLUS, 1, &dir0, sizeof(dir0), 0, 0, "readdirplus");
	single(0, 0, FUSE_READDIR, 1, &dir0, sizeof(dir0), 0, 0, "readdir");
	single(0, 0, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf), forgets, sizeof(forgets), "batch-forget");
	single(0, 0, FUSE_INTERRUPT, 0, &intr, sizeof(intr), 0, 0, "interrupt");
	single(0, 0, FUSE_SETXATTR, 2, 0, 0, "user.x", 7, "unknown-to-us");
	single(8, 0, FUSE_READ, 1, &rd, sizeof(rd), 0, 0, "read-file-root");

	/* regressions: a READ whose end overflows 64 bits; a WRITE and a READ
	 * that the volume's end cuts short */
	single(0, 0, FUSE_READ, 2, &rd_huge, sizeof(rd_huge), 0, 0, "read-offset-overflow");
	single(0, 0, FUSE_WRITE, 2, &wr_end, sizeof(wr_end), data, 8192, "write-across-the-end");
	single(0, 0, FUSE_READ, 2, &rd_end, sizeof(rd_end), 0, 0, "read-across-the-end");

	/* a session: look up, open, write, read back, sync, punch, read,
	 * forget, and the node is still there */
	for (unsigned ring = 0; ring < 2; ring++) {
		begin(5);	/* 32 KiB */
		request(ring, FUSE_LOOKUP, 1, 0, 0, "volume", 7);
		request(ring, FUSE_GETATTR, 2, &ga, sizeof(ga), 0, 0);
		request(ring, FUSE_OPEN, 2, &op_direct, sizeof(op_direct), 0, 0);
		request(ring, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096);
		request(ring | 2, FUSE_WRITE, 2, &wr_end, sizeof(wr_end), data, 8192);
		request(ring, FUSE_READ, 2, &rd, sizeof(rd), 0, 0);
		request(ring, FUSE_FSYNC, 2, &fs, sizeof(fs), 0, 0);
		request(ring, FUSE_FALLOCATE, 2, &punch, sizeof(punch), 0, 0);
		request(ring, FUSE_READ, 2, &rd0, sizeof(rd0), 0, 0);
		request(ring, FUSE_READDIRPLUS, 1, &dir0, sizeof(dir0), 0, 0);
		request(ring, FUSE_RELEASE, 2, &rel, sizeof(rel), 0, 0);
		request(ring, FUSE_FORGET, 2, &fg, sizeof(fg), 0, 0);
		request(ring, FUSE_GETATTR, 2, &ga, sizeof(ga), 0, 0);
		request(ring, FUSE_SETATTR, 2, &owner, sizeof(owner), 0, 0);
		request(ring, FUSE_LOOKUP, 1, 0, 0, "volume", 7);
		save(ring ? "ring-session" : "session");
	}
	/* resizable: grow, write and read in the new space, shrink */
	begin(64 | 0);
	request(0, FUSE_SETATTR, 2, &grow, sizeof(grow), 0, 0);
	request(0, FUSE_WRITE, 2, &(struct fuse_write_in){ .offset = 36864, .size = 4096 }, sizeof(wr), data, 4096);
	request(0, FUSE_READ, 2, &(struct fuse_read_in){ .offset = 32768, .size = 8192 }, sizeof(rd), 0, 0);
	request(0, FUSE_SETATTR, 2, &shrink, sizeof(shrink), 0, 0);
	request(0, FUSE_READ, 2, &rd0, sizeof(rd0), 0, 0);
	request(0, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096);
	request(0, FUSE_SETATTR, 2, &grow, sizeof(grow), 0, 0);
	request(0, FUSE_READ, 2, &rd, sizeof(rd), 0, 0);
	save("resize");
	/* the same on a volume that may not change size */
	input[0] = 0;
	save("resize-refused");
	/* read-only: every change refused */
	begin(16);
	request(0, FUSE_OPEN, 2, &op, sizeof(op), 0, 0);
	request(0, FUSE_OPEN, 2, &op_ro, sizeof(op_ro), 0, 0);
	request(0, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096);
	request(1, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096);
	request(0, FUSE_SETATTR, 2, &sa, sizeof(sa), 0, 0);
	request(0, FUSE_FALLOCATE, 2, &punch, sizeof(punch), 0, 0);
	request(0, FUSE_READ, 2, &rd, sizeof(rd), 0, 0);
	save("read-only");
	/* passthrough, with BACKING longer than the volume */
	begin(32 | 128);
	request(0, FUSE_OPEN, 2, &op, sizeof(op), 0, 0);
	request(0, FUSE_GETATTR, 2, &ga, sizeof(ga), 0, 0);
	request(0, FUSE_LSEEK, 2, &lh, sizeof(lh), 0, 0);
	request(0, FUSE_FALLOCATE, 2, &zero, sizeof(zero), 0, 0);
	request(0, FUSE_READ, 2, &rd, sizeof(rd), 0, 0);
	save("passthrough");
	/* mounted over a file: node 1 is the volume, there is no node 2 */
	begin(8);
	request(0, FUSE_LOOKUP, 1, 0, 0, "volume", 7);
	request(0, FUSE_GETATTR, 1, &ga, sizeof(ga), 0, 0);
	request(0, FUSE_GETATTR, 2, &ga, sizeof(ga), 0, 0);
	request(0, FUSE_OPENDIR, 1, &op_ro, sizeof(op_ro), 0, 0);
	request(0, FUSE_READDIR, 1, &dir0, sizeof(dir0), 0, 0);
	request(0, FUSE_WRITE, 1, &wr, sizeof(wr), data, 4096);
	request(0, FUSE_READ, 1, &rd, sizeof(rd), 0, 0);
	save("file-root");

	/* regressions found by the fuzzer or by mutants that make check
	 * missed: the volume's end for WRITE and FALLOCATE, READDIR's bound,
	 * the payload's bound, WRITE data of another length than it says */
	struct fuse_write_in wr_at_end = { .offset = 16384, .size = 4096 };
	struct fuse_write_in wr_past = { .offset = 20480, .size = 4096 };
	struct fuse_write_in wr_says_less = { .offset = 0, .size = 4096 };
	struct fuse_fallocate_in fa_extend = { .offset = 12288, .length = 8192, .mode = 0 };
	struct fuse_fallocate_in fa_zero_extend = { .offset = 16384, .length = 4096, .mode = 0x10 };
	struct fuse_fallocate_in fa_keep_at_end = { .offset = 16384, .length = 4096, .mode = 3 };
	struct fuse_fsync_in fs_full = { .fsync_flags = 0 };

	single(0, 0, FUSE_WRITE, 2, &wr_at_end, sizeof(wr_at_end), data, 4096, "write-at-the-end");
	single(0, 0, FUSE_WRITE, 2, &wr_past, sizeof(wr_past), data, 4096, "write-past-the-end");
	single(0, 0, FUSE_WRITE, 2, &wr_says_less, sizeof(wr_says_less), data, 8192,
	       "write-data-longer-than-it-says");
	single(0, 0, FUSE_WRITE, 2, &wr_says_less, sizeof(wr_says_less), data, 2048,
	       "write-data-shorter-than-it-says");
	single(0, 0, FUSE_FALLOCATE, 2, &fa_extend, sizeof(fa_extend), 0, 0, "fallocate-extending");
	single(0, 0, FUSE_FALLOCATE, 2, &fa_zero_extend, sizeof(fa_zero_extend), 0, 0,
	       "fallocate-zero-range-extending");
	single(0, 0, FUSE_FALLOCATE, 2, &fa_keep_at_end, sizeof(fa_keep_at_end), 0, 0,
	       "fallocate-punch-at-the-end");
	single(0, 0, FUSE_FSYNC, 2, &fs_full, sizeof(fs_full), 0, 0, "fsync-not-datasync");
	/* READDIR with room for none, one, two entries; from each index */
	for (unsigned plus = 0; plus < 2; plus++) {
		static const uint32_t rooms[] = { 31, 32, 63, 64, 95, 96, 200, 300, 500 };

		begin(0);
		for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++)
			for (uint64_t at = 0; at < 4; at++)
				request(0, plus ? FUSE_READDIRPLUS : FUSE_READDIR, 1,
					&(struct fuse_read_in){ .offset = at, .size = rooms[i] },
					sizeof(struct fuse_read_in), 0, 0);
		save(plus ? "readdirplus-bounds" : "readdir-bounds");
	}
	/* ring entries whose payload is larger than the buffer, or than the
	 * header says the request is */
	for (unsigned lie = 0; lie < 2; lie++) {
		struct fuse_uring_req_header h;
		struct fuse_in_header in = { .opcode = FUSE_WRITE, .unique = next_unique, .nodeid = 2 };
		struct fuse_write_in w = { .offset = 0, .size = MAX_WRITE + 4096 };

		memset(&h, 0, sizeof(h));
		in.len = (uint32_t)(sizeof(in) + sizeof(w) + (lie ? 0 : MAX_WRITE + 4096));
		memcpy(h.in_out, &in, sizeof(in));
		memcpy(h.op_in, &w, sizeof(w));
		h.ring_ent_in_out.payload_sz = MAX_WRITE + 4096;
		begin(0);
		record(1, &h, sizeof(h), data, sizeof(data));
		save(lie ? "ring-payload-beyond-the-request" : "ring-payload-beyond-the-buffer");
	}
	/* the volume follows BACKING's size: BACKING 4 KiB longer (someone
	 * grew it; or passthrough wrote past the end), then what depends on
	 * the size */
	struct fuse_lseek_in ls_old_end = { .offset = 16384, .whence = SEEK_DATA };
	struct fuse_fallocate_in punch_old_end = { .offset = 16384, .length = 4096, .mode = 3 };
	struct fuse_setattr_in back_to_old = { .valid = FATTR_SIZE, .size = 16384 };

	for (unsigned pt = 0; pt < 2; pt++) {
		begin(128 | 64 | (pt ? 32 : 0));
		request(0, FUSE_LSEEK, 2, &ls_old_end, sizeof(ls_old_end), 0, 0);
		request(0, FUSE_FALLOCATE, 2, &punch_old_end, sizeof(punch_old_end), 0, 0);
		request(0, FUSE_WRITE, 2, &wr_at_end, sizeof(wr_at_end), data, 4096);
		request(0, FUSE_READ, 2, &rd_end, sizeof(rd_end), 0, 0);
		request(0, FUSE_SETATTR, 2, &back_to_old, sizeof(back_to_old), 0, 0);
		request(0, FUSE_GETATTR, 2, &ga, sizeof(ga), 0, 0);
		request(0, FUSE_LSEEK, 2, &ls_old_end, sizeof(ls_old_end), 0, 0);
		save(pt ? "passthrough-grown-then-truncated" : "grown-elsewhere");
	}
	begin(128);
	request(0, FUSE_GETATTR, 2, &ga, sizeof(ga), 0, 0);
	request(0, FUSE_WRITE, 2, &wr_at_end, sizeof(wr_at_end), data, 4096);
	request(0, FUSE_SETATTR, 2, &back_to_old, sizeof(back_to_old), 0, 0);
	save("grown-elsewhere-fixed-size");

	/* headers that lie about the length: a /dev/fuse message longer than
	 * its header says, a ring entry whose argument would overrun op_in,
	 * a BATCH_FORGET counting more than it carries */
	{
		struct fuse_in_header in = { .len = sizeof(in) + sizeof(ga), .opcode = FUSE_GETATTR,
					     .unique = next_unique, .nodeid = 2 };
		uint8_t msg[sizeof(in) + sizeof(ga) + 16] = { 0 };
		struct fuse_uring_req_header h;

		memcpy(msg, &in, sizeof(in));
		begin(0);
		record(0, msg, sizeof(msg), 0, 0);
		save("dev-longer-than-its-header");
		memset(&h, 0, sizeof(h));
		in.len = sizeof(in) + sizeof(h.op_in) + 8;
		memcpy(h.in_out, &in, sizeof(in));
		begin(0);
		record(1, &h, sizeof(h), 0, 0);
		save("ring-argument-beyond-op-in");
	}
	single(0, 0, FUSE_BATCH_FORGET, 0, &(struct fuse_batch_forget_in){ .count = 3 },
	       sizeof(bf), forgets, sizeof(forgets), "batch-forget-counts-more");
}
#endif
