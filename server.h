/* SPDX-License-Identifier: MIT */
/* server.h - what the data path (fuseuring.c) and the lifecycle around it
 * (lifecycle.h) share: the server, its queues, and each queue's slots.
 */
#ifndef FUSEURING_SERVER_H
#define FUSEURING_SERVER_H

#include "sys.h"
#include "uring.h"
#include "fuse_proto.h"
#include "fuse_ops.h"
#include "options.h"	/* enum transport_choice */
#include "log.h"	/* the one way up: messages */

/* --- completions: one user_data encoding for every ring --------------------
 * The event in the high half, who it concerns in the low half: a slot
 * index on a queue's ring; on the main thread's ring, the queue and slot
 * whose blocking BACKING call it is (see blocking_call_who). */
enum event {
	EV_REQUEST,		/* a transport delivered a request (or failed to) */
	EV_BACKING,		/* a BACKING operation finished */
	EV_REPLY,		/* a /dev/fuse reply was written */
	EV_SIGNAL,		/* main ring: the signalfd read finished */
	EV_BLOCKING_CALL,	/* main ring: a queue hands over a blocking call */
	EV_BLOCKING_ANSWER,	/* main ring: its answer did not get there */
	EV_UNMOUNT_RETRY,	/* main ring: time to try unmounting again */
};

static inline uint64_t ud_make(enum event e, uint32_t who)
{
	return (uint64_t)e << 32 | who;
}

static inline enum event ud_event(uint64_t user_data)
{
	return (enum event)(user_data >> 32);
}

static inline uint32_t ud_who(uint64_t user_data)
{
	return (uint32_t)user_data;
}

#define SLOT_BITS	24	/* slots per queue < 2^24 */
#define QUEUES_MAX	(1u << (32 - SLOT_BITS))	/* queues_setup keeps to it */

static inline uint32_t blocking_call_who(unsigned queue, unsigned slot)
{
	return (uint32_t)queue << SLOT_BITS | slot;
}

static inline unsigned blocking_call_queue(uint32_t who)
{
	return who >> SLOT_BITS;
}

static inline unsigned blocking_call_slot(uint32_t who)
{
	return who & ((1u << SLOT_BITS) - 1);
}

/* --- slots ------------------------------------------------------------------
 * A slot is one request buffer of a queue's arena and the request in it.
 * Its state says what it waits for; every transition is checked in the
 * hosted builds (slot_set in fuseuring.c).
 *
 *   IDLE ──request──> SERVING ──BACKING read/write──> BACKING_IO ──┐
 *     ^                  │ ^──────────────────────────────────────┘
 *     │                  ├──fsync, fallocate──> BLOCKING_CALL ──> SERVING
 *     │                  ├──READ: read with the reply linked──> READ_THEN_REPLY
 *     │                  │      read short or failed: ──> SERVING
 *     │                  │      reply done: ──> IDLE (dev), or the next
 *     │                  │      request (ring: SERVING)
 *     │                  └──reply──> REPLYING (dev) or IDLE (ring: the
 *     └──────────────────── reply done ─┘         commit fetches the next)
 *   CLOSED: the connection is over for this slot (from IDLE, or from a
 *   ring entry's READ_THEN_REPLY whose commit ended the connection). */
enum slot_state {
	SLOT_IDLE,		/* waiting for the kernel to fill it */
	SLOT_SERVING,		/* holds a request this thread works on */
	SLOT_BACKING_IO,	/* READ_FIXED/WRITE_FIXED on BACKING in flight */
	SLOT_BLOCKING_CALL,	/* the main thread runs its fsync or fallocate */
	SLOT_READ_THEN_REPLY,	/* READ_FIXED, with the reply linked behind it */
	SLOT_REPLYING,		/* the reply is being written (dev) */
	SLOT_CLOSED,		/* no more requests will come into it */
};

struct queue;
struct slot;

