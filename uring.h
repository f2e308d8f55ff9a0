/* SPDX-License-Identifier: MIT */
/* uring.h - a small io_uring layer without liburing.
 *
 * io_uring is two rings of memory shared with the kernel: the submission
 * queue (SQ), where we put requests (SQEs) and move the tail, and the
 * completion queue (CQ), where the kernel puts results (CQEs) and we move
 * the head.  Each side only ever writes its own index, so no lock is needed,
 * only the right memory ordering:
 *
 *   SQ: read the kernel's head with acquire (it tells which SQE slots the
 *       kernel has finished reading), fill SQEs, then publish our tail with
 *       release so the kernel sees the SQE contents before the new tail.
 *   CQ: read the kernel's tail with acquire (so the CQE contents it wrote
 *       are visible), read CQEs, then publish our head with release so the
 *       kernel does not overwrite CQEs we are still reading.
 *
 * io_uring_enter() then tells the kernel how many new SQEs there are and,
 * in the same system call, waits for completions.
 */
#ifndef FUSEURING_URING_H
#define FUSEURING_URING_H

#include "sys.h"
#include "atomic.h"	/* the memory ordering of every shared word */

/* A broken rule of this layer is a bug; the hosted (test) builds stop on
 * it at once instead of serving wrong data later. */
#ifdef HOSTED
#include <assert.h>
#define uring_assert(x)	assert(x)
#else
#define uring_assert(x)	((void)sizeof(x))
#endif

/* --- kernel ABI (include/uapi/linux/io_uring.h) --------------------------- */

struct io_uring_sqe {
	uint8_t opcode;
	uint8_t flags;		/* IOSQE_* */
	uint16_t ioprio;
	int32_t fd;
	union {
		uint64_t off;
		struct {
			uint32_t cmd_op;	/* URING_CMD */
			uint32_t pad1;
		};
	};
	uint64_t addr;
	uint32_t len;
	uint32_t op_flags;	/* rw_flags, fsync_flags, uring_cmd_flags... */
	uint64_t user_data;
	uint16_t buf_index;	/* or buf_group with IOSQE_BUFFER_SELECT */
	uint16_t personality;
	uint32_t file_index;
	uint64_t addr3;
	uint64_t pad2;
	/* With IORING_SETUP_SQE128 an SQE is 128 bytes: the 80 bytes from
	 * offset 48 are a command area for URING_CMD. */
};
_Static_assert(sizeof(struct io_uring_sqe) == 64, "sqe layout");
#define URING_SQE_CMD_OFFSET	48

struct io_uring_cqe {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;		/* IORING_CQE_F_* */
};

struct io_sqring_offsets {
	uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array,
		resv1;
	uint64_t user_addr;
};

struct io_cqring_offsets {
	uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags,
		resv1;
	uint64_t user_addr;
};

struct io_uring_params {
	uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle,
		features, wq_fd, resv[3];
	struct io_sqring_offsets sq_off;
	struct io_cqring_offsets cq_off;
};
_Static_assert(sizeof(struct io_uring_params) == 120, "params layout");

/* Provided buffers: a ring of buffer descriptors shared with the kernel.
 * Entry 0's last 16 bits double as the ring's tail. */
struct io_uring_buf {
	uint64_t addr;
	uint32_t len;
	uint16_t bid;
	uint16_t tail_or_resv;
};

struct io_uring_buf_reg {
	uint64_t ring_addr;
	uint32_t ring_entries;
	uint16_t bgid;
	uint16_t flags;
	uint32_t min_left;
	uint32_t resv[5];
};
_Static_assert(sizeof(struct io_uring_buf_reg) == 40, "buf_reg layout");

enum {
	IORING_OP_NOP = 0, IORING_OP_WRITEV = 2, IORING_OP_FSYNC = 3, IORING_OP_READ_FIXED = 4,
	IORING_OP_TIMEOUT = 11,
	IORING_OP_WRITE_FIXED = 5, IORING_OP_FALLOCATE = 17, IORING_OP_READ = 22, IORING_OP_WRITE = 23,
	IORING_OP_MSG_RING = 40, IORING_OP_URING_CMD = 46,
	IORING_OP_READ_MULTISHOT = 49,
};

