/* SPDX-License-Identifier: MIT */
/* sys.h - the system call layer and the little of libc fuseuring needs.
 *
 * Every wrapper returns what the kernel returns: a value >= 0, or -errno.
 * There is no errno variable and no retry logic hidden here.
 * Every file may include it: the entry points of arch.h (_start,
 * thread_spawn) are emitted only in sys.c, which defines SYS_RUNTIME.
 */
#ifndef FUSEURING_SYS_H
#define FUSEURING_SYS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "linux.h"

#define sc0(n)			syscall6(n, 0, 0, 0, 0, 0, 0)
#define sc1(n, a)		syscall6(n, (long)(a), 0, 0, 0, 0, 0)
#define sc2(n, a, b)		syscall6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sc3(n, a, b, c)		syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sc4(n, a, b, c, d) \
	syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sc5(n, a, b, c, d, e) \
	syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define sc6(n, a, b, c, d, e, f) \
	syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), \
		 (long)(f))

static inline long sys_read(int fd, void *buf, size_t n) { return sc3(SYS_read, fd, buf, n); }
static inline long sys_write(int fd, const void *buf, size_t n) { return sc3(SYS_write, fd, buf, n); }
static inline int sys_close(int fd) { return sc1(SYS_close, fd); }
static inline int sys_close_from(int fd) { return sc3(SYS_close_range, fd, ~0u, 0); }
static inline int sys_openat(int dirfd, const char *path, int flags, int mode)
{
	return sc4(SYS_openat, dirfd, path, flags, mode);
}
static inline int sys_open(const char *path, int flags, int mode)
{
	return sys_openat(AT_FDCWD, path, flags, mode);
}
static inline int sys_dup3(int from, int to, int flags) { return sc3(SYS_dup3, from, to, flags); }
static inline int sys_pipe2(int fds[2], int flags) { return sc2(SYS_pipe2, fds, flags); }
static inline int sys_fcntl(int fd, int cmd, long arg) { return sc3(SYS_fcntl, fd, cmd, arg); }
/* Add status flags (O_NONBLOCK, O_DIRECT...) to an open descriptor. */
static inline int sys_add_fd_flags(int fd, int flags)
{
	int old = sys_fcntl(fd, F_GETFL, 0);

	return old < 0 ? old : sys_fcntl(fd, F_SETFL, old | flags);
}
static inline long sys_ioctl(int fd, unsigned long req, void *arg) { return sc3(SYS_ioctl, fd, req, arg); }
static inline long sys_lseek(int fd, int64_t off, int whence) { return sc3(SYS_lseek, fd, off, whence); }
static inline int sys_ftruncate(int fd, int64_t len) { return sc2(SYS_ftruncate, fd, len); }
static inline int sys_statx(int dirfd, const char *path, int flags, unsigned mask,
			    struct statx *st)
{
	return sc5(SYS_statx, dirfd, path, flags, mask, st);
}
static inline int sys_fstatfs(int fd, struct statfs *st) { return sc2(SYS_fstatfs, fd, st); }
static inline int sys_statfs(const char *path, struct statfs *st) { return sc2(SYS_statfs, path, st); }
static inline int sys_fsync(int fd) { return sc1(SYS_fsync, fd); }
static inline int sys_fdatasync(int fd) { return sc1(SYS_fdatasync, fd); }
static inline int sys_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	return sc4(SYS_fallocate, fd, mode, off, len);
}
static inline int sys_futimens(int fd, const struct kernel_timespec times[2])
{
	return sc4(SYS_utimensat, fd, 0, times, 0);
}
static inline long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	return sc6(SYS_mmap, addr, len, prot, flags, fd, off);
}
static inline int sys_munmap(void *addr, size_t len) { return sc2(SYS_munmap, addr, len); }
/* A byte per page of [addr, addr+len): bit 0 set where the page is in
 * memory (a file mapping's: in the page cache). */
