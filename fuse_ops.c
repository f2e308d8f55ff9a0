/* SPDX-License-Identifier: MIT */
/* fuse_ops.c - the protocol core: parse a FUSE request, validate it, and
 * answer it for a volume made of one directory and one file (or just the
 * file, when mounted over a file).  No system calls: see fuse_ops.h.
 */
#include "fuse_ops.h"
#include "atomic.h"		/* load_relaxed, store_relaxed */

#define memcpy __builtin_memcpy
#define memset __builtin_memset
#define memcmp __builtin_memcmp

/* Fields of struct volume that may change while serving (size, mode,
 * uid, gid) are read and written whole, relaxed: every queue reads them,
 * SETATTR writes them, and nothing else depends on their order. */

/* How long the kernel may cache a lookup or the attributes.  Everything
 * that changes them passes through this daemon, and the kernel drops its
 * copy itself after writes, so a second is plenty. */
#define CACHE_SECONDS	1

/* What follows the opcode's fixed argument. */
enum tail_rule {
	TAIL_IGNORED,		/* nothing we use */
	TAIL_NAME,		/* a NUL-terminated name */
	TAIL_WRITE_DATA,	/* exactly fuse_write_in.size bytes */
	TAIL_FORGET_LIST,	/* fuse_batch_forget_in.count fuse_forget_one */
};

struct fuse_op {
	const char *name;
	uint16_t arg_size;	/* the fixed argument after fuse_in_header */
	uint8_t tail;		/* enum tail_rule */
	int (*start)(struct volume *v, struct fuse_call *c);
	/* Called with the result of c->io; only for ops that ask for it. */
	int (*resume)(struct volume *v, struct fuse_call *c, int64_t res);
};

/* --- nodes and attributes ------------------------------------------------- */

enum node { NODE_NONE, NODE_DIR, NODE_FILE };

static enum node node_of(const struct volume *v, uint64_t nodeid)
{
	if (nodeid == FUSE_ROOT_ID)
		return v->root_is_file ? NODE_FILE : NODE_DIR;
	if (nodeid == VOLUME_NODE_ID && !v->root_is_file)
		return NODE_FILE;
	return NODE_NONE;
}

/* 0 if the request is about the volume file, else the errno to answer. */
static int require_file(const struct volume *v, const struct fuse_call *c)
{
	switch (node_of(v, c->in.nodeid)) {
	case NODE_FILE:
		return 0;
	case NODE_DIR:
		return -EISDIR;
	default:
		return -ENOENT;
	}
}

/* WRITE and FALLOCATE change BACKING: the file, and not on a read-only
 * volume. */
static int require_writable_file(const struct volume *v, const struct fuse_call *c)
{
	int err = require_file(v, c);

	return err ? err : v->read_only ? -EROFS : 0;
}

/* The directory can be searched and listed by whoever may read the file. */
static uint32_t dir_mode(uint32_t file_mode)
{
	return file_mode | ((file_mode & 0444) >> 2);
}

static void fill_attr(const struct volume *v, const struct fuse_call *c,
		      uint64_t nodeid, struct fuse_attr *a)
{
	const struct backing_attr *b = &c->got.attr;
	uint32_t mode = load_relaxed(&v->mode) & 07777;

	memset(a, 0, sizeof(*a));
	a->ino = nodeid;
	if (node_of(v, nodeid) == NODE_FILE) {
		a->mode = S_IFREG | mode;
		/* BACKING's, which the GETATTR behind this reply just read
		 * (fuse_call_resume follows it). */
		a->size = load_relaxed(&v->size);
		a->blocks = b->blocks;
		a->nlink = 1;
	} else {
		a->mode = S_IFDIR | dir_mode(mode);
		a->nlink = 2;
	}
	a->uid = load_relaxed(&v->uid);
	a->gid = load_relaxed(&v->gid);
	a->blksize = b->blksize;
	a->atime = (uint64_t)b->atime.tv_sec;
	a->atimensec = b->atime.tv_nsec;
	a->mtime = (uint64_t)b->mtime.tv_sec;
	a->mtimensec = b->mtime.tv_nsec;
	a->ctime = (uint64_t)b->ctime.tv_sec;
	a->ctimensec = b->ctime.tv_nsec;
}

static int need(struct fuse_call *c, enum backing_kind kind)
{
	c->io = (struct backing_io){ .kind = kind };
	return CALL_BACKING;
}

static int need_transfer(struct fuse_call *c, enum backing_kind kind,
			 uint8_t *buf, uint64_t offset, uint64_t length)
{
	c->io = (struct backing_io){
		.kind = kind, .buf = buf, .offset = offset, .length = length,
	};
	c->io_done = 0;
	return CALL_BACKING;
}

