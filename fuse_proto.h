/* SPDX-License-Identifier: MIT */
/* fuse_proto.h - the FUSE wire protocol, as far as fuseuring speaks it.
 *
 * Defined here rather than taken from <linux/fuse.h> because the installed
 * uapi headers are older than the kernels fuseuring runs on.  Layouts follow
 * the kernel's include/uapi/linux/fuse.h for protocol 7.45 (Linux 6.18);
 * every struct carries a size assertion so a typo cannot go unnoticed.
 * Data only: no code.
 */
#ifndef FUSEURING_FUSE_PROTO_H
#define FUSEURING_FUSE_PROTO_H

#include <stdint.h>

#define FUSE_KERNEL_VERSION		7
#define FUSE_KERNEL_MINOR_VERSION	45
/* Oldest minor whose request and reply structs have today's sizes
 * (fuse_write_in, fuse_entry_out and fuse_attr_out changed in 7.9). */
#define FUSE_OLDEST_MINOR		9
#define FUSE_ROOT_ID			1
#define FUSE_MIN_READ_BUFFER		8192

enum fuse_opcode {
	FUSE_LOOKUP = 1, FUSE_FORGET = 2, FUSE_GETATTR = 3, FUSE_SETATTR = 4,
	FUSE_READLINK = 5, FUSE_SYMLINK = 6, FUSE_MKNOD = 8, FUSE_MKDIR = 9,
	FUSE_UNLINK = 10, FUSE_RMDIR = 11, FUSE_RENAME = 12, FUSE_LINK = 13,
	FUSE_OPEN = 14, FUSE_READ = 15, FUSE_WRITE = 16, FUSE_STATFS = 17,
	FUSE_RELEASE = 18, FUSE_FSYNC = 20, FUSE_SETXATTR = 21,
	FUSE_GETXATTR = 22, FUSE_LISTXATTR = 23, FUSE_REMOVEXATTR = 24,
	FUSE_FLUSH = 25, FUSE_INIT = 26, FUSE_OPENDIR = 27, FUSE_READDIR = 28,
	FUSE_RELEASEDIR = 29, FUSE_FSYNCDIR = 30, FUSE_GETLK = 31,
	FUSE_SETLK = 32, FUSE_SETLKW = 33, FUSE_ACCESS = 34, FUSE_CREATE = 35,
	FUSE_INTERRUPT = 36, FUSE_BMAP = 37, FUSE_DESTROY = 38, FUSE_IOCTL = 39,
	FUSE_POLL = 40, FUSE_NOTIFY_REPLY = 41, FUSE_BATCH_FORGET = 42,
	FUSE_FALLOCATE = 43, FUSE_READDIRPLUS = 44, FUSE_RENAME2 = 45,
	FUSE_LSEEK = 46, FUSE_COPY_FILE_RANGE = 47, FUSE_SETUPMAPPING = 48,
	FUSE_REMOVEMAPPING = 49, FUSE_SYNCFS = 50, FUSE_TMPFILE = 51,
	FUSE_STATX = 52, FUSE_COPY_FILE_RANGE_64 = 53,
	FUSE_OPCODE_COUNT
};

/* INIT flags: one 64-bit set; bits 32-63 travel in flags2 when FUSE_INIT_EXT
 * is set on both sides. */
#define FUSE_ASYNC_READ			(1ull << 0)
#define FUSE_BIG_WRITES			(1ull << 5)
#define FUSE_DO_READDIRPLUS		(1ull << 13)
#define FUSE_ASYNC_DIO			(1ull << 15)
#define FUSE_WRITEBACK_CACHE		(1ull << 16)
#define FUSE_PARALLEL_DIROPS		(1ull << 18)
#define FUSE_ABORT_ERROR		(1ull << 21)	/* abort: reads get ECONNABORTED */
#define FUSE_MAX_PAGES			(1ull << 22)
#define FUSE_INIT_EXT			(1ull << 30)
#define FUSE_PASSTHROUGH		(1ull << 37)
#define FUSE_OVER_IO_URING		(1ull << 41)

/* fuse_open_out.open_flags */
#define FOPEN_DIRECT_IO			(1u << 0)
#define FOPEN_KEEP_CACHE		(1u << 1)
#define FOPEN_CACHE_DIR			(1u << 3)
#define FOPEN_PARALLEL_DIRECT_WRITES	(1u << 6)
#define FOPEN_PASSTHROUGH		(1u << 7)

