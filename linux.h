/* SPDX-License-Identifier: MIT */
/* linux.h - Linux ABI values and structures fuseuring uses, defined here
 * because there is no libc to provide them.  Data only: no code.
 *
 * Errno values, file mode bits, open(2) and fallocate(2) flags also travel
 * inside FUSE messages, so the protocol core (fuse_ops.c) uses this header
 * too.  Values are the generic ones shared by x86_64 and arm64, except the
 * few open(2) flags marked below.
 */
#ifndef FUSEURING_LINUX_H
#define FUSEURING_LINUX_H

#include <stdint.h>

/* errno */
enum {
	EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6,
	E2BIG = 7, EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12,
	EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18,
	ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23,
	EMFILE = 24, ENOTTY = 25, EFBIG = 27, ENOSPC = 28, ESPIPE = 29,
	EROFS = 30, EPIPE = 32, ERANGE = 34, ENAMETOOLONG = 36, ENOSYS = 38,
	ELOOP = 40, EPROTO = 71, EOVERFLOW = 75, EBADFD = 77,
	EOPNOTSUPP = 95, ECONNREFUSED = 111, ECONNABORTED = 103, ENOBUFS = 105,
	ENOTCONN = 107, ECANCELED = 125,
};

/* open(2) */
#define O_RDONLY	0
#define O_WRONLY	1
#define O_RDWR		2
#define O_ACCMODE	3
#define O_CREAT		0x40
#define O_EXCL		0x80
#define O_NOCTTY	0x100
#define O_TRUNC		0x200
#define O_APPEND	0x400
#define O_NONBLOCK	0x800
#define O_CLOEXEC	0x80000
#define O_PATH		0x200000
#if defined(__aarch64__)
#define O_DIRECT	0x10000
#define O_DIRECTORY	0x4000
#define O_NOFOLLOW	0x8000
#else
#define O_DIRECT	0x4000
#define O_DIRECTORY	0x10000
#define O_NOFOLLOW	0x20000
#endif
#define F_SETFD		2
#define F_GETFL		3
#define F_SETFL		4
#define AT_FDCWD	(-100)
#define AT_EMPTY_PATH	0x1000
#define AT_STATX_FORCE_SYNC	0x2000
#define AT_STATX_DONT_SYNC	0x4000	/* cached attributes: no FUSE request */

/* File types and permission bits (stat st_mode, fuse_attr.mode) */
#define S_IFMT		0170000
#define S_IFDIR		0040000
#define S_IFCHR		0020000
#define S_IFBLK		0060000
#define S_IFREG		0100000
#define S_IFLNK		0120000
#define DT_DIR		4
#define DT_REG		8

/* fallocate(2) modes and lseek(2) whence values */
#define FALLOC_FL_KEEP_SIZE	0x01
#define FALLOC_FL_PUNCH_HOLE	0x02
#define FALLOC_FL_ZERO_RANGE	0x10
#define SEEK_SET	0
#define SEEK_END	2
#define SEEK_DATA	3
#define SEEK_HOLE	4

/* utimensat(2) special nanosecond values */
#define UTIME_NOW	((1l << 30) - 1l)
#define UTIME_OMIT	((1l << 30) - 2l)

struct kernel_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

struct statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};

struct statx {
	uint32_t stx_mask;
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t spare0;
	uint64_t stx_ino;
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor;
	uint32_t stx_dev_major, stx_dev_minor;
	uint64_t stx_mnt_id;
	uint32_t stx_dio_mem_align;
	uint32_t stx_dio_offset_align;
	uint64_t spare[12];
};
_Static_assert(sizeof(struct statx) == 256, "statx layout");
#define STATX_SIZE		0x200
#define STATX_BASIC_STATS	0x7ff
#define STATX_MNT_ID		0x1000	/* mountinfo's first column */
#define STATX_DIOALIGN		0x2000
#define STATX_ATTR_MOUNT_ROOT	0x2000	/* in stx_attributes */

/* fstatfs(2) on 64-bit Linux (x86_64 and the generic layout agree) */
struct statfs {
	int64_t f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen, f_frsize, f_flags, f_spare[4];
};
_Static_assert(sizeof(struct statfs) == 120, "statfs layout");
#define TMPFS_MAGIC	0x01021994
#define FUSE_SUPER_MAGIC	0x65735546

