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

/* --- fusermount3 -------------------------------------------------------------------- */

struct fusermount_call {
	char *const *args;
	char **env;
	const char *path;	/* $PATH */
	int commfd;
};

/* The child: exec fusermount3 from the first directory of $PATH that has
 * it.  It shares the parent's memory until then (CLONE_VM). */
static void fusermount_child(void *arg)
{
	const struct fusermount_call *c = arg;

	/* Our signals are read from a signalfd, so blocked: not its. */
	sys_sigprocmask_unblock_all();
	if (c->commfd >= 0)
		sys_fcntl(c->commfd, F_SETFD, 0);	/* keep it across exec */
	for (const char *path = c->path; *path;) {
		char file[512];
		size_t len = 0;

		while (path[len] && path[len] != ':')
			len++;
		if (len + sizeof("/fusermount3") <= sizeof(file)) {
			memcpy(file, path, len);
			memcpy(file + len, "/fusermount3", sizeof("/fusermount3"));
			sys_execve(file, c->args, c->env);
		}
		path += len + (path[len] == ':');
	}
	sys_exit_now(127);
}

/* Start fusermount3 (from fuse3) with `args`; with commfd >= 0 it gets
 * that socket as _FUSE_COMMFD.  Returns the child's pid or -errno.  Any
 * thread may call it: the child runs on a stack of its own in our memory
 * until it execs (as posix_spawn does), so what fork() would leave out of
 * a child (our MADV_DONTFORK memory, worker stacks included) is no matter. */
static int spawn_fusermount(const struct daemon *d, char *const args[], int commfd)
{
	static const char commfd_key[] = "_FUSE_COMMFD=";
	char *env[258], commfd_var[32];
	struct fusermount_call c = { .args = args, .env = env, .commfd = commfd,
				     .path = "/usr/local/bin:/usr/bin:/bin" };
	size_t n = 0;

	for (char **e = d->opt->envp; *e && n < 256; e++) {
		const char *path = str_after(*e, "PATH=");

		if (path)
			c.path = path;
		if (!str_after(*e, commfd_key))
			env[n++] = *e;
	}
	if (commfd >= 0) {
		fmt(commfd_var, sizeof(commfd_var), "%s%d", commfd_key, commfd);
		env[n++] = commfd_var;
	}
	env[n] = 0;
#ifdef HOSTED
	/* Test builds: threads on the heap, nothing left out of a fork. */
	int pid = sys_fork();

	if (pid == 0)
		fusermount_child(&c);
	return pid;
#else
	uint64_t stack[1024];	/* the child's, until it execs */

	return (int)thread_spawn(CLONE_VM | CLONE_VFORK | SIGCHLD,
				 stack + COUNT(stack), 0, fusermount_child, &c);
#endif
}

