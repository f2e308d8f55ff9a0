/* daemon.c - the lifecycle around the data path: checks BACKING and
 * MOUNTPOINT, mounts (itself or through fusermount3), answers INIT, starts
 * the queues, detaches, logs, talks to systemd, and handles signals.
 * What happens to a request is fuseuring.c's business.
 */
#include "server.h"
#include "options.h"

/* The lifecycle runs once per start, or on errors: small beats fast here
 * (the data path is fuseuring.c), and the binary stays small. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("Os")
#endif

/* Everything the lifecycle knows beyond the data path's struct server. */
struct daemon {
	struct server srv;
	const struct options *opt;
	const char *backing;	/* absolute: the mount's source */
	const char *mountpoint;	/* absolute */
	const char *pidfile;	/* absolute, or NULL */
	struct file_id { uint32_t dev_major, dev_minor; uint64_t ino; } pidfile_id;
	struct file_id backing_id;
	bool backing_created;	/* this start created BACKING (-o size=) */
	bool backing_grown;	/* this start grew it from backing_old_size */
	uint64_t backing_old_size;
	bool via_fusermount;	/* mounted by fusermount3: unmount with it too */
	unsigned long mount_id;	/* ours, in /proc/self/mountinfo */
	bool unmounted;		/* fuse_unmount: at most once */
	bool passthrough;	/* the kernel reads and writes BACKING itself */
	const char *notify_socket;	/* systemd's NOTIFY_SOCKET, or NULL */
	int log_fd;		/* -o log=FILE, or -1 */
	char dead_loops[200];	/* loop devices on a dead mount -o recover took away */
	unsigned kernel_minor;	/* the FUSE protocol minor the kernel speaks */
};

static struct daemon *daemon_of(struct server *srv)
{
	return (struct daemon *)((char *)srv - offsetof(struct daemon, srv));
}

/* --- diagnostics ---------------------------------------------------------- */

/* Where messages go: stderr until the daemon detaches (always, with -f or
 * -o debug), then the file of -o log=FILE, else the system log (/dev/log,
 * or the kernel log when no syslog daemon listens; see open_detached_log).
 * The one piece of process-wide state, because every part of the program
 * may need to report. */
static struct {
	int fd;
	bool syslog;	/* frame lines as "<priority>fuseuring[pid]: " */
	bool file;	/* -o log=FILE: "@SECONDS fuseuring[pid]: " (Unix time) */
	int pid;
} log_sink = { .fd = 2 };

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6 };

static void log_v(enum log_level level, const char *f, va_list ap)
{
	char line[1024];
	size_t n;
	struct kernel_timespec now = { 0, 0 };

	if (log_sink.syslog)
		n = fmt(line, sizeof(line), "<%d>fuseuring[%d]: ",
			3 << 3 /* daemon */ | level, log_sink.pid);
	else if (log_sink.file && sc2(SYS_clock_gettime, 0 /* REALTIME */, &now) == 0)
		n = fmt(line, sizeof(line), "@%ld fuseuring[%d]: ", (long)now.tv_sec,
			log_sink.pid);
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

/* Report a command-line mistake and exit with status 2 (1 for mount). */
_Noreturn void usage_error(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	log_v(LOG_ERR, f, ap);
	va_end(ap);
	sys_write(2, "Try 'fuseuring --help'.\n", 24);
	sys_exit_group(exit_usage);
}

/* After detaching there is no terminal: messages go to -o log=FILE, else
 * to syslog, else to the kernel log (root only; the kernel rate-limits
 * what user space writes there).  Where none of them takes messages, say
 * so now, while the terminal still sees it. */
static void open_detached_log(const struct daemon *d)
{
	struct sockaddr_un addr = { AF_UNIX, "/dev/log" };
	int fd = d->log_fd;

	if (fd < 0) {
		fd = sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && sys_connect(fd, &addr, sizeof(addr)) < 0) {
			sys_close(fd);
			fd = -1;
		}
		if (fd < 0)
			fd = sys_open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);
	}
	if (fd < 0) {
		warn("once detached, messages (stats, errors) are lost: no syslog "
		     "daemon listens on /dev/log, and /dev/kmsg is root's; "
		     "-o log=FILE keeps them");
		fd = sys_open("/dev/null", O_WRONLY | O_CLOEXEC, 0);
	}
	log_sink.fd = fd;
	log_sink.file = fd == d->log_fd;
	log_sink.syslog = !log_sink.file;
	log_sink.pid = sys_getpid();
}

/* --- small files and directories of /proc and /sys ------------------------ */

/* Read a small file whole, NUL-terminated; its length or -errno. */
static long read_small(const char *path, char *buf, size_t cap)
{
	int fd = sys_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	long n = fd, got = 0;

	while (fd >= 0 && (size_t)got + 1 < cap &&
	       (n = sys_read(fd, buf + got, cap - 1 - (size_t)got)) > 0)
		got += n;
	if (fd >= 0)
		sys_close(fd);
	buf[got] = 0;
	return n < 0 ? n : got;
}

static const char *find_str(const char *hay, const char *needle)
{
	size_t n = str_len(needle);

	for (; *hay; hay++)
		if (memcmp(hay, needle, n) == 0)
			return hay;
	return 0;
}

/* Call fn for each name in a directory (not . and ..) until it returns
 * true; returns whether one did. */
