/* SPDX-License-Identifier: MIT */
/* check_ring.c - `make check`: the data path of fuseuring.c, unchanged,
 * against the fake kernel of fake_ring.c.  No root, no FUSE, no io_uring.
 *
 * Each case starts the queues as the daemon does (queues_setup, one
 * thread per queue running queue_serve, and a main thread that runs the
 * blocking BACKING calls), lets the fake world send a few hundred
 * requests, and checks that every request got exactly the reply the
 * model says: READ data is BACKING's, a transfer that failed anywhere
 * fails whole, nothing is answered twice, nothing is left in flight.
 *
 * The cases cover both transports, with and without READ_MULTISHOT, one
 * and two queues, odd and even depths, SQs so small that every batch
 * fills them at every position, page sizes of 4K, 16K and 64K, BACKING
 * with bad blocks and transfers that come back short, fsync, fdatasync,
 * fallocate and lseek that BACKING fails, a block device as BACKING, an
 * older kernel without NO_SQARRAY and DEFER_TASKRUN, a kernel that fails
 * io_uring_enter and URING_CMDs now and then, BACKING with O_DIRECT, and
 * requests past the data path's bounds (READs larger than max_write,
 * payloads larger than an entry's buffer, opcodes past the table).  At
 * the end of each case the counters the daemon logs (log_stats) must be
 * the world's.  Then the bounds that need no served requests: the SQ's
 * size, the 1 GiB arena, the number of queues a blocking call can name,
 * and uring.h's own limits, each at the bound, one past it and far past.
 *
 * A watchdog ends a case that makes no progress (a livelock, a deadlock
 * the fake cannot see) with a failure within seconds.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../server.h"
#include "../options.h"
#include "fake_ring.h"

/* --- what the lifecycle provides to the data path (log.h) ------------------- */

static bool verbose;

static void log_line(const char *level, const char *f, va_list ap)
{
	if (!verbose)
		return;
	fprintf(stderr, "  %s", level);
	vfprintf(stderr, f, ap);
	fprintf(stderr, "\n");
}

#define DEFINE_LOG(fn, level)						\
	void fn(const char *f, ...)					\
	{								\
		va_list ap;						\
		va_start(ap, f);					\
		log_line(level, f, ap);					\
		va_end(ap);						\
	}
DEFINE_LOG(error, "error: ")
DEFINE_LOG(warn, "warning: ")

/* info() also carries log_stats' line, which the case checks. */
static char stats_line[2048];

void info(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	if (!strncmp(f, "stats:", 6))
		vsnprintf(stats_line, sizeof(stats_line), f, ap);
	else
		log_line("", f, ap);
	va_end(ap);
}

_Noreturn void usage_error(const char *why)
{
	(void)why;
	abort();	/* options.c is linked for its tables, never parses here */
}

int fuse_dev_clone(int fuse_fd)
{
	return fuse_fd + 1;	/* the fake's /dev/fuse has no identity */
}

/* --- one case ------------------------------------------------------------------ */

struct case_desc {
	struct fake_config cfg;
	unsigned queues, depth;
	bool multishot;
	bool mapped;		/* BACKING mapped: READs from its page cache */
};

static struct server srv;
static unsigned queues_running;

static void *queue_thread(void *arg)
{
	struct queue *q = arg;

	q->status |= queue_serve(q);
	fake_thread_exit();
	if (__atomic_sub_fetch(&queues_running, 1, __ATOMIC_ACQ_REL) == 0)
		fake_wake(srv.control.fd, ud_make(EV_SIGNAL, 0));
	return 0;
}

static void ignore_completion(void *ctx, const struct io_uring_cqe *cqe)
{
	(void)ctx, (void)cqe;
}

/* As daemon.c's control loop, but for signals: it has none. */
static void on_control(void *ctx, const struct io_uring_cqe *cqe)
{
	(void)ctx;
	if (ud_event(cqe->user_data) != EV_SIGNAL)
		serve_blocking_call(&srv, cqe);
}

