/* daemon.c - the lifecycle around the data path: checks BACKING and
 * MOUNTPOINT, mounts (itself or through fusermount3), answers INIT, starts
 * the queues, detaches, logs, talks to systemd, and handles signals.
 * What happens to a request is fuseuring.c's business.
 */
#include "server.h"
#include "options.h"

/* Everything the lifecycle knows beyond the data path's struct server. */
struct daemon {
	struct server srv;
	const struct options *opt;
	const char *mountpoint;	/* absolute */
	const char *pidfile;	/* absolute, or NULL */
	struct file_id { uint32_t dev_major, dev_minor; uint64_t ino; } pidfile_id;
	bool via_fusermount;	/* mounted by fusermount3: unmount with it too */
	bool passthrough;	/* the kernel reads and writes BACKING itself */
	const char *notify_socket;	/* systemd's NOTIFY_SOCKET, or NULL */
};

static struct daemon *daemon_of(struct server *srv)
{
	return (struct daemon *)((char *)srv - offsetof(struct daemon, srv));
}

/* --- diagnostics ---------------------------------------------------------- */

/* Where messages go: stderr until the daemon detaches, then the system log
 * (/dev/log, or the kernel log when no syslog daemon listens).  The one
 * piece of process-wide state, because every part of the program may need
 * to report. */
static struct {
	int fd;
	bool syslog;	/* frame lines as "<priority>fuseuring[pid]: " */
	int pid;
} log_sink = { .fd = 2 };

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6 };

static void log_v(enum log_level level, const char *f, va_list ap)
{
	char line[1024];
	size_t n;

	if (log_sink.syslog)
		n = fmt(line, sizeof(line), "<%d>fuseuring[%d]: ",
			3 << 3 /* daemon */ | level, log_sink.pid);
	else
		n = fmt(line, sizeof(line), "fuseuring: ");
	if (level == LOG_WARNING)
		n += fmt(line + n, sizeof(line) - n, "warning: ");
	n += fmt_v(line + n, sizeof(line) - n - 1, f, ap);
	line[n++] = '\n';
	sys_write(log_sink.fd, line, n);
}

#define DEFINE_LOG(fn, level)						\
	void fn(const char *f, ...)				\
	{								\
		va_list ap;						\
		va_start(ap, f);					\
		log_v(level, f, ap);					\
		va_end(ap);						\
	}
DEFINE_LOG(error, LOG_ERR)
DEFINE_LOG(warn, LOG_WARNING)
DEFINE_LOG(info, LOG_INFO)

/* Report a command-line mistake and exit with status 2. */
_Noreturn void usage_error(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	log_v(LOG_ERR, f, ap);
	va_end(ap);
	sys_write(2, "Try 'fuseuring --help'.\n", 24);
	sys_exit_group(2);
}

/* After detaching there is no terminal: log to syslog, or to the kernel. */
static void log_to_system(void)
{
	struct sockaddr_un addr = { AF_UNIX, "/dev/log" };
	int fd = sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && sys_connect(fd, &addr, sizeof(addr)) < 0) {
		sys_close(fd);
		fd = -1;
	}
	if (fd < 0)
		fd = sys_open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0)
		fd = sys_open("/dev/null", O_WRONLY | O_CLOEXEC, 0);
	log_sink.fd = fd;
	log_sink.syslog = true;
	log_sink.pid = sys_getpid();
}
/* --- BACKING and MOUNTPOINT ----------------------------------------------- */

/* Which file a statx describes. */
static struct file_id file_id(const struct statx *st)
{
	return (struct file_id){ st->stx_dev_major, st->stx_dev_minor, st->stx_ino };
}

static bool same_file(struct file_id a, struct file_id b)
{
	return a.ino == b.ino && a.dev_major == b.dev_major &&
	       a.dev_minor == b.dev_minor;
}


/* Prints the reason and returns false on failure. */
static bool backing_open(const struct options *o, struct backing *b,
			 struct file_id *id)
{
	/* O_NONBLOCK changes nothing for plain read and write on a file, but
	 * tells io_uring it may try BACKING I/O inline before falling back to
	 * a worker thread, also on filesystems that do not announce it. */
	int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK;
	struct statfs fs;
	struct statx st;
	int fd;

