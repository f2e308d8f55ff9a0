/* fuseuring - serve one backing file (or block device) as one file on a FUSE
 * mount, driving the whole FUSE conversation through io_uring.
 *
 *   fuseuring [-f] [-o OPT[,OPT...]] BACKING MOUNTPOINT
 *
 * How a request travels (the only data path):
 *
 *   1. The kernel hands a request to one of our queues: with the "dev"
 *      transport as the result of a read on /dev/fuse into a buffer of the
 *      queue's arena; with the "uring" transport by completing a
 *      FUSE-over-io_uring command whose payload buffer lies in the arena.
 *   2. fuse_ops.c parses and validates it and either answers at once or asks
 *      for one operation on BACKING.
 *   3. READ and WRITE use READ_FIXED/WRITE_FIXED on the very buffer the
 *      request arrived in: the arena is registered with io_uring once, and
 *      WRITE data lands page aligned, so it can go to BACKING even with
 *      O_DIRECT.  READ data is read right behind the reply header.
 *   4. The reply leaves from the same buffer: a WRITE to /dev/fuse, or a
 *      COMMIT_AND_FETCH command that also waits for the next request.
 *
 * No byte of payload is copied in user space, there are no locks, and one
 * io_uring_enter() per loop submits everything and collects every
 * completion.  Each queue is a thread with its own ring, arena and /dev/fuse
 * clone; the main thread only handles signals.
 */
#include "sys.h"
#include "uring.h"
#include "fuse_proto.h"
#include "fuse_ops.h"

#define VERSION "1.0"

/* --- diagnostics ---------------------------------------------------------- */

/* Where messages go: stderr until the daemon detaches, then the system log
 * (/dev/log, or the kernel log when no syslog daemon listens).  The one
 * piece of process-wide state, because every part of the program may need
 * to report. */
static struct {
	int fd;
	bool syslog;	/* frame lines as "<priority>fuseuring[pid]: " */
	int pid;
} log_sink = { .fd = 2 };

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6 };

static void log_v(enum log_level level, const char *f, va_list ap)
{
	char line[1024];
	size_t n;

	if (log_sink.syslog)
		n = fmt(line, sizeof(line), "<%d>fuseuring[%d]: ",
			3 << 3 /* daemon */ | level, log_sink.pid);
	else
		n = fmt(line, sizeof(line), "fuseuring: ");
	if (level == LOG_WARNING)
		n += fmt(line + n, sizeof(line) - n, "warning: ");
	n += fmt_v(line + n, sizeof(line) - n - 1, f, ap);
	line[n++] = '\n';
	sys_write(log_sink.fd, line, n);
}

#define DEFINE_LOG(fn, level)						\
	__attribute__((format(printf, 1, 2)))				\
	static void fn(const char *f, ...)				\
	{								\
		va_list ap;						\
		va_start(ap, f);					\
		log_v(level, f, ap);					\
		va_end(ap);						\
	}
DEFINE_LOG(error, LOG_ERR)
DEFINE_LOG(warn, LOG_WARNING)
DEFINE_LOG(info, LOG_INFO)

/* Report a command-line mistake and exit with status 2. */
__attribute__((format(printf, 1, 2))) static _Noreturn void usage_error(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	log_v(LOG_ERR, f, ap);
	va_end(ap);
	sys_write(2, "Try 'fuseuring --help'.\n", 24);
	sys_exit_group(2);
}

/* After detaching there is no terminal: log to syslog, or to the kernel. */
static void log_to_system(void)
{
	struct { uint16_t family; char path[108]; } addr = { 1 /* AF_UNIX */, "/dev/log" };
	int fd = (int)sc3(SYS_socket, 1, 2 /* SOCK_DGRAM */ | O_CLOEXEC, 0);

	if (fd >= 0 && sc3(SYS_connect, fd, &addr, sizeof(addr)) < 0) {
		sys_close(fd);
		fd = -1;
	}
	if (fd < 0)
		fd = sys_open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0)
		fd = sys_open("/dev/null", O_WRONLY | O_CLOEXEC, 0);
	log_sink.fd = fd;
	log_sink.syslog = true;
	log_sink.pid = sys_getpid();
}

/* --- options -------------------------------------------------------------- */

enum transport { TRANSPORT_AUTO, TRANSPORT_DEV, TRANSPORT_URING };
static const char *const transport_names[] = { "auto", "dev", "uring", 0 };

struct options {
	const char *backing, *mountpoint;
	bool foreground;
	bool read_only, allow_other, direct, passthrough, resize, debug;
	bool noexec;		/* from mount(8)'s generic options */
	bool fake;		/* mount.fuseuring -f: check, mount nothing */
	const char *name;
	const char *pidfile;
	uint64_t size;		/* 0: not given */
	uint64_t max_write;
	uint32_t uid, gid, mode;
	uint32_t depth, queues;	/* queues 0: one per CPU */
	uint32_t transport;	/* enum transport */
	char **envp;
};

enum opt_type { OPT_FLAG, OPT_UINT, OPT_OCTAL, OPT_SIZE, OPT_NAME, OPT_PATH,
		OPT_CHOICE };

