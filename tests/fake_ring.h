/* SPDX-License-Identifier: MIT */
/* fake_ring.h - a fake kernel for `make check`: io_uring, /dev/fuse (both
 * transports) and BACKING, all in memory, behind the three io_uring system
 * calls of uring.h (built with FAKE_RING).
 *
 * It plays the kernel with the rules the data path relies on: linked SQEs
 * run in order and a failed or short head cancels the rest (silently when
 * the head had CQE_SKIP_SUCCESS); a chain left open at the end of a
 * submission runs on its own (io_submit_state_end); completions come in
 * random order; multishot reads take provided buffers.  And as unkindly
 * as the real one: io_uring_enter fails with EAGAIN, EBUSY or EINTR, a
 * URING_CMD completes with EAGAIN or EINTR before doing anything, setup
 * refuses flags an older kernel does not know (EINVAL), linked replies
 * are refused several times in a row, and a DEFER_TASKRUN ring sees its
 * completions only when its thread enters with GETEVENTS.
 *
 * BACKING's system calls (fsync, fdatasync, fallocate, lseek, statx,
 * fstatfs) are answered from the same in-memory BACKING; each is checked
 * against the request that led to it and can fail (EIO, ENOSPC).
 * Meanwhile it checks every reply against a model of the volume.
 *
 * The kernel's limits are the fake's too: no registered buffer over 1 GiB,
 * a buffer ring of a power of two below 65536 entries holding no more
 * buffers than that, SQs of at most 32768 entries, O_DIRECT transfers
 * aligned or EINVAL, a /dev/fuse read buffer of max_write plus headers, an
 * entry's buffers as large as FUSE over io_uring needs, a committed
 * payload_sz within its buffer, and a probe of a kernel that knows more
 * io_uring opcodes than the daemon has room for.
 */
#ifndef FAKE_RING_H
#define FAKE_RING_H

#include <stdbool.h>
#include <stdint.h>

/* The newest io_uring opcode the fake kernel knows (IORING_REGISTER_PROBE
 * says so): more than the daemon's probe has room for. */
#define FAKE_URING_LAST_OP	200

struct fake_config {
	unsigned seed;
	bool uring;		/* FUSE over io_uring, else /dev/fuse reads */
	unsigned kernel_queues;	/* uring: the kernel's queues (possible CPUs) */
	uint64_t online;	/* uring: the online ones among the first 64 (0: all) */
	uint32_t page_size;	/* the daemon's (mincore answers per page) */
	unsigned sq_entries;	/* force this SQ size (0: what is asked) */
	unsigned requests;	/* how many requests the world sends */
	uint64_t volume_size;	/* and the size of BACKING */
	uint32_t max_write;
	bool faults;		/* bad blocks, transfers that come back short,
				 * failing fsync and fallocate, an unkind kernel */
	bool old_kernel;	/* setup knows neither NO_SQARRAY nor DEFER_TASKRUN */
	bool block;		/* BACKING is a block device: statx has no size */
	bool refuse_enable;	/* IORING_REGISTER_ENABLE_RINGS fails (EBUSY) */
	bool refuse_setup;	/* io_uring_setup fails (ENOMEM): see fake_setups */
	uint32_t dio_align;	/* BACKING has an O_DIRECT descriptor with this
				 * alignment (fake_backing_direct_fd), or 0 */
};

struct fake_stats {
	unsigned replies, errors, no_reply;
	unsigned early_submits;	/* submissions made with the SQ full */
	unsigned linked_cancels;	/* chains broken by a short or failed head */
	unsigned short_transfers, failed_transfers;
	unsigned failed_msg_rings;	/* answers of the main thread lost */
	unsigned refused_chains;	/* linked replies refused at submission */
	unsigned max_sq_used;
	unsigned enter_errors;	/* io_uring_enter EAGAIN, EBUSY, EINTR */
	unsigned cmd_retries;	/* URING_CMD completed with EAGAIN or EINTR */
	unsigned setup_refused;	/* setup with a flag the kernel does not know */
	unsigned backing_calls;	/* fsync, fdatasync, fallocate, lseek */
	unsigned backing_failures;	/* of those, failed on purpose */
	unsigned deferred;	/* completions held back until GETEVENTS */
	unsigned direct_transfers;	/* READ_FIXED/WRITE_FIXED with O_DIRECT */
	unsigned cache_replies;	/* READ replies written from BACKING's mapping */
	unsigned cache_replies_to_end;	/* of those, up to the volume's last byte */
	/* What the daemon's counters must say (log_stats). */
	uint64_t delivered[64];	/* requests per opcode (64: others) */
	uint64_t via_dev, via_uring, bytes_read, bytes_written, reply_errors;
};

/* The descriptor to give the daemon as BACKING's: the fake answers its
 * system calls (fake_backing_* in server.h). */
int fake_backing_fd(void);
/* BACKING as a read-only mapping (struct backing's map): the fake's own
 * bytes, which mincore says are in the page cache but for holes, bad
 * blocks and now and then a page evicted. */
const uint8_t *fake_backing_mapping(void);
/* The same with O_DIRECT: reads and writes through it must be aligned to
 * fake_config.dio_align. */
int fake_backing_direct_fd(void);
/* How many rings io_uring_setup was asked for since the world started,
 * and the entries the last one asked for. */
unsigned fake_setups(unsigned *last_entries);
/* A new world; returns the fd to use as the mount's /dev/fuse. */
int fake_world_start(const struct fake_config *cfg, unsigned queue_threads);
/* The block device BACKING now has `size` bytes (losetup -c). */
void fake_block_resize(uint64_t size);
/* A queue thread leaves (after queue_serve returned). */
void fake_thread_exit(void);
/* The ring of the main thread, which waits without being a queue. */
void fake_mark_control(int ring_fd);
/* Wake the main thread's ring with a CQE carrying `user_data`. */
void fake_wake(int ring_fd, uint64_t user_data);
/* Everything answered, BACKING equal to the model: 0; else the number of
 * violations, each printed.  Ends the world. */
int fake_world_finish(struct fake_stats *st);

#endif