/* MSG_RING with IORING_MSG_DATA in sqe->addr posts a CQE (user_data =
 * sqe->off, res = sqe->len) in the ring whose fd is sqe->fd. */
#define IORING_MSG_DATA			0

#define IOSQE_FIXED_FILE	(1u << 0)
#define IOSQE_IO_LINK		(1u << 2)	/* the next SQE waits for this one */
#define IOSQE_BUFFER_SELECT	(1u << 5)
#define IOSQE_CQE_SKIP_SUCCESS	(1u << 6)	/* post a CQE only on failure */

#define IORING_SETUP_R_DISABLED		(1u << 6)
#define IORING_SETUP_SUBMIT_ALL		(1u << 7)
#define IORING_SETUP_COOP_TASKRUN	(1u << 8)
#define IORING_SETUP_SQE128		(1u << 10)
#define IORING_SETUP_SINGLE_ISSUER	(1u << 12)
#define IORING_SETUP_DEFER_TASKRUN	(1u << 13)
#define IORING_SETUP_NO_SQARRAY		(1u << 16)

#define IORING_FEAT_SINGLE_MMAP		(1u << 0)
#define IORING_FEAT_NODROP		(1u << 1)

#define IORING_ENTER_GETEVENTS		(1u << 0)
#define IORING_ENTER_REGISTERED_RING	(1u << 4)

#define IORING_CQE_F_BUFFER		(1u << 0)
#define IORING_CQE_F_MORE		(1u << 1)
#define IORING_CQE_BUFFER_SHIFT		16

#define IORING_FSYNC_DATASYNC		(1u << 0)
#define IORING_NOP_INJECT_RESULT	(1u << 0)	/* res = sqe->len */

#define IORING_OFF_SQ_RING		0ull
#define IORING_OFF_SQES			0x10000000ull

struct io_uring_probe_op {
	uint8_t op, resv;
	uint16_t flags;		/* IO_URING_OP_SUPPORTED */
	uint32_t resv2;
};

struct io_uring_probe {
	uint8_t last_op, ops_len;
	uint16_t resv;
	uint32_t resv2[3];
	struct io_uring_probe_op ops[64];
};
#define IO_URING_OP_SUPPORTED	(1u << 0)

enum {
	IORING_REGISTER_BUFFERS = 0,
	IORING_UNREGISTER_BUFFERS = 1,
	IORING_REGISTER_FILES = 2,
	IORING_REGISTER_PROBE = 8,
	IORING_REGISTER_ENABLE_RINGS = 12,
	IORING_REGISTER_IOWQ_MAX_WORKERS = 19,
	IORING_REGISTER_RING_FDS = 20,
	IORING_REGISTER_PBUF_RING = 22,
};

/* --- the system calls -----------------------------------------------------
 * `make check` builds the daemon with FAKE_RING: a fake kernel in
 * tests/fake_ring.c then stands behind these, so the ring logic above the
 * system calls runs unchanged against completions in any order. */
#ifdef FAKE_RING
long uring_sys_setup(unsigned entries, struct io_uring_params *p);
long uring_sys_enter(int fd, unsigned to_submit, unsigned min_complete,
		     unsigned flags);
long uring_sys_register(int fd, unsigned op, const void *arg, unsigned nr);
void *uring_sys_mmap(int fd, size_t len, uint64_t off);
void uring_sys_munmap(void *p, size_t len);
void uring_sys_close(int fd);
#else
static inline long uring_sys_setup(unsigned entries, struct io_uring_params *p)
{
	return sc2(SYS_io_uring_setup, entries, p);
}

static inline long uring_sys_enter(int fd, unsigned to_submit,
				   unsigned min_complete, unsigned flags)
{
	return sc6(SYS_io_uring_enter, fd, to_submit, min_complete, flags, 0, 0);
}

static inline long uring_sys_register(int fd, unsigned op, const void *arg,
				      unsigned nr)
{
	return sc4(SYS_io_uring_register, fd, op, arg, nr);
}

static inline void *uring_sys_mmap(int fd, size_t len, uint64_t off)
{
	long p = sys_mmap(0, len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, fd, (long)off);

	return p < 0 && p >= MAP_FAILED_MAX ? 0 : (void *)p;
}

static inline void uring_sys_munmap(void *p, size_t len)
{
	sys_munmap(p, len);
}

static inline void uring_sys_close(int fd)
{
	sys_close(fd);
}
#endif