/* fuse_setattr_in.valid */
#define FATTR_MODE		(1u << 0)
#define FATTR_UID		(1u << 1)
#define FATTR_GID		(1u << 2)
#define FATTR_SIZE		(1u << 3)
#define FATTR_ATIME		(1u << 4)
#define FATTR_MTIME		(1u << 5)
#define FATTR_ATIME_NOW		(1u << 7)
#define FATTR_MTIME_NOW		(1u << 8)

#define FUSE_FSYNC_FDATASYNC	(1u << 0)

/* ioctls on /dev/fuse (generic _IOC encoding: x86_64, arm64) */
#define FUSE_DEV_IOC_CLONE		0x8004e500u	/* _IOR(229, 0, uint32_t) */
#define FUSE_DEV_IOC_BACKING_OPEN	0x4010e501u	/* _IOW(229, 1, fuse_backing_map) */

struct fuse_in_header {
	uint32_t len;		/* whole request, header included */
	uint32_t opcode;
	uint64_t unique;
	uint64_t nodeid;
	uint32_t uid, gid, pid;
	uint16_t total_extlen;	/* extensions at the end, in 8-byte units */
	uint16_t padding;
};

struct fuse_out_header {
	uint32_t len;		/* whole reply, header included */
	int32_t error;		/* 0 or -errno */
	uint64_t unique;
};

struct fuse_init_in {
	uint32_t major, minor, max_readahead, flags;
	uint32_t flags2;	/* since 7.36 */
	uint32_t unused[11];
};
/* The oldest kernels send only major and minor. */
#define FUSE_INIT_IN_OLDEST_SIZE	8

struct fuse_init_out {
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t flags2, max_stack_depth;
	uint16_t request_timeout;
	uint16_t unused[11];
};
/* The kernel refuses a reply longer than its own struct: kernels before
 * 7.23 know only the first 24 bytes. */
#define FUSE_INIT_OUT_SIZE_BEFORE_7_23	24

struct fuse_attr {
	uint64_t ino, size, blocks, atime, mtime, ctime;
	uint32_t atimensec, mtimensec, ctimensec;
	uint32_t mode, nlink, uid, gid, rdev, blksize, flags;
};

struct fuse_entry_out {
	uint64_t nodeid, generation, entry_valid, attr_valid;
	uint32_t entry_valid_nsec, attr_valid_nsec;
	struct fuse_attr attr;
};

struct fuse_forget_in {
	uint64_t nlookup;
};

struct fuse_forget_one {
	uint64_t nodeid, nlookup;
};

struct fuse_batch_forget_in {
	uint32_t count, dummy;
};

struct fuse_getattr_in {
	uint32_t getattr_flags, dummy;
	uint64_t fh;
};

struct fuse_attr_out {
	uint64_t attr_valid;
	uint32_t attr_valid_nsec, dummy;
	struct fuse_attr attr;
};

struct fuse_setattr_in {
	uint32_t valid, padding;
	uint64_t fh, size, lock_owner, atime, mtime, ctime;
	uint32_t atimensec, mtimensec, ctimensec, mode, unused4, uid, gid,
		unused5;
};

struct fuse_open_in {
	uint32_t flags, open_flags;
};

struct fuse_open_out {
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};

struct fuse_release_in {
	uint64_t fh;
	uint32_t flags, release_flags;
	uint64_t lock_owner;
};

struct fuse_flush_in {
	uint64_t fh;
	uint32_t unused, padding;
	uint64_t lock_owner;
};

struct fuse_read_in {
	uint64_t fh, offset;
	uint32_t size, read_flags;
	uint64_t lock_owner;
	uint32_t flags, padding;
};

struct fuse_write_in {
	uint64_t fh, offset;
	uint32_t size, write_flags;
	uint64_t lock_owner;
	uint32_t flags, padding;
};

struct fuse_write_out {
	uint32_t size, padding;
};

struct fuse_kstatfs {
	uint64_t blocks, bfree, bavail, files, ffree;
	uint32_t bsize, namelen, frsize, padding;
	uint32_t spare[6];
};

struct fuse_statfs_out {
	struct fuse_kstatfs st;
};

struct fuse_fsync_in {
	uint64_t fh;
	uint32_t fsync_flags, padding;
};

struct fuse_interrupt_in {
	uint64_t unique;
};