static const struct opt_def {
	const char *name;
	uint8_t type;
	uint16_t field;		/* offsetof(struct options, ...) */
	uint64_t min, max;
	const char *help;
	const char *const *choices;
} opt_defs[] = {
#define F(field) offsetof(struct options, field)
	{ "ro", OPT_FLAG, F(read_only), 0, 0,
	  "read-only volume; BACKING is opened read-only", 0 },
	{ "name", OPT_NAME, F(name), 0, 0,
	  "file name inside MOUNTPOINT (default: volume)", 0 },
	{ "size", OPT_SIZE, F(size), 1, INT64_MAX,
	  "N[K|M|G|T]: create BACKING if missing, extend it if smaller", 0 },
	{ "uid", OPT_UINT, F(uid), 0, 0xfffffffe,
	  "owner of the volume (default: your uid)", 0 },
	{ "gid", OPT_UINT, F(gid), 0, 0xfffffffe,
	  "group of the volume (default: your gid)", 0 },
	{ "mode", OPT_OCTAL, F(mode), 0, 07777,
	  "permission bits, octal (default: 0600)", 0 },
	{ "allow_other", OPT_FLAG, F(allow_other), 0, 0,
	  "let other users in; the kernel checks mode, uid and gid", 0 },
	{ "depth", OPT_UINT, F(depth), 1, 1024,
	  "requests in flight per queue (default: 16)", 0 },
	{ "queues", OPT_UINT, F(queues), 1, 256,
	  "worker threads, each with its own ring (default: one per CPU)", 0 },
	{ "max_write", OPT_SIZE, F(max_write), 16384, 1 << 20,
	  "largest READ or WRITE, a multiple of 4K up to 1M (default: 256K)", 0 },
	{ "transport", OPT_CHOICE, F(transport), 0, 0,
	  "auto|dev|uring: requests as FUSE-over-io_uring commands\n"
	  "                     (uring) or as reads of /dev/fuse (dev); auto takes\n"
	  "                     uring when the kernel offers it (default: auto)",
	  transport_names },
	{ "passthrough", OPT_FLAG, F(passthrough), 0, 0,
	  "the kernel reads and writes BACKING itself (needs CAP_SYS_ADMIN)", 0 },
	{ "direct", OPT_FLAG, F(direct), 0, 0,
	  "open BACKING with O_DIRECT, bypassing its page cache", 0 },
	{ "resize", OPT_FLAG, F(resize), 0, 0,
	  "truncate on the volume resizes BACKING (default: refused)", 0 },
	{ "debug", OPT_FLAG, F(debug), 0, 0,
	  "log every request and its result (use with -f)", 0 },
	{ "pidfile", OPT_PATH, F(pidfile), 0, 0,
	  "write the daemon's pid to this file", 0 },
#undef F
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void print_help(void)
{
	char buf[8192];
	size_t n = fmt(buf, sizeof(buf),
		"Usage: fuseuring [-f] [-o OPT[,OPT...]] BACKING MOUNTPOINT\n"
		"Serve the file or block device BACKING as MOUNTPOINT/volume on a\n"
		"FUSE mount, through io_uring.  A MOUNTPOINT that is a file becomes\n"
		"the volume itself.\n\n"
		"  -f             stay in the foreground (default: detach once the\n"
		"                 volume can be opened)\n"
		"  -o OPT[,...]   options, before or after the paths:\n");

	for (size_t i = 0; i < COUNT(opt_defs); i++) {
		const struct opt_def *d = &opt_defs[i];
		char key[32];

		fmt(key, sizeof(key), "%s%s", d->name, d->type == OPT_FLAG ? "" : "=");
		n += fmt(buf + n, sizeof(buf) - n, "      %-14s %s\n", key, d->help);
	}
	n += fmt(buf + n, sizeof(buf) - n,
		 "  -h, --help     this text\n"
		 "  -V, --version  the version\n\n"
		 "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
	sys_write(1, buf, n);
}

static bool parse_number(const char *s, unsigned base, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d >= base || v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* N, or N followed by K, M, G or T (powers of 1024). */
static bool parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	char digits[24];
	unsigned shift = 0;
	size_t n = str_len(s);

	if (n == 0 || n >= sizeof(digits))
		return false;
	for (unsigned i = 0; i < 4; i++)
		if ((s[n - 1] | 0x20) == units[i]) {
			shift = 10 * (i + 1);
			n--;
			break;
		}
	memcpy(digits, s, n);
	digits[n] = 0;
	if (!parse_number(digits, 10, out) || *out > (UINT64_MAX >> shift))
		return false;
	*out <<= shift;
	return true;
}

static void set_text_option(const struct opt_def *d, void *field, const char *value)
{
	if (d->type == OPT_NAME) {
		if (str_eq(value, ".") || str_eq(value, ".."))
			usage_error("-o %s=%s: not a usable file name", d->name, value);
		for (const char *p = value; *p; p++)
			if (*p == '/')
				usage_error("-o %s=%s: a name cannot contain '/'",
					    d->name, value);
		if (str_len(value) > 255)
			usage_error("-o %s: longer than 255 bytes", d->name);
	}
	if (d->type == OPT_CHOICE) {
		for (uint32_t k = 0; d->choices[k]; k++)
			if (str_eq(value, d->choices[k])) {
				*(uint32_t *)field = k;
				return;
			}
		usage_error("-o %s=%s: not one of the choices (see --help)", d->name, value);
	}
	*(const char **)field = value;
}

static void set_number_option(const struct opt_def *d, void *field, const char *value)
{
	uint64_t v;
	bool ok = d->type == OPT_SIZE ? parse_size(value, &v) :
		  parse_number(value, d->type == OPT_OCTAL ? 8 : 10, &v);

	if (!ok)
		usage_error("-o %s=%s: not a %s", d->name, value,
			    d->type == OPT_SIZE ? "size (N[K|M|G|T])" :
			    d->type == OPT_OCTAL ? "octal mode" : "number");
	if (v < d->min || v > d->max)
		usage_error("-o %s=%s: out of range (%lu to %lu)", d->name, value,
			    (unsigned long)d->min, (unsigned long)d->max);
	if (d->type == OPT_SIZE)
		*(uint64_t *)field = v;
	else
		*(uint32_t *)field = (uint32_t)v;
}

/* Options mount(8), fstab and mount.fuse3 pass along for every
 * filesystem.  Those that mean something here are honoured; the rest
 * concern mount itself (nofail, _netdev, x-systemd.*...) or do not apply
 * to one file (atime variants), and are accepted and ignored. */
static bool generic_mount_option(struct options *o, const char *opt)
{
	static const char *const ignored[] = {
		"defaults", "auto", "noauto", "nofail", "_netdev", "user", "users",
		"nouser", "owner", "group", "suid", "nosuid", "dev", "nodev",
		"atime", "noatime", "diratime", "nodiratime", "relatime",
		"norelatime", "strictatime", "nostrictatime", "lazytime",
		"nolazytime", "sync", "async", "dirsync", "silent", "loud",
		"iversion", "noiversion", "mand", "nomand", "nosymfollow", 0,
	};

	if (str_eq(opt, "rw"))
		o->read_only = false;
	else if (str_eq(opt, "noexec") || str_eq(opt, "exec"))
		o->noexec = opt[0] == 'n';
	else if (str_after(opt, "x-") || str_after(opt, "X-") ||
		 str_after(opt, "comment="))
		return true;
	else {
		for (size_t i = 0; ignored[i]; i++)
			if (str_eq(opt, ignored[i]))
				return true;
		return false;
	}
	return true;
}

/* Apply one "key" or "key=value" from -o. */
static void apply_option(struct options *o, char *opt)
{
	if (generic_mount_option(o, opt))
		return;
	char *value = 0;

	for (char *p = opt; *p; p++)
		if (*p == '=') {
			*p = 0;
			value = p + 1;
			break;
		}
	for (size_t i = 0; i < COUNT(opt_defs); i++) {
		const struct opt_def *d = &opt_defs[i];
		void *field = (char *)o + d->field;

		if (!str_eq(opt, d->name))
			continue;
		if (d->type == OPT_FLAG) {
			if (value)
				usage_error("-o %s: takes no value", opt);
			*(bool *)field = true;
		} else if (!value || !*value) {
			usage_error("-o %s: needs a value (%s=...)", opt, opt);
		} else if (d->type == OPT_UINT || d->type == OPT_OCTAL ||
			   d->type == OPT_SIZE) {
			set_number_option(d, field, value);
		} else {
			set_text_option(d, field, value);
		}
		return;
	}
	usage_error("-o %s: unknown option", opt);
}

static void apply_option_list(struct options *o, char *list)
{
	char *start = list;

	if (!*list)
		usage_error("-o: empty option list");
	for (char *p = list;; p++) {
		if (*p != ',' && *p)
			continue;
		bool last = !*p;

		*p = 0;
		if (p == start)
			usage_error("-o: empty option in list");
		apply_option(o, start);
		if (last)
			return;
		start = p + 1;
	}
}

/* Invoked as mount.fuseuring, fuseuring follows mount(8)'s calling
 * convention: "mount.fuseuring SPEC DIR [-sfnv] [-o OPTS] [-t TYPE]", where
 * -f means fake (check, mount nothing), not foreground. */
static bool called_as_mount_helper(const char *argv0)
{
	const char *base = argv0;

	for (const char *p = argv0; *p; p++)
		if (*p == '/')
			base = p + 1;
	return str_eq(base, "mount.fuseuring");
}

static void parse_command_line(struct options *o, int argc, char **argv)
{
	bool helper = argc > 0 && called_as_mount_helper(argv[0]);
	bool dashdash = false;
	int paths = 0;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];

		if (!dashdash && a[0] == '-' && a[1]) {
			if (str_eq(a, "--")) {
				dashdash = true;
			} else if (str_eq(a, "-h") || str_eq(a, "--help")) {
				print_help();
				sys_exit_group(0);
			} else if (str_eq(a, "-V") || str_eq(a, "--version")) {
				sys_write(1, "fuseuring " VERSION "\n", sizeof(VERSION) + 10);
				sys_exit_group(0);
			} else if (str_eq(a, "-f")) {
				*(helper ? &o->fake : &o->foreground) = true;
			} else if (str_eq(a, "-o")) {
				if (++i == argc)
					usage_error("-o: needs an option list");
				apply_option_list(o, argv[i]);
			} else if (a[1] == 'o') {
				apply_option_list(o, a + 2);
			} else if (helper && (str_eq(a, "-s") || str_eq(a, "-n") ||
					      str_eq(a, "-v"))) {
				/* sloppy, no mtab, verbose: nothing to do */
			} else if (helper && str_eq(a, "-t") && i + 1 < argc) {
				i++;	/* the type is us */
			} else {
				usage_error("%s: unknown option", a);
			}
			continue;
		}
		if (!*a)
			usage_error("%s: empty path", paths ? "MOUNTPOINT" : "BACKING");
		if (paths == 0)
			o->backing = a;
		else if (paths == 1)
			o->mountpoint = a;
		else
			usage_error("%s: unexpected argument (only BACKING and MOUNTPOINT)", a);
		paths++;
	}
	if (paths < 2)
		usage_error("missing %s", paths ? "MOUNTPOINT" : "BACKING and MOUNTPOINT");
	if (o->read_only && o->size)
		usage_error("-o ro and size= do not go together: a read-only volume cannot create or extend BACKING");
	if (o->max_write % 4096)
		usage_error("-o max_write=%lu: not a multiple of 4096", (unsigned long)o->max_write);
	if (o->passthrough && o->direct)
		usage_error("-o passthrough and direct do not go together: with passthrough the kernel does the I/O");
}

/* --- BACKING and MOUNTPOINT ----------------------------------------------- */

/* Which file a statx describes. */
struct file_id {
	uint32_t dev_major, dev_minor;
	uint64_t ino;
};

static struct file_id file_id(const struct statx *st)
{
	return (struct file_id){ st->stx_dev_major, st->stx_dev_minor, st->stx_ino };
}

static bool same_file(struct file_id a, struct file_id b)
{
	return a.ino == b.ino && a.dev_major == b.dev_major &&
	       a.dev_minor == b.dev_minor;
}

struct backing {
	int fd;			/* the file (O_DIRECT on tmpfs, see below) */
	int direct_fd;		/* the same file with O_DIRECT, or -1 */
	uint32_t dio_align;	/* offset/length/address alignment for direct_fd */
	uint64_t size;
	bool is_block;
	struct file_id id;
};

/* Prints the reason and returns false on failure. */
static bool backing_open(const struct options *o, struct backing *b)
{
	/* O_NONBLOCK changes nothing for plain read and write on a file, but
	 * tells io_uring it may try BACKING I/O inline before falling back to
	 * a worker thread, also on filesystems that do not announce it. */
	int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK;
	struct statfs fs;
	struct statx st;
	int fd;

	*b = (struct backing){ .fd = -1, .direct_fd = -1 };
	fd = sys_open(o->backing, flags | (o->size ? O_CREAT : 0), 0600);
	if (fd == -ENOENT && !o->size) {
		error("%s: %s (give -o size=N to create it)", o->backing, errno_name(fd));
		return false;
	}
	if (fd < 0) {
		error("%s: %s", o->backing, errno_name(fd));
		return false;
	}
	b->fd = fd;
	int r = sys_statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st);

	if (r < 0) {
		error("%s: %s", o->backing, errno_name(r));
		return false;
	}
	b->id = file_id(&st);
	switch (st.stx_mode & S_IFMT) {
	case S_IFREG:
		b->size = st.stx_size;
		if (o->size > b->size) {
			/* Grow sparse; never shrink. */
			r = sys_ftruncate(fd, (int64_t)o->size);
			if (r < 0) {
				error("%s: cannot extend to %lu bytes: %s", o->backing,
				    (unsigned long)o->size, errno_name(r));
				return false;
			}
			b->size = o->size;
		}
		/* On tmpfs the page cache is the file, so O_DIRECT changes
		 * nothing but lets io_uring write without a worker thread
		 * (tmpfs cannot do non-blocking buffered writes). */
		if (sys_fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC)
			sys_add_fd_flags(fd, O_DIRECT);
		break;
	case S_IFBLK:
		if (o->passthrough) {
			error("%s: -o passthrough needs BACKING to be a regular file "
			      "(the kernel passes through to files only)", o->backing);
			return false;
		}
		b->is_block = true;
		r = (int)sys_ioctl(fd, BLKGETSIZE64, &b->size);
		if (r < 0) {
			error("%s: cannot read the device size: %s", o->backing,
			    errno_name(r));
			return false;
		}
		if (o->size > b->size) {
			error("%s: a block device of %lu bytes cannot grow to size=%lu",
			    o->backing, (unsigned long)b->size,
			    (unsigned long)o->size);
			return false;
		}
		break;
	case S_IFDIR:
		error("%s: %s (BACKING must be a file or a block device)",
		    o->backing, errno_name(EISDIR));
		return false;
	default:
		error("%s: not a regular file or block device", o->backing);
		return false;
	}
	if (b->size == 0) {
		error("%s: is empty (give -o size=N to extend it)", o->backing);
		return false;
	}
	if (o->direct) {
		/* Open by path again and make sure it is the same file. */
		struct statx dst;

		fd = sys_open(o->backing, flags | O_DIRECT, 0);
		if (fd < 0) {
			error("%s: cannot open with O_DIRECT: %s", o->backing,
			    errno_name(fd));
			return false;
		}
		b->direct_fd = fd;
		r = sys_statx(fd, "", AT_EMPTY_PATH,
			      STATX_BASIC_STATS | STATX_DIOALIGN, &dst);
		if (r < 0 || !same_file(file_id(&dst), b->id)) {
			error("%s: changed while being opened", o->backing);
			return false;
		}
		b->dio_align = (dst.stx_mask & STATX_DIOALIGN) &&
			       dst.stx_dio_offset_align ? dst.stx_dio_offset_align : 4096;
		if (dst.stx_dio_mem_align > b->dio_align)
			b->dio_align = dst.stx_dio_mem_align;
	}
	return true;
}