	*b = (struct backing){ .fd = -1, .direct_fd = -1 };
	fd = sys_open(o->backing, flags | (o->size ? O_CREAT : 0), 0600);
	if (fd == -ENOENT && !o->size) {
		error("%s: %s (give -o size=N to create it)", o->backing, errno_name(fd));
		return false;
	}
	if (fd < 0) {
		error("%s: %s", o->backing, errno_name(fd));
		return false;
	}
	b->fd = fd;
	int r = sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st);

	if (r < 0) {
		error("%s: %s", o->backing, errno_name(r));
		return false;
	}
	*id = file_id(&st);
	switch (st.stx_mode & S_IFMT) {
	case S_IFREG:
		b->size = st.stx_size;
		if (o->size > b->size) {
			/* Grow sparse; never shrink. */
			r = sys_ftruncate(fd, (int64_t)o->size);
			if (r < 0) {
				error("%s: cannot extend to %lu bytes: %s", o->backing,
				    (unsigned long)o->size, errno_name(r));
				return false;
			}
			b->size = o->size;
		}
		/* On tmpfs the page cache is the file, so O_DIRECT changes
		 * nothing but lets io_uring write without a worker thread
		 * (tmpfs cannot do non-blocking buffered writes). */
		if (sys_fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC)
			sys_add_fd_flags(fd, O_DIRECT);
		break;
	case S_IFBLK:
		if (o->transport == TRANSPORT_PASSTHROUGH) {
			error("%s: -o passthrough needs BACKING to be a regular file "
			      "(the kernel passes through to files only)", o->backing);
			return false;
		}
		b->is_block = true;
		r = (int)sys_ioctl(fd, BLKGETSIZE64, &b->size);
		if (r < 0) {
			error("%s: cannot read the device size: %s", o->backing,
			    errno_name(r));
			return false;
		}
		if (o->size > b->size) {
			error("%s: a block device of %lu bytes cannot grow to size=%lu",
			    o->backing, (unsigned long)b->size,
			    (unsigned long)o->size);
			return false;
		}
		break;
	case S_IFDIR:
		error("%s: %s (BACKING must be a file or a block device)",
		    o->backing, errno_name(EISDIR));
		return false;
	default:
		error("%s: not a regular file or block device", o->backing);
		return false;
	}
	if (b->size == 0) {
		error("%s: is empty (give -o size=N to extend it)", o->backing);
		return false;
	}
	if (o->direct) {
		/* Open by path again and make sure it is the same file. */
		struct statx dst;

		fd = sys_open(o->backing, flags | O_DIRECT, 0);
		if (fd < 0) {
			error("%s: cannot open with O_DIRECT: %s", o->backing,
			    errno_name(fd));
			return false;
		}
		b->direct_fd = fd;
		r = sys_statx(fd, "", AT_EMPTY_PATH,
			      STATX_BASIC_STATS | STATX_DIOALIGN, &dst);
		if (r < 0 || !same_file(file_id(&dst), *id)) {
			error("%s: changed while being opened", o->backing);
			return false;
		}
		b->dio_align = (dst.stx_mask & STATX_DIOALIGN) &&
			       dst.stx_dio_offset_align ? dst.stx_dio_offset_align : 4096;
		if (dst.stx_dio_mem_align > b->dio_align)
			b->dio_align = dst.stx_dio_mem_align;
	}
	return true;
}

/* Make `path` absolute (the daemon changes to / and must still be able to
 * unmount it).  Returns a pointer into `buf`. */
static const char *absolute_path(const char *path, char *buf, size_t cap)
{
	if (path[0] == '/')
		return path;
	long n = sys_getcwd(buf, cap);

	if (n <= 0)
		return path;
	fmt(buf + n - 1, cap - (size_t)n + 1, "/%s", path);
	return buf;
}

/* Does the directory `dir` hold `path`, at any depth?  Walks up from the
 * directory containing `path` by "..", comparing each with `dir`. */
static bool lies_under(const char *path, struct file_id dir)
{
	char parent[4096];
	size_t n = str_len(path);
	struct statx st;
	struct file_id here, up;

	if (n >= sizeof(parent))
		return false;
	while (n && path[n - 1] != '/')
		n--;
	memcpy(parent, n ? path : ".", n ? n : 2);
	parent[n ? n : 1] = 0;
	int fd = sys_open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	bool found = false;

	if (fd < 0)
		return false;
	if (sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st) == 0) {
		here = file_id(&st);
		for (int depth = 0; depth < 4096; depth++) {
			if ((found = same_file(here, dir)))
				break;
			int up_fd = sys_openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);

			if (up_fd < 0)
				break;
			sys_close(fd);
			fd = up_fd;
			if (sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st) < 0)
				break;
			up = file_id(&st);
			if (same_file(up, here))
				break;		/* "/" is its own parent */
			here = up;
		}
	}
	sys_close(fd);
	return found;
}

