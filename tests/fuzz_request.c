/* fuzz_request - libFuzzer harness for the protocol core (make fuzz).
 *
 * Feeds arbitrary bytes to the same parsing and opcode code the daemon
 * runs (fuse_ops.c), with BACKING faked, and checks what comes out:
 *   - nothing reads outside the request (ASan: every buffer is exactly
 *     as long as what the kernel would have delivered);
 *   - every BACKING transfer stays inside the buffer it must use;
 *   - a reply never exceeds its buffer, its header's length matches it and
 *     its error is one the kernel accepts;
 *   - requests that take no reply are exactly FORGET, BATCH_FORGET and
 *     INTERRUPT, and unknown opcodes get ENOSYS;
 *   - INIT answers only with a size some kernel expects.
 *
 * Input: one control byte, then the request.  Control bits: 0 delivery
 * (0: read from /dev/fuse, 1: FUSE-over-io_uring entry whose first 288
 * bytes are the header area), 1-2 what BACKING does (complete, short,
 * fail, nothing), 3 mount over a file, 4 read-only, 5 passthrough,
 * 6 resizable.
 *
 * Built with -DMAKE_CORPUS instead, main() writes seed inputs shaped like
 * real kernel requests into a directory (make corpus).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuse_ops.h"

#define MAX_WRITE	(64 * 1024)
#define VOLUME_SIZE	(1024 * 1024)

static int check_io(const struct fuse_call *c, const uint8_t *reply,
		    uint32_t reply_cap)
{
	const struct backing_io *io = &c->io;

	switch (io->kind) {
	case BACKING_READ:
		assert(io->length > 0);
		assert(io->buf >= reply && io->buf + io->length <= reply + reply_cap);
		assert(io->offset + io->length <= VOLUME_SIZE);
		break;
	case BACKING_WRITE:
		assert(io->length > 0);
		assert(io->buf >= c->data && io->buf + io->length <= c->data + c->data_len);
		assert(io->offset + io->length <= VOLUME_SIZE);
		break;
	case BACKING_FALLOCATE:
		assert(io->length > 0 && io->offset + io->length <= VOLUME_SIZE);
		break;
	case BACKING_LSEEK:
		assert(io->flags == SEEK_DATA || io->flags == SEEK_HOLE);
		break;
	default:
		break;
	}
	return 0;
}

/* What fake BACKING answers. */
static int64_t fake_backing(struct fuse_call *c, unsigned how, const uint8_t *data,
			    size_t size)
{
	struct backing_io *io = &c->io;

	memset(&c->got, 0, sizeof(c->got));
	if (size >= sizeof(c->got))
		memcpy(&c->got, data + size - sizeof(c->got), sizeof(c->got));
	switch (how) {
	case 1:
		return (io->kind == BACKING_READ || io->kind == BACKING_WRITE) ?
			(int64_t)(io->length + 1) / 2 : 0;
	case 2:
		return -5;	/* EIO */
	case 3:
		return 0;
	default:
		if (io->kind == BACKING_READ || io->kind == BACKING_WRITE)
			return (int64_t)io->length;
		if (io->kind == BACKING_LSEEK)
			return (int64_t)(io->offset + (size & 0xffff));
		return 0;
	}
}

