/* SPDX-License-Identifier: MIT */
/* fake_ring.c - the fake kernel behind uring.h's system calls for
 * `make check` (see fake_ring.h).  Hosted, never shipped.
 *
 * Everything lives under one mutex: the daemon's threads run freely and
 * meet the fake only in io_uring_enter() and io_uring_register().  An
 * operation is created when its SQE is consumed, "issued" when nothing it
 * is linked behind is pending, and completed at a random later moment,
 * one at a time, so completions arrive in any order.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server.h"
#include "fake_ring.h"

_Static_assert(FUSE_OPCODE_COUNT < 64, "fake_stats.delivered");

#define FAKE_FUSE_FD	100000		/* beyond any real descriptor */
#define FAKE_RING_FD	200000
#define MAX_RINGS	32
#define MAX_OPS		2048
#define MAX_REQS	65536
#define MAX_ENTRIES	4096
#define BLOCK		4096u
#define FAKE_BACKING_FD	300000
#define FAKE_DIRECT_FD	300001		/* BACKING with O_DIRECT */
#define FAKE_MTIME	1700000000u	/* BACKING's, as statx says */
#define FAKE_FS_BLOCKS	1000000u	/* its filesystem's, as fstatfs says */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

/* --- rings ------------------------------------------------------------------ */

struct cqe_rec {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;
};

struct ring {
	bool used;
	unsigned flags;
	uint32_t sq_entries, cq_entries;
	uint8_t *mem;
	size_t mem_size;
	uint32_t *sq_head, *sq_tail, *sq_array, *cq_head, *cq_tail;
	struct io_uring_cqe *cqes;
	uint8_t *sqes;
	unsigned sqe_size;
	uint8_t *arena;		/* the registered buffer */
	uint64_t arena_len;
	int32_t files[4];	/* the registered files */
	unsigned nfiles;
	struct io_uring_buf *pbufs;	/* provided buffers, group 0 */
	unsigned pbuf_entries;
	uint16_t pbuf_head;
	struct cqe_rec overflow[4096];	/* IORING_FEAT_NODROP */
	unsigned noverflow;
	/* DEFER_TASKRUN: completions wait here until the ring's thread
	 * enters with GETEVENTS (io_run_local_work). */
	struct cqe_rec deferred[4096];
	unsigned ndeferred;
	bool is_control;	/* the main thread's (it has no arena) */
	unsigned waiting_for;	/* a thread waits for this many CQEs */
};

static struct ring rings[MAX_RINGS];

static struct ring *ring_of(int fd)
{
	unsigned i = (unsigned)(fd - FAKE_RING_FD);

	return i < MAX_RINGS && rings[i].used ? &rings[i] : 0;
}

/* --- the world: requests, BACKING and its model ---------------------------- */

struct req {
	uint64_t unique;
	uint32_t opcode;
	uint64_t offset;
	uint32_t size;
	bool expect_reply, answered;
	int expect_error;	/* 0, or the -errno the reply must carry */
	uint32_t expect_len;	/* body length of a successful reply */
	uint8_t *msg;		/* header, argument, data */
	uint32_t msg_len, arg_len;
	/* FSYNC, FALLOCATE, LSEEK: the BACKING call it must lead to */
	unsigned calls_expected, calls_made;
	uint32_t flags;		/* FSYNC: datasync; FALLOCATE: mode; LSEEK: whence */
	uint64_t expect_offset;	/* LSEEK: the answer, once BACKING said */
	bool claims_more;	/* its payload is more than an entry's buffer */
};

/* A FUSE-over-io_uring entry, as REGISTER made it known. */
struct entry {
	struct iovec iov[2];
	uint16_t qid;
	int req;		/* the request it holds, or -1 */
};

enum op_kind { OP_BACKING, OP_DEV_READ, OP_DEV_MULTISHOT, OP_DEV_WRITE,
	       OP_RING_CMD, OP_MSG_RING, OP_NOP };

struct op {
	bool used, issued;
	enum op_kind kind;
	struct ring *ring;
	struct io_uring_sqe sqe;
	uint8_t cmd[80];	/* the SQE128 command area */
	int next;		/* the op linked behind this one, or -1 */
	bool waiting;		/* behind a link head that has not finished */
	bool refused;		/* the op linked behind it failed to submit */
	int entry;		/* OP_RING_CMD */
};

static struct {
	struct fake_config cfg;
	struct fake_stats st;
	unsigned violations;
	uint64_t rng;
	uint8_t *backing, *model;
	bool *known;		/* model bytes we are sure of */
	bool *bad;		/* bad blocks */
	bool *hole;		/* blocks punched out (SEEK_DATA skips them) */
	uint64_t block_size;	/* a block device's size, when a test changed it */
	unsigned refuse_streak;	/* linked replies still to refuse in a row */
	pthread_t main_thread;	/* the one whose ring is the control ring */
	/* Heads whose linked reply was refused: refused again whenever they
	 * come linked, until they come alone (a refusal may well last). */
	uint64_t refusing[64];
	unsigned nrefusing;
	struct req reqs[MAX_REQS];
	unsigned nreqs, outstanding;
	unsigned budget;	/* requests still to send */
	unsigned forget_budget;	/* uring: FORGETs and INTERRUPTs through /dev/fuse */
	struct entry entries[MAX_ENTRIES];
	unsigned nentries;
	struct op ops[MAX_OPS];
	unsigned ops_end;	/* ops[] beyond this were never used */
	unsigned queue_live, queue_waiting;
	unsigned setups, setup_entries;	/* io_uring_setup calls, the last's entries */
} w;

/* The size a probe of BACKING's size alone (statx of STATX_SIZE, as
 * reply_from_cache asks) sees: in half the seeds, shrunk by someone else to
 * inside its last page, which mincore still shows whole.  GETATTR's statx
 * sees it whole. */
static uint64_t probed_size(void)
{
	return w.cfg.volume_size - (w.cfg.seed & 2 ? 1 + w.cfg.seed % 100 : 0);
}

