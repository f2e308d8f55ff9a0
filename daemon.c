/* SPDX-License-Identifier: MIT */
/* daemon.c - the process: main() reads the command line, prepares (BACKING,
 * MOUNTPOINT), detaches, mounts and answers INIT (handshake.c), starts one
 * worker thread per queue, and then waits on signals and the queues'
 * blocking BACKING calls until the last worker ends it.  Every way out
 * (a signal, an unmount by hand, an aborted connection, a failed queue)
 * leaves no mount behind.  What happens to a request is fuseuring.c's
 * business.
 */
#include "lifecycle.h"

/* Was this process asked to stop while its stop signals were blocked? */
static bool stop_pending(void)
{
	return sys_sigpending() & STOP_SIGNALS & ~SIGNAL_BIT(SIGUSR1);
}

static struct daemon *daemon_of(struct server *srv)
{
	return (struct daemon *)((char *)srv - offsetof(struct daemon, srv));
}

/* --- systemd, the pidfile, the end ---------------------------------------------- */

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

/* STOPPING=1, once: on the first signal, else when leaving. */
static void notify_stopping(const struct daemon *d)
{
	static bool said;

	if (!test_and_set(&said))
		notify_systemd(d, "STOPPING=1");
}

/* Leave for good: tell systemd, and the pidfile goes with the process, if
 * it is still the one we wrote. */
static _Noreturn void server_exit(const struct daemon *d, int status)
{
	notify_stopping(d);
	if (d->pidfile_id.ino)
		unlink_if_same(d->pidfile, d->pidfile_id);
	sys_exit_group(status);
}

/* Every way out once mounted: our mount goes first (left behind, it would
 * answer every access with an error, "Transport endpoint is not
 * connected"), or, where it cannot, say so and how to take it away. */
static bool unmount_or_say(struct daemon *d)
{
	int r = fuse_unmount(d);
	char why[300];

	if (r == -EBUSY)
		unmount_blocked_why(d, why, sizeof(why));
	if (r < 0)
		error("%s: our mount stays, dead, answering errors (%s): then '%s %s'",
		      d->mountpoint, r == -EBUSY ? why : errno_name(r),
		      sys_has_capability(CAP_SYS_ADMIN) ? "umount -l" : "fusermount3 -uz",
		      d->mountpoint);
	return r == 0;
}

static _Noreturn void exit_unmounted(struct daemon *d, int status)
{
	/* First: the unmount ends the workers, and the last of them may
	 * leave before us, with the status it finds. */
	if (status)
		store_relaxed(&d->srv.exit_status, status);
	server_exit(d, unmount_or_say(d) ? status : 1);
}

/* Open `path` for writing, without following a symlink or waiting on a
 * FIFO, and only if it is a regular file (what a FIFO planted there
 * would do: block us, or take lines away).  An fd, or -errno; -EINVAL
 * when it is not a regular file. */
static int open_regular_file(const char *path, int flags, struct statx *st)
{
	int fd = sys_open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
			  O_NONBLOCK | O_NOCTTY | flags, 0644);
	int r = fd < 0 ? fd : sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, st);

	if (r == 0 && (st->stx_mode & S_IFMT) != S_IFREG)
		r = -EINVAL;
	if (r < 0 && fd >= 0)
		sys_close(fd);
	return r < 0 ? r : fd;
}

/* Write our pid to d->pidfile: into a new file beside it, renamed over
 * it, so that a reader never sees it half written and a server that
 * wrote it before us no longer takes it away when it exits (it removes
 * only the file it wrote).  Remember which file that is. */
