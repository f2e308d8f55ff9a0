/* SPDX-License-Identifier: MIT */
/* backing.c - BACKING: opened (created or grown with -o size=), locked so
 * that one server at a time writes it, and left as it was found when a
 * start fails.
 *
 * The lock is an OFD lock (fcntl F_OFD_SETLK, as qemu locks its images)
 * over the whole file, for writing, or for reading with -o ro, so that
 * read-only servers can share it.  It belongs to the open file, not to a
 * process: it goes when the last descriptor of it closes (the daemon's, or
 * the kernel's with passthrough while a volume is still open).  Who holds
 * one is not in the lock (the kernel reports pid -1 for OFD locks):
 * /proc/PID/fdinfo/FD lists the locks of each open file, and is where the
 * holder is found.
 */
#include "lifecycle.h"

struct flock64 {
	int16_t l_type, l_whence;
	int64_t l_start, l_len;
	int32_t l_pid, pad;
};
#define F_OFD_SETLK	37
#define F_RDLCK		0
#define F_WRLCK		1

/* --- who holds a lock ---------------------------------------------------------- */

/* The next blank-separated word of *at (skipping blanks first), or "". */
static const char *word(const char **at, size_t *len)
{
	const char *w = *at;

	while (*w == ' ' || *w == '\t')
		w++;
	*len = 0;
	while (w[*len] && w[*len] != ' ' && w[*len] != '\t')
		(*len)++;
	*at = w + *len;
	return w;
}

static bool word_is(const char *w, size_t len, const char *s)
{
	return str_len(s) == len && memcmp(w, s, len) == 0;
}

/* "ID: TYPE... READ|WRITE|UNLCK PID MAJ:MIN:INO START END" (fs/locks.c,
 * lock_get_status), after "lock:" in an fdinfo; a waiter shows "->"
 * after the ID and holds nothing.  MAJ and MIN are hex, INO decimal. */
enum lock_seen lock_line_on(const char *line, const struct file_id *id)
{
	const char *at = str_after(line, "lock:") ?: line, *w;
	enum lock_seen seen = LOCKS_NONE;
	size_t len;
	uint64_t major, minor, ino;
	const char *p;

	w = word(&at, &len);
	if (!len || w[len - 1] != ':' || !(p = parse_uint(w, 10, &major)) || p != w + len - 1)
		return LOCKS_NONE;
	for (int i = 0; i < 4 && !seen; i++) {	/* the type takes 1 to 3 words */
		w = word(&at, &len);
		if (!len || word_is(w, len, "->"))
			return LOCKS_NONE;
		seen = word_is(w, len, "WRITE") ? LOCKS_WRITE :
		       word_is(w, len, "READ") ? LOCKS_READ : LOCKS_NONE;
		if (word_is(w, len, "UNLCK"))
			return LOCKS_NONE;
	}
	w = word(&at, &len);	/* the pid: -1 for an OFD lock */
	w = word(&at, &len);
	if (!seen || !len || !(p = parse_uint(w, 16, &major)) || *p != ':' ||
	    !(p = parse_uint(p + 1, 16, &minor)) || *p != ':' ||
	    !(p = parse_uint(p + 1, 10, &ino)) || p != w + len)
		return LOCKS_NONE;
	return !id || (major == id->dev_major && minor == id->dev_minor && ino == id->ino) ?
	       seen : LOCKS_NONE;
}

/* The file of `path` (or, with "", the descriptor dirfd) as lock lines
 * name it: its inode and its superblock's device.  That is mountinfo's,
 * which statx's can differ from (btrfs gives each subvolume a device of
 * its own). */
bool lock_file_id(int dirfd, const char *path, struct file_id *id)
{
	struct statx st;
	struct mount_lookup lk = { .found = false };

	if (sys_statx(dirfd, path, *path ? 0 : AT_EMPTY_PATH,
		      STATX_BASIC_STATS | STATX_MNT_ID, &st) < 0)
		return false;
	*id = file_id(&st);
	lk.want.id = (unsigned long)st.stx_mnt_id;	/* on any device */
	if ((st.stx_mask & STATX_MNT_ID) && mount_find(&lk) > 0) {
		id->dev_major = lk.mount.dev_major;
		id->dev_minor = lk.mount.dev_minor;
	}
	return true;
}

