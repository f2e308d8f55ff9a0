/* SPDX-License-Identifier: MIT */
/* options.c - the command line: -o options, their help text and checks.
 *
 * Invoked as mount.fuseuring (mount -t fuseuring, fstab), fuseuring takes
 * mount(8)'s calling convention and its generic options too.
 */
#include "options.h"

const char *const transport_names[] = { "auto", "dev", "uring", "passthrough", 0 };

int exit_usage = 2, exit_failure = 1;

enum opt_type { OPT_FLAG, OPT_UINT, OPT_OCTAL, OPT_SIZE, OPT_NAME, OPT_PATH,
		OPT_TRANSPORT };

static const struct opt_def {
	const char *name;
	uint8_t type;
	uint16_t field;		/* offsetof(struct options, ...) */
	uint64_t min, max;
	const char *help;
} opt_defs[] = {
#define F(field) offsetof(struct options, field)
	{ "ro", OPT_FLAG, F(read_only), 0, 0,
	  "read-only volume; BACKING is opened read-only" },
	{ "name", OPT_NAME, F(name), 0, 0,
	  "file name inside MOUNTPOINT (default: volume)" },
	{ "size", OPT_SIZE, F(size), 1, INT64_MAX,
	  "N[K|M|G|T]: create BACKING if missing, extend it if smaller" },
	{ "uid", OPT_UINT, F(uid), 0, 0xfffffffe,
	  "owner of the volume (default: your uid)" },
	{ "gid", OPT_UINT, F(gid), 0, 0xfffffffe,
	  "group of the volume (default: your gid)" },
	{ "mode", OPT_OCTAL, F(mode), 0, 07777,
	  "permission bits, octal (default: 0600)" },
	{ "allow_other", OPT_FLAG, F(allow_other), 0, 0,
	  "let other users in; the kernel checks mode, uid and gid" },
	{ "depth", OPT_UINT, F(depth), 1, 1024,
	  "requests in flight per queue (default: 16)" },
	{ "queues", OPT_UINT, F(queues), 1, 256,
	  "worker threads, each with its own ring (default: one per CPU)" },
	{ "max_write", OPT_SIZE, F(max_write), 16384, 1 << 20,
	  "largest READ or WRITE, a multiple of the page size up to 1M\n"
	  "                     (default: 256K)" },
	{ "transport", OPT_TRANSPORT, F(transport), 0, 0,
	  "auto|dev|uring|passthrough: requests as reads of /dev/fuse\n"
	  "                     (dev) or FUSE-over-io_uring commands (uring); or\n"
	  "                     the kernel reads and writes BACKING itself\n"
	  "                     (passthrough: root, a regular file).  auto takes\n"
	  "                     passthrough where allowed (with resize or ro),\n"
	  "                     else uring on 8+ CPUs, else dev (default: auto)" },
	{ "passthrough", OPT_FLAG, F(passthrough), 0, 0,
	  "the same as transport=passthrough" },
	{ "direct", OPT_FLAG, F(direct), 0, 0,
	  "open BACKING with O_DIRECT, bypassing its page cache" },
	{ "resize", OPT_FLAG, F(resize), 0, 0,
	  "truncate on the volume resizes BACKING (default: refused)" },
	{ "debug", OPT_FLAG, F(debug), 0, 0,
	  "log every request and its result; implies -f (also: -d)" },
	{ "quiet", OPT_FLAG, F(quiet), 0, 0,
	  "print no \"serving\" line once the volume is served" },
	{ "log", OPT_PATH, F(log_file), 0, 0,
	  "once detached, append messages to this file (default:\n"
	  "                     syslog, else the kernel log)" },
	{ "recover", OPT_FLAG, F(recover), 0, 0,
	  "first detach a dead fuseuring mount at MOUNTPOINT (its\n"
	  "                     server was killed), as a restart needs" },
	{ "pidfile", OPT_PATH, F(pidfile), 0, 0,
	  "write the daemon's pid to this file" },
#undef F
};

