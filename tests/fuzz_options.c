/* fuzz_options - the command line (options_parse, options.c), from argv
 * built out of the input, against what the command line promises
 * (tests/fuzz.h): fuseuring --help, fuseuring.1 and options.h.
 *
 * For every input:
 *   - argv is left as it was (ps shows it), and nothing is read past an
 *     argument's end or argv's (AddressSanitizer: each is an allocation of
 *     its own size), nor past the option lists' copy (a static array,
 *     which AddressSanitizer guards too);
 *   - a refusal has a reason, one line (unless it quotes a newline that
 *     was given), and the usage status: 1 as mount(8)'s helper, 2
 *     otherwise (1 or 2 when some argument holds "remount"); and it is not
 *     for the lists' length when all the arguments together fit
 *     OPTION_LISTS_MAX;
 *   - what is accepted keeps the documented bounds (depth 1 to 1024, a
 *     max_write that is a multiple of the page size, a usable name, ...);
 *   - what is accepted is printed back as a command line of its own (the
 *     effective options, each once, in the canonical form the help text
 *     gives), and that command line is accepted too, with the same
 *     effective options: every field of struct options the same.
 *
 * Input: byte 0 bit 0: argv[0] is mount.fuseuring (mount(8)'s helper);
 * bits 1-2: the page size (4K, 16K, 64K, 4K); bit 3: a reason buffer of 16
 * bytes (else 1024).  The rest: the arguments, NUL-separated, at most 64.
 * An argument that starts with byte 1 is a length in decimal, ':' and a
 * text: the text repeated to that length (65535 at most), for long option
 * lists.
 */
#include "fuzz.h"
#include "../options.h"

#define MAX_ARGS	64
#define DEFAULT_UID	1000
#define DEFAULT_GID	100

/* The names the help text gives to -o transport=. */
static const char *const transports[] = { "auto", "dev", "uring", "passthrough" };

static struct options defaults(void)
{
	struct options o;

	memset(&o, 0, sizeof(o));	/* padding too: options are compared whole */
	o.name = "volume";
	o.uid = DEFAULT_UID;
	o.gid = DEFAULT_GID;
	o.mode = 0600;
	o.depth = 16;
	o.max_write = 256 << 10;
	return o;
}

/* The command line, each argument an allocation of its own length, and
 * argv one of argc + 1 pointers, ending with NULL as the kernel gives it. */
struct command_line {
	int argc;
	char **argv;
};

static void add_argument(struct command_line *c, const char *text, size_t len)
{
	char *arg = malloc(len + 1);

	memcpy(arg, text, len);
	arg[len] = 0;
	c->argv = realloc(c->argv, (size_t)(c->argc + 2) * sizeof(char *));
	c->argv[c->argc++] = arg;
	c->argv[c->argc] = NULL;
}