/* Is MOUNTPOINT usable?  Sets *is_file for a regular-file mountpoint. */
static bool mountpoint_check(const struct options *o, struct file_id backing,
			     bool *is_file)
{
	struct statx st;
	struct statfs fs;
	/* Force a fresh look: a FUSE mount whose server died still answers
	 * from cached attributes for a while. */
	int r = sys_statx(AT_FDCWD, o->mountpoint, AT_STATX_FORCE_SYNC,
			  STATX_BASIC_STATS, &st);

	if (r == -ENOTCONN || r == -ECONNABORTED) {
		error("%s: %s: a FUSE mount whose server died is still there; "
		      "run 'umount %s' first", o->mountpoint, errno_name(r),
		      o->mountpoint);
		return false;
	}
	if (r < 0) {
		error("%s: %s", o->mountpoint, errno_name(r));
		return false;
	}
	if ((st.stx_attributes & STATX_ATTR_MOUNT_ROOT) &&
	    sys_statfs(o->mountpoint, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC) {
		error("%s: is already a FUSE mount; run 'umount %s' first",
		      o->mountpoint, o->mountpoint);
		return false;
	}
	if (same_file(file_id(&st), backing)) {
		error("%s: is BACKING itself; mounting over it would hide it",
		      o->mountpoint);
		return false;
	}
	switch (st.stx_mode & S_IFMT) {
	case S_IFDIR:
		/* The mount would hide BACKING from everyone (and a daemon
		 * reaching it through its own mount would wait on itself). */
		if (lies_under(o->backing, file_id(&st))) {
			error("%s: lies inside MOUNTPOINT %s; the mount would hide it",
			      o->backing, o->mountpoint);
			return false;
		}
		*is_file = false;
		return true;
	case S_IFREG:
		*is_file = true;
		return true;
	default:
		error("%s: not a directory or regular file", o->mountpoint);
		return false;
	}
}

/* Tell systemd (Type=notify, NOTIFY_SOCKET) how we are doing: a datagram
 * to a unix socket; "@" at the start names an abstract one. */
static void notify_systemd(const struct daemon *d, const char *state)
{
	struct sockaddr_un addr = { AF_UNIX, "" };
	size_t n = d->notify_socket ? str_len(d->notify_socket) : 0;

	if (!n || n >= sizeof(addr.path))
		return;
	memcpy(addr.path, d->notify_socket, n);
	if (addr.path[0] == '@')
		addr.path[0] = 0;
	int fd = sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	sys_sendto(fd, state, str_len(state), MSG_NOSIGNAL, &addr,
		   offsetof(struct sockaddr_un, path) + n);
	sys_close(fd);
}

static int fuse_unmount(const struct daemon *d);

/* Leave for good: the pidfile goes with the process, if it is still the
 * one we wrote (not whatever was put at that path since). */
static _Noreturn void server_exit(const struct daemon *d, int status)
{
	struct statx st;

	notify_systemd(d, "STOPPING=1");
	if (d->pidfile &&
	    sys_statx(AT_FDCWD, d->pidfile, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) == 0 &&
	    same_file(file_id(&st), d->pidfile_id))
		sys_unlinkat(AT_FDCWD, d->pidfile, 0);
	sys_exit_group(status);
}

static void worker_main(void *arg)
{
	struct queue *q = arg;
	struct daemon *d = daemon_of(q->srv);
	int status = queue_serve(q);

	if (q->failed) {
		/* Its requests would wait forever: better no volume at all. */
		error("queue %u cannot go on; unmounting %s", q->index, d->mountpoint);
		fuse_unmount(d);
		server_exit(d, 1);
	}
	if (status)
		store_relaxed(&d->srv.exit_status, status);
	/* The last worker out ends the process. */
	if (sub_fetch_acq_rel(&d->srv.workers_left, 1) != 0)
		return;
	if (load_relaxed(&d->srv.aborted)) {
		/* The connection was cut (fusectl abort): the mount answers
		 * ENOTCONN to everyone until it is gone, so take it away. */
		error("the FUSE connection was aborted; detaching %s", d->mountpoint);
		fuse_unmount(d);
	}
	server_exit(d, load_relaxed(&d->srv.exit_status));
}

#ifdef HOSTED
/* Sanitizer builds: threads must be known to the sanitizer runtime. */
typedef unsigned long pthread_t;
int pthread_create(pthread_t *t, const void *attr, void *(*fn)(void *), void *arg);

static void *hosted_worker(void *arg)
{
	worker_main(arg);
	return 0;
}

static int spawn_worker(struct queue *q)
{
	pthread_t t;

	return -pthread_create(&t, 0, hosted_worker, q);
}
#else
static int spawn_worker(struct queue *q)
{
	const size_t stack_size = 64 * 1024;
	uint8_t *stack = map_anonymous(stack_size);

	if (!stack)
		return -ENOMEM;
	long r = thread_spawn(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			      CLONE_THREAD | CLONE_SYSVSEM,
			      stack + stack_size, 0, worker_main, q);
	return r < 0 ? (int)r : 0;
}
#endif
/* --- mounting and INIT ---------------------------------------------------- */

/* Start fusermount3 (from fuse3) with `args`; with commfd >= 0 it gets
 * that socket as _FUSE_COMMFD.  Returns the child's pid or -errno.  The
 * child only execs: it is safe to fork while worker threads run. */
static int spawn_fusermount(const struct daemon *d, char *const args[], int commfd)
{
	char *env[258], commfd_var[32];
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	size_t n = 0;

	for (char **e = d->opt->envp; *e && n < 256; e++) {
		if (str_after(*e, "PATH="))
			path = *e + 5;
		if (!str_after(*e, "_FUSE_COMMFD="))
			env[n++] = *e;
	}
	if (commfd >= 0) {
		fmt(commfd_var, sizeof(commfd_var), "_FUSE_COMMFD=%d", commfd);
		env[n++] = commfd_var;
	}
	env[n] = 0;

	int pid = sys_fork();

	if (pid != 0)
		return pid;
	if (commfd >= 0)
		sys_fcntl(commfd, F_SETFD, 0);	/* keep it across exec */
	while (*path) {
		char file[512];
		size_t len = 0;

		while (path[len] && path[len] != ':')
			len++;
		if (len > sizeof(file) - 16)
			len = sizeof(file) - 16;
		memcpy(file, path, len);
		memcpy(file + len, "/fusermount3", 13);
		sys_execve(file, args, env);
		path += len + (path[len] == ':');
	}
	sys_exit_group(127);
}

static int wait_child(int pid)
{
	int status = 0;

	while (sys_wait4(pid, &status, 0) == -EINTR)
		;
	return (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}

/* Without the right to mount, do what libfuse does: fusermount3, which is
 * setuid root, opens /dev/fuse, mounts it for us and passes the descriptor
 * back over a socketpair as SCM_RIGHTS. */
static int mount_with_fusermount(struct daemon *d)
{
	const struct options *o = d->opt;
	char opts[4096 + 128];
	int sv[2], fd = -1;
	bool plain_name = true;

	for (const char *p = o->backing; *p; p++)
		plain_name &= *p != ',' && *p != '\\';
	fmt(opts, sizeof(opts), "default_permissions,subtype=fuseuring%s%s%s%s%s",
	    o->allow_other ? ",allow_other" : "", o->read_only ? ",ro" : "",
	    o->noexec ? ",noexec" : "", plain_name ? ",fsname=" : "",
	    plain_name ? o->backing : "");
	char *args[] = { "fusermount3", "-o", opts, "--", (char *)d->mountpoint, 0 };
	int r = sys_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);

	if (r < 0)
		return r;
	int pid = spawn_fusermount(d, args, sv[0]);

	sys_close(sv[0]);
	if (pid > 0) {
		/* One byte of data, and the descriptor in the control part. */
		char byte;
		struct iovec iov = { &byte, 1 };
		union { struct cmsghdr h; uint8_t space[sizeof(struct cmsghdr) + 8]; } ctl;
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = &ctl, .msg_controllen = sizeof(ctl),
		};

		if (sys_recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC) > 0 &&
		    msg.msg_controllen >= sizeof(struct cmsghdr) + sizeof(int) &&
		    ctl.h.cmsg_level == SOL_SOCKET && ctl.h.cmsg_type == SCM_RIGHTS)
			memcpy(&fd, ctl.space + sizeof(struct cmsghdr), sizeof(fd));
		r = wait_child(pid);
	}
	sys_close(sv[1]);
	if (pid < 0)
		return pid;
	if (fd < 0) {
		error("mounting on %s: fusermount3 failed (exit %d%s)", d->mountpoint,
		      r, r == 127 ? ": not found; install fuse3, or run as root" : "");
		return -EPERM;
	}
	/* Non-blocking, as io_uring wants it (see queue_setup). */
	sys_add_fd_flags(fd, O_NONBLOCK);
	d->via_fusermount = true;
	return fd;
}