__attribute__((format(printf, 1, 2)))
static void violation(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	fprintf(stderr, "  violation: ");
	vfprintf(stderr, f, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	w.violations++;
}

static uint64_t rnd(void)
{
	w.rng ^= w.rng >> 12;
	w.rng ^= w.rng << 25;
	w.rng ^= w.rng >> 27;
	return w.rng * 2685821657736338717ull;
}

static unsigned rnd_below(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

static bool world_over(void)
{
	return !w.budget && !w.forget_budget && !w.outstanding;
}

/* The first bad block in [off, off + len), or UINT64_MAX. */
static uint64_t first_bad(uint64_t off, uint64_t len)
{
	for (uint64_t b = off / BLOCK * BLOCK; b < off + len; b += BLOCK)
		if (b / BLOCK < w.cfg.volume_size / BLOCK && w.bad[b / BLOCK])
			return b < off ? off : b;
	return UINT64_MAX;
}

/* --- completions ------------------------------------------------------------- */

static void post_now(struct ring *r, uint64_t user_data, int32_t res, uint32_t flags);

/* A completion for ring r: at once, or, with DEFER_TASKRUN, when its
 * thread next enters with GETEVENTS. */
static void post(struct ring *r, uint64_t user_data, int32_t res, uint32_t flags)
{
	if (!(r->flags & IORING_SETUP_DEFER_TASKRUN)) {
		post_now(r, user_data, res, flags);
		return;
	}
	if (r->ndeferred == 4096) {
		violation("deferred completions pile up: nobody enters with GETEVENTS");
		return;
	}
	r->deferred[r->ndeferred++] = (struct cqe_rec){ user_data, res, flags };
	w.st.deferred++;
}

static void run_deferred(struct ring *r)
{
	unsigned n = r->ndeferred;

	r->ndeferred = 0;
	for (unsigned i = 0; i < n; i++)
		post_now(r, r->deferred[i].user_data, r->deferred[i].res, r->deferred[i].flags);
}

static void post_now(struct ring *r, uint64_t user_data, int32_t res, uint32_t flags)
{
	uint32_t tail = *r->cq_tail;

	if (r->noverflow || tail - load_acquire(r->cq_head) >= r->cq_entries) {
		if (r->noverflow == 4096) {
			violation("CQ overflow list full: completions are not reaped");
			return;
		}
		r->overflow[r->noverflow++] = (struct cqe_rec){ user_data, res, flags };
		return;
	}
	r->cqes[tail & (r->cq_entries - 1)] = (struct io_uring_cqe){ user_data, res, flags };
	store_release(r->cq_tail, tail + 1);
}

static void flush_overflow(struct ring *r)
{
	unsigned n = r->noverflow, i = 0;

	r->noverflow = 0;
	for (; i < n && *r->cq_tail - load_acquire(r->cq_head) < r->cq_entries; i++)
		post_now(r, r->overflow[i].user_data, r->overflow[i].res, r->overflow[i].flags);
	memmove(r->overflow, r->overflow + i, (n - i) * sizeof(r->overflow[0]));
	r->noverflow = n - i;
}

static unsigned cq_ready(struct ring *r)
{
	return *r->cq_tail - load_acquire(r->cq_head);
}

static void issue(struct op *op);

/* An op that ended with a CQE posted already. */
static void finish_quietly(struct op *op)
{
	op->used = false;
}

static void free_op(struct op *op)
{
	op->used = false;
}

/* Op finished with `res`; `failed` breaks its link (a short transfer too).
 * As io_uring: a failed head posts its CQE even with CQE_SKIP_SUCCESS,
 * and then the cancelled ops behind it post none (REQ_F_SKIP_LINK_CQES). */
static void finish(struct op *op, int32_t res, bool failed, uint32_t flags)
{
	bool skip = op->sqe.flags & IOSQE_CQE_SKIP_SUCCESS;

	if (failed || !skip)
		post(op->ring, op->sqe.user_data, res, flags);
	int next = op->next;

	free_op(op);
	if (failed && next >= 0)
		w.st.linked_cancels++;
	while (next >= 0) {
		struct op *n = &w.ops[next];

		if (!failed) {
			n->waiting = false;
			issue(n);
			return;
		}
		if (!skip)
			post(n->ring, n->sqe.user_data, -ECANCELED, 0);
		next = n->next;
		free_op(n);
	}
}

/* --- buffers ---------------------------------------------------------------- */

static bool in_arena(struct ring *r, uint64_t addr, uint64_t len)
{
	return r->arena && addr >= (uint64_t)r->arena &&
	       addr + len <= (uint64_t)r->arena + r->arena_len;
}

/* [addr, addr+len) of op, for the ops that own arena memory while issued. */
static bool op_buffer(const struct op *op, uint64_t *addr, uint64_t *len)
{
	if (op->kind != OP_BACKING && op->kind != OP_DEV_READ && op->kind != OP_DEV_WRITE)
		return false;
	*addr = op->sqe.addr;
	*len = op->sqe.len;
	if (op->sqe.opcode == IORING_OP_WRITEV) {	/* the header's, in the arena */
		*addr = (uint64_t)((const struct iovec *)op->sqe.addr)[0].iov_base;
		*len = ((const struct iovec *)op->sqe.addr)[0].iov_len;
	}
	return true;
}

/* No two operations in flight may use the same memory: a read that lands
 * in a buffer already given to another request corrupts it. */
static void check_no_overlap(const struct op *self, uint64_t addr, uint64_t len,
			     const char *what)
{
	for (unsigned i = 0; i < w.ops_end; i++) {
		const struct op *o = &w.ops[i];
		uint64_t a, l;

		if (o == self || !o->used || !o->issued || !op_buffer(o, &a, &l))
			continue;
		if (addr < a + l && a < addr + len)
			violation("%s at %#lx+%lu overlaps an operation in flight (opcode %u)",
				  what, (unsigned long)addr, (unsigned long)len, o->sqe.opcode);
	}
}

/* --- requests ---------------------------------------------------------------- */

static bool overlaps_in_flight_write(uint64_t off, uint64_t len, bool also_reads)
{
	for (unsigned i = 0; i < w.nreqs; i++) {
		const struct req *q = &w.reqs[i];

		/* FALLOCATE changes bytes as a WRITE does */
		if (q->answered || !q->expect_reply ||
		    (q->opcode != FUSE_WRITE && q->opcode != FUSE_FALLOCATE &&
		     !(also_reads && q->opcode == FUSE_READ)))
			continue;
		if (off < q->offset + q->size && q->offset < off + len)
			return true;
	}
	return false;
}

static struct req *new_req(uint32_t opcode, const void *arg, uint32_t arg_len,
			   const uint8_t *data, uint32_t data_len)
{
	struct req *q = &w.reqs[w.nreqs++];
	struct fuse_in_header h = {
		.len = (uint32_t)sizeof(h) + arg_len + data_len,
		.opcode = opcode, .unique = 2 * w.nreqs + 100,
		.nodeid = VOLUME_NODE_ID,
	};

	*q = (struct req){ .unique = h.unique, .opcode = opcode, .expect_reply = true,
			   .msg_len = h.len, .arg_len = arg_len };
	q->msg = malloc(h.len);
	memcpy(q->msg, &h, sizeof(h));
	if (arg_len)
		memcpy(q->msg + sizeof(h), arg, arg_len);
	if (data_len)
		memcpy(q->msg + sizeof(h) + arg_len, data, data_len);
	return q;
}

/* A READ larger than max_write, the most INIT allowed and what the reply
 * buffer holds: one byte, a page or 2^32 - 1 bytes larger, anywhere.  It
 * is refused, and touches nothing. */
static struct req *gen_read_past_max(void)
{
	const uint32_t sizes[] = { w.cfg.max_write + 1, w.cfg.max_write + 4096, UINT32_MAX };
	struct fuse_read_in in = {
		.offset = rnd_below(2) ? w.cfg.volume_size - 100 :
					 BLOCK * (uint64_t)rnd_below((unsigned)(w.cfg.volume_size / BLOCK)),
		.size = sizes[rnd_below(3)],
	};
	struct req *q = new_req(FUSE_READ, &in, sizeof(in), 0, 0);

	q->offset = in.offset;
	q->expect_error = -EINVAL;
	return q;
}

/* A READ of whole blocks, or now and then of any length from a block or
 * from any byte, or from any byte to the end of a block (what O_DIRECT
 * cannot take as it is). */
static struct req *gen_read(void)
{
	uint64_t blocks = w.cfg.volume_size / BLOCK, off;
	uint32_t size = BLOCK * (1 + rnd_below(w.cfg.max_write / BLOCK));
	bool any_byte = rnd_below(8) == 0;

	if (rnd_below(32) == 0)
		return gen_read_past_max();
	if (any_byte)
		size = 1 + rnd_below(w.cfg.max_write);
	for (int tries = 0;; tries++) {
		off = any_byte && rnd_below(2) ? rnd_below((unsigned)w.cfg.volume_size) :
		      rnd_below(4) == 0 ? w.cfg.volume_size - BLOCK * (1 + rnd_below(4)) :
					  BLOCK * (uint64_t)rnd_below((unsigned)blocks);
		if (any_byte && rnd_below(2) && (off + size) % BLOCK < size)
			size -= (uint32_t)((off + size) % BLOCK);
		if (!overlaps_in_flight_write(off, size, false))
			break;
		if (tries == 20)
			return 0;
	}
	struct fuse_read_in in = { .offset = off, .size = size };
	struct req *q = new_req(FUSE_READ, &in, sizeof(in), 0, 0);
	uint64_t end = off + size < w.cfg.volume_size ? off + size : w.cfg.volume_size;

	q->offset = off;
	q->size = size;
	q->expect_len = (uint32_t)(end - off);
	if (first_bad(off, end - off) != UINT64_MAX)
		q->expect_error = -EIO;
	return q;
}

/* A WRITE inside the volume, across its end (cut there), or at its end
 * (ENOSPC: the volume does not grow). */
static struct req *gen_write(bool malformed)
{
	uint64_t blocks = w.cfg.volume_size / BLOCK, off;
	uint32_t size = BLOCK * (1 + rnd_below(w.cfg.max_write / BLOCK)), reach;
	bool at_end = rnd_below(32) == 0;
	static uint8_t data[1 << 20];

	for (int tries = 0;; tries++) {
		off = at_end ? w.cfg.volume_size : BLOCK * (uint64_t)rnd_below((unsigned)blocks);
		reach = off + size > w.cfg.volume_size ? (uint32_t)(w.cfg.volume_size - off) : size;
		if (!overlaps_in_flight_write(off, reach, true))
			break;
		if (tries == 20)
			return 0;
	}
	for (uint32_t i = 0; i < size; i += 8) {
		uint64_t v = rnd();

		memcpy(data + i, &v, 8);
	}
	struct fuse_write_in in = { .offset = off, .size = size };
	/* Malformed: the data is one byte shorter than the header says. */
	struct req *q = new_req(FUSE_WRITE, &in, sizeof(in), data, size - malformed);

	q->offset = off;
	q->size = reach;	/* what reaches BACKING, and the reply's count */
	q->expect_len = sizeof(struct fuse_write_out);
	if (malformed)
		q->expect_error = -EINVAL;
	else if (!reach)
		q->expect_error = -ENOSPC;
	else if (first_bad(off, reach) != UINT64_MAX)
		q->expect_error = -EIO;
	return q;
}

/* FUSE over io_uring: a WRITE whose payload is one byte more than an
 * entry's payload buffer holds (the buffer gets what fits).  Refused. */
static struct req *gen_write_past_buffer(void)
{
	static uint8_t data[(1 << 20) + 1];
	struct fuse_write_in in = { .offset = 0, .size = w.cfg.max_write + 1 };
	struct req *q = new_req(FUSE_WRITE, &in, sizeof(in), data, in.size);

	q->claims_more = true;
	q->expect_error = -EINVAL;
	return q;
}

/* The request of this opcode still waiting for its reply, or NULL.
 * FSYNC, FALLOCATE and LSEEK go one at a time, so that the BACKING call
 * the fake sees is checked against the very request it serves. */
static struct req *pending(uint32_t opcode)
{
	for (unsigned i = w.nreqs; i-- > 0;)
		if (w.reqs[i].opcode == opcode && w.reqs[i].expect_reply && !w.reqs[i].answered)
			return &w.reqs[i];
	return 0;
}

static struct req *gen_fsync(void)
{
	struct fuse_fsync_in in = { .fsync_flags = rnd_below(2) ? FUSE_FSYNC_FDATASYNC : 0 };
	struct req *q;

	if (pending(FUSE_FSYNC))
		return 0;
	q = new_req(FUSE_FSYNC, &in, sizeof(in), 0, 0);
	q->flags = in.fsync_flags;
	q->calls_expected = 1;
	return q;
}

/* Punch, zero or allocate a range inside, across or past the volume's
 * end: what reaches BACKING is cut at the end; what would extend the
 * volume fails. */
static struct req *gen_fallocate(void)
{
	static const uint32_t modes[] = {
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE,
		FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0,
	};
	uint64_t size = w.cfg.volume_size;
	uint64_t off = BLOCK * (uint64_t)rnd_below((unsigned)(size / BLOCK) + 2);
	uint64_t len = BLOCK * (1 + (uint64_t)rnd_below(16));
	uint64_t end = off + len < size ? off + len : size;
	struct fuse_fallocate_in in = { .offset = off, .length = len,
					.mode = modes[rnd_below(4)] };
	struct req *q;

	if (pending(FUSE_FALLOCATE) ||
	    (off < size && overlaps_in_flight_write(off, end - off, true)))
		return 0;
	q = new_req(FUSE_FALLOCATE, &in, sizeof(in), 0, 0);
	q->flags = in.mode;
	q->offset = off;
	if (off + len > size && !(in.mode & FALLOC_FL_KEEP_SIZE)) {
		q->expect_error = -ENOSPC;
	} else if (off < size) {
		q->size = (uint32_t)(end - off);	/* what BACKING is asked */
		q->calls_expected = 1;
	}
	return q;
}

/* SEEK_DATA or SEEK_HOLE from inside, at or past the end. */
static struct req *gen_lseek(void)
{
	uint64_t size = w.cfg.volume_size;
	struct fuse_lseek_in in = {
		.offset = rnd_below(4) ? rnd_below((unsigned)size) : size + rnd_below(2) * BLOCK,
		.whence = rnd_below(2) ? SEEK_DATA : SEEK_HOLE,
	};
	struct req *q;

	if (pending(FUSE_LSEEK))
		return 0;
	q = new_req(FUSE_LSEEK, &in, sizeof(in), 0, 0);
	q->flags = in.whence;
	q->offset = in.offset;
	q->expect_len = sizeof(struct fuse_lseek_out);
	if (in.offset >= size)
		q->expect_error = -ENXIO;
	else
		q->calls_expected = 1;
	return q;
}

/* A request of a kind that suits the receiver: /dev/fuse in uring mode
 * carries only FORGET and INTERRUPT, as in the kernel. */
static struct req *gen_request(bool dev)
{
	struct req *q = 0;
	unsigned pick = rnd_below(100);

	if (dev && w.cfg.uring)
		pick = 95 + rnd_below(5);
	if (pick < 38)
		q = gen_read();
	else if (pick < 68)
		q = gen_write(false);
	else if (pick < 71)
		q = !dev && rnd_below(2) ? gen_write_past_buffer() : gen_write(true);
	else if (pick < 76)
		q = gen_fsync();
	else if (pick < 81)
		q = gen_fallocate();
	else if (pick < 86)
		q = gen_lseek();
	if (!q && pick < 88) {
		struct fuse_flush_in in = { 0 };

		q = new_req(FUSE_FLUSH, &in, sizeof(in), 0, 0);
	} else if (!q && pick < 89) {
		/* an opcode past the table: one past, and far */
		const uint32_t unknown[] = { FUSE_OPCODE_COUNT, 4096, UINT32_MAX };

		q = new_req(unknown[rnd_below(3)], 0, 0, 0, 0);
		q->expect_error = -ENOSYS;
	} else if (!q && pick < 93) {
		struct fuse_getattr_in in = { 0 };

		q = new_req(FUSE_GETATTR, &in, sizeof(in), 0, 0);
		q->expect_len = sizeof(struct fuse_attr_out);
	} else if (!q && pick < 95) {
		q = new_req(FUSE_STATFS, 0, 0, 0, 0);
		q->expect_len = sizeof(struct fuse_statfs_out);
	} else if (!q) {
		struct fuse_interrupt_in in = { .unique = w.nreqs ? w.reqs[rnd_below(w.nreqs)].unique : 1 };
		struct fuse_forget_in fin = { .nlookup = 1 };

		q = pick & 1 ? new_req(FUSE_INTERRUPT, &in, sizeof(in), 0, 0) :
			       new_req(FUSE_FORGET, &fin, sizeof(fin), 0, 0);
		q->expect_reply = false;
	}
	if (dev && w.cfg.uring)
		w.forget_budget--;
	else
		w.budget--;
	w.st.delivered[q->opcode < FUSE_OPCODE_COUNT ? q->opcode : FUSE_OPCODE_COUNT]++;
	if (dev)
		w.st.via_dev++;
	else
		w.st.via_uring++;
	if (q->expect_reply)
		w.outstanding++;
	else
		q->answered = true;
	return q;
}

static bool can_generate(bool dev)
{
	if (w.nreqs >= MAX_REQS - 1)
		return false;
	return dev && w.cfg.uring ? w.forget_budget > 0 : w.budget > 0;
}

static struct req *find_req(uint64_t unique)
{
	for (unsigned i = 0; i < w.nreqs; i++)
		if (w.reqs[i].unique == unique)
			return &w.reqs[i];
	return 0;
}

/* Check a reply against what the request must get. */
static void check_reply(const struct fuse_out_header *out, const uint8_t *body,
			uint32_t body_len)
{
	struct req *q = find_req(out->unique);

	if (!q || !q->expect_reply) {
		violation("reply to unknown or unanswerable request %lu", (unsigned long)out->unique);
		return;
	}
	if (q->answered) {
		violation("second reply to request %lu (opcode %u)", (unsigned long)q->unique, q->opcode);
		return;
	}
	q->answered = true;
	w.outstanding--;
	w.st.replies++;
	if (out->error)
		w.st.errors++;
	if (q->calls_made != q->calls_expected)
		violation("request %lu (opcode %u): answered after %u BACKING calls, want %u",
			  (unsigned long)q->unique, q->opcode, q->calls_made, q->calls_expected);
	if (q->expect_error) {
		if (out->error != q->expect_error || body_len)
			violation("request %lu (opcode %u at %lu+%u): reply error %d with %u bytes, want error %d",
				  (unsigned long)q->unique, q->opcode, (unsigned long)q->offset,
				  q->size, out->error, body_len, q->expect_error);
		if (q->opcode == FUSE_WRITE)	/* BACKING took some or none */
			memset(w.known + q->offset, 0, q->size);
		return;
	}
	if (out->error) {
		violation("request %lu (opcode %u at %lu+%u): error %d, want success",
			  (unsigned long)q->unique, q->opcode, (unsigned long)q->offset,
			  q->size, out->error);
		return;
	}
	if (body_len != q->expect_len) {
		violation("request %lu (opcode %u at %lu+%u): %u reply bytes, want %u",
			  (unsigned long)q->unique, q->opcode, (unsigned long)q->offset,
			  q->size, body_len, q->expect_len);
		return;
	}
	if (q->opcode == FUSE_READ)
		w.st.bytes_read += body_len;
	if (q->opcode == FUSE_LSEEK) {
		const struct fuse_lseek_out *lo = (const void *)body;

		if (lo->offset != q->expect_offset)
			violation("LSEEK %lu whence %u from %lu: %lu, BACKING's answer makes it %lu",
				  (unsigned long)q->unique, q->flags, (unsigned long)q->offset,
				  (unsigned long)lo->offset, (unsigned long)q->expect_offset);
	}
	if (q->opcode == FUSE_GETATTR) {
		const struct fuse_attr *a = &((const struct fuse_attr_out *)body)->attr;

		/* BACKING's size (a block device's from its own size, not
		 * statx), its times, the volume's mode */
		if (a->size != w.cfg.volume_size || a->mode != (S_IFREG | 0600) ||
		    a->blksize != BLOCK || a->mtime != FAKE_MTIME || a->ino != VOLUME_NODE_ID)
			violation("GETATTR %lu: size %lu mode 0%o blksize %u mtime %lu ino %lu, want "
				  "size %lu mode 0%o blksize %u mtime %u ino %u",
				  (unsigned long)q->unique, (unsigned long)a->size, a->mode,
				  a->blksize, (unsigned long)a->mtime, (unsigned long)a->ino,
				  (unsigned long)w.cfg.volume_size, S_IFREG | 0600, BLOCK,
				  FAKE_MTIME, VOLUME_NODE_ID);
	}
	if (q->opcode == FUSE_STATFS) {
		const struct fuse_kstatfs *st = &((const struct fuse_statfs_out *)body)->st;

		if (st->blocks != FAKE_FS_BLOCKS || st->bfree != FAKE_FS_BLOCKS / 2 ||
		    st->bavail != FAKE_FS_BLOCKS / 4 || st->bsize != BLOCK)
			violation("STATFS %lu: not BACKING's filesystem's figures",
				  (unsigned long)q->unique);
	}
	if (q->opcode == FUSE_READ) {
		/* Exactly what BACKING holds; the model where it is known
		 * (byte by byte only where the quick look finds a difference). */
		bool same = !memcmp(body, w.backing + q->offset, body_len) &&
			    !memcmp(body, w.model + q->offset, body_len);

		for (uint32_t i = 0; !same && i < body_len; i++)
			if (body[i] != w.backing[q->offset + i] ||
			    (w.known[q->offset + i] && body[i] != w.model[q->offset + i])) {
				violation("READ %lu at %lu+%u: byte %u is not BACKING's",
					  (unsigned long)q->unique, (unsigned long)q->offset,
					  q->size, i);
				return;
			}
	}
	if (q->opcode == FUSE_WRITE) {
		const uint8_t *data = q->msg + sizeof(struct fuse_in_header) + q->arg_len;
		struct fuse_write_out wo;

		memcpy(&wo, body, sizeof(wo));
		w.st.bytes_written += wo.size;
		if (wo.size != q->size)
			violation("WRITE %lu: reports %u bytes of %u", (unsigned long)q->unique,
				  wo.size, q->size);
		if (memcmp(w.backing + q->offset, data, q->size))
			violation("WRITE %lu at %lu+%u: reported done, BACKING differs",
				  (unsigned long)q->unique, (unsigned long)q->offset, q->size);
		memcpy(w.model + q->offset, data, q->size);
		memset(w.known + q->offset, 1, q->size);
	}
}

/* --- the operations ---------------------------------------------------------- */

static void deliver_dev(struct ring *r, struct req *q, uint64_t addr, uint32_t len)
{
	/* fuse_dev_do_read() refuses anything smaller, with EINVAL. */
	uint32_t need = (uint32_t)(sizeof(struct fuse_in_header) +
				   sizeof(struct fuse_write_in)) + w.cfg.max_write;

	if (!in_arena(r, addr, len) || len < FUSE_MIN_READ_BUFFER || len < need)
		violation("/dev/fuse read into %#lx+%u: outside the arena or too small",
			  (unsigned long)addr, len);
	else
		memcpy((void *)addr, q->msg, q->msg_len);
}

static bool cpu_online(unsigned cpu)
{
	return !w.cfg.online || (cpu < 64 && (w.cfg.online >> cpu & 1));
}

static bool all_queues_registered(void)
{
	for (unsigned qid = 0; qid < w.cfg.kernel_queues; qid++) {
		unsigned i = 0;

		while (i < w.nentries && w.entries[i].qid != qid)
			i++;
		if (i == w.nentries)
			return false;
	}
	return true;
}

static bool op_ready(const struct op *op)
{
	if (!op->used || !op->issued || op->waiting)
		return false;
	switch (op->kind) {
	case OP_DEV_READ:
	case OP_DEV_MULTISHOT:
		return world_over() || can_generate(true);
	case OP_RING_CMD:
		/* fuse_block_alloc: nothing moves until every queue has an
		 * entry; a request goes to the queue of the CPU it was made
		 * on, never to an offline CPU's */
		return world_over() || (can_generate(false) && all_queues_registered() &&
					cpu_online(w.entries[op->entry].qid));
	default:
		return true;
	}
}

static void complete_backing(struct op *op)
{
	uint64_t off = op->sqe.off, len = op->sqe.len, addr = op->sqe.addr;
	int32_t res;

	int fd = !(op->sqe.flags & IOSQE_FIXED_FILE) ? op->sqe.fd :
		 (unsigned)op->sqe.fd < op->ring->nfiles ? op->ring->files[op->sqe.fd] : -1;

	if (!in_arena(op->ring, addr, len) || op->sqe.buf_index != 0) {
		violation("BACKING I/O at %#lx+%lu outside the registered arena",
			  (unsigned long)addr, (unsigned long)len);
		finish(op, -EFAULT, true, 0);
		return;
	}
	if (fd != FAKE_BACKING_FD && fd != FAKE_DIRECT_FD) {
		violation("BACKING I/O on fd %d, not BACKING's", fd);
		finish(op, -EBADF, true, 0);
		return;
	}
	/* O_DIRECT takes only offsets, lengths and addresses aligned to the
	 * file's dio_align; the kernel refuses the rest with EINVAL. */
	if (fd == FAKE_DIRECT_FD) {
		w.st.direct_transfers++;
		if ((addr | off | len) & (w.cfg.dio_align - 1)) {
			finish(op, -EINVAL, true, 0);
			return;
		}
	}
	uint64_t bad = first_bad(off, len), n = len;

	if (off >= w.cfg.volume_size)
		n = 0;
	else if (off + n > w.cfg.volume_size)
		n = w.cfg.volume_size - off;
	if (bad == off) {
		res = -EIO;
		w.st.failed_transfers++;
	} else {
		if (bad < off + n)
			n = bad - off;
		if (w.cfg.faults && n > 1 && rnd_below(4) == 0) {
			/* short, as disks may be: often at a block's end */
			uint64_t to_block = BLOCK - off % BLOCK;

			n = rnd_below(2) && to_block < n ? to_block : 1 + rnd_below((unsigned)n - 1);
			w.st.short_transfers++;
		}
		if (op->sqe.opcode == IORING_OP_READ_FIXED) {
			memcpy((void *)addr, w.backing + off, n);
		} else {
			memcpy(w.backing + off, (void *)addr, n);
			for (uint64_t b = off / BLOCK; n && b <= (off + n - 1) / BLOCK; b++)
				w.hole[b] = false;
		}
		res = (int32_t)n;
	}
	finish(op, res, res != (int32_t)len, 0);
}

/* A reply from BACKING's mapping (reply_from_cache): WRITEV of the header,
 * from the arena, and the data, from the mapping, which mincore must have
 * found in the page cache (never a hole or a bad block). */
static void complete_dev_writev(struct op *op)
{
	const struct iovec *iov = (const void *)op->sqe.addr;
	const uint8_t *data = iov[1].iov_base;
	struct fuse_out_header out;
	uint64_t at = (uint64_t)(data - w.backing), len = iov[1].iov_len;

	if (op->sqe.len != 2 || iov[0].iov_len != sizeof(out) ||
	    !in_arena(op->ring, (uint64_t)iov[0].iov_base, sizeof(out)) ||
	    data < w.backing || at + len > w.cfg.volume_size) {
		violation("/dev/fuse WRITEV of %u iovecs: not a header in the arena and data "
			  "in BACKING's mapping", op->sqe.len);
		finish(op, -EFAULT, true, 0);
		return;
	}
	memcpy(&out, iov[0].iov_base, sizeof(out));
	if (out.len != sizeof(out) + len)
		violation("reply header len %u, WRITEV of %lu", out.len,
			  (unsigned long)(sizeof(out) + len));
	for (uint64_t b = at / BLOCK; b < (at + len + BLOCK - 1) / BLOCK; b++)
		if (w.hole[b] || w.bad[b])
			violation("a reply from the page cache over %s block %lu, which mincore "
				  "did not say was there", w.hole[b] ? "a hole" : "a bad",
				  (unsigned long)b);
	if (at + len > probed_size())
		violation("a reply from the page cache of %lu+%lu, past BACKING's end at %lu: "
			  "bytes BACKING never returned", (unsigned long)at, (unsigned long)len,
			  (unsigned long)probed_size());
	w.st.cache_replies++;
	w.st.cache_replies_to_end += at + len == w.cfg.volume_size;
	check_reply(&out, data, (uint32_t)len);
	finish(op, (int32_t)out.len, false, 0);
}

static void complete_dev_write(struct op *op)
{
	struct fuse_out_header out;
	uint64_t addr = op->sqe.addr;

	if (op->sqe.opcode == IORING_OP_WRITEV) {
		complete_dev_writev(op);
		return;
	}

	if (!in_arena(op->ring, addr, op->sqe.len) || op->sqe.len < sizeof(out)) {
		violation("/dev/fuse write from %#lx+%u: outside the arena",
			  (unsigned long)addr, op->sqe.len);
		finish(op, -EFAULT, true, 0);
		return;
	}
	memcpy(&out, (void *)addr, sizeof(out));
	if (out.len != op->sqe.len)
		violation("reply header len %u, write of %u", out.len, op->sqe.len);
	check_reply(&out, (const uint8_t *)addr + sizeof(out), op->sqe.len - (uint32_t)sizeof(out));
	finish(op, (int32_t)op->sqe.len, false, 0);
}

static void complete_dev_read(struct op *op)
{
	struct ring *r = op->ring;

	if (world_over()) {
		finish(op, -ENODEV, true, 0);
		return;
	}
	if (op->kind == OP_DEV_READ) {
		struct req *q = gen_request(true);

		deliver_dev(r, q, op->sqe.addr, op->sqe.len);
		finish(op, (int32_t)q->msg_len, false, 0);
		return;
	}
	/* Multishot: the next provided buffer, or the read ends (the
	 * request stays queued for the next reader). */
	if (!r->pbufs || load_acquire(&r->pbufs[0].tail_or_resv) == r->pbuf_head) {
		finish(op, -ENOBUFS, true, 0);
		return;
	}
	/* The ring holds at most its entries: more would have overwritten
	 * buffers the kernel had not taken yet. */
	uint16_t offered = (uint16_t)(load_acquire(&r->pbufs[0].tail_or_resv) - r->pbuf_head);

	if (offered > r->pbuf_entries)
		violation("%u buffers offered to a buffer ring of %u entries", offered,
			  r->pbuf_entries);
	const struct io_uring_buf *b = &r->pbufs[r->pbuf_head++ & (r->pbuf_entries - 1)];
	struct req *q = gen_request(true);

	check_no_overlap(op, b->addr, b->len, "multishot buffer");
	deliver_dev(r, q, b->addr, b->len);
	/* Now and then the read ends with a success, without F_MORE, as it
	 * does when the CQ overflows. */
	bool last = rnd_below(16) == 0;

	post(r, op->sqe.user_data, (int32_t)q->msg_len,
	     IORING_CQE_F_BUFFER | (last ? 0 : IORING_CQE_F_MORE) |
	     (uint32_t)b->bid << IORING_CQE_BUFFER_SHIFT);
	if (last)
		finish_quietly(op);
}

static void complete_fetch(struct op *op)
{
	struct entry *e = &w.entries[op->entry];

	if (world_over()) {
		finish(op, -ENOTCONN, true, 0);
		return;
	}
	struct req *q = gen_request(false);
	struct fuse_uring_req_header *h = e->iov[0].iov_base;
	uint32_t payload = q->msg_len - (uint32_t)sizeof(struct fuse_in_header) - q->arg_len;

	e->req = (int)(q - w.reqs);
	memset(h, 0, sizeof(*h));
	memcpy(h->in_out, q->msg, sizeof(struct fuse_in_header));
	memcpy(h->op_in, q->msg + sizeof(struct fuse_in_header), q->arg_len);
	h->ring_ent_in_out.commit_id = q->unique;
	h->ring_ent_in_out.payload_sz = payload;
	if (payload > e->iov[1].iov_len && !q->claims_more)
		violation("payload of %u bytes for a %lu-byte entry", payload,
			  (unsigned long)e->iov[1].iov_len);
	else
		memcpy(e->iov[1].iov_base, q->msg + q->msg_len - payload,
		       payload < e->iov[1].iov_len ? payload : e->iov[1].iov_len);
	finish(op, 0, false, 0);
}

/* COMMIT_AND_FETCH: the reply is taken from the entry when the command is
 * issued (fuse_uring_commit_fetch), before it waits for the next. */
static bool ring_commit(struct op *op)
{
	const struct fuse_uring_cmd_req *cmd = (const void *)op->cmd;
	struct entry *e = 0;

	for (unsigned i = 0; i < w.nentries; i++)
		if (w.entries[i].req >= 0 && w.entries[i].qid == cmd->qid &&
		    w.reqs[w.entries[i].req].unique == cmd->commit_id)
			e = &w.entries[i];
	if (!e) {
		violation("commit of %lu on queue %u: no entry holds it",
			  (unsigned long)cmd->commit_id, cmd->qid);
		return false;
	}
	const struct fuse_uring_req_header *h = e->iov[0].iov_base;
	struct fuse_out_header out;

	memcpy(&out, h->in_out, sizeof(out));
	if (out.len == 0) {	/* a request that takes no reply */
		if (w.reqs[e->req].expect_reply)
			violation("request %lu committed without a reply",
				  (unsigned long)cmd->commit_id);
	} else if (h->ring_ent_in_out.payload_sz > e->iov[1].iov_len) {
		violation("commit %lu: a payload_sz of %u for a %lu-byte payload buffer",
			  (unsigned long)cmd->commit_id, h->ring_ent_in_out.payload_sz,
			  (unsigned long)e->iov[1].iov_len);
	} else {
		if (out.unique != cmd->commit_id ||
		    out.len != sizeof(out) + h->ring_ent_in_out.payload_sz)
			violation("commit %lu: header unique %lu len %u, payload %u",
				  (unsigned long)cmd->commit_id, (unsigned long)out.unique,
				  out.len, h->ring_ent_in_out.payload_sz);
		check_reply(&out, e->iov[1].iov_base, h->ring_ent_in_out.payload_sz);
	}
	e->req = -1;
	op->entry = (int)(e - w.entries);
	return true;
}

static void issue(struct op *op)
{
	uint64_t a, l;

	op->issued = true;
	if (op_buffer(op, &a, &l))
		check_no_overlap(op, a, l, "buffer");
	if (op->kind == OP_MSG_RING) {
		struct ring *target = ring_of(op->sqe.fd);

		if (!target) {
			finish(op, -EBADF, true, 0);
			return;
		}
		/* io_msg_data_remote() can fail to allocate: the main thread
		 * must send its answer again. */
		if (op->ring->is_control && rnd_below(8) == 0) {
			w.st.failed_msg_rings++;
			finish(op, -ENOMEM, true, 0);
			return;
		}
		post(target, op->sqe.off, (int32_t)op->sqe.len, 0);
		pthread_cond_broadcast(&cv);
		finish(op, 0, false, 0);
		return;
	}
	if (op->kind != OP_RING_CMD)
		return;
	/* fuse_uring_cmd() may give up before doing anything (EAGAIN while
	 * the connection is not initialized; EINTR): the same command must
	 * come again. */
	if (w.cfg.faults && rnd_below(32) == 0) {
		w.st.cmd_retries++;
		finish(op, rnd_below(2) ? -EAGAIN : -EINTR, true, 0);
		return;
	}
	if (op->sqe.cmd_op == FUSE_IO_URING_CMD_REGISTER) {
		const struct iovec *iov = (const void *)op->sqe.addr;
		const struct fuse_uring_cmd_req *cmd = (const void *)op->cmd;

		if (op->sqe.len != 2 || iov[0].iov_len < sizeof(struct fuse_uring_req_header) ||
		    iov[1].iov_len < w.cfg.max_write || w.nentries == MAX_ENTRIES ||
		    cmd->qid >= w.cfg.kernel_queues) {
			violation("REGISTER with a bad entry (queue %u)", cmd->qid);
			finish(op, -EINVAL, true, 0);
			return;
		}
		w.entries[w.nentries] = (struct entry){ { iov[0], iov[1] }, cmd->qid, -1 };
		op->entry = (int)w.nentries++;
		/* An offline CPU's queue gets no request: one entry, the one
		 * the kernel wants there, is all it needs. */
		unsigned on_qid = 0;

		for (unsigned i = 0; i < w.nentries; i++)
			on_qid += w.entries[i].qid == cmd->qid;
		if (!cpu_online(cmd->qid) && on_qid > 1)
			violation("%u entries for queue %u, whose CPU is offline: locked "
				  "memory that serves nothing", on_qid, cmd->qid);
	} else if (!ring_commit(op)) {
		finish(op, -ENOENT, true, 0);	/* fuse_uring_commit_fetch */
	}
}

static void complete(struct op *op)
{
	switch (op->kind) {
	case OP_BACKING:
		complete_backing(op);
		break;
	case OP_DEV_WRITE:
		complete_dev_write(op);
		break;
	case OP_DEV_READ:
	case OP_DEV_MULTISHOT:
		complete_dev_read(op);
		break;
	case OP_RING_CMD:
		complete_fetch(op);
		break;
	case OP_NOP:
		finish(op, op->sqe.op_flags & IORING_NOP_INJECT_RESULT ? (int32_t)op->sqe.len : 0,
		       (int32_t)op->sqe.len < 0, 0);
		break;
	case OP_MSG_RING:
		break;	/* done when issued */
	}
}

/* Complete one ready operation, chosen at random; false if none is. */
static bool step(void)
{
	unsigned ready[MAX_OPS], n = 0;

	for (unsigned i = 0; i < w.ops_end; i++)
		if (op_ready(&w.ops[i]))
			ready[n++] = i;
	if (!n)
		return false;
	complete(&w.ops[ready[rnd_below(n)]]);
	return true;
}

static enum op_kind kind_of(const struct io_uring_sqe *sqe)
{
	switch (sqe->opcode) {
	case IORING_OP_READ_FIXED:
	case IORING_OP_WRITE_FIXED:
		return OP_BACKING;
	case IORING_OP_READ:
		return OP_DEV_READ;
	case IORING_OP_READ_MULTISHOT:
		return OP_DEV_MULTISHOT;
	case IORING_OP_WRITE:
	case IORING_OP_WRITEV:
		return OP_DEV_WRITE;
	case IORING_OP_URING_CMD:
		return OP_RING_CMD;
	case IORING_OP_MSG_RING:
		return OP_MSG_RING;
	default:
		return OP_NOP;
	}
}

/* Whether chains headed by `user_data` are being refused; `stop` ends it. */
static bool refusing(uint64_t user_data, bool stop)
{
	for (unsigned i = 0; i < w.nrefusing; i++)
		if (w.refusing[i] == user_data) {
			if (stop)
				w.refusing[i] = w.refusing[--w.nrefusing];
			return true;
		}
	return false;
}

/* Take the published SQEs, as io_submit_sqes() does. */
static void consume(struct ring *r, unsigned to_submit)
{
	uint32_t head = *r->sq_head, tail = load_acquire(r->sq_tail);
	struct op *prev = 0;
	unsigned created[MAX_OPS], n = 0;

	if (tail - head > w.st.max_sq_used)
		w.st.max_sq_used = tail - head;
	for (; to_submit && head != tail; to_submit--, head++) {
		uint32_t idx = r->flags & IORING_SETUP_NO_SQARRAY ? head & (r->sq_entries - 1) :
				r->sq_array[head & (r->sq_entries - 1)];
		const uint8_t *raw = r->sqes + (size_t)idx * r->sqe_size;
		unsigned i = 0;

		while (i < MAX_OPS && w.ops[i].used)
			i++;
		if (i == MAX_OPS) {
			violation("more than %u operations in flight", MAX_OPS);
			break;
		}
		if (i >= w.ops_end)
			w.ops_end = i + 1;
		struct op *op = &w.ops[i];

		*op = (struct op){ .used = true, .ring = r, .next = -1, .entry = -1 };
		memcpy(&op->sqe, raw, sizeof(op->sqe));
		if (r->sqe_size == 128)
			memcpy(op->cmd, raw + URING_SQE_CMD_OFFSET, sizeof(op->cmd));
		op->kind = kind_of(&op->sqe);
		if (op->kind == OP_NOP && op->sqe.opcode != IORING_OP_NOP)
			violation("unexpected opcode %u", op->sqe.opcode);
		if (prev && (prev->sqe.flags & IOSQE_IO_LINK)) {
			prev->next = (int)i;
			op->waiting = true;
			/* io_submit_fail_init: a link member that fails to
			 * submit cancels its head before it runs.  What made
			 * it fail (no memory) tends to last: several in a row. */
			if (w.cfg.faults && !w.refuse_streak && rnd_below(32) == 0)
				w.refuse_streak = 1 + rnd_below(4);
			if (w.refuse_streak || refusing(prev->sqe.user_data, false)) {
				w.refuse_streak -= w.refuse_streak > 0;
				prev->refused = true;
				if (!refusing(prev->sqe.user_data, false) && w.nrefusing < 64)
					w.refusing[w.nrefusing++] = prev->sqe.user_data;
			}
		}
		/* a head that comes alone is refused no more */
		if (!(op->sqe.flags & IOSQE_IO_LINK) && (!prev || !(prev->sqe.flags & IOSQE_IO_LINK)))
			refusing(op->sqe.user_data, true);
		prev = op;
		created[n++] = i;
	}
	store_release(r->sq_head, head);
	/* A chain still open at the end runs on its own: its head will be
	 * ordered with nothing that follows in a later submission. */
	if (prev && (prev->sqe.flags & IOSQE_IO_LINK))
		violation("a submission ends in the middle of a chain (opcode %u)",
			  prev->sqe.opcode);
	for (unsigned k = 0; k < n; k++) {
		struct op *op = &w.ops[created[k]];

		if (!op->used || op->waiting || op->issued)
			continue;
		if (op->refused) {
			w.st.refused_chains++;
			finish(op, -ECANCELED, true, 0);
		} else {
			issue(op);
		}
	}
}

/* Every thread waits, and none can ever be woken: no operation can
 * complete and no ring has the completions its thread waits for. */
static bool deadlocked(void)
{
	bool main_waits = true;

	for (unsigned i = 0; i < w.ops_end; i++)
		if (op_ready(&w.ops[i]))
			return false;
	for (unsigned i = 0; i < MAX_RINGS; i++) {
		struct ring *r = &rings[i];

		if (!r->used)
			continue;
		if (r->waiting_for && cq_ready(r) + r->ndeferred >= r->waiting_for)
			return false;
		if (r->is_control && !r->waiting_for)
			main_waits = false;
	}
	return w.queue_live && w.queue_waiting == w.queue_live && main_waits;
}

/* --- BACKING's system calls (backing_run) ------------------------------------ */

static void check_backing_fd(int fd, const char *call)
{
	if (fd != FAKE_BACKING_FD)
		violation("%s on fd %d, not BACKING's", call, fd);
}

/* fsync and fallocate may block for long: the main thread runs them, no
 * queue does (hand_over). */
static void check_main_thread(const char *call)
{
	if (!pthread_equal(pthread_self(), w.main_thread))
		violation("%s of BACKING on a queue's thread: it blocks the queue", call);
}

/* Whether a BACKING call that may fail does, this time. */
static bool backing_fails(unsigned one_in)
{
	w.st.backing_calls++;
	if (!w.cfg.faults || rnd_below(one_in))
		return false;
	w.st.backing_failures++;
	return true;
}

int fake_backing_statx(int dirfd, const char *path, int flags, unsigned mask,
		       struct statx *st)
{
	uint64_t data_blocks = 0;

	pthread_mutex_lock(&mu);
	check_backing_fd(dirfd, "statx");
	if (strcmp(path, "") || !(flags & AT_EMPTY_PATH) || !(mask & STATX_SIZE))
		violation("statx of BACKING: path \"%s\" flags %#x mask %#x", path, flags, mask);
	for (uint64_t b = 0; b < w.cfg.volume_size / BLOCK; b++)
		data_blocks += !w.hole[b];
	memset(st, 0, sizeof(*st));
	st->stx_mask = STATX_BASIC_STATS;
	/* a block device's size is not statx's to say (it is 0 there) */
	st->stx_mode = (uint16_t)((w.cfg.block ? S_IFBLK : S_IFREG) | 0644);
	st->stx_size = w.cfg.block ? 0 : mask == STATX_SIZE ? probed_size() : w.cfg.volume_size;
	st->stx_blocks = data_blocks * (BLOCK / 512);
	st->stx_blksize = BLOCK;
	st->stx_mtime.tv_sec = FAKE_MTIME;
	st->stx_ctime.tv_sec = FAKE_MTIME;
	pthread_mutex_unlock(&mu);
	return 0;
}

int fake_backing_fstatfs(int fd, struct statfs *st)
{
	pthread_mutex_lock(&mu);
	check_backing_fd(fd, "fstatfs");
	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = BLOCK;
	st->f_blocks = FAKE_FS_BLOCKS;
	st->f_bfree = FAKE_FS_BLOCKS / 2;
	st->f_bavail = FAKE_FS_BLOCKS / 4;
	pthread_mutex_unlock(&mu);
	return 0;
}

/* SEEK_DATA, SEEK_HOLE on the fake BACKING: punched blocks are holes,
 * and there is one at the end. */
static int64_t seek_model(uint64_t off, int whence)
{
	for (uint64_t b = off / BLOCK; b < w.cfg.volume_size / BLOCK; b++)
		if (w.hole[b] == (whence == SEEK_HOLE))
			return (int64_t)(b * BLOCK > off ? b * BLOCK : off);
	return whence == SEEK_HOLE ? (int64_t)w.cfg.volume_size : -ENXIO;
}

long fake_backing_lseek(int fd, int64_t off, int whence)
{
	struct req *q;
	int64_t r;

	pthread_mutex_lock(&mu);
	check_backing_fd(fd, "lseek");
	q = pending(FUSE_LSEEK);
	r = backing_fails(8) ? -EIO : seek_model((uint64_t)off, whence);
	if (!q || q->offset != (uint64_t)off || q->flags != (uint32_t)whence || q->calls_made) {
		violation("lseek(%ld, %d) of BACKING: not what the LSEEK in flight asks (%s)",
			  (long)off, whence, q ? "another" : "none in flight");
	} else {
		q->calls_made++;
		/* The volume's answer: BACKING's, its end the volume's. */
		if (r < 0)
			q->expect_error = (int)r;
		else if (whence == SEEK_DATA && (uint64_t)r >= w.cfg.volume_size)
			q->expect_error = -ENXIO;
		else
			q->expect_offset = (uint64_t)r < w.cfg.volume_size ? (uint64_t)r :
									    w.cfg.volume_size;
	}
	pthread_mutex_unlock(&mu);
	return r;
}

/* FSYNC's choice: fdatasync when the kernel asked for the data only. */
static int fake_sync(int fd, uint32_t datasync)
{
	struct req *q;
	int r;

	pthread_mutex_lock(&mu);
	check_backing_fd(fd, datasync ? "fdatasync" : "fsync");
	check_main_thread(datasync ? "fdatasync" : "fsync");
	q = pending(FUSE_FSYNC);
	r = backing_fails(3) ? -EIO : 0;
	if (!q || q->calls_made)
		violation("%s of BACKING without an FSYNC in flight",
			  datasync ? "fdatasync" : "fsync");
	else if (q->flags != datasync)
		violation("FSYNC %lu with fsync_flags %u: BACKING got %s",
			  (unsigned long)q->unique, q->flags, datasync ? "fdatasync" : "fsync");
	if (q) {
		q->calls_made++;
		q->expect_error = r;
	}
	pthread_mutex_unlock(&mu);
	return r;
}

int fake_backing_fsync(int fd)
{
	return fake_sync(fd, 0);
}

int fake_backing_fdatasync(int fd)
{
	return fake_sync(fd, FUSE_FSYNC_FDATASYNC);
}

int fake_backing_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	struct req *q;
	int r;

	pthread_mutex_lock(&mu);
	check_backing_fd(fd, "fallocate");
	check_main_thread("fallocate");
	q = pending(FUSE_FALLOCATE);
	r = backing_fails(4) ? -ENOSPC : 0;
	if (!q || q->calls_made || q->flags != (uint32_t)mode || q->offset != off ||
	    q->size != len) {
		violation("fallocate(mode %#x, %lu+%lu) of BACKING: the FALLOCATE in flight "
			  "asks %#x %lu+%u", mode, (unsigned long)off, (unsigned long)len,
			  q ? q->flags : 0, q ? (unsigned long)q->offset : 0, q ? q->size : 0);
		r = -EINVAL;
	}
	if (q) {
		q->calls_made++;
		q->expect_error = r;
	}
	if (!r && (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))) {
		memset(w.backing + off, 0, len);
		memset(w.model + off, 0, len);
		memset(w.known + off, 1, len);
	}
	for (uint64_t b = off / BLOCK; !r && (mode & FALLOC_FL_PUNCH_HOLE) &&
	     b < (off + len) / BLOCK; b++)
		w.hole[b] = true;
	pthread_mutex_unlock(&mu);
	return r;
}