static void describe(const struct case_desc *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "transport=%s%s queues=%u depth=%u sq=%u page=%uK seed=%u%s",
		 c->cfg.uring ? "uring" : "dev",
		 c->cfg.uring ? "" : c->multishot ? " multishot" : " single-reads",
		 c->queues, c->depth, c->cfg.sq_entries, c->cfg.page_size >> 10,
		 c->cfg.seed, c->cfg.faults ? " faults" : "");
	if (c->cfg.old_kernel)
		strncat(buf, " old-kernel", cap - strlen(buf) - 1);
	if (c->cfg.block)
		strncat(buf, " block-device", cap - strlen(buf) - 1);
	if (c->cfg.dio_align)
		strncat(buf, " O_DIRECT", cap - strlen(buf) - 1);
	if (c->cfg.online)
		strncat(buf, " cpu1-offline", cap - strlen(buf) - 1);
	if (c->mapped)
		strncat(buf, " mapped", cap - strlen(buf) - 1);
}

/* What log_stats printed for `name=`: its number, 0 if absent (opcodes
 * with no requests are left out). */
static unsigned long stat_of(const char *name)
{
	char key[48];
	const char *p;

	snprintf(key, sizeof(key), " %s=", name);
	p = strstr(stats_line, key);
	return p ? strtoul(p + strlen(key), 0, 10) : 0;
}

/* The counters the daemon logs are the fake world's: requests per opcode
 * and per transport, bytes moved, errors answered. */
static int check_stats(const struct fake_stats *st)
{
	static const struct { const char *name; unsigned opcode; } ops[] = {
		{ "READ", FUSE_READ }, { "WRITE", FUSE_WRITE }, { "FSYNC", FUSE_FSYNC },
		{ "FALLOCATE", FUSE_FALLOCATE }, { "LSEEK", FUSE_LSEEK },
		{ "GETATTR", FUSE_GETATTR }, { "STATFS", FUSE_STATFS },
		{ "FLUSH", FUSE_FLUSH }, { "FORGET", FUSE_FORGET },
		{ "INTERRUPT", FUSE_INTERRUPT }, { "unknown", FUSE_OPCODE_COUNT },
	};
	struct { const char *name; uint64_t want; } totals[] = {
		{ "via_dev", st->via_dev }, { "via_uring", st->via_uring },
		{ "bytes_read", st->bytes_read }, { "bytes_written", st->bytes_written },
		{ "errors", st->errors },
	};
	uint64_t requests = 0;
	int bad = 0;

	stats_line[0] = 0;
	log_stats(&srv);
	if (!stats_line[0]) {
		fprintf(stderr, "  log_stats printed no stats line\n");
		return 1;
	}
	for (size_t i = 0; i < COUNT(ops); i++) {
		requests += st->delivered[ops[i].opcode];
		if (stat_of(ops[i].name) != st->delivered[ops[i].opcode]) {
			fprintf(stderr, "  stats: %s=%lu, the world sent %lu\n", ops[i].name,
				stat_of(ops[i].name), (unsigned long)st->delivered[ops[i].opcode]);
			bad++;
		}
	}
	for (size_t i = 0; i < COUNT(totals); i++)
		if (stat_of(totals[i].name) != totals[i].want) {
			fprintf(stderr, "  stats: %s=%lu, the world saw %lu\n", totals[i].name,
				stat_of(totals[i].name), (unsigned long)totals[i].want);
			bad++;
		}
	/* the most slots busy at once: some, never more than there are */
	unsigned slots = 0;

	for (unsigned i = 0; i < srv.nqueues; i++)
		slots += srv.queues[i].nslots;
	if (stat_of("busy_max") < 1 || stat_of("busy_max") > slots) {
		fprintf(stderr, "  stats: busy_max=%lu with %u slots\n", stat_of("busy_max"), slots);
		bad++;
	}
	if (!strstr(stats_line, " requests=") ||
	    strtoul(strstr(stats_line, " requests=") + 10, 0, 10) != requests) {
		fprintf(stderr, "  stats: not %lu requests in all: %s\n",
			(unsigned long)requests, stats_line);
		bad++;
	}
	return bad;
}

