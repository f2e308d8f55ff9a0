/* SPDX-License-Identifier: MIT */
/* fuseuring.c - the data path: how one FUSE request travels through the
 * daemon, from the kernel to BACKING and back, on io_uring.
 *
 *   1. receive  The kernel puts a request into a slot of a queue's arena:
 *               with the "dev" transport a read of /dev/fuse completes;
 *               with the "uring" transport a FUSE-over-io_uring command does.
 *   2. parse    fuse_ops.c validates it and answers at once, or asks for
 *               one operation on BACKING.
 *   3. BACKING  READ and WRITE are READ_FIXED/WRITE_FIXED on the very buffer
 *               the request arrived in (the arena is registered once);
 *               WRITE data lands 4K-aligned, READ data right behind the
 *               reply header.  A READ's reply is linked behind its read.
 *   4. reply    From the same buffer: a write to /dev/fuse, or a
 *               COMMIT_AND_FETCH command that also waits for the next one.
 *   5. re-arm   The slot goes back to the kernel for its next request.
 *
 * No byte of payload is copied in user space, there are no locks, and one
 * io_uring_enter() per loop submits everything and reaps every completion.
 * Setting up (options, mount, INIT, signals) is the lifecycle's
 * (lifecycle.h lists its rooms).
 */
#include "server.h"

/* Every slot is 4 KiB of headroom followed by a 4K-aligned body of
 * max_write bytes (aligned enough for O_DIRECT; see prep_backing_io).  A /dev/fuse request is read so that its header and
 * fuse_write_in fill the end of the headroom and WRITE data starts exactly
 * at the body; the reply header goes right in front of the body and READ
 * data into it.  A FUSE-over-io_uring entry keeps its header area at the
 * start of the headroom and uses the body as its payload buffer. */
#define SLOT_HEADROOM		4096u
#define DEV_REQUEST_OFFSET	(SLOT_HEADROOM - sizeof(struct fuse_in_header) - \
				 sizeof(struct fuse_write_in))
#define REPLY_HEADER_OFFSET	(SLOT_HEADROOM - sizeof(struct fuse_out_header))

/* Fixed files of every queue's ring. */
enum { FILE_FUSE, FILE_BACKING, FILE_BACKING_DIRECT };

/* --- slot states ------------------------------------------------------------ */

#define ONE_OF(s)	(1u << (s))

static bool state_is_busy(enum slot_state st)
{
	return st != SLOT_IDLE && st != SLOT_CLOSED;
}

/* Move slot s to state `to`; it must be in one of the states of `from`
 * (a mask of ONE_OF()).  Keeps the queue's counts of busy and open slots. */
static void slot_set(struct queue *q, struct slot *s, unsigned from,
		     enum slot_state to)
{
	uring_assert(from & ONE_OF(s->state));
	q->busy += state_is_busy(to) - state_is_busy(s->state);
	q->open_slots -= to == SLOT_CLOSED;
	if (q->busy > q->stats.busy_max)
		store_relaxed(&q->stats.busy_max, q->busy);
	s->state = to;
}

/* Only a queue writes its own counters; the main thread reads them for
 * SIGUSR1, so the stores are single words but need no ordering. */
#define STAT_ADD(field, n)	store_relaxed(&(field), (field) + (uint64_t)(n))

/* The SQEs of one step, taken together: see uring_reserve().  A ring that
 * takes no submissions any more leaves the queue nothing to do. */
static bool queue_reserve(struct queue *q, unsigned n)
{
	if (uring_reserve(&q->ring, n))
		return true;
	error("queue %u: its ring takes no submissions", q->index);
	q->status = 1;
	q->failed = true;
	return false;
}

/* --- 2. a request has arrived ------------------------------------------------ */

static void advance(struct queue *q, struct slot *s, int r);

/* Slot s holds a request, parsed with result `parsed`. */
static void request_arrived(struct queue *q, struct slot *s, int parsed)
{
	struct fuse_call *c = &s->call;

	slot_set(q, s, ONE_OF(SLOT_IDLE) | ONE_OF(SLOT_READ_THEN_REPLY), SLOT_SERVING);
	s->reply_refused = false;
	STAT_ADD(q->stats.requests[c->in.opcode < FUSE_OPCODE_COUNT ?
				   c->in.opcode : FUSE_OPCODE_COUNT], 1);
	advance(q, s, parsed == 0 ? fuse_call_start(&q->srv->vol, c) : parsed);
}

/* --- 3. BACKING --------------------------------------------------------------- */

/* Where a BACKING operation runs.  READ and WRITE go through the queue's
 * ring: io_uring does them without blocking the queue.  fsync and
 * fallocate can take long, and io_uring would run them on kernel worker
 * threads (io-wq) of each queue; instead the main thread, idle apart from
 * signals, runs them, one MSG_RING each way.  The quick metadata calls
 * (statx, lseek, utimensat...) are made on the spot. */
enum backing_route { ROUTE_RING, ROUTE_MAIN, ROUTE_HERE };

/* The ceiling build (`make fuseuring-ceiling`, for `bench.sh --ceiling`)
 * measures what a transport alone can do: its BACKING does nothing, a READ
 * is answered with the buffer as it is and a WRITE is dropped.  Never a
 * server for real data. */
#ifndef CEILING
#define CEILING 0
#endif

/* In the ceiling build, as if BACKING had moved the whole transfer. */
static int64_t ceiling_run(struct queue *q, struct fuse_call *c)
{
	if (c->io.kind == BACKING_READ || c->io.kind == BACKING_WRITE)
		return (int64_t)c->io.length;
	return backing_run(&q->srv->backing, c);
}

static enum backing_route backing_route(enum backing_kind kind)
{
	switch (kind) {
	case BACKING_READ:
	case BACKING_WRITE:
		return CEILING ? ROUTE_HERE : ROUTE_RING;
	case BACKING_FSYNC:
	case BACKING_FALLOCATE:
		return ROUTE_MAIN;
	default:
		return ROUTE_HERE;
	}
}

static void reply(struct queue *q, struct slot *s, int r);
static void prep_reply(struct queue *q, struct slot *s, int r, const void *data,
		       struct io_uring_sqe *sqe);

/* READ_FIXED or WRITE_FIXED of the slot's transfer, from or into the arena.
 * Returns whether it still heads the chain it was asked to (only the test
 * build's fault hook says no). */