static bool fuse_mount(struct daemon *d, bool root_is_file)
{
	const struct options *o = d->opt;
	char data[256];

	if (!sys_has_capability(CAP_SYS_ADMIN)) {
		int fd = mount_with_fusermount(d);

		d->srv.fuse_fd = fd;
		return fd >= 0;
	}
	int fd = sys_open("/dev/fuse", O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);

	if (fd < 0) {
		error("/dev/fuse: %s%s", errno_name(fd),
		      fd == -ENOENT ? " (is the fuse module loaded?)" : "");
		return false;
	}
	d->srv.fuse_fd = fd;
	/* default_permissions: the kernel checks mode, uid and gid for us. */
	fmt(data, sizeof(data),
	    "fd=%d,rootmode=%o,user_id=%u,group_id=%u,default_permissions%s",
	    fd, root_is_file ? S_IFREG : S_IFDIR, sys_getuid(), sys_getgid(),
	    o->allow_other ? ",allow_other" : "");
	int r = sys_mount(o->backing, d->mountpoint, "fuse.fuseuring",
			  MS_NOSUID | MS_NODEV | (o->read_only ? MS_RDONLY : 0) |
			  (o->noexec ? MS_NOEXEC : 0), data);

	if (r < 0) {
		error("mounting on %s: %s", d->mountpoint, errno_name(r));
		return false;
	}
	return true;
}

/* A second descriptor on the connection of `fuse_fd`, for another queue:
 * it has its own list of requests in progress (FUSE_DEV_IOC_CLONE). */
int fuse_dev_clone(int fuse_fd)
{
	int fd = sys_open("/dev/fuse", O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
	int r = fd < 0 ? fd : (int)sys_ioctl(fd, FUSE_DEV_IOC_CLONE, &fuse_fd);

	if (r < 0 && fd >= 0)
		sys_close(fd);
	return r < 0 ? r : fd;
}

/* Lazy unmount: nothing new can open the volume, handles already open (a
 * loop device) keep working until closed; then the kernel ends the
 * connection. */
static int fuse_unmount(const struct daemon *d)
{
	if (!d->via_fusermount)
		return sys_umount2(d->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW);
	char *args[] = { "fusermount3", "-u", "-z", "--", (char *)d->mountpoint, 0 };
	int pid = spawn_fusermount(d, args, -1);

	return pid < 0 ? pid : wait_child(pid) ? -EPERM : 0;
}

/* Read the INIT request the kernel queued at mount time. */
static int read_init(int fd, uint8_t *buf, size_t cap)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long n = sys_read(fd, buf, cap);

		if (n != -EAGAIN && n != -EINTR)
			return (int)n;
		sys_ppoll(&p, 1);
	}
}

static int write_reply(int fd, uint64_t unique, int error, const void *body,
		       uint32_t len)
{
	uint8_t buf[sizeof(struct fuse_out_header) + sizeof(struct fuse_init_out)];
	struct fuse_out_header h = {
		.len = (uint32_t)sizeof(h) + (error ? 0 : len),
		.error = error,
		.unique = unique,
	};

	memcpy(buf, &h, sizeof(h));
	if (!error)
		memcpy(buf + sizeof(h), body, len);
	long r = sys_write(fd, buf, h.len);

	return r < 0 ? (int)r : 0;
}

/* Refuse INIT so that nothing waits on the mount, and say why. */
__attribute__((format(printf, 3, 4)))
static bool refuse_init(struct daemon *d, uint64_t unique, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	log_v(LOG_ERR, f, ap);
	va_end(ap);
	write_reply(d->srv.fuse_fd, unique, -EPROTO, 0, 0);
	return false;
}

static unsigned count_online_cpus(void);

/* /dev/fuse readers beyond this only wake each other: every clone of the
 * connection waits on the one input queue, and each request wakes every
 * queue's armed read (README, Performance: the queue sweep). */
#define DEV_QUEUES_MAX	4

static void cap_dev_queues(struct daemon *d)
{
	unsigned cpus = count_online_cpus(), cap = cpus < DEV_QUEUES_MAX ? cpus : DEV_QUEUES_MAX;

	if (d->srv.transport != TRANSPORT_DEV || d->srv.nqueues <= cap)
		return;
	if (d->opt->queues)
		info("/dev/fuse: %u queues, not %u: more readers of /dev/fuse only "
		     "wake each other", cap, d->srv.nqueues);
	d->srv.nqueues = cap;
}

/* From this many CPUs on, FUSE over io_uring beats /dev/fuse (measured at
 * 2 and at 16 CPUs: README, Performance). */