/* check_ring sends no SETATTR: these are never asked for. */
int fake_backing_futimens(int fd, const struct kernel_timespec times[2])
{
	(void)times;
	pthread_mutex_lock(&mu);
	violation("futimens of BACKING (fd %d) without a SETATTR", fd);
	pthread_mutex_unlock(&mu);
	return -EINVAL;
}

int fake_backing_ftruncate(int fd, int64_t len)
{
	pthread_mutex_lock(&mu);
	violation("ftruncate(%ld) of BACKING (fd %d) without a SETATTR", (long)len, fd);
	pthread_mutex_unlock(&mu);
	return -EINVAL;
}

/* A block device's size (BLKGETSIZE64): the fake world's, or what a
 * test set with fake_block_resize(). */
long fake_backing_ioctl(int fd, unsigned long request, void *arg)
{
	pthread_mutex_lock(&mu);
	check_backing_fd(fd, "ioctl");
	if (request != BLKGETSIZE64 || !w.cfg.block)
		violation("ioctl %#lx of BACKING (a %s)", request,
			  w.cfg.block ? "block device" : "regular file");
	memcpy(arg, &(uint64_t){ w.block_size ? w.block_size : w.cfg.volume_size },
	       sizeof(uint64_t));
	pthread_mutex_unlock(&mu);
	return 0;
}

