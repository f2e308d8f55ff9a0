/* SPDX-License-Identifier: MIT */
/* handshake.c - INIT: what the kernel offers (and -V's report of it),
 * which transport serves, and the queues, sized to the locked memory
 * there is.  Once the reply advertises FUSE_OVER_IO_URING the kernel
 * holds every request until all its queues have ring entries, so the
 * queues are built between reading INIT and answering it.
 */
#include "lifecycle.h"

/* --- decisions ------------------------------------------------------------------- */

unsigned cpu_list_mask(const char *list, uint64_t *mask, unsigned words)
{
	unsigned count = 0;
	uint64_t first, last, next = 0;	/* next: where the next range may start */
	const char *p = list;

	for (unsigned w = 0; w < words; w++)
		mask[w] = 0;
	for (;; p++) {
		if (!(p = parse_uint(p, 10, &first)))
			goto garbage;
		last = first;
		if (*p == '-' && !(p = parse_uint(p + 1, 10, &last)))
			goto garbage;
		if (first < next || last < first || last >= CPU_LIST_END)
			goto garbage;
		count += (unsigned)(last - first + 1);
		for (uint64_t cpu = first; cpu <= last && cpu < 64ull * words; cpu++)
			mask[cpu / 64] |= 1ull << (cpu % 64);
		next = last + 1;
		if (*p != ',')
			break;
	}
	if (!*p || (*p == '\n' && !p[1]))
		return count;
garbage:
	for (unsigned w = 0; w < words; w++)
		mask[w] = 0;
	return 0;
}

unsigned cpu_list_count(const char *list)
{
	return cpu_list_mask(list, NULL, 0);
}

/* How many /dev/fuse queues serve, for queues= (0: not given). */
static unsigned dev_queues(unsigned asked, unsigned cpus)
{
	unsigned cap = cpus < DEV_QUEUES_MAX ? cpus : DEV_QUEUES_MAX;

	return asked && asked < cap ? asked : cap;
}

void transport_decide(const struct options *o, const struct transport_facts *f,
		      struct transport_plan *p)
{
	bool uring = f->offered & FUSE_OVER_IO_URING;
	/* Why passthrough may not serve, or NULL. */
	const char *no_passthrough =
		!(f->offered & FUSE_PASSTHROUGH) ? "the kernel does not offer passthrough" :
		!f->may_passthrough ? "passthrough needs CAP_SYS_ADMIN" :
		f->is_block ? "passthrough needs a regular file" :
		o->direct ? "-o direct" :
		o->debug ? "-o debug shows every request" :
		/* The kernel writes BACKING itself, past the volume's end too:
		 * only a volume that may grow, or that nobody writes, can
		 * have it. */
		!o->resize && !o->read_only ?
		"passthrough would grow BACKING past its end: -o resize allows it" : 0;
	*p = (struct transport_plan){
		.transport = TRANSPORT_DEV, .resizable = o->resize,
		.nqueues = f->queues_asked ? f->queues_asked : f->cpus,
	};
	fmt(p->why, sizeof(p->why), "asked for");
	switch (o->transport) {
	case TRANSPORT_URING:
		if (!uring)
			fmt(p->refusal, sizeof(p->refusal),
			    "-o transport=uring: the kernel does not offer FUSE over "
			    "io_uring (needs Linux 6.14+ and Y in "
			    "/sys/module/fuse/parameters/enable_uring)");
		/* The kernel holds every request until each of its queues,
		 * one per possible CPU, has entries: without that count the
		 * ring never becomes ready. */
		else if (!f->kernel_queues)
			fmt(p->refusal, sizeof(p->refusal),
			    "-o transport=uring: cannot count the possible CPUs "
			    "(/sys/devices/system/cpu/possible is unreadable), and "
			    "the kernel wants one queue for each");
		p->transport = TRANSPORT_URING;
		break;
	case TRANSPORT_PASSTHROUGH:
		if (!(f->offered & FUSE_PASSTHROUGH))
			fmt(p->refusal, sizeof(p->refusal),
			    "-o passthrough: the kernel does not offer FUSE passthrough "
			    "(needs Linux 6.9+ built with CONFIG_FUSE_PASSTHROUGH)");
		p->passthrough = true;
		/* Writes past the end grow BACKING, so truncate may too. */
		if (!o->read_only && !o->resize) {
			p->resizable = true;
			fmt(p->why, sizeof(p->why), "asked for; the volume grows with "
			    "writes past its end, and truncate resizes it");
		}
		break;
	case TRANSPORT_DEV:
		break;
	case TRANSPORT_AUTO:
		if (!no_passthrough) {
			p->passthrough = true;
			fmt(p->why, sizeof(p->why), "auto: the kernel moves the data "
			    "itself, the fastest path%s", o->read_only ?
			    "; read-only, so BACKING cannot grow" : "");
		} else if (uring && f->kernel_queues && f->cpus >= URING_MIN_CPUS) {
			p->transport = TRANSPORT_URING;
			fmt(p->why, sizeof(p->why), "auto: %u CPUs; %s", f->cpus,
			    no_passthrough);
		} else {
			fmt(p->why, sizeof(p->why), "auto: %s; %s",
			    !uring ? "FUSE over io_uring is off" :
			    !f->kernel_queues ? "possible CPUs unknown" :
			    "fewer than 8 CPUs", no_passthrough);
		}
		break;
	}
	if (p->transport == TRANSPORT_DEV)
		p->nqueues = dev_queues(f->queues_asked, f->cpus);
	/* A worker without a kernel queue to serve would have nothing to do. */
	if (p->transport == TRANSPORT_URING && p->nqueues > f->kernel_queues)
		p->nqueues = f->kernel_queues;
}