/* Its exit status, or 128 + the signal that ended it. */
static int wait_child(int pid)
{
	int status = 0;

	while (sys_wait4(pid, &status, 0) == -EINTR)
		;
	return (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}

/* fusermount3 -u -z: lazily unmount `path` as an ordinary user may. */
static int fusermount_unmount(const struct daemon *d, const char *path)
{
	char *args[] = { "fusermount3", "-u", "-z", "--", (char *)path, 0 };
	int pid = spawn_fusermount(d, args, -1);

	return pid < 0 ? pid : wait_child(pid) ? -EPERM : 0;
}

/* Lazily unmount the mount found in lk: nothing new can open the volume,
 * handles already open (a loop device) keep working until closed; then
 * the kernel ends the connection.  The path mountinfo shows may lead to
 * another mount by now (one on top of ours, or over a directory above):
 * only the mount that path reaches, checked to be ours, is taken away. */
static int unmount_found(const struct daemon *d, const struct mount_lookup *lk)
{
	char self[32];
	struct mount_ident there;
	int fd = sys_open(lk->path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	int r = fd < 0 ? fd : mount_of(fd, "", &there);

	if (r == 0 && !same_mount(there, lk->want)) {
		warn("%s: another mount covers ours; leaving both", lk->path);
		r = -EBUSY;
	} else if (r == 0 && sys_has_capability(CAP_SYS_ADMIN)) {
		fmt(self, sizeof(self), "/proc/self/fd/%d", fd);
		r = sys_umount2(self, MNT_DETACH);	/* the very mount checked */
	} else if (r == 0) {
		r = fusermount_unmount(d, lk->path);
	}
	if (fd >= 0)
		sys_close(fd);
	return r;
}

/* --- MOUNTPOINT ----------------------------------------------------------------------- */

/* MOUNTPOINT holds the mount of a server that died.  What still holds it
 * open (a loop device on its volume) keeps plain umount from taking it
 * away: say so, and how to get out.  With -o recover, detach it (lazily:
 * what holds it gets errors until it lets go) if it is fuseuring's. */
static bool dead_mount(struct daemon *d, int err)
{
	const char *mnt = d->mountpoint;
	bool root = sys_has_capability(CAP_SYS_ADMIN);
	const char *umount = root ? "umount" : "fusermount3 -u";
	char loops[200];
	unsigned nloops = loops_under(mnt, loops, sizeof(loops));
	struct mount_lookup lk = { .found = false };
	struct mount_ident dead;

	/* mount -f only checks: it takes nothing away. */
	if (!d->opt->recover || d->opt->fake) {
		if (nloops)
			error("%s: %s: a FUSE mount whose server died is still there, "
			      "and %s still hold%s its volume, so 'umount' finds it busy: "
			      "'losetup -d %s', then '%s %s'; or take the dead mount away "
			      "now with '%s %s' (or start with -o recover)", mnt,
			      errno_name(err), loops, nloops > 1 ? "" : "s", loops, umount,
			      mnt, root ? "umount -l" : "fusermount3 -uz", mnt);
		else
			error("%s: %s: a FUSE mount whose server died is still there; "
			      "run '%s %s' first (or start with -o recover)", mnt,
			      errno_name(err), umount, mnt);
		return false;
	}
	int r = mount_of(d->mountpoint_fd, "", &dead);

	if (r < 0 || !mount_find(&lk, dead) || !str_eq(lk.type, "fuse.fuseuring")) {
		error("%s: %s: the dead FUSE mount there is %s%s, not fuseuring's: "
		      "-o recover leaves it alone", mnt, errno_name(err),
		      lk.found ? "of type " : "not in /proc/self/mountinfo",
		      lk.found ? lk.type : "");
		return false;
	}
	r = unmount_found(d, &lk);
	if (r < 0) {
		error("%s: -o recover: detaching the dead mount: %s", mnt, errno_name(r));
		return false;
	}
	fmt(d->dead_loops, sizeof(d->dead_loops), "%s", loops);
	if (nloops)
		warn("%s: -o recover: detached the mount of a fuseuring that died; "
		     "%s still hold%s the old volume: 'losetup -d %s'", mnt,
		     loops, nloops > 1 ? "" : "s", loops);
	else
		info("%s: -o recover: detached the mount of a fuseuring that died", mnt);
	return true;
}

/* Open MOUNTPOINT as `path` leads to it now, and say where that is. */
static bool mountpoint_resolve(struct daemon *d, const char *path)
{
	char link[32];
	int fd = sys_open(path, O_PATH | O_CLOEXEC, 0);

	if (fd < 0) {
		error("%s: %s", path, errno_name(fd));
		return false;
	}
	d->mountpoint_fd = fd;
	fmt(link, sizeof(link), "/proc/self/fd/%d", fd);
	long n = sys_readlink(link, d->mountpoint, sizeof(d->mountpoint) - 1);

	if (n <= 0 || d->mountpoint[0] != '/') {
		/* No /proc: the path as given, made absolute (the daemon
		 * changes to / and must still be able to find it). */
		char cwd[4096];

		if (sys_getcwd(cwd, sizeof(cwd)) <= 0 ||
		    !absolute_path(path, cwd, d->mountpoint, sizeof(d->mountpoint)))
			fmt(d->mountpoint, sizeof(d->mountpoint), "%s", path);
		return true;
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
		 * reaching it through its own mount would wait on itself). */
		if (lies_under(d->opt->backing, file_id(&st))) {
			error("%s: lies inside MOUNTPOINT %s; the mount would hide it",
			      d->opt->backing, mnt);
			return false;
		}
		d->root_is_file = false;
		return true;
	case S_IFREG:
		d->root_is_file = true;
		return true;
	default:
		error("%s: not a directory or regular file", mnt);
		return false;
	}
}

/* --- mounting ---------------------------------------------------------------------- */

/* Without the right to mount, do what libfuse does: fusermount3, which is
 * setuid root, opens /dev/fuse, mounts it for us and passes the descriptor
 * back over a socketpair as SCM_RIGHTS.  It mounts by path (the resolved
 * one), and checks that path itself. */
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
	char *args[] = { "fusermount3", "-o", opts, "--", d->mountpoint, 0 };
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
	d->srv.fuse_fd = fd;
	/* Ours is the mount now on top there.  Known by its ID from here on. */
	r = mount_of(AT_FDCWD, d->mountpoint, &d->mount);
	if (r < 0) {
		error("mounted %s, but cannot tell which mount is ours: %s",
		      d->mountpoint, errno_name(r));
		fusermount_unmount(d, d->mountpoint);
	}
	return r;
}