static bool write_pidfile(struct daemon *d)
{
	char line[16], new_path[4096 + 16];
	struct statx st;
	size_t n = fmt(line, sizeof(line), "%d\n", sys_getpid());
	int fd = -ENAMETOOLONG, r;

	/* Only a regular file is replaced (a FIFO, a directory or a device
	 * there is someone else's). */
	if (sys_statx(AT_FDCWD, d->pidfile, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) == 0 &&
	    (st.stx_mode & S_IFMT) != S_IFREG)
		fd = -EINVAL;
	else if (fmt(new_path, sizeof(new_path), "%s.%d", d->pidfile, sys_getpid()) <
		 sizeof(new_path) - 1)
		fd = open_regular_file(new_path, O_EXCL, &st);
	r = fd;
	if (fd >= 0 && sys_write(fd, line, n) != (long)n)
		r = -EIO;
	if (fd >= 0)
		sys_close(fd);
	if (r >= 0)
		r = sys_rename(new_path, d->pidfile);
	if (r < 0) {
		if (fd >= 0)
			sys_unlinkat(AT_FDCWD, new_path, 0);
		error("pidfile %s: %s", d->pidfile,
		      r == -EINVAL ? "not a regular file" : errno_name(r));
		return false;
	}
	d->pidfile_id = file_id(&st);
	return true;
}

/* --- the workers ----------------------------------------------------------------- */