static void free_command_line(struct command_line *c)
{
	for (int i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
}

/* A size as the help text writes one: N with the largest unit that
 * divides it. */
static void print_size(char *buf, size_t cap, uint64_t v)
{
	static const char units[] = "\0KMGT";
	int u = 0;

	while (u < 4 && v && v % 1024 == 0)
		v /= 1024, u++;
	snprintf(buf, cap, u ? "%llu%c" : "%llu", (unsigned long long)v, units[u]);
}

/* Append one option to a list. */
static void print_option(char *list, size_t cap, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static void print_option(char *list, size_t cap, const char *f, ...)
{
	size_t n = strlen(list);
	va_list ap;

	if (n)
		list[n++] = ',';
	va_start(ap, f);
	vsnprintf(list + n, cap - n, f, ap);
	va_end(ap);
}

/* The effective options as a command line: what was set, each once,
 * in the form the help text gives; the defaults are left out. */
static void print_command_line(const struct options *o, struct command_line *c)
{
	static const struct { const char *name; size_t field; } flags[] = {
		{ "allow_other", offsetof(struct options, allow_other) },
		{ "passthrough", offsetof(struct options, passthrough) },
		{ "direct", offsetof(struct options, direct) },
		{ "resize", offsetof(struct options, resize) },
		{ "quiet", offsetof(struct options, quiet) },
		{ "recover", offsetof(struct options, recover) },
	};
	static char list[4 * OPTION_LISTS_MAX];
	char size[32];

	list[0] = 0;
	c->argc = 0;
	c->argv = NULL;
	add_argument(c, o->helper ? "mount.fuseuring" : "fuseuring",
		     strlen(o->helper ? "mount.fuseuring" : "fuseuring"));
	if (o->help || o->version) {
		add_argument(c, o->help ? "-h" : "-V", 2);
		return;
	}
	if (o->helper && o->fake)
		add_argument(c, "-f", 2);
	if (o->helper && o->verbose)
		add_argument(c, "-v", 2);
	if (!o->helper && o->foreground)
		add_argument(c, "-f", 2);
	if (o->debug)
		add_argument(c, "-d", 2);
	if (o->remount)
		print_option(list, sizeof(list), "remount");
	if (o->access_given || o->read_only)
		print_option(list, sizeof(list), o->read_only ? "ro" : "rw");
	if (o->noexec_given || o->noexec)
		print_option(list, sizeof(list), o->noexec ? "noexec" : "exec");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (*(const bool *)((const char *)o + flags[i].field))
			print_option(list, sizeof(list), "%s", flags[i].name);
	if (strcmp(o->name, "volume"))
		print_option(list, sizeof(list), "name=%s", o->name);
	if (o->size) {
		print_size(size, sizeof(size), o->size);
		print_option(list, sizeof(list), "size=%s", size);
	}
	if (o->uid != DEFAULT_UID)
		print_option(list, sizeof(list), "uid=%u", o->uid);
	if (o->gid != DEFAULT_GID)
		print_option(list, sizeof(list), "gid=%u", o->gid);
	if (o->mode != 0600)
		print_option(list, sizeof(list), "mode=%o", o->mode);
	if (o->depth != 16)
		print_option(list, sizeof(list), "depth=%u", o->depth);
	if (o->queues)
		print_option(list, sizeof(list), "queues=%u", o->queues);
	if (o->max_write != 256 << 10) {
		print_size(size, sizeof(size), o->max_write);
		print_option(list, sizeof(list), "max_write=%s", size);
	}
	/* passthrough is transport=passthrough, but for a remount, which
	 * looks at neither */
	if (o->transport != TRANSPORT_AUTO &&
	    !(o->passthrough && o->transport == TRANSPORT_PASSTHROUGH && !o->remount))
		print_option(list, sizeof(list), "transport=%s",
			     o->transport < 4 ? transports[o->transport] : "?");
	if (o->log_file)
		print_option(list, sizeof(list), "log=%s", o->log_file);
	if (o->pidfile)
		print_option(list, sizeof(list), "pidfile=%s", o->pidfile);
	if (list[0]) {
		add_argument(c, "-o", 2);
		add_argument(c, list, strlen(list));
	}
	add_argument(c, "--", 2);
	add_argument(c, o->backing, strlen(o->backing));
	add_argument(c, o->mountpoint, strlen(o->mountpoint));
}

/* The options with their strings copied: options_parse's point into the
 * copy of the option lists, which the next parse overwrites. */
static struct options keep(const struct options *o)
{
	struct options k;

	memcpy(&k, o, sizeof(k));
	k.backing = o->backing ? strdup(o->backing) : NULL;
	k.mountpoint = o->mountpoint ? strdup(o->mountpoint) : NULL;
	k.name = strdup(o->name);
	k.pidfile = o->pidfile ? strdup(o->pidfile) : NULL;
	k.log_file = o->log_file ? strdup(o->log_file) : NULL;
	return k;
}

static void drop(struct options *k)
{
	free((char *)k->backing);
	free((char *)k->mountpoint);
	free((char *)k->name);
	free((char *)k->pidfile);
	free((char *)k->log_file);
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Every field the same: the strings by their text, the rest byte for
 * byte (padding included: both start from defaults()). */
static bool same_options(const struct options *a, const struct options *b)
{
	struct options x, y;

	if (!same_text(a->backing, b->backing) || !same_text(a->mountpoint, b->mountpoint) ||
	    !same_text(a->name, b->name) || !same_text(a->pidfile, b->pidfile) ||
	    !same_text(a->log_file, b->log_file))
		return false;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.backing = y.backing = x.mountpoint = y.mountpoint = NULL;
	x.name = y.name = x.pidfile = y.pidfile = x.log_file = y.log_file = NULL;
	return !memcmp(&x, &y, sizeof(x));
}

static void print_argv(char *buf, size_t cap, const struct command_line *c)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < c->argc && n + 1 < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, i ? " '%s'" : "%s", c->argv[i]);
}

/* What the help text, the manual and options.h promise of what is
 * accepted. */
static void check_bounds(const struct options *o, uint32_t page_size, const char *line)
{
	size_t name_len = strlen(o->name);

	FUZZ_CHECK(o->backing && *o->backing && o->mountpoint && *o->mountpoint,
		   "%s: BACKING and MOUNTPOINT, not empty", line);
	FUZZ_CHECK(name_len >= 1 && name_len <= 255 && !strchr(o->name, '/') &&
		   strcmp(o->name, ".") && strcmp(o->name, ".."), "%s: name '%s'", line, o->name);
	FUZZ_CHECK(o->size <= INT64_MAX, "%s: size %llu", line, (unsigned long long)o->size);
	FUZZ_CHECK(o->uid <= 0xfffffffe && o->gid <= 0xfffffffe, "%s: uid %u gid %u", line,
		   o->uid, o->gid);
	FUZZ_CHECK(o->mode <= 07777, "%s: mode %o", line, o->mode);
	FUZZ_CHECK(o->depth >= 1 && o->depth <= 1024, "%s: depth %u", line, o->depth);
	FUZZ_CHECK(o->queues <= 256, "%s: queues %u", line, o->queues);
	FUZZ_CHECK(o->max_write >= 16384 && o->max_write <= 1 << 20, "%s: max_write %llu",
		   line, (unsigned long long)o->max_write);
	FUZZ_CHECK(o->transport < 4, "%s: transport %u", line, o->transport);
	if (o->remount)
		return;		/* the rest is what a start decides */
	FUZZ_CHECK(o->max_write % page_size == 0, "%s: max_write %llu on %u-byte pages", line,
		   (unsigned long long)o->max_write, page_size);
	FUZZ_CHECK(!(o->read_only && o->size), "%s: ro and size=", line);
	FUZZ_CHECK(!o->passthrough || o->transport == TRANSPORT_PASSTHROUGH,
		   "%s: passthrough, yet transport=%s", line, transports[o->transport]);
	FUZZ_CHECK(!(o->transport == TRANSPORT_PASSTHROUGH && o->direct),
		   "%s: passthrough and direct", line);
	FUZZ_CHECK(o->helper || !o->debug || o->foreground, "%s: debug without -f", line);
}

/* The arguments, from the input's bytes after the first. */
static void build_command_line(const uint8_t *in, size_t size, bool helper,
			       struct command_line *c)
{
	static char expanded[65536];
	const char *argv0 = helper ? "/sbin/mount.fuseuring" : "fuseuring";
	size_t at = 0;

	c->argc = 0;
	c->argv = NULL;
	add_argument(c, argv0, strlen(argv0));
	while (at < size && c->argc <= MAX_ARGS) {
		size_t len = strnlen((const char *)in + at, size - at);
		char *arg = strndup((const char *)in + at, len), *text;
		unsigned long want;

		at += len + 1;
		if (arg[0] == 1 && (want = strtoul(arg + 1, &text, 10)) < sizeof(expanded) &&
		    *text == ':') {
			size_t tlen = strlen(++text);

			for (size_t i = 0; i < want; i++)
				expanded[i] = tlen ? text[i % tlen] : 'a';
			add_argument(c, expanded, want);
		} else {
			add_argument(c, arg, len);
		}
		free(arg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	static const uint32_t page_sizes[] = { 4096, 16384, 65536, 4096 };
	static char line[2048], lists_too_long[128];
	struct command_line c, again;
	struct options o = defaults(), o2 = defaults();

	if (size < 1)
		return 0;
	bool helper = input[0] & 1;
	uint32_t page_size = page_sizes[input[0] >> 1 & 3];
	size_t why_cap = input[0] & 8 ? 16 : 1024;
	char *why = malloc(why_cap);

	build_command_line(input + 1, size - 1, helper, &c);
	print_argv(line, sizeof(line), &c);

	/* argv as it was, to see that it stays so */
	struct command_line given = { 0, NULL };
	size_t total = 0;

	for (int i = 0; i < c.argc; i++) {
		add_argument(&given, c.argv[i], strlen(c.argv[i]));
		total += strlen(c.argv[i]) + 1;
	}
	snprintf(lists_too_long, sizeof(lists_too_long),
		 "-o: the option lists are longer than %d bytes", OPTION_LISTS_MAX);
	memset(why, 0, why_cap);
	int status = options_parse(&o, c.argc, c.argv, page_size, why, why_cap);

	for (int i = 0; i < c.argc; i++)
		FUZZ_CHECK(!strcmp(c.argv[i], given.argv[i]), "%s: argv[%d] became '%s'", line,
			   i, c.argv[i]);
	free_command_line(&given);
	FUZZ_CHECK(o.helper == helper, "%s: helper %d", line, o.helper);
	if (status) {
		bool remount_named = false, newline_given = false;

		for (int i = 1; i < c.argc; i++) {
			remount_named |= strstr(c.argv[i], "remount") != NULL;
			newline_given |= strchr(c.argv[i], '\n') != NULL;
		}
		FUZZ_CHECK(helper ? status == 1 : status == 2 || (status == 1 && remount_named),
			   "%s: usage status %d", line, status);
		/* one line, but for a newline it quotes */
		FUZZ_CHECK(why[0] && memchr(why, 0, why_cap) && (newline_given || !strchr(why, '\n')),
			   "%s: refused without a one-line reason: '%.*s'", line, (int)why_cap, why);
		/* (the reason echoes what was given: the whole of it is compared) */
		FUZZ_CHECK(total > OPTION_LISTS_MAX || strcmp(why, lists_too_long),
			   "%s: refused for the lists' length (%zu bytes in all): %s", line, total,
			   why);
		goto out;
	}
	if (!o.help && !o.version)
		check_bounds(&o, page_size, line);

	/* Printed back and parsed again: the same effective options. */
	struct options first = keep(&o);
	char again_line[2048];

	print_command_line(&first, &again);
	print_argv(again_line, sizeof(again_line), &again);
	status = options_parse(&o2, again.argc, again.argv, page_size, why, why_cap);
	FUZZ_CHECK(status == 0, "%s: printed back as %s, refused: %s", line, again_line, why);
	if (first.help || first.version)
		FUZZ_CHECK(o2.help == first.help && o2.version == first.version,
			   "%s: printed back as %s, help %d version %d", line, again_line, o2.help,
			   o2.version);
	else
		FUZZ_CHECK(same_options(&first, &o2), "%s: printed back as %s, other options",
			   line, again_line);
	free_command_line(&again);
	drop(&first);
out:
	free_command_line(&c);
	free(why);
	return 0;
}

#ifdef MAKE_CORPUS
static const char *seed_dir;
static int seeds;

/* One seed: the flags byte, then the arguments. */
static void seed(unsigned flags, const char *const *args)
{
	uint8_t buf[4096];
	size_t n = 0;
	char name[32];

	buf[n++] = (uint8_t)flags;
	for (; *args; args++) {
		size_t len = strlen(*args) + 1;

		memcpy(buf + n, *args, len);
		n += len;
	}
	snprintf(name, sizeof(name), "args-%03d", seeds++);
	seed_write(seed_dir, name, buf, n - 1);	/* no NUL after the last */
}

#define SEED(flags, ...) seed(flags, (const char *const[]){ __VA_ARGS__, NULL })

/* An argument of `len` bytes: `text` repeated (the input's byte-1 form). */
static const char *repeated(const char *text, unsigned len)
{
	static char bufs[4][64];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "\x01%u:%s", len, text);
	return b;
}

void write_seeds(const char *dir)
{
	/* -o LIST b m: check_lifecycle's command-line cases, then each bound
	 * at it, one past it and far past it */
	static const char *const lists[] = {
		"size=1K", "size=16m", "max_write=20K", "mode=0644,uid=0,gid=0",
		"depth=1,queues=256", "noexec,nofail,x-systemd.automount,_netdev",
		"transport=uring,direct,resize,quiet,recover,allow_other",
		"name=vol,log=/tmp/l,pidfile=/run/p", "ro,size=1M", "passthrough,transport=dev",
		"passthrough,direct", "name=a/b", "name=..", "ro,,rw",
		"remount,ro,size=1G,passthrough,transport=dev",
		"size=1", "size=0", "size=9223372036854775807", "size=9223372036854775808",
		"size=8388607T", "size=8388608T", "size=16777216T", "size=16777217T",
		"uid=4294967294,gid=4294967294", "uid=4294967295", "gid=4294967296",
		"mode=7777", "mode=10000", "depth=1024", "depth=1025",
		"depth=18446744073709551617", "queues=257", "queues=4294967297",
		"max_write=16K", "max_write=16383", "max_write=1M", "max_write=1052672",
	};

	seed_dir = dir;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		SEED(0, "-o", lists[i], "b", "m");
	SEED(0, "-d", "b", "m");
	SEED(0, "-f", "-o", "passthrough", "b", "m");
	SEED(0, "-oro", "b", "m");
	SEED(0, "b", "m", "-o");
	SEED(0, "b", "m", "c");
	SEED(0, "size=1G", "b", "m");
	SEED(0, "b");
	SEED(0, "", "m");
	SEED(0, "-x", "b", "m");
	SEED(0, "-h");
	SEED(0, "-V", "-o", "bogus");
	SEED(0, "-o", "ro", "--", "-b", "m");
	SEED(0, "--", "-oremount", "m");
	SEED(0, "b", "m", "-o", "remount,ro,user_id=0,group_id=0,default_permissions");
	SEED(0, "b", "m", "-o", "user_id=0");
	SEED(1, "b", "m", "-f", "-o", "rw");
	SEED(1, "b", "m", "-v", "-s", "-n", "-t", "fuseuring", "-o", "frob");
	SEED(1, "b", "m", "-t", "-oremount");
	SEED(2, "-o", "max_write=16K", "b", "m");	/* 16K pages */
	SEED(2, "-o", "max_write=20K", "b", "m");
	SEED(4, "-o", "max_write=64K", "b", "m");	/* 64K pages */
	SEED(4, "-o", "max_write=68K", "b", "m");
	SEED(8, "-o", "size=99999999999999999999999", "b", "m");	/* a 16-byte reason */
	/* the name's 255 bytes, and the option lists' OPTION_LISTS_MAX */
	SEED(0, "-o", repeated("name=aaaaa", 5 + 255), "b", "m");
	SEED(0, "-o", repeated("name=aaaaa", 5 + 256), "b", "m");
	SEED(0, "-o", repeated("name=aaaaa", 5 + 4000), "b", "m");
	SEED(0, "-o", repeated("x-", OPTION_LISTS_MAX - 1), "b", "m");
	SEED(0, "-o", repeated("x-", OPTION_LISTS_MAX), "b", "m");
	SEED(0, "-o", repeated("x-", 4 * OPTION_LISTS_MAX - 1), "b", "m");
	SEED(0, "-o", repeated("x-", OPTION_LISTS_MAX / 2 - 1), "b", "m", "-o",
	     repeated("x-", OPTION_LISTS_MAX / 2 - 1));
	SEED(0, "-o", repeated("x-", OPTION_LISTS_MAX / 2 - 1), "b", "m", "-o",
	     repeated("x-", OPTION_LISTS_MAX / 2));
}
#endif