/* Make `path` absolute (the daemon changes to / and must still be able to
 * unmount it).  Returns a pointer into `buf`. */
static const char *absolute_path(const char *path, char *buf, size_t cap)
{
	if (path[0] == '/')
		return path;
	long n = sys_getcwd(buf, cap);

	if (n <= 0)
		return path;
	fmt(buf + n - 1, cap - (size_t)n + 1, "/%s", path);
	return buf;
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

/* Is MOUNTPOINT usable?  Sets *is_file for a regular-file mountpoint. */
static bool mountpoint_check(const struct options *o, const struct backing *b,
			     bool *is_file)
{
	struct statx st;
	struct statfs fs;
	/* Force a fresh look: a FUSE mount whose server died still answers
	 * from cached attributes for a while. */
	int r = sys_statx(AT_FDCWD, o->mountpoint, AT_STATX_FORCE_SYNC,
			  STATX_BASIC_STATS, &st);

	if (r == -ENOTCONN || r == -ECONNABORTED) {
		error("%s: %s: a FUSE mount whose server died is still there; "
		      "run 'umount %s' first", o->mountpoint, errno_name(r),
		      o->mountpoint);
		return false;
	}
	if (r < 0) {
		error("%s: %s", o->mountpoint, errno_name(r));
		return false;
	}
	if ((st.stx_attributes & STATX_ATTR_MOUNT_ROOT) &&
	    sys_statfs(o->mountpoint, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC) {
		error("%s: is already a FUSE mount; run 'umount %s' first",
		      o->mountpoint, o->mountpoint);
		return false;
	}
	if (same_file(file_id(&st), b->id)) {
		error("%s: is BACKING itself; mounting over it would hide it",
		      o->mountpoint);
		return false;
	}
	switch (st.stx_mode & S_IFMT) {
	case S_IFDIR:
		/* The mount would hide BACKING from everyone (and a daemon
		 * reaching it through its own mount would wait on itself). */
		if (lies_under(o->backing, file_id(&st))) {
			error("%s: lies inside MOUNTPOINT %s; the mount would hide it",
			      o->backing, o->mountpoint);
			return false;
		}
		*is_file = false;
		return true;
	case S_IFREG:
		*is_file = true;
		return true;
	default:
		error("%s: not a directory or regular file", o->mountpoint);
		return false;
	}
}

/* --- the arena, queues and slots ------------------------------------------ */

/* Every request buffer ("slot") is 4 KiB of headroom followed by a
 * page-aligned body of max_write bytes.  A /dev/fuse request is read so that
 * its header and fuse_write_in fill the end of the headroom and WRITE data
 * starts exactly at the body; the reply header goes right in front of the
 * body and READ data into it.  A FUSE-over-io_uring entry keeps its header
 * area in the headroom and uses the body as its payload buffer. */
#define SLOT_HEADROOM		4096u
#define DEV_REQUEST_OFFSET	(SLOT_HEADROOM - sizeof(struct fuse_in_header) - \
				 sizeof(struct fuse_write_in))
#define REPLY_HEADER_OFFSET	(SLOT_HEADROOM - sizeof(struct fuse_out_header))

/* Fixed files of every ring. */
enum { FILE_FUSE, FILE_BACKING, FILE_BACKING_DIRECT };

/* What a completion is about: the kind in the high half of user_data, the
 * slot index in the low half. */
enum event { EV_DEV_REQUEST, EV_RING_REQUEST, EV_BACKING, EV_DEV_REPLY };

struct slot {
	struct fuse_call call;
	uint8_t *mem;		/* headroom, then body */
	uint64_t commit_id;	/* ring entries: the request being answered */
	uint16_t qid;		/* ring entries: the kernel queue served */
	uint8_t ring_cmd;	/* ring entries: the command in flight */
	bool reply_linked;	/* the reply waits behind the BACKING read */
	struct iovec iov[2];	/* ring entries: header area and payload */
};

struct queue_stats {
	uint64_t requests[FUSE_OPCODE_COUNT + 1];	/* last: unknown opcodes */
	uint64_t via_dev, via_ring;	/* where requests arrived */
	uint64_t bytes_read, bytes_written, errors, busy_max;
};

struct server;

struct queue {
	struct server *srv;
	unsigned index;
	struct uring ring;
	int fuse_fd;		/* this queue's clone of /dev/fuse */
	uint8_t *arena;
	size_t arena_size;
	uint32_t slot_size;
	struct slot *slots;
	unsigned nslots;	/* [0, ndev) read /dev/fuse, the rest are ring entries */
	unsigned ndev;
	struct io_uring_buf *buf_ring;	/* free /dev/fuse slots, for the kernel */
	unsigned buf_ring_entries;
	uint16_t buf_ring_tail;
	unsigned dev_free;	/* /dev/fuse slots in buf_ring */
	bool dev_armed;		/* the multishot read is active */
	bool dev_done;		/* /dev/fuse said the connection is over */
	unsigned ring_live;	/* ring entries still registered */
	unsigned busy;		/* slots between request and finished reply */
	int status;		/* exit status: 0, or 1 after an error */
	struct queue_stats stats;
};

struct server {
	struct volume vol;
	struct uring control;	/* the main thread's: signals, blocking BACKING calls */
	bool multishot_read;	/* the kernel has IORING_OP_READ_MULTISHOT (6.7+) */
	struct backing backing;
	const struct options *opt;
	const char *mountpoint;	/* absolute */
	const char *pidfile;	/* absolute, or NULL */
	int fuse_fd;
	bool via_fusermount;	/* mounted by fusermount3: unmount with it too */
	const char *notify_socket;	/* systemd's NOTIFY_SOCKET, or NULL */
	enum transport transport;
	unsigned depth;		/* slots per queue, or ring entries per kernel queue */
	unsigned nqueues;
	struct queue *queues;
	unsigned kernel_queues;	/* FUSE-over-io_uring: one per possible CPU */
	int workers_left;
	int exit_status;
#ifdef FAULT_INJECTION
	struct byte_range { uint64_t offset, length; } fault_eio;
#endif
};

/* Zeroed, page-aligned memory that lives as long as the queue. */
#ifdef HOSTED
/* Sanitizer builds take it from the heap, so that the sanitizer knows
 * where each allocation ends. */
void *aligned_alloc(size_t align, size_t size);
void free(void *p);

static void *map_anonymous(size_t len)
{
	void *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);

	return p ? memset(p, 0, len) : 0;
}

static void unmap_anonymous(void *p, size_t len)
{
	(void)len;
	free(p);
}

/* Memory lives as long as the process: there are no leaks to look for. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#else
static void *map_anonymous(size_t len)
{
	long p = sys_mmap(0, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p < 0 && p >= MAP_FAILED_MAX)
		return 0;
	/* A child (fusermount3) only execs: it need not copy our buffers,
	 * some of them pinned by io_uring. */
	sc3(SYS_madvise, p, len, MADV_DONTFORK);
	return (void *)p;
}

static void unmap_anonymous(void *p, size_t len)
{
	sys_munmap(p, len);
}
#endif

static uint64_t tag(enum event e, unsigned slot)
{
	return (uint64_t)e << 32 | slot;
}

static struct io_uring_sqe *queue_sqe(struct queue *q)
{
	struct io_uring_sqe *sqe = uring_get_sqe(&q->ring);

	/* The SQ has room for every slot's one operation; if the kernel has
	 * not consumed earlier SQEs yet, hand them over and retry. */
	while (!sqe) {
		uring_submit_and_wait(&q->ring, 0);
		sqe = uring_get_sqe(&q->ring);
	}
	return sqe;
}

/* Give a /dev/fuse slot back for the next request: into the kernel's
 * buffer ring, where the multishot read takes it; or, on kernels without
 * READ_MULTISHOT (before 6.7), as a read of its own.  (Each such read
 * then waits on /dev/fuse, and every request wakes them all: it works,
 * but costs more.) */
static void dev_slot_free(struct queue *q, unsigned i)
{
	q->dev_free++;
	if (!q->srv->multishot_read) {
		if (q->dev_done)
			return;
		struct io_uring_sqe *sqe = queue_sqe(q);

		sqe->opcode = IORING_OP_READ;
		sqe->flags = IOSQE_FIXED_FILE;
		sqe->fd = FILE_FUSE;
		sqe->addr = (uint64_t)(q->slots[i].mem + DEV_REQUEST_OFFSET);
		sqe->len = q->slot_size - DEV_REQUEST_OFFSET;
		sqe->user_data = tag(EV_DEV_REQUEST, i);
		return;
	}
	struct io_uring_buf *b = &q->buf_ring[q->buf_ring_tail & (q->buf_ring_entries - 1)];

	b->addr = (uint64_t)(q->slots[i].mem + DEV_REQUEST_OFFSET);
	b->len = q->slot_size - DEV_REQUEST_OFFSET;
	b->bid = (uint16_t)i;
	q->buf_ring_tail++;
	/* The tail shares a word with entry 0: publish it after the entry. */
	__atomic_store_n(&q->buf_ring[0].tail_or_resv, q->buf_ring_tail,
			 __ATOMIC_RELEASE);
}

/* One armed multishot READ delivers every /dev/fuse request, each into the
 * next free slot; it stops when the slots run out. */
static void dev_arm(struct queue *q)
{
	struct io_uring_sqe *sqe;

	if (!q->srv->multishot_read || q->dev_armed || q->dev_done || !q->dev_free)
		return;
	sqe = queue_sqe(q);
	sqe->opcode = IORING_OP_READ_MULTISHOT;
	sqe->flags = IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->fd = FILE_FUSE;
	sqe->buf_index = 0;	/* buffer group 0 */
	sqe->user_data = tag(EV_DEV_REQUEST, 0);
	q->dev_armed = true;
}

static void ring_command(struct queue *q, unsigned i, uint8_t cmd)
{
	struct slot *s = &q->slots[i];
	struct io_uring_sqe *sqe = queue_sqe(q);
	struct fuse_uring_cmd_req *req =
		(struct fuse_uring_cmd_req *)((uint8_t *)sqe + URING_SQE_CMD_OFFSET);

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = FILE_FUSE;
	sqe->cmd_op = cmd;
	if (cmd == FUSE_IO_URING_CMD_REGISTER) {
		sqe->addr = (uint64_t)s->iov;
		sqe->len = 2;
	}
	req->qid = s->qid;
	req->commit_id = s->commit_id;
	sqe->user_data = tag(EV_RING_REQUEST, i);
	s->ring_cmd = cmd;
}

/* --- serving -------------------------------------------------------------- */

static bool is_dev_slot(const struct queue *q, unsigned i)
{
	return i < q->ndev;
}