static void worker_main(void *arg)
{
	struct queue *q = arg;
	struct daemon *d = daemon_of(q->srv);
	int status = queue_serve(q);

	if (q->failed) {
		/* Its requests would wait forever: better no volume at all. */
		error("queue %u cannot go on; unmounting %s", q->index, d->mountpoint);
		exit_unmounted(d, 1);
	}
	if (status)
		store_relaxed(&d->srv.exit_status, status);
	/* The last worker out ends the process. */
	if (sub_fetch_acq_rel(&d->srv.workers_left, 1) != 0)
		return;
	/* The connection was cut (fusectl abort): the mount answers ENOTCONN
	 * to everyone until it is gone, so take it away.  Otherwise it went
	 * with an unmount, and there is nothing left to take away. */
	if (load_relaxed(&d->srv.aborted))
		error("the FUSE connection was aborted; detaching %s", d->mountpoint);
	exit_unmounted(d, load_relaxed(&d->srv.exit_status));
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

/* --- signals and the main thread's loop --------------------------------------------- */

/* The main thread's state: the signal being read, and whether the daemon
 * is stopping (a first signal came). */
struct control {
	struct daemon *d;
	int sigfd;
	struct signalfd_siginfo si;
	bool stopping;
	bool retrying;			/* our mount could not be reached yet */
	struct kernel_timespec retry_after;
};

/* An SQE of the main ring, for event `e`, on `addr` and `len`. */
static struct io_uring_sqe *control_sqe(struct control *ctl, uint8_t opcode,
					void *addr, uint32_t len, enum event e)
{
	if (!uring_reserve(&ctl->d->srv.control, 1)) {
		error("main ring: takes no submissions");
		exit_unmounted(ctl->d, 1);
	}
	struct io_uring_sqe *sqe = uring_get_sqe(&ctl->d->srv.control);

	sqe->opcode = opcode;
	sqe->addr = (uint64_t)addr;
	sqe->len = len;
	sqe->user_data = ud_make(e, 0);
	return sqe;
}

/* The signalfd is read through the main ring too, so one wait covers
 * signals, the queues' blocking calls, and the retries below. */
static void read_signal(struct control *ctl)
{
	control_sqe(ctl, IORING_OP_READ, &ctl->si, sizeof(ctl->si), EV_SIGNAL)->fd = ctl->sigfd;
}

/* Take our mount away, as a signal asked.  Where it cannot be reached by
 * its path now (another mount on top of it, a directory above moved),
 * try again every second: meanwhile it is served as before. */
static void unmount_or_retry(struct control *ctl)
{
	struct daemon *d = ctl->d;
	char why[300], where[400];
	int r = fuse_unmount(d);
	unsigned copies;

	if (r == 0 && (copies = copies_of_our_mount(d, where, sizeof(where))))
		warn("%s: unmounted; %u mount --bind copies stay (the first at %s): "
		     "serving until they go", d->mountpoint, copies, where);
	if (r == 0)
		return;
	if (!ctl->retrying) {
		if (r == -EBUSY)
			unmount_blocked_why(d, why, sizeof(why));
		warn("cannot unmount %s now (%s); trying again every second, serving "
		     "meanwhile (a second signal exits at once, and leaves it dead)",
		     d->mountpoint, r == -EBUSY ? why : errno_name(r));
	}
	ctl->retrying = true;
	ctl->retry_after = (struct kernel_timespec){ 1, 0 };
	control_sqe(ctl, IORING_OP_TIMEOUT, &ctl->retry_after, 1, EV_UNMOUNT_RETRY);
}

static void on_signal(struct control *ctl)
{
	struct daemon *d = ctl->d;
	unsigned sig = ctl->si.ssi_signo;

	if (sig == SIGUSR1) {
		log_stats(&d->srv);
		return;
	}
	if (ctl->stopping) {
		warn("second signal: exiting now; open handles on the volume will fail");
		exit_unmounted(d, 1);
	}
	ctl->stopping = true;
	info("%s: unmounting %s; exiting once open handles close",
	     sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM", d->mountpoint);
	notify_stopping(d);
	unmount_or_retry(ctl);
}

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
			on_signal(ctl);
		else if (cqe->res != -EINTR && cqe->res != -EAGAIN) {
			error("reading signals: %s", errno_name(cqe->res));
			exit_unmounted(ctl->d, 1);
		}
		read_signal(ctl);
		break;
	case EV_UNMOUNT_RETRY:
		unmount_or_retry(ctl);
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
	read_signal(&ctl);
	for (;;) {
		int r = uring_submit_and_wait(&d->srv.control, 1);

		if (r < 0 && !uring_enter_failed_for_now(r)) {
			error("main ring: io_uring_enter: %s", errno_name(r));
			exit_unmounted(d, 1);
		}
		uring_drain(&d->srv.control, &ctl, on_control_completion);
	}
}

/* --- detaching -------------------------------------------------------------------- */

/* The parent of a detaching daemon: wait until the child says the volume
 * is served ("R" and the "serving" line), check that it opens, say what
 * serves it (unless quiet), and hand the shell back. */
static _Noreturn void await_child(int pid, int ready_fd, const struct daemon *d,
				  const char *volume, bool quiet)
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
		struct statx st;

		/* An error of its own, it has said; killed, it could not. */
		if (sys_wait4(pid, &status, 0) == pid && (status & 0x7f)) {
			int r = sys_statx(AT_FDCWD, d->mountpoint, AT_STATX_FORCE_SYNC,
					  STATX_BASIC_STATS, &st);
			/* (ECONNABORTED: a request that was waiting when it died) */
			bool dead = r == -ENOTCONN || r == -ECONNABORTED;

			error("the daemon (pid %d) was killed by signal %d while starting%s%s%s",
			      pid, status & 0x7f, dead ? "; its dead mount is left at " : "",
			      dead ? d->mountpoint : "", dead ? ": start again with -o "
			      "recover, which takes it away" : "");
		}
		sys_exit_group(exit_failure);
	}
	/* A signal to stop sent to this process while the child started
	 * stops the child too, which serves by now: it unmounts and goes. */
	if (stop_pending()) {
		error("interrupted while starting; stopping the daemon");
	} else {
		int fd = sys_open(volume, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
		struct statx st;

		if (fd >= 0)
			sys_close(fd);
		/* Not ours to open (uid=, mode=)?  That it answers is enough. */
		if (fd >= 0 || (fd == -EACCES &&
				sys_statx(AT_FDCWD, volume, 0, STATX_BASIC_STATS, &st) == 0)) {
			if (!quiet && msg[1])
				info("%s", msg + 1);
			/* (and one that came meanwhile: the last moment) */
			if (!stop_pending())
				sys_exit_group(0);
			error("interrupted while starting; stopping the daemon");
		} else {
			error("%s: %s; stopping the daemon", volume, errno_name(fd));
		}
	}
	sys_kill(pid, SIGTERM);
	sys_wait4(pid, &(int){ 0 }, 0);	/* and with it, its mount */
	sys_exit_group(exit_failure);
}

/* Without -f: fork.  The parent waits in await_child() and never returns;
 * the child returns the pipe on which to say that it serves. */
static int detach(const struct daemon *d, const char *volume, bool quiet)
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
		await_child(pid, pipe_fds[0], d, volume, quiet);
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

	log_detach(d->log_fd);
	for (int fd = 0; fd < 3; fd++)
		sys_dup3(null, fd, 0);
	sys_close(null);
	sys_chdir("/");
	sys_write(ready_fd, msg, fmt(msg, sizeof(msg), "R%s", status));
	sys_close(ready_fd);
}