#define URING_MIN_CPUS	8

/* Which transport serves, and why: the one asked for, or for auto the
 * fastest this situation allows as bench.sh measured it: passthrough
 * where the kernel lets us, else FUSE over io_uring on many CPUs, else
 * /dev/fuse.  Refuses INIT (and says why) when what was asked for is not
 * there. */
static bool choose_transport(struct daemon *d, uint64_t offered, uint64_t unique)
{
	const struct options *o = d->opt;
	struct server *srv = &d->srv;
	char *why = srv->transport_why;
	size_t cap = sizeof(srv->transport_why);
	bool uring = offered & FUSE_OVER_IO_URING;
	unsigned cpus = count_online_cpus();
	const char *no_passthrough =
		!(offered & FUSE_PASSTHROUGH) ? "the kernel does not offer passthrough" :
		!sys_has_capability(CAP_SYS_ADMIN) ? "passthrough needs CAP_SYS_ADMIN" :
		srv->backing.is_block ? "passthrough needs a regular file" :
		o->direct ? "-o direct" :
		o->debug ? "-o debug shows every request" : 0;

	srv->transport = TRANSPORT_DEV;
	fmt(why, cap, "asked for");
	switch (o->transport) {
	case TRANSPORT_URING:
		if (!uring)
			return refuse_init(d, unique,
				"-o transport=uring: the kernel does not offer FUSE over "
				"io_uring (needs Linux 6.14+ and Y in "
				"/sys/module/fuse/parameters/enable_uring)");
		/* The kernel holds every request until each of its queues,
		 * one per possible CPU, has entries: without that count the
		 * ring never becomes ready. */
		if (!srv->kernel_queues)
			return refuse_init(d, unique,
				"-o transport=uring: cannot count the possible CPUs "
				"(/sys/devices/system/cpu/possible is unreadable), and "
				"the kernel wants one queue for each");
		srv->transport = TRANSPORT_URING;
		break;
	case TRANSPORT_PASSTHROUGH:
		if (!(offered & FUSE_PASSTHROUGH))
			return refuse_init(d, unique,
				"-o passthrough: the kernel does not offer FUSE passthrough "
				"(needs Linux 6.9+ built with CONFIG_FUSE_PASSTHROUGH)");
		d->passthrough = true;
		break;
	case TRANSPORT_AUTO:
		if (!no_passthrough) {
			d->passthrough = true;
			fmt(why, cap, "auto: the kernel moves the data itself, the "
			    "fastest path");
		} else if (uring && srv->kernel_queues && cpus >= URING_MIN_CPUS) {
			srv->transport = TRANSPORT_URING;
			fmt(why, cap, "auto: %u CPUs; %s", cpus, no_passthrough);
		} else {
			fmt(why, cap, "auto: %s; %s", !uring ? "FUSE over io_uring is off" :
			    !srv->kernel_queues ? "possible CPUs unknown" :
			    "fewer than 8 CPUs", no_passthrough);
		}
		break;
	default:
		break;
	}
	cap_dev_queues(d);
	return true;
}

/* The INIT handshake.  Once the reply advertises FUSE_OVER_IO_URING the
 * kernel holds every request until all its queues have ring entries, so
 * the rings are built between reading INIT and answering it. */