static void print_help(void)
{
	char buf[8192];
	size_t n = fmt(buf, sizeof(buf),
		"Usage: fuseuring [-f] [-d] [-o OPT[,OPT...]] BACKING MOUNTPOINT\n"
		"Serve the file or block device BACKING as MOUNTPOINT/volume on a\n"
		"FUSE mount, through io_uring.  A MOUNTPOINT that is a file becomes\n"
		"the volume itself.\n\n"
		"  -f             stay in the foreground (default: detach once the\n"
		"                 volume can be opened)\n"
		"  -d             -o debug\n"
		"  -o OPT[,...]   options, before or after the paths:\n");

	for (size_t i = 0; i < COUNT(opt_defs); i++) {
		const struct opt_def *d = &opt_defs[i];
		char key[32];

		fmt(key, sizeof(key), "%s%s", d->name, d->type == OPT_FLAG ? "" : "=");
		n += fmt(buf + n, sizeof(buf) - n, "      %-14s %s\n", key, d->help);
	}
	n += fmt(buf + n, sizeof(buf) - n,
		 "  -h, --help     this text\n"
		 "  -V, --version  the version, and what this kernel offers\n\n"
		 "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
	sys_write(1, buf, n);
}

/* A whole string of digits, nothing before or after. */
static bool parse_number(const char *s, unsigned base, uint64_t *out)
{
	const char *end = parse_uint(s, base, out);

	return end && !*end;
}

bool parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	const char *end = parse_uint(s, 10, out);
	unsigned shift = 0;

	if (!end)
		return false;
	for (unsigned i = 0; *end && i < 4; i++)
		if ((*end | 0x20) == units[i]) {
			shift = 10 * (i + 1);
			end++;
			break;
		}
	if (*end || *out > (UINT64_MAX >> shift))
		return false;
	*out <<= shift;
	return true;
}

/* Where options_parse() writes why it refuses a command line. */
static struct {
	char *text;
	size_t cap;
} why;

/* Say why the command line is refused; returns false, for the caller to
 * return in turn. */
__attribute__((format(printf, 1, 2))) static bool refuse(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	fmt_v(why.text, why.cap, f, ap);
	va_end(ap);
	return false;
}

/* The option an -o item names ("size=1G" names size), or NULL. */
static const struct opt_def *opt_def_named(const char *item)
{
	for (size_t i = 0; i < COUNT(opt_defs); i++) {
		const char *rest = str_after(item, opt_defs[i].name);

		if (rest && (!*rest || *rest == '=' || *rest == ','))
			return &opt_defs[i];
	}
	return NULL;
}

static bool set_text_option(const struct opt_def *d, void *field, const char *value)
{
	if (d->type == OPT_NAME) {
		if (str_eq(value, ".") || str_eq(value, ".."))
			return refuse("-o %s=%s: not a usable file name", d->name, value);
		for (const char *p = value; *p; p++)
			if (*p == '/')
				return refuse("-o %s=%s: a name cannot contain '/'",
					      d->name, value);
		if (str_len(value) > 255)
			return refuse("-o %s: longer than 255 bytes", d->name);
	}
	if (d->type == OPT_TRANSPORT) {
		for (uint32_t k = 0; transport_names[k]; k++)
			if (str_eq(value, transport_names[k])) {
				*(uint32_t *)field = k;
				return true;
			}
		return refuse("-o %s=%s: not one of the choices (see --help)", d->name, value);
	}
	*(const char **)field = value;
	return true;
}

static bool set_number_option(const struct opt_def *d, void *field, const char *value)
{
	uint64_t v;
	bool ok = d->type == OPT_SIZE ? parse_size(value, &v) :
		  parse_number(value, d->type == OPT_OCTAL ? 8 : 10, &v);

	if (!ok)
		return refuse("-o %s=%s: not a%s", d->name, value,
			      d->type == OPT_SIZE ? " size (N[K|M|G|T])" :
			      d->type == OPT_OCTAL ? "n octal mode" : " number");
	if (v < d->min || v > d->max)
		return refuse("-o %s=%s: out of range (%lu to %lu)", d->name, value,
			      (unsigned long)d->min, (unsigned long)d->max);
	if (d->type == OPT_SIZE)
		*(uint64_t *)field = v;
	else
		*(uint32_t *)field = (uint32_t)v;
	return true;
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

	/* What mount(8) passes on a remount, from the mount table: the
	 * kernel's own FUSE options, fixed while mounted. */
	static const char *const fuse_mount_table[] = {
		"user_id=", "group_id=", "default_permissions", "fd=",
		"rootmode=", "max_read=", "blksize=", 0,
	};

	if (str_eq(opt, "rw") || str_eq(opt, "ro"))
		o->read_only = opt[1] == 'o', o->access_given = true;
	else if (str_eq(opt, "noexec") || str_eq(opt, "exec"))
		o->noexec = opt[0] == 'n', o->noexec_given = true;
	else if (str_eq(opt, "remount"))
		o->remount = true;
	else if (str_after(opt, "x-") || str_after(opt, "X-") ||
		 str_after(opt, "comment="))
		return true;
	else {
		for (size_t i = 0; o->remount && fuse_mount_table[i]; i++)
			if (str_after(opt, fuse_mount_table[i]))
				return true;
		for (size_t i = 0; ignored[i]; i++)
			if (str_eq(opt, ignored[i]))
				return true;
		return false;
	}
	return true;
}