/* --- starting -------------------------------------------------------------------- */

/* truncate on the volume without -o resize: the kernel's EPERM says
 * nothing about why; the log says it, once. */
static void refused_resize(void)
{
	static bool said;

	if (!test_and_set(&said))
		warn("truncate on the volume refused (EPERM): its size changes only "
		     "with -o resize");
}

/* -o log=FILE: appended to, never followed through a symlink, and only a
 * regular file (a FIFO would block or drop lines). */
static bool open_log_file(struct daemon *d, const char *path)
{
	struct statx st;

	d->log_fd = open_regular_file(path, O_APPEND, &st);
	if (d->log_fd < 0)
		error("-o log=%s: %s", path,
		      d->log_fd == -EINVAL ? "not a regular file" : errno_name(d->log_fd));
	return d->log_fd >= 0;
}

/* Open BACKING, check MOUNTPOINT and describe the volume. */
static bool server_prepare(struct daemon *d, const struct options *opt)
{
	static char pid_path[4096], backing_path[4096];
	char cwd[4096];

	d->opt = opt;
	if (sys_getcwd(cwd, sizeof(cwd)) <= 0)
		cwd[0] = 0;
	d->backing = absolute_path(opt->backing, cwd, backing_path, sizeof(backing_path));
	if (!d->backing)
		d->backing = opt->backing;
	if (opt->pidfile)
		d->pidfile = absolute_path(opt->pidfile, cwd, pid_path, sizeof(pid_path));
	if (opt->pidfile && !d->pidfile) {
		error("pidfile %s: %s", opt->pidfile, errno_name(-ENAMETOOLONG));
		return false;
	}
	if (!kernel_check(d) || (opt->log_file && !opt->fake && !open_log_file(d, opt->log_file)))
		return false;
	/* The signals that stop the server end a start at once (even one
	 * waiting in the kernel on a MOUNTPOINT or BACKING that does not
	 * answer) until it makes what a death would leave behind: a BACKING
	 * it creates or grows (-o size=, backing.c), else the mount (main).
	 * From there they wait, blocked, until the main ring reads them from
	 * a signalfd, and end the start once it serves, by the one way out
	 * that takes away what it made. */
	if (!mountpoint_open(d) || !backing_open(d) || !mountpoint_check(d))
		return false;
	for (char **e = opt->envp; *e; e++)
		if (str_after(*e, "NOTIFY_SOCKET="))
			d->notify_socket = str_after(*e, "NOTIFY_SOCKET=");
	d->srv.vol = (struct volume){
		.name = opt->name, .name_len = (uint32_t)str_len(opt->name),
		.root_is_file = d->root_is_file, .read_only = opt->read_only,
		.resizable = opt->resize, .max_write = (uint32_t)opt->max_write,
		.size = d->srv.backing.size, .mode = opt->mode, .uid = opt->uid,
		.gid = opt->gid, .refused_resize = refused_resize,
	};
	d->srv.depth = opt->depth;
	d->srv.debug = opt->debug;
	read_cpus(&d->srv);
#ifdef FAULT_INJECTION
	fault_setup(&d->srv, opt->envp);
#endif
	return true;
}

/* Mount, answer INIT, and start the workers.  Unmounts again on failure. */
static bool server_start(struct daemon *d)
{
	const unsigned flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			       IORING_SETUP_SUBMIT_ALL | IORING_SETUP_NO_SQARRAY;
	unsigned entries = 8;
	int r;

	/* Before mounting: written later, a pidfile reached through our own
	 * mount would wait for the very server that writes it. */
	if (d->pidfile && !write_pidfile(d))
		return false;
	if (!fuse_mount(d))
		goto unmount;
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
	unmount_or_say(d);
	if (d->pidfile_id.ino)	/* it was written: still ours? */
		unlink_if_same(d->pidfile, d->pidfile_id);
	return false;
}

/* --- main ---------------------------------------------------------------------- */