/* BACKING's size as a GETATTR or SIZE step just read it becomes the
 * volume's.  With passthrough the kernel writes BACKING itself, past its
 * end too; otherwise only someone else can have changed it, which the
 * daemon is told (a GETATTR that read the size just before our own resize
 * may also look so; the next one puts the size right). */
static void follow_backing_size(struct volume *v, const struct fuse_call *c)
{
	uint64_t now = c->got.attr.size;
	uint64_t was = __atomic_exchange_n(&v->size, now, __ATOMIC_RELAXED);

	if (was != now && !v->backing_id && v->resized_elsewhere)
		v->resized_elsewhere(was, now);
}

static int reply_attr(struct volume *v, struct fuse_call *c)
{
	struct fuse_attr_out *out = (struct fuse_attr_out *)c->reply;

	memset(out, 0, sizeof(*out));
	out->attr_valid = CACHE_SECONDS;
	fill_attr(v, c, c->in.nodeid, &out->attr);
	return sizeof(*out);
}

/* The common resume for ops whose reply is just "done", or BACKING's error
 * (fuseuring.c's backing_done is the data path's, about a slot). */
static int done_or_error(struct volume *v, struct fuse_call *c, int64_t res)
{
	(void)v, (void)c;
	return res < 0 ? (int)res : 0;
}

/* --- trivial answers ------------------------------------------------------ */

static int op_ok(struct volume *v, struct fuse_call *c)
{
	(void)v, (void)c;
	return 0;
}

static int op_no_reply(struct volume *v, struct fuse_call *c)
{
	/* FORGET and BATCH_FORGET: the two nodes live as long as the mount,
	 * so lookup counts need no bookkeeping.  INTERRUPT: every request
	 * ends as soon as its BACKING operation does, so there is nothing to
	 * cut short; the kernel needs no answer. */
	(void)v, (void)c;
	return CALL_NO_REPLY;
}

static int op_enosys(struct volume *v, struct fuse_call *c)
{
	(void)v, (void)c;
	return -ENOSYS;
}

static int op_init_again(struct volume *v, struct fuse_call *c)
{
	(void)v, (void)c;
	return -EPROTO;		/* INIT is answered once, at start-up */
}

/* --- LOOKUP, GETATTR, SETATTR --------------------------------------------- */

static int op_lookup(struct volume *v, struct fuse_call *c)
{
	if (node_of(v, c->in.nodeid) != NODE_DIR)
		return -ENOTDIR;
	/* The parser guarantees a NUL inside data. */
	if (c->data_len <= v->name_len || c->data[v->name_len] != 0 ||
	    memcmp(c->data, v->name, v->name_len) != 0)
		return -ENOENT;
	return need(c, BACKING_GETATTR);
}

static int lookup_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	struct fuse_entry_out *out = (struct fuse_entry_out *)c->reply;

	if (res < 0)
		return (int)res;
	memset(out, 0, sizeof(*out));
	out->nodeid = VOLUME_NODE_ID;
	out->entry_valid = CACHE_SECONDS;
	out->attr_valid = CACHE_SECONDS;
	fill_attr(v, c, VOLUME_NODE_ID, &out->attr);
	return sizeof(*out);
}

static int op_getattr(struct volume *v, struct fuse_call *c)
{
	if (node_of(v, c->in.nodeid) == NODE_NONE)
		return -ENOENT;
	return need(c, BACKING_GETATTR);
}

static int getattr_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	return res < 0 ? (int)res : reply_attr(v, c);
}

/* SETATTR runs up to three steps: resize BACKING, set its times, then
 * record mode and owner and read the attributes back for the reply. */
static int setattr_mode_owner(struct volume *v, struct fuse_call *c)
{
	const struct fuse_setattr_in *s = &c->arg.setattr;

	if (s->valid & FATTR_MODE)
		store_relaxed(&v->mode, s->mode & 07777);
	if (s->valid & FATTR_UID)
		store_relaxed(&v->uid, s->uid);
	if (s->valid & FATTR_GID)
		store_relaxed(&v->gid, s->gid);
	return need(c, BACKING_GETATTR);
}

static struct kernel_timespec setattr_time(uint32_t valid, uint32_t set,
				    uint32_t now, uint64_t sec, uint32_t nsec)
{
	if (!(valid & set))
		return (struct kernel_timespec){ 0, UTIME_OMIT };
	if (valid & now)
		return (struct kernel_timespec){ 0, UTIME_NOW };
	return (struct kernel_timespec){ (int64_t)sec, nsec };
}