struct fuse_fallocate_in {
	uint64_t fh, offset, length;
	uint32_t mode, padding;
};

struct fuse_lseek_in {
	uint64_t fh, offset;
	uint32_t whence, padding;
};

struct fuse_lseek_out {
	uint64_t offset;
};

/* A directory entry record: the name follows, the record is padded to 8. */
struct fuse_dirent {
	uint64_t ino, off;
	uint32_t namelen, type;
};
#define FUSE_DIRENT_ALIGN(x)	(((x) + 7u) & ~7u)

struct fuse_direntplus {
	struct fuse_entry_out entry_out;
	struct fuse_dirent dirent;
};

struct fuse_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};

/* FUSE over io_uring (7.42+).  Each ring entry registers two buffers: this
 * header area and a payload area of at least max_write bytes. */
struct fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;	/* the request's unique, to commit the reply */
	uint32_t payload_sz;	/* bytes used in the payload buffer, each way */
	uint32_t padding;
	uint64_t reserved;
};

struct fuse_uring_req_header {
	uint8_t in_out[128];	/* fuse_in_header in, fuse_out_header out */
	uint8_t op_in[128];	/* the opcode's own struct (first argument) */
	struct fuse_uring_ent_in_out ring_ent_in_out;
};

enum fuse_uring_cmd {
	FUSE_IO_URING_CMD_REGISTER = 1,
	FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2,
};

/* Lives in the 80-byte command area of a 128-byte SQE. */
struct fuse_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

_Static_assert(sizeof(struct fuse_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct fuse_out_header) == 16, "fuse_out_header");
_Static_assert(sizeof(struct fuse_init_in) == 64, "fuse_init_in");
_Static_assert(sizeof(struct fuse_init_out) == 64, "fuse_init_out");
_Static_assert(sizeof(struct fuse_attr) == 88, "fuse_attr");
_Static_assert(sizeof(struct fuse_entry_out) == 128, "fuse_entry_out");
_Static_assert(sizeof(struct fuse_forget_in) == 8, "fuse_forget_in");
_Static_assert(sizeof(struct fuse_forget_one) == 16, "fuse_forget_one");
_Static_assert(sizeof(struct fuse_batch_forget_in) == 8, "batch_forget_in");
_Static_assert(sizeof(struct fuse_getattr_in) == 16, "fuse_getattr_in");
_Static_assert(sizeof(struct fuse_attr_out) == 104, "fuse_attr_out");
_Static_assert(sizeof(struct fuse_setattr_in) == 88, "fuse_setattr_in");
_Static_assert(sizeof(struct fuse_open_in) == 8, "fuse_open_in");
_Static_assert(sizeof(struct fuse_open_out) == 16, "fuse_open_out");
_Static_assert(sizeof(struct fuse_release_in) == 24, "fuse_release_in");
_Static_assert(sizeof(struct fuse_flush_in) == 24, "fuse_flush_in");
_Static_assert(sizeof(struct fuse_read_in) == 40, "fuse_read_in");
_Static_assert(sizeof(struct fuse_write_in) == 40, "fuse_write_in");
_Static_assert(sizeof(struct fuse_write_out) == 8, "fuse_write_out");
_Static_assert(sizeof(struct fuse_statfs_out) == 80, "fuse_statfs_out");
_Static_assert(sizeof(struct fuse_fsync_in) == 16, "fuse_fsync_in");
_Static_assert(sizeof(struct fuse_interrupt_in) == 8, "fuse_interrupt_in");
_Static_assert(sizeof(struct fuse_fallocate_in) == 32, "fuse_fallocate_in");
_Static_assert(sizeof(struct fuse_lseek_in) == 24, "fuse_lseek_in");
_Static_assert(sizeof(struct fuse_lseek_out) == 8, "fuse_lseek_out");
_Static_assert(sizeof(struct fuse_dirent) == 24, "fuse_dirent");
_Static_assert(sizeof(struct fuse_direntplus) == 152, "fuse_direntplus");
_Static_assert(sizeof(struct fuse_backing_map) == 16, "fuse_backing_map");
_Static_assert(sizeof(struct fuse_uring_ent_in_out) == 32, "ent_in_out");
_Static_assert(sizeof(struct fuse_uring_req_header) == 288, "req_header");
_Static_assert(sizeof(struct fuse_uring_cmd_req) == 24, "cmd_req");

#endif