/* Locks on one file, and the processes holding them: "pid N (comm), ...". */
struct lock_query {
	struct file_id file;	/* as lock lines name it (lock_file_id) */
	bool any_file;		/* or locks on whatever file */
	char list[240];
	size_t len;
	int pid, count, procs;	/* locks found, processes listed */
	bool writes;		/* one of them locks it for writing */
};

static bool lock_line(void *ctx, char *line)
{
	struct lock_query *q = ctx;
	enum lock_seen seen = lock_line_on(line, q->any_file ? NULL : &q->file);

	q->writes |= seen == LOCKS_WRITE;
	q->count += seen != LOCKS_NONE;
	return false;
}

enum lock_seen backing_locks(struct file_id file)
{
	struct lock_query q = { .file = file };

	each_line("/proc/locks", lock_line, &q);
	return q.writes ? LOCKS_WRITE : q.count ? LOCKS_READ : LOCKS_NONE;
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

/* fn(ctx, fd) for each descriptor of process pid, as its fdinfo names
 * them, until fn says stop: whether it did. */
static bool each_fdinfo(int pid, bool (*fn)(void *ctx, const char *fd), void *ctx)
{
	char path[64];

	fmt(path, sizeof(path), "/proc/%d/fdinfo", pid);
	return each_entry(path, fn, ctx);
}

static bool proc_entry(void *ctx, const char *name)
{
	struct lock_query *q = ctx;
	char path[64], comm[32];
	uint64_t pid;

	if (!parse_uint(name, 10, &pid) || (int)pid == sys_getpid())
		return false;
	q->pid = (int)pid;
	if (!each_fdinfo(q->pid, fdinfo_entry, q))
		return false;
	fmt(path, sizeof(path), "/proc/%d/comm", q->pid);
	long n = read_small(path, comm, sizeof(comm));

	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = 0;
	q->len += fmt(q->list + q->len, sizeof(q->list) - q->len, "%spid %d (%s)",
		      q->procs++ ? ", " : "", q->pid, n > 0 ? comm : "?");
	return q->procs >= 4;
}

/* The processes that lock `file`, into q. */
static void lock_holders(struct lock_query *q, struct file_id file)
{
	q->file = file;
	each_entry("/proc", proc_entry, q);
}

/* The FUSE connection a descriptor's fdinfo names ("fuse_connection:",
 * Linux 6.16+): its superblock's device, as the kernel encodes it
 * (major << 20 | minor, fs/fuse/dev.c fuse_dev_show_fdinfo). */
static bool fdinfo_connection(const char *fdinfo, uint64_t *dev)
{
	char buf[512];
	const char *at;

	return read_small(fdinfo, buf, sizeof(buf)) > 0 &&
	       (at = find_str(buf, "\nfuse_connection:\t")) &&
	       parse_uint(at + sizeof("\nfuse_connection:\t") - 1, 10, dev);
}

bool fuse_connection_device(int fuse_fd, struct mount_ident *m)
{
	char path[64];
	uint64_t dev;

	fmt(path, sizeof(path), "/proc/self/fdinfo/%d", fuse_fd);
	if (!fdinfo_connection(path, &dev))
		return false;
	m->dev_major = (uint32_t)(dev >> 20);
	m->dev_minor = (uint32_t)(dev & 0xfffff);
	return true;
}

/* A process with a descriptor on the connection of superblock q->dev. */
struct connection_query {
	uint64_t dev;
	int pid;
};

static bool connection_fd(void *ctx, const char *fd)
{
	struct connection_query *q = ctx;
	char path[64];
	uint64_t dev;

	fmt(path, sizeof(path), "/proc/%d/fdinfo/%s", q->pid, fd);
	return fdinfo_connection(path, &dev) && dev == q->dev;
}

static bool connection_proc(void *ctx, const char *name)
{
	struct connection_query *q = ctx;
	uint64_t pid;

	if (!parse_uint(name, 10, &pid))
		return false;
	q->pid = (int)pid;
	return each_fdinfo(q->pid, connection_fd, q);
}

int fuse_server_of(struct mount_ident m)
{
	struct connection_query q = { .dev = (uint64_t)m.dev_major << 20 | m.dev_minor };

	return each_entry("/proc", connection_proc, &q) ? q.pid : 0;
}

enum lock_seen server_locks(int pid)
{
	struct lock_query q = { .pid = pid, .any_file = true };

