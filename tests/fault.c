/* SPDX-License-Identifier: MIT */
/* fault.c - bad sectors for the test build (make sanitize), never shipped.
 *
 *   FUSEURING_FAULT_EIO=OFFSET:LENGTH
 *	BACKING behaves like a disk with unreadable, unwritable sectors
 *	there: a transfer that starts before the range and reaches into it
 *	moves the bytes before it and comes back short; one that starts
 *	inside fails with EIO.  Both arrive as real io_uring completions.
 *	A fallocate that reaches into the range fails with EIO, and so does
 *	the first fsync or fdatasync after a write into it failed (as a
 *	disk's lost write-back is reported once).
 *   FUSEURING_NO_MULTISHOT=1
 *	take the path of kernels without READ_MULTISHOT (before 6.7).
 *
 * The data path calls fault_hook() on every BACKING read or write it
 * prepares, after the SQE is complete, fault_blocking_call() before
 * the main thread runs an fsync or a fallocate, and fault_cacheable()
 * before it answers a READ from BACKING's page cache.
 */
#include "../server.h"
#include "../options.h"

void fault_setup(struct server *srv, char **envp)
{
	for (; *envp; envp++) {
		const char *v = str_after(*envp, "FUSEURING_FAULT_EIO=");
		char offset[24];
		size_t n = 0;

		if (str_after(*envp, "FUSEURING_NO_MULTISHOT=")) {
			srv->multishot_read = false;
			warn("test build: reading /dev/fuse without READ_MULTISHOT");
		}
		if (!v)
			continue;
		while (v[n] && v[n] != ':' && n < sizeof(offset) - 1)
			offset[n] = v[n], n++;
		offset[n] = 0;
		if (v[n] != ':' || !parse_size(offset, &srv->fault.offset) ||
		    !parse_size(v + n + 1, &srv->fault.length)) {
			char why[256];

			fmt(why, sizeof(why), "FUSEURING_FAULT_EIO=%s: want OFFSET:LENGTH", v);
			usage_error(why);
		}
		warn("test build: BACKING I/O at %lu+%lu fails with EIO",
		     (unsigned long)srv->fault.offset,
		     (unsigned long)srv->fault.length);
	}
}

/* A write into the bad range failed since the last fsync (queues set it,
 * the main thread's fsync takes it). */
static bool write_lost;

static bool reaches_bad_range(const struct server *srv, const struct backing_io *io)
{
	const struct byte_range *bad = &srv->fault;

	return bad->length && io->offset < bad->offset + bad->length &&
	       bad->offset < io->offset + io->length;
}

int fault_blocking_call(const struct server *srv, const struct backing_io *io)
{
	if (io->kind == BACKING_FALLOCATE && reaches_bad_range(srv, io))
		return -EIO;
	if (io->kind == BACKING_FSYNC && __atomic_exchange_n(&write_lost, false, __ATOMIC_RELAXED))
		return -EIO;
	return 0;
}

/* A disk's unreadable sectors are never in the page cache. */
bool fault_cacheable(const struct server *srv, const struct backing_io *io)
{
	return !reaches_bad_range(srv, io);
}

bool fault_hook(const struct server *srv, const struct backing_io *io,
		struct io_uring_sqe *sqe)
{
	const struct byte_range *bad = &srv->fault;

	if (!reaches_bad_range(srv, io))
		return true;
	if (io->offset < bad->offset) {
		/* The bytes before the bad range, and a short result.  A
		 * shortened SQE is complete in io_uring's eyes, so it must not
		 * head a chain: the reply behind it would go out with the
		 * full length.  (Real short transfers in a chain are proven in
		 * make check.) */
		sqe->len = (uint32_t)(bad->offset - io->offset);
		sqe->flags &= (uint8_t)~(IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS);
		return false;
	}
	if (io->kind == BACKING_WRITE)
		__atomic_store_n(&write_lost, true, __ATOMIC_RELAXED);
	/* A NOP that completes with -EIO, with the same flags (a linked
	 * reply behind it is cancelled, as behind a failed read). */
	uint64_t user_data = sqe->user_data;
	uint8_t flags = sqe->flags & ~IOSQE_FIXED_FILE;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_NOP;
	sqe->flags = flags;
	sqe->op_flags = IORING_NOP_INJECT_RESULT;
	sqe->len = (uint32_t)-EIO;
	sqe->user_data = user_data;
	return true;
}