/* Apply one "key" or "key=value" from -o. */
static bool apply_option(struct options *o, char *opt)
{
	if (generic_mount_option(o, opt))
		return true;
	char *value = 0;

	for (char *p = opt; *p; p++)
		if (*p == '=') {
			*p = 0;
			value = p + 1;
			break;
		}
	const struct opt_def *d = opt_def_named(opt);

	if (!d)
		return refuse("-o %s: unknown option", opt);
	void *field = (char *)o + d->field;

	if (d->type == OPT_FLAG) {
		if (value)
			return refuse("-o %s: takes no value", opt);
		*(bool *)field = true;
		return true;
	}
	if (!value || !*value)
		return refuse("-o %s: needs a value (%s=...)", opt, opt);
	if (d->type == OPT_UINT || d->type == OPT_OCTAL || d->type == OPT_SIZE)
		return set_number_option(d, field, value);
	return set_text_option(d, field, value);
}

/* The option lists are split in a copy: argv stays as given, for ps. */
static char list_copies[OPTION_LISTS_MAX];
static size_t list_copies_used;

static bool apply_option_list(struct options *o, const char *given)
{
	size_t len = str_len(given) + 1;

	if (len > sizeof(list_copies) - list_copies_used)
		return refuse("-o: the option lists are longer than %lu bytes",
			      (unsigned long)sizeof(list_copies));
	char *list = memcpy(list_copies + list_copies_used, given, len);
	char *start = list;

	list_copies_used += len;
	if (!*list)
		return refuse("-o: empty option list");
	for (char *p = list;; p++) {
		if (*p != ',' && *p)
			continue;
		bool last = !*p;

		*p = 0;
		if (p == start)
			return refuse("-o: empty option in list");
		if (!apply_option(o, start))
			return false;
		if (last)
			return true;
		start = p + 1;
	}
}

/* Invoked as mount.fuseuring (mount -t fuseuring) or mount.fuse.fuseuring
 * (-t fuse.fuseuring, and every remount of such a mount), fuseuring follows
 * mount(8)'s calling convention: "mount.fuseuring SPEC DIR [-sfnv] [-o OPTS]
 * [-t TYPE]", where -f means fake (check, mount nothing), not foreground. */
static bool called_as_mount_helper(const char *argv0)
{
	const char *base = argv0;

	for (const char *p = argv0; *p; p++)
		if (*p == '/')
			base = p + 1;
	return str_eq(base, "mount.fuseuring") || str_eq(base, "mount.fuse.fuseuring");
}

/* Does an option list hold `remount`?  (Known before the other options
 * are checked: a remount gets the mount table's options too.)  The
 * arguments are read as parse_arguments() reads them: -t takes the next
 * one (mount(8)'s), and after "--" come only paths. */
static bool lists_remount(bool helper, int argc, char **argv)
{
	for (int i = 1; i < argc && !str_eq(argv[i], "--"); i++) {
		const char *l = argv[i];

		if (helper && str_eq(l, "-t"))
			i++;	/* the type */
		if (str_eq(l, "-o") && i + 1 < argc)
			l = argv[++i];
		else if (str_after(l, "-o"))
			l += 2;
		else
			continue;
		for (const char *p = l; *p; p++)
			if ((p == l || p[-1] == ',') && str_after(p, "remount") &&
			    (p[7] == ',' || !p[7]))
				return true;
	}
	return false;
}

