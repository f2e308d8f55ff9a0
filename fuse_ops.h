/* SPDX-License-Identifier: MIT */
/* fuse_ops.h - the protocol core: what the volume answers to each FUSE
 * request.
 *
 * The core is pure: it never makes a system call.  A request is parsed into
 * a struct fuse_call; an opcode handler then either writes the reply body
 * or describes one operation on BACKING (struct backing_io) for the caller
 * to perform, and is resumed with its result.  The daemon performs those
 * operations through io_uring; the fuzzer and unit tests fake them.
 *
 * Memory: the reply body is written where the request was read, so a
 * handler reads every argument before it writes the reply.  The fixed part
 * of a request is copied into the call for that reason; the variable part
 * (a name, WRITE data) is used in place.
 */
#ifndef FUSEURING_FUSE_OPS_H
#define FUSEURING_FUSE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "fuse_proto.h"
#include "linux.h"

/* Node ids: the mount's root, and the volume file inside it.  When the
 * mountpoint is a file the root *is* the volume and there is no node 2. */
#define VOLUME_NODE_ID		2

/* Everything the core knows about the volume.  The first group is fixed
 * once serving starts; the second can change (chmod, chown, resize) and is
 * read and written with relaxed atomics because every queue reads it. */
struct volume {
	const char *name;	/* file name inside the mount directory */
	uint32_t name_len;
	bool root_is_file;	/* mounted over a file, not a directory */
	bool read_only;
	bool resizable;		/* -o resize: truncate changes BACKING */
	int32_t backing_id;	/* passthrough: the kernel's id for BACKING, or 0 */
	uint32_t max_write;	/* largest READ or WRITE payload */

	/* BACKING's size as last seen: it follows BACKING, which can change
	 * under the daemon (passthrough writes past the end; someone else
	 * truncating BACKING).  Answers that depend on it read it afresh. */
	uint64_t size;
	uint32_t mode;		/* permission bits of the volume file */
	uint32_t uid, gid;
	/* Called when a size change is refused for want of -o resize (the
	 * daemon says so in its log), or NULL. */
	void (*refused_resize)(void);
	/* Called when BACKING turned out to have changed size without this
	 * daemon (not passthrough, where the kernel's writes grow it), or
	 * NULL. */
	void (*resized_elsewhere)(uint64_t from, uint64_t to);
};

/* Operations the core asks the daemon to perform on BACKING. */
enum backing_kind {
	BACKING_READ,		/* into buf: length bytes at offset */
	BACKING_WRITE,		/* from buf */
	BACKING_FSYNC,		/* flags: IORING_FSYNC_DATASYNC-style 1 = data only */
	BACKING_FALLOCATE,	/* flags: fallocate(2) mode */
	BACKING_LSEEK,		/* flags: SEEK_DATA or SEEK_HOLE; result: offset */
	BACKING_GETATTR,	/* result: fills fuse_call.got.attr */
	BACKING_SIZE,		/* as GETATTR, asked first by an op whose
				 * answer depends on the volume's size */
	BACKING_STATFS,		/* result: fills fuse_call.got.fs */
	BACKING_SET_TIMES,	/* times[0] atime, times[1] mtime (UTIME_*) */
	BACKING_RESIZE,		/* length: the new size */
};

struct backing_io {
	enum backing_kind kind;
	uint8_t *buf;
	uint64_t offset;
	uint64_t length;
	uint32_t flags;
	struct kernel_timespec times[2];
};

/* What BACKING_GETATTR and BACKING_STATFS report. */
struct backing_attr {
	uint64_t size;		/* BACKING's size now */
	uint64_t blocks;	/* 512-byte blocks allocated */
	uint32_t blksize;
	struct statx_timestamp atime, mtime, ctime;
};

struct backing_fs {
	uint64_t blocks, bfree, bavail;
	uint32_t bsize, frsize;
};

