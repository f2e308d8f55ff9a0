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
 * fills them at every position, page sizes of 4K, 16K and 64K, and BACKING
 * with bad blocks and transfers that come back short.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../server.h"
#include "../options.h"
#include "fake_ring.h"

/* --- what daemon.c provides to the data path ------------------------------ */

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
DEFINE_LOG(info, "")

_Noreturn void usage_error(const char *f, ...)
{
	(void)f;
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
}

static int run_case(const struct case_desc *c, int backing_fd, struct fake_stats *st)
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
	srv.backing = (struct backing){ .fd = backing_fd, .direct_fd = -1,
					.size = c->cfg.volume_size };
	srv.multishot_read = c->multishot;
	srv.transport = c->cfg.uring ? TRANSPORT_URING : TRANSPORT_DEV;
	srv.page_size = c->page_size;
	srv.depth = c->depth;
	srv.nqueues = nqueues;
	srv.kernel_queues = c->cfg.kernel_queues;
	if (uring_init(&srv.control, 8, IORING_SETUP_SINGLE_ISSUER |
		       IORING_SETUP_DEFER_TASKRUN, 0) < 0 ||
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
	queues_teardown(&srv);
	uring_unmap(&srv.control);
	return failures;
}

/* --- the matrix ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const unsigned depths[] = { 1, 2, 3, 7, 15, 16 };
	static const unsigned sq_sizes[] = { 0, 2, 4, 8 };
	static const uint32_t pages[] = { 4096, 16384, 65536 };
	struct fake_stats total = { 0 };
	unsigned passed = 0, failed = 0, n = 0;
	FILE *tmp = tmpfile();	/* what GETATTR and FSYNC look at */

	/* GETATTR's size becomes the volume's (it follows BACKING). */
	if (!tmp || ftruncate(fileno(tmp), 1 << 20) < 0)
		return 2;

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
				.faults = faults,
			},
			.queues = queues, .depth = depths[d], .multishot = mode == 0,
			.page_size = pages[n % COUNT(pages)],
		};
		struct fake_stats st;
		char name[160];
		int bad = run_case(&c, fileno(tmp), &st);

		describe(&c, name, sizeof(name));
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
	}
	printf("check_ring: %u replies checked (%u errors), %u submissions with the SQ full, "
	       "%u linked replies cancelled, %u short and %u failed BACKING transfers, "
	       "%u answers of the main thread lost, %u linked replies refused\n",
	       total.replies, total.errors, total.early_submits, total.linked_cancels,
	       total.short_transfers, total.failed_transfers, total.failed_msg_rings,
	       total.refused_chains);
	/* The cases must really reach the paths they are about. */
	if (!total.early_submits || !total.linked_cancels || !total.short_transfers ||
	    !total.failed_transfers || !total.failed_msg_rings || !total.refused_chains) {
		printf("FAIL the cases did not reach every path\n");
		failed++;
	}
	printf("check_ring: %u passed, %u failed\n", passed, failed);
	return failed != 0;
}