static int setattr_times(struct volume *v, struct fuse_call *c)
{
	const struct fuse_setattr_in *s = &c->arg.setattr;

	if (!(s->valid & (FATTR_ATIME | FATTR_MTIME)))
		return setattr_mode_owner(v, c);
	need(c, BACKING_SET_TIMES);
	c->io.times[0] = setattr_time(s->valid, FATTR_ATIME, FATTR_ATIME_NOW,
				      s->atime, s->atimensec);
	c->io.times[1] = setattr_time(s->valid, FATTR_MTIME, FATTR_MTIME_NOW,
				      s->mtime, s->mtimensec);
	return CALL_BACKING;
}

static int op_setattr(struct volume *v, struct fuse_call *c)
{
	enum node node = node_of(v, c->in.nodeid);

	if (node == NODE_NONE)
		return -ENOENT;
	if (v->read_only)
		return -EROFS;
	if (node == NODE_DIR)
		return -EPERM;		/* the directory is fixed */
	/* Whether the size changes is a question for BACKING, not for what
	 * we last knew of it (passthrough writes grow it behind us). */
	if (c->arg.setattr.valid & FATTR_SIZE)
		return need(c, BACKING_SIZE);
	return setattr_times(v, c);
}

/* SETATTR with a size, BACKING's size now known. */
static int setattr_size(struct volume *v, struct fuse_call *c)
{
	const struct fuse_setattr_in *s = &c->arg.setattr;

	if (s->size == load_relaxed(&v->size))
		return setattr_times(v, c);
	/* A volume keeps its size unless asked to follow truncate. */
	if (!v->resizable) {
		if (v->refused_resize)
			v->refused_resize();
		return -EPERM;
	}
	need(c, BACKING_RESIZE);
	c->io.length = s->size;
	return CALL_BACKING;
}

static int setattr_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	if (res < 0)
		return (int)res;
	switch (c->io.kind) {
	case BACKING_SIZE:
		return setattr_size(v, c);
	case BACKING_RESIZE:
		store_relaxed(&v->size, c->io.length);
		return setattr_times(v, c);
	case BACKING_SET_TIMES:
		return setattr_mode_owner(v, c);
	default:
		return reply_attr(v, c);
	}
}

/* --- OPEN, OPENDIR, READDIR ----------------------------------------------- */