static bool prep_backing_io(struct queue *q, struct slot *s, unsigned flags,
			    struct io_uring_sqe *sqe)
{
	const struct backing *b = &q->srv->backing;
	const struct backing_io *io = &s->call.io;
	uint64_t align_mask = (uint64_t)b->dio_align - 1;

	sqe->opcode = io->kind == BACKING_READ ? IORING_OP_READ_FIXED :
						 IORING_OP_WRITE_FIXED;
	sqe->flags = IOSQE_FIXED_FILE | flags;
	sqe->fd = FILE_BACKING;
	/* O_DIRECT only where offset, length and address allow it. */
	if (b->direct_fd >= 0 &&
	    !((io->offset | io->length | (uint64_t)io->buf) & align_mask))
		sqe->fd = FILE_BACKING_DIRECT;
	sqe->addr = (uint64_t)io->buf;
	sqe->len = (uint32_t)io->length;
	sqe->off = io->offset;
	sqe->buf_index = 0;	/* the arena */
	sqe->user_data = ud_make(EV_BACKING, s->index);
	return fault_hook(q->srv, io, sqe);	/* the test build's bad sectors */
}

/* Hand slot s's blocking call to the main thread (serve_blocking_call).
 * Its result comes back as an EV_BACKING completion; so does a failed
 * hand-over, whose CQE_SKIP_SUCCESS does not apply. */
static void hand_over(struct queue *q, struct slot *s)
{
	if (!queue_reserve(q, 1))
		return;
	struct io_uring_sqe *sqe = uring_get_sqe(&q->ring);

	sqe->opcode = IORING_OP_MSG_RING;
	sqe->fd = q->srv->control.fd;
	sqe->addr = IORING_MSG_DATA;
	sqe->off = ud_make(EV_BLOCKING_CALL, blocking_call_who(q->index, s->index));
	sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = ud_make(EV_BACKING, s->index);
	slot_set(q, s, ONE_OF(SLOT_SERVING), SLOT_BLOCKING_CALL);
}

/* BACKING's system calls.  make check (FAKE_RING) answers them from the
 * fake world of tests/fake_ring.c, which checks and records each; the
 * shipped binary makes them. */
#ifdef FAKE_RING
#define backing_sys(call)	fake_backing_##call
#else
#define backing_sys(call)	sys_##call
#endif

/* A READ that BACKING's page cache holds whole needs no BACKING I/O: its
 * reply goes to the kernel straight from a read-only mapping of BACKING,
 * which copies it once, into the requester's pages, where READ_FIXED and
 * a reply from the slot copy it twice.  Only whole from the cache
 * (mincore): a page that is not there (a hole, which a fault would fill
 * on tmpfs; a page on disk, which would hold the queue up while it is
 * read) sends the READ the READ_FIXED way.  Small READs gain nothing: two
 * copies of a few pages cost less than asking mincore.  mincore does not
 * see a shrink by someone else that ends inside a page (the kernel keeps
 * that page, zeroed past the new end), so BACKING's size is asked too (as
 * the kernel has it: no round trip to an NFS or FUSE server): a reply
 * carries no byte past BACKING's end.  A shrink in the moment after
 * races the READ as it would race a read of BACKING; a page gone by the
 * kernel's copy fails the request with EIO (fuse_dev_do_write).
 * (backing_mappable says which BACKING is mapped.)  Each page the kernel
 * copies from stays mapped in the daemon, and in its RSS: dropping them
 * (MADV_DONTNEED every 16 MiB a queue served) made every later reply fault
 * its pages in again, and 1 MiB reads 0.66x as fast (doc/design.md). */
#define CACHE_READ_MIN	(64 * 1024)

static bool reply_from_cache(struct queue *q, struct slot *s, int expected)
{
	const struct backing *b = &q->srv->backing;
	const struct backing_io *io = &s->call.io;
	uint64_t page = q->srv->page_size, first = io->offset & ~(page - 1);
	uint8_t in_cache[(1 << 20) / 4096 + 1];	/* max_write's pages, and one */
	size_t pages = (size_t)((io->offset + io->length - first + page - 1) / page);

	if (!b->map || !s->t->can_reply_from || s->call.io_done || io->length < CACHE_READ_MIN ||
	    io->offset > b->map_len || io->length > b->map_len - io->offset ||
	    pages > sizeof(in_cache) || !fault_cacheable(q->srv, io) ||
	    backing_sys(mincore)(b->map + first, pages * page, in_cache) < 0)
		return false;
	for (size_t i = 0; i < pages; i++)
		if (!(in_cache[i] & 1))
			return false;
	struct statx st;

	if (backing_sys(statx)(b->fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_SIZE, &st) < 0 ||
	    st.stx_size < io->offset + io->length)
		return false;
	if (!queue_reserve(q, 1))
		return true;	/* the queue has failed: nothing more to do */
	prep_reply(q, s, expected, b->map + io->offset, uring_get_sqe(&q->ring));
	slot_set(q, s, ONE_OF(SLOT_SERVING), s->t->after_reply);
	return true;
}

/* Drive the request in slot s until it needs an asynchronous BACKING
 * operation or has its answer `r`. */
static void advance(struct queue *q, struct slot *s, int r)
{
	struct fuse_call *c = &s->call;

	while (r == CALL_BACKING && backing_route(c->io.kind) == ROUTE_HERE)
		r = fuse_call_resume(&q->srv->vol, c, CEILING ? ceiling_run(q, c) :
				     backing_run(&q->srv->backing, c));
	if (r != CALL_BACKING) {
		reply(q, s, r);
		return;
	}
	if (backing_route(c->io.kind) == ROUTE_MAIN) {
		hand_over(q, s);
		return;
	}
	/* A READ's reply is its data, so it can go right behind the read,
	 * linked: one submission does both, and a read that completes in
	 * full leaves no completion to look at (CQE_SKIP_SUCCESS).  A read
	 * that fails or comes back short breaks the link: the kernel cancels
	 * the reply unsent and, because the read had CQE_SKIP_SUCCESS, posts
	 * no completion for the cancelled reply either (io_uring's
	 * req_set_fail sets REQ_F_SKIP_LINK_CQES); only the read's completion
	 * comes back, to backing_done().  Both SQEs are reserved first, so
	 * that no submission can ever separate them. */
	int expected = fuse_call_reply_if_complete(c);
	bool linked = expected >= 0 && !s->reply_refused;

	if (linked && reply_from_cache(q, s, expected))
		return;

	if (!queue_reserve(q, linked ? 2 : 1))
		return;
	linked = prep_backing_io(q, s, linked ? IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS : 0,
				 uring_get_sqe(&q->ring)) && linked;
	if (!linked) {
		slot_set(q, s, ONE_OF(SLOT_SERVING), SLOT_BACKING_IO);
		return;
	}
	prep_reply(q, s, expected, 0, uring_get_sqe(&q->ring));
	slot_set(q, s, ONE_OF(SLOT_SERVING), SLOT_READ_THEN_REPLY);
}