/* A transport: how requests reach a slot and how its replies leave.  The
 * kernel's two sides, fs/fuse/dev.c and fs/fuse/dev_uring.c, sit behind
 * fuse_iqueue_ops the same way. */
struct transport {
	const char *name;
	/* Give the slot to the kernel to receive its next request. */
	void (*arm)(struct queue *q, struct slot *s);
	/* An EV_REQUEST completion for slot s: a request, or why none. */
	void (*receive)(struct queue *q, struct slot *s,
			const struct io_uring_cqe *cqe);
	/* Fill `sqe` with the reply for result r: its body in place in the
	 * slot, or, where `data` is not NULL (can_reply_from), the r bytes
	 * there. */
	void (*prep_reply)(struct queue *q, struct slot *s, int r,
			   const void *data, struct io_uring_sqe *sqe);
	bool can_reply_from;	/* a reply's body may be anywhere in our memory */
	/* An EV_REPLY completion (transports whose reply ends in one). */
	void (*replied)(struct queue *q, struct slot *s, int res);
	/* Where a slot goes once its reply is queued. */
	enum slot_state after_reply;
	/* Every request is answered, even FORGET: a ring entry only fetches
	 * its next request by committing one. */
	bool reply_always;
};

extern const struct transport dev_transport, uring_transport;

struct slot {
	struct fuse_call call;
	uint8_t *mem;		/* headroom, then body: see SLOT_HEADROOM */
	const struct transport *t;
	enum slot_state state;
	uint32_t index;
	bool reply_refused;	/* the kernel refused a linked reply: reply alone */
	int32_t blocking_res;	/* the main thread's result, until delivered */
	/* FUSE-over-io_uring entries only */
	uint8_t uring_cmd;	/* the command in flight */
	uint16_t qid;		/* the kernel queue this entry serves */
	uint64_t commit_id;	/* the request being answered */
	struct iovec iov[2];	/* header area and payload buffer */
};

/* --- queues and the server -------------------------------------------------- */

struct queue_stats {
	uint64_t requests[FUSE_OPCODE_COUNT + 1];	/* last: unknown opcodes */
	uint64_t via_dev, via_uring;	/* where requests arrived */
	uint64_t bytes_read, bytes_written, errors, busy_max;
};

struct server;

/* One worker thread: its own ring, arena, slots and /dev/fuse clone. */
struct queue {
	struct server *srv;
	unsigned index;
	struct uring ring;
	int fuse_fd;		/* this queue's clone of /dev/fuse */
	uint8_t *arena;		/* every slot's memory, registered as buffer 0 */
	size_t arena_size;
	uint32_t slot_size;
	struct slot *slots;
	unsigned nslots;	/* [0, ndev) read /dev/fuse, the rest are ring entries */
	unsigned ndev;
	struct uring_buf_ring dev_bufs;	/* IDLE /dev/fuse slots (multishot) */
	unsigned dev_idle;	/* /dev/fuse slots in dev_bufs */
	bool dev_multishot_armed;
	bool dev_done;		/* /dev/fuse said the connection is over */
	unsigned open_slots;	/* slots not CLOSED: the queue ends at 0 */
	unsigned busy;		/* slots neither IDLE nor CLOSED */
	int status;		/* exit status: 0, or 1 after an error */
	bool failed;		/* the queue cannot go on: the daemon must stop */
	struct queue_stats stats;
};


struct backing {
	int fd;			/* the file (O_DIRECT on tmpfs, see backing_open) */
	int direct_fd;		/* the same file with O_DIRECT, or -1 */
	uint32_t dio_align;	/* offset/length/address alignment for direct_fd */
	uint64_t size;
	bool is_block;
	/* The file mapped read-only, whole as it was at the start, or NULL:
	 * the dev transport answers a READ its page cache holds straight
	 * from there (reply_from_cache in fuseuring.c). */
	const uint8_t *map;
	uint64_t map_len;
};

/* A byte range of BACKING that fails, in the test build (tests/fault.c). */
struct byte_range {
	uint64_t offset, length;
};