static int op_open(struct volume *v, struct fuse_call *c)
{
	struct fuse_open_out *out = (struct fuse_open_out *)c->reply;
	uint32_t flags = c->arg.open.flags;
	int err = require_file(v, c);

	if (err)
		return err;
	if (v->read_only && (flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	memset(out, 0, sizeof(*out));
	if (v->backing_id) {
		/* The kernel reads and writes BACKING itself. */
		out->open_flags = FOPEN_PASSTHROUGH;
		out->backing_id = v->backing_id;
	} else if (flags & O_DIRECT) {
		/* Uncached I/O goes straight to us, and O_DIRECT writers
		 * need not wait for each other. */
		out->open_flags = FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES;
	}
	return sizeof(*out);
}

static int op_opendir(struct volume *v, struct fuse_call *c)
{
	struct fuse_open_out *out = (struct fuse_open_out *)c->reply;

	switch (node_of(v, c->in.nodeid)) {
	case NODE_DIR:
		memset(out, 0, sizeof(*out));
		out->open_flags = FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR;
		return sizeof(*out);
	case NODE_FILE:
		return -ENOTDIR;
	default:
		return -ENOENT;
	}
}

/* List ".", ".." and the volume, starting at the entry index the kernel
 * passes as offset; each entry's off is the index of the next one. */
static int list_dir(struct volume *v, struct fuse_call *c, bool plus)
{
	const struct fuse_read_in *r = &c->arg.read;
	uint32_t size = r->size < c->reply_cap ? r->size : c->reply_cap;
	uint32_t used = 0;

	for (uint64_t i = r->offset; i < 3; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." : v->name;
		uint32_t len = i == 0 ? 1 : i == 1 ? 2 : v->name_len;
		uint32_t rec = FUSE_DIRENT_ALIGN(sizeof(struct fuse_dirent) + len);
		uint8_t *p = c->reply + used;

		if (plus)
			rec += sizeof(struct fuse_entry_out);
		if (rec > size - used)
			break;
		memset(p, 0, rec);
		if (plus) {
			struct fuse_entry_out *e = (struct fuse_entry_out *)p;

			/* "." and ".." carry no entry: nodeid 0 is skipped. */
			if (i == 2) {
				e->nodeid = VOLUME_NODE_ID;
				e->entry_valid = CACHE_SECONDS;
				e->attr_valid = CACHE_SECONDS;
				fill_attr(v, c, VOLUME_NODE_ID, &e->attr);
			}
			p += sizeof(*e);
		}
		struct fuse_dirent *d = (struct fuse_dirent *)p;

		d->ino = i == 2 ? VOLUME_NODE_ID : FUSE_ROOT_ID;
		d->off = i + 1;
		d->namelen = len;
		d->type = i == 2 ? DT_REG : DT_DIR;
		memcpy(d + 1, name, len);
		used += rec;
	}
	return (int)used;
}

static int op_readdir(struct volume *v, struct fuse_call *c)
{
	if (node_of(v, c->in.nodeid) != NODE_DIR)
		return -ENOTDIR;
	return list_dir(v, c, false);
}

static int op_readdirplus(struct volume *v, struct fuse_call *c)
{
	if (node_of(v, c->in.nodeid) != NODE_DIR)
		return -ENOTDIR;
	return need(c, BACKING_GETATTR);
}

static int readdirplus_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	return res < 0 ? (int)res : list_dir(v, c, true);
}

/* --- READ, WRITE ---------------------------------------------------------- */

/* READ data goes from BACKING straight into the reply body. */
static int op_read(struct volume *v, struct fuse_call *c)
{
	const struct fuse_read_in *r = &c->arg.read;
	uint64_t size = load_relaxed(&v->size);
	int err = require_file(v, c);

	if (err)
		return err;
	if (r->size > c->reply_cap)
		return -EINVAL;		/* larger than the negotiated max */
	if (r->offset >= size || r->size == 0)
		return 0;		/* end of volume */
	uint64_t len = size - r->offset < r->size ? size - r->offset : r->size;

	return need_transfer(c, BACKING_READ, c->reply, r->offset, len);
}

/* The volume is a disk: a READ returns all it asked for (op_read already
 * stopped it at the end of the volume) or fails whole.  An error after
 * partial progress is still an error: the kernel would take a short READ
 * for the end of the file and zero-fill the rest of the page.  BACKING
 * ending early (shrunk behind our back) is an I/O error, not an end. */
static int read_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	(void)v;
	if (res < 0)
		return (int)res;
	return res == 0 ? -EIO : (int)c->io_done;
}

/* WRITE data goes from where the kernel put it straight to BACKING.
 * The volume does not grow: like a disk, it ends where BACKING ended. */
static int op_write(struct volume *v, struct fuse_call *c)
{
	const struct fuse_write_in *w = &c->arg.write;
	struct fuse_write_out *out = (struct fuse_write_out *)c->reply;
	uint64_t size = load_relaxed(&v->size);
	int err = require_writable_file(v, c);

	if (err)
		return err;
	if (w->size == 0) {
		memset(out, 0, sizeof(*out));
		return sizeof(*out);
	}
	if (w->offset >= size)
		return -ENOSPC;
	uint64_t len = size - w->offset < w->size ? size - w->offset : w->size;

	return need_transfer(c, BACKING_WRITE, c->data, w->offset, len);
}

/* A WRITE is done entirely or fails: the bytes BACKING took before an
 * error are not a partial success the writer could build on. */
static int write_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	struct fuse_write_out *out = (struct fuse_write_out *)c->reply;

	(void)v;
	if (res <= 0)
		return res < 0 ? (int)res : -EIO;	/* BACKING took nothing more */
	memset(out, 0, sizeof(*out));
	out->size = (uint32_t)c->io_done;
	return sizeof(*out);
}

/* --- FSYNC, FALLOCATE, LSEEK, STATFS --------------------------------------- */

static int op_fsync(struct volume *v, struct fuse_call *c)
{
	int err = require_file(v, c);

	if (err)
		return err;
	need(c, BACKING_FSYNC);
	c->io.flags = c->arg.fsync.fsync_flags & FUSE_FSYNC_FDATASYNC;
	return CALL_BACKING;
}

/* Punch-hole and zero-range go to BACKING, so discards through a loop
 * device free BACKING's blocks.  Nothing may extend the volume; where it
 * ends is asked of BACKING first (a passthrough write may have moved it). */
static int op_fallocate(struct volume *v, struct fuse_call *c)
{
	const struct fuse_fallocate_in *f = &c->arg.fallocate;
	const uint32_t known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
			       FALLOC_FL_ZERO_RANGE;
	int err = require_writable_file(v, c);

	if (err)
		return err;
	if (f->mode & ~known)
		return -EOPNOTSUPP;
	if (f->length == 0 || f->offset > INT64_MAX ||
	    f->length > (uint64_t)INT64_MAX - f->offset)
		return -EINVAL;
	return need(c, BACKING_SIZE);
}