static bool fuse_handshake(struct daemon *d)
{
	const struct options *o = d->opt;
	uint8_t buf[FUSE_MIN_READ_BUFFER];
	struct init_wish wish = {
		.max_write = d->srv.vol.max_write,
		.page_size = d->srv.page_size,
		.passthrough = o->transport == TRANSPORT_AUTO ||
			       o->transport == TRANSPORT_PASSTHROUGH,
		.io_uring = o->transport == TRANSPORT_AUTO ||
			    o->transport == TRANSPORT_URING,
	};
	struct fuse_init_out out;
	struct init_result res;
	struct fuse_call c;
	int len, r;

	do {
		len = read_init(d->srv.fuse_fd, buf, sizeof(buf));
		if (len < 0) {
			error("reading INIT from /dev/fuse: %s", errno_name(len));
			return false;
		}
		if (fuse_call_parse_dev(&c, buf, (uint32_t)len, 0, 0) != 0 ||
		    c.in.opcode != FUSE_INIT) {
			error("the kernel's first FUSE message is not a valid INIT");
			return false;
		}
		len = fuse_init_negotiate(buf + sizeof(c.in), c.in.len - sizeof(c.in),
					  &wish, &out, &res);
		if (len < 0)
			return refuse_init(d, c.in.unique,
				"the kernel speaks FUSE 7.%u; fuseuring needs 7.%u or newer",
				res.kernel_minor, FUSE_OLDEST_MINOR);
		if (res.again)
			write_reply(d->srv.fuse_fd, c.in.unique, 0, &out, (uint32_t)len);
	} while (res.again);

	if (!choose_transport(d, res.kernel_flags, c.in.unique))
		return false;
	char why[256];

	r = queues_setup(&d->srv, why, sizeof(why));
	if (r < 0 && r != -EFBIG && d->srv.transport == TRANSPORT_URING &&
	    o->transport == TRANSPORT_AUTO) {
		warn("setting up FUSE over io_uring: %s; using /dev/fuse", why);
		d->srv.transport = TRANSPORT_DEV;
		fmt(d->srv.transport_why, sizeof(d->srv.transport_why),
		    "auto: FUSE over io_uring could not be set up");
		cap_dev_queues(d);
		r = queues_setup(&d->srv, why, sizeof(why));
	}
	if (r < 0)
		return refuse_init(d, c.in.unique, "setting up queues: %s", why);

	/* Answer with what was finally chosen. */
	wish.max_write = d->srv.vol.max_write;
	wish.io_uring = d->srv.transport == TRANSPORT_URING;
	wish.passthrough = d->passthrough;
	len = fuse_init_negotiate(buf + sizeof(c.in), c.in.len - sizeof(c.in),
				  &wish, &out, &res);
	r = write_reply(d->srv.fuse_fd, c.in.unique, 0, &out, (uint32_t)len);
	if (r < 0) {
		error("answering INIT: %s", errno_name(r));
		return false;
	}
	if (!d->passthrough)
		return true;
	/* Hand BACKING to the kernel: OPEN replies name it by this id. */
	struct fuse_backing_map map = { .fd = d->srv.backing.fd };

	r = (int)sys_ioctl(d->srv.fuse_fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	if (r > 0) {
		d->srv.vol.backing_id = r;
		return true;
	}
	if (o->transport == TRANSPORT_AUTO) {
		/* Served through the daemon instead: OPEN replies simply do
		 * not ask for passthrough. */
		fmt(d->srv.transport_why, sizeof(d->srv.transport_why),
		    "auto: the kernel refused passthrough (%s)", errno_name(r ? r : -EIO));
		return true;
	}
	error("-o passthrough: registering BACKING with the kernel: %s%s",
	      errno_name(r ? r : -EIO), r == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	return false;
}

/* A signal; returns whether the daemon is now stopping. */
static bool on_signal(struct daemon *d, const struct signalfd_siginfo *si,
		      bool stopping)
{
	if (si->ssi_signo == SIGUSR1) {
		log_stats(&d->srv);
		return stopping;
	}
	if (stopping) {
		warn("second signal: exiting now; open handles on the volume will fail");
		server_exit(d, 1);
	}
	info("signal %u: unmounting %s; exiting once open handles close",
	     si->ssi_signo, d->mountpoint);
	notify_systemd(d, "STOPPING=1");
	int r = fuse_unmount(d);

	if (r < 0 && r != -EINVAL && r != -ENOENT)
		warn("unmounting %s: %s", d->mountpoint, errno_name(r));
	return true;
}

/* The signalfd is read through the main ring too, so one wait covers
 * signals and the queues' blocking calls. */
static void read_signal(struct daemon *d, int sigfd, struct signalfd_siginfo *si)
{
	if (!uring_reserve(&d->srv.control, 1)) {
		error("main ring: takes no submissions");
		server_exit(d, 1);
	}
	struct io_uring_sqe *sqe = uring_get_sqe(&d->srv.control);

	sqe->opcode = IORING_OP_READ;
	sqe->fd = sigfd;
	sqe->addr = (uint64_t)si;
	sqe->len = sizeof(*si);
	sqe->user_data = ud_make(EV_SIGNAL, 0);
}

struct control {
	struct daemon *d;
	int sigfd;
	struct signalfd_siginfo si;
	bool stopping;
};

static void on_control_completion(void *ctx, const struct io_uring_cqe *cqe)
{
	struct control *ctl = ctx;

	switch (ud_event(cqe->user_data)) {
	case EV_BLOCKING_CALL:
	case EV_BLOCKING_ANSWER:
		serve_blocking_call(&ctl->d->srv, cqe);
		break;
	case EV_SIGNAL:
		if (cqe->res == sizeof(ctl->si))
			ctl->stopping = on_signal(ctl->d, &ctl->si, ctl->stopping);
		else if (cqe->res != -EINTR && cqe->res != -EAGAIN) {
			error("reading signals: %s", errno_name(cqe->res));
			server_exit(ctl->d, 1);
		}
		read_signal(ctl->d, ctl->sigfd, &ctl->si);
		break;
	default:
		break;
	}
}

/* The main thread's loop: signals arrive in order through a signalfd,
 * never in the middle of anything, and queues hand over their blocking
 * BACKING calls.  The process ends when the last worker does. */
static _Noreturn void control_loop(struct daemon *d, int sigfd)
{
	static struct control ctl;

	ctl = (struct control){ .d = d, .sigfd = sigfd };
	read_signal(d, sigfd, &ctl.si);
	for (;;) {
		int r = uring_submit_and_wait(&d->srv.control, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			error("main ring: io_uring_enter: %s", errno_name(r));
			server_exit(d, 1);
		}
		uring_drain(&d->srv.control, &ctl, on_control_completion);
	}
}

static unsigned count_online_cpus(void)
{
	uint64_t mask[16] = { 0 };
	int r = sys_sched_getaffinity(mask, sizeof(mask));
	unsigned n = 0;

	for (int i = 0; i < r / 8; i++)
		for (uint64_t m = mask[i]; m; m &= m - 1)
			n++;
	return n ? n : 1;
}

/* FUSE over io_uring has one queue per possible CPU (num_possible_cpus()):
 * count the list in /sys/devices/system/cpu/possible, e.g. "0-3,6".  0
 * when it cannot be read (no /sys): the CPUs we may run on are no
 * substitute, as a machine can have possible CPUs that are not online. */
static unsigned count_possible_cpus(void)
{
	char buf[256];
	int fd = sys_open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC, 0);
	long n = fd >= 0 ? sys_read(fd, buf, sizeof(buf) - 1) : -1;
	unsigned count = 0, first = 0, value = 0;
	bool range = false;

	if (fd >= 0)
		sys_close(fd);
	if (n <= 0)
		return 0;
	for (long i = 0; i <= n; i++) {
		char ch = i < n ? buf[i] : ',';

		if (ch >= '0' && ch <= '9') {
			value = value * 10 + (unsigned)(ch - '0');
		} else if (ch == '-') {
			first = value, value = 0, range = true;
		} else if (ch == ',' || ch == '\n') {
			count += range ? value - first + 1 : 1;
			value = 0, range = false;
			if (ch == '\n')
				break;
		}
	}
	return count;
}

/* -o transport=uring: say early, before mounting, if the kernel cannot.
 * (INIT has the last word: the kernel offers FUSE_OVER_IO_URING or not.) */
static bool uring_switched_on(void)
{
	static const char param[] = "/sys/module/fuse/parameters/enable_uring";
	char value = 0;
	int fd = sys_open(param, O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0) {
		error("-o transport=uring: this kernel has no FUSE over io_uring "
		      "(%s: %s; needs Linux 6.14+)", param, errno_name(fd));
		return false;
	}
	sys_read(fd, &value, 1);
	sys_close(fd);
	if (value != 'Y') {
		error("-o transport=uring: FUSE over io_uring is switched off "
		      "(as root: echo Y > %s)", param);
		return false;
	}
	return true;
}

/* Write our pid to d->pidfile and remember which file that is, so that
 * only that one is removed at exit.  Non-blocking, and nothing but a
 * regular file: a FIFO planted there must not stop the daemon. */
static bool write_pidfile(struct daemon *d)
{
	char line[16];
	struct statx st;

	/* Opening a FIFO without a reader fails (ENXIO): say what it is. */
	if (sys_statx(AT_FDCWD, d->pidfile, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) == 0 &&
	    (st.stx_mode & S_IFMT) != S_IFREG) {
		error("pidfile %s: not a regular file", d->pidfile);
		return false;
	}
	int fd = sys_open(d->pidfile, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
			  O_NONBLOCK | O_NOCTTY, 0644);
	size_t n = fmt(line, sizeof(line), "%d\n", sys_getpid());
	int r = fd < 0 ? fd : sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st);

	if (r == 0 && (st.stx_mode & S_IFMT) != S_IFREG) {
		error("pidfile %s: not a regular file", d->pidfile);
		sys_close(fd);
		return false;
	}
	if (r == 0)
		r = sys_ftruncate(fd, 0);
	if (r == 0 && sys_write(fd, line, n) != (long)n)
		r = -EIO;
	if (fd >= 0)
		sys_close(fd);
	if (r < 0) {
		error("pidfile %s: %s", d->pidfile, errno_name(r));
		return false;
	}
	d->pidfile_id = file_id(&st);
	return true;
}