/* Started with 0, 1 or 2 closed (`fuseuring ... 2>&-`), the next open
 * would take its number: BACKING would become "stderr", and every message
 * would be written into it.  Fill the gaps with /dev/null first (with "/"
 * opened O_PATH where there is no /dev/null: writes to it fail). */
static void fill_standard_descriptors(void)
{
	for (;;) {
		int fd = sys_open("/dev/null", O_RDWR | O_NOCTTY, 0);

		if (fd < 0)
			fd = sys_open("/", O_PATH, 0);
		if (fd < 0 || fd > 2) {
			if (fd > 2)
				sys_close(fd);
			return;
		}
	}
}

int main(int argc, char **argv, char **envp)
{
	static struct options opt;
	static struct daemon d;
	char volume[4400], status[4900];
	int ready_fd = -1;

	/* Descriptors inherited from the caller are not ours to keep: one
	 * could be the pipe of a $(...) waiting for us to finish. */
	sys_close_from(3);
	fill_standard_descriptors();
	/* SIGPIPE and SIGXFSZ never kill: a write to a closed stderr fails
	 * with EPIPE, a BACKING past RLIMIT_FSIZE with EFBIG.  SIGCHLD
	 * ignored by the caller would lose fusermount3's exit status.  (The
	 * signals that stop the server: server_prepare.) */
	sys_sigprocmask_block(SIGNAL_BIT(SIGPIPE) | SIGNAL_BIT(SIGXFSZ));
	sys_signal_default(SIGCHLD);
	opt = (struct options){
		.name = "volume", .uid = sys_getuid(), .gid = sys_getgid(),
		.mode = 0600, .depth = 16, .max_write = 256 << 10, .envp = envp,
	};
	d.srv.page_size = sys_page_size(envp);
	d.random = sys_exec_random(envp);
	d.log_fd = d.mountpoint_fd = -1;
	parse_command_line(&opt, argc, argv, d.srv.page_size);
	if (opt.version)
		return print_version();
	if (opt.remount)
		return remount(&opt);
	/* The "serving" line: on the terminal unless -o quiet; for mount(8)
	 * only with mount -v. */
	bool quiet = opt.quiet || (opt.helper && !opt.verbose);

	if (!server_prepare(&d, &opt)) {
		backing_undo(&d);
		return exit_failure;
	}
	if (opt.fake) {
		backing_undo(&d);
		return 0;	/* mount -f: all checked, nothing to mount */
	}
	fmt(volume, sizeof(volume), "%s%s%s", d.mountpoint,
	    d.root_is_file ? "" : "/", d.root_is_file ? "" : opt.name);
	/* Asked to stop already (a child of the fork would not know): the
	 * start fails here, before it mounts. */
	hold_stop_signals();
	if (stop_pending()) {
		error("interrupted while starting");
		backing_undo(&d);
		return exit_failure;
	}
	if (!opt.foreground)
		ready_fd = detach(&d, volume, quiet);

	/* Signals are read from a signalfd by this thread; every thread,
	 * including the workers created later, keeps them blocked (main). */
	int sigfd = sys_signalfd(STOP_SIGNALS, SFD_CLOEXEC | O_NONBLOCK);

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
		info("PR_SET_IO_FLUSHER needs CAP_SYS_RESOURCE: writeback through "
		     "the volume can stall under memory pressure");
	if (!server_start(&d)) {
		backing_undo(&d);
		return exit_failure;
	}
	fmt(status, sizeof(status), "serving %s at %s: transport %s (%s), %u queues, "
	    "depth %u, max_write %u%s, FUSE 7.%u", d.backing, volume, transport_name(&d.srv),
	    d.srv.transport_why, d.srv.nqueues, d.srv.depth, d.srv.vol.max_write,
	    d.shrunk, d.kernel_minor);
	if (!opt.foreground)
		finish_detaching(&d, ready_fd, status);
	if (!quiet || !opt.foreground)
		info("%s", status);	/* detached: to the log */
	char ready[5000];

	fmt(ready, sizeof(ready), "READY=1\nMAINPID=%d\nSTATUS=%s", sys_getpid(), status);
	notify_systemd(&d, ready);
	control_loop(&d, sigfd);
}