/* One step smaller, in the order that costs least: max_write down to 64
 * KiB (random I/O needs requests in flight, not large ones), then depth,
 * then max_write further, then /dev/fuse queues. */
bool queue_shape_shrink(struct server *srv)
{
	uint32_t half = srv->vol.max_write / 2;
	bool can_halve = half >= 16384 && half % srv->page_size == 0;

	if (can_halve && half >= 65536)
		srv->vol.max_write = half;
	else if (srv->depth > 1)
		srv->depth--;
	else if (can_halve)
		srv->vol.max_write = half;
	else if (srv->transport == TRANSPORT_DEV && srv->nqueues > 1)
		srv->nqueues--;
	else
		return false;
	return true;
}

/* io_uring charges ring memory to the same limit as the buffers: the
 * queues' rings and the main thread's (SQ, CQ, buffer ring). */
#define RING_LOCKED_BYTES	(64 * 1024)

bool queue_shape_fit(struct server *srv, uint64_t budget)
{
	for (;;) {
		uint64_t rings = RING_LOCKED_BYTES * (srv->nqueues + 1);

		if (queues_locked_bytes(srv) + rings <= budget)
			return true;
		if (!queue_shape_shrink(srv))
			return false;
	}
}

/* --- the system, read ------------------------------------------------------------- */

/* The CPUs this process may run on (its affinity). */
static unsigned count_usable_cpus(void)
{
	uint64_t mask[16] = { 0 };
	int r = sys_sched_getaffinity(mask, sizeof(mask));
	unsigned n = 0;

	for (int i = 0; i < r / 8; i++)
		for (uint64_t m = mask[i]; m; m &= m - 1)
			n++;
	return n ? n : 1;
}

/* The CPUs of a list in /sys ("0-3,8"), into mask if it is not NULL; 0
 * when it cannot be read whole. */
static unsigned read_cpu_list(const char *path, uint64_t *mask, unsigned words)
{
	char buf[4096];
	long n = read_small(path, buf, sizeof(buf));

	if (n > 0 && n < (long)sizeof(buf) - 1)
		return cpu_list_mask(buf, mask, words);
	for (unsigned w = 0; w < words; w++)
		mask[w] = 0;
	return 0;
}

void read_cpus(struct server *srv)
{
	/* FUSE over io_uring has one queue per possible CPU
	 * (num_possible_cpus()); 0 when the list cannot be read (no /sys):
	 * the CPUs we may run on are no substitute, as a machine can have
	 * possible CPUs that are not online. */
	srv->kernel_queues = read_cpu_list("/sys/devices/system/cpu/possible", NULL, 0);
	read_cpu_list("/sys/devices/system/cpu/online", srv->cpus_online,
		      COUNT(srv->cpus_online));
}

/* FUSE over io_uring: N (off, the default) or Y; absent before 6.14. */
static const char enable_uring[] = "/sys/module/fuse/parameters/enable_uring";