/* Where a BACKING operation runs.  READ and WRITE go through the queue's
 * ring: io_uring does them without blocking the queue.  fsync and
 * fallocate can take long, and io_uring would run them on kernel worker
 * threads (io-wq) of each queue; instead the main thread, idle apart from
 * signals, runs them, one MSG_RING each way (see control_loop).  The quick
 * metadata calls (statx, lseek, utimensat...) are made on the spot. */
enum backing_route { ROUTE_RING, ROUTE_MAIN, ROUTE_HERE };

static enum backing_route backing_route(enum backing_kind kind)
{
	switch (kind) {
	case BACKING_READ:
	case BACKING_WRITE:
		return ROUTE_RING;
	case BACKING_FSYNC:
	case BACKING_FALLOCATE:
		return ROUTE_MAIN;
	default:
		return ROUTE_HERE;
	}
}

#ifdef FAULT_INJECTION
/* Test builds only (make sanitize): FUSEURING_FAULT_EIO=OFFSET:LENGTH
 * makes every BACKING read or write touching that range fail with EIO the
 * way a real error does, as a completion with -EIO: the SQE becomes a NOP
 * that reports that result.  FUSEURING_NO_MULTISHOT=1 takes the path of
 * kernels without READ_MULTISHOT. */
static void inject_eio(const struct byte_range *f, const struct backing_io *io,
		       struct io_uring_sqe *sqe)
{
	uint64_t user_data = sqe->user_data;

	if (!f->length || io->offset >= f->offset + f->length ||
	    f->offset >= io->offset + io->length)
		return;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_NOP;
	sqe->op_flags = IORING_NOP_INJECT_RESULT;
	sqe->len = (uint32_t)-EIO;
	sqe->user_data = user_data;
}

static void fault_setup(struct server *srv, char **envp)
{
	for (; *envp; envp++) {
		const char *v = str_after(*envp, "FUSEURING_FAULT_EIO=");
		char offset[24];
		size_t n = 0;

		if (str_after(*envp, "FUSEURING_NO_MULTISHOT="))
			srv->multishot_read = false;
		if (!v)
			continue;
		while (v[n] && v[n] != ':' && n < sizeof(offset) - 1)
			offset[n] = v[n], n++;
		offset[n] = 0;
		if (v[n] != ':' || !parse_size(offset, &srv->fault_eio.offset) ||
		    !parse_size(v + n + 1, &srv->fault_eio.length))
			usage_error("FUSEURING_FAULT_EIO=%s: want OFFSET:LENGTH", v);
		warn("test build: BACKING I/O at %lu+%lu fails with EIO",
		     (unsigned long)srv->fault_eio.offset,
		     (unsigned long)srv->fault_eio.length);
	}
}
#endif

/* Queue a READ or WRITE on BACKING, from and into the arena. */
static struct io_uring_sqe *backing_submit(struct queue *q, unsigned i)
{
	const struct backing *b = &q->srv->backing;
	const struct backing_io *io = &q->slots[i].call.io;
	struct io_uring_sqe *sqe = queue_sqe(q);
	uint64_t align_mask = (uint64_t)b->dio_align - 1;

	sqe->opcode = io->kind == BACKING_READ ? IORING_OP_READ_FIXED :
						 IORING_OP_WRITE_FIXED;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = FILE_BACKING;
	/* O_DIRECT only where offset, length and address allow it. */
	if (b->direct_fd >= 0 &&
	    !((io->offset | io->length | (uint64_t)io->buf) & align_mask))
		sqe->fd = FILE_BACKING_DIRECT;
	sqe->addr = (uint64_t)io->buf;
	sqe->len = (uint32_t)io->length;
	sqe->off = io->offset;
	sqe->buf_index = 0;	/* the arena */
	sqe->user_data = tag(EV_BACKING, i);
#ifdef FAULT_INJECTION
	inject_eio(&q->srv->fault_eio, io, sqe);
#endif
	return sqe;
}

/* Hand slot i's operation to the main thread.  Its result comes back as
 * an EV_BACKING completion like any other; so does a failed hand-over. */
static void backing_hand_over(struct queue *q, unsigned i)
{
	struct io_uring_sqe *sqe = queue_sqe(q);

	sqe->opcode = IORING_OP_MSG_RING;
	sqe->fd = q->srv->control.fd;
	sqe->addr = IORING_MSG_DATA;
	sqe->off = (uint64_t)q->index << 32 | i;	/* the main thread's user_data */
	sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = tag(EV_BACKING, i);
}

/* Run a BACKING operation right now, in the calling thread. */
static int64_t backing_run(const struct backing *b, struct fuse_call *c)
{
	struct backing_io *io = &c->io;
	struct statx st;
	struct statfs sf;
	int r;

	switch (io->kind) {
	case BACKING_GETATTR:
		r = sys_statx(b->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st);
		if (r < 0)
			return r;
		c->got.attr = (struct backing_attr){
			.size = b->is_block ? b->size : st.stx_size,
			.blocks = st.stx_blocks, .blksize = st.stx_blksize,
			.atime = st.stx_atime, .mtime = st.stx_mtime,
			.ctime = st.stx_ctime,
		};
		return 0;
	case BACKING_STATFS:
		r = sys_fstatfs(b->fd, &sf);
		if (r < 0)
			return r;
		c->got.fs = (struct backing_fs){
			.blocks = sf.f_blocks, .bfree = sf.f_bfree,
			.bavail = sf.f_bavail, .bsize = (uint32_t)sf.f_bsize,
			.frsize = (uint32_t)sf.f_frsize,
		};
		return 0;
	case BACKING_LSEEK:
		return sys_lseek(b->fd, (int64_t)io->offset, (int)io->flags);
	case BACKING_SET_TIMES:
		return sys_futimens(b->fd, io->times);
	case BACKING_RESIZE:
		return b->is_block ? -EINVAL : sys_ftruncate(b->fd, (int64_t)io->length);
	case BACKING_FSYNC:
		return io->flags ? sys_fdatasync(b->fd) : sys_fsync(b->fd);
	case BACKING_FALLOCATE:
		return sys_fallocate(b->fd, (int)io->flags, io->offset, io->length);
	default:
		return -EINVAL;
	}
}

/* Only a queue writes its own counters; the main thread reads them for
 * SIGUSR1, so the stores are atomic but need no ordering. */
#define STAT_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (uint64_t)(n), __ATOMIC_RELAXED)

/* Count a reply; sign -1 takes back one that was cancelled. */
static void count_reply(struct queue *q, const struct fuse_call *c, int r,
			int sign)
{
	struct queue_stats *st = &q->stats;

	if (r < 0 && r != CALL_NO_REPLY)
		STAT_ADD(st->errors, sign);
	if (r > 0 && c->in.opcode == FUSE_READ)
		STAT_ADD(st->bytes_read, sign * r);
	if (r >= 0 && c->in.opcode == FUSE_WRITE)
		STAT_ADD(st->bytes_written, sign * (int64_t)c->io_done);
}

static void log_call(const struct fuse_call *c, int r)
{
	const char *name = fuse_opcode_name(c->in.opcode);
	char op[24], result[48];

	if (!name)
		fmt(op, sizeof(op), "opcode %u", c->in.opcode);
	if (r == CALL_NO_REPLY)
		fmt(result, sizeof(result), "no reply");
	else if (r < 0)
		fmt(result, sizeof(result), "%s", errno_name(r));
	else
		fmt(result, sizeof(result), "%d bytes", r);
	/* READ, WRITE, FALLOCATE and LSEEK: where and how much. */
	if (c->in.opcode == FUSE_READ || c->in.opcode == FUSE_WRITE ||
	    c->in.opcode == FUSE_FALLOCATE || c->in.opcode == FUSE_LSEEK)
		info("request %lu %s node %lu offset %lu size %lu: %s",
		     (unsigned long)c->in.unique, name ? name : op,
		     (unsigned long)c->in.nodeid, (unsigned long)c->arg.read.offset,
		     c->in.opcode == FUSE_FALLOCATE ? (unsigned long)c->arg.fallocate.length :
		     (unsigned long)c->arg.read.size, result);
	else
		info("request %lu %s node %lu: %s", (unsigned long)c->in.unique,
		     name ? name : op, (unsigned long)c->in.nodeid, result);
}