static bool each_entry(const char *dir, bool (*fn)(void *ctx, const char *name),
		       void *ctx)
{
	struct dirent64 { uint64_t ino; int64_t off; uint16_t reclen; uint8_t type; char name[]; };
	uint64_t buf[512];
	int fd = sys_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	bool stop = false;
	long n;

	while (fd >= 0 && !stop && (n = sys_getdents64(fd, buf, sizeof(buf))) > 0)
		for (long at = 0; at < n && !stop;) {
			struct dirent64 *e = (struct dirent64 *)((char *)buf + at);

			at += e->reclen;
			if (e->name[0] != '.')
				stop = fn(ctx, e->name);
		}
	if (fd >= 0)
		sys_close(fd);
	return stop;
}

/* Call fn for each line of a file (lines longer than 4K are skipped)
 * until it returns true. */
static void each_line(const char *path, bool (*fn)(void *ctx, char *line), void *ctx)
{
	static char buf[4096];
	int fd = sys_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	size_t have = 0;
	long n = 0;
	bool skip = false;

	while (fd >= 0 && (n = sys_read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *line = buf, *end = buf + have + n;

		*end = 0;
		for (char *nl; (nl = (char *)find_str(line, "\n")); line = nl + 1) {
			*nl = 0;
			if (!skip && fn(ctx, line))
				goto done;
			skip = false;
		}
		have = (size_t)(end - line);
		if (have == sizeof(buf) - 1)
			have = 0, skip = true;	/* a giant line */
		memmove(buf, line, have);
	}
done:
	if (fd >= 0)
		sys_close(fd);
}

/* The mount at `path` in /proc/self/mountinfo (the last one: the top of
 * a stack).  Fills type and source; false if none is there. */
struct mount_query {
	const char *path;
	char type[64], source[4096];
	unsigned long id;	/* the mount ID: which mount, not just where */
	bool found;
};

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++)
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	*out = 0;
}

/* Split off the next space-separated field of *s. */
static char *field(char **s)
{
	char *f = *s, *sp = (char *)find_str(f, " ");

	*s = sp ? (*sp = 0, sp + 1) : f + str_len(f);
	return f;
}

/* A line of /proc/self/mountinfo: where, what type, from what. */
static bool parse_mount_line(char *line, char **mnt, char **type, char **source)
{
	char *at = line;

	for (int i = 0; i < 4; i++)
		field(&at);	/* mount ID, parent ID, major:minor, root */
	*mnt = field(&at);
	if (!(at = (char *)find_str(at, " - ")))
		return false;
	at += 3;
	*type = field(&at);
	*source = field(&at);
	unescape(*mnt);
	unescape(*source);
	return true;
}

static bool mount_line(void *ctx, char *line)
{
	struct mount_query *q = ctx;
	char *mnt, *type, *source;

	uint64_t id = 0;

	for (const char *p = line; *p >= '0' && *p <= '9'; p++)
		id = id * 10 + (uint64_t)(*p - '0');
	if (parse_mount_line(line, &mnt, &type, &source) && str_eq(mnt, q->path)) {
		fmt(q->type, sizeof(q->type), "%s", type);
		fmt(q->source, sizeof(q->source), "%s", source);
		q->id = (unsigned long)id;
		q->found = true;
	}
	return false;	/* the last one counts */
}

static bool mount_at(struct mount_query *q)
{
	q->found = false;
	each_line("/proc/self/mountinfo", mount_line, q);
	return q->found;
}

/* Loop devices whose backing file is `path` or lies under it: "/dev/loopN"
 * names appended to a list. */
struct loop_query {
	const char *path;
	char list[200];
	size_t len;
	unsigned count;
};

static bool loop_entry(void *ctx, const char *name)
{
	struct loop_query *q = ctx;
	char file[256], back[4096];
	size_t n = str_len(q->path);

	if (!str_after(name, "loop"))
		return false;
	fmt(file, sizeof(file), "/sys/block/%s/loop/backing_file", name);
	long len = read_small(file, back, sizeof(back));

	if (len > 0 && back[len - 1] == '\n')
		back[len - 1] = 0;
	if (len > 0 && memcmp(back, q->path, n) == 0 && (!back[n] || back[n] == '/')) {
		q->len += fmt(q->list + q->len, sizeof(q->list) - q->len, "%s/dev/%s",
			      q->count++ ? " " : "", name);
	}
	return false;
}

static unsigned loops_under(struct loop_query *q, const char *path)
{
	q->path = path;
	each_entry("/sys/block", loop_entry, q);
	return q->count;
}