static int run_case(const struct case_desc *c, struct fake_stats *st)
{
	unsigned nqueues = c->queues;
	pthread_t threads[8];
	char why[256];
	int failures = 0;

	if (c->cfg.uring && nqueues > c->cfg.kernel_queues)
		nqueues = c->cfg.kernel_queues;
	memset(&srv, 0, sizeof(srv));
	srv.fuse_fd = fake_world_start(&c->cfg, nqueues);
	srv.vol = (struct volume){
		.name = "volume", .name_len = 6, .max_write = c->cfg.max_write,
		.size = c->cfg.volume_size, .mode = 0600,
	};
	srv.backing = (struct backing){ .fd = fake_backing_fd(), .direct_fd = -1,
					.size = c->cfg.volume_size, .is_block = c->cfg.block };
	if (c->cfg.dio_align) {
		srv.backing.direct_fd = fake_backing_direct_fd();
		srv.backing.dio_align = c->cfg.dio_align;
	}
	if (c->mapped) {
		srv.backing.map = fake_backing_mapping();
		srv.backing.map_len = c->cfg.volume_size;
	}
	srv.multishot_read = c->multishot;
	srv.transport = c->cfg.uring ? TRANSPORT_URING : TRANSPORT_DEV;
	srv.page_size = c->cfg.page_size;
	srv.depth = c->depth;
	srv.nqueues = nqueues;
	srv.kernel_queues = c->cfg.kernel_queues;
	srv.cpus_online[0] = c->cfg.online;
	/* As daemon.c's main ring: every flag optional. */
	const unsigned control_flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;

	if (uring_init(&srv.control, 8, control_flags, control_flags) < 0 ||
	    queues_setup(&srv, why, sizeof(why)) < 0) {
		fprintf(stderr, "  setup failed: %s\n", why);
		return 1;
	}
	fake_mark_control(srv.control.fd);
	queues_running = srv.nqueues;
	for (unsigned i = 0; i < srv.nqueues; i++)
		pthread_create(&threads[i], 0, queue_thread, &srv.queues[i]);
	/* The main thread: blocking calls, until the last queue is done. */
	while (__atomic_load_n(&queues_running, __ATOMIC_ACQUIRE)) {
		uring_submit_and_wait(&srv.control, 1);
		uring_drain(&srv.control, 0, on_control);
	}
	for (unsigned i = 0; i < srv.nqueues; i++) {
		struct queue *q = &srv.queues[i];

		pthread_join(threads[i], 0);
		if (q->status || q->open_slots || q->busy) {
			fprintf(stderr, "  queue %u ended with status %d, %u slots open, %u busy\n",
				i, q->status, q->open_slots, q->busy);
			failures++;
		}
	}
	failures += fake_world_finish(st);
	failures += check_stats(st);
	queues_teardown(&srv);
	uring_unmap(&srv.control);
	return failures;
}

/* --- the watchdog ------------------------------------------------------------------ */

/* A case takes a fraction of a second; one that runs this long is in a
 * livelock or in a deadlock the fake cannot see. */
#define WATCHDOG_SECONDS	10

static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cv = PTHREAD_COND_INITIALIZER;
static unsigned cases_ended;
static char running[160];	/* the case under way */

static void *watchdog(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&watch_mu);
	for (;;) {
		unsigned seen = cases_ended;
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += WATCHDOG_SECONDS;
		while (cases_ended == seen)
			if (pthread_cond_timedwait(&watch_cv, &watch_mu, &until) &&
			    cases_ended == seen) {
				printf("FAIL watchdog: %s: no end after %d seconds (a livelock "
				       "or a deadlock)\n", running, WATCHDOG_SECONDS);
				fflush(stdout);
				_exit(3);
			}
	}
	return 0;
}

static void case_begins(const char *name)
{
	pthread_mutex_lock(&watch_mu);
	snprintf(running, sizeof(running), "%s", name);
	cases_ended++;
	pthread_cond_signal(&watch_cv);
	pthread_mutex_unlock(&watch_mu);
}

/* --- the matrix ------------------------------------------------------------------ */

/* A queue whose ring cannot be enabled must say it failed: its kernel
 * queues would never get entries, and the daemon must stop. */