static void count_reply(struct queue *q, const struct fuse_call *c, int r,
			int sign);
static void log_call(const struct fuse_call *c, int r, const char *note);

/* A BACKING operation of slot s finished with `res`. */
static void backing_done(struct queue *q, struct slot *s, int res)
{
	struct fuse_call *c = &s->call;

	bool was_linked = s->state == SLOT_READ_THEN_REPLY;

	slot_set(q, s, ONE_OF(SLOT_BACKING_IO) | ONE_OF(SLOT_BLOCKING_CALL) |
		 ONE_OF(SLOT_READ_THEN_REPLY), SLOT_SERVING);
	if (was_linked) {
		/* The read failed or came back short; its linked reply was
		 * cancelled unsent (see advance): take it back. */
		count_reply(q, c, fuse_call_reply_if_complete(c), -1);
		if (q->srv->debug)
			log_call(c, res < 0 ? res : (int)c->io_done + res,
				 "linked reply cancelled, BACKING returned");
		if (res == -ECANCELED) {
			/* The read never ran: the kernel refused the reply
			 * behind it at submission (io_submit_fail_init) and
			 * cancelled the chain.  Read again, then reply on
			 * its own. */
			s->reply_refused = true;
			advance(q, s, CALL_BACKING);
			return;
		}
	}
	advance(q, s, fuse_call_resume(&q->srv->vol, c, res));
}

/* --- 4. reply ----------------------------------------------------------------- */

/* Count a reply; sign -1 takes back one that was cancelled. */
static void count_reply(struct queue *q, const struct fuse_call *c, int r,
			int sign)
{
	struct queue_stats *st = &q->stats;

	if (r < 0 && r != CALL_NO_REPLY)
		STAT_ADD(st->errors, sign);
	if (r > 0 && c->in.opcode == FUSE_READ)
		STAT_ADD(st->bytes_read, sign * r);
	if (r >= 0 && c->in.opcode == FUSE_WRITE)
		STAT_ADD(st->bytes_written, sign * (int64_t)c->io_done);
}

static void log_call(const struct fuse_call *c, int r, const char *note)
{
	const char *name = fuse_opcode_name(c->in.opcode);
	char op[24], result[96];

	if (!name)
		fmt(op, sizeof(op), "opcode %u", c->in.opcode);
	if (r == CALL_NO_REPLY)
		fmt(result, sizeof(result), "no reply");
	else if (r < 0)
		fmt(result, sizeof(result), "%s%s%s", note, *note ? " " : "",
		    errno_name(r));
	else
		fmt(result, sizeof(result), "%s%s%d bytes", note, *note ? " " : "", r);
	/* READ, WRITE, FALLOCATE and LSEEK: where and how much. */
	if (c->in.opcode == FUSE_READ || c->in.opcode == FUSE_WRITE ||
	    c->in.opcode == FUSE_FALLOCATE || c->in.opcode == FUSE_LSEEK)
		info("request %lu %s node %lu offset %lu size %lu: %s",
		     (unsigned long)c->in.unique, name ? name : op,
		     (unsigned long)c->in.nodeid, (unsigned long)c->arg.read.offset,
		     c->in.opcode == FUSE_FALLOCATE ? (unsigned long)c->arg.fallocate.length :
		     (unsigned long)c->arg.read.size, result);
	else
		info("request %lu %s node %lu: %s", (unsigned long)c->in.unique,
		     name ? name : op, (unsigned long)c->in.nodeid, result);
}

/* The reply SQE for result r, as the slot's transport sends it; its body
 * in the slot, or from `data` (see reply_from_cache). */
static void prep_reply(struct queue *q, struct slot *s, int r, const void *data,
		       struct io_uring_sqe *sqe)
{
	count_reply(q, &s->call, r, 1);
	if (q->srv->debug)
		log_call(&s->call, r, data ? "from the page cache," : "");
	s->t->prep_reply(q, s, r, data, sqe);
}

/* Answer the request in slot s with r. */
static void reply(struct queue *q, struct slot *s, int r)
{
	if (r == CALL_NO_REPLY && !s->t->reply_always) {
		if (q->srv->debug)
			log_call(&s->call, r, "");
		slot_set(q, s, ONE_OF(SLOT_SERVING), SLOT_IDLE);
		s->t->arm(q, s);
		return;
	}
	if (!queue_reserve(q, 1))
		return;
	prep_reply(q, s, r, 0, uring_get_sqe(&q->ring));
	slot_set(q, s, ONE_OF(SLOT_SERVING), s->t->after_reply);
}

static bool connection_over(int res)
{
	return res == -ENODEV || res == -ECONNABORTED || res == -ENOTCONN;
}

/* --- transport: /dev/fuse ----------------------------------------------------- *
 * The kernel side is fs/fuse/dev.c: a read is fuse_dev_do_read(), which
 * hands over the oldest pending request whole (the buffer must hold
 * max_write plus headers); a write is fuse_dev_do_write(), which finds the
 * request by its unique in this clone's processing list.  /dev/fuse is
 * O_NONBLOCK, so io_uring never parks a read in a worker thread: it polls
 * and retries instead.  With READ_MULTISHOT (6.7+) one armed read delivers
 * every request, each into the next buffer of a provided-buffer ring made
 * of IDLE slots; before 6.7 each IDLE slot waits with a read of its own. */

static uint32_t dev_request_room(const struct queue *q)
{
	return q->slot_size - DEV_REQUEST_OFFSET;
}