/* --- the ring ------------------------------------------------------------ */

#define URING_MAX_ENTRIES	32768u	/* the kernel's (IORING_MAX_ENTRIES) */

struct uring {
	int fd;			/* the ring's file descriptor */
	int enter_fd;		/* fd, or its registered index for io_uring_enter */
	unsigned enter_flags;	/* IORING_ENTER_REGISTERED_RING once registered */
	unsigned setup_flags;

	/* Submission queue: head is the kernel's, tail is ours. */
	const uint32_t *sq_head;
	uint32_t *sq_tail;
	uint32_t sq_mask, sq_entries;
	uint32_t sq_local_tail;	/* SQEs handed out but not yet published */
	uint8_t *sqes;
	unsigned sqe_shift;	/* log2 of the SQE size: 6, or 7 with SQE128 */

	/* Completion queue: tail is the kernel's, head is ours. */
	uint32_t *cq_head;
	const uint32_t *cq_tail;
	uint32_t cq_mask;
	const struct io_uring_cqe *cqes;

	void *ring_mem;
	size_t ring_size;
	size_t sqes_size;
};

static inline int uring_register(const struct uring *r, unsigned op,
				 const void *arg, unsigned nr)
{
	return (int)uring_sys_register(r->fd, op, arg, nr);
}

static inline void uring_unmap(struct uring *r)
{
	if (r->sqes)
		uring_sys_munmap(r->sqes, r->sqes_size);
	if (r->ring_mem)
		uring_sys_munmap(r->ring_mem, r->ring_size);
	if (r->fd >= 0)
		uring_sys_close(r->fd);
	*r = (struct uring){ .fd = -1 };
}

/* Create a ring of `entries` SQEs with `flags`.  Flags the kernel does not
 * know are dropped one by one (newest first) as long as they are in
 * `optional`; the flags finally used stay in r->setup_flags.
 * Returns 0 or -errno. */
static inline int uring_init(struct uring *r, unsigned entries, unsigned flags,
			     unsigned optional)
{
	static const unsigned newest_first[] = {
		IORING_SETUP_NO_SQARRAY, IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SINGLE_ISSUER, IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_SUBMIT_ALL,
	};
	struct io_uring_params p;
	unsigned i = 0, n = sizeof(newest_first) / sizeof(newest_first[0]);
	int fd;

	*r = (struct uring){ .fd = -1 };
	if (entries > URING_MAX_ENTRIES)
		entries = URING_MAX_ENTRIES;	/* more is EINVAL */
	for (;;) {
		memset(&p, 0, sizeof(p));
		p.flags = flags;
		fd = (int)uring_sys_setup(entries, &p);
		if (fd != -EINVAL)
			break;
		/* Drop the newest optional flag still set and try again.  The
		 * order also drops DEFER_TASKRUN before the SINGLE_ISSUER it
		 * depends on. */
		while (i < n && !(flags & optional & newest_first[i]))
			i++;
		if (i == n)
			break;
		flags &= ~newest_first[i++];
	}
	if (fd < 0)
		return fd;
	r->fd = r->enter_fd = fd;
	r->setup_flags = flags;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP) ||
	    !(p.features & IORING_FEAT_NODROP)) {
		uring_unmap(r);
		return -EOPNOTSUPP;	/* kernels before 5.5 */
	}

	/* One mapping holds both rings (FEAT_SINGLE_MMAP).  Without an SQ
	 * index array the SQ ring ends where the CQ entries end. */
	size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
	size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);

	if (flags & IORING_SETUP_NO_SQARRAY)
		sq_size = 0;
	r->ring_size = sq_size > cq_size ? sq_size : cq_size;
	r->ring_mem = uring_sys_mmap(fd, r->ring_size, IORING_OFF_SQ_RING);
	r->sqe_shift = flags & IORING_SETUP_SQE128 ? 7 : 6;
	r->sqes_size = (size_t)p.sq_entries << r->sqe_shift;
	r->sqes = uring_sys_mmap(fd, r->sqes_size, IORING_OFF_SQES);
	if (!r->ring_mem || !r->sqes) {
		uring_unmap(r);
		return -ENOMEM;
	}

	uint8_t *m = r->ring_mem;

	r->sq_head = (const uint32_t *)(m + p.sq_off.head);
	r->sq_tail = (uint32_t *)(m + p.sq_off.tail);
	r->sq_mask = *(uint32_t *)(m + p.sq_off.ring_mask);
	r->sq_entries = *(uint32_t *)(m + p.sq_off.ring_entries);
	r->sq_local_tail = *r->sq_tail;
	r->cq_head = (uint32_t *)(m + p.cq_off.head);
	r->cq_tail = (const uint32_t *)(m + p.cq_off.tail);
	r->cq_mask = *(uint32_t *)(m + p.cq_off.ring_mask);
	r->cqes = (const struct io_uring_cqe *)(m + p.cq_off.cqes);

	/* With an index array, map SQ slot i to SQE i once and for all. */
	if (!(flags & IORING_SETUP_NO_SQARRAY)) {
		uint32_t *array = (uint32_t *)(m + p.sq_off.array);

		for (uint32_t k = 0; k < r->sq_entries; k++)
			array[k] = k;
	}
	return 0;
}