/* The parent of a detaching daemon: wait until the child says the volume
 * is served, check that it opens, and hand the shell back. */
static _Noreturn void await_child(int pid, int ready_fd, const char *volume)
{
	char c;
	long n;

	do
		n = sys_read(ready_fd, &c, 1);
	while (n == -EINTR);
	if (n != 1) {
		int status = 0;

		sys_wait4(pid, &status, 0);	/* it has said what went wrong */
		sys_exit_group(1);
	}
	int fd = sys_open(volume, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	struct statx st;

	if (fd >= 0)
		sys_close(fd);
	/* Not ours to open (uid=, mode=)?  That it answers is enough. */
	if (fd >= 0 || (fd == -EACCES &&
			sys_statx(AT_FDCWD, volume, 0, STATX_BASIC_STATS, &st) == 0))
		sys_exit_group(0);
	error("%s: %s; stopping the daemon", volume, errno_name(fd));
	sys_kill(pid, SIGTERM);
	sys_exit_group(1);
}

/* Without -f: fork.  The parent waits in await_child() and never returns;
 * the child returns the pipe on which to say that it serves. */
static int detach(const char *volume)
{
	int pipe_fds[2];
	int pid = sys_pipe2(pipe_fds, O_CLOEXEC);

	if (pid == 0)
		pid = sys_fork();
	if (pid < 0) {
		error("detaching: %s", errno_name(pid));
		sys_exit_group(1);
	}
	if (pid > 0) {
		sys_close(pipe_fds[1]);
		await_child(pid, pipe_fds[0], volume);
	}
	sys_close(pipe_fds[0]);
	sys_setsid();
	return pipe_fds[1];
}

/* The child, once serving: no terminal from here on. */
static void finish_detaching(int ready_fd)
{
	int null = sys_open("/dev/null", O_RDWR | O_CLOEXEC, 0);

	log_to_system();
	for (int fd = 0; fd < 3; fd++)
		sys_dup3(null, fd, 0);
	sys_close(null);
	sys_chdir("/");
	sys_write(ready_fd, "R", 1);
	sys_close(ready_fd);
}

/* Before mounting anything: can this kernel's io_uring do what we need? */
static bool kernel_check(struct daemon *d)
{
	static const struct { uint8_t op; const char *name, *since; } needed[] = {
		{ IORING_OP_READ_FIXED, "READ_FIXED", "5.1" },
		{ IORING_OP_MSG_RING, "MSG_RING", "5.18" },
	};
	struct uring r;
	int err = uring_init(&r, 2, 0, 0);

	if (err < 0) {
		error("io_uring is not available: %s (%s)", errno_name(err),
		      err == -EPERM ? "see /proc/sys/kernel/io_uring_disabled" :
		      "needs a kernel built with io_uring");
		return false;
	}
	for (size_t i = 0; i < COUNT(needed); i++)
		if (!uring_has_op(&r, needed[i].op)) {
			error("this kernel's io_uring has no %s (needs Linux %s or newer)",
			      needed[i].name, needed[i].since);
			uring_unmap(&r);
			return false;
		}
	d->srv.multishot_read = uring_has_op(&r, IORING_OP_READ_MULTISHOT);
	uring_unmap(&r);
	return true;
}

/* Open BACKING, check MOUNTPOINT and describe the volume. */
static bool server_prepare(struct daemon *d, const struct options *opt,
			   bool *root_is_file)
{
	static char mnt_path[4096], pid_path[4096];

	struct file_id backing;

	d->opt = opt;
	if (!kernel_check(d) || !backing_open(opt, &d->srv.backing, &backing) ||
	    !mountpoint_check(opt, backing, root_is_file))
		return false;
	d->mountpoint = absolute_path(opt->mountpoint, mnt_path, sizeof(mnt_path));
	if (opt->pidfile)
		d->pidfile = absolute_path(opt->pidfile, pid_path, sizeof(pid_path));
	for (char **e = opt->envp; *e; e++)
		if (str_after(*e, "NOTIFY_SOCKET="))
			d->notify_socket = *e + 14;
	d->srv.vol = (struct volume){
		.name = opt->name, .name_len = (uint32_t)str_len(opt->name),
		.root_is_file = *root_is_file, .read_only = opt->read_only,
		.resizable = opt->resize, .max_write = (uint32_t)opt->max_write,
		.size = d->srv.backing.size, .mode = opt->mode, .uid = opt->uid,
		.gid = opt->gid,
	};
	d->srv.depth = opt->depth;
	d->srv.debug = opt->debug;
	d->srv.kernel_queues = count_possible_cpus();
	d->srv.nqueues = opt->queues ? opt->queues : count_online_cpus();
#ifdef FAULT_INJECTION
	fault_setup(&d->srv, opt->envp);
#endif
	return true;
}

/* Mount, answer INIT, and start the workers.  Unmounts again on failure. */
static bool server_start(struct daemon *d, bool root_is_file)
{
	const unsigned flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			       IORING_SETUP_SUBMIT_ALL | IORING_SETUP_NO_SQARRAY;
	unsigned entries = 8;
	int r;

	if (!fuse_mount(d, root_is_file))
		return false;
	if (!fuse_handshake(d))
		goto unmount;
	/* The main thread's ring takes every queue's blocking calls at once. */
	for (unsigned i = 0; i < d->srv.nqueues; i++)
		entries += d->srv.queues[i].nslots;
	r = uring_init(&d->srv.control, entries, flags, flags);
	if (r < 0) {
		error("creating the main ring: %s", errno_name(r));
		goto unmount;
	}
	if (d->pidfile && !write_pidfile(d))
		goto unmount;
	d->srv.workers_left = (int)d->srv.nqueues;
	for (unsigned i = 0; i < d->srv.nqueues; i++) {
		r = spawn_worker(&d->srv.queues[i]);
		if (r < 0) {
			error("starting worker %u: %s", i, errno_name(r));
			goto unmount;
		}
	}
	return true;
unmount:
	/* Workers already started end the process once the connection goes:
	 * with this status, not 0. */
	store_relaxed(&d->srv.exit_status, 1);
	fuse_unmount(d);
	return false;
}

int main(int argc, char **argv, char **envp)
{
	static struct options opt;
	static struct daemon d;
	char volume[4400], status[4600];
	bool root_is_file;
	int ready_fd = -1;

	/* Descriptors inherited from the caller are not ours to keep: one
	 * could be the pipe of a $(...) waiting for us to finish. */
	sys_close_from(3);
	opt = (struct options){
		.name = "volume", .uid = sys_getuid(), .gid = sys_getgid(),
		.mode = 0600, .depth = 16, .max_write = 256 << 10, .envp = envp,
	};
	d.srv.page_size = sys_page_size(envp);
	parse_command_line(&opt, argc, argv, d.srv.page_size);
	if (!server_prepare(&d, &opt, &root_is_file))
		return 1;
	if (opt.fake)
		return 0;	/* mount -f: all checked, nothing to mount */
	fmt(volume, sizeof(volume), "%s%s%s", d.mountpoint,
	    root_is_file ? "" : "/", root_is_file ? "" : opt.name);
	if (!opt.foreground)
		ready_fd = detach(volume);

	/* Signals are read from a signalfd by this thread; every thread,
	 * including the workers created later, keeps them blocked. */
	uint64_t sigs = 1ull << (SIGINT - 1) | 1ull << (SIGTERM - 1) |
			1ull << (SIGHUP - 1) | 1ull << (SIGUSR1 - 1);

	sys_sigprocmask_block(sigs | 1ull << (SIGPIPE - 1));
	int sigfd = sys_signalfd(sigs, SFD_CLOEXEC | O_NONBLOCK);

	if (sigfd < 0) {
		error("signalfd: %s", errno_name(sigfd));
		return 1;
	}

	if (opt.transport == TRANSPORT_URING && !uring_switched_on())
		return 1;
	if (sys_prctl(PR_SET_IO_FLUSHER, 1) < 0)
		warn("PR_SET_IO_FLUSHER not permitted (needs CAP_SYS_RESOURCE): "
		     "writeback through the volume can stall under memory pressure");
	if (!server_start(&d, root_is_file))
		return 1;
	if (!opt.foreground)
		finish_detaching(ready_fd);
	fmt(status, sizeof(status), "serving %s at %s: transport %s (%s), %u queues, "
	    "depth %u, max_write %u", opt.backing, volume, transport_name(&d.srv),
	    d.srv.transport_why, d.srv.nqueues, d.srv.depth, d.srv.vol.max_write);
	info("%s", status);
	char ready[4700];

	fmt(ready, sizeof(ready), "READY=1\nMAINPID=%d\nSTATUS=%s", sys_getpid(), status);
	notify_systemd(&d, ready);
	control_loop(&d, sigfd);
}