static void dev_arm_multishot(struct queue *q)
{
	if (q->dev_multishot_armed || q->dev_done || !q->dev_idle ||
	    !queue_reserve(q, 1))
		return;
	struct io_uring_sqe *sqe = uring_get_sqe(&q->ring);

	sqe->opcode = IORING_OP_READ_MULTISHOT;
	sqe->flags = IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->fd = FILE_FUSE;
	sqe->buf_index = 0;	/* buffer group 0: dev_bufs */
	/* Tagged with the first /dev/fuse slot; each CQE names its real
	 * slot in its buffer id. */
	sqe->user_data = ud_make(EV_REQUEST, 0);
	q->dev_multishot_armed = true;
}

static void dev_arm(struct queue *q, struct slot *s)
{
	if (q->dev_done) {
		slot_set(q, s, ONE_OF(SLOT_IDLE), SLOT_CLOSED);
		return;
	}
	if (q->srv->multishot_read) {
		uring_buf_ring_add(&q->dev_bufs, s->mem + DEV_REQUEST_OFFSET,
				   dev_request_room(q), (uint16_t)s->index);
		q->dev_idle++;
		dev_arm_multishot(q);
		return;
	}
	if (!queue_reserve(q, 1))
		return;
	struct io_uring_sqe *sqe = uring_get_sqe(&q->ring);

	sqe->opcode = IORING_OP_READ;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = FILE_FUSE;
	sqe->addr = (uint64_t)(s->mem + DEV_REQUEST_OFFSET);
	sqe->len = dev_request_room(q);
	sqe->user_data = ud_make(EV_REQUEST, s->index);
}

/* The connection is over: IDLE slots in the buffer ring will never be
 * filled.  (Without multishot each IDLE slot's own read ends with ENODEV.) */
static void dev_close(struct queue *q)
{
	q->dev_done = true;
	if (!q->srv->multishot_read)
		return;
	for (unsigned i = 0; i < q->ndev; i++)
		if (q->slots[i].state == SLOT_IDLE)
			slot_set(q, &q->slots[i], ONE_OF(SLOT_IDLE), SLOT_CLOSED);
	q->dev_idle = 0;
}

/* A read of /dev/fuse completed: fuse_dev_do_read() copied one request
 * whole, or said why not (ENODEV: unmounted; ECONNABORTED: aborted,
 * with FUSE_ABORT_ERROR; ENOBUFS: the multishot read ran out of slots). */
static void dev_receive(struct queue *q, struct slot *s,
			const struct io_uring_cqe *cqe)
{
	if (q->srv->multishot_read) {
		if (!(cqe->flags & IORING_CQE_F_MORE))
			q->dev_multishot_armed = false;
		s = cqe->flags & IORING_CQE_F_BUFFER ?
			&q->slots[cqe->flags >> IORING_CQE_BUFFER_SHIFT] : 0;
		if (s)
			q->dev_idle--;
	}
	if (cqe->res > 0 && s) {
		STAT_ADD(q->stats.via_dev, 1);
		request_arrived(q, s, fuse_call_parse_dev(&s->call,
			s->mem + DEV_REQUEST_OFFSET, (uint32_t)cqe->res,
			s->mem + SLOT_HEADROOM, q->slot_size - SLOT_HEADROOM));
	} else {
		if (cqe->res == -ECONNABORTED) {
			/* echo 1 > /sys/fs/fuse/connections/N/abort */
			store_relaxed(&q->srv->aborted, true);
			q->status = 1;
		}
		if (connection_over(cqe->res)) {
			dev_close(q);
		} else if (cqe->res < 0 && cqe->res != -ENOBUFS &&
			   cqe->res != -EINTR && cqe->res != -EAGAIN) {
			warn("reading /dev/fuse: %s", errno_name(cqe->res));
			q->status = 1;
			dev_close(q);
		}
		if (s && s->state == SLOT_IDLE)
			dev_arm(q, s);	/* back for the next request */
	}
	if (q->srv->multishot_read)
		dev_arm_multishot(q);
}

/* One write of header and body: fuse_dev_do_write() takes it whole, finds
 * the request by unique, and copies the body to the requester.  A body
 * elsewhere (the page cache's, data) goes behind the header in a WRITEV;
 * the kernel copies from any user memory. */
static void dev_prep_reply(struct queue *q, struct slot *s, int r,
			   const void *data, struct io_uring_sqe *sqe)
{
	struct fuse_out_header out = fuse_reply_header(&s->call, r);

	memcpy(s->mem + REPLY_HEADER_OFFSET, &out, sizeof(out));
	sqe->opcode = IORING_OP_WRITE;
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->fd = FILE_FUSE;
	sqe->addr = (uint64_t)(s->mem + REPLY_HEADER_OFFSET);
	sqe->len = out.len;
	sqe->user_data = ud_make(EV_REPLY, s->index);
	if (!data)
		return;
	/* The iovecs are read when the WRITEV is issued: they live in the
	 * slot (a /dev/fuse slot has no ring entry's to keep). */
	s->iov[0] = (struct iovec){ s->mem + REPLY_HEADER_OFFSET, sizeof(out) };
	s->iov[1] = (struct iovec){ (void *)data, (size_t)r };
	sqe->opcode = IORING_OP_WRITEV;
	sqe->addr = (uint64_t)s->iov;
	sqe->len = 2;
}

static void dev_replied(struct queue *q, struct slot *s, int res)
{
	/* ENOENT: the request was interrupted or aborted meanwhile. */
	if (res < 0 && res != -ENOENT && !connection_over(res))
		warn("replying to %s: %s",
		     fuse_opcode_name(s->call.in.opcode) ?: "request",
		     errno_name(res));
	slot_set(q, s, ONE_OF(SLOT_REPLYING) | ONE_OF(SLOT_READ_THEN_REPLY),
		 SLOT_IDLE);
	dev_arm(q, s);
}

const struct transport dev_transport = {
	.name = "dev",
	.arm = dev_arm,
	.receive = dev_receive,
	.prep_reply = dev_prep_reply,
	.can_reply_from = true,
	.replied = dev_replied,
	.after_reply = SLOT_REPLYING,
	.reply_always = false,
};

/* --- transport: FUSE over io_uring ---------------------------------------------- *
 * The kernel side is fs/fuse/dev_uring.c.  Each slot is a ring entry of
 * one kernel queue (one per possible CPU): REGISTER (fuse_uring_register)
 * hands it over, and the command completes when a request has been copied
 * into its header area and payload buffer (fuse_uring_send_req_in).
 * COMMIT_AND_FETCH (fuse_uring_commit_fetch) delivers the reply from the
 * same memory and waits for the next request in one command; commit_id
 * names the request being answered.  (uring_arm, uring_receive...: the
 * transport called "uring", after -o transport=uring; the io_uring layer
 * under every transport is uring.h's, whose functions take a struct
 * uring.) */