/* mount(2), umount2(2) */
#define MS_RDONLY	1
#define MS_NOSUID	2
#define MS_NODEV	4
#define MS_NOEXEC	8
#define MS_REMOUNT	32
#define MS_NOATIME	1024
#define MS_NODIRATIME	2048
#define MS_NOSYMFOLLOW	256
#define MS_RELATIME	(1 << 21)
#define MS_STRICTATIME	(1 << 24)
/* statfs f_flags: the MS_* values for most, but these */
#define ST_RELATIME	0x1000
#define ST_NOSYMFOLLOW	0x2000

/* The mount API (include/uapi/linux/mount.h) */
#define FSOPEN_CLOEXEC		1
#define FSCONFIG_SET_FLAG	0
#define FSCONFIG_SET_STRING	1
#define FSCONFIG_CMD_CREATE	6
#define FSMOUNT_CLOEXEC		1
#define MOUNT_ATTR_RDONLY	0x1
#define MOUNT_ATTR_NOSUID	0x2
#define MOUNT_ATTR_NODEV	0x4
#define MOUNT_ATTR_NOEXEC	0x8
#define MOVE_MOUNT_F_EMPTY_PATH	0x4
#define MOVE_MOUNT_T_EMPTY_PATH	0x40
#define MNT_DETACH	2
#define UMOUNT_NOFOLLOW	8

/* mmap(2), madvise(2) */
#define PROT_READ	1
#define PROT_WRITE	2
#define MAP_SHARED	0x01
#define MAP_PRIVATE	0x02
#define MAP_ANONYMOUS	0x20
#define MAP_NORESERVE	0x4000
#define MAP_POPULATE	0x8000
#define MAP_FAILED_MAX	(-4095l)	/* mmap returns -errno above this */
#define MADV_DONTFORK	10

/* Signals, with the kernel's 64-bit sigset */
enum { SIGHUP = 1, SIGINT = 2, SIGKILL = 9, SIGUSR1 = 10, SIGPIPE = 13,
       SIGTERM = 15, SIGCHLD = 17, SIGXFSZ = 25 };
#define SIG_BLOCK	0
#define SFD_CLOEXEC	O_CLOEXEC
struct signalfd_siginfo {
	uint32_t ssi_signo;
	int32_t ssi_errno, ssi_code;
	uint32_t ssi_pid, ssi_uid;
	uint8_t rest[108];
};
_Static_assert(sizeof(struct signalfd_siginfo) == 128, "siginfo layout");

/* clone(2) */
#define CLONE_VM	0x00000100
#define CLONE_FS	0x00000200
#define CLONE_FILES	0x00000400
#define CLONE_VFORK	0x00004000
#define CLONE_SIGHAND	0x00000800
#define CLONE_THREAD	0x00010000
#define CLONE_SYSVSEM	0x00040000

/* poll(2) */
struct pollfd {
	int32_t fd;
	int16_t events, revents;
};
#define POLLIN	1

/* prctl(2), prlimit64(2), capget(2) */
#define PR_SET_PDEATHSIG	1
#define PR_SET_IO_FLUSHER	57
#define RLIMIT_MEMLOCK		8
#define RLIM_INFINITY		(~0ull)
struct rlimit64 {
	uint64_t cur, max;
};
#define CAP_IPC_LOCK		14
#define CAP_SYS_ADMIN		21
#define LINUX_CAPABILITY_VERSION_3	0x20080522

/* ioctl numbers */
#define BLKGETSIZE64		0x80081272u	/* _IOR(0x12, 114, size_t) */

struct iovec {
	void *iov_base;
	uint64_t iov_len;
};

/* Unix sockets: passing a descriptor (sendmsg/recvmsg with SCM_RIGHTS). */
struct msghdr {
	void *msg_name;
	uint32_t msg_namelen;
	struct iovec *msg_iov;
	uint64_t msg_iovlen;
	void *msg_control;
	uint64_t msg_controllen;
	int32_t msg_flags;
};

struct cmsghdr {
	uint64_t cmsg_len;
	int32_t cmsg_level, cmsg_type;
};
#define SOL_SOCKET	1
#define SCM_RIGHTS	1
#define MSG_NOSIGNAL	0x4000
#define MSG_CMSG_CLOEXEC	0x40000000	/* a received fd gets O_CLOEXEC */
#define AF_UNIX		1
#define SOCK_STREAM	1
#define SOCK_DGRAM	2
#define SOCK_CLOEXEC	O_CLOEXEC

struct sockaddr_un {
	uint16_t sun_family;
	char path[108];
};

/* The auxiliary vector after envp: the kernel's page size. */
#define AT_NULL		0
#define AT_PAGESZ	6
#define AT_RANDOM	25
#define AT_SYMLINK_NOFOLLOW	0x100

#endif
