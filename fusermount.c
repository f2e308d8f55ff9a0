/* SPDX-License-Identifier: MIT */
/* fusermount.c - mounting as an ordinary user, the way libfuse does:
 * fusermount3 (from fuse3), which is setuid root, opens /dev/fuse, mounts
 * it and passes the descriptor back over a socketpair (SCM_RIGHTS); and
 * takes the mount away again with -u.  It works by path: it resolves and
 * checks MOUNTPOINT itself.
 */
#include "lifecycle.h"

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

/* Its exit status, or 128 + the signal that ended it; 255 if its status
 * is lost (it cannot be: main() takes SIGCHLD back from a caller's
 * SIG_IGN), which counts as a failure. */
static int wait_child(int pid)
{
	int status = 0, r;

	while ((r = sys_wait4(pid, &status, 0)) == -EINTR)
		;
	if (r != pid)
		return 255;
	return (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}

/* fusermount3 -u -z: lazily unmount `path` as an ordinary user may. */
int fusermount_unmount(const struct daemon *d, const char *path)
{
	char *args[] = { "fusermount3", "-u", "-z", "--", (char *)path, 0 };
	int pid = spawn_fusermount(d, args, -1);

	return pid < 0 ? pid : wait_child(pid) ? -EPERM : 0;
}

int fusermount_mount(const struct daemon *d, const char *options)
{
	char *args[] = { "fusermount3", "-o", (char *)options, "--",
			 (char *)d->mountpoint, 0 };
	struct statx st;
	int sv[2], fd = -1;
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
	if (pid < 0) {
		error("mounting on %s: starting fusermount3: %s", d->mountpoint,
		      errno_name(pid));
		return pid;
	}
	if (fd >= 0)
		return fd;
	/* fusermount3 said why (on our stderr); the commonest reason it
	 * cannot know. */
	bool closed_device = sys_statx(AT_FDCWD, "/dev/fuse", 0, STATX_BASIC_STATS, &st) == 0 &&
			     !(st.stx_mode & 0006);

	error("mounting on %s: fusermount3 failed (exit %d)%s", d->mountpoint, r,
	      r == 127 ? ": not found; install fuse3, or run as root" :
	      closed_device ? ": /dev/fuse is not open to other users (its mode is "
	      "0600; fuse3's udev rule makes it 0666: see README, \"As an ordinary "
	      "user\")" : "");
	return -EPERM;
}