struct server {
	struct volume vol;
	struct backing backing;
	struct uring control;	/* the main thread's: signals, blocking BACKING calls */
	bool multishot_read;	/* the kernel has IORING_OP_READ_MULTISHOT (6.7+) */
	bool debug;		/* log every request and its result */
	int fuse_fd;
	enum transport_choice transport;	/* DEV or URING once chosen */
	char transport_why[160];	/* what chose it, for the log */
	uint32_t page_size;	/* the kernel's (AT_PAGESZ) */
	unsigned depth;		/* slots per queue, or ring entries per kernel queue */
	unsigned nqueues;
	struct queue *queues;
	unsigned kernel_queues;	/* FUSE-over-io_uring: one per possible CPU */
	uint64_t cpus_online[16];	/* the first 1024 CPUs; none set: not known */
	int workers_left;
	int exit_status;
	bool aborted;		/* the connection was aborted (fusectl abort) */
	struct byte_range fault;	/* test build only: see tests/fault.c */
};

/* --- what the data path (fuseuring.c) offers the lifecycle ------------------ */

int queues_setup(struct server *srv, char *why, size_t why_cap);
uint64_t queues_locked_bytes(const struct server *srv);
unsigned queues_request_slots(const struct server *srv);
void queues_teardown(struct server *srv);
int queue_serve(struct queue *q);
void serve_blocking_call(struct server *srv, const struct io_uring_cqe *cqe);
int64_t backing_run(const struct backing *b, struct fuse_call *c);
void log_stats(const struct server *srv);

/* A second descriptor on the connection of `fuse_fd`, for another queue
 * (FUSE_DEV_IOC_CLONE); check_ring's fake kernel has its own. */
int fuse_dev_clone(int fuse_fd);

/* "dev", "uring", or "passthrough" when the kernel moves the data. */
static inline const char *transport_name(const struct server *srv)
{
	return srv->vol.backing_id ? "passthrough" : transport_names[srv->transport];
}

/* make check: BACKING's system calls in backing_run go to the fake world
 * (tests/fake_ring.c), with the signatures of sys.h's. */
#ifdef FAKE_RING
int fake_backing_statx(int dirfd, const char *path, int flags, unsigned mask,
		       struct statx *st);
int fake_backing_fstatfs(int fd, struct statfs *st);
long fake_backing_lseek(int fd, int64_t off, int whence);
int fake_backing_futimens(int fd, const struct kernel_timespec times[2]);
int fake_backing_ftruncate(int fd, int64_t len);
int fake_backing_fsync(int fd);
int fake_backing_fdatasync(int fd);
int fake_backing_fallocate(int fd, int mode, uint64_t off, uint64_t len);
long fake_backing_ioctl(int fd, unsigned long request, void *arg);
int fake_backing_mincore(const void *addr, size_t len, uint8_t *vec);
#endif

/* The test build makes some BACKING transfers fail (tests/fault.c); the
 * shipped binary has no such hook. */
#ifdef FAULT_INJECTION
void fault_setup(struct server *srv, char **envp);
bool fault_hook(const struct server *srv, const struct backing_io *io,
		struct io_uring_sqe *sqe);
int fault_blocking_call(const struct server *srv, const struct backing_io *io);
bool fault_cacheable(const struct server *srv, const struct backing_io *io);
#else
/* Returns whether the SQE may still head a linked chain. */
static inline bool fault_hook(const struct server *srv,
			      const struct backing_io *io,
			      struct io_uring_sqe *sqe)
{
	(void)srv, (void)io, (void)sqe;
	return true;
}

/* The error a blocking call (fsync, fallocate) is to fail with, or 0. */
static inline int fault_blocking_call(const struct server *srv,
				      const struct backing_io *io)
{
	(void)srv, (void)io;
	return 0;
}

/* Whether the page cache may hold the transfer's bytes. */
static inline bool fault_cacheable(const struct server *srv, const struct backing_io *io)
{
	(void)srv, (void)io;
	return true;
}
#endif

#endif