static int check_enable_refused(bool uring)
{
	struct fake_config cfg = {
		.seed = 1, .uring = uring, .kernel_queues = 1, .requests = 0,
		.volume_size = 1 << 20, .max_write = 64 << 10, .refuse_enable = true,
	};
	struct fake_stats st;
	char why[256];
	int failures = 0;

	memset(&srv, 0, sizeof(srv));
	srv.fuse_fd = fake_world_start(&cfg, 1);
	srv.vol = (struct volume){ .name = "volume", .name_len = 6, .max_write = cfg.max_write,
				   .size = cfg.volume_size, .mode = 0600 };
	srv.backing = (struct backing){ .fd = fake_backing_fd(), .direct_fd = -1,
					.size = cfg.volume_size };
	srv.transport = uring ? TRANSPORT_URING : TRANSPORT_DEV;
	srv.page_size = 4096;
	srv.depth = 2;
	srv.nqueues = 1;
	srv.kernel_queues = 1;
	if (queues_setup(&srv, why, sizeof(why)) < 0) {
		fprintf(stderr, "  setup failed: %s\n", why);
		return 1;
	}
	struct queue *q = &srv.queues[0];
	int status = queue_serve(q);

	if (status != 1 || !q->failed) {
		fprintf(stderr, "  %s: a ring that cannot be enabled: status %d, failed %d\n",
			uring ? "uring" : "dev", status, q->failed);
		failures++;
	}
	fake_thread_exit();
	fake_world_finish(&st);
	queues_teardown(&srv);
	return failures;
}

/* A block device BACKING that grows (losetup -c, a resized logical
 * volume): its size is the device's own, asked afresh, never the one it
 * had when the daemon started. */
static int check_block_resize(void)
{
	struct fake_config cfg = {
		.seed = 1, .kernel_queues = 1, .volume_size = 1 << 20,
		.max_write = 64 << 10, .block = true,
	};
	struct backing b = { .fd = fake_backing_fd(), .direct_fd = -1,
			     .size = cfg.volume_size, .is_block = true };
	struct fake_stats st;
	struct fuse_call c = { .io = { .kind = BACKING_GETATTR } };
	int failures = 0;

	fake_world_start(&cfg, 0);
	fake_block_resize(3 << 20);
	if (backing_run(&b, &c) != 0 || c.got.attr.size != 3 << 20) {
		fprintf(stderr, "  a block device grown to 3 MiB reads as %lu bytes\n",
			(unsigned long)c.got.attr.size);
		failures++;
	}
	c.io.kind = BACKING_SIZE;
	fake_block_resize(1 << 19);
	if (backing_run(&b, &c) != 0 || c.got.attr.size != 1 << 19) {
		fprintf(stderr, "  a block device shrunk to 512 KiB reads as %lu bytes\n",
			(unsigned long)c.got.attr.size);
		failures++;
	}
	return failures + fake_world_finish(&st);
}

/* --- bounds of the data path ---------------------------------------------------------
 * Counts the data path checks against what the kernel and its own
 * encodings allow, each at the bound, one past it and far past it.  The
 * setups that would allocate a large arena run in a world whose
 * io_uring_setup refuses: what matters is whether queues_setup got as far
 * as asking for the ring, and for how many entries. */

static unsigned bound_failures;

__attribute__((format(printf, 2, 3)))
static void bound_check(bool ok, const char *f, ...)
{
	va_list ap;

	if (ok)
		return;
	bound_failures++;
	printf("FAIL bounds: ");
	va_start(ap, f);
	vprintf(f, ap);
	va_end(ap);
	printf("\n");
}

/* queues_setup for one shape, io_uring_setup refusing (ENOMEM).  Returns
 * its result; *entries: what the one ring asked for had (0: none was). */
static int setup_refused(enum transport_choice transport, unsigned nqueues, unsigned depth,
			 uint32_t max_write, unsigned kernel_queues, unsigned *entries)
{
	struct fake_config cfg = {
		.seed = 1, .uring = transport == TRANSPORT_URING, .kernel_queues = kernel_queues,
		.volume_size = 1 << 20, .max_write = max_write, .refuse_setup = true,
	};
	struct fake_stats st;
	char why[256];
	int r;

	memset(&srv, 0, sizeof(srv));
	srv.fuse_fd = fake_world_start(&cfg, 0);
	srv.vol = (struct volume){ .name = "volume", .name_len = 6, .max_write = max_write,
				   .size = cfg.volume_size, .mode = 0600 };
	srv.backing = (struct backing){ .fd = fake_backing_fd(), .direct_fd = -1,
					.size = cfg.volume_size };
	srv.transport = transport;
	srv.page_size = 4096;
	srv.depth = depth;
	srv.nqueues = nqueues;
	srv.kernel_queues = kernel_queues;
	r = queues_setup(&srv, why, sizeof(why));
	if (!fake_setups(entries))
		*entries = 0;
	if (r == -EFBIG)
		bound_check(strstr(why, "1 GiB") != 0, "EFBIG without saying why: %s", why);
	fake_world_finish(&st);
	queues_teardown(&srv);
	return r;
}

