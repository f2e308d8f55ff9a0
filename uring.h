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
	IORING_OP_NOP = 0, IORING_OP_FSYNC = 3, IORING_OP_READ_FIXED = 4,
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

/* --- the ring ------------------------------------------------------------ */

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
	return sc4(SYS_io_uring_register, r->fd, op, arg, nr);
}

static inline void uring_unmap(struct uring *r)
{
	if (r->sqes)
		sys_munmap(r->sqes, r->sqes_size);
	if (r->ring_mem)
		sys_munmap(r->ring_mem, r->ring_size);
	if (r->fd >= 0)
		sys_close(r->fd);
	*r = (struct uring){ .fd = -1 };
}

static inline void *uring_mmap(int fd, size_t len, uint64_t off)
{
	long p = sys_mmap(0, len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, fd, (long)off);

	return p < 0 && p >= MAP_FAILED_MAX ? 0 : (void *)p;
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
	for (;;) {
		memset(&p, 0, sizeof(p));
		p.flags = flags;
		fd = sc2(SYS_io_uring_setup, entries, &p);
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
	r->ring_mem = uring_mmap(fd, r->ring_size, IORING_OFF_SQ_RING);
	r->sqe_shift = flags & IORING_SETUP_SQE128 ? 7 : 6;
	r->sqes_size = (size_t)p.sq_entries << r->sqe_shift;
	r->sqes = uring_mmap(fd, r->sqes_size, IORING_OFF_SQES);
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

/* Hand out the next free SQE, zeroed, or NULL if the SQ is full. */
static inline struct io_uring_sqe *uring_get_sqe(struct uring *r)
{
	uint32_t head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);

	if (r->sq_local_tail - head >= r->sq_entries)
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
	__atomic_store_n(r->sq_tail, r->sq_local_tail, __ATOMIC_RELEASE);
	uint32_t pending = r->sq_local_tail -
			   __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	unsigned flags = r->enter_flags;

	/* With DEFER_TASKRUN completions are only processed inside this call
	 * with GETEVENTS, so ask for them even when not waiting. */
	if (wait_nr || (r->setup_flags & IORING_SETUP_DEFER_TASKRUN))
		flags |= IORING_ENTER_GETEVENTS;
	if (!pending && !(flags & IORING_ENTER_GETEVENTS))
		return 0;
	return sc6(SYS_io_uring_enter, r->enter_fd, pending, wait_nr, flags, 0, 0);
}

/* CQE iteration:
 *	for (head = uring_cq_head(r); (cqe = uring_cq_next(r, &head, tail)); )
 * with tail = uring_cq_tail(r) read once, then uring_cq_release(r, head). */
static inline uint32_t uring_cq_tail(const struct uring *r)
{
	return __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
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
	__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
}

#endif
