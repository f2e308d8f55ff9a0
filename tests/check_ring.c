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
 * older kernel without NO_SQARRAY and DEFER_TASKRUN, and a kernel that
 * fails io_uring_enter and URING_CMDs now and then.  At the end of each
 * case the counters the daemon logs (log_stats) must be the world's.
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
	uint32_t page_size;
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
		 c->queues, c->depth, c->cfg.sq_entries, c->page_size >> 10,
		 c->cfg.seed, c->cfg.faults ? " faults" : "");
	if (c->cfg.old_kernel)
		strncat(buf, " old-kernel", cap - strlen(buf) - 1);
	if (c->cfg.block)
		strncat(buf, " block-device", cap - strlen(buf) - 1);
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
		{ "INTERRUPT", FUSE_INTERRUPT },
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
	srv.multishot_read = c->multishot;
	srv.transport = c->cfg.uring ? TRANSPORT_URING : TRANSPORT_DEV;
	srv.page_size = c->page_size;
	srv.depth = c->depth;
	srv.nqueues = nqueues;
	srv.kernel_queues = c->cfg.kernel_queues;
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
				.volume_size = 1 << 20, .max_write = 64 << 10,
				.faults = faults, .old_kernel = n % 3 == 1,
				.block = n % 4 == 2,
			},
			.queues = queues, .depth = depths[d], .multishot = mode == 0,
			.page_size = pages[n % COUNT(pages)],
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
	}
	printf("check_ring: %u replies checked (%u errors), %u submissions with the SQ full, "
	       "%u linked replies cancelled, %u short and %u failed BACKING transfers, "
	       "%u answers of the main thread lost, %u linked replies refused\n",
	       total.replies, total.errors, total.early_submits, total.linked_cancels,
	       total.short_transfers, total.failed_transfers, total.failed_msg_rings,
	       total.refused_chains);
	printf("check_ring: %u io_uring_enter and %u URING_CMD failures, %u setups refused, "
	       "%u BACKING calls (%u failed), %u completions deferred to GETEVENTS\n",
	       total.enter_errors, total.cmd_retries, total.setup_refused, total.backing_calls,
	       total.backing_failures, total.deferred);
	/* The cases must really reach the paths they are about. */
	if (!total.early_submits || !total.linked_cancels || !total.short_transfers ||
	    !total.failed_transfers || !total.failed_msg_rings || !total.refused_chains ||
	    !total.enter_errors || !total.cmd_retries || !total.setup_refused ||
	    !total.backing_failures || !total.deferred) {
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
	printf("check_ring: %u passed, %u failed\n", passed, failed);
	return failed != 0;
}