/* The opcode's fixed argument, copied out of the request. */
union fuse_args {
	struct fuse_getattr_in getattr;
	struct fuse_setattr_in setattr;
	struct fuse_open_in open;
	struct fuse_read_in read;
	struct fuse_write_in write;
	struct fuse_fsync_in fsync;
	struct fuse_fallocate_in fallocate;
	struct fuse_lseek_in lseek;
	struct fuse_batch_forget_in batch_forget;
	uint8_t raw[128];	/* as large as a FUSE-over-io_uring op_in area */
};

struct fuse_op;

/* One request, from parsing to reply. */
struct fuse_call {
	struct fuse_in_header in;
	union fuse_args arg;
	uint8_t *data;		/* the variable part, in place */
	uint32_t data_len;
	uint8_t *reply;		/* where the reply body goes: page aligned */
	uint32_t reply_cap;	/* >= volume.max_write */
	const struct fuse_op *op;
	struct backing_io io;	/* set by a handler that returns CALL_BACKING */
	uint64_t io_done;	/* READ/WRITE bytes transferred so far */
	union {
		struct backing_attr attr;
		struct backing_fs fs;
	} got;
};

/* Results of fuse_call_start() and fuse_call_resume():
 *   >= 0           reply with that many bytes of body at call->reply;
 *   -4095 .. -1    reply with that error;
 *   CALL_NO_REPLY  the request takes no reply (FORGET, INTERRUPT);
 *   CALL_BACKING   perform call->io, then call fuse_call_resume(). */
#define CALL_NO_REPLY	(-100000)
#define CALL_BACKING	(-100001)

/* Parsing fails with -EINVAL (reply EINVAL to in.unique) or with
 * CALL_NO_REPLY when the header itself is unusable and nothing can be
 * answered. */

/* A request as read from /dev/fuse: header, argument and data back to back,
 * `len` bytes at `msg`. */
int fuse_call_parse_dev(struct fuse_call *c, uint8_t *msg, uint32_t len,
			uint8_t *reply, uint32_t reply_cap);

/* A request delivered in a FUSE-over-io_uring entry: header and argument
 * in the header area, the rest (payload_sz bytes) in the payload buffer,
 * which is also where the reply body goes. */
int fuse_call_parse_uring(struct fuse_call *c,
			 const struct fuse_uring_req_header *h,
			 uint8_t *payload, uint32_t payload_cap);

int fuse_call_start(struct volume *v, struct fuse_call *c);
int fuse_call_resume(struct volume *v, struct fuse_call *c, int64_t res);

/* The header of the reply for result `r` (r >= 0 or -errno). */
struct fuse_out_header fuse_reply_header(const struct fuse_call *c, int r);

/* The reply length the call will have if its pending BACKING transfer
 * completes in full, or -1 when that is not known in advance.  Known for
 * READ, whose reply body is the data itself. */
int fuse_call_reply_if_complete(const struct fuse_call *c);

/* The opcode's name for logs ("READ"), or NULL if fuseuring does not know
 * it. */
const char *fuse_opcode_name(uint32_t opcode);

/* --- INIT ---------------------------------------------------------------- */

struct init_wish {
	uint32_t max_write;		/* a multiple of page_size */
	uint32_t page_size;		/* the kernel's (AT_PAGESZ) */
	uint32_t max_background;	/* requests the queues can be given at once */
	bool passthrough;
	bool io_uring;
};

struct init_result {
	uint32_t kernel_minor;
	uint32_t minor;			/* what both sides now speak */
	uint64_t kernel_flags;		/* what the kernel offered */
	uint64_t flags;			/* what we accepted */
	bool again;			/* major > 7: the kernel sends INIT again */
};

/* Answer FUSE_INIT.  `body` is the request after fuse_in_header, `len`
 * bytes.  Fills `out` and returns the reply length the kernel expects, or
 * -errno to refuse. */
int fuse_init_negotiate(const uint8_t *body, uint32_t len,
			const struct init_wish *wish, struct fuse_init_out *out,
			struct init_result *result);

#endif