static void uring_command(struct queue *q, struct slot *s, uint8_t cmd,
			 struct io_uring_sqe *sqe)
{
	struct fuse_uring_cmd_req *req =
		(struct fuse_uring_cmd_req *)((uint8_t *)sqe + URING_SQE_CMD_OFFSET);

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->fd = FILE_FUSE;
	sqe->cmd_op = cmd;
	if (cmd == FUSE_IO_URING_CMD_REGISTER) {
		sqe->addr = (uint64_t)s->iov;
		sqe->len = 2;
	}
	req->qid = s->qid;
	req->commit_id = s->commit_id;
	sqe->user_data = ud_make(EV_REQUEST, s->index);
	s->uring_cmd = cmd;
}

static void uring_arm(struct queue *q, struct slot *s)
{
	if (queue_reserve(q, 1))
		uring_command(q, s, FUSE_IO_URING_CMD_REGISTER, uring_get_sqe(&q->ring));
}

/* An entry's command completed: fuse_uring_send_req_in() copied a request
 * into its header area and payload (res 0), or the ring is going away
 * (fuse_uring_cancel: ENOTCONN). */
static void uring_receive(struct queue *q, struct slot *s,
			 const struct io_uring_cqe *cqe)
{
	if (cqe->res == 0) {
		const struct fuse_uring_req_header *h = (const void *)s->mem;

		s->commit_id = h->ring_ent_in_out.commit_id;
		STAT_ADD(q->stats.via_uring, 1);
		request_arrived(q, s, fuse_call_parse_uring(&s->call, h,
			s->mem + SLOT_HEADROOM, q->slot_size - SLOT_HEADROOM));
		return;
	}
	if (cqe->res == -EAGAIN || cqe->res == -EINTR) {
		/* Not ready yet: the same command again. */
		if (queue_reserve(q, 1))
			uring_command(q, s, s->uring_cmd, uring_get_sqe(&q->ring));
		return;
	}
	if (!connection_over(cqe->res)) {
		/* The kernel queue would lose an entry for good, and once it
		 * has none, its CPU's requests wait forever: give up. */
		error("FUSE-over-io_uring %s for queue %u: %s",
		      s->uring_cmd == FUSE_IO_URING_CMD_REGISTER ? "register" : "commit",
		      s->qid, errno_name(cqe->res));
		q->status = 1;
		q->failed = true;
	}
	slot_set(q, s, ONE_OF(SLOT_IDLE) | ONE_OF(SLOT_READ_THEN_REPLY), SLOT_CLOSED);
}

/* The reply stays where the request was: fuse_uring_commit_fetch() reads
 * the header area and payload_sz bytes of payload, then parks the entry
 * for the next request. */
static void uring_prep_reply(struct queue *q, struct slot *s, int r,
			    const void *data, struct io_uring_sqe *sqe)
{
	struct fuse_uring_req_header *h = (struct fuse_uring_req_header *)s->mem;
	struct fuse_out_header out = fuse_reply_header(&s->call, r);

	uring_assert(!data);	/* its payload buffer is fixed at REGISTER */
	if (r == CALL_NO_REPLY)
		out.error = out.len = 0;	/* commits, answers nothing */
	memcpy(h->in_out, &out, sizeof(out));
	h->ring_ent_in_out.payload_sz = r > 0 ? (uint32_t)r : 0;
	uring_command(q, s, FUSE_IO_URING_CMD_COMMIT_AND_FETCH, sqe);
}

const struct transport uring_transport = {
	.name = "uring",
	.arm = uring_arm,
	.receive = uring_receive,
	.prep_reply = uring_prep_reply,
	.after_reply = SLOT_IDLE,	/* the commit also fetches */
	.reply_always = true,
};

/* --- the serve loop --------------------------------------------------------------- */

static void on_completion(void *ctx, const struct io_uring_cqe *cqe)
{
	struct queue *q = ctx;
	struct slot *s = &q->slots[ud_who(cqe->user_data)];

	switch (ud_event(cqe->user_data)) {
	case EV_REQUEST:
		s->t->receive(q, s, cqe);
		break;
	case EV_BACKING:
		backing_done(q, s, cqe->res);
		break;
	case EV_REPLY:
		s->t->replied(q, s, cqe->res);
		break;
	default:
		uring_assert(0);
	}
}

/* Run on the CPUs whose requests this queue serves.  With FUSE over
 * io_uring a request goes to the queue of the CPU that issued it, and
 * serving it on that CPU saves waking another; /dev/fuse queues are spread
 * the same way so that they do not fight over one CPU.  Stays within the
 * CPUs fuseuring was allowed. */
static void queue_pin(const struct queue *q)
{
	uint64_t allowed[16] = { 0 }, mask[16] = { 0 };
	bool any = false;

	if (q->srv->nqueues < 2 || sys_sched_getaffinity(allowed, sizeof(allowed)) < 0)
		return;
	for (unsigned cpu = q->index; cpu < 64 * 16; cpu += q->srv->nqueues)
		mask[cpu / 64] |= 1ull << (cpu % 64);
	for (unsigned k = 0; k < 16; k++) {
		mask[k] &= allowed[k];
		any |= mask[k] != 0;
	}
	if (any)
		sys_sched_setaffinity(mask, sizeof(mask));
}

/* Registered buffers stay pinned, and charged to RLIMIT_MEMLOCK, until the
 * kernel has freed the ring, which it does in the background after close:
 * unregister them first, so that the memory is free when we are gone (and
 * a fuseuring started right after us can have it). */
static void queue_release_buffers(struct queue *q)
{
	if (q->ring.fd >= 0)
		uring_register(&q->ring, IORING_UNREGISTER_BUFFERS, 0, 0);
}