/* Does the kernel know this opcode?  (IORING_REGISTER_PROBE, 5.6+) */
static inline bool uring_has_op(const struct uring *r, unsigned op)
{
	struct io_uring_probe probe;

	memset(&probe, 0, sizeof(probe));
	if (uring_register(r, IORING_REGISTER_PROBE, &probe, 64) < 0 ||
	    op > probe.last_op || op >= 64)
		return false;
	return probe.ops[op].flags & IO_URING_OP_SUPPORTED;
}

/* Bind a ring created with IORING_SETUP_R_DISABLED to the calling thread
 * (its single issuer) and let it accept submissions. */
static inline int uring_enable(struct uring *r)
{
	return uring_register(r, IORING_REGISTER_ENABLE_RINGS, 0, 0);
}

/* Register the ring fd itself, so io_uring_enter() skips the fd lookup.
 * Optional: on failure the plain fd keeps working. */
static inline void uring_register_ring_fd(struct uring *r)
{
	struct { uint32_t offset, resv; uint64_t data; } upd = {
		.offset = ~0u, .data = (uint64_t)r->fd,
	};

	if (uring_register(r, IORING_REGISTER_RING_FDS, &upd, 1) == 1) {
		r->enter_fd = (int)upd.offset;
		r->enter_flags |= IORING_ENTER_REGISTERED_RING;
	}
}

/* SQ slots free for uring_get_sqe().  The kernel's head, read with
 * acquire, says which SQEs it has finished reading. */
static inline unsigned uring_sq_space(const struct uring *r)
{
	return r->sq_entries - (r->sq_local_tail - load_acquire(r->sq_head));
}

/* Hand out the next free SQE, zeroed, or NULL if the SQ is full.  Callers
 * take SQEs only after uring_reserve() said there is room for them. */
static inline struct io_uring_sqe *uring_get_sqe(struct uring *r)
{
	if (!uring_sq_space(r))
		return 0;
	struct io_uring_sqe *sqe = (struct io_uring_sqe *)
		(r->sqes + ((size_t)(r->sq_local_tail & r->sq_mask) << r->sqe_shift));
	r->sq_local_tail++;
	memset(sqe, 0, (size_t)1 << r->sqe_shift);
	return sqe;
}

/* Publish every SQE handed out so far, submit them, and wait until at
 * least `wait_nr` completions are ready, all in one system call.  Returns
 * the number submitted or -errno (-EINTR when a signal interrupted the
 * wait). */
static inline int uring_submit_and_wait(struct uring *r, unsigned wait_nr)
{
	/* The last SQE must not ask to be linked to one not written yet: the
	 * kernel would run that dangling head on its own (io-wq) and the rest
	 * of the chain, submitted later, unordered with it. */
	if (r->sq_local_tail != load_relaxed(r->sq_tail)) {
		const struct io_uring_sqe *last = (const struct io_uring_sqe *)
			(r->sqes + ((size_t)((r->sq_local_tail - 1) & r->sq_mask) << r->sqe_shift));

		uring_assert(!(last->flags & IOSQE_IO_LINK));
	}
	/* Release: the kernel must see the SQE contents before the tail. */
	store_release(r->sq_tail, r->sq_local_tail);
	uint32_t pending = r->sq_local_tail - load_acquire(r->sq_head);
	unsigned flags = r->enter_flags;

	/* With DEFER_TASKRUN completions are only processed inside this call
	 * with GETEVENTS, so ask for them even when not waiting. */
	if (wait_nr || (r->setup_flags & IORING_SETUP_DEFER_TASKRUN))
		flags |= IORING_ENTER_GETEVENTS;
	if (!pending && !(flags & IORING_ENTER_GETEVENTS))
		return 0;
	return (int)uring_sys_enter(r->enter_fd, pending, wait_nr, flags);
}