bool uring_switched_on(void)
{
	char value[8];
	long n = read_small(enable_uring, value, sizeof(value));

	if (n < 0) {
		error("-o transport=uring: this kernel has no FUSE over io_uring "
		      "(%s: %s; needs Linux 6.14+)", enable_uring, errno_name((int)n));
		return false;
	}
	if (value[0] != 'Y') {
		error("-o transport=uring: FUSE over io_uring is switched off "
		      "(as root: echo Y > %s)", enable_uring);
		return false;
	}
	return true;
}

/* -V: the version, and what this kernel offers fuseuring, as far as it
 * can be told without mounting (the FUSE protocol minor the kernel
 * speaks comes with INIT: the "serving" line says it). */
int print_version(void)
{
	char buf[1536], rel[128], uring_on[8];
	struct uring r;
	struct statx st;
	int err = uring_init(&r, 2, 0, 0);
	uint64_t major = 0, minor = 0;
	bool multishot = err == 0 && uring_has_op(&r, IORING_OP_READ_MULTISHOT);
	const char *p;

	if (err == 0)
		uring_unmap(&r);
	if (read_small("/proc/sys/kernel/osrelease", rel, sizeof(rel)) <= 0)
		fmt(rel, sizeof(rel), "?");
	if ((p = parse_uint(rel, 10, &major)) && *p == '.')
		parse_uint(p + 1, 10, &minor);
	for (char *nl = rel; *nl; nl++)
		if (*nl == '\n')
			*nl = 0;
	bool since_6_9 = major > 6 || (major == 6 && minor >= 9);
	long on = read_small(enable_uring, uring_on, sizeof(uring_on));
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
		"off: as root, echo Y > ", on < 0 || uring_on[0] == 'Y' ? "" : enable_uring,
		since_6_9 ? "yes (Linux 6.9+, if built with CONFIG_FUSE_PASSTHROUGH)" :
		"no (Linux 6.9+)", !since_6_9 ? "" : sys_has_capability(CAP_SYS_ADMIN) ?
		"; needs CAP_SYS_ADMIN: you have it" : "; needs CAP_SYS_ADMIN: not yours");

	sys_write(1, buf, n);
	return 0;
}

/* Locked memory ran out: how much there is, and where the rest went. */
static void memlock_advice(char *buf, size_t cap)
{
	struct rlimit64 rl = { 0, 0 };

	sys_getrlimit(RLIMIT_MEMLOCK, &rl);
	fmt(buf, cap, "other mounts of this user hold its locked memory: io_uring "
	    "counts all of a user's processes against RLIMIT_MEMLOCK, %lu KiB here "
	    "(VmPin in /proc/PID/status); raise it with 'ulimit -l', or "
	    "LimitMEMLOCK= in a systemd unit", (unsigned long)(rl.cur >> 10));
}