/* A worker thread: serve until the kernel ends the connection. */
int queue_serve(struct queue *q)
{
	int r = uring_enable(&q->ring);

	if (r < 0) {
		/* Its kernel queues would never get entries: with FUSE over
		 * io_uring the connection then never becomes ready. */
		error("queue %u: enabling its ring: %s", q->index, errno_name(r));
		q->status = 1;
		q->failed = true;
		return q->status;
	}
	uring_register_ring_fd(&q->ring);
	queue_pin(q);
	for (unsigned i = 0; i < q->nslots; i++)
		q->slots[i].t->arm(q, &q->slots[i]);
	while (q->open_slots && !q->failed) {
		/* Wake for the first completion.  (Holding the wake-up for a
		 * batch, IORING_ENTER_EXT_ARG with min_wait, saved system
		 * calls but cost throughput when measured.) */
		r = uring_submit_and_wait(&q->ring, 1);
		if (r < 0 && !uring_enter_failed_for_now(r)) {
			error("queue %u: io_uring_enter: %s", q->index, errno_name(r));
			q->status = 1;
			q->failed = true;
		}
		uring_drain(&q->ring, q, on_completion);
	}
	queue_release_buffers(q);
	return q->status;
}

/* --- blocking BACKING calls --------------------------------------------------------- */

/* Run a BACKING operation right now, in the calling thread. */
int64_t backing_run(const struct backing *b, struct fuse_call *c)
{
	struct backing_io *io = &c->io;
	struct statx st;
	struct statfs sf;
	int r;

	switch (io->kind) {
	case BACKING_GETATTR:
	case BACKING_SIZE:
		r = backing_sys(statx)(b->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st);
		/* A block device's size is its own (statx says 0), asked afresh:
		 * it can change too (losetup -c, a resized logical volume). */
		if (r == 0 && b->is_block)
			r = (int)backing_sys(ioctl)(b->fd, BLKGETSIZE64, &st.stx_size);
		if (r < 0)
			return r;
		c->got.attr = (struct backing_attr){
			.size = st.stx_size,
			.blocks = st.stx_blocks, .blksize = st.stx_blksize,
			.atime = st.stx_atime, .mtime = st.stx_mtime,
			.ctime = st.stx_ctime,
		};
		return 0;
	case BACKING_STATFS:
		r = backing_sys(fstatfs)(b->fd, &sf);
		if (r < 0)
			return r;
		c->got.fs = (struct backing_fs){
			.blocks = sf.f_blocks, .bfree = sf.f_bfree,
			.bavail = sf.f_bavail, .bsize = (uint32_t)sf.f_bsize,
			.frsize = (uint32_t)sf.f_frsize,
		};
		return 0;
	case BACKING_LSEEK:
		return backing_sys(lseek)(b->fd, (int64_t)io->offset, (int)io->flags);
	case BACKING_SET_TIMES:
		return backing_sys(futimens)(b->fd, io->times);
	case BACKING_RESIZE:
		return b->is_block ? -EINVAL :
		       backing_sys(ftruncate)(b->fd, (int64_t)io->length);
	case BACKING_FSYNC:
		return io->flags ? backing_sys(fdatasync)(b->fd) : backing_sys(fsync)(b->fd);
	case BACKING_FALLOCATE:
		return backing_sys(fallocate)(b->fd, (int)io->flags, io->offset, io->length);
	default:
		return -EINVAL;
	}
}

/* The volume follows BACKING's size (fuse_ops.c); a change nobody here
 * made is worth a line, once. */
static void resized_elsewhere(uint64_t from, uint64_t to)
{
	static bool said;

	if (!test_and_set(&said))
		warn("BACKING changed size from %lu to %lu bytes, not through this "
		     "volume: the volume follows it", (unsigned long)from,
		     (unsigned long)to);
}

/* Post a blocking call's result to the queue's ring as the slot's
 * EV_BACKING completion, now.  The results of fsync and fallocate fit a
 * CQE's 32 bits.  Only a failure completes on the main ring. */
static void answer_blocking_call(struct server *srv, uint32_t who)
{
	struct queue *q = &srv->queues[blocking_call_queue(who)];
	unsigned slot = blocking_call_slot(who);

	if (!uring_reserve(&srv->control, 1)) {
		error("main ring: takes no submissions");
		return;
	}
	struct io_uring_sqe *sqe = uring_get_sqe(&srv->control);

	sqe->opcode = IORING_OP_MSG_RING;
	sqe->fd = q->ring.fd;
	sqe->addr = IORING_MSG_DATA;
	sqe->off = ud_make(EV_BACKING, slot);
	sqe->len = (uint32_t)q->slots[slot].blocking_res;
	sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = ud_make(EV_BLOCKING_ANSWER, who);
	uring_submit_and_wait(&srv->control, 0);	/* no waiting behind others */
}

/* On the main thread: a completion of its ring about a queue's blocking
 * call (see hand_over).  A hand-over: run the call and answer.  An answer
 * that did not get there (MSG_RING failed, e.g. ENOMEM): send it again,
 * or the request would never be answered and its slot never freed. */
void serve_blocking_call(struct server *srv, const struct io_uring_cqe *cqe)
{
	uint32_t who = ud_who(cqe->user_data);
	struct slot *s = &srv->queues[blocking_call_queue(who)].slots[blocking_call_slot(who)];

	if (ud_event(cqe->user_data) == EV_BLOCKING_CALL) {
		int fault = fault_blocking_call(srv, &s->call.io);	/* test build */

		s->blocking_res = fault ? fault : (int32_t)backing_run(&srv->backing, &s->call);
	} else {
		warn("main ring: answering queue %u: %s; again", blocking_call_queue(who),
		     errno_name(cqe->res));
	}
	answer_blocking_call(srv, who);
}