/* Send the result of a call back to the kernel. */
static void reply(struct queue *q, unsigned i, int r)
{
	struct slot *s = &q->slots[i];
	struct fuse_call *c = &s->call;
	struct fuse_out_header out = fuse_reply_header(c, r);
	struct io_uring_sqe *sqe;

	count_reply(q, c, r, 1);
	if (q->srv->opt->debug)
		log_call(c, r);
	if (is_dev_slot(q, i)) {
		if (r == CALL_NO_REPLY) {
			q->busy--;
			dev_slot_free(q, i);
			dev_arm(q);
			return;
		}
		memcpy(s->mem + REPLY_HEADER_OFFSET, &out, sizeof(out));
		sqe = queue_sqe(q);
		sqe->opcode = IORING_OP_WRITE;
		sqe->flags = IOSQE_FIXED_FILE;
		sqe->fd = FILE_FUSE;
		sqe->addr = (uint64_t)(s->mem + REPLY_HEADER_OFFSET);
		sqe->len = out.len;
		sqe->user_data = tag(EV_DEV_REPLY, i);
		return;
	}
	/* A ring entry always commits, even for a request that takes no
	 * answer, or it would never fetch again. */
	struct fuse_uring_req_header *h = (struct fuse_uring_req_header *)s->mem;

	if (r == CALL_NO_REPLY)
		out.error = out.len = 0;
	memcpy(h->in_out, &out, sizeof(out));
	h->ring_ent_in_out.payload_sz = r > 0 ? (uint32_t)r : 0;
	ring_command(q, i, FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
	q->busy--;
}

/* Drive a call until it needs an asynchronous BACKING operation or has its
 * answer. */
static void advance(struct queue *q, unsigned i, int r)
{
	struct slot *s = &q->slots[i];
	struct fuse_call *c = &s->call;

	while (r == CALL_BACKING && backing_route(c->io.kind) == ROUTE_HERE)
		r = fuse_call_resume(&q->srv->vol, c, backing_run(&q->srv->backing, c));
	if (r != CALL_BACKING) {
		reply(q, i, r);
		return;
	}
	if (backing_route(c->io.kind) == ROUTE_MAIN) {
		backing_hand_over(q, i);
		return;
	}
	struct io_uring_sqe *sqe = backing_submit(q, i);
	int expected = fuse_call_reply_if_complete(c);

	/* A READ's reply is its data, so the reply can be queued right behind
	 * the read, linked: one submission does both, and a successful read
	 * leaves no completion to look at.  A short or failed read breaks the
	 * link: the reply is dropped unsent and the read's completion comes
	 * back to on_backing_done().  (Not with -o debug, which logs what was
	 * really answered.) */
	if (expected >= 0 && !q->srv->opt->debug) {
		sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
		s->reply_linked = true;
		reply(q, i, expected);
	}
}

static void on_backing_done(struct queue *q, unsigned i, int res)
{
	struct slot *s = &q->slots[i];

	if (s->reply_linked) {
		/* Only a failed linked read reports: its reply was cancelled. */
		s->reply_linked = false;
		count_reply(q, &s->call, fuse_call_reply_if_complete(&s->call), -1);
		if (!is_dev_slot(q, i))
			q->busy++;	/* the entry is ours again */
	}
	advance(q, i, fuse_call_resume(&q->srv->vol, &s->call, res));
}

/* A request has arrived in slot i and was parsed with result `r`. */
static void request_arrived(struct queue *q, unsigned i, int r)
{
	struct fuse_call *c = &q->slots[i].call;

	q->slots[i].reply_linked = false;	/* the last reply went through */
	STAT_ADD(q->stats.requests[c->in.opcode < FUSE_OPCODE_COUNT ?
				   c->in.opcode : FUSE_OPCODE_COUNT], 1);
	if (is_dev_slot(q, i))
		STAT_ADD(q->stats.via_dev, 1);
	else
		STAT_ADD(q->stats.via_ring, 1);
	if (++q->busy > q->stats.busy_max)
		STAT_ADD(q->stats.busy_max, 1);
	if (r == 0)
		r = fuse_call_start(&q->srv->vol, c);
	advance(q, i, r);
}

static bool connection_over(int res)
{
	return res == -ENODEV || res == -ECONNABORTED || res == -ENOTCONN;
}

static void on_dev_request(struct queue *q, const struct io_uring_cqe *cqe)
{
	int i = -1;	/* the slot the request was read into */

	if (cqe->flags & IORING_CQE_F_BUFFER)
		i = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	else if (!q->srv->multishot_read)
		i = (int)(uint32_t)cqe->user_data;
	if (i >= 0)
		q->dev_free--;
	if (q->srv->multishot_read && !(cqe->flags & IORING_CQE_F_MORE))
		q->dev_armed = false;

	if (cqe->res > 0 && i >= 0) {
		struct slot *s = &q->slots[i];

		request_arrived(q, (unsigned)i, fuse_call_parse_dev(&s->call,
			s->mem + DEV_REQUEST_OFFSET, (uint32_t)cqe->res,
			s->mem + SLOT_HEADROOM, q->slot_size - SLOT_HEADROOM));
	} else {
		if (connection_over(cqe->res)) {
			q->dev_done = true;
		} else if (cqe->res < 0 && cqe->res != -ENOBUFS &&
			   cqe->res != -EINTR && cqe->res != -EAGAIN) {
			warn("reading /dev/fuse: %s", errno_name(cqe->res));
			q->status = 1;
			q->dev_done = true;
		}
		if (i >= 0)
			dev_slot_free(q, (unsigned)i);
	}
	dev_arm(q);
}

static void on_ring_request(struct queue *q, unsigned i, int res)
{
	struct slot *s = &q->slots[i];

	if (res == 0) {
		const struct fuse_uring_req_header *h = (void *)s->mem;

		s->commit_id = h->ring_ent_in_out.commit_id;
		request_arrived(q, i, fuse_call_parse_ring(&s->call, h,
			s->mem + SLOT_HEADROOM, q->slot_size - SLOT_HEADROOM));
		return;
	}
	if (res == -EAGAIN || res == -EINTR) {
		ring_command(q, i, s->ring_cmd);	/* not ready yet: again */
		return;
	}
	if (!connection_over(res)) {
		warn("FUSE-over-io_uring %s for queue %u: %s",
		     s->ring_cmd == FUSE_IO_URING_CMD_REGISTER ? "register" : "commit",
		     s->qid, errno_name(res));
		q->status = 1;
	}
	q->ring_live--;
}

static void on_dev_reply(struct queue *q, unsigned i, int res)
{
	/* ENOENT: the request was interrupted or aborted meanwhile. */
	if (res < 0 && res != -ENOENT && !connection_over(res))
		warn("replying to %s: %s",
		     fuse_opcode_name(q->slots[i].call.in.opcode) ?: "request",
		     errno_name(res));
	q->busy--;
	dev_slot_free(q, i);
	dev_arm(q);
}

static void on_completion(struct queue *q, const struct io_uring_cqe *cqe)
{
	unsigned i = (uint32_t)cqe->user_data;

	switch ((enum event)(cqe->user_data >> 32)) {
	case EV_DEV_REQUEST:
		on_dev_request(q, cqe);
		break;
	case EV_RING_REQUEST:
		on_ring_request(q, i, cqe->res);
		break;
	case EV_BACKING:
		on_backing_done(q, i, cqe->res);
		break;
	case EV_DEV_REPLY:
		on_dev_reply(q, i, cqe->res);
		break;
	}
}

static bool queue_finished(const struct queue *q)
{
	return (q->ndev == 0 || q->dev_done) && q->ring_live == 0 && q->busy == 0;
}

/* Registered buffers stay pinned, and charged to RLIMIT_MEMLOCK, until the
 * kernel has freed the ring, which it does in the background after close:
 * unregister them first, so that the memory is free when we are gone (and
 * a fuseuring started right after us can have it). */
static void queue_release_buffers(struct queue *q)
{
	if (q->ring.fd >= 0)
		uring_register(&q->ring, IORING_UNREGISTER_BUFFERS, 0, 0);
}

/* Run on the CPUs whose requests this queue serves.  With FUSE over
 * io_uring a request goes to the queue of the CPU that issued it, and
 * serving it on that CPU saves waking another; /dev/fuse queues are spread
 * the same way so that they do not fight over one CPU.  Stays within the
 * CPUs fuseuring was allowed. */
static void queue_pin(const struct queue *q)
{
	uint64_t allowed[16] = { 0 }, mask[16] = { 0 };
	bool any = false;

	if (q->srv->nqueues < 2 || sys_sched_getaffinity(allowed, sizeof(allowed)) < 0)
		return;
	for (unsigned cpu = q->index; cpu < 64 * 16; cpu += q->srv->nqueues)
		mask[cpu / 64] |= 1ull << (cpu % 64);
	for (unsigned k = 0; k < 16; k++) {
		mask[k] &= allowed[k];
		any |= mask[k] != 0;
	}
	if (any)
		sys_sched_setaffinity(mask, sizeof(mask));
}

/* A worker thread: serve until the kernel ends the connection. */
static int queue_serve(struct queue *q)
{
	int r = uring_enable(&q->ring);

	if (r < 0) {
		error("queue %u: enabling its ring: %s", q->index, errno_name(r));
		return 1;
	}
	uring_register_ring_fd(&q->ring);
	queue_pin(q);
	if (q->srv->multishot_read)
		dev_arm(q);
	else
		for (unsigned i = 0; i < q->ndev; i++)
			dev_slot_free(q, i);	/* a read each */
	for (unsigned i = q->ndev; i < q->nslots; i++) {
		q->ring_live++;
		ring_command(q, i, FUSE_IO_URING_CMD_REGISTER);
	}
	while (!queue_finished(q)) {
		/* Wake for the first completion.  (Holding the wake-up for a
		 * batch, IORING_ENTER_EXT_ARG with min_wait, saved system
		 * calls but cost throughput when measured.) */
		r = uring_submit_and_wait(&q->ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			error("queue %u: io_uring_enter: %s", q->index, errno_name(r));
			return 1;
		}
		uint32_t tail = uring_cq_tail(&q->ring), head = uring_cq_head(&q->ring);
		const struct io_uring_cqe *cqe;

		while ((cqe = uring_cq_next(&q->ring, &head, tail)))
			on_completion(q, cqe);
		uring_cq_release(&q->ring, head);
	}
	queue_release_buffers(q);
	return q->status;
}

/* Tell systemd (Type=notify, NOTIFY_SOCKET) how we are doing: a datagram
 * to a unix socket; "@" at the start names an abstract one. */
static void notify_systemd(const struct server *srv, const char *state)
{
	struct { uint16_t family; char path[108]; } addr = { 1 /* AF_UNIX */, "" };
	size_t n = srv->notify_socket ? str_len(srv->notify_socket) : 0;

	if (!n || n >= sizeof(addr.path))
		return;
	memcpy(addr.path, srv->notify_socket, n);
	if (addr.path[0] == '@')
		addr.path[0] = 0;
	int fd = (int)sc3(SYS_socket, 1, 2 /* SOCK_DGRAM */ | O_CLOEXEC, 0);

	if (fd < 0)
		return;
	sc6(SYS_sendto, fd, state, str_len(state), MSG_NOSIGNAL, &addr,
	    offsetof(typeof(addr), path) + n);
	sys_close(fd);
}

/* Leave for good: the pidfile goes with the process. */
static _Noreturn void server_exit(const struct server *srv, int status)
{
	notify_systemd(srv, "STOPPING=1");
	if (srv->pidfile)
		sc3(SYS_unlinkat, AT_FDCWD, srv->pidfile, 0);
	sys_exit_group(status);
}

static void worker_main(void *arg)
{
	struct queue *q = arg;
	struct server *srv = q->srv;
	int status = queue_serve(q);

	if (status)
		__atomic_store_n(&srv->exit_status, status, __ATOMIC_RELAXED);
	/* The last worker out ends the process. */
	if (__atomic_sub_fetch(&srv->workers_left, 1, __ATOMIC_ACQ_REL) == 0)
		server_exit(srv, __atomic_load_n(&srv->exit_status, __ATOMIC_RELAXED));
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

/* --- setting queues up ---------------------------------------------------- */

/* How many slots of which kind queue `index` gets. */
static void queue_plan(const struct server *srv, struct queue *q, unsigned index)
{
	q->index = index;
	if (srv->transport == TRANSPORT_URING) {
		/* Entries for each kernel queue this worker serves; queue 0
		 * also reads /dev/fuse, which still carries FORGET and
		 * INTERRUPT. */
		unsigned qids = 0;

		for (unsigned k = index; k < srv->kernel_queues; k += srv->nqueues)
			qids++;
		q->ndev = index == 0 ? 2 : 0;
		q->nslots = q->ndev + qids * srv->depth;
	} else {
		q->ndev = srv->depth;
		q->nslots = srv->depth;
	}
}

static uint64_t arena_bytes(const struct server *srv)
{
	uint64_t total = 0;
	struct queue q;

	for (unsigned i = 0; i < srv->nqueues; i++) {
		queue_plan(srv, &q, i);
		total += (uint64_t)q.nslots * (SLOT_HEADROOM + srv->vol.max_write);
	}
	return total;
}

/* Registered buffers are pinned and, without CAP_IPC_LOCK, count against
 * RLIMIT_MEMLOCK.  Shrink depth, then max_write, to fit, and say so. */
static void fit_memlock(struct server *srv)
{
	const uint64_t ring_reserve = 64 * 1024;	/* per queue: rings, buffer ring */
	struct rlimit64 rl;

	if (sys_has_capability(CAP_IPC_LOCK) ||
	    sys_getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.cur == RLIM_INFINITY)
		return;
	uint64_t reserve = ring_reserve * srv->nqueues;
	uint64_t budget = rl.cur > reserve ? rl.cur - reserve : 0;
	unsigned depth = srv->depth;
	uint32_t max_write = srv->vol.max_write;

	while (arena_bytes(srv) > budget) {
		if (srv->depth > 1)
			srv->depth--;
		else if (srv->vol.max_write > 16384)
			srv->vol.max_write /= 2;
		else
			return;		/* registering will say what is wrong */
	}
	if (srv->depth != depth || srv->vol.max_write != max_write)
		warn("locked memory is limited to %lu KiB (RLIMIT_MEMLOCK): using "
		     "depth=%u max_write=%u instead of depth=%u max_write=%u",
		     (unsigned long)(rl.cur >> 10), srv->depth, srv->vol.max_write,
		     depth, max_write);
}

/* Create the queue's ring (disabled until its thread takes it over), its
 * arena and slots, and register what the kernel needs to know. */
static int queue_setup(struct server *srv, struct queue *q, const char **step)
{
	const unsigned optional = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		IORING_SETUP_NO_SQARRAY;
	unsigned flags = optional | IORING_SETUP_R_DISABLED;
	unsigned entries = 8;
	int r;

	while (entries < q->nslots + 1)
		entries *= 2;
	if (srv->transport == TRANSPORT_URING)
		flags |= IORING_SETUP_SQE128;	/* room for FUSE commands */
	*step = "creating its ring";
	r = uring_init(&q->ring, entries, flags, optional);
	if (r < 0)
		return r;

	/* Queue 0 uses the mount's own /dev/fuse descriptor; the others a
	 * clone of the connection: each queue has its own list of requests
	 * in progress, so its replies never have to find their request among
	 * other queues'. */
	if (q->index == 0) {
		q->fuse_fd = srv->fuse_fd;
	} else {
		*step = "opening /dev/fuse";
		r = sys_open("/dev/fuse", O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
		if (r < 0)
			return r;
		q->fuse_fd = r;
		*step = "cloning the /dev/fuse connection";
		r = (int)sys_ioctl(q->fuse_fd, FUSE_DEV_IOC_CLONE, &srv->fuse_fd);
		if (r < 0)
			return r;
	}

	q->slot_size = SLOT_HEADROOM + srv->vol.max_write;
	q->arena_size = (size_t)q->slot_size * q->nslots;
	*step = "allocating its buffers";
	q->arena = map_anonymous(q->arena_size);
	q->slots = map_anonymous(sizeof(struct slot) * q->nslots);
	if (!q->arena || !q->slots)
		return -ENOMEM;
	/* Registering pins the arena once, instead of on every I/O. */
	struct iovec arena = { q->arena, q->arena_size };

	*step = "registering its buffers (locked memory)";
	r = uring_register(&q->ring, IORING_REGISTER_BUFFERS, &arena, 1);
	if (r < 0)
		return r;
	int32_t files[3] = { q->fuse_fd, srv->backing.fd, srv->backing.direct_fd };

	*step = "registering files";
	r = uring_register(&q->ring, IORING_REGISTER_FILES, files,
			   srv->backing.direct_fd >= 0 ? 3 : 2);
	if (r < 0)
		return r;
	/* Blocking BACKING operations (fsync, fallocate, buffered writes on
	 * some filesystems) run on io-wq threads: keep them few. */
	uint32_t max_workers[2] = { 2, 1 };

	uring_register(&q->ring, IORING_REGISTER_IOWQ_MAX_WORKERS, max_workers, 2);

	for (unsigned i = 0; i < q->nslots; i++) {
		struct slot *s = &q->slots[i];

		s->mem = q->arena + (size_t)i * q->slot_size;
		if (i < q->ndev)
			continue;
		unsigned k = i - q->ndev;

		s->qid = (uint16_t)(q->index + (k / srv->depth) * srv->nqueues);
		s->iov[0] = (struct iovec){ s->mem, sizeof(struct fuse_uring_req_header) };
		s->iov[1] = (struct iovec){ s->mem + SLOT_HEADROOM, srv->vol.max_write };
	}
	if (!q->ndev || !srv->multishot_read)
		return 0;
	q->buf_ring_entries = 1;
	while (q->buf_ring_entries < q->ndev)
		q->buf_ring_entries *= 2;
	*step = "setting up its buffer ring";
	q->buf_ring = map_anonymous(q->buf_ring_entries * sizeof(struct io_uring_buf));
	if (!q->buf_ring)
		return -ENOMEM;
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)q->buf_ring,
		.ring_entries = q->buf_ring_entries,
		.bgid = 0,
	};

	r = uring_register(&q->ring, IORING_REGISTER_PBUF_RING, &reg, 1);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < q->ndev; i++)
		dev_slot_free(q, i);
	return 0;
}