static void check_init(const uint8_t *body, uint32_t len)
{
	struct init_wish wish = { .max_write = MAX_WRITE, .page_size = 4096, .passthrough = len & 1,
				  .io_uring = len & 2 };
	struct fuse_init_out out;
	struct init_result res;
	int r = fuse_init_negotiate(body, len, &wish, &out, &res);

	if (r < 0) {
		assert(r == -EPROTO);
		return;
	}
	assert(r == 8 || r == 24 || r == (int)sizeof(out));
	assert(out.major == FUSE_KERNEL_VERSION);
	if (res.again)
		return;
	assert(out.max_write == MAX_WRITE);
	assert((res.flags & ~res.kernel_flags) == 0);	/* nothing not offered */
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	if (size < 1 || size > 4 * MAX_WRITE)
		return 0;
	unsigned control = input[0];
	const uint8_t *req = input + 1;
	size_t len = size - 1;
	struct volume v = {
		.name = "volume", .name_len = 6, .max_write = MAX_WRITE,
		.size = VOLUME_SIZE, .mode = 0600,
		.root_is_file = control & 8, .read_only = control & 16,
		.backing_id = (control & 32) ? 1 : 0, .resizable = control & 64,
	};
	uint8_t *reply = malloc(MAX_WRITE);
	uint8_t *msg = malloc(len ? len : 1);
	uint8_t *payload = 0;
	struct fuse_uring_req_header hdr;
	struct fuse_call c;
	int r;

	memcpy(msg, req, len);
	if (control & 1) {
		/* A ring entry: header area, then a payload buffer exactly as
		 * long as the rest; the reply goes into the payload. */
		if (len < sizeof(hdr))
			goto out;
		memcpy(&hdr, msg, sizeof(hdr));
		size_t payload_len = len - sizeof(hdr);

		payload = malloc(MAX_WRITE);
		memcpy(payload, msg + sizeof(hdr), payload_len < MAX_WRITE ? payload_len : MAX_WRITE);
		r = fuse_call_parse_ring(&c, &hdr, payload, MAX_WRITE);
		free(reply);
		reply = 0;
	} else {
		r = fuse_call_parse_dev(&c, msg, (uint32_t)len, reply, MAX_WRITE);
		if (len >= sizeof(struct fuse_in_header) &&
		    ((struct fuse_in_header *)msg)->opcode == FUSE_INIT)
			check_init(msg + sizeof(struct fuse_in_header),
				   (uint32_t)(len - sizeof(struct fuse_in_header)));
	}
	uint8_t *body = control & 1 ? payload : reply;

	assert(r == 0 || r == -EINVAL || r == CALL_NO_REPLY);
	if (r == 0)
		r = fuse_call_start(&v, &c);
	for (int steps = 0; r == CALL_BACKING; steps++) {
		unsigned how = (control >> 1) & 3;
		int promised = fuse_call_reply_if_complete(&c);

		assert(steps < 4096);	/* a transfer always makes progress */
		check_io(&c, body, MAX_WRITE);
		r = fuse_call_resume(&v, &c, fake_backing(&c, how, req, len));
		/* The linked-reply shortcut sends what resuming would give. */
		if (promised >= 0 && how == 0)
			assert(r == promised);
	}
	if (r == CALL_NO_REPLY) {
		assert(len < sizeof(struct fuse_in_header) || c.in.opcode == FUSE_FORGET ||
		       c.in.opcode == FUSE_BATCH_FORGET || c.in.opcode == FUSE_INTERRUPT);
		goto out;
	}
	assert(r >= 0 ? r <= MAX_WRITE : r > -512);
	if (!fuse_opcode_name(c.in.opcode) && r != -EINVAL)
		assert(r == -ENOSYS);
	struct fuse_out_header h = fuse_reply_header(&c, r);

	assert(h.len == sizeof(h) + (r > 0 ? (uint32_t)r : 0));
	assert(h.error == (r < 0 ? r : 0));
	assert(h.unique == c.in.unique);
out:
	free(reply);
	free(payload);
	free(msg);
	return 0;
}

#ifdef MAKE_CORPUS
/* Seeds: requests laid out as the kernel sends them. */
static char *dir;
static int seq;

static void seed(unsigned control, const void *a, size_t alen, const void *b,
		 size_t blen, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%02d-%s", dir, seq++, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputc((int)control, f);
	fwrite(a, 1, alen, f);
	fwrite(b, 1, blen, f);
	fclose(f);
}

static void request(unsigned control, uint32_t opcode, uint64_t nodeid,
		    const void *arg, size_t arg_len, const void *data,
		    size_t data_len, const char *name)
{
	uint8_t buf[256 + 8192];
	struct fuse_in_header in = {
		.len = (uint32_t)(sizeof(in) + arg_len + data_len),
		.opcode = opcode, .unique = 2 + 2 * (uint64_t)seq, .nodeid = nodeid,
	};

	memcpy(buf, &in, sizeof(in));
	memcpy(buf + sizeof(in), arg, arg_len);
	seed(control, buf, sizeof(in) + arg_len, data, data_len, name);

	/* The same request in a ring entry: header and argument in the
	 * header area, the rest in the payload. */
	struct fuse_uring_req_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.in_out, &in, sizeof(in));
	memcpy(h.op_in, arg, arg_len);
	h.ring_ent_in_out.commit_id = in.unique;
	h.ring_ent_in_out.payload_sz = (uint32_t)data_len;
	char ring_name[64];

	snprintf(ring_name, sizeof(ring_name), "ring-%s", name);
	seed(control | 1, &h, sizeof(h), data, data_len, ring_name);
}