static bool parse_arguments(struct options *o, int argc, char **argv, uint32_t page_size)
{
	bool helper = o->helper, dashdash = false;
	const char *extra = NULL;
	const char *list_like = NULL;	/* a path that reads as options */
	int paths = 0;

	for (int i = 1; i < argc && !extra; i++) {
		char *a = argv[i];

		if (!dashdash && a[0] == '-' && a[1]) {
			if (str_eq(a, "--")) {
				dashdash = true;
			} else if (str_eq(a, "-h") || str_eq(a, "--help")) {
				o->help = true;	/* parse_command_line prints it */
				return true;
			} else if (str_eq(a, "-V") || str_eq(a, "--version")) {
				o->version = true;	/* daemon.c prints it */
				return true;
			} else if (str_eq(a, "-f")) {
				*(helper ? &o->fake : &o->foreground) = true;
			} else if (str_eq(a, "-d")) {
				o->debug = true;	/* as libfuse's -d */
			} else if (a[1] == 'o') {
				const char *list = a + 2;	/* -oLIST, else -o LIST */

				if (!*list && ++i == argc)
					return refuse("-o: needs an option list");
				if (!apply_option_list(o, *list ? list : argv[i]))
					return false;
			} else if (helper && str_eq(a, "-v")) {
				o->verbose = true;
			} else if (helper && (str_eq(a, "-s") || str_eq(a, "-n"))) {
				/* sloppy, no mtab: nothing to do */
			} else if (helper && str_eq(a, "-t") && i + 1 < argc) {
				i++;	/* the type is us */
			} else {
				return refuse("%s: unknown option", a);
			}
			continue;
		}
		if (!*a)
			return refuse("%s: empty path", paths ? "MOUNTPOINT" : "BACKING");
		if (!list_like && opt_def_named(a))
			list_like = a;
		if (paths == 0)
			o->backing = a;
		else if (paths == 1)
			o->mountpoint = a;
		else
			extra = a;
		paths++;
	}
	/* Paths in the wrong number: say which argument was taken as what,
	 * and how to give one that reads as an option list ("size=1G"). */
	const char *hint = list_like ? "; for options, write -o " : "";
	const char *hint_list = list_like ? list_like : "";

	if (extra)
		return refuse("%s: unexpected argument after BACKING %s and MOUNTPOINT %s%s%s",
			      extra, o->backing, o->mountpoint, hint, hint_list);
	if (paths < 2)
		return paths ? refuse("missing MOUNTPOINT after BACKING %s%s%s", o->backing,
				      hint, hint_list) :
			       refuse("missing BACKING and MOUNTPOINT");
	if (o->remount)
		return true;	/* only ro/rw and exec/noexec can change */
	/* As with libfuse, debugging output wants a terminal; as mount(8)'s
	 * helper it goes to the log instead (mount would wait forever). */
	if (o->debug && !helper)
		o->foreground = true;
	if (o->read_only && o->size)
		return refuse("-o ro and size= do not go together: a read-only volume cannot create or extend BACKING");
	if (o->max_write % page_size)
		return refuse("-o max_write=%lu: not a multiple of the page size (%u)",
			      (unsigned long)o->max_write, page_size);
	if (o->passthrough && o->transport != TRANSPORT_AUTO &&
	    o->transport != TRANSPORT_PASSTHROUGH)
		return refuse("-o passthrough and transport=%s do not go together",
			      transport_names[o->transport]);
	if (o->passthrough)
		o->transport = TRANSPORT_PASSTHROUGH;
	if (o->transport == TRANSPORT_PASSTHROUGH && o->direct)
		return refuse("-o passthrough and direct do not go together: with passthrough the kernel does the I/O");
	return true;
}

int options_parse(struct options *o, int argc, char **argv, uint32_t page_size,
		  char *why_text, size_t why_cap)
{
	why.text = why_text, why.cap = why_cap;
	list_copies_used = 0;
	o->helper = argc > 0 && called_as_mount_helper(argv[0]);
	o->remount = lists_remount(o->helper, argc, argv);
	/* the usage status is mount(8)'s when it runs us */
	int usage = o->helper || o->remount ? 1 : 2;

	return parse_arguments(o, argc, argv, page_size) ? 0 : usage;
}

void parse_command_line(struct options *o, int argc, char **argv,
			uint32_t page_size)
{
	char why_text[1024];
	int status = options_parse(o, argc, argv, page_size, why_text, sizeof(why_text));

	if (o->helper || o->remount) {
		/* mount(8)'s exit statuses: 1 usage, 32 mount failure. */
		exit_usage = 1;
		exit_failure = 32;
	}
	if (status)
		usage_error(why_text);
	if (o->help) {
		print_help();
		sys_exit_group(0);
	}
}