void log_stats(const struct server *srv)
{
	struct queue_stats sum = { 0 };
	char line[1024];
	size_t n = 0;

	for (unsigned i = 0; i < srv->nqueues; i++) {
		const struct queue_stats *st = &srv->queues[i].stats;

#define ADD(field) sum.field += load_relaxed(&st->field)
		for (unsigned op = 0; op <= FUSE_OPCODE_COUNT; op++)
			ADD(requests[op]);
		ADD(via_dev);
		ADD(via_uring);
		ADD(bytes_read);
		ADD(bytes_written);
		ADD(errors);
		ADD(busy_max);
#undef ADD
	}
	uint64_t total = 0;

	for (unsigned op = 0; op <= FUSE_OPCODE_COUNT; op++) {
		const char *name = op < FUSE_OPCODE_COUNT ? fuse_opcode_name(op) : 0;

		total += sum.requests[op];
		/* READ and WRITE always: 0 is news with passthrough. */
		if (sum.requests[op] || op == FUSE_READ || op == FUSE_WRITE)
			n += fmt(line + n, sizeof(line) - n, " %s=%lu",
				 name ? name : "unknown",
				 (unsigned long)sum.requests[op]);
	}
	info("stats: transport=%s (%s) queues=%u depth=%u multishot=%s requests=%lu:%s "
	     "via_dev=%lu via_uring=%lu bytes_read=%lu bytes_written=%lu errors=%lu "
	     "busy_max=%lu%s",
	     transport_name(srv), srv->transport_why, srv->nqueues, srv->depth,
	     srv->multishot_read ? "yes" : "no", (unsigned long)total, line,
	     (unsigned long)sum.via_dev, (unsigned long)sum.via_uring,
	     (unsigned long)sum.bytes_read, (unsigned long)sum.bytes_written,
	     (unsigned long)sum.errors, (unsigned long)sum.busy_max,
	     srv->vol.backing_id ? " (passthrough: the kernel reads and writes "
	     "BACKING itself; the daemon sees no READ or WRITE)" : "");
}

/* --- setting queues up ----------------------------------------------------------------- */

/* Can kernel queue `qid` get requests?  A request goes to the queue of the
 * CPU it was made on: only those of online CPUs can.  Not knowing which
 * are online, all. */
static bool queue_fed(const struct server *srv, unsigned qid)
{
	bool known = false;

	for (unsigned w = 0; w < COUNT(srv->cpus_online); w++)
		known |= srv->cpus_online[w] != 0;
	return !known || qid >= 64 * COUNT(srv->cpus_online) ||
	       (srv->cpus_online[qid / 64] >> (qid % 64) & 1);
}

/* Ring entries for kernel queue `qid`: depth where requests come, else
 * the one without which the kernel serves nothing through the ring
 * (is_ring_ready in fs/fuse/dev_uring.c wants an entry in every possible
 * CPU's queue). */
static unsigned queue_entries(const struct server *srv, unsigned qid)
{
	return queue_fed(srv, qid) ? srv->depth : 1;
}

/* How many slots of which transport queue `index` gets. */
static void queue_plan(const struct server *srv, struct queue *q, unsigned index)
{
	q->index = index;
	if (srv->transport == TRANSPORT_URING) {
		/* Entries for each kernel queue this worker serves; queue 0
		 * also reads /dev/fuse, which still carries FORGET and
		 * INTERRUPT. */
		q->ndev = index == 0 ? 2 : 0;
		q->nslots = q->ndev;
		for (unsigned k = index; k < srv->kernel_queues; k += srv->nqueues)
			q->nslots += queue_entries(srv, k);
	} else {
		q->ndev = srv->depth;
		q->nslots = srv->depth;
	}
}

static uint64_t slot_bytes(const struct server *srv)
{
	return SLOT_HEADROOM + srv->vol.max_write;
}

/* How many requests the queues can be given at once: every /dev/fuse
 * slot; with FUSE over io_uring, the entries of each kernel queue that
 * can get requests, those of the online CPUs (queue_entries).  Queue 0's
 * /dev/fuse slots get only FORGET and INTERRUPT.  INIT's max_background
 * (see fuse_init_negotiate for why). */
unsigned queues_request_slots(const struct server *srv)
{
	unsigned slots = 0;

	if (srv->transport != TRANSPORT_URING)
		return srv->nqueues * srv->depth;
	for (unsigned k = 0; k < srv->kernel_queues; k++)
		slots += queue_fed(srv, k) ? srv->depth : 0;
	return slots;
}

/* The memory the queues' arenas pin: what io_uring charges to
 * RLIMIT_MEMLOCK for them (the lifecycle sizes the queues to fit). */
uint64_t queues_locked_bytes(const struct server *srv)
{
	uint64_t total = 0;
	struct queue q;

	for (unsigned i = 0; i < srv->nqueues; i++) {
		queue_plan(srv, &q, i);
		total += (uint64_t)q.nslots * slot_bytes(srv);
	}
	return total;
}

/* The most SQEs one pass of the serve loop can queue: a READ chain of two
 * per slot, and a /dev/fuse re-arm.  Sized so, the SQ is never full in
 * the middle of a batch (uring_reserve submits early when it is). */
static unsigned sq_entries_for(unsigned nslots)
{
	unsigned entries = 8;

	while (entries < 2 * nslots + 1 && entries < URING_MAX_ENTRIES)
		entries *= 2;
	return entries;
}

#ifndef FAKE_RING
/* Each clone has its own list of requests in progress: a reply written to
 * it finds its request there (fs/fuse/dev.c, fuse_dev_ioctl_clone). */