/* A queue's SQ holds what one pass of the serve loop queues: a READ
 * chain of two per slot and a re-arm, 2n + 1, in a power of two of at
 * least 8, and no more than the kernel's 32768 (IORING_MAX_ENTRIES). */
static void check_sq_entries(void)
{
	static const struct { unsigned slots, entries; } cases[] = {
		{ 1, 8 }, { 3, 8 }, { 4, 16 }, { 16383, 32768 }, { 16384, 32768 },
		{ 50000, 32768 },
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		unsigned entries;
		int r = setup_refused(TRANSPORT_DEV, 1, cases[i].slots, 16384, 1, &entries);

		bound_check(r == -ENOMEM && entries == cases[i].entries,
			    "%u slots: a ring of %u entries asked for (result %d), want %u",
			    cases[i].slots, entries, r, cases[i].entries);
	}
}

/* uring_init asks the kernel for no more than 32768 entries: more is
 * EINVAL (without IORING_SETUP_CLAMP), so it clamps. */
static void check_uring_init_max(void)
{
	static const unsigned asked[] = { 32768, 32769, 1u << 20 };
	struct fake_config cfg = { .seed = 1, .volume_size = 1 << 20, .max_write = 16384 };
	struct fake_stats st;

	fake_world_start(&cfg, 0);
	for (size_t i = 0; i < COUNT(asked); i++) {
		struct uring r;
		int err = uring_init(&r, asked[i], 0, 0);

		bound_check(err == 0 && r.sq_entries == 32768,
			    "uring_init(%u): %d, %u entries; want 32768", asked[i], err,
			    err ? 0 : r.sq_entries);
		if (!err)
			uring_unmap(&r);
	}
	fake_world_finish(&st);
}

/* A queue's arena is one registered buffer, and the kernel registers none
 * over 1 GiB (io_uring/rsrc.c): at exactly 1 GiB the setup goes on to the
 * ring; a slot more, or far more, is EFBIG before anything is made.
 * Slots of 64 KiB: 4 KiB of headroom and max_write 60 KiB. */
static void check_registered_buffer_max(void)
{
	static const struct {
		enum transport_choice transport;
		unsigned depth;
		bool fits;
	} cases[] = {
		{ TRANSPORT_DEV, 16384, true }, { TRANSPORT_DEV, 16385, false },
		{ TRANSPORT_DEV, 1u << 20, false },
		/* uring: queue 0 also has two /dev/fuse slots */
		{ TRANSPORT_URING, 16382, true }, { TRANSPORT_URING, 16383, false },
		{ TRANSPORT_URING, 1u << 20, false },
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		unsigned entries;
		int r = setup_refused(cases[i].transport, 1, cases[i].depth, 61440, 1, &entries);

		bound_check(cases[i].fits ? r == -ENOMEM && entries : r == -EFBIG && !entries,
			    "%s, depth %u: result %d, %s ring asked for; want %s",
			    transport_names[cases[i].transport], cases[i].depth, r,
			    entries ? "a" : "no", cases[i].fits ? "a ring" : "EFBIG");
	}
}

/* A blocking call names its queue and slot in the 32 bits user_data has
 * for them (blocking_call_who): a slot needs 18 bits at most (a 1 GiB
 * arena of 4 KiB slots) and has 24, so 8 are left for the queue: 256
 * queues, however many CPUs or queues= ask for more.  Each queue there
 * is, and the last slot it could have, must come back from the name. */