/* Loop devices on the volumes of fuseuring mounts of BACKING (`path`). */
static bool served_line(void *ctx, char *line)
{
	struct loop_query *q = ctx;
	const char *backing = q->path;
	char *mnt, *type, *source;

	if (parse_mount_line(line, &mnt, &type, &source) &&
	    str_eq(type, "fuse.fuseuring") && str_eq(source, backing))
		loops_under(q, mnt);
	q->path = backing;
	return false;
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

/* --- one BACKING, one server ------------------------------------------------
 * BACKING is locked for as long as it is served: an OFD lock (fcntl
 * F_OFD_SETLK, as qemu locks its images) over the whole file, for writing,
 * or for reading with -o ro, so that read-only servers can share it.  The
 * lock belongs to the open file, not to a process: it goes when the last
 * descriptor of it closes (the daemon's, or the kernel's with passthrough
 * while a volume is still open).  Who holds one is not in the lock (the
 * kernel reports pid -1 for OFD locks): /proc/PID/fdinfo/FD lists the
 * locks of each open file, and is where the holder is found. */

struct flock64 {
	int16_t l_type, l_whence;
	int64_t l_start, l_len;
	int32_t l_pid, pad;
};
#define F_OFD_SETLK	37
#define F_RDLCK		0
#define F_WRLCK		1

/* Processes with a lock on one file: "pid N (comm), ...". */
struct lock_query {
	char needle[64];	/* " MAJ:MIN:INO ", as the kernel prints locks */
	char list[240];
	size_t len;
	int pid, count, procs;	/* lock lines found, processes listed */
	bool writes;		/* one of them locks it for writing */
};

static void lock_needle(struct lock_query *q, struct file_id id)
{
	fmt(q->needle, sizeof(q->needle), " %02x:%02x:%lu ", id.dev_major,
	    id.dev_minor, (unsigned long)id.ino);
}

/* Does this lock line (of /proc/locks or an fdinfo) lock our file? */
static bool lock_line(void *ctx, char *line)
{
	struct lock_query *q = ctx;

	if (!find_str(line, q->needle))
		return false;
	q->writes |= find_str(line, " WRITE ") != 0;
	q->count++;
	return false;
}

static bool fdinfo_entry(void *ctx, const char *fd)
{
	struct lock_query *q = ctx;
	char path[64], buf[4096];
	int before = q->count;

	fmt(path, sizeof(path), "/proc/%d/fdinfo/%s", q->pid, fd);
	read_small(path, buf, sizeof(buf));
	for (char *l = buf, *nl; *l; l = nl ? nl + 1 : l + str_len(l)) {
		if ((nl = (char *)find_str(l, "\n")))
			*nl = 0;
		if (str_after(l, "lock:"))
			lock_line(q, l);
	}
	return q->count > before;	/* one descriptor per process will do */
}

static bool proc_entry(void *ctx, const char *name)
{
	struct lock_query *q = ctx;
	char path[64], comm[32];
	int pid = 0;

	for (const char *p = name; *p >= '0' && *p <= '9'; p++)
		pid = pid * 10 + (*p - '0');
	if (!pid || pid == sys_getpid())
		return false;
	q->pid = pid;
	fmt(path, sizeof(path), "/proc/%d/fdinfo", pid);
	if (!each_entry(path, fdinfo_entry, q))
		return false;
	fmt(path, sizeof(path), "/proc/%d/comm", pid);
	long n = read_small(path, comm, sizeof(comm));

	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = 0;
	q->len += fmt(q->list + q->len, sizeof(q->list) - q->len, "%spid %d (%s)",
		      q->procs++ ? ", " : "", pid, n > 0 ? comm : "?");
	return q->procs >= 4;
}

/* Another lock is in the way: say whose, and what to do. */
static void lock_conflict(const struct daemon *d, struct file_id id)
{
	const char *backing = d->opt->backing;
	struct lock_query q = { .len = 0 };

	lock_needle(&q, id);
	each_entry("/proc", proc_entry, &q);
	if (q.procs == 0) {
		/* No process we can see: another user's, or the kernel's, for
		 * a passthrough volume still open after its server died. */
		struct loop_query loops = { .path = d->backing };

		each_line("/proc/self/mountinfo", served_line, &loops);
		if (d->dead_loops[0])	/* a mount -o recover just took away */
			loops.count = (unsigned)fmt(loops.list, sizeof(loops.list),
						    "%s", d->dead_loops);
		error("%s: locked, by no process this user can see: another "
		      "user's fuseuring serves it, or a volume served from it by "
		      "a fuseuring that died is still open and the kernel still "
		      "reaches BACKING through it (%s%s); close that first",
		      backing, loops.count ? "loop devices: " : "a loop device? see 'losetup -a'",
		      loops.list);
	} else if (q.writes) {
		error("%s: in use: %s hold%s it for writing; a second server would "
		      "corrupt it (stop that one first; only -o ro servers can "
		      "share a BACKING)", backing, q.list, q.procs > 1 ? "" : "s");
	} else {
		error("%s: in use: %s hold%s it read-only; serving it read-write "
		      "needs it alone (stop %s, or add -o ro)", backing, q.list,
		      q.procs > 1 ? "" : "s", q.procs > 1 ? "them" : "that one");
	}
}

/* Lock BACKING for as long as this process (or the kernel, for a
 * passthrough volume) has it open. */
static bool backing_lock(const struct daemon *d, int fd, struct file_id id)
{
	struct flock64 fl = {
		.l_type = d->opt->read_only ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};
	int r;

	/* A server that was just unmounted lets go a moment later (the
	 * kernel drops a passthrough BACKING after the daemon has gone):
	 * "umount M && fuseuring B M" must work, so wait a little. */
	for (int tries = 0; tries < 40; tries++) {
		struct kernel_timespec pause = { 0, 50 * 1000 * 1000 };

		r = sys_fcntl(fd, F_OFD_SETLK, (long)&fl);
		if (r != -EAGAIN && r != -EACCES)
			break;
		sc5(SYS_ppoll, 0, 0, &pause, 0, 0);
	}
	if (r == -EAGAIN || r == -EACCES) {
		lock_conflict(d, id);
		return false;
	}
	if (r < 0)
		warn("%s: cannot lock it (%s): nothing keeps a second server from "
		     "using it too", d->opt->backing, errno_name(r));
	return true;
}

/* A start that fails (or mount -f) leaves BACKING as it found it: gone
 * again if it created it, at its old size if it grew it. */
static void backing_undo(struct daemon *d)
{
	struct statx st;

	if (d->backing_created &&
	    sys_statx(AT_FDCWD, d->backing, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) == 0 &&
	    same_file(file_id(&st), d->backing_id))
		sys_unlinkat(AT_FDCWD, d->backing, 0);
	else if (d->backing_grown &&
		 sys_statx(d->srv.backing.fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st) == 0 &&
		 st.stx_size == d->srv.backing.size)
		/* only if nobody (no passthrough write) grew it further */
		sys_ftruncate(d->srv.backing.fd, (int64_t)d->backing_old_size);
	d->backing_created = d->backing_grown = false;
}

/* Prints the reason and returns false on failure. */
static bool backing_open(struct daemon *d, struct backing *b, struct file_id *id)
{
	const struct options *o = d->opt;
	/* O_NONBLOCK changes nothing for plain read and write on a file, but
	 * tells io_uring it may try BACKING I/O inline before falling back to
	 * a worker thread, also on filesystems that do not announce it. */
	int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK;
	struct statfs fs;
	struct statx st;
	int fd;

	*b = (struct backing){ .fd = -1, .direct_fd = -1 };
	/* Created only where missing, and known to be ours to remove. */
	/* Without O_CREAT, O_EXCL means something only for a block device:
	 * the kernel refuses it (EBUSY) while it is mounted or claimed, which
	 * the lock below cannot see (another device node, a mount). */
	int excl = o->read_only ? 0 : O_EXCL;

	fd = sys_open(o->backing, flags | (o->size ? O_CREAT | O_EXCL : excl), 0600);
	bool created = fd >= 0 && o->size;

	if (fd == -EEXIST)	/* there after all (not through a dangling link) */
		fd = sys_open(o->backing, flags | excl, 0);
	if (fd == -EBUSY) {
		/* Another fuseuring (its lock names it), or a mount, or ... */
		struct lock_query q = { .len = 0 };

		if (sys_statx(AT_FDCWD, o->backing, 0, STATX_BASIC_STATS, &st) == 0) {
			lock_needle(&q, file_id(&st));
			each_entry("/proc", proc_entry, &q);
		}
		if (q.procs)
			lock_conflict(d, file_id(&st));
		else
			error("%s: %s: a block device that is mounted or in use "
			      "elsewhere", o->backing, errno_name(fd));
		return false;
	}
	if (fd == -ENOENT && !o->size) {
		error("%s: %s (give -o size=N to create it)", o->backing, errno_name(fd));
		return false;
	}
	if ((fd == -EACCES || fd == -EROFS || fd == -EPERM) && !o->read_only &&
	    sys_statx(AT_FDCWD, o->backing, 0, STATX_BASIC_STATS, &st) == 0) {
		error("%s: %s: cannot open it for writing (to serve it read-only, "
		      "add -o ro)", o->backing, errno_name(fd));
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
	*id = d->backing_id = file_id(&st);
	/* Before anything changes it: is another server on it?  Only a
	 * locked BACKING is ours to remove or shrink again on failure: a
	 * server that won the race for a file we created keeps it. */
	if ((st.stx_mode & S_IFMT) != S_IFDIR && !backing_lock(d, fd, *id))
		return false;
	d->backing_created = created;
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
			d->backing_grown = !d->backing_created;
			d->backing_old_size = b->size;
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
 * unmount it) and tidy, as /proc/self/mountinfo shows it: no "." or ".."
 * or doubled slashes (by the text: symlinks stay).  Returns `buf`, or
 * `path` if it does not fit. */
static const char *absolute_path(const char *path, char *buf, size_t cap)
{
	size_t n = 0, len;

	if (path[0] != '/') {
		if (sys_getcwd(buf, cap) <= 0)
			return path;
		n = str_len(buf);
		n -= n == 1;	/* "/" */
	}
	for (const char *p = path; *p; p += len) {
		while (*p == '/')
			p++;
		for (len = 0; p[len] && p[len] != '/'; len++)
			;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n && buf[--n] != '/')
				;
		} else if (len && !(len == 1 && p[0] == '.')) {
			if (n + len + 2 > cap)
				return path;
			buf[n++] = '/';
			memcpy(buf + n, p, len);
			n += len;
		}
	}
	if (!n)
		buf[n++] = '/';
	buf[n] = 0;
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

static int spawn_fusermount(const struct daemon *d, char *const args[], int commfd);
static int wait_child(int pid);

/* MOUNTPOINT holds the mount of a server that died.  What still holds it
 * open (a loop device on its volume) keeps plain umount from taking it
 * away: say so, and how to get out.  With -o recover, detach it (lazily:
 * what holds it gets errors until it lets go) if it is fuseuring's. */
static bool dead_mount(struct daemon *d, int err)
{
	const char *mnt = d->mountpoint;
	bool root = sys_has_capability(CAP_SYS_ADMIN);
	const char *umount = root ? "umount" : "fusermount3 -u";
	struct loop_query loops = { .len = 0 };
	struct mount_query m = { .path = mnt };

	loops_under(&loops, mnt);
	/* mount -f only checks: it takes nothing away. */
	if (!d->opt->recover || d->opt->fake) {
		if (loops.count)
			error("%s: %s: a FUSE mount whose server died is still there, "
			      "and %s still hold%s its volume, so 'umount' finds it busy: "
			      "'losetup -d %s', then '%s %s'; or take the dead mount away "
			      "now with '%s %s' (or start with -o recover)", mnt,
			      errno_name(err), loops.list, loops.count > 1 ? "" : "s",
			      loops.list, umount, mnt, root ? "umount -l" : "fusermount3 -uz",
			      mnt);
		else
			error("%s: %s: a FUSE mount whose server died is still there; "
			      "run '%s %s' first (or start with -o recover)", mnt,
			      errno_name(err), umount, mnt);
		return false;
	}
	if (!mount_at(&m) || !str_eq(m.type, "fuse.fuseuring")) {
		error("%s: %s: the dead FUSE mount there is %s%s, not fuseuring's: "
		      "-o recover leaves it alone", mnt, errno_name(err),
		      m.found ? "of type " : "not in /proc/self/mountinfo", m.type);
		return false;
	}
	char *args[] = { "fusermount3", "-u", "-z", "--", (char *)mnt, 0 };
	int pid = root ? 0 : spawn_fusermount(d, args, -1);
	int r = root ? sys_umount2(mnt, MNT_DETACH | UMOUNT_NOFOLLOW) :
		pid < 0 ? pid : wait_child(pid) ? -EPERM : 0;

	if (r < 0) {
		error("%s: -o recover: detaching the dead mount: %s", mnt, errno_name(r));
		return false;
	}
	fmt(d->dead_loops, sizeof(d->dead_loops), "%s", loops.list);
	if (loops.count)
		warn("%s: -o recover: detached the mount of a fuseuring that died; "
		     "%s still hold%s the old volume: 'losetup -d %s'", mnt,
		     loops.list, loops.count > 1 ? "" : "s", loops.list);
	else
		info("%s: -o recover: detached the mount of a fuseuring that died", mnt);
	return true;
}

/* Is MOUNTPOINT the dead mount of a server that died?  Looked at before
 * BACKING: the dead mount may still hold BACKING's lock (passthrough). */
static bool mountpoint_alive(struct daemon *d)
{
	struct statx st;
	/* Force a fresh look: a FUSE mount whose server died still answers
	 * from cached attributes for a while. */
	int r = sys_statx(AT_FDCWD, d->opt->mountpoint, AT_STATX_FORCE_SYNC,
			  STATX_BASIC_STATS, &st);

	return (r != -ENOTCONN && r != -ECONNABORTED) || dead_mount(d, r);
}

/* Is MOUNTPOINT usable?  Sets *is_file for a regular-file mountpoint. */
static bool mountpoint_check(const struct daemon *d, struct file_id backing,
			     bool *is_file)
{
	const struct options *o = d->opt;
	struct statx st;
	struct statfs fs;
	int r = sys_statx(AT_FDCWD, o->mountpoint, AT_STATX_FORCE_SYNC,
			  STATX_BASIC_STATS, &st);

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

static int fuse_unmount(struct daemon *d);

/* Leave for good: the pidfile goes with the process, if it is still the
 * one we wrote (not whatever was put at that path since). */
static void remove_pidfile(const struct daemon *d)
{
	struct statx st;

	if (d->pidfile &&
	    sys_statx(AT_FDCWD, d->pidfile, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) == 0 &&
	    same_file(file_id(&st), d->pidfile_id))
		sys_unlinkat(AT_FDCWD, d->pidfile, 0);
}

static _Noreturn void server_exit(const struct daemon *d, int status)
{
	notify_systemd(d, "STOPPING=1");
	remove_pidfile(d);
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
	sys_exit_now(127);
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

	for (const char *p = d->backing; *p; p++)
		plain_name &= *p != ',' && *p != '\\';
	fmt(opts, sizeof(opts), "default_permissions,subtype=fuseuring%s%s%s%s%s",
	    o->allow_other ? ",allow_other" : "", o->read_only ? ",ro" : "",
	    o->noexec ? ",noexec" : "", plain_name ? ",fsname=" : "",
	    plain_name ? d->backing : "");
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

/* Which mount is ours: the one now on top at MOUNTPOINT.  Read from
 * mountinfo, as a stat of the mount would wait for INIT. */
static bool remember_mount(struct daemon *d)
{
	struct mount_query m = { .path = d->mountpoint };

	if (!mount_at(&m) || !str_after(m.type, "fuse")) {
		error("mounted %s, but it is not in /proc/self/mountinfo", d->mountpoint);
		return false;
	}
	d->mount_id = m.id;
	return true;
}

static bool fuse_mount(struct daemon *d, bool root_is_file)
{
	const struct options *o = d->opt;
	char data[256];

	if (!sys_has_capability(CAP_SYS_ADMIN)) {
		int fd = mount_with_fusermount(d);

		d->srv.fuse_fd = fd;
		return fd >= 0 && remember_mount(d);
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
	int r = sys_mount(d->backing, d->mountpoint, "fuse.fuseuring",
			  MS_NOSUID | MS_NODEV | (o->read_only ? MS_RDONLY : 0) |
			  (o->noexec ? MS_NOEXEC : 0), data);

	if (r < 0) {
		error("mounting on %s: %s", d->mountpoint, errno_name(r));
		return false;
	}
	return remember_mount(d);
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
static int fuse_unmount(struct daemon *d)
{
	struct mount_query m = { .path = d->mountpoint };

	/* Once, and only our own mount: after an umount by hand something
	 * else may be mounted there by now. */
	if (d->unmounted || !mount_at(&m) || m.id != d->mount_id) {
		d->unmounted = true;
		return 0;
	}
	d->unmounted = true;
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
 * where the kernel lets us and the volume may grow (-o resize), else FUSE
 * over io_uring on many CPUs, else /dev/fuse.  Refuses INIT (and says why) when what was asked for is not
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
		o->debug ? "-o debug shows every request" :
		/* The kernel writes BACKING itself, past the volume's end too:
		 * only a volume that may grow can have it. */
		!o->resize ? "passthrough would grow BACKING past its end: -o resize allows it" : 0;

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

/* io_uring refused memory: what the user's other mounts hold is gone. */
static void memlock_advice(char *buf, size_t cap)
{
	struct rlimit64 rl = { 0, 0 };

	sys_getrlimit(RLIMIT_MEMLOCK, &rl);
	fmt(buf, cap, "other mounts of this user hold its locked memory: io_uring "
	    "counts all of a user's processes against RLIMIT_MEMLOCK, %lu KiB here "
	    "(VmPin in /proc/PID/status); raise it with 'ulimit -l', or "
	    "LimitMEMLOCK= in a systemd unit", (unsigned long)(rl.cur >> 10));
}

/* The queues, sized to the locked memory there is.  io_uring charges
 * registered buffers to the user, across all of the user's processes,
 * against RLIMIT_MEMLOCK (unless CAP_IPC_LOCK): what other mounts hold is
 * not left, and nothing says how much that is.  So on ENOMEM try smaller
 * (depth, then max_write, then fewer /dev/fuse queues) down to one
 * request buffer, and only then say who holds the memory and how to get
 * more. */
static int setup_queues(struct daemon *d, char *why, size_t cap)
{
	struct server *srv = &d->srv;
	unsigned depth = srv->depth;
	uint32_t max_write = srv->vol.max_write;
	int r;

	while ((r = queues_setup(srv, why, cap)) == -ENOMEM) {
		if (srv->depth > 1)
			srv->depth /= 2;
		else if (srv->vol.max_write / 2 >= 16384 &&
			 srv->vol.max_write / 2 % srv->page_size == 0)
			srv->vol.max_write /= 2;
		else if (srv->transport == TRANSPORT_DEV && srv->nqueues > 1)
			srv->nqueues--;
		else
			break;
	}
	if (r == 0 && d->opt->debug &&
	    (srv->depth != depth || srv->vol.max_write != max_write))
		info("locked memory ran short (other processes of this user hold "
		     "some): depth %u, max_write %u instead of %u, %u",
		     srv->depth, srv->vol.max_write, depth, max_write);
	if (r == -ENOMEM) {
		size_t n = str_len(why);

		n += fmt(why + n, cap - n, ", even at depth=1 max_write=%u: ",
			 srv->vol.max_write);
		memlock_advice(why + n, cap - n);
	}
	return r;
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

	d->kernel_minor = res.kernel_minor;
	if (!choose_transport(d, res.kernel_flags, c.in.unique))
		return false;
	char why[900];

	r = setup_queues(d, why, sizeof(why));
	if (r < 0 && d->srv.transport == TRANSPORT_URING &&
	    o->transport == TRANSPORT_AUTO) {
		/* /dev/fuse needs fewer slots (no queue per CPU): try it, from
		 * what was asked for, not from what uring had shrunk to. */
		warn("setting up FUSE over io_uring: %s; using /dev/fuse", why);
		d->srv.transport = TRANSPORT_DEV;
		fmt(d->srv.transport_why, sizeof(d->srv.transport_why),
		    "auto: FUSE over io_uring could not be set up");
		d->srv.depth = o->depth;
		d->srv.vol.max_write = (uint32_t)o->max_write;
		d->srv.nqueues = o->queues ? o->queues : count_online_cpus();
		cap_dev_queues(d);
		r = setup_queues(d, why, sizeof(why));
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
	info("%s: unmounting %s; exiting once open handles close",
	     si->ssi_signo == SIGINT ? "SIGINT" : si->ssi_signo == SIGHUP ? "SIGHUP" :
	     "SIGTERM", d->mountpoint);
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
 * is served ("R" and the "serving" line), check that it opens, say what
 * serves it (unless quiet), and hand the shell back. */
static _Noreturn void await_child(int pid, int ready_fd, const char *volume,
				  bool quiet)
{
	char msg[4800];
	size_t got = 0;
	long n;

	while (got < sizeof(msg) - 1 &&
	       ((n = sys_read(ready_fd, msg + got, sizeof(msg) - 1 - got)) > 0 ||
		n == -EINTR))
		got += n > 0 ? (size_t)n : 0;
	msg[got] = 0;
	if (!got || msg[0] != 'R') {
		int status = 0;

		sys_wait4(pid, &status, 0);	/* it has said what went wrong */
		sys_exit_group(exit_failure);
	}
	int fd = sys_open(volume, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	struct statx st;

	if (fd >= 0)
		sys_close(fd);
	/* Not ours to open (uid=, mode=)?  That it answers is enough. */
	if (fd >= 0 || (fd == -EACCES &&
			sys_statx(AT_FDCWD, volume, 0, STATX_BASIC_STATS, &st) == 0)) {
		if (!quiet && msg[1])
			info("%s", msg + 1);
		sys_exit_group(0);
	}
	error("%s: %s; stopping the daemon", volume, errno_name(fd));
	sys_kill(pid, SIGTERM);
	sys_exit_group(exit_failure);
}

/* Without -f: fork.  The parent waits in await_child() and never returns;
 * the child returns the pipe on which to say that it serves. */
static int detach(const char *volume, bool quiet)
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
		await_child(pid, pipe_fds[0], volume, quiet);
	}
	sys_close(pipe_fds[0]);
	sys_setsid();
	return pipe_fds[1];
}

/* The child, once serving: no terminal from here on.  The parent prints
 * the "serving" line for it. */
static void finish_detaching(const struct daemon *d, int ready_fd, const char *status)
{
	int null = sys_open("/dev/null", O_RDWR | O_CLOEXEC, 0);
	char msg[4800];

	open_detached_log(d);
	for (int fd = 0; fd < 3; fd++)
		sys_dup3(null, fd, 0);
	sys_close(null);
	sys_chdir("/");
	sys_write(ready_fd, msg, fmt(msg, sizeof(msg), "R%s", status));
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
		char why[300];

		if (err == -ENOMEM)
			memlock_advice(why, sizeof(why));
		error("io_uring is not available: %s (%s)", errno_name(err),
		      err == -EPERM ? "see /proc/sys/kernel/io_uring_disabled" :
		      err == -ENOMEM ? why : "needs a kernel built with io_uring");
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

/* truncate on the volume without -o resize: the kernel's EPERM says
 * nothing about why; the log says it, once. */
static void refused_resize(void)
{
	static bool said;

	if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
		warn("truncate on the volume refused (EPERM): its size changes only "
		     "with -o resize");
}

/* Open BACKING, check MOUNTPOINT and describe the volume. */
static bool server_prepare(struct daemon *d, const struct options *opt,
			   bool *root_is_file)
{
	static char mnt_path[4096], pid_path[4096], backing_path[4096];

	struct file_id backing;

	d->opt = opt;
	d->backing = absolute_path(opt->backing, backing_path, sizeof(backing_path));
	d->mountpoint = absolute_path(opt->mountpoint, mnt_path, sizeof(mnt_path));
	if (opt->pidfile)
		d->pidfile = absolute_path(opt->pidfile, pid_path, sizeof(pid_path));
	if (!kernel_check(d))
		return false;
	if (opt->log_file && !opt->fake) {
		/* Appended to, never followed through a symlink, and only a
		 * regular file (a FIFO would block or drop lines). */
		struct statx lst;

		d->log_fd = sys_open(opt->log_file, O_WRONLY | O_APPEND | O_CREAT |
				     O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW, 0640);
		if (d->log_fd >= 0 &&
		    (sys_statx(d->log_fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &lst) < 0 ||
		     (lst.stx_mode & S_IFMT) != S_IFREG)) {
			sys_close(d->log_fd);
			d->log_fd = -1;
			error("-o log=%s: not a regular file", opt->log_file);
			return false;
		}
		if (d->log_fd < 0) {
			error("-o log=%s: %s", opt->log_file, errno_name(d->log_fd));
			return false;
		}
	}
	if (!mountpoint_alive(d) || !backing_open(d, &d->srv.backing, &backing) ||
	    !mountpoint_check(d, backing, root_is_file))
		return false;
	for (char **e = opt->envp; *e; e++)
		if (str_after(*e, "NOTIFY_SOCKET="))
			d->notify_socket = *e + 14;
	d->srv.vol = (struct volume){
		.name = opt->name, .name_len = (uint32_t)str_len(opt->name),
		.root_is_file = *root_is_file, .read_only = opt->read_only,
		.resizable = opt->resize, .max_write = (uint32_t)opt->max_write,
		.size = d->srv.backing.size, .mode = opt->mode, .uid = opt->uid,
		.gid = opt->gid, .refused_resize = refused_resize,
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
	remove_pidfile(d);	/* if it was written: still ours */
	return false;
}

/* mount -o remount,ro|rw[,noexec|exec] MOUNTPOINT, as mount(8) asks for
 * it (through mount.fuse.fuseuring, or mount.fuse3 running "fuseuring
 * SOURCE MOUNTPOINT -o ...,remount,...").  Only what the kernel can change
 * on a mounted FUSE filesystem changes; the rest of the list is the mount
 * table's, fixed while mounted. */
static __attribute__((noinline, cold)) int remount(const struct options *o)
{
	static char path[4096];
	struct mount_query m = { .path = absolute_path(o->mountpoint, path, sizeof(path)) };
	struct statfs fs;
	struct statx st;

	if (!mount_at(&m) || !str_eq(m.type, "fuse.fuseuring")) {
		error("%s: remount: not a fuseuring mount", m.path);
		return exit_failure;
	}
	/* Writable again only if its server writes BACKING: one serving it
	 * with -o ro holds it open read-only, and has a read lock on it. */
	if (o->access_given && !o->read_only &&
	    sys_statx(AT_FDCWD, m.source, 0, STATX_BASIC_STATS, &st) == 0) {
		struct lock_query q = { .len = 0 };

		lock_needle(&q, file_id(&st));
		each_line("/proc/locks", lock_line, &q);
		if (q.count && !q.writes) {
			error("%s: remount,rw: its server has %s open read-only (-o ro); "
			      "writes would fail with EROFS: restart fuseuring without ro",
			      m.path, m.source);
			return exit_failure;
		}
	}
	int r = sys_statfs(m.path, &fs);
	/* The per-mount flags are replaced whole: keep the others, read-only
	 * too unless ro or rw was asked for. */
	unsigned long keep = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
			     MS_NODIRATIME | (o->access_given ? 0 : MS_RDONLY);
	unsigned long flags = MS_REMOUNT | (o->access_given && o->read_only ? MS_RDONLY : 0) |
		(r < 0 ? MS_NOSUID | MS_NODEV : (unsigned long)fs.f_flags & keep);

	/* statfs's ST_* flags are the MS_* ones, but for nosymfollow */
	if (r == 0 && (fs.f_flags & ST_NOSYMFOLLOW))
		flags |= MS_NOSYMFOLLOW;

	if (o->noexec_given)
		flags = (flags & ~(unsigned long)MS_NOEXEC) | (o->noexec ? MS_NOEXEC : 0);
	r = sys_mount(m.source, m.path, 0, flags, 0);
	if (r < 0) {
		error("%s: remount: %s%s", m.path, errno_name(r), r == -EPERM ?
		      " (needs CAP_SYS_ADMIN: fusermount3 cannot remount)" : "");
		return exit_failure;
	}
	if (o->verbose)
		info("%s: remounted %s%s", m.path, flags & MS_RDONLY ? "read-only" : "read-write",
		     flags & MS_NOEXEC ? ", noexec" : "");
	return 0;
}

/* -V: the version, and what this kernel offers fuseuring, as far as it
 * can be told without mounting (the FUSE protocol minor the kernel
 * speaks comes with INIT: the "serving" line says it). */
static __attribute__((noinline, cold)) int print_version(void)
{
	static const char param[] = "/sys/module/fuse/parameters/enable_uring";
	char buf[1536], rel[128], uring_on[8];
	struct uring r;
	struct statx st;
	int err = uring_init(&r, 2, 0, 0), major = 0, minor = 0;
	bool multishot = err == 0 && uring_has_op(&r, IORING_OP_READ_MULTISHOT);
	const char *p = rel;

	if (err == 0)
		uring_unmap(&r);
	if (read_small("/proc/sys/kernel/osrelease", rel, sizeof(rel)) <= 0)
		fmt(rel, sizeof(rel), "?");
	for (; *p >= '0' && *p <= '9'; p++)
		major = major * 10 + (*p - '0');
	for (p += *p == '.'; *p >= '0' && *p <= '9'; p++)
		minor = minor * 10 + (*p - '0');
	for (char *nl = rel; *nl; nl++)
		if (*nl == '\n')
			*nl = 0;
	bool since_6_9 = major > 6 || (major == 6 && minor >= 9);
	long on = read_small(param, uring_on, sizeof(uring_on));
	size_t n = fmt(buf, sizeof(buf),
		"fuseuring " VERSION " (FUSE protocol 7.%u)\n"
		"Linux %s offers:\n"
		"  io_uring            %s%s\n"
		"  multishot reads     %s\n"
		"  FUSE, /dev/fuse     %s\n"
		"  FUSE over io_uring  %s%s\n"
		"  FUSE passthrough    %s%s\n"
		"  FUSE protocol       told at mount time (the \"serving\" line)\n",
		FUSE_KERNEL_MINOR_VERSION, rel,
		err == 0 ? "yes" : err == -EPERM ? "switched off: " : "no: ",
		err == 0 ? "" : err == -EPERM ? "/proc/sys/kernel/io_uring_disabled" :
		errno_name(err),
		multishot ? "yes" : "no (Linux 6.7+): one read per request buffer",
		sys_statx(AT_FDCWD, "/dev/fuse", 0, STATX_BASIC_STATS, &st) == 0 ? "yes" :
		"no (modprobe fuse)",
		on < 0 ? "no (Linux 6.14+)" : uring_on[0] == 'Y' ? "on" :
		"off: as root, echo Y > ", on < 0 || uring_on[0] == 'Y' ? "" : param,
		since_6_9 ? "yes (Linux 6.9+, if built with CONFIG_FUSE_PASSTHROUGH)" :
		"no (Linux 6.9+)", !since_6_9 ? "" : sys_has_capability(CAP_SYS_ADMIN) ?
		"; needs CAP_SYS_ADMIN: you have it" : "; needs CAP_SYS_ADMIN: not yours");

	sys_write(1, buf, n);
	return 0;
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
	d.log_fd = -1;
	parse_command_line(&opt, argc, argv, d.srv.page_size);
	if (opt.version)
		return print_version();
	if (opt.remount)
		return remount(&opt);
	/* The "serving" line: on the terminal unless -o quiet; for mount(8)
	 * only with mount -v. */
	bool quiet = opt.quiet || (opt.helper && !opt.verbose);

	if (!server_prepare(&d, &opt, &root_is_file)) {
		backing_undo(&d);
		return exit_failure;
	}
	if (opt.fake) {
		backing_undo(&d);
		return 0;	/* mount -f: all checked, nothing to mount */
	}
	fmt(volume, sizeof(volume), "%s%s%s", d.mountpoint,
	    root_is_file ? "" : "/", root_is_file ? "" : opt.name);
	if (!opt.foreground)
		ready_fd = detach(volume, quiet);

	/* Signals are read from a signalfd by this thread; every thread,
	 * including the workers created later, keeps them blocked. */
	uint64_t sigs = 1ull << (SIGINT - 1) | 1ull << (SIGTERM - 1) |
			1ull << (SIGHUP - 1) | 1ull << (SIGUSR1 - 1);

	sys_sigprocmask_block(sigs | 1ull << (SIGPIPE - 1));
	int sigfd = sys_signalfd(sigs, SFD_CLOEXEC | O_NONBLOCK);

	if (sigfd < 0)
		error("signalfd: %s", errno_name(sigfd));
	if (sigfd < 0 || (opt.transport == TRANSPORT_URING && !uring_switched_on())) {
		backing_undo(&d);
		return exit_failure;
	}
	/* Without CAP_SYS_RESOURCE (containers, users) this fails on every
	 * start, and there is nothing to do about it: said only with debug
	 * (README, Known limits). */
	if (sys_prctl(PR_SET_IO_FLUSHER, 1) < 0 && opt.debug)
		info("PR_SET_IO_FLUSHER not permitted (needs CAP_SYS_RESOURCE): "
		     "writeback through the volume can stall under memory pressure");
	if (!server_start(&d, root_is_file)) {
		backing_undo(&d);
		return exit_failure;
	}
	fmt(status, sizeof(status), "serving %s at %s: transport %s (%s), %u queues, "
	    "depth %u, max_write %u, FUSE 7.%u", d.backing, volume, transport_name(&d.srv),
	    d.srv.transport_why, d.srv.nqueues, d.srv.depth, d.srv.vol.max_write,
	    d.kernel_minor);
	if (!opt.foreground)
		finish_detaching(&d, ready_fd, status);
	if (!quiet || !opt.foreground)
		info("%s", status);	/* detached: to the log */
	char ready[4700];

	fmt(ready, sizeof(ready), "READY=1\nMAINPID=%d\nSTATUS=%s", sys_getpid(), status);
	notify_systemd(&d, ready);
	control_loop(&d, sigfd);
}
