/* SPDX-License-Identifier: MIT */
/* mount.c - MOUNTPOINT: checked, mounted on, found again in the mount
 * table, and taken away; remount; -o recover for the dead mount of a
 * server that was killed.
 *
 * MOUNTPOINT is opened once (O_PATH) and everything after works on that
 * descriptor: the checks, the mount itself (the new mount API mounts onto
 * a descriptor), and what it resolves to.  Our mount is then known by its
 * mount ID, the first column of /proc/self/mountinfo, never by the text
 * of a path: mountinfo shows resolved paths (/run/x for /var/run/x), and
 * what is at a path can change.
 */
#include "lifecycle.h"

/* --- decisions: paths and the mount table ------------------------------------- */

const char *absolute_path(const char *path, const char *cwd, char *buf, size_t cap)
{
	size_t n = 0, len;

	if (path[0] != '/') {
		n = str_len(cwd);
		if (cwd[0] != '/' || n >= cap)
			return NULL;	/* no working directory known */
		memcpy(buf, cwd, n);
		n -= n && buf[n - 1] == '/';	/* "/" */
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
				return NULL;
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

unsigned long remount_flags(const struct options *o, unsigned long statfs_flags)
{
	/* The per-mount flags are replaced whole: keep the others, read-only
	 * too unless ro or rw was asked for.  statfs's ST_* flags are the
	 * MS_* ones, but for relatime and nosymfollow. */
	unsigned long keep = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
			     MS_NODIRATIME | (o->access_given ? 0 : MS_RDONLY);
	unsigned long flags = MS_REMOUNT | (statfs_flags & keep);

	if (o->access_given && o->read_only)
		flags |= MS_RDONLY;
	if (statfs_flags & ST_NOSYMFOLLOW)
		flags |= MS_NOSYMFOLLOW;
	/* A remount that names an atime flag (nodiratime, kept above) gets
	 * relatime unless it names strictatime too (path_mount): name the
	 * mode the mount has. */
	if (statfs_flags & ST_RELATIME)
		flags |= MS_RELATIME;
	else if (!(statfs_flags & MS_NOATIME))
		flags |= MS_STRICTATIME;
	if (o->noexec_given)
		flags = (flags & ~(unsigned long)MS_NOEXEC) | (o->noexec ? MS_NOEXEC : 0);
	return flags;
}

/* --- unmounting ------------------------------------------------------------------ */

/* Lazily unmount the mount found in lk (known by ID and device, never by
 * the text of a path): nothing new can open the volume, handles already
 * open (a loop device) keep working until closed; then the kernel ends
 * the connection.  Only a fuseuring mount, reached through the path
 * mountinfo shows and checked there to be that very mount.  Where that
 * path leads elsewhere now (another mount on top of ours, a directory
 * above renamed), -EBUSY, and nothing is touched: the caller may try
 * again later. */
static int unmount_found(const struct daemon *d, const struct mount_lookup *lk)
{
	char self[32];
	struct mount_ident there;
	int fd, r;

	if (!str_eq(lk->type, "fuse.fuseuring"))
		return -EPERM;
	fd = sys_open(lk->path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	r = fd < 0 ? fd : mount_of(fd, "", &there);
	if (r == 0 && !same_mount(there, lk->mount)) {
		r = -EBUSY;
	} else if (r == 0 && sys_has_capability(CAP_SYS_ADMIN)) {
		/* The mount just checked, unless one was put on top of it
		 * since: the kernel goes down to the topmost mount on the
		 * descriptor's root (handle_lookup_down in fs/namei.c).  Then
		 * ours is still there: say so, and let the caller try again. */
		struct mount_lookup still = { .want = lk->mount };

		fmt(self, sizeof(self), "/proc/self/fd/%d", fd);
		r = sys_umount2(self, MNT_DETACH);
		if (r == 0 && mount_find(&still) > 0) {
			warn("%s: a mount on top went instead of ours", lk->path);
			r = -EBUSY;
		}
	} else if (r == 0) {
		/* fusermount3 works by path, and checks that a FUSE mount of
		 * this user is there: the one just checked, barring a rename
		 * in between. */
		r = fusermount_unmount(d, lk->path);
	}
	if (fd >= 0)
		sys_close(fd);
	return r == -ENOENT || r == -ENOTDIR ? -EBUSY : r;	/* renamed meanwhile */
}

int fuse_unmount(struct daemon *d)
{
	struct mount_lookup lk = { .want = d->mount };
	int r;

	/* Once, whoever asks first (a signal, an aborted connection, a failed
	 * queue); the others wait for its result, as their next step may be
	 * to end the process.  A failure leaves it to be asked again. */
	if (!d->mount.id)
		return 0;
	if (!__atomic_compare_exchange_n(&d->unmount_state, &(int){ UNMOUNT_IDLE },
					 UNMOUNT_RUNNING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		while (load_acquire(&d->unmount_state) == UNMOUNT_RUNNING)
			sys_futex_wait(&d->unmount_state, UNMOUNT_RUNNING);
		return load_relaxed(&d->unmount_result);
	}
	r = mount_find(&lk);
	r = r > 0 ? unmount_found(d, &lk) : r;	/* 0: gone already (umount by hand) */
	store_relaxed(&d->unmount_result, r);
	store_release(&d->unmount_state, r < 0 ? UNMOUNT_IDLE : UNMOUNT_DONE);
	sys_futex_wake_all(&d->unmount_state);
	return r;
}

unsigned copies_of_our_mount(const struct daemon *d, char *where, size_t cap)
{
	/* The same superblock (device) and its options, so its tag: binds
	 * of ours.  Copies in other mount namespaces are not seen here. */
	struct mount_lookup lk = { .want = { 0, d->mount.dev_major, d->mount.dev_minor },
				   .tag = d->mount_tag };

	where[0] = 0;
	if (mount_find(&lk) <= 0)
		return 0;
	fmt(where, cap, "%s", lk.path);
	return lk.matches;
}

/* Why our mount cannot be reached by its path now, for a message: what
 * that path leads to instead. */
void unmount_blocked_why(const struct daemon *d, char *why, size_t cap)
{
	struct mount_lookup ours = { .want = d->mount }, cover = { .found = false };

	fmt(why, cap, "its path leads elsewhere now (renamed?)");
	if (mount_find(&ours) <= 0 || mount_of(AT_FDCWD, ours.path, &cover.want) < 0 ||
	    mount_find(&cover) <= 0)
		return;
	fmt(why, cap, "another mount covers it at %s (%s %s): take that one away first",
	    ours.path, cover.type, cover.source);
}

/* --- MOUNTPOINT ----------------------------------------------------------------------- */

/* MOUNTPOINT holds the mount of a server that died.  What still holds it
 * open (a loop device on its volume, with perhaps a filesystem mounted
 * from that) keeps plain umount from taking it away: say what, and the
 * order that gets out.  With -o recover, detach it (lazily: what holds it
 * gets errors until it lets go) if it is fuseuring's. */
static bool dead_mount(struct daemon *d, int err)
{
	const char *mnt = d->mountpoint;
	bool root = sys_has_capability(CAP_SYS_ADMIN);
	const char *umount = root ? "umount" : "fusermount3 -u";
	char loops[200], mounted[600], where[600], order[1600];
	unsigned nloops = loops_under(mnt, loops, sizeof(loops));
	unsigned nmounted = nloops ? mounts_on_loops(loops, mounted, sizeof(mounted),
						     where, sizeof(where)) : 0;
	struct mount_lookup lk = { .found = false };
	int r;

	/* What the loop devices need before the old volume lets go: their
	 * filesystems unmounted, then the devices detached ('losetup -d' on a
	 * device still mounted only marks it, and it stays). */
	if (nmounted)
		fmt(order, sizeof(order), "%s: 'umount %s', then 'losetup -d %s'",
		    mounted, where, loops);
	else
		fmt(order, sizeof(order), "'losetup -d %s'", loops);
	/* mount -f only checks: it takes nothing away. */
	if (!d->opt->recover || d->opt->fake) {
		if (nloops)
			error("%s: %s: a FUSE mount whose server died is still there, and "
			      "%s still hold%s its volume (so 'umount' finds it busy); %s, "
			      "then start again with -o recover (or '%s %s'); or take the "
			      "dead mount away at once with '%s %s'", mnt, errno_name(err),
			      loops, nloops > 1 ? "" : "s", order, umount, mnt,
			      root ? "umount -l" : "fusermount3 -uz", mnt);
		else
			error("%s: %s: a FUSE mount whose server died is still there; "
			      "run '%s %s' first (or start with -o recover)", mnt,
			      errno_name(err), umount, mnt);
		return false;
	}
	r = mount_of(d->mountpoint_fd, "", &lk.want);
	if (r < 0 || mount_find(&lk) <= 0 || !str_eq(lk.type, "fuse.fuseuring")) {
		error("%s: %s: the dead FUSE mount there is %s%s, not fuseuring's: "
		      "-o recover leaves it alone", mnt, errno_name(err),
		      lk.found ? "of type " : "not in /proc/self/mountinfo",
		      lk.found ? lk.type : "");
		return false;
	}
	r = unmount_found(d, &lk);
	if (r < 0) {
		error("%s: -o recover: detaching the dead mount: %s", mnt, r == -EBUSY ?
		      "another mount covers it" : errno_name(r));
		return false;
	}
	fmt(d->dead_loops, sizeof(d->dead_loops), "%s", loops);
	if (nloops)
		warn("%s: -o recover: detached the mount of a fuseuring that died; "
		     "%s still hold%s the old volume, which answers only errors: %s, "
		     "then attach the new volume", mnt, loops, nloops > 1 ? "" : "s", order);
	else
		info("%s: -o recover: detached the mount of a fuseuring that died", mnt);
	return true;
}

/* Open MOUNTPOINT as `path` leads to it now, and say where that is. */
static bool mountpoint_resolve(struct daemon *d, const char *path)
{
	char link[32];
	int fd = sys_open(path, O_PATH | O_CLOEXEC, 0);

	if (fd == -ENOENT) {
		error("%s: %s: MOUNTPOINT must be there first ('mkdir %s'); the order "
		      "is: fuseuring [-o OPTIONS] BACKING MOUNTPOINT", path,
		      errno_name(fd), path);
		return false;
	}
	if (fd < 0) {
		error("%s: %s", path, errno_name(fd));
		return false;
	}
	d->mountpoint_fd = fd;
	/* Where it is now, as /proc/self/mountinfo shows it; our mount is
	 * found there (mount_settle), so no /proc, no start. */
	fmt(link, sizeof(link), "/proc/self/fd/%d", fd);
	long n = sys_readlink(link, d->mountpoint, sizeof(d->mountpoint) - 1);

	if (n <= 0 || d->mountpoint[0] != '/') {
		error("%s: cannot tell where it is (%s: %s): is /proc mounted?", path,
		      link, n < 0 ? errno_name((int)n) : "not a path");
		return false;
	}
	if (n == sizeof(d->mountpoint) - 1) {
		error("%s: its path is longer than %u bytes", path,
		      (unsigned)sizeof(d->mountpoint) - 2);
		return false;
	}
	d->mountpoint[n] = 0;
	return true;
}

bool mountpoint_open(struct daemon *d)
{
	const char *path = d->opt->mountpoint;
	struct statx st;

	if (!mountpoint_resolve(d, path))
		return false;
	/* Force a fresh look: a FUSE mount whose server died still answers
	 * from cached attributes for a while. */
	int r = sys_statx(d->mountpoint_fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC,
			  STATX_BASIC_STATS, &st);

	if (r != -ENOTCONN && r != -ECONNABORTED)
		return true;
	if (!dead_mount(d, r))
		return false;
	/* What was under the dead mount. */
	sys_close(d->mountpoint_fd);
	return mountpoint_resolve(d, path);
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

/* A file the daemon writes (the pidfile, -o log=) must be neither BACKING
 * nor MOUNTPOINT, and the pidfile not under MOUNTPOINT either: the mount
 * would hide it, and writing it would wait on our own mount.  `fd` is the
 * file opened already, or -1. */
static bool file_apart(const struct daemon *d, const char *what, const char *path,
		       int fd, struct file_id mountpoint)
{
	struct statx st;
	int r = fd >= 0 ? sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st) :
		sys_statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &st);
	const char *clash = r < 0 ? 0 : same_file(file_id(&st), d->backing_id) ? "BACKING" :
			    same_file(file_id(&st), mountpoint) ? "MOUNTPOINT" : 0;

	if (clash)
		error("%s %s: is %s itself", what, path, clash);
	else if (fd < 0 && !d->root_is_file && lies_under(path, mountpoint))
		error("%s %s: lies inside MOUNTPOINT %s; the mount would hide it", what,
		      path, d->mountpoint);
	else
		return true;
	return false;
}

bool mountpoint_check(struct daemon *d)
{
	const char *mnt = d->mountpoint;
	struct statx st;
	struct statfs fs;
	int r = sys_statx(d->mountpoint_fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC,
			  STATX_BASIC_STATS, &st);

	if (r < 0) {
		error("%s: %s", mnt, errno_name(r));
		return false;
	}
	if ((st.stx_attributes & STATX_ATTR_MOUNT_ROOT) &&
	    sys_fstatfs(d->mountpoint_fd, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC) {
		error("%s: is already a FUSE mount; run 'umount %s' first", mnt, mnt);
		return false;
	}
	if (same_file(file_id(&st), d->backing_id)) {
		error("%s: is BACKING itself; mounting over it would hide it", mnt);
		return false;
	}
	switch (st.stx_mode & S_IFMT) {
	case S_IFDIR:
		/* The mount would hide BACKING from everyone (and a daemon
		 * reaching it through its own mount would wait on itself).
		 * Where BACKING really is: d->backing, from its descriptor. */
		if (lies_under(d->backing, file_id(&st))) {
			error("%s: lies inside MOUNTPOINT %s; the mount would hide it",
			      d->opt->backing, mnt);
			return false;
		}
		d->root_is_file = false;
		break;
	case S_IFREG:
		d->root_is_file = true;
		break;
	default:
		error("%s: not a directory or regular file", mnt);
		return false;
	}
	return (!d->pidfile || file_apart(d, "pidfile", d->pidfile, -1, file_id(&st))) &&
	       (d->log_fd < 0 || file_apart(d, "-o log", d->opt->log_file, d->log_fd,
					   file_id(&st)));
}

/* --- mounting ---------------------------------------------------------------------- */

/* The FUSE mount options every way of mounting gives, as text. */
struct fuse_mount_args {
	char fd[16], rootmode[16], uid[16], gid[16], tag[16];
};

static void fuse_mount_args(const struct daemon *d, struct fuse_mount_args *a)
{
	fmt(a->fd, sizeof(a->fd), "%d", d->srv.fuse_fd);
	fmt(a->rootmode, sizeof(a->rootmode), "%o", d->root_is_file ? S_IFREG : S_IFDIR);
	fmt(a->uid, sizeof(a->uid), "%u", sys_getuid());
	fmt(a->gid, sizeof(a->gid), "%u", sys_getgid());
	fmt(a->tag, sizeof(a->tag), "%u", d->mount_tag);
}

/* Without the right to mount: fusermount3 (fusermount.c), with the
 * options it passes on to the kernel; it sets fd, rootmode, user_id and
 * group_id itself. */
static int mount_with_fusermount(struct daemon *d)
{
	const struct options *o = d->opt;
	struct fuse_mount_args a;
	char opts[4096 + 160];
	bool plain_name = true;

	/* fsname is the mount's source; fusermount3 cannot take one that
	 * its option syntax would split. */
	for (const char *p = d->backing; *p; p++)
		plain_name &= *p != ',' && *p != '\\';
	fuse_mount_args(d, &a);
	fmt(opts, sizeof(opts), "default_permissions,subtype=fuseuring,max_read=%s%s%s%s%s%s",
	    a.tag, o->allow_other ? ",allow_other" : "", o->read_only ? ",ro" : "",
	    o->noexec ? ",noexec" : "", plain_name ? ",fsname=" : "",
	    plain_name ? d->backing : "");
	int fd = fusermount_mount(d, opts);

	if (fd < 0)
		return fd;
	/* Non-blocking, as io_uring wants it (see queue_setup). */
	sys_add_fd_flags(fd, O_NONBLOCK);
	d->srv.fuse_fd = fd;
	return 0;
}

/* With CAP_SYS_ADMIN: the new mount API (fsopen, fsconfig, fsmount,
 * move_mount, Linux 5.2: fs/fsopen.c, fs/namespace.c,
 * include/uapi/linux/mount.h).  The filesystem is made and mounted
 * detached, then moved onto the descriptor of the directory that was
 * checked (on top of what may be mounted there by now).  -ENOSYS, having
 * said nothing, where the API is not to be had (a kernel without it, a
 * seccomp filter) or cannot take BACKING's path (fsconfig copies 255
 * bytes at most). */
static int mount_with_fsmount(struct daemon *d)
{
	const struct options *o = d->opt;
	struct fuse_mount_args a;
	int fs, mnt = -1, r;

	if (str_len(d->backing) > 255)
		return -ENOSYS;
	r = fs = sys_fsopen("fuse", FSOPEN_CLOEXEC);
	if (r == -ENOSYS || r == -EPERM)
		return -ENOSYS;
	fuse_mount_args(d, &a);
	/* default_permissions: the kernel checks mode, uid and gid for us. */
	const char *strings[][2] = {
		{ "source", d->backing }, { "subtype", "fuseuring" }, { "fd", a.fd },
		{ "rootmode", a.rootmode }, { "user_id", a.uid }, { "group_id", a.gid },
		{ "max_read", a.tag },
	};
	const char *flags[] = { "default_permissions", o->allow_other ? "allow_other" : 0,
				o->read_only ? "ro" : 0 };
	const char *step = "fsopen";

	for (size_t i = 0; r >= 0 && i < COUNT(strings); i++)
		r = sys_fsconfig(fs, FSCONFIG_SET_STRING, step = strings[i][0], strings[i][1]);
	for (size_t i = 0; r >= 0 && i < COUNT(flags); i++)
		if (flags[i])
			r = sys_fsconfig(fs, FSCONFIG_SET_FLAG, step = flags[i], 0);
	if (r >= 0) {
		step = "creating the filesystem";
		r = sys_fsconfig(fs, FSCONFIG_CMD_CREATE, 0, 0);
	}
	if (r >= 0) {
		step = "fsmount";
		r = mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				      (o->read_only ? MOUNT_ATTR_RDONLY : 0) |
				      (o->noexec ? MOUNT_ATTR_NOEXEC : 0));
	}
	if (r >= 0) {
		step = "its mount ID";	/* ours: no search needed (mount_settle) */
		r = mount_of(mnt, "", &d->mount);
	}
	if (r >= 0) {
		step = "move_mount";
		r = sys_move_mount(mnt, "", d->mountpoint_fd, "",
				   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	}
	if (r < 0)
		error("mounting on %s: %s: %s", d->mountpoint, step, errno_name(r));
	if (mnt >= 0)
		sys_close(mnt);
	sys_close(fs);
	return r;
}

/* Where the new mount API is not to be had: mount(2), onto the checked
 * directory all the same, through its descriptor's /proc/self/fd link. */
static int mount_with_mount2(struct daemon *d)
{
	const struct options *o = d->opt;
	struct fuse_mount_args a;
	char target[32], data[256];
	int r;

	fuse_mount_args(d, &a);
	fmt(target, sizeof(target), "/proc/self/fd/%d", d->mountpoint_fd);
	fmt(data, sizeof(data), "fd=%s,rootmode=%s,user_id=%s,group_id=%s,max_read=%s,"
	    "default_permissions%s", a.fd, a.rootmode, a.uid, a.gid, a.tag,
	    o->allow_other ? ",allow_other" : "");
	r = sys_mount(d->backing, target, "fuse.fuseuring", MS_NOSUID | MS_NODEV |
		      (o->read_only ? MS_RDONLY : 0) | (o->noexec ? MS_NOEXEC : 0), data);
	if (r < 0)
		error("mounting on %s: %s", d->mountpoint, errno_name(r));
	return r;
}

/* Where did our mount land?  Known by its ID where fsmount gave it, else
 * found by its tag, our user_id and (where the kernel says which) our
 * connection's device on the mount that MOUNTPOINT's directory is on
 * (`under`), as checked: ours from here on, known by ID and device.  Two
 * mounts there that match are no proof (one made by someone who read our
 * tag, on a kernel that does not say our device): the start fails.  Our
 * mount anywhere else -- MOUNTPOINT moved meanwhile, or another mount
 * appeared on it and ours went on top of that, as when two servers start
 * on one MOUNTPOINT at once -- is taken away again. */
static int mount_settle(struct daemon *d, unsigned long under)
{
	char owner[32];
	struct mount_lookup lk = { .want = d->mount, .tag = d->mount_tag,
				   .parent = under, .owner = owner };
	int r;

	fmt(owner, sizeof(owner), "user_id=%u", sys_getuid());
	if (!lk.want.id)
		fuse_connection_device(d->srv.fuse_fd, &lk.want);	/* 6.16+ */
	r = mount_find(&lk);
	if (r > 0 && lk.matches > 1) {
		error("%s: %u mounts carry our tag: cannot tell ours", d->mountpoint,
		      lk.matches);
		return -EBUSY;
	}
	if (r > 0 && lk.mount_parent == under) {
		d->mount = lk.mount;
		return 0;
	}
	lk.parent = 0;
	if (r == 0 && !d->mount.id)
		r = mount_find(&lk);	/* ours by tag, anywhere else? */
	if (r > 0) {
		d->mount = lk.mount;
		error("%s: changed while mounting (moved, or mounted on): not serving at "
		      "%s; start again", d->mountpoint, lk.path);
		r = fuse_unmount(d);
		if (r < 0)
			error("%s: taking our mount away again: %s", lk.path, errno_name(r));
		return -EBUSY;
	}
	error("mounted on %s, but our mount is not in /proc/self/mountinfo (%s): "
	      "a dead mount may be left there", d->mountpoint, r < 0 ? errno_name(r) :
	      "not there");
	return r < 0 ? r : -ENOENT;
}

/* Our mount's tag: unguessable (the 31 random bits of the exec), and not
 * carried by any mount already there. */
static uint32_t new_mount_tag(const struct daemon *d)
{
	struct mount_lookup lk = { .found = false };

	lk.tag = MOUNT_TAG_BASE | (d->random & ~MOUNT_TAG_BASE);
	/* (max_read=4294967295 is not shown: the kernel's "no limit") */
	while (lk.tag == UINT32_MAX || mount_find(&lk) > 0)
		lk.tag = MOUNT_TAG_BASE | ((lk.tag + 1) & ~MOUNT_TAG_BASE);
	return lk.tag;
}

bool fuse_mount(struct daemon *d)
{
	struct mount_ident under;
	int r = mount_of(d->mountpoint_fd, "", &under);

	d->mount_tag = new_mount_tag(d);
	if (r < 0) {
		error("%s: %s", d->mountpoint, errno_name(r));
	} else if (!sys_has_capability(CAP_SYS_ADMIN)) {
		r = mount_with_fusermount(d);
	} else {
		r = d->srv.fuse_fd = sys_open("/dev/fuse", O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
		if (r < 0)
			error("/dev/fuse: %s%s", errno_name(r),
			      r == -ENOENT ? " (is the fuse module loaded?)" : "");
		else if ((r = mount_with_fsmount(d)) == -ENOSYS)
			r = mount_with_mount2(d);
	}
	if (r >= 0)
		r = mount_settle(d, under.id);
	sys_close(d->mountpoint_fd);
	d->mountpoint_fd = -1;
	return r >= 0;
}

/* --- remount ------------------------------------------------------------------------ */

/* mount -o remount,ro|rw[,noexec|exec] MOUNTPOINT, as mount(8) asks for
 * it (through mount.fuse.fuseuring, or mount.fuse3 running "fuseuring
 * SOURCE MOUNTPOINT -o ...,remount,...").  Only what the kernel can change
 * on a mounted FUSE filesystem changes; the rest of the list is the mount
 * table's, fixed while mounted. */
int remount(const struct options *o)
{
	struct mount_lookup lk = { .found = false };
	struct statfs fs;
	struct file_id file;
	char self[32];
	/* The mount MOUNTPOINT leads to, held by a descriptor, so that what
	 * is checked is what is remounted. */
	int fd = sys_open(o->mountpoint, O_PATH | O_CLOEXEC, 0);

	if (fd < 0 || mount_of(fd, "", &lk.want) < 0 || mount_find(&lk) <= 0 ||
	    !str_eq(lk.type, "fuse.fuseuring")) {
		error("%s: remount: not a fuseuring mount", o->mountpoint);
		return exit_failure;
	}
	fmt(self, sizeof(self), "/proc/self/fd/%d", fd);
	/* Writable again only if its server writes BACKING: one serving it
	 * with -o ro has a read lock on it.  The server is the process whose
	 * /dev/fuse descriptor is this mount's connection; where the kernel
	 * does not say (before 6.16), the lock on the file its source names
	 * is checked. */
	int server = fuse_server_of(lk.mount);
	enum lock_seen served = server > 0 ? server_locks(server) : LOCKS_NONE;

	if (served == LOCKS_NONE && lock_file_id(AT_FDCWD, lk.source, &file))
		served = backing_locks(file);
	if (o->access_given && !o->read_only && served == LOCKS_READ) {
		error("%s: remount,rw: its server has %s open read-only (-o ro); "
		      "writes would fail with EROFS: restart fuseuring without ro",
		      lk.path, lk.source);
		return exit_failure;
	}
	int r = sys_fstatfs(fd, &fs);
	unsigned long flags = remount_flags(o, r < 0 ? MS_NOSUID | MS_NODEV | ST_RELATIME :
					    (unsigned long)fs.f_flags);

	r = sys_mount(lk.source, self, 0, flags, 0);
	if (r < 0) {
		error("%s: remount: %s%s", lk.path, errno_name(r), r == -EPERM ?
		      " (needs CAP_SYS_ADMIN: fusermount3 cannot remount)" : "");
		return exit_failure;
	}
	if (o->verbose)
		info("%s: remounted %s%s", lk.path, flags & MS_RDONLY ? "read-only" : "read-write",
		     flags & MS_NOEXEC ? ", noexec" : "");
	return 0;
}