void fake_block_resize(uint64_t size)
{
	pthread_mutex_lock(&mu);
	w.block_size = size;
	pthread_mutex_unlock(&mu);
}

const uint8_t *fake_backing_mapping(void)
{
	return w.backing;
}

/* mincore of the mapping: a page is in the page cache unless it holds a
 * hole (tmpfs: a fault would fill it) or a bad block (READ_FIXED must
 * meet it), or, one time in eight, it was evicted. */
int fake_backing_mincore(const void *addr, size_t len, uint8_t *vec)
{
	uint64_t page = w.cfg.page_size, at;

	pthread_mutex_lock(&mu);
	at = (uint64_t)((const uint8_t *)addr - w.backing);
	if ((const uint8_t *)addr < w.backing || at % page || len % page ||
	    at + len > (w.cfg.volume_size + page - 1) / page * page)
		violation("mincore of %#lx+%zu: not whole pages of BACKING's mapping",
			  (unsigned long)at, len);
	for (size_t i = 0; i < len / page; i++) {
		bool cached = rnd_below(8) != 0;

		for (uint64_t b = (at + i * page) / BLOCK;
		     b < (at + (i + 1) * page) / BLOCK && b < w.cfg.volume_size / BLOCK; b++)
			cached &= !w.hole[b] && !w.bad[b];
		vec[i] = cached;
	}
	pthread_mutex_unlock(&mu);
	return 0;
}