static int fallocate_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	const struct fuse_fallocate_in *f = &c->arg.fallocate;
	uint64_t size = load_relaxed(&v->size);

	if (res < 0 || c->io.kind == BACKING_FALLOCATE)
		return done_or_error(v, c, res);
	uint64_t end = f->offset + f->length;

	if (end > size) {
		if (!(f->mode & FALLOC_FL_KEEP_SIZE))
			return -ENOSPC;
		if (f->offset >= size)
			return 0;
		end = size;
	}
	need(c, BACKING_FALLOCATE);
	c->io.offset = f->offset;
	c->io.length = end - f->offset;
	c->io.flags = f->mode;
	return CALL_BACKING;
}

/* The volume's end is where data stops and its last hole starts: asked
 * of BACKING first, like FALLOCATE's. */
static int op_lseek(struct volume *v, struct fuse_call *c)
{
	const struct fuse_lseek_in *l = &c->arg.lseek;
	int err = require_file(v, c);

	if (err)
		return err;
	if (l->whence != SEEK_DATA && l->whence != SEEK_HOLE)
		return -EINVAL;		/* the kernel handles the others */
	return need(c, BACKING_SIZE);
}

static int lseek_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	const struct fuse_lseek_in *l = &c->arg.lseek;
	struct fuse_lseek_out *out = (struct fuse_lseek_out *)c->reply;
	uint64_t size = load_relaxed(&v->size);

	if (res < 0)
		return (int)res;
	if (c->io.kind == BACKING_SIZE) {
		if (l->offset >= size)
			return -ENXIO;
		need(c, BACKING_LSEEK);
		c->io.offset = l->offset;
		c->io.flags = l->whence;
		return CALL_BACKING;
	}
	/* BACKING may have grown since its size was read: the volume ends
	 * where that read said. */
	if ((uint64_t)res >= size) {
		if (c->io.flags == SEEK_DATA)
			return -ENXIO;
		res = (int64_t)size;
	}
	out->offset = (uint64_t)res;
	return sizeof(*out);
}

static int op_statfs(struct volume *v, struct fuse_call *c)
{
	(void)v;
	return need(c, BACKING_STATFS);
}

/* The space figures are those of the filesystem holding BACKING: they say
 * how much a sparse BACKING can still grow into. */
static int statfs_done(struct volume *v, struct fuse_call *c, int64_t res)
{
	struct fuse_statfs_out *out = (struct fuse_statfs_out *)c->reply;
	const struct backing_fs *fs = &c->got.fs;

	(void)v;
	if (res < 0)
		return (int)res;
	memset(out, 0, sizeof(*out));
	out->st.blocks = fs->blocks;
	out->st.bfree = fs->bfree;
	out->st.bavail = fs->bavail;
	out->st.files = 2;
	out->st.bsize = fs->bsize;
	out->st.frsize = fs->frsize;
	out->st.namelen = 255;
	return sizeof(*out);
}

/* --- the opcode table ----------------------------------------------------- */

#define ARG(type)	sizeof(struct type)