static void queue_teardown(struct queue *q)
{
	queue_release_buffers(q);
	uring_unmap(&q->ring);
	if (q->fuse_fd >= 0 && q->index > 0)
		sys_close(q->fuse_fd);
	if (q->arena)
		unmap_anonymous(q->arena, q->arena_size);
	if (q->slots)
		unmap_anonymous(q->slots, sizeof(struct slot) * q->nslots);
	if (q->buf_ring)
		unmap_anonymous(q->buf_ring, q->buf_ring_entries * sizeof(struct io_uring_buf));
	*q = (struct queue){ .fuse_fd = -1, .ring = { .fd = -1 } };
}

/* All queues for srv->transport, or none; on failure *why says what
 * failed, for which queue. */
static int queues_setup(struct server *srv, char *why, size_t why_cap)
{
	/* A worker without a kernel queue to serve would have nothing to do. */
	if (srv->transport == TRANSPORT_URING && srv->nqueues > srv->kernel_queues)
		srv->nqueues = srv->kernel_queues;
	if (!srv->queues)
		srv->queues = map_anonymous(sizeof(struct queue) * srv->nqueues);
	if (!srv->queues)
		return -ENOMEM;
	fit_memlock(srv);
	for (unsigned i = 0; i < srv->nqueues; i++) {
		struct queue *q = &srv->queues[i];

		*q = (struct queue){ .srv = srv, .fuse_fd = -1, .ring = { .fd = -1 } };
		queue_plan(srv, q, i);
		const char *step = "";
		int r = queue_setup(srv, q, &step);

		if ((r == -EACCES || r == -EPERM) && i > 0 &&
		    srv->transport == TRANSPORT_DEV) {
			/* /dev/fuse not ours to open (an unprivileged user
			 * without udev's 0666): serve with the queues we have. */
			warn("cannot open /dev/fuse for queue %u (%s): using %u queues",
			     i, errno_name(r), i);
			queue_teardown(q);
			srv->nqueues = i;
			break;
		}
		if (r < 0) {
			fmt(why, why_cap, "queue %u: %s: %s", i, step, errno_name(r));
			for (unsigned k = 0; k <= i; k++)
				queue_teardown(&srv->queues[k]);
			return r;
		}
	}
	return 0;
}

/* --- mounting and INIT ---------------------------------------------------- */

/* Start fusermount3 (from fuse3) with `args`; with commfd >= 0 it gets
 * that socket as _FUSE_COMMFD.  Returns the child's pid or -errno.  The
 * child only execs: it is safe to fork while worker threads run. */
static int spawn_fusermount(const struct server *srv, char *const args[], int commfd)
{
	char *env[258], commfd_var[32];
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	size_t n = 0;

	for (char **e = srv->opt->envp; *e && n < 256; e++) {
		if (str_after(*e, "PATH="))
			path = *e + 5;
		if (!str_after(*e, "_FUSE_COMMFD="))
			env[n++] = *e;
	}
	if (commfd >= 0) {
		fmt(commfd_var, sizeof(commfd_var), "_FUSE_COMMFD=%d", commfd);
		env[n++] = commfd_var;
	}
	env[n] = 0;

	int pid = sys_fork();

	if (pid != 0)
		return pid;
	if (commfd >= 0)
		sys_fcntl(commfd, F_SETFD, 0);	/* keep it across exec */
	while (*path) {
		char file[512];
		size_t len = 0;

		while (path[len] && path[len] != ':')
			len++;
		if (len > sizeof(file) - 16)
			len = sizeof(file) - 16;
		memcpy(file, path, len);
		memcpy(file + len, "/fusermount3", 13);
		sys_execve(file, args, env);
		path += len + (path[len] == ':');
	}
	sys_exit_group(127);
}

static int wait_child(int pid)
{
	int status = 0;

	while (sys_wait4(pid, &status, 0) == -EINTR)
		;
	return (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}

/* Without the right to mount, do what libfuse does: fusermount3, which is
 * setuid root, opens /dev/fuse, mounts it for us and passes the descriptor
 * back over a socketpair as SCM_RIGHTS. */
static int mount_with_fusermount(struct server *srv)
{
	const struct options *o = srv->opt;
	char opts[4096 + 128];
	int sv[2], fd = -1;
	bool plain_name = true;

	for (const char *p = o->backing; *p; p++)
		plain_name &= *p != ',' && *p != '\\';
	fmt(opts, sizeof(opts), "default_permissions,subtype=fuseuring%s%s%s%s%s",
	    o->allow_other ? ",allow_other" : "", o->read_only ? ",ro" : "",
	    o->noexec ? ",noexec" : "", plain_name ? ",fsname=" : "",
	    plain_name ? o->backing : "");
	char *args[] = { "fusermount3", "-o", opts, "--", (char *)srv->mountpoint, 0 };
	int r = (int)sc4(SYS_socketpair, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | O_CLOEXEC, 0, sv);

	if (r < 0)
		return r;
	int pid = spawn_fusermount(srv, args, sv[0]);

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

		if (sc3(SYS_recvmsg, sv[1], &msg, O_CLOEXEC /* MSG_CMSG_CLOEXEC */) > 0 &&
		    msg.msg_controllen >= sizeof(struct cmsghdr) + sizeof(int) &&
		    ctl.h.cmsg_level == SOL_SOCKET && ctl.h.cmsg_type == SCM_RIGHTS)
			memcpy(&fd, ctl.space + sizeof(struct cmsghdr), sizeof(fd));
		r = wait_child(pid);
	}
	sys_close(sv[1]);
	if (pid < 0)
		return pid;
	if (fd < 0) {
		error("mounting on %s: fusermount3 failed (exit %d%s)", srv->mountpoint,
		      r, r == 127 ? ": not found; install fuse3, or run as root" : "");
		return -EPERM;
	}
	/* Non-blocking, as io_uring wants it (see queue_setup). */
	sys_add_fd_flags(fd, O_NONBLOCK);
	srv->via_fusermount = true;
	return fd;
}