int fake_backing_fd(void)
{
	return FAKE_BACKING_FD;
}

int fake_backing_direct_fd(void)
{
	return FAKE_DIRECT_FD;
}

unsigned fake_setups(unsigned *last_entries)
{
	pthread_mutex_lock(&mu);
	unsigned n = w.setups;

	*last_entries = w.setup_entries;
	pthread_mutex_unlock(&mu);
	return n;
}

/* --- the system calls ------------------------------------------------------- */

long uring_sys_setup(unsigned entries, struct io_uring_params *p)
{
	pthread_mutex_lock(&mu);
	unsigned i = 0;

	while (i < MAX_RINGS && rings[i].used)
		i++;
	if (i == MAX_RINGS) {
		pthread_mutex_unlock(&mu);
		return -ENOMEM;
	}
	struct ring *r = &rings[i];
	uint32_t sq = 1;

	w.setups++;
	w.setup_entries = entries;
	if (w.cfg.refuse_setup) {
		pthread_mutex_unlock(&mu);
		return -ENOMEM;
	}
	while (sq < entries)
		sq *= 2;
	if (w.cfg.sq_entries)
		sq = w.cfg.sq_entries;
	if (sq > URING_MAX_ENTRIES) {	/* IORING_MAX_ENTRIES, without CLAMP */
		pthread_mutex_unlock(&mu);
		return -EINVAL;
	}
	/* An older kernel refuses what it does not know (io_uring_setup's
	 * flag check); DEFER_TASKRUN needs SINGLE_ISSUER everywhere. */
	if ((w.cfg.old_kernel &&
	     (p->flags & (IORING_SETUP_NO_SQARRAY | IORING_SETUP_DEFER_TASKRUN))) ||
	    ((p->flags & IORING_SETUP_DEFER_TASKRUN) && !(p->flags & IORING_SETUP_SINGLE_ISSUER))) {
		w.st.setup_refused++;
		pthread_mutex_unlock(&mu);
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	r->used = true;
	r->flags = p->flags;
	r->sq_entries = sq;
	r->cq_entries = 2 * sq;
	r->sqe_size = p->flags & IORING_SETUP_SQE128 ? 128 : 64;
	r->mem_size = 128 + (size_t)r->cq_entries * 16 + (size_t)sq * 4;
	r->mem = calloc(1, r->mem_size);
	r->sqes = calloc(sq, r->sqe_size);
	p->sq_entries = sq;
	p->cq_entries = r->cq_entries;
	p->features = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP;
	p->sq_off = (struct io_sqring_offsets){ .head = 0, .tail = 4, .ring_mask = 8,
		.ring_entries = 12, .flags = 16, .dropped = 20,
		.array = 128 + r->cq_entries * 16 };
	p->cq_off = (struct io_cqring_offsets){ .head = 64, .tail = 68, .ring_mask = 72,
		.ring_entries = 76, .overflow = 80, .cqes = 128, .flags = 84 };
	uint32_t *u = (uint32_t *)r->mem;

	u[2] = sq - 1, u[3] = sq, u[18] = r->cq_entries - 1, u[19] = r->cq_entries;
	r->sq_head = u, r->sq_tail = u + 1, r->cq_head = u + 16, r->cq_tail = u + 17;
	r->cqes = (struct io_uring_cqe *)(r->mem + 128);
	r->sq_array = (uint32_t *)(r->mem + p->sq_off.array);
	pthread_mutex_unlock(&mu);
	return FAKE_RING_FD + i;
}

void *uring_sys_mmap(int fd, size_t len, uint64_t off)
{
	struct ring *r = ring_of(fd);

	if (!r)
		return 0;
	if (off == IORING_OFF_SQES)
		return len <= (size_t)r->sq_entries * r->sqe_size ? r->sqes : 0;
	return len <= r->mem_size ? r->mem : 0;
}

void uring_sys_munmap(void *p, size_t len)
{
	(void)p, (void)len;	/* freed with the ring, at close */
}

void uring_sys_close(int fd)
{
	pthread_mutex_lock(&mu);
	struct ring *r = ring_of(fd);

	if (r) {
		free(r->mem);
		free(r->sqes);
		r->used = false;
	}
	pthread_mutex_unlock(&mu);
}

long uring_sys_register(int fd, unsigned op, const void *arg, unsigned nr)
{
	long res = 0;

	pthread_mutex_lock(&mu);
	struct ring *r = ring_of(fd);

	if (!r) {
		res = -EBADF;
	} else if (op == IORING_REGISTER_BUFFERS) {
		const struct iovec *iov = arg;

		/* io_buffer_validate: no buffer over 1 GiB */
		if (iov->iov_len > 1ull << 30) {
			res = -EFAULT;
		} else {
			r->arena = iov->iov_base;
			r->arena_len = iov->iov_len;
		}
	} else if (op == IORING_UNREGISTER_BUFFERS) {
		r->arena = 0;
	} else if (op == IORING_REGISTER_FILES) {
		r->nfiles = nr < 4 ? nr : 4;
		memcpy(r->files, arg, r->nfiles * sizeof(r->files[0]));
	} else if (op == IORING_REGISTER_PBUF_RING) {
		const struct io_uring_buf_reg *reg = arg;

		/* io_register_pbuf_ring: a power of two below 65536 entries
		 * (a buffer id is 16 bits), at a page-aligned address */
		if (!reg->ring_entries || (reg->ring_entries & (reg->ring_entries - 1)) ||
		    reg->ring_entries >= 65536 || reg->ring_addr % 4096) {
			res = -EINVAL;
		} else {
			r->pbufs = (struct io_uring_buf *)reg->ring_addr;
			r->pbuf_entries = reg->ring_entries;
		}
	} else if (op == IORING_REGISTER_PROBE) {
		/* io_probe of a kernel that knows opcodes up to 200: it
		 * describes as many as it is given room for, all supported */
		struct io_uring_probe *p = (struct io_uring_probe *)arg;

		p->last_op = FAKE_URING_LAST_OP;
		p->ops_len = (uint8_t)(nr < FAKE_URING_LAST_OP + 1 ? nr : FAKE_URING_LAST_OP + 1);
		for (unsigned i = 0; i < p->ops_len; i++)
			p->ops[i] = (struct io_uring_probe_op){ .op = (uint8_t)i,
								.flags = IO_URING_OP_SUPPORTED };
	} else if (op == IORING_REGISTER_RING_FDS) {
		res = -EINVAL;	/* the plain fd keeps working */
	} else if (op == IORING_REGISTER_ENABLE_RINGS && w.cfg.refuse_enable) {
		res = -EBUSY;
	}
	pthread_mutex_unlock(&mu);
	return res;
}

long uring_sys_enter(int fd, unsigned to_submit, unsigned min_complete,
		     unsigned flags)
{
	pthread_mutex_lock(&mu);
	struct ring *r = ring_of(fd);

	if (!r) {
		pthread_mutex_unlock(&mu);
		return -EBADF;
	}
	/* Nothing submitted: no memory for requests (EAGAIN), or the CQ's
	 * overflow not flushed yet (EBUSY).  The SQEs stay for next time. */
	if (w.cfg.faults && rnd_below(64) == 0) {
		w.st.enter_errors++;
		pthread_mutex_unlock(&mu);
		return rnd_below(2) ? -EAGAIN : -EBUSY;
	}
	if (!min_complete && load_acquire(r->sq_tail) - *r->sq_head + 2 > r->sq_entries)
		w.st.early_submits++;
	consume(r, to_submit);
	flush_overflow(r);
	/* Without GETEVENTS the kernel neither waits nor, with
	 * DEFER_TASKRUN, posts the ring's completions. */
	if (!(flags & IORING_ENTER_GETEVENTS))
		min_complete = 0;
	/* A few completions anywhere, then as many as the caller waits for. */
	for (unsigned n = rnd_below(3); n && step(); n--)
		;
	if (flags & IORING_ENTER_GETEVENTS)
		run_deferred(r);
	/* A signal ends the wait; with nothing submitted that is EINTR. */
	if (min_complete && cq_ready(r) < min_complete && w.cfg.faults && rnd_below(64) == 0) {
		w.st.enter_errors++;
		pthread_mutex_unlock(&mu);
		return to_submit ? (long)to_submit : -EINTR;
	}
	while (cq_ready(r) < min_complete) {
		if (step()) {
			run_deferred(r);
			continue;
		}
		r->waiting_for = min_complete;
		if (!r->is_control)
			w.queue_waiting++;
		if (deadlocked()) {
			fprintf(stderr, "  deadlock: every queue waits for a completion "
				"that cannot come (%u requests, %u outstanding)\n",
				w.nreqs, w.outstanding);
			for (unsigned i = 0; i < w.ops_end; i++)
				if (w.ops[i].used)
					fprintf(stderr, "  in flight: opcode %u user_data %#lx%s%s\n",
						w.ops[i].sqe.opcode,
						(unsigned long)w.ops[i].sqe.user_data,
						w.ops[i].issued ? " issued" : "",
						w.ops[i].waiting ? " waiting" : "");
			for (unsigned i = 0; i < w.nreqs; i++)
				if (!w.reqs[i].answered)
					fprintf(stderr, "  unanswered: %lu opcode %u\n",
						(unsigned long)w.reqs[i].unique, w.reqs[i].opcode);
			abort();
		}
		pthread_cond_broadcast(&cv);
		pthread_cond_wait(&cv, &mu);
		r->waiting_for = 0;
		if (!r->is_control)
			w.queue_waiting--;
		flush_overflow(r);
		run_deferred(r);
	}
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return to_submit;
}

/* --- the world --------------------------------------------------------------- */

int fake_world_start(const struct fake_config *cfg, unsigned queue_threads)
{
	/* The volume's three buffers are kept from world to world (as
	 * large as the largest volume yet): fresh ones cost page faults. */
	static uint8_t *backing, *model;
	static bool *known;
	static uint64_t kept_size;

	pthread_mutex_lock(&mu);
	free(w.bad), free(w.hole);
	for (unsigned i = 0; i < w.nreqs; i++)
		free(w.reqs[i].msg);
	if (cfg->volume_size > kept_size) {
		free(backing), free(model), free(known);
		kept_size = cfg->volume_size;
		backing = malloc(kept_size);
		model = malloc(kept_size);
		known = malloc(kept_size);
	}
	memset(&w, 0, sizeof(w));
	w.cfg = *cfg;
	w.rng = cfg->seed * 0x9e3779b97f4a7c15ull + 1;
	w.backing = backing;
	w.model = model;
	w.known = known;
	w.bad = calloc(cfg->volume_size / BLOCK, 1);
	w.hole = calloc(cfg->volume_size / BLOCK, 1);
	for (uint64_t i = 0; i < cfg->volume_size; i += 8) {
		uint64_t v = rnd();

		memcpy(w.backing + i, &v, 8);
	}
	memcpy(w.model, w.backing, cfg->volume_size);
	/* a sparse BACKING: every eighth block or so is a hole, and reads 0 */
	for (uint64_t b = 0; b < cfg->volume_size / BLOCK; b++)
		if (rnd_below(8) == 0) {
			w.hole[b] = true;
			memset(w.backing + b * BLOCK, 0, BLOCK);
			memset(w.model + b * BLOCK, 0, BLOCK);
		}
	memset(w.known, 1, cfg->volume_size);
	for (unsigned i = 0; cfg->faults && i < 4; i++)
		w.bad[rnd_below((unsigned)(cfg->volume_size / BLOCK))] = true;
	w.budget = cfg->requests;
	w.forget_budget = cfg->uring ? cfg->requests / 10 : 0;
	w.queue_live = queue_threads;
	pthread_mutex_unlock(&mu);
	return FAKE_FUSE_FD;
}

void fake_thread_exit(void)
{
	pthread_mutex_lock(&mu);
	w.queue_live--;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

void fake_wake(int ring_fd, uint64_t user_data)
{
	pthread_mutex_lock(&mu);
	struct ring *r = ring_of(ring_fd);

	if (r)
		post(r, user_data, 0, 0);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

void fake_mark_control(int ring_fd)
{
	pthread_mutex_lock(&mu);
	ring_of(ring_fd)->is_control = true;
	w.main_thread = pthread_self();
	pthread_mutex_unlock(&mu);
}

int fake_world_finish(struct fake_stats *st)
{
	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < w.nreqs; i++)
		if (!w.reqs[i].answered)
			violation("request %lu (opcode %u) never answered",
				  (unsigned long)w.reqs[i].unique, w.reqs[i].opcode);
	for (unsigned i = 0; i < MAX_OPS; i++)
		if (w.ops[i].used)
			violation("opcode %u still in flight after the daemon stopped",
				  w.ops[i].sqe.opcode);
	for (uint64_t i = 0; i < w.cfg.volume_size; i++)
		if (w.known[i] && w.backing[i] != w.model[i]) {
			violation("BACKING byte %lu differs from what was written",
				  (unsigned long)i);
			break;
		}
	for (unsigned i = 0; i < w.nreqs; i++)
		if (!w.reqs[i].expect_reply)
			w.st.no_reply++;
	*st = w.st;
	int v = (int)w.violations;

	pthread_mutex_unlock(&mu);
	return v;
}