/* The FUSE mount options both ways of mounting as root take. */
struct fuse_mount_args {
	char fd[16], rootmode[16], uid[16], gid[16];
};

static void fuse_mount_args(const struct daemon *d, struct fuse_mount_args *a)
{
	fmt(a->fd, sizeof(a->fd), "%d", d->srv.fuse_fd);
	fmt(a->rootmode, sizeof(a->rootmode), "%o", d->root_is_file ? S_IFREG : S_IFDIR);
	fmt(a->uid, sizeof(a->uid), "%u", sys_getuid());
	fmt(a->gid, sizeof(a->gid), "%u", sys_getgid());
}

/* With CAP_SYS_ADMIN: the new mount API (fsopen, fsconfig, fsmount,
 * move_mount: fs/fsopen.c, fs/namespace.c, include/uapi/linux/mount.h).  The
 * filesystem is made and mounted detached, its mount ID known, then moved
 * onto the descriptor of the directory that was checked (on top of what
 * may be mounted there by now).  -ENOSYS, having said nothing, where the
 * API is not to be had (a kernel without it, a seccomp filter) or cannot
 * take BACKING's path (fsconfig copies 255 bytes at most). */
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
		step = "its mount ID";
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
	fmt(data, sizeof(data), "fd=%s,rootmode=%s,user_id=%s,group_id=%s,"
	    "default_permissions%s", a.fd, a.rootmode, a.uid, a.gid,
	    o->allow_other ? ",allow_other" : "");
	r = sys_mount(d->backing, target, "fuse.fuseuring", MS_NOSUID | MS_NODEV |
		      (o->read_only ? MS_RDONLY : 0) | (o->noexec ? MS_NOEXEC : 0), data);
	if (r < 0) {
		error("mounting on %s: %s", d->mountpoint, errno_name(r));
		return r;
	}
	r = mount_of(AT_FDCWD, d->mountpoint, &d->mount);
	if (r < 0) {
		error("mounted %s, but cannot tell which mount is ours: %s",
		      d->mountpoint, errno_name(r));
		sys_umount2(d->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW);
	}
	return r;
}

bool fuse_mount(struct daemon *d)
{
	int r;

	if (!sys_has_capability(CAP_SYS_ADMIN)) {
		r = mount_with_fusermount(d);
	} else {
		r = d->srv.fuse_fd = sys_open("/dev/fuse", O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
		if (r < 0)
			error("/dev/fuse: %s%s", errno_name(r),
			      r == -ENOENT ? " (is the fuse module loaded?)" : "");
		else if ((r = mount_with_fsmount(d)) == -ENOSYS)
			r = mount_with_mount2(d);
	}
	/* From here on our mount is known by d->mount. */
	sys_close(d->mountpoint_fd);
	d->mountpoint_fd = -1;
	return r >= 0;
}

int fuse_unmount(struct daemon *d)
{
	struct mount_lookup lk;
	int r = 0;

	/* Only our own mount: after an umount by hand something else may be
	 * mounted there by now.  Once, whoever asks first (a signal, an
	 * aborted connection, a failed queue); the others wait for it, as
	 * their next step may be to end the process. */
	if (!d->mount.id)
		return 0;
	if (!__atomic_compare_exchange_n(&d->unmount_state, &(int){ UNMOUNT_IDLE },
					 UNMOUNT_RUNNING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		while (load_acquire(&d->unmount_state) == UNMOUNT_RUNNING)
			sys_futex_wait(&d->unmount_state, UNMOUNT_RUNNING);
		return 0;
	}
	if (mount_find(&lk, d->mount))
		r = unmount_found(d, &lk);
	store_release(&d->unmount_state, UNMOUNT_DONE);
	sys_futex_wake_all(&d->unmount_state);
	return r;
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
	struct mount_ident there;
	struct statfs fs;
	struct statx st;
	char self[32];
	/* The mount MOUNTPOINT leads to, held by a descriptor, so that what
	 * is checked is what is remounted. */
	int fd = sys_open(o->mountpoint, O_PATH | O_CLOEXEC, 0);

	if (fd < 0 || mount_of(fd, "", &there) < 0 || !mount_find(&lk, there) ||
	    !str_eq(lk.type, "fuse.fuseuring")) {
		error("%s: remount: not a fuseuring mount", o->mountpoint);
		return exit_failure;
	}
	fmt(self, sizeof(self), "/proc/self/fd/%d", fd);
	/* Writable again only if its server writes BACKING: one serving it
	 * with -o ro holds it open read-only, and has a read lock on it. */
	if (o->access_given && !o->read_only &&
	    sys_statx(AT_FDCWD, lk.source, 0, STATX_BASIC_STATS, &st) == 0 &&
	    backing_locks(file_id(&st)) == LOCKS_READ) {
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