	each_fdinfo(pid, fdinfo_entry, &q);
	return q.writes ? LOCKS_WRITE : q.count ? LOCKS_READ : LOCKS_NONE;
}

/* Another lock is in the way: say whose, and what to do. */
static void lock_conflict(const struct daemon *d, const struct lock_query *q)
{
	const char *backing = d->opt->backing;

	if (q->procs == 0) {
		/* No process we can see: another user's, or the kernel's, for
		 * a passthrough volume still open after its server died. */
		char loops[200];
		unsigned n = d->dead_loops[0] ?	/* what -o recover just took away */
			(unsigned)!!fmt(loops, sizeof(loops), "%s", d->dead_loops) :
			loops_on_volumes_of(d->backing, loops, sizeof(loops));

		error("%s: locked, by no process this user can see: another "
		      "user's fuseuring serves it, or a volume served from it by "
		      "a fuseuring that died is still open, and the kernel "
		      "reaches BACKING through it (%s%s); close that first",
		      backing, n ? "loop devices: " : "a loop device? see 'losetup -a'",
		      n ? loops : "");
	} else if (q->writes) {
		error("%s: in use: %s hold%s it for writing; a second server would "
		      "corrupt it (stop that one first; only -o ro servers can "
		      "share a BACKING)", backing, q->list, q->procs > 1 ? "" : "s");
	} else {
		error("%s: in use: %s hold%s it read-only; serving it read-write "
		      "needs it alone (stop %s, or add -o ro)", backing, q->list,
		      q->procs > 1 ? "" : "s", q->procs > 1 ? "them" : "that one");
	}
}

/* Lock BACKING for as long as this process (or the kernel, for a
 * passthrough volume) has it open. */
static bool backing_lock(const struct daemon *d, int fd)
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
		struct lock_query q = { .len = 0 };

		if (lock_file_id(fd, "", &q.file))
			lock_holders(&q, q.file);
		lock_conflict(d, &q);
		return false;
	}
	if (r < 0)
		warn("%s: cannot lock it (%s): nothing keeps a second server from "
		     "using it too", d->opt->backing, errno_name(r));
	return true;
}

/* --- undo ------------------------------------------------------------------------ */

/* Remove `path` if it is still the file `id` (not whatever was put there
 * since): BACKING we created, the pidfile. */
void unlink_if_same(const char *path, struct file_id id)
{
	struct statx st;

	if (sys_statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) == 0 &&
	    same_file(file_id(&st), id))
		sys_unlinkat(AT_FDCWD, path, 0);
}

/* A start that fails (or mount -f) leaves BACKING as it found it: gone
 * again if it created it, at its old size if it grew it. */
void backing_undo(struct daemon *d)
{
	struct statx st;

	if (d->backing_created)
		unlink_if_same(d->backing, d->backing_id);
	else if (d->backing_grown &&
		 sys_statx(d->srv.backing.fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st) == 0 &&
		 st.stx_size == d->srv.backing.size)
		/* only if nobody (no passthrough write) grew it further */
		sys_ftruncate(d->srv.backing.fd, (int64_t)d->backing_old_size);
	d->backing_created = d->backing_grown = false;
}

/* --- open ------------------------------------------------------------------------ */

/* Open BACKING, creating it with -o size= where it is missing; says why
 * not.  Without O_CREAT, O_EXCL means something only for a block device:
 * the kernel refuses it (EBUSY) while it is mounted or claimed, which the
 * lock cannot see (another device node, a mount). */