static void check_queue_count(void)
{
	static const struct {
		enum transport_choice transport;
		unsigned asked, kernel_queues, want;
	} cases[] = {
		{ TRANSPORT_DEV, 256, 256, 256 }, { TRANSPORT_DEV, 257, 257, 256 },
		{ TRANSPORT_DEV, 1024, 1024, 256 },
		{ TRANSPORT_URING, 256, 1024, 256 }, { TRANSPORT_URING, 257, 1024, 256 },
		{ TRANSPORT_URING, 1024, 1024, 256 },
	};
	const unsigned last_slot = (1u << 30) / 4096 - 1;

	for (size_t i = 0; i < COUNT(cases); i++) {
		unsigned entries;

		setup_refused(cases[i].transport, cases[i].asked, 1, 16384,
			      cases[i].kernel_queues, &entries);
		bound_check(srv.nqueues == cases[i].want, "%s, %u queues asked: %u, want %u",
			    transport_names[cases[i].transport], cases[i].asked, srv.nqueues,
			    cases[i].want);
		for (unsigned q = 0; q < srv.nqueues; q++) {
			uint32_t who = blocking_call_who(q, last_slot);

			if (blocking_call_queue(who) != q || blocking_call_slot(who) != last_slot) {
				bound_check(false, "queue %u, slot %u: named as queue %u, slot %u", q,
					    last_slot, blocking_call_queue(who), blocking_call_slot(who));
				break;
			}
		}
	}
}

/* <sys/wait.h> brings <signal.h>, whose names collide with linux.h's. */
pid_t waitpid(pid_t pid, int *status, int options);

/* Whether fn(r, n) stops the process with an assertion (SIGABRT). */
static bool aborts(bool (*fn)(struct uring *, unsigned), struct uring *r, unsigned n)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		close(2);	/* the assertion's message is expected */
		fn(r, n);
		_exit(0);
	}
	/* killed by signal 6, SIGABRT: wait(2)'s status has it in bits 0-6 */
	return waitpid(pid, &status, 0) == pid && (status & 0x7f) == 6;
}

/* uring.h's own limits: the SQ hands out as many SQEs as it has entries
 * and no more; a chain is reserved only if the SQ can ever hold it (a
 * bug otherwise: the hosted builds stop); the probe has room for 64
 * opcodes, and one past them is not known, whatever the kernel knows. */
static void check_ring_limits(void)
{
	struct fake_config cfg = { .seed = 1, .volume_size = 1 << 20, .max_write = 16384 };
	struct fake_stats st;
	struct uring r;
	unsigned got = 0;

	fake_world_start(&cfg, 0);
	if (uring_init(&r, 8, 0, 0) < 0) {
		bound_check(false, "no ring of 8 entries");
		return;
	}
	while (got < 9 && uring_get_sqe(&r))
		got++;
	bound_check(got == 8, "an SQ of 8 entries handed out %u SQEs", got);
	bound_check(uring_reserve(&r, 8) && uring_sq_space(&r) == 8,
		    "a full SQ of 8 does not make room for 8");
	bound_check(aborts(uring_reserve, &r, 9), "a chain of 9 reserved in an SQ of 8");
	bound_check(aborts(uring_reserve, &r, 1u << 20), "a chain of 2^20 reserved in an SQ of 8");
	bound_check(uring_has_op(&r, 63), "opcode 63 unknown, though the kernel supports it");
	bound_check(!uring_has_op(&r, 64), "opcode 64 known: the probe has room for 64");
	bound_check(!uring_has_op(&r, FAKE_URING_LAST_OP), "opcode %u known: the probe has "
		    "room for 64", FAKE_URING_LAST_OP);
	bound_check(!uring_has_op(&r, 1000), "opcode 1000 known");
	uring_submit_and_wait(&r, 8);	/* the 8 NOPs, done */
	uring_drain(&r, 0, ignore_completion);
	uring_unmap(&r);
	fake_world_finish(&st);
}