int fuse_dev_clone(int fuse_fd)
{
	int fd = sys_open("/dev/fuse", O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
	int r = fd < 0 ? fd : (int)sys_ioctl(fd, FUSE_DEV_IOC_CLONE, &fuse_fd);

	if (r < 0 && fd >= 0)
		sys_close(fd);
	return r < 0 ? r : fd;
}
#endif

/* Create the queue's ring (disabled until its thread takes it over), its
 * arena and slots, and register what the kernel needs to know. */
static int queue_setup(struct server *srv, struct queue *q, const char **step)
{
	const unsigned optional = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		IORING_SETUP_NO_SQARRAY;
	unsigned flags = optional | IORING_SETUP_R_DISABLED;
	int r;

	if (srv->transport == TRANSPORT_URING)
		flags |= IORING_SETUP_SQE128;	/* room for FUSE commands */
	*step = "creating its ring";
	r = uring_init(&q->ring, sq_entries_for(q->nslots), flags, optional);
	if (r < 0)
		return r;

	/* Queue 0 uses the mount's own /dev/fuse descriptor; the others a
	 * clone of the connection: each queue has its own list of requests
	 * in progress, so its replies never have to find their request among
	 * other queues'. */
	if (q->index == 0) {
		q->fuse_fd = srv->fuse_fd;
	} else {
		*step = "cloning the /dev/fuse connection";
		r = fuse_dev_clone(srv->fuse_fd);
		if (r < 0)
			return r;
		q->fuse_fd = r;
	}

	q->slot_size = (uint32_t)slot_bytes(srv);
	q->arena_size = (size_t)q->slot_size * q->nslots;
	*step = "allocating its buffers";
	q->arena = map_anonymous(q->arena_size);
	q->slots = map_anonymous(sizeof(struct slot) * q->nslots);
	if (!q->arena || !q->slots)
		return -ENOMEM;
	/* Registering pins the arena once, instead of on every I/O. */
	struct iovec arena = { q->arena, q->arena_size };

	*step = "registering its buffers (locked memory)";
	r = uring_register(&q->ring, IORING_REGISTER_BUFFERS, &arena, 1);
	if (r < 0)
		return r;
	int32_t files[3] = { q->fuse_fd, srv->backing.fd, srv->backing.direct_fd };

	*step = "registering files";
	r = uring_register(&q->ring, IORING_REGISTER_FILES, files,
			   srv->backing.direct_fd >= 0 ? 3 : 2);
	if (r < 0)
		return r;
	/* Blocking BACKING operations (buffered writes on some filesystems)
	 * run on io-wq threads: keep them few. */
	uint32_t max_workers[2] = { 2, 1 };

	uring_register(&q->ring, IORING_REGISTER_IOWQ_MAX_WORKERS, max_workers, 2);

	for (unsigned i = 0; i < q->nslots; i++) {
		struct slot *s = &q->slots[i];

		s->mem = q->arena + (size_t)i * q->slot_size;
		s->index = i;
		s->state = SLOT_IDLE;
		s->t = i < q->ndev ? &dev_transport : &uring_transport;
		s->iov[0] = (struct iovec){ s->mem, sizeof(struct fuse_uring_req_header) };
		s->iov[1] = (struct iovec){ s->mem + SLOT_HEADROOM, srv->vol.max_write };
	}
	/* The ring entries, kernel queue by kernel queue (queue_plan). */
	unsigned i = q->ndev;

	for (unsigned k = q->index; srv->transport == TRANSPORT_URING &&
	     k < srv->kernel_queues; k += srv->nqueues)
		for (unsigned e = queue_entries(srv, k); e--; i++)
			q->slots[i].qid = (uint16_t)k;
	q->open_slots = q->nslots;
	if (!q->ndev || !srv->multishot_read)
		return 0;
	q->dev_bufs.entries = 1;
	while (q->dev_bufs.entries < q->ndev)
		q->dev_bufs.entries *= 2;
	*step = "setting up its buffer ring";
	q->dev_bufs.bufs = map_anonymous(q->dev_bufs.entries * sizeof(struct io_uring_buf));
	if (!q->dev_bufs.bufs)
		return -ENOMEM;
	return uring_buf_ring_register(&q->ring, &q->dev_bufs, 0);
}

static void queue_teardown(struct queue *q)
{
	queue_release_buffers(q);
	uring_unmap(&q->ring);
	if (q->fuse_fd >= 0 && q->index > 0)
		sys_close(q->fuse_fd);
	if (q->arena)
		unmap_anonymous(q->arena, q->arena_size);
	if (q->slots)
		unmap_anonymous(q->slots, sizeof(struct slot) * q->nslots);
	if (q->dev_bufs.bufs)
		unmap_anonymous(q->dev_bufs.bufs,
				q->dev_bufs.entries * sizeof(struct io_uring_buf));
	*q = (struct queue){ .fuse_fd = -1, .ring = { .fd = -1 } };
}

/* Give back every queue's ring and memory (a failed start; the tests). */
void queues_teardown(struct server *srv)
{
	for (unsigned i = 0; srv->queues && i < srv->nqueues; i++)
		queue_teardown(&srv->queues[i]);
	if (srv->queues)
		unmap_anonymous(srv->queues, sizeof(struct queue) * srv->nqueues);
	srv->queues = 0;
}

/* The kernel refuses to register a buffer over 1 GiB (io_uring/rsrc.c),
 * and a queue's arena is registered as one.  That also keeps a queue's
 * slots, each at least SLOT_HEADROOM long, fewer than blocking_call_who
 * can name. */
#define REGISTERED_BUFFER_MAX	(1ull << 30)
_Static_assert(REGISTERED_BUFFER_MAX / SLOT_HEADROOM <= 1u << SLOT_BITS, "slot numbers");

/* All queues for srv->transport, or none; on failure *why says what
 * failed, for which queue. */
int queues_setup(struct server *srv, char *why, size_t why_cap)
{
	/* A worker without a kernel queue to serve would have nothing to do;
	 * one past QUEUES_MAX could not be named in a blocking call (on a
	 * machine with more CPUs, the kernel queues are shared out). */
	if (srv->transport == TRANSPORT_URING && srv->nqueues > srv->kernel_queues)
		srv->nqueues = srv->kernel_queues;
	if (srv->nqueues > QUEUES_MAX)
		srv->nqueues = QUEUES_MAX;
	if (!srv->queues)
		srv->queues = map_anonymous(sizeof(struct queue) * srv->nqueues);
	if (!srv->queues)
		return -ENOMEM;
	srv->vol.resized_elsewhere = resized_elsewhere;
	for (unsigned i = 0; i < srv->nqueues; i++)
		srv->queues[i] = (struct queue){ .srv = srv, .fuse_fd = -1, .ring = { .fd = -1 } };
	for (unsigned i = 0; i < srv->nqueues; i++) {
		struct queue *q = &srv->queues[i];

		queue_plan(srv, q, i);
		if ((uint64_t)q->nslots * slot_bytes(srv) > REGISTERED_BUFFER_MAX) {
			fmt(why, why_cap, "queue %u: %u slots of %lu bytes exceed the "
			    "kernel's 1 GiB per registered buffer; lower depth= or "
			    "max_write=, or raise queues=", i, q->nslots,
			    (unsigned long)slot_bytes(srv));
			queues_teardown(srv);
			return -EFBIG;
		}
		const char *step = "";
		int r = queue_setup(srv, q, &step);

		if ((r == -EACCES || r == -EPERM) && i > 0 &&
		    srv->transport == TRANSPORT_DEV) {
			/* /dev/fuse not ours to open (an unprivileged user
			 * without udev's 0666): serve with the queues we have. */
			warn("cannot open /dev/fuse for queue %u (%s): using %u queues",
			     i, errno_name(r), i);
			queue_teardown(q);
			srv->nqueues = i;
			break;
		}
		if (r < 0) {
			fmt(why, why_cap, "queue %u: %s: %s", i, step, errno_name(r));
			queues_teardown(srv);
			return r;
		}
	}
	return 0;
}