static int backing_open_fd(const struct daemon *d, int flags, bool *created)
{
	const struct options *o = d->opt;
	int excl = o->read_only ? 0 : O_EXCL;
	struct statx st;
	int fd = sys_open(o->backing, flags | excl, 0);

	*created = false;
	if (fd == -ENOENT && o->size) {
		hold_stop_signals();	/* a death from here would leave it */
		fd = sys_open(o->backing, flags | O_CREAT | O_EXCL, 0600);
		*created = fd >= 0;
		if (fd == -EEXIST)	/* made meanwhile (or a dangling link) */
			fd = sys_open(o->backing, flags | excl, 0);
	}
	if (fd == -EBUSY) {
		/* Another fuseuring (its lock names it), or a mount, or ... */
		struct lock_query q = { .len = 0 };

		if (lock_file_id(AT_FDCWD, o->backing, &q.file))
			lock_holders(&q, q.file);
		if (q.procs)
			lock_conflict(d, &q);
		else
			error("%s: %s: a block device that is mounted or in use "
			      "elsewhere", o->backing, errno_name(fd));
	} else if (fd == -ENOENT && !o->size) {
		error("%s: %s (give -o size=N to create it)", o->backing, errno_name(fd));
	} else if (fd == -EISDIR) {
		error("%s: %s: BACKING is a file or a block device (the order is: "
		      "fuseuring [-o OPTIONS] BACKING MOUNTPOINT)", o->backing, errno_name(fd));
	} else if ((fd == -EACCES || fd == -EROFS || fd == -EPERM) && !o->read_only &&
		   sys_statx(AT_FDCWD, o->backing, 0, STATX_BASIC_STATS, &st) == 0) {
		error("%s: %s: cannot open it for writing (to serve it read-only, "
		      "add -o ro)", o->backing, errno_name(fd));
	} else if (fd < 0) {
		error("%s: %s", o->backing, errno_name(fd));
	}
	return fd;
}

/* A regular file: grow it sparse to -o size= (never shrink). */
static bool backing_regular(struct daemon *d, struct backing *b, const struct statx *st)
{
	const struct options *o = d->opt;
	struct statfs fs;

	b->size = st->stx_size;
	if (o->size > b->size) {
		hold_stop_signals();	/* a death from here would leave it grown */
		int r = sys_ftruncate(b->fd, (int64_t)o->size);

		if (r < 0) {
			error("%s: cannot extend to %lu bytes: %s", o->backing,
			      (unsigned long)o->size, errno_name(r));
			return false;
		}
		d->backing_grown = !d->backing_created;
		d->backing_old_size = b->size;
		b->size = o->size;
	}
	/* On tmpfs the page cache is the file, so O_DIRECT changes nothing
	 * but lets io_uring write without a worker thread (tmpfs cannot do
	 * non-blocking buffered writes). */
	if (sys_fstatfs(b->fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC)
		sys_add_fd_flags(b->fd, O_DIRECT);
	return true;
}

/* A block device: its size is the device's, not what statx says. */
static bool backing_block(const struct daemon *d, struct backing *b)
{
	const struct options *o = d->opt;
	int r;

	if (o->transport == TRANSPORT_PASSTHROUGH) {
		error("%s: -o passthrough needs BACKING to be a regular file "
		      "(the kernel passes through to files only)", o->backing);
		return false;
	}
	b->is_block = true;
	r = (int)sys_ioctl(b->fd, BLKGETSIZE64, &b->size);
	if (r < 0) {
		error("%s: cannot read the device size: %s", o->backing, errno_name(r));
		return false;
	}
	if (o->size > b->size) {
		error("%s: a block device of %lu bytes cannot grow to size=%lu",
		      o->backing, (unsigned long)b->size, (unsigned long)o->size);
		return false;
	}
	return true;
}

/* -o direct: BACKING again, with O_DIRECT, and the alignment it needs.
 * Opened again through its descriptor's /proc link: the very same file. */
static bool backing_direct(const struct daemon *d, struct backing *b, int flags)
{
	const char *path = d->opt->backing;
	char link[32];
	struct statx st;
	int fd;

	fmt(link, sizeof(link), "/proc/self/fd/%d", b->fd);
	fd = sys_open(link, flags | O_DIRECT, 0);
	if (fd < 0) {
		error("%s: cannot open with O_DIRECT: %s", path, errno_name(fd));
		return false;
	}
	b->direct_fd = fd;
	if (sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_DIOALIGN, &st) < 0 ||
	    !same_file(file_id(&st), d->backing_id)) {
		error("%s: changed while being opened", path);
		return false;
	}
	b->dio_align = (st.stx_mask & STATX_DIOALIGN) && st.stx_dio_offset_align ?
		       st.stx_dio_offset_align : 4096;
	if (st.stx_dio_mem_align > b->dio_align)
		b->dio_align = st.stx_dio_mem_align;
	return true;
}