static bool fuse_mount(struct server *srv, bool root_is_file)
{
	const struct options *o = srv->opt;
	char data[256];

	if (!sys_has_capability(CAP_SYS_ADMIN)) {
		int fd = mount_with_fusermount(srv);

		srv->fuse_fd = fd;
		return fd >= 0;
	}
	int fd = sys_open("/dev/fuse", O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);

	if (fd < 0) {
		error("/dev/fuse: %s%s", errno_name(fd),
		      fd == -ENOENT ? " (is the fuse module loaded?)" : "");
		return false;
	}
	srv->fuse_fd = fd;
	/* default_permissions: the kernel checks mode, uid and gid for us. */
	fmt(data, sizeof(data),
	    "fd=%d,rootmode=%o,user_id=%u,group_id=%u,default_permissions%s",
	    fd, root_is_file ? S_IFREG : S_IFDIR, sys_getuid(), sys_getgid(),
	    o->allow_other ? ",allow_other" : "");
	int r = sys_mount(o->backing, srv->mountpoint, "fuse.fuseuring",
			  MS_NOSUID | MS_NODEV | (o->read_only ? MS_RDONLY : 0) |
			  (o->noexec ? MS_NOEXEC : 0), data);

	if (r < 0) {
		error("mounting on %s: %s", srv->mountpoint, errno_name(r));
		return false;
	}
	return true;
}

/* Lazy unmount: nothing new can open the volume, handles already open (a
 * loop device) keep working until closed; then the kernel ends the
 * connection. */
static int fuse_unmount(const struct server *srv)
{
	if (!srv->via_fusermount)
		return sys_umount2(srv->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW);
	char *args[] = { "fusermount3", "-u", "-z", "--", (char *)srv->mountpoint, 0 };
	int pid = spawn_fusermount(srv, args, -1);

	return pid < 0 ? pid : wait_child(pid) ? -EPERM : 0;
}

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
static bool refuse_init(struct server *srv, uint64_t unique, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	log_v(LOG_ERR, f, ap);
	va_end(ap);
	write_reply(srv->fuse_fd, unique, -EPROTO, 0, 0);
	return false;
}

/* The INIT handshake.  Once the reply advertises FUSE_OVER_IO_URING the
 * kernel holds every request until all its queues have ring entries, so
 * the rings are built between reading INIT and answering it. */
static bool fuse_handshake(struct server *srv)
{
	const struct options *o = srv->opt;
	uint8_t buf[FUSE_MIN_READ_BUFFER];
	struct init_wish wish = {
		.max_write = srv->vol.max_write,
		.passthrough = o->passthrough,
		.io_uring = o->transport != TRANSPORT_DEV,
	};
	struct fuse_init_out out;
	struct init_result res;
	struct fuse_call c;
	int len, r;

	do {
		len = read_init(srv->fuse_fd, buf, sizeof(buf));
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
			return refuse_init(srv, c.in.unique,
				"the kernel speaks FUSE 7.%u; fuseuring needs 7.%u or newer",
				res.kernel_minor, FUSE_OLDEST_MINOR);
		if (res.again)
			write_reply(srv->fuse_fd, c.in.unique, 0, &out, (uint32_t)len);
	} while (res.again);

	bool uring = res.kernel_flags & FUSE_OVER_IO_URING;

	if (o->transport == TRANSPORT_URING && !uring)
		return refuse_init(srv, c.in.unique,
			"-o transport=uring: the kernel does not offer FUSE over "
			"io_uring (needs Linux 6.14+ and Y in "
			"/sys/module/fuse/parameters/enable_uring)");
	if (o->passthrough && !(res.kernel_flags & FUSE_PASSTHROUGH))
		return refuse_init(srv, c.in.unique,
			"-o passthrough: the kernel does not offer FUSE passthrough "
			"(needs Linux 6.9+ built with CONFIG_FUSE_PASSTHROUGH)");

	char why[256];

	srv->transport = uring && o->transport != TRANSPORT_DEV ?
				TRANSPORT_URING : TRANSPORT_DEV;
	r = queues_setup(srv, why, sizeof(why));
	if (r < 0 && srv->transport == TRANSPORT_URING &&
	    o->transport == TRANSPORT_AUTO) {
		warn("setting up FUSE over io_uring: %s; using /dev/fuse", why);
		srv->transport = TRANSPORT_DEV;
		r = queues_setup(srv, why, sizeof(why));
	}
	if (r < 0)
		return refuse_init(srv, c.in.unique, "setting up queues: %s", why);

	/* Answer with what was finally chosen. */
	wish.max_write = srv->vol.max_write;
	wish.io_uring = srv->transport == TRANSPORT_URING;
	len = fuse_init_negotiate(buf + sizeof(c.in), c.in.len - sizeof(c.in),
				  &wish, &out, &res);
	r = write_reply(srv->fuse_fd, c.in.unique, 0, &out, (uint32_t)len);
	if (r < 0) {
		error("answering INIT: %s", errno_name(r));
		return false;
	}
	if (!o->passthrough)
		return true;
	/* Hand BACKING to the kernel: OPEN replies name it by this id. */
	struct fuse_backing_map map = { .fd = srv->backing.fd };

	r = (int)sys_ioctl(srv->fuse_fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	if (r <= 0) {
		error("-o passthrough: registering BACKING with the kernel: %s%s",
		      errno_name(r ? r : -EIO),
		      r == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		return false;
	}
	srv->vol.backing_id = r;
	return true;
}

/* --- the main thread ------------------------------------------------------ */

static void log_stats(const struct server *srv)
{
	struct queue_stats sum = { 0 };
	char line[1024];
	size_t n = 0;

	for (unsigned i = 0; i < srv->nqueues; i++) {
		const struct queue_stats *st = &srv->queues[i].stats;

#define ADD(field) sum.field += __atomic_load_n(&st->field, __ATOMIC_RELAXED)
		for (unsigned op = 0; op <= FUSE_OPCODE_COUNT; op++)
			ADD(requests[op]);
		ADD(via_dev);
		ADD(via_ring);
		ADD(bytes_read);
		ADD(bytes_written);
		ADD(errors);
		ADD(busy_max);
#undef ADD
	}
	uint64_t total = 0;

	for (unsigned op = 0; op <= FUSE_OPCODE_COUNT; op++) {
		const char *name = op < FUSE_OPCODE_COUNT ? fuse_opcode_name(op) : 0;

		total += sum.requests[op];
		if (sum.requests[op])
			n += fmt(line + n, sizeof(line) - n, " %s=%lu",
				 name ? name : "unknown",
				 (unsigned long)sum.requests[op]);
	}
	info("stats: transport=%s queues=%u depth=%u requests=%lu:%s via_dev=%lu "
	     "via_ring=%lu bytes_read=%lu bytes_written=%lu errors=%lu busy_max=%lu",
	     transport_names[srv->transport], srv->nqueues, srv->depth,
	     (unsigned long)total, line, (unsigned long)sum.via_dev,
	     (unsigned long)sum.via_ring,
	     (unsigned long)sum.bytes_read, (unsigned long)sum.bytes_written,
	     (unsigned long)sum.errors, (unsigned long)sum.busy_max);
}

/* A signal; returns whether the daemon is now stopping. */
static bool on_signal(struct server *srv, const struct signalfd_siginfo *si,
		      bool stopping)
{
	if (si->ssi_signo == SIGUSR1) {
		log_stats(srv);
		return stopping;
	}
	if (stopping) {
		warn("second signal: exiting now; open handles on the volume will fail");
		server_exit(srv, 1);
	}
	info("signal %u: unmounting %s; exiting once open handles close",
	     si->ssi_signo, srv->mountpoint);
	notify_systemd(srv, "STOPPING=1");
	int r = fuse_unmount(srv);

	if (r < 0 && r != -EINVAL && r != -ENOENT)
		warn("unmounting %s: %s", srv->mountpoint, errno_name(r));
	return true;
}

#define CONTROL_SIGNAL	UINT64_MAX	/* user_data of the signalfd read */

/* Run a queue's blocking BACKING call (see backing_route) and send the
 * result back to the queue's ring as its EV_BACKING completion. */
static void run_for_queue(struct server *srv, uint64_t who)
{
	struct queue *q = &srv->queues[who >> 32];
	unsigned i = (uint32_t)who;
	int64_t res = backing_run(&srv->backing, &q->slots[i].call);
	struct io_uring_sqe *sqe;

	while (!(sqe = uring_get_sqe(&srv->control)))
		uring_submit_and_wait(&srv->control, 0);
	sqe->opcode = IORING_OP_MSG_RING;
	sqe->fd = q->ring.fd;
	sqe->addr = IORING_MSG_DATA;
	sqe->off = tag(EV_BACKING, i);
	sqe->len = (uint32_t)(int32_t)res;
	sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
	sqe->user_data = who;
}

static void read_signal(struct server *srv, int sigfd, struct signalfd_siginfo *si)
{
	struct io_uring_sqe *sqe = uring_get_sqe(&srv->control);

	sqe->opcode = IORING_OP_READ;
	sqe->fd = sigfd;
	sqe->addr = (uint64_t)si;
	sqe->len = sizeof(*si);
	sqe->user_data = CONTROL_SIGNAL;
}

/* The main thread's loop: signals arrive in order through a signalfd,
 * never in the middle of anything, and queues hand over their blocking
 * BACKING calls.  The process ends when the last worker does. */
static _Noreturn void control_loop(struct server *srv, int sigfd)
{
	struct signalfd_siginfo si;
	bool stopping = false;

	read_signal(srv, sigfd, &si);
	for (;;) {
		int r = uring_submit_and_wait(&srv->control, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			error("main ring: io_uring_enter: %s", errno_name(r));
			server_exit(srv, 1);
		}
		uint32_t tail = uring_cq_tail(&srv->control);
		uint32_t head = uring_cq_head(&srv->control);
		const struct io_uring_cqe *cqe;

		while ((cqe = uring_cq_next(&srv->control, &head, tail))) {
			if (cqe->user_data != CONTROL_SIGNAL) {
				if (cqe->res < 0)	/* a reply that did not get there */
					warn("main ring: answering queue %u: %s",
					     (unsigned)(cqe->user_data >> 32),
					     errno_name(cqe->res));
				else
					run_for_queue(srv, cqe->user_data);
				continue;
			}
			if (cqe->res == sizeof(si))
				stopping = on_signal(srv, &si, stopping);
			read_signal(srv, sigfd, &si);
		}
		uring_cq_release(&srv->control, head);
	}
}

static unsigned count_online_cpus(void)
{
	uint64_t mask[16] = { 0 };
	int r = sys_sched_getaffinity(mask, sizeof(mask));
	unsigned n = 0;

	for (int i = 0; i < r / 8; i++)
		for (uint64_t m = mask[i]; m; m &= m - 1)
			n++;
	return n ? n : 1;
}

/* FUSE over io_uring has one queue per possible CPU (num_possible_cpus()):
 * count the list in /sys/devices/system/cpu/possible, e.g. "0-3,6". */
static unsigned count_possible_cpus(void)
{
	char buf[256];
	int fd = sys_open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC, 0);
	long n = fd >= 0 ? sys_read(fd, buf, sizeof(buf) - 1) : -1;
	unsigned count = 0, first = 0, value = 0;
	bool range = false;

	if (fd >= 0)
		sys_close(fd);
	if (n <= 0)
		return count_online_cpus();
	for (long i = 0; i <= n; i++) {
		char ch = i < n ? buf[i] : ',';

		if (ch >= '0' && ch <= '9') {
			value = value * 10 + (unsigned)(ch - '0');
		} else if (ch == '-') {
			first = value, value = 0, range = true;
		} else if (ch == ',' || ch == '\n') {
			count += range ? value - first + 1 : 1;
			value = 0, range = false;
			if (ch == '\n')
				break;
		}
	}
	return count ? count : count_online_cpus();
}

/* -o transport=uring: say early, before mounting, if the kernel cannot.
 * (INIT has the last word: the kernel offers FUSE_OVER_IO_URING or not.) */
static bool uring_switched_on(void)
{
	static const char param[] = "/sys/module/fuse/parameters/enable_uring";
	char value = 0;
	int fd = sys_open(param, O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0) {
		error("-o transport=uring: this kernel has no FUSE over io_uring "
		      "(%s: %s; needs Linux 6.14+)", param, errno_name(fd));
		return false;
	}
	sys_read(fd, &value, 1);
	sys_close(fd);
	if (value != 'Y') {
		error("-o transport=uring: FUSE over io_uring is switched off "
		      "(as root: echo Y > %s)", param);
		return false;
	}
	return true;
}

static bool write_pidfile(const char *path)
{
	char line[16];
	int fd = sys_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	size_t n = fmt(line, sizeof(line), "%d\n", sys_getpid());

	if (fd < 0 || sys_write(fd, line, n) != (long)n) {
		error("%s: %s", path, errno_name(fd < 0 ? fd : -EIO));
		return false;
	}
	sys_close(fd);
	return true;
}

/* The parent of a detaching daemon: wait until the child says the volume
 * is served, check that it opens, and hand the shell back. */
static _Noreturn void await_child(int pid, int ready_fd, const char *volume)
{
	char c;
	long n;

	do
		n = sys_read(ready_fd, &c, 1);
	while (n == -EINTR);
	if (n != 1) {
		int status = 0;

		sys_wait4(pid, &status, 0);	/* it has said what went wrong */
		sys_exit_group(1);
	}
	int fd = sys_open(volume, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	struct statx st;

	if (fd >= 0)
		sys_close(fd);
	/* Not ours to open (uid=, mode=)?  That it answers is enough. */
	if (fd >= 0 || (fd == -EACCES &&
			sys_statx(AT_FDCWD, volume, 0, STATX_BASIC_STATS, &st) == 0))
		sys_exit_group(0);
	error("%s: %s; stopping the daemon", volume, errno_name(fd));
	sys_kill(pid, SIGTERM);
	sys_exit_group(1);
}

/* Without -f: fork.  The parent waits in await_child() and never returns;
 * the child returns the pipe on which to say that it serves. */
static int detach(const char *volume)
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
		await_child(pid, pipe_fds[0], volume);
	}
	sys_close(pipe_fds[0]);
	sys_setsid();
	return pipe_fds[1];
}