bool kernel_check(struct daemon *d)
{
	static const struct { uint8_t op; const char *name, *since; } needed[] = {
		{ IORING_OP_READ_FIXED, "READ_FIXED", "5.1" },
		{ IORING_OP_MSG_RING, "MSG_RING", "5.18" },
	};
	struct uring r;
	int err = uring_init(&r, 2, 0, 0);

	if (err == -ENOMEM) {
		char why[300];

		memlock_advice(why, sizeof(why));
		error("no locked memory left even for an io_uring: %s", why);
		return false;
	}
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

/* --- the queues ----------------------------------------------------------------------- */

/* The queues, sized to the locked memory there is.  Registered buffers
 * are pinned and, without CAP_IPC_LOCK, charged to the user, across all
 * of the user's processes, against RLIMIT_MEMLOCK: fit them to the limit
 * first, then, as other mounts hold part of it and nothing says how much,
 * one step smaller on each ENOMEM down to one request buffer.  What was
 * given up, and why, goes into d->shrunk for the start line. */
static int fit_queues(struct daemon *d, char *why, size_t cap)
{
	struct server *srv = &d->srv;
	unsigned depth = srv->depth, nqueues = srv->nqueues;
	uint32_t max_write = srv->vol.max_write;
	struct rlimit64 rl = { RLIM_INFINITY, RLIM_INFINITY };
	bool limited = !sys_has_capability(CAP_IPC_LOCK) &&
		       sys_getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.cur != RLIM_INFINITY;
	bool others_hold = false;
	int r;

	if (limited)
		queue_shape_fit(srv, rl.cur);
	while ((r = queues_setup(srv, why, cap)) == -ENOMEM && queue_shape_shrink(srv))
		others_hold = true;
	if (r == -ENOMEM) {
		size_t n = str_len(why);

		n += fmt(why + n, cap - n, ", even at depth=1 max_write=%u: ",
			 srv->vol.max_write);
		memlock_advice(why + n, cap - n);
	} else if (r == 0 && (srv->depth != depth || srv->vol.max_write != max_write ||
			      srv->nqueues != nqueues)) {
		size_t n = fmt(d->shrunk, sizeof(d->shrunk), " (not %u queues, depth %u, "
			       "max_write %u: ", nqueues, depth, max_write);

		if (limited)
			fmt(d->shrunk + n, sizeof(d->shrunk) - n, "locked memory is limited "
			    "to %lu KiB%s)", (unsigned long)(rl.cur >> 10), others_hold ?
			    ", and this user's other mounts hold part of it" : "");
		else
			fmt(d->shrunk + n, sizeof(d->shrunk) - n, "out of memory)");
	}
	return r;
}

/* --- INIT ----------------------------------------------------------------------------- */

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

/* Choose the transport for what the kernel offers, and apply it. */
static bool choose_transport(struct daemon *d, uint64_t offered, uint64_t unique)
{
	const struct options *o = d->opt;
	struct server *srv = &d->srv;
	struct transport_facts facts = {
		.offered = offered, .may_passthrough = sys_has_capability(CAP_SYS_ADMIN),
		.is_block = srv->backing.is_block, .cpus = count_usable_cpus(),
		.kernel_queues = srv->kernel_queues, .queues_asked = o->queues,
	};
	struct transport_plan plan;

	transport_decide(o, &facts, &plan);
	if (plan.refusal[0])
		return refuse_init(d, unique, "%s", plan.refusal);
	if (o->queues > plan.nqueues && plan.transport == TRANSPORT_DEV)
		info("/dev/fuse: %u queues, not %u: more readers of /dev/fuse only "
		     "wake each other", plan.nqueues, o->queues);
	srv->transport = plan.transport;
	srv->nqueues = plan.nqueues;
	srv->vol.resizable = plan.resizable;
	d->passthrough = plan.passthrough;
	fmt(srv->transport_why, sizeof(srv->transport_why), "%s", plan.why);
	return true;
}

/* Hand BACKING to the kernel: OPEN replies name it by the id it gives. */
static bool passthrough_open(struct daemon *d)
{
	struct fuse_backing_map map = { .fd = d->srv.backing.fd };
	int r = (int)sys_ioctl(d->srv.fuse_fd, FUSE_DEV_IOC_BACKING_OPEN, &map);

	if (r > 0) {
		d->srv.vol.backing_id = r;
		return true;
	}
	if (d->opt->transport == TRANSPORT_AUTO) {
		/* Served through the daemon instead: OPEN replies simply do
		 * not ask for passthrough. */
		fmt(d->srv.transport_why, sizeof(d->srv.transport_why),
		    "auto: the kernel refused passthrough (%s)", errno_name(r ? r : -EIO));
		d->srv.vol.resizable = d->opt->resize;
		return true;
	}
	error("-o passthrough: registering BACKING with the kernel: %s%s",
	      errno_name(r ? r : -EIO), r == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	return false;
}

bool fuse_handshake(struct daemon *d)
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

	r = fit_queues(d, why, sizeof(why));
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
		d->srv.nqueues = dev_queues(o->queues, count_usable_cpus());
		r = fit_queues(d, why, sizeof(why));
	}
	if (r < 0)
		return refuse_init(d, c.in.unique, "setting up queues: %s", why);

	/* Answer with what was finally chosen. */
	wish.max_write = d->srv.vol.max_write;
	wish.io_uring = d->srv.transport == TRANSPORT_URING;
	wish.passthrough = d->passthrough;
	wish.max_background = queues_request_slots(&d->srv);
	len = fuse_init_negotiate(buf + sizeof(c.in), c.in.len - sizeof(c.in),
				  &wish, &out, &res);
	r = write_reply(d->srv.fuse_fd, c.in.unique, 0, &out, (uint32_t)len);
	if (r < 0) {
		error("answering INIT: %s", errno_name(r));
		return false;
	}
	return !d->passthrough || passthrough_open(d);
}