static const struct fuse_op ops[FUSE_OPCODE_COUNT] = {
	[FUSE_LOOKUP] = { "LOOKUP", 0, TAIL_NAME, op_lookup, lookup_done },
	[FUSE_FORGET] = { "FORGET", ARG(fuse_forget_in), 0, op_no_reply, 0 },
	[FUSE_GETATTR] = { "GETATTR", ARG(fuse_getattr_in), 0, op_getattr,
			   getattr_done },
	[FUSE_SETATTR] = { "SETATTR", ARG(fuse_setattr_in), 0, op_setattr,
			   setattr_done },
	[FUSE_READLINK] = { "READLINK", 0, 0, op_enosys, 0 },
	[FUSE_SYMLINK] = { "SYMLINK", 0, 0, op_enosys, 0 },
	[FUSE_MKNOD] = { "MKNOD", 0, 0, op_enosys, 0 },
	[FUSE_MKDIR] = { "MKDIR", 0, 0, op_enosys, 0 },
	[FUSE_UNLINK] = { "UNLINK", 0, 0, op_enosys, 0 },
	[FUSE_RMDIR] = { "RMDIR", 0, 0, op_enosys, 0 },
	[FUSE_RENAME] = { "RENAME", 0, 0, op_enosys, 0 },
	[FUSE_LINK] = { "LINK", 0, 0, op_enosys, 0 },
	[FUSE_OPEN] = { "OPEN", ARG(fuse_open_in), 0, op_open, 0 },
	[FUSE_READ] = { "READ", ARG(fuse_read_in), 0, op_read, read_done },
	[FUSE_WRITE] = { "WRITE", ARG(fuse_write_in), TAIL_WRITE_DATA, op_write,
			 write_done },
	[FUSE_STATFS] = { "STATFS", 0, 0, op_statfs, statfs_done },
	[FUSE_RELEASE] = { "RELEASE", ARG(fuse_release_in), 0, op_ok, 0 },
	[FUSE_FSYNC] = { "FSYNC", ARG(fuse_fsync_in), 0, op_fsync,
			 done_or_error },
	[FUSE_SETXATTR] = { "SETXATTR", 0, 0, op_enosys, 0 },
	[FUSE_GETXATTR] = { "GETXATTR", 0, 0, op_enosys, 0 },
	[FUSE_LISTXATTR] = { "LISTXATTR", 0, 0, op_enosys, 0 },
	[FUSE_REMOVEXATTR] = { "REMOVEXATTR", 0, 0, op_enosys, 0 },
	[FUSE_FLUSH] = { "FLUSH", ARG(fuse_flush_in), 0, op_ok, 0 },
	[FUSE_INIT] = { "INIT", FUSE_INIT_IN_OLDEST_SIZE, 0, op_init_again, 0 },
	[FUSE_OPENDIR] = { "OPENDIR", ARG(fuse_open_in), 0, op_opendir, 0 },
	[FUSE_READDIR] = { "READDIR", ARG(fuse_read_in), 0, op_readdir, 0 },
	[FUSE_RELEASEDIR] = { "RELEASEDIR", ARG(fuse_release_in), 0, op_ok, 0 },
	/* The directory never changes: there is nothing to sync. */
	[FUSE_FSYNCDIR] = { "FSYNCDIR", ARG(fuse_fsync_in), 0, op_ok, 0 },
	[FUSE_GETLK] = { "GETLK", 0, 0, op_enosys, 0 },
	[FUSE_SETLK] = { "SETLK", 0, 0, op_enosys, 0 },
	[FUSE_SETLKW] = { "SETLKW", 0, 0, op_enosys, 0 },
	[FUSE_ACCESS] = { "ACCESS", 0, 0, op_enosys, 0 },
	[FUSE_CREATE] = { "CREATE", 0, 0, op_enosys, 0 },
	[FUSE_INTERRUPT] = { "INTERRUPT", ARG(fuse_interrupt_in), 0,
			     op_no_reply, 0 },
	[FUSE_BMAP] = { "BMAP", 0, 0, op_enosys, 0 },
	[FUSE_DESTROY] = { "DESTROY", 0, 0, op_ok, 0 },
	[FUSE_IOCTL] = { "IOCTL", 0, 0, op_enosys, 0 },
	[FUSE_POLL] = { "POLL", 0, 0, op_enosys, 0 },
	[FUSE_NOTIFY_REPLY] = { "NOTIFY_REPLY", 0, 0, op_enosys, 0 },
	[FUSE_BATCH_FORGET] = { "BATCH_FORGET", ARG(fuse_batch_forget_in),
				TAIL_FORGET_LIST, op_no_reply, 0 },
	[FUSE_FALLOCATE] = { "FALLOCATE", ARG(fuse_fallocate_in), 0,
			     op_fallocate, fallocate_done },
	[FUSE_READDIRPLUS] = { "READDIRPLUS", ARG(fuse_read_in), 0,
			       op_readdirplus, readdirplus_done },
	[FUSE_RENAME2] = { "RENAME2", 0, 0, op_enosys, 0 },
	[FUSE_LSEEK] = { "LSEEK", ARG(fuse_lseek_in), 0, op_lseek, lseek_done },
	[FUSE_COPY_FILE_RANGE] = { "COPY_FILE_RANGE", 0, 0, op_enosys, 0 },
	[FUSE_SETUPMAPPING] = { "SETUPMAPPING", 0, 0, op_enosys, 0 },
	[FUSE_REMOVEMAPPING] = { "REMOVEMAPPING", 0, 0, op_enosys, 0 },
	[FUSE_SYNCFS] = { "SYNCFS", 0, 0, op_enosys, 0 },
	[FUSE_TMPFILE] = { "TMPFILE", 0, 0, op_enosys, 0 },
	[FUSE_STATX] = { "STATX", 0, 0, op_enosys, 0 },
	[FUSE_COPY_FILE_RANGE_64] = { "COPY_FILE_RANGE_64", 0, 0, op_enosys, 0 },
};