static inline int sys_mincore(const void *addr, size_t len, uint8_t *vec)
{
	return sc3(SYS_mincore, addr, len, vec);
}
static inline int sys_mount(const char *src, const char *dst, const char *type,
			    unsigned long flags, const char *data)
{
	return sc5(SYS_mount, src, dst, type, flags, data);
}
static inline int sys_fsopen(const char *type, unsigned flags)
{
	return sc2(SYS_fsopen, type, flags);
}
static inline int sys_fsconfig(int fd, unsigned cmd, const char *key,
			       const char *value)
{
	return sc5(SYS_fsconfig, fd, cmd, key, value, 0);
}
static inline int sys_fsmount(int fd, unsigned flags, unsigned attrs)
{
	return sc3(SYS_fsmount, fd, flags, attrs);
}
static inline int sys_move_mount(int from_fd, const char *from, int to_fd,
				 const char *to, unsigned flags)
{
	return sc5(SYS_move_mount, from_fd, from, to_fd, to, flags);
}
static inline long sys_readlink(const char *path, char *buf, size_t n)
{
	return sc4(SYS_readlinkat, AT_FDCWD, path, buf, n);
}
static inline int sys_umount2(const char *path, int flags) { return sc2(SYS_umount2, path, flags); }
static inline long sys_getcwd(char *buf, size_t n) { return sc2(SYS_getcwd, buf, n); }
static inline int sys_chdir(const char *path) { return sc1(SYS_chdir, path); }
static inline int sys_setsid(void) { return sc0(SYS_setsid); }
static inline int sys_getpid(void) { return sc0(SYS_getpid); }
static inline uint32_t sys_getuid(void) { return sc0(SYS_getuid); }
static inline uint32_t sys_getgid(void) { return sc0(SYS_getgid); }
static inline int sys_fork(void) { return sc5(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
static inline int sys_wait4(int pid, int *status, int options)
{
	return sc4(SYS_wait4, pid, status, options, 0);
}
static inline int sys_execve(const char *path, char *const argv[], char *const envp[])
{
	return sc3(SYS_execve, path, argv, envp);
}
static inline long sys_getdents64(int fd, void *buf, size_t n)
{
	return sc3(SYS_getdents64, fd, buf, n);
}
static inline int sys_rename(const char *from, const char *to)
{
	return sc5(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0);
}
static inline int sys_unlinkat(int dirfd, const char *path, int flags)
{
	return sc3(SYS_unlinkat, dirfd, path, flags);
}
static inline int sys_socket(int domain, int type, int protocol)
{
	return sc3(SYS_socket, domain, type, protocol);
}
static inline int sys_socketpair(int domain, int type, int protocol, int sv[2])
{
	return sc4(SYS_socketpair, domain, type, protocol, sv);
}
static inline int sys_connect(int fd, const struct sockaddr_un *addr, uint32_t len)
{
	return sc3(SYS_connect, fd, addr, len);
}
static inline long sys_sendto(int fd, const void *buf, size_t n, int flags,
			      const struct sockaddr_un *addr, uint32_t len)
{
	return sc6(SYS_sendto, fd, buf, n, flags, addr, len);
}
static inline long sys_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return sc3(SYS_recvmsg, fd, msg, flags);
}
static inline int sys_kill(int pid, int sig) { return sc2(SYS_kill, pid, sig); }
static inline int sys_prctl(int op, unsigned long a) { return sc5(SYS_prctl, op, a, 0, 0, 0); }
static inline int sys_getrlimit(int res, struct rlimit64 *rl) { return sc4(SYS_prlimit64, 0, res, 0, rl); }
static inline int sys_sigprocmask_block(uint64_t set)
{
	return sc4(SYS_rt_sigprocmask, SIG_BLOCK, &set, 0, sizeof(set));
}
/* The signals sent to us that wait, blocked. */
static inline uint64_t sys_sigpending(void)
{
	uint64_t set = 0;

	sc2(SYS_rt_sigpending, &set, sizeof(set));
	return set;
}
/* Back to the default action for `sig` (the kernel's struct sigaction:
 * handler SIG_DFL, no flags, no restorer, an empty mask). */
static inline int sys_signal_default(int sig)
{
	uint64_t action[4] = { 0 };

	return sc4(SYS_rt_sigaction, sig, action, 0, sizeof(uint64_t));
}
static inline int sys_signalfd(uint64_t set, int flags)
{
	return sc4(SYS_signalfd4, -1, &set, sizeof(set), flags);
}
/* Sleep while *word == value (or until woken); wake every sleeper. */
static inline int sys_futex_wait(int *word, int value)
{
	return sc4(SYS_futex, word, 0 /* FUTEX_WAIT */ | 128 /* PRIVATE */, value, 0);
}
static inline int sys_futex_wake_all(int *word)
{
	return sc3(SYS_futex, word, 1 /* FUTEX_WAKE */ | 128 /* PRIVATE */, 0x7fffffff);
}
static inline int sys_sigprocmask_unblock_all(void)
{
	uint64_t none = 0;

	return sc4(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, &none, 0, sizeof(none));
}
static inline int sys_ppoll(struct pollfd *fds, unsigned n) { return sc5(SYS_ppoll, fds, n, 0, 0, 0); }
static inline int sys_sched_getaffinity(uint64_t *mask, size_t len)
{
	return sc3(SYS_sched_getaffinity, 0, len, mask);
}
static inline int sys_sched_setaffinity(const uint64_t *mask, size_t len)
{
	return sc3(SYS_sched_setaffinity, 0, len, mask);
}
/* Leave at once: for a forked child whose exec failed (no exit handlers
 * of the parent's libc in test builds either). */
static inline _Noreturn void sys_exit_now(int status)
{
	for (;;)
		sc1(SYS_exit_group, status);
}

#ifdef HOSTED
/* Test builds leave through libc, so that LeakSanitizer looks for leaks
 * (a raw exit_group would skip it). */
_Noreturn void exit(int status);

static inline _Noreturn void sys_exit_group(int status)
{
	exit(status);
}
#else
static inline _Noreturn void sys_exit_group(int status)
{
	sys_exit_now(status);
}
#endif

/* True when the effective capability set holds `cap`. */
static inline bool sys_has_capability(int cap)
{
	struct { uint32_t version; int pid; } hdr = { LINUX_CAPABILITY_VERSION_3, 0 };
	struct { uint32_t effective, permitted, inheritable; } data[2];

	if (sc2(SYS_capget, &hdr, data) < 0)
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* What the kernel says in the auxiliary vector that follows envp on the
 * initial stack, for `type`; 0 if it says nothing. */
static inline uint64_t sys_auxv(char **envp, uint64_t type)
{
	while (*envp)
		envp++;
	for (const uint64_t *aux = (const uint64_t *)(envp + 1); aux[0] != AT_NULL; aux += 2)
		if (aux[0] == type)
			return aux[1];
	return 0;
}

/* The kernel's page size (AT_PAGESZ): 4K, 16K or 64K on arm64. */
static inline uint32_t sys_page_size(char **envp)
{
	uint64_t page = sys_auxv(envp, AT_PAGESZ);

	return page ? (uint32_t)page : 4096;
}

/* 32 random bits the kernel gave the process at exec (AT_RANDOM points
 * to 16 random bytes); 0 if it gave none. */
static inline uint32_t sys_exec_random(char **envp)
{
	const uint8_t *bytes = (const uint8_t *)sys_auxv(envp, AT_RANDOM);
	uint32_t r = 0;

	for (int i = 0; bytes && i < 4; i++)
		r = r << 8 | bytes[i];
	return r;
}

/* Zeroed, page-aligned memory that lives until unmap_anonymous(), and is
 * not copied into a child (fusermount3 only execs). */
void *map_anonymous(size_t len);
void unmap_anonymous(void *p, size_t len);

/* Wrappers around thread_spawn() from arch.h. */
long thread_spawn(unsigned long flags, void *stack_top, int *child_tid,
		  void (*fn)(void *), void *arg);

/* --- strings and memory -------------------------------------------------- */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

static inline size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static inline bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* If `s` starts with `prefix`, return what follows it, else NULL. */
static inline const char *str_after(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return NULL;
	return s;
}

const char *errno_name(int err);

/* The number in base `base` (8, 10 or 16 at most) at the start of `s`:
 * stores it and returns where its digits end; NULL if `s` does not start
 * with a digit or the number does not fit 64 bits. */
const char *parse_uint(const char *s, unsigned base, uint64_t *out);

/* Where `needle` first occurs in `hay`, or NULL. */
const char *find_str(const char *hay, const char *needle);

/* --- small files of /proc and /sys ----------------------------------------- */

/* Read a small file whole, NUL-terminated; its length or -errno. */
long read_small(const char *path, char *buf, size_t cap);

/* Call fn for each name in a directory (not those starting with '.') until
 * it returns true; returns whether one did. */
bool each_entry(const char *dir, bool (*fn)(void *ctx, const char *name),
		void *ctx);

/* Call fn for each line of a file, without its newline, until it returns
 * true; lines longer than EACH_LINE_MAX are skipped.  Any thread may call
 * it.  False if the file could not be read (through). */
bool each_line(const char *path, bool (*fn)(void *ctx, char *line), void *ctx);
/* The longest line: a mountinfo line of a fuseuring mount holds two paths
 * of up to 4095 bytes, each up to 4 times longer escaped ("\134" for a
 * backslash), and a few hundred bytes more. */
#define EACH_LINE_MAX	(64 * 1024)

/* --- formatted output ---------------------------------------------------- */

/* A minimal vsnprintf: %s %c %d %u %ld %lu %lld %llu %x %lx %llx %o %%,
 * with an optional width, '-' to align left and '0' to pad with zeros.  Always
 * NUL-terminates; returns the length written. */
size_t fmt_v(char *buf, size_t cap, const char *f, va_list ap);
size_t fmt(char *buf, size_t cap, const char *f, ...)
	__attribute__((format(printf, 3, 4)));

#endif