/* io_uring_enter failed for now only: a signal came (EINTR), or the
 * kernel was short of memory for requests or had too many completions
 * waiting (EAGAIN, EBUSY).  The next enter will do; anything else means
 * the ring is broken. */
static inline bool uring_enter_failed_for_now(int r)
{
	return r == -EINTR || r == -EAGAIN || r == -EBUSY;
}

/* Make room for a chain of `n` SQEs before taking the first: the SQEs of
 * one chain (IOSQE_IO_LINK) must reach the kernel in one submission, so
 * when the SQ cannot take them all, what is queued is submitted first,
 * never in the middle of a chain.  False if the kernel takes nothing (the
 * ring is broken; the SQ must also hold at least `n`). */
static inline bool uring_reserve(struct uring *r, unsigned n)
{
	uring_assert(n <= r->sq_entries);
	for (int tries = 0; uring_sq_space(r) < n; tries++) {
		int res = uring_submit_and_wait(r, 0);

		if ((res < 0 && !uring_enter_failed_for_now(res)) ||
		    tries == 1000)
			return false;
	}
	return true;
}

/* CQE iteration:
 *	for (head = uring_cq_head(r); (cqe = uring_cq_next(r, &head, tail)); )
 * with tail = uring_cq_tail(r) read once, then uring_cq_release(r, head). */
static inline uint32_t uring_cq_tail(const struct uring *r)
{
	return load_acquire(r->cq_tail);
}

static inline uint32_t uring_cq_head(const struct uring *r)
{
	return *r->cq_head;	/* only we write it */
}

static inline const struct io_uring_cqe *uring_cq_next(const struct uring *r,
						       uint32_t *head,
						       uint32_t tail)
{
	if (*head == tail)
		return 0;
	return &r->cqes[(*head)++ & r->cq_mask];
}

static inline void uring_cq_release(struct uring *r, uint32_t head)
{
	store_release(r->cq_head, head);
}

/* Hand every ready CQE to `fn`, then give their slots back to the kernel.
 * CQEs that arrive meanwhile (fn may submit) wait for the next call. */
static inline void uring_drain(struct uring *r, void *ctx,
			       void (*fn)(void *ctx, const struct io_uring_cqe *cqe))
{
	uint32_t tail = uring_cq_tail(r), head = uring_cq_head(r);
	const struct io_uring_cqe *cqe;

	while ((cqe = uring_cq_next(r, &head, tail)))
		fn(ctx, cqe);
	uring_cq_release(r, head);
}

/* --- provided buffers -----------------------------------------------------
 * A ring of buffer descriptors the kernel takes buffers from (for
 * READ_MULTISHOT with IOSQE_BUFFER_SELECT): we add at the tail, it takes at
 * the head it keeps to itself.  The tail shares a word with entry 0. */
struct uring_buf_ring {
	struct io_uring_buf *bufs;
	unsigned entries;	/* a power of two */
	uint16_t tail;
};

static inline int uring_buf_ring_register(struct uring *r,
					  const struct uring_buf_ring *br,
					  uint16_t group)
{
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)br->bufs,
		.ring_entries = br->entries,
		.bgid = group,
	};

	return uring_register(r, IORING_REGISTER_PBUF_RING, &reg, 1);
}

/* Offer one buffer, with the id its CQE will carry. */
static inline void uring_buf_ring_add(struct uring_buf_ring *br, void *addr,
				      uint32_t len, uint16_t bid)
{
	struct io_uring_buf *b = &br->bufs[br->tail & (br->entries - 1)];

	b->addr = (uint64_t)addr;
	b->len = len;
	b->bid = bid;
	br->tail++;
	/* Release: the entry is complete before the kernel sees the tail. */
	store_release(&br->bufs[0].tail_or_resv, br->tail);
}

#endif