static const struct fuse_op unknown_op = { 0, 0, 0, op_enosys, 0 };

static const struct fuse_op *op_for(uint32_t opcode)
{
	if (opcode < FUSE_OPCODE_COUNT && ops[opcode].start)
		return &ops[opcode];
	return &unknown_op;
}

const char *fuse_opcode_name(uint32_t opcode)
{
	return op_for(opcode)->name;
}

/* --- parsing -------------------------------------------------------------- */

static bool has_nul(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!p[i])
			return true;
	return false;
}

/* Both transports end here once they have located the fixed argument and
 * the variable part (extensions already cut off). */
static int parse_args(struct fuse_call *c, const uint8_t *arg, uint32_t arg_len,
		      uint8_t *data, uint32_t data_len)
{
	const struct fuse_op *op = op_for(c->in.opcode);
	bool valid = arg_len >= op->arg_size;

	c->op = op;
	c->io_done = 0;
	c->data = data;
	c->data_len = data_len;
	if (valid)
		memcpy(&c->arg, arg, op->arg_size);
	switch (valid ? op->tail : TAIL_IGNORED) {
	case TAIL_NAME:
		valid = has_nul(data, data_len);
		break;
	case TAIL_WRITE_DATA:
		valid = data_len == c->arg.write.size;
		break;
	case TAIL_FORGET_LIST:
		valid = (uint64_t)c->arg.batch_forget.count *
				sizeof(struct fuse_forget_one) <= data_len;
		break;
	}
	if (valid)
		return 0;
	/* A malformed request that takes no reply is just dropped. */
	return op->start == op_no_reply ? CALL_NO_REPLY : -EINVAL;
}

int fuse_call_parse_dev(struct fuse_call *c, uint8_t *msg, uint32_t len,
			uint8_t *reply, uint32_t reply_cap)
{
	const uint32_t hdr = sizeof(struct fuse_in_header);

	c->reply = reply;
	c->reply_cap = reply_cap;
	c->op = &unknown_op;
	if (len < hdr)
		return CALL_NO_REPLY;	/* not even a unique to answer to */
	memcpy(&c->in, msg, hdr);
	uint32_t ext = (uint32_t)c->in.total_extlen * 8;

	if (c->in.len != len || ext > len - hdr)
		return -EINVAL;
	uint32_t body = len - hdr - ext;
	uint32_t arg_len = op_for(c->in.opcode)->arg_size;

	if (arg_len > body)
		arg_len = body;
	return parse_args(c, msg + hdr, arg_len, msg + hdr + arg_len,
			  body - arg_len);
}

int fuse_call_parse_uring(struct fuse_call *c,
			 const struct fuse_uring_req_header *h,
			 uint8_t *payload, uint32_t payload_cap)
{
	const uint32_t hdr = sizeof(struct fuse_in_header);
	uint32_t payload_sz = h->ring_ent_in_out.payload_sz;

	c->reply = payload;
	c->reply_cap = payload_cap;
	c->op = &unknown_op;
	memcpy(&c->in, h->in_out, hdr);
	uint32_t ext = (uint32_t)c->in.total_extlen * 8;

	/* The first argument sits in op_in, the rest in the payload (the
	 * extensions last); the header's len counts all of it, so what it
	 * leaves for the argument is between none and all of op_in. */
	int64_t arg_len = (int64_t)c->in.len - hdr - payload_sz;

	if (payload_sz > payload_cap || ext > payload_sz || arg_len < 0 ||
	    arg_len > (int64_t)sizeof(h->op_in))
		return -EINVAL;
	return parse_args(c, h->op_in, (uint32_t)arg_len, payload, payload_sz - ext);
}

/* --- running a call ------------------------------------------------------- */

/* The kernel accepts only errors in (-512, 0); anything lower but the
 * core's own CALL_NO_REPLY and CALL_BACKING is a bug somewhere below us
 * and becomes EIO. */
static int checked(int r)
{
	return r <= -512 && r != CALL_NO_REPLY && r != CALL_BACKING ? -EIO : r;
}

int fuse_call_start(struct volume *v, struct fuse_call *c)
{
	return checked(c->op->start(v, c));
}