int main(int argc, char **argv)
{
	static uint8_t data[8192];
	struct fuse_init_in init = { .major = 7, .minor = 45, .max_readahead = 131072,
				     .flags = 0x73fffffb, .flags2 = 0x2f7 };
	struct fuse_read_in rd = { .offset = 4096, .size = 8192 };
	struct fuse_write_in wr = { .offset = 8192, .size = 4096 };
	struct fuse_setattr_in sa = { .valid = 0x1 | 0x10 | 0x80, .mode = 0100644 };
	struct fuse_fallocate_in fa = { .offset = 65536, .length = 65536, .mode = 3 };
	struct fuse_lseek_in ls = { .offset = 0, .whence = 3 };
	struct fuse_open_in op = { .flags = 2 };
	struct fuse_getattr_in ga = { 0 };
	struct fuse_fsync_in fs = { .fsync_flags = 1 };
	struct fuse_batch_forget_in bf = { .count = 2 };
	struct fuse_forget_one forgets[2] = { { 2, 1 }, { 2, 3 } };
	struct fuse_interrupt_in intr = { .unique = 4 };

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	memset(data, 0x5a, sizeof(data));
	request(0, FUSE_INIT, 0, &init, sizeof(init), 0, 0, "init-7.45");
	request(0, FUSE_INIT, 0, &init, 16, 0, 0, "init-7.35-short");
	init.minor = 22;
	request(0, FUSE_INIT, 0, &init, 8, 0, 0, "init-oldest");
	request(0, FUSE_LOOKUP, 1, 0, 0, "volume", 7, "lookup");
	request(0, FUSE_LOOKUP, 1, 0, 0, "nothere", 8, "lookup-missing");
	request(0, FUSE_GETATTR, 2, &ga, sizeof(ga), 0, 0, "getattr");
	request(0, FUSE_SETATTR, 2, &sa, sizeof(sa), 0, 0, "setattr");
	request(0, FUSE_OPEN, 2, &op, sizeof(op), 0, 0, "open");
	request(0, FUSE_READ, 2, &rd, sizeof(rd), 0, 0, "read");
	request(2, FUSE_READ, 2, &rd, sizeof(rd), 0, 0, "read-short");
	request(0, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096, "write");
	request(4, FUSE_WRITE, 2, &wr, sizeof(wr), data, 4096, "write-eio");
	request(0, FUSE_FSYNC, 2, &fs, sizeof(fs), 0, 0, "fsync");
	request(0, FUSE_FALLOCATE, 2, &fa, sizeof(fa), 0, 0, "fallocate-punch");
	request(0, FUSE_LSEEK, 2, &ls, sizeof(ls), 0, 0, "lseek-data");
	request(0, FUSE_STATFS, 1, 0, 0, 0, 0, "statfs");
	request(0, FUSE_OPENDIR, 1, &op, sizeof(op), 0, 0, "opendir");
	request(0, FUSE_READDIRPLUS, 1, &rd, sizeof(rd), 0, 0, "readdirplus");
	rd.offset = 0;
	request(0, FUSE_READDIR, 1, &rd, sizeof(rd), 0, 0, "readdir");
	request(0, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf), forgets, sizeof(forgets), "batch-forget");
	request(0, FUSE_INTERRUPT, 0, &intr, sizeof(intr), 0, 0, "interrupt");
	request(0, FUSE_SETXATTR, 2, 0, 0, "user.x", 7, "unknown-to-us");
	request(8, FUSE_READ, 1, &rd, sizeof(rd), 0, 0, "read-file-root");
	return 0;
}
#endif