int main(int argc, char **argv)
{
	static const unsigned depths[] = { 1, 2, 3, 7, 15, 16 };
	static const unsigned sq_sizes[] = { 0, 2, 4, 8 };
	static const uint32_t pages[] = { 4096, 16384, 65536 };
	struct fake_stats total = { 0 };
	unsigned passed = 0, failed = 0, n = 0;
	pthread_t watcher;

	pthread_create(&watcher, 0, watchdog, 0);

	verbose = argc > 1 && !strcmp(argv[1], "-v");
	for (unsigned mode = 0; mode < 3; mode++)
	for (unsigned queues = 1; queues <= 2; queues++)
	for (unsigned d = 0; d < COUNT(depths); d++)
	for (unsigned sq = 0; sq < COUNT(sq_sizes); sq++)
	for (unsigned faults = 0; faults < 2; faults++) {
		n++;
		struct case_desc c = {
			.cfg = {
				.seed = n, .uring = mode == 2, .kernel_queues = 3,
				.sq_entries = sq_sizes[sq], .requests = 150,
				.volume_size = 1 << 20,
				/* READs large enough to come from the cache */
				.max_write = n % 2 ? 256 << 10 : 64 << 10,
				.faults = faults, .old_kernel = n % 3 == 1,
				.block = n % 4 == 2, .page_size = pages[n % COUNT(pages)],
				/* CPU 1 offline: its kernel queue gets one entry */
				.online = mode == 2 && n % 3 == 0 ? 0x5 : 0,
				.dio_align = n % 5 == 3 ? 4096 : 0,
			},
			.queues = queues, .depth = depths[d], .multishot = mode == 0,
			.mapped = n % 2 && n % 4 != 2,	/* not a block device's */
		};
		struct fake_stats st;
		char name[160];
		int bad;

		describe(&c, name, sizeof(name));
		case_begins(name);
		bad = run_case(&c, &st);
		if (bad) {
			failed++;
			printf("FAIL %s\n", name);
		} else {
			passed++;
		}
		total.replies += st.replies;
		total.errors += st.errors;
		total.early_submits += st.early_submits;
		total.linked_cancels += st.linked_cancels;
		total.short_transfers += st.short_transfers;
		total.failed_transfers += st.failed_transfers;
		total.failed_msg_rings += st.failed_msg_rings;
		total.refused_chains += st.refused_chains;
		total.enter_errors += st.enter_errors;
		total.cmd_retries += st.cmd_retries;
		total.setup_refused += st.setup_refused;
		total.backing_calls += st.backing_calls;
		total.backing_failures += st.backing_failures;
		total.deferred += st.deferred;
		total.cache_replies += st.cache_replies;
		total.cache_replies_to_end += st.cache_replies_to_end;
		total.direct_transfers += st.direct_transfers;
	}
	printf("check_ring: %u replies checked (%u errors), %u submissions with the SQ full, "
	       "%u linked replies cancelled, %u short and %u failed BACKING transfers, "
	       "%u answers of the main thread lost, %u linked replies refused\n",
	       total.replies, total.errors, total.early_submits, total.linked_cancels,
	       total.short_transfers, total.failed_transfers, total.failed_msg_rings,
	       total.refused_chains);
	printf("check_ring: %u io_uring_enter and %u URING_CMD failures, %u setups refused, "
	       "%u BACKING calls (%u failed), %u completions deferred to GETEVENTS, "
	       "%u transfers with O_DIRECT, %u READs from the page cache\n",
	       total.enter_errors, total.cmd_retries, total.setup_refused, total.backing_calls,
	       total.backing_failures, total.deferred, total.direct_transfers,
	       total.cache_replies);
	/* The cases must really reach the paths they are about. */
	if (!total.early_submits || !total.linked_cancels || !total.short_transfers ||
	    !total.failed_transfers || !total.failed_msg_rings || !total.refused_chains ||
	    !total.enter_errors || !total.cmd_retries || !total.setup_refused ||
	    !total.backing_failures || !total.deferred || !total.direct_transfers ||
	    !total.cache_replies || !total.cache_replies_to_end) {
		printf("FAIL the cases did not reach every path\n");
		failed++;
	}
	for (int uring = 0; uring < 2; uring++) {
		if (check_enable_refused(uring)) {
			printf("FAIL a ring that cannot be enabled (%s)\n", uring ? "uring" : "dev");
			failed++;
		} else {
			passed++;
		}
	}
	if (check_block_resize()) {
		printf("FAIL a block device BACKING that changed size\n");
		failed++;
	} else {
		passed++;
	}
	check_sq_entries();
	check_uring_init_max();
	check_registered_buffer_max();
	check_queue_count();
	check_ring_limits();
	if (bound_failures)
		failed++;
	else
		passed++;
	printf("check_ring: %u passed, %u failed\n", passed, failed);
	return failed != 0;
}