int fuse_call_resume(struct volume *v, struct fuse_call *c, int64_t res)
{
	struct backing_io *io = &c->io;

	/* A transfer that moved fewer bytes than asked continues where it
	 * stopped; end of file or an error ends it. */
	if ((io->kind == BACKING_READ || io->kind == BACKING_WRITE) && res > 0) {
		uint64_t n = (uint64_t)res < io->length ? (uint64_t)res : io->length;

		c->io_done += n;
		if (n < io->length) {
			io->buf += n;
			io->offset += n;
			io->length -= n;
			return CALL_BACKING;
		}
	}
	/* Results are 64-bit: LSEEK's is an offset beyond 4 GiB. */
	if (res < -4095)
		res = -EIO;
	if ((io->kind == BACKING_GETATTR || io->kind == BACKING_SIZE) && res >= 0)
		follow_backing_size(v, c);
	return checked(c->op->resume(v, c, res));
}

struct fuse_out_header fuse_reply_header(const struct fuse_call *c, int r)
{
	return (struct fuse_out_header){
		.len = (uint32_t)(sizeof(struct fuse_out_header) + (r > 0 ? r : 0)),
		.error = r < 0 ? r : 0,
		.unique = c->in.unique,
	};
}

int fuse_call_reply_if_complete(const struct fuse_call *c)
{
	if (c->in.opcode != FUSE_READ || c->io.kind != BACKING_READ)
		return -1;
	return (int)(c->io_done + c->io.length);
}

/* --- INIT ----------------------------------------------------------------- */

int fuse_init_negotiate(const uint8_t *body, uint32_t len,
			const struct init_wish *wish, struct fuse_init_out *out,
			struct init_result *result)
{
	struct fuse_init_in in;
	uint64_t want = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS |
			FUSE_ASYNC_DIO | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES |
			FUSE_INIT_EXT |
			/* tells a fusectl abort from an unmount */
			FUSE_ABORT_ERROR;

	memset(&in, 0, sizeof(in));
	memset(out, 0, sizeof(*out));
	memset(result, 0, sizeof(*result));
	/* Take what the kernel sent, however long; unknown tail bytes of a
	 * newer kernel are ignored, missing fields of an older one read 0. */
	if (len < FUSE_INIT_IN_OLDEST_SIZE)
		return -EPROTO;
	memcpy(&in, body, len < sizeof(in) ? len : sizeof(in));
	result->kernel_minor = in.minor;
	out->major = FUSE_KERNEL_VERSION;
	out->minor = FUSE_KERNEL_MINOR_VERSION;
	if (in.major > FUSE_KERNEL_VERSION) {
		/* Answer with our version; the kernel retries INIT with it. */
		result->again = true;
		return 8;
	}
	if (in.major < FUSE_KERNEL_VERSION || in.minor < FUSE_OLDEST_MINOR)
		return -EPROTO;
	result->minor = in.minor < FUSE_KERNEL_MINOR_VERSION ?
				in.minor : FUSE_KERNEL_MINOR_VERSION;

	uint64_t offered = in.flags;

	if (offered & FUSE_INIT_EXT)
		offered |= (uint64_t)in.flags2 << 32;
	if (wish->passthrough)
		want |= FUSE_PASSTHROUGH;
	if (wish->io_uring)
		want |= FUSE_OVER_IO_URING;
	result->kernel_flags = offered;
	result->flags = want & offered;

	out->max_readahead = in.max_readahead;
	out->flags = (uint32_t)result->flags;
	out->flags2 = (uint32_t)(result->flags >> 32);
	/* Asynchronous requests (readahead, a loop device's direct I/O) are
	 * "background" ones: the kernel lets max_background of them be
	 * queued for the server and makes the next submitter wait.  As many
	 * as the queues can be given at once: fewer would leave slots idle, more
	 * only wait in the kernel, while the submitter (the loop device's
	 * worker) runs ahead of us, sleeps and is woken for each request.
	 * Congested (readahead and mmap writeback hold back) only when full.
	 * INIT carries both in 16 bits: more slots than that are offered as
	 * 65535, never as what is left after the top bits are cut off. */
	uint16_t background = wish->max_background < UINT16_MAX ?
			      (uint16_t)wish->max_background : UINT16_MAX;

	out->max_background = background;
	out->congestion_threshold = background;
	out->max_write = wish->max_write;
	/* The kernel sizes READs by max_pages of its own page size: with
	 * 64K pages, max_write/4096 pages would ask for 16x the buffer. */
	out->max_pages = (uint16_t)(wish->max_write / wish->page_size);
	out->time_gran = 1;
	if (result->flags & FUSE_PASSTHROUGH)
		out->max_stack_depth = 2;	/* BACKING may itself be stacked */
	/* Kernels before 7.23 reject the longer reply. */
	return in.minor < 23 ? FUSE_INIT_OUT_SIZE_BEFORE_7_23 :
			       (int)sizeof(*out);
}