/* The child, once serving: no terminal from here on. */
static void finish_detaching(int ready_fd)
{
	int null = sys_open("/dev/null", O_RDWR | O_CLOEXEC, 0);

	log_to_system();
	for (int fd = 0; fd < 3; fd++)
		sys_dup3(null, fd, 0);
	sys_close(null);
	sys_chdir("/");
	sys_write(ready_fd, "R", 1);
	sys_close(ready_fd);
}

/* Before mounting anything: can this kernel's io_uring do what we need? */
static bool kernel_check(struct server *srv)
{
	static const struct { uint8_t op; const char *name, *since; } needed[] = {
		{ IORING_OP_READ_FIXED, "READ_FIXED", "5.1" },
		{ IORING_OP_MSG_RING, "MSG_RING", "5.18" },
	};
	struct uring r;
	int err = uring_init(&r, 2, 0, 0);

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
	srv->multishot_read = uring_has_op(&r, IORING_OP_READ_MULTISHOT);
	uring_unmap(&r);
	return true;
}

/* Open BACKING, check MOUNTPOINT and describe the volume. */
static bool server_prepare(struct server *srv, const struct options *opt,
			   bool *root_is_file)
{
	static char mnt_path[4096], pid_path[4096];

	srv->opt = opt;
	if (!kernel_check(srv) || !backing_open(opt, &srv->backing) ||
	    !mountpoint_check(opt, &srv->backing, root_is_file))
		return false;
	srv->mountpoint = absolute_path(opt->mountpoint, mnt_path, sizeof(mnt_path));
	if (opt->pidfile)
		srv->pidfile = absolute_path(opt->pidfile, pid_path, sizeof(pid_path));
	for (char **e = opt->envp; *e; e++)
		if (str_after(*e, "NOTIFY_SOCKET="))
			srv->notify_socket = *e + 14;
	srv->vol = (struct volume){
		.name = opt->name, .name_len = (uint32_t)str_len(opt->name),
		.root_is_file = *root_is_file, .read_only = opt->read_only,
		.resizable = opt->resize, .max_write = (uint32_t)opt->max_write,
		.size = srv->backing.size, .mode = opt->mode, .uid = opt->uid,
		.gid = opt->gid,
	};
	srv->depth = opt->depth;
	srv->kernel_queues = count_possible_cpus();
	srv->nqueues = opt->queues ? opt->queues : count_online_cpus();
#ifdef FAULT_INJECTION
	fault_setup(srv, opt->envp);
#endif
	return true;
}

/* Mount, answer INIT, and start the workers.  Unmounts again on failure. */
static bool server_start(struct server *srv, bool root_is_file)
{
	const unsigned flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			       IORING_SETUP_SUBMIT_ALL | IORING_SETUP_NO_SQARRAY;
	unsigned entries = 8;
	int r;

	if (!fuse_mount(srv, root_is_file))
		return false;
	if (!fuse_handshake(srv))
		goto unmount;
	/* The main thread's ring takes every queue's blocking calls at once. */
	for (unsigned i = 0; i < srv->nqueues; i++)
		entries += srv->queues[i].nslots;
	r = uring_init(&srv->control, entries, flags, flags);
	if (r < 0) {
		error("creating the main ring: %s", errno_name(r));
		goto unmount;
	}
	srv->workers_left = (int)srv->nqueues;
	for (unsigned i = 0; i < srv->nqueues; i++) {
		r = spawn_worker(&srv->queues[i]);
		if (r < 0) {
			error("starting worker %u: %s", i, errno_name(r));
			goto unmount;
		}
	}
	if (srv->pidfile && !write_pidfile(srv->pidfile))
		goto unmount;
	return true;
unmount:
	fuse_unmount(srv);
	return false;
}

int main(int argc, char **argv, char **envp)
{
	static struct options opt;
	static struct server srv;
	char volume[4400], status[4600];
	bool root_is_file;
	int ready_fd = -1;

	/* Descriptors inherited from the caller are not ours to keep: one
	 * could be the pipe of a $(...) waiting for us to finish. */
	sys_close_from(3);
	opt = (struct options){
		.name = "volume", .uid = sys_getuid(), .gid = sys_getgid(),
		.mode = 0600, .depth = 16, .max_write = 256 << 10, .envp = envp,
	};
	parse_command_line(&opt, argc, argv);
	if (!server_prepare(&srv, &opt, &root_is_file))
		return 1;
	if (opt.fake)
		return 0;	/* mount -f: all checked, nothing to mount */
	fmt(volume, sizeof(volume), "%s%s%s", srv.mountpoint,
	    root_is_file ? "" : "/", root_is_file ? "" : opt.name);
	if (!opt.foreground)
		ready_fd = detach(volume);

	/* Signals are read from a signalfd by this thread; every thread,
	 * including the workers created later, keeps them blocked. */
	uint64_t sigs = 1ull << (SIGINT - 1) | 1ull << (SIGTERM - 1) |
			1ull << (SIGHUP - 1) | 1ull << (SIGUSR1 - 1);

	sys_sigprocmask_block(sigs | 1ull << (SIGPIPE - 1));
	int sigfd = sys_signalfd(sigs, SFD_CLOEXEC | O_NONBLOCK);

	if (opt.transport == TRANSPORT_URING && !uring_switched_on())
		return 1;
	if (sys_prctl(PR_SET_IO_FLUSHER, 1) < 0)
		warn("PR_SET_IO_FLUSHER not permitted (needs CAP_SYS_RESOURCE): "
		     "writeback through the volume can stall under memory pressure");
	if (!server_start(&srv, root_is_file))
		return 1;
	if (!opt.foreground)
		finish_detaching(ready_fd);
	fmt(status, sizeof(status), "serving %s at %s: transport %s, %u queues, "
	    "depth %u, max_write %u%s", opt.backing, volume,
	    transport_names[srv.transport], srv.nqueues, srv.depth,
	    srv.vol.max_write, srv.vol.backing_id ? ", passthrough" : "");
	info("%s", status);
	char ready[4700];

	fmt(ready, sizeof(ready), "READY=1\nMAINPID=%d\nSTATUS=%s", sys_getpid(), status);
	notify_systemd(&srv, ready);
	control_loop(&srv, sigfd);
}