/* Whether BACKING is mapped read-only for the READs its page cache holds
 * (fuseuring.c, reply_from_cache): a regular file, not -o direct, and
 * one whose page cache mincore(2) tells the truth about.  It does only to
 * a caller that owns the file or may write it (mm/mincore.c,
 * can_do_mincore); to any other it says every page is there, and every
 * large READ would then fault BACKING in from disk inside a queue.
 * Opening BACKING for writing passed that check. */
bool backing_mappable(bool direct, bool is_block, bool read_only,
		      uint32_t file_uid, uint32_t uid)
{
	return !direct && !is_block && (!read_only || file_uid == uid);
}

/* Only address space: a page is touched only once it is in the page
 * cache.  Without the mapping, every READ goes the READ_FIXED way. */
static void backing_map(struct backing *b)
{
	long p = sys_mmap(0, b->size, PROT_READ, MAP_SHARED, b->fd, 0);

	if (p < 0 && p >= MAP_FAILED_MAX)
		return;
	b->map = (const uint8_t *)p;
	b->map_len = b->size;
}

/* Where BACKING really is, from its descriptor: the mount's source, and
 * the path it is checked and cleaned up by.  The text given may lead
 * there through a symlink or a "..", and elsewhere by the time of a
 * check or an undo. */
static void backing_resolve(struct daemon *d, int fd)
{
	static char path[4096];
	char link[32];

	fmt(link, sizeof(link), "/proc/self/fd/%d", fd);
	long n = sys_readlink(link, path, sizeof(path) - 1);

	if (n > 0 && n < (long)sizeof(path) - 1 && path[0] == '/') {
		path[n] = 0;
		d->backing = path;
	}
}

bool backing_open(struct daemon *d)
{
	const struct options *o = d->opt;
	struct backing *b = &d->srv.backing;
	/* O_NONBLOCK changes nothing for plain read and write on a file, but
	 * tells io_uring it may try BACKING I/O inline before falling back to
	 * a worker thread, also on filesystems that do not announce it. */
	int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK;
	struct statx st;
	bool created;

	*b = (struct backing){ .fd = -1, .direct_fd = -1 };
	b->fd = backing_open_fd(d, flags, &created);
	if (b->fd < 0)
		return false;
	int r = sys_statx(b->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st);

	if (r < 0) {
		error("%s: %s", o->backing, errno_name(r));
		return false;
	}
	d->backing_id = file_id(&st);
	backing_resolve(d, b->fd);
	/* Before anything changes it: is another server on it?  Only a
	 * locked BACKING is ours to remove or shrink again on failure: a
	 * server that won the race for a file we created keeps it. */
	if ((st.stx_mode & S_IFMT) != S_IFDIR && !backing_lock(d, b->fd))
		return false;
	d->backing_created = created;
	switch (st.stx_mode & S_IFMT) {
	case S_IFREG:
		if (!backing_regular(d, b, &st))
			return false;
		break;
	case S_IFBLK:
		if (!backing_block(d, b))
			return false;
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
	if (backing_mappable(o->direct, b->is_block, o->read_only, st.stx_uid, sys_getuid()))
		backing_map(b);
	return !o->direct || backing_direct(d, b, flags);
}
