/* SPDX-License-Identifier: MIT */
/* check_lifecycle.c - `make check`: the lifecycle's decisions, driven from
 * fixtures.  No root, no FUSE, no mount: each decision is a pure function
 * of what the daemon read from the system (lifecycle.h, "decisions"), so
 * what it read is written here instead.
 *
 * Covered: /proc/self/mountinfo lines (escapes, bind mounts, optional
 * fields) and finding our mount in them by its ID (a MOUNTPOINT reached
 * through a symlink, stacked mounts, a mount taken away by hand); paths
 * made absolute; the flags of a remount (atime modes, ro/rw, noexec);
 * possible-CPU lists; the transport for every combination of what was
 * asked and what the kernel and the machine offer; the queues' fit to
 * locked memory for one to four volumes of one user; the command line's
 * edge cases, and every bound it checks at the bound, one past it and far
 * past it.
 *
 * Prints one line per failed check, then "check_lifecycle: N passed,
 * N failed"; exits 1 if any check failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lifecycle.h"

/* Not <unistd.h>: it brings names linux.h (the kernel's values) has too. */
int mkstemp(char *template);
int unlink(const char *path);
int ftruncate(int fd, long length);
unsigned alarm(unsigned seconds);

static int passed, failed;

static bool check_at(int line, bool ok, const char *f, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return true;
	}
	failed++;
	printf("FAIL check_lifecycle.c:%d: ", line);
	va_start(ap, f);
	vprintf(f, ap);
	va_end(ap);
	putchar('\n');
	return false;
}

#define CHECK(ok, ...)	check_at(__LINE__, (ok), __VA_ARGS__)

/* --- the formatter (sys.c) -------------------------------------------------------- */

/* fmt() against libc's snprintf, which is the independent reference: the
 * same text, cut where the buffer ends.  A message longer than its buffer
 * with text after a %s once spun forever (a hang fails by alarm()). */
static void check_formatter(void)
{
	static const size_t caps[] = { 1, 2, 7, 8, 9, 16, 40, 1024 };
	char long_arg[3000], got[1100], want[1100];

	memset(long_arg, 'p', sizeof(long_arg) - 1);
	long_arg[sizeof(long_arg) - 1] = 0;
	for (size_t i = 0; i < COUNT(caps); i++) {
		size_t cap = caps[i], n;

#define SAME_AS_LIBC(...) do {						\
		n = fmt(got, cap, __VA_ARGS__);					\
		snprintf(want, cap, __VA_ARGS__);				\
		CHECK(!strcmp(got, want) && n == strlen(want),			\
		      "fmt(cap %zu, %s): '%s' (%zu), want '%s'", cap, #__VA_ARGS__, \
		      got, n, want);						\
	} while (0)
		SAME_AS_LIBC("%s tail after the argument", "abcdefghij");
		SAME_AS_LIBC("%s: %s; stopping", long_arg, "No such file or directory");
		SAME_AS_LIBC("serving %s at %s/volume: transport %s", long_arg, long_arg, "dev");
		SAME_AS_LIBC("%d %u %ld %lu %x %lx %o%%", -42, 42u, -9000000000l,
			     18446744073709551615ul, 0xbeefu, 0xdeadbeeful, 0755u);
		SAME_AS_LIBC("[%5d|%-5d|%05u|%-8s|%8s]", 42, -7, 9u, "ab", "cd");
		SAME_AS_LIBC("%c%c%c literal text that runs on and on", 'a', 'b', 'c');
		SAME_AS_LIBC("%s", "");
#undef SAME_AS_LIBC
	}
	got[0] = 'x';
	CHECK(fmt(got, 0, "%s", "abc") == 0 && got[0] == 'x', "cap 0 writes nothing");
}

/* --- mountinfo ------------------------------------------------------------------- */

static void check_mountinfo_parse(void)
{
	char line[] = "36 35 98:0 /sub /mnt/a\\040b rw,noatime shared:1 master:2 - "
		      "fuse.fuseuring /data/x\\134y.img rw,user_id=0";
	char bad1[] = "36 35 98:0 / /mnt rw no separator here";
	char bad2[] = "x 35 98:0 / /mnt rw - ext4 /dev/sda rw";
	char bad3[] = "";
	struct mount_entry e;

	if (CHECK(mountinfo_parse(line, &e), "a line with optional fields")) {
		CHECK(e.mount.id == 36 && e.parent == 35, "ids %lu %lu", e.mount.id, e.parent);
		CHECK(e.mount.dev_major == 98 && e.mount.dev_minor == 0, "device %u:%u",
		      e.mount.dev_major, e.mount.dev_minor);
		CHECK(!strcmp(e.root, "/sub"), "root (a bind mount's) %s", e.root);
		CHECK(!strcmp(e.path, "/mnt/a b"), "\\040 in the path: '%s'", e.path);
		CHECK(!strcmp(e.type, "fuse.fuseuring"), "type %s", e.type);
		CHECK(!strcmp(e.source, "/data/x\\y.img"), "\\134 in the source: '%s'", e.source);
	}
	CHECK(!mountinfo_parse(bad1, &e), "no \" - \" separator");
	CHECK(!mountinfo_parse(bad2, &e), "no mount ID");
	CHECK(!mountinfo_parse(bad3, &e), "an empty line");
}

/* Run a lookup for a mount over fixture lines, as each_line would. */
static void lookup(struct mount_lookup *lk, unsigned long id, uint32_t minor, const char *text)
{
	char buf[4096];

	*lk = (struct mount_lookup){ .want = { id, 0, minor } };
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *line = strtok(buf, "\n"); line; line = strtok(0, "\n"))
		if (mount_lookup_line(lk, line))
			break;
}

static void check_mount_lookup(void)
{
	/* MOUNTPOINT typed as /var/run/vol (a symlink to /run): the table
	 * shows /run/vol; a bind mount of our mount elsewhere; a mount
	 * inside ours.  Mount IDs are given again as soon as they are free:
	 * ID 40 on another device is not ours. */
	static const char table[] =
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"25 1 0:22 / /run rw,nosuid - tmpfs tmpfs rw\n"
		"40 25 0:40 / /run/vol rw,nosuid,nodev - fuse.fuseuring /srv/b.img rw\n"
		"41 1 0:40 / /mnt/bind rw,nosuid,nodev - fuse.fuseuring /srv/b.img rw\n"
		"42 40 0:41 / /run/vol/sub rw - tmpfs tmpfs rw\n";
	static const char reused[] =
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"40 1 0:57 / /srv/m rw - tmpfs tmpfs rw\n";
	struct mount_lookup lk;

	lookup(&lk, 40, 40, table);
	CHECK(lk.found && !strcmp(lk.path, "/run/vol"), "by ID through a symlink: %d %s",
	      lk.found, lk.path);
	CHECK(!strcmp(lk.type, "fuse.fuseuring") && !strcmp(lk.source, "/srv/b.img"),
	      "type and source: %s %s", lk.type, lk.source);
	lookup(&lk, 41, 40, table);
	CHECK(lk.found && !strcmp(lk.path, "/mnt/bind"), "the bind mount by its own ID: %s", lk.path);
	lookup(&lk, 40, 40, reused);
	CHECK(!lk.found, "our mount's ID, given again to another mount: %s", lk.path);
	lookup(&lk, 99, 40, table);
	CHECK(!lk.found, "a mount taken away by hand is not found");
}

/* Our mount found by its tag (max_read=), on the mount MOUNTPOINT's
 * directory is on: after a rename above it, with another server's mount
 * stacked on it, with a copy of it propagated elsewhere, and beside a
 * mount of another FUSE filesystem that happens to use the same max_read. */
static void check_mount_tag_lookup(void)
{
	static const char table[] =
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"30 1 0:30 / /mnt rw - tmpfs tmpfs rw\n"
		"45 30 0:44 / /mnt/renamed/fu rw,nosuid,nodev - fuse.sshfs host: "
		"rw,user_id=0,group_id=0,max_read=2147483748\n"
		"50 30 0:45 / /mnt/renamed/fu rw,nosuid,nodev shared:7 - fuse.fuseuring "
		"/srv/b.img rw,user_id=0,group_id=0,default_permissions,max_read=2147483748\n"
		"51 50 0:46 / /mnt/renamed/fu rw,nosuid,nodev - fuse.fuseuring /srv/b.img "
		"rw,user_id=0,group_id=0,default_permissions,max_read=2147483749\n"
		"60 31 0:45 / /srv/copy rw,nosuid,nodev shared:7 - fuse.fuseuring /srv/b.img "
		"rw,user_id=0,group_id=0,default_permissions,max_read=2147483748\n";
	const uint32_t ours = MOUNT_TAG_BASE + 100, racer = MOUNT_TAG_BASE + 101;
	struct mount_lookup lk;
	char buf[sizeof(table)];

#define TAG_LOOKUP(t, under) do {					\
		lk = (struct mount_lookup){ .tag = (t), .parent = (under) };	\
		memcpy(buf, table, sizeof(table));				\
		for (char *l = strtok(buf, "\n"); l; l = strtok(0, "\n"))	\
			if (mount_lookup_line(&lk, l))				\
				break;						\
	} while (0)
	TAG_LOOKUP(ours, 30);
	CHECK(lk.found && lk.mount.id == 50 && lk.mount.dev_minor == 45 && lk.mount_parent == 30,
	      "ours, by tag on MOUNTPOINT's mount: found %d id %lu", lk.found, lk.mount.id);
	CHECK(lk.mount_tag == ours && !strcmp(lk.path, "/mnt/renamed/fu"),
	      "its tag and path: %u %s", lk.mount_tag, lk.path);
	TAG_LOOKUP(racer, 30);
	CHECK(!lk.found, "a server whose mount went on top of another is not where it checked");
	TAG_LOOKUP(racer, 0);
	CHECK(lk.found && lk.mount.id == 51 && lk.mount_parent == 50,
	      "... and is found on top of it: %lu on %lu", lk.mount.id, lk.mount_parent);
	TAG_LOOKUP(ours, 31);
	CHECK(lk.found && lk.mount.id == 60, "a propagated copy is told apart by its parent");
	TAG_LOOKUP(MOUNT_TAG_BASE + 7, 30);
	CHECK(!lk.found, "no mount with that tag");
#undef TAG_LOOKUP
	/* By ID on any device: where lock lines' device comes from. */
	lk = (struct mount_lookup){ .want = { 50, 0, 0 } };
	memcpy(buf, table, sizeof(table));
	for (char *l = strtok(buf, "\n"); l; l = strtok(0, "\n"))
		if (mount_lookup_line(&lk, l))
			break;
	CHECK(lk.found && lk.mount.dev_minor == 45, "by ID alone: %d %u", lk.found,
	      lk.mount.dev_minor);

	static const struct { const char *options; uint32_t tag; } tags[] = {
		{ "rw,user_id=0,max_read=2147483700", 2147483700u },
		{ "max_read=12,rw", 12 }, { "rw,xmax_read=5", 0 }, { "rw", 0 }, { "", 0 },
		{ "rw,max_read=4294967295", 4294967295u }, { "rw,max_read=4294967296", 0 },
		{ "rw,max_read=99999999999999999999999", 0 }, { "rw,max_read=", 0 },
		{ "rw,max_read=12abc", 0 }, { "rw,max_read=-1", 0 },
	};
	for (size_t i = 0; i < COUNT(tags); i++)
		CHECK(options_tag(tags[i].options) == tags[i].tag, "options_tag(%s): %u, want %u",
		      tags[i].options, options_tag(tags[i].options), tags[i].tag);
}

static void check_path_lies_under(void)
{
	static const struct { const char *file, *dir; bool under; } cases[] = {
		{ "/mnt/fu/volume", "/mnt/fu", true }, { "/mnt/fu", "/mnt/fu", true },
		{ "/mnt/fu2/volume", "/mnt/fu", false }, { "/mnt/f", "/mnt/fu", false },
		{ "/mnt/fu/volume", "/mnt/fu/", true }, { "/x", "/", true },
		{ "/", "/", true }, { "/mnt", "", false }, { "", "/mnt", false },
		{ "/mnt/fu/volume (deleted)", "/mnt/fu", true },
	};

	for (size_t i = 0; i < COUNT(cases); i++)
		CHECK(path_lies_under(cases[i].file, cases[i].dir) == cases[i].under,
		      "path_lies_under(%s, %s): want %d", cases[i].file, cases[i].dir,
		      cases[i].under);
}

/* Lock lines as fs/locks.c prints them (lock_get_status): the holder and
 * the kind, never a waiter's; the file named by its superblock's device. */
static void check_lock_lines(void)
{
	const struct file_id f = { 0, 0x2d, 1234 }, btrfs_statx = { 0, 0x33, 1234 };
	static const struct { const char *line; enum lock_seen want; } cases[] = {
		{ "1: OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF", LOCKS_WRITE },
		{ "lock:\t1: OFDLCK ADVISORY  READ -1 00:2d:1234 0 EOF", LOCKS_READ },
		{ "7: POSIX  ADVISORY  WRITE 4321 00:2d:1234 100 200", LOCKS_WRITE },
		{ "3: FLOCK  ADVISORY  WRITE 555 00:2d:1234 0 EOF", LOCKS_WRITE },
		{ "4: LEASE  ACTIVE    READ 555 00:2d:1234 0 EOF", LOCKS_READ },
		{ "1: -> OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF", LOCKS_NONE },
		{ "1:  -> POSIX  ADVISORY  WRITE 77 00:2d:1234 0 EOF", LOCKS_NONE },
		{ "5: OFDLCK ADVISORY  UNLCK -1 00:2d:1234 0 EOF", LOCKS_NONE },
		{ "1: OFDLCK ADVISORY  WRITE -1 00:2d:12345 0 EOF", LOCKS_NONE },
		{ "1: OFDLCK ADVISORY  WRITE -1 00:2d:123 0 EOF", LOCKS_NONE },
		{ "1: OFDLCK ADVISORY  WRITE -1 00:33:1234 0 EOF", LOCKS_NONE },
		{ "1: OFDLCK ADVISORY  WRITE -1 01:2d:1234 0 EOF", LOCKS_NONE },
		{ "1: OFDLCK ADVISORY  WRITE -1 00:2d:1234", LOCKS_WRITE },
		{ "1: OFDLCK ADVISORY  WRITE -1", LOCKS_NONE },
		{ "1: ACCESS ADVISORY  READ 9 00:2d:1234 0 EOF", LOCKS_READ },
		{ "x: OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF", LOCKS_NONE },
		{ "pos:\t0", LOCKS_NONE }, { "", LOCKS_NONE },
	};

	for (size_t i = 0; i < COUNT(cases); i++)
		CHECK(lock_line_on(cases[i].line, &f) == cases[i].want,
		      "lock line '%s': %d, want %d", cases[i].line,
		      lock_line_on(cases[i].line, &f), cases[i].want);
	CHECK(lock_line_on("2: OFDLCK ADVISORY  READ -1 fd:01:99 0 EOF",
			   &(struct file_id){ 0xfd, 1, 99 }) == LOCKS_READ, "a hex major (fd:01)");
	CHECK(lock_line_on("2: OFDLCK ADVISORY  READ -1 fd:01:99 0 EOF", NULL) == LOCKS_READ,
	      "any file");
	CHECK(lock_line_on("1: OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF", &btrfs_statx) ==
	      LOCKS_NONE, "btrfs: statx's device is not the one lock lines print");
}

/* each_line hands over every line up to EACH_LINE_MAX - 1 bytes, skips
 * longer ones whole, and loses nothing after them: a line of our mount
 * with two 4095-byte paths of backslashes (escaped four times longer)
 * must be found among giant lines of others. */
struct line_seen { size_t n, lens[8]; };

static bool count_line(void *ctx, char *line)
{
	struct line_seen *seen = ctx;

	if (seen->n < COUNT(seen->lens))
		seen->lens[seen->n] = strlen(line);
	seen->n++;
	return false;
}

static void check_long_lines(void)
{
	char name[] = "/tmp/check_lifecycle.XXXXXX";
	int fd = mkstemp(name);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct line_seen seen = { 0 };
	struct mount_lookup lk = { .want = { 77, 0, 88 } };

	if (!CHECK(f != NULL, "a temporary file"))
		return;
	for (size_t len = EACH_LINE_MAX - 1; len <= EACH_LINE_MAX + 1; len++) {
		for (size_t i = 0; i < len; i++)
			fputc('x', f);
		fputs("\nshort\n", f);
	}
	for (size_t i = 0; i < 3 * EACH_LINE_MAX; i++)
		fputc('y', f);
	fputs("\nend\n", f);
	fflush(f);
	CHECK(each_line(name, count_line, &seen), "each_line reads the file");
	CHECK(seen.n == 5 && seen.lens[0] == EACH_LINE_MAX - 1 && seen.lens[1] == 5 &&
	      seen.lens[2] == 5 && seen.lens[3] == 5 && seen.lens[4] == 3,
	      "lines at, one past and far past EACH_LINE_MAX: %zu lines (%zu %zu %zu %zu)",
	      seen.n, seen.lens[0], seen.lens[1], seen.lens[2], seen.lens[3]);
	rewind(f);
	if (ftruncate(fd, 0) < 0)
		abort();
	for (size_t i = 0; i < 2 * EACH_LINE_MAX; i++)
		fputc('z', f);
	fputs("\n1 0 8:1 / / rw - ext4 /dev/sda1 rw\n77 1 0:88 / /", f);
	for (int i = 0; i < 4094; i++)
		fputs("\\134", f);
	fputs(" rw,nosuid,nodev shared:1 master:2 - fuse.fuseuring /", f);
	for (int i = 0; i < 4094; i++)
		fputs("\\134", f);
	fputs(" rw,user_id=4294967294,group_id=4294967294,default_permissions,"
	      "allow_other,max_read=2147483647\n", f);
	fflush(f);
	each_line(name, mount_lookup_line, &lk);
	CHECK(lk.found && strlen(lk.path) == 4095 && lk.path[4094] == '\\' &&
	      strlen(lk.source) == 4095, "our mount's longest line: found %d, path of %zu",
	      lk.found, strlen(lk.path));
	fclose(f);
	unlink(name);
}

/* --- paths, remount, CPUs --------------------------------------------------------- */

static void check_absolute_path(void)
{
	static const struct { const char *path, *cwd, *want; } cases[] = {
		{ "mnt", "/home/u", "/home/u/mnt" },
		{ "./a//b/../c/", "/home/u", "/home/u/a/c" },
		{ "../../..", "/home/u", "/" },
		{ "x", "/", "/x" },
		{ "/abs/./p", "/ignored", "/abs/p" },
		{ "/", "/", "/" },
	};
	char buf[64], tiny[8];

	for (size_t i = 0; i < COUNT(cases); i++) {
		const char *got = absolute_path(cases[i].path, cases[i].cwd, buf, sizeof(buf));

		CHECK(got && !strcmp(got, cases[i].want), "absolute_path(%s, %s): %s, want %s",
		      cases[i].path, cases[i].cwd, got ? got : "NULL", cases[i].want);
	}
	CHECK(!absolute_path("a-long-name", "/home", tiny, sizeof(tiny)),
	      "a path that does not fit is refused");
	CHECK(!absolute_path("pid", "", buf, sizeof(buf)),
	      "a relative path without a working directory is refused, not put at /");
}

static void check_remount_flags(void)
{
	struct options o = { .access_given = false };
	unsigned long f;

	/* strictatime: statfs shows neither relatime nor noatime */
	f = remount_flags(&o, MS_NOSUID | MS_NODEV);
	CHECK(f & MS_STRICTATIME, "strictatime kept: %#lx", f);
	CHECK(!(f & MS_RELATIME), "strictatime: not relatime: %#lx", f);
	f = remount_flags(&o, MS_NOSUID | MS_NODEV | ST_RELATIME);
	CHECK((f & MS_RELATIME) && !(f & MS_STRICTATIME), "relatime kept: %#lx", f);
	f = remount_flags(&o, MS_NOATIME | MS_NODIRATIME);
	CHECK((f & MS_NOATIME) && (f & MS_NODIRATIME) && !(f & MS_STRICTATIME),
	      "noatime kept: %#lx", f);
	f = remount_flags(&o, MS_RDONLY | MS_NOSUID | MS_NODEV | ST_NOSYMFOLLOW | ST_RELATIME);
	CHECK((f & MS_RDONLY) && (f & MS_NOSYMFOLLOW) && (f & MS_NOSUID) && (f & MS_NODEV) &&
	      (f & MS_REMOUNT), "without ro/rw: read-only, nosymfollow, nosuid, nodev kept: %#lx", f);
	CHECK(!(f & 0x1000), "ST_RELATIME is not passed as MS_BIND: %#lx", f);
	o.access_given = true;
	f = remount_flags(&o, MS_RDONLY | ST_RELATIME);
	CHECK(!(f & MS_RDONLY), "rw: writable: %#lx", f);
	o.read_only = true;
	f = remount_flags(&o, ST_RELATIME);
	CHECK(f & MS_RDONLY, "ro: read-only: %#lx", f);
	o.noexec_given = true, o.noexec = true;
	f = remount_flags(&o, ST_RELATIME);
	CHECK(f & MS_NOEXEC, "noexec: %#lx", f);
	o.noexec = false;
	f = remount_flags(&o, ST_RELATIME | MS_NOEXEC);
	CHECK(!(f & MS_NOEXEC), "exec: %#lx", f);
}

static void check_cpu_list(void)
{
	static const struct { const char *list; unsigned want; } cases[] = {
		{ "0-3,6\n", 5 }, { "0\n", 1 }, { "0-15", 16 }, { "0,2,4-5\n", 4 },
		{ "0-127\n", 128 }, { "", 0 }, { "garbage\n", 0 }, { "3-1\n", 0 },
		{ "0-\n", 0 },
		/* what the kernel never prints (lifecycle.h): 0 */
		{ "\n", 0 }, { "0-3,2\n", 0 }, { "4,0-3\n", 0 }, { "0-3 \n", 0 },
		{ "0-3\n\n", 0 }, { "0-3,\n", 0 }, { "0-3,4-7\n", 8 }, { "00-03\n", 4 },
		/* CPU_LIST_END: at, one past, far past (a count past 32 bits) */
		{ "0-65535\n", 65536 }, { "0-65536\n", 0 }, { "0-4294967296\n", 0 },
	};

	for (size_t i = 0; i < COUNT(cases); i++)
		CHECK(cpu_list_count(cases[i].list) == cases[i].want, "cpu list '%s': %u, want %u",
		      cases[i].list, cpu_list_count(cases[i].list), cases[i].want);
}

/* --- the transport ----------------------------------------------------------------- */

/* The rules of doc/design.md's "What auto chooses", restated independently. */
static void check_transport_case(const struct options *o, const struct transport_facts *f)
{
	struct transport_plan p;
	bool offers_uring = f->offered & FUSE_OVER_IO_URING;
	bool offers_pt = f->offered & FUSE_PASSTHROUGH;
	bool refuse = (o->transport == TRANSPORT_URING && (!offers_uring || !f->kernel_queues)) ||
		      (o->transport == TRANSPORT_PASSTHROUGH && !offers_pt);
	bool auto_pt = o->transport == TRANSPORT_AUTO && offers_pt && f->may_passthrough &&
		       !f->is_block && !o->direct && !o->debug && (o->resize || o->read_only);
	bool pt = o->transport == TRANSPORT_PASSTHROUGH || auto_pt;
	bool uring = o->transport == TRANSPORT_URING ||
		     (o->transport == TRANSPORT_AUTO && !auto_pt && offers_uring &&
		      f->kernel_queues && f->cpus >= URING_MIN_CPUS);
	unsigned want_queues = f->queues_asked ? f->queues_asked : f->cpus;
	unsigned dev_cap = f->cpus < 4 ? f->cpus : 4;
	char what[256];

	if (!uring && want_queues > dev_cap)
		want_queues = dev_cap;
	if (uring && f->kernel_queues && want_queues > f->kernel_queues)
		want_queues = f->kernel_queues;
	snprintf(what, sizeof(what), "transport=%s offered=%s%s root=%d block=%d direct=%d "
		 "debug=%d resize=%d ro=%d cpus=%u kq=%u queues=%u",
		 transport_names[o->transport], offers_uring ? "uring," : "",
		 offers_pt ? "passthrough" : "", f->may_passthrough, f->is_block, o->direct,
		 o->debug, o->resize, o->read_only, f->cpus, f->kernel_queues, f->queues_asked);
	transport_decide(o, f, &p);
	if (!CHECK(!!p.refusal[0] == refuse, "%s: refused %d, want %d (%s)", what,
		   !!p.refusal[0], refuse, p.refusal) || refuse)
		return;
	CHECK(p.passthrough == pt, "%s: passthrough %d, want %d (%s)", what, p.passthrough, pt, p.why);
	CHECK((p.transport == TRANSPORT_URING) == uring, "%s: %s, want %s (%s)", what,
	      transport_names[p.transport], uring ? "uring" : "dev", p.why);
	CHECK(p.nqueues == want_queues, "%s: %u queues, want %u", what, p.nqueues, want_queues);
	/* The kernel writes BACKING itself with passthrough: a writable
	 * volume then grows with it, and truncate must agree. */
	CHECK(p.resizable == (o->resize || (o->transport == TRANSPORT_PASSTHROUGH && !o->read_only)),
	      "%s: resizable %d", what, p.resizable);
	CHECK(p.why[0] && (o->transport != TRANSPORT_AUTO || !strncmp(p.why, "auto", 4) ||
			   !pt), "%s: why '%s'", what, p.why);
}

static void check_transport_choice(void)
{
	static const uint64_t offers[] = { 0, FUSE_OVER_IO_URING, FUSE_PASSTHROUGH,
					   FUSE_OVER_IO_URING | FUSE_PASSTHROUGH };
	static const unsigned cpus[] = { 1, 2, 8, 16, 128 };
	struct transport_plan p;
	unsigned cases = 0;

	for (unsigned t = 0; t < 4; t++)
	for (unsigned off = 0; off < COUNT(offers); off++)
	for (unsigned bits = 0; bits < 64; bits++)
	for (unsigned c = 0; c < COUNT(cpus); c++)
	for (unsigned kq = 0; kq < 2; kq++)
	for (unsigned qa = 0; qa < 3; qa++) {
		struct options o = {
			.transport = t, .direct = bits & 1, .debug = bits >> 1 & 1,
			.resize = bits >> 2 & 1, .read_only = bits >> 3 & 1,
		};
		struct transport_facts f = {
			.offered = offers[off], .may_passthrough = bits >> 4 & 1,
			.is_block = bits >> 5 & 1, .cpus = cpus[c],
			.kernel_queues = kq ? cpus[c] : 0,
			.queues_asked = (unsigned[]){ 0, 1, 16 }[qa],
		};

		if (t == TRANSPORT_PASSTHROUGH && o.direct)
			continue;	/* refused by the command line */
		check_transport_case(&o, &f);
		cases++;
	}
	CHECK(cases > 10000, "the matrix ran %u cases", cases);

	/* The start line's words, as doc/design.md shows them. */
	struct options o = { .transport = TRANSPORT_AUTO };
	struct transport_facts f = { .offered = FUSE_PASSTHROUGH | FUSE_OVER_IO_URING,
				     .may_passthrough = true, .cpus = 2, .kernel_queues = 2 };

	transport_decide(&o, &f, &p);
	CHECK(!strcmp(p.why, "auto: fewer than 8 CPUs; passthrough would grow BACKING "
		      "past its end: -o resize allows it"), "fixed-size volume: %s", p.why);
	o.read_only = true;
	transport_decide(&o, &f, &p);
	CHECK(p.passthrough && strstr(p.why, "read-only"), "read-only volume: %d %s",
	      p.passthrough, p.why);
	o = (struct options){ .transport = TRANSPORT_PASSTHROUGH };
	transport_decide(&o, &f, &p);
	CHECK(p.resizable && strstr(p.why, "grows"), "transport=passthrough: %s", p.why);
	f.cpus = 16, f.kernel_queues = 16;
	o = (struct options){ .transport = TRANSPORT_AUTO, .direct = true };
	transport_decide(&o, &f, &p);
	CHECK(p.transport == TRANSPORT_URING && !strcmp(p.why, "auto: 16 CPUs; -o direct"),
	      "16 CPUs: %s", p.why);
}

/* --- locked memory ----------------------------------------------------------------- */

static void shape(struct server *srv, uint32_t page)
{
	*srv = (struct server){ .transport = TRANSPORT_DEV, .depth = 16, .nqueues = 2,
				.kernel_queues = 2, .page_size = page };
	srv->vol.max_write = 256 << 10;
}

/* BACKING is mapped for replies from its page cache only where mincore
 * answers truly: a regular file read through the cache, opened for
 * writing or owned by the daemon's user (mm/mincore.c, can_do_mincore). */
static void check_backing_mappable(void)
{
	static const struct {
		bool direct, is_block, read_only;
		uint32_t file_uid, uid;
		bool want;
		const char *what;
	} cases[] = {
		{ false, false, false, 0, 0, true, "root's file, read-write" },
		{ false, false, false, 1000, 0, true, "another's file, opened for writing" },
		{ false, false, true, 1000, 1000, true, "-o ro, our own file" },
		{ false, false, true, 0, 1000, false, "-o ro, root's file (mincore lies)" },
		{ false, false, true, 1000, 0, false, "-o ro as root, a user's file" },
		{ true, false, false, 0, 0, false, "-o direct: no page cache to ask" },
		{ false, true, false, 0, 0, false, "a block device" },
		{ false, true, true, 1000, 1000, false, "a block device, -o ro, ours" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(backing_mappable(cases[i].direct, cases[i].is_block, cases[i].read_only,
				       cases[i].file_uid, cases[i].uid) == cases[i].want,
		      "backing_mappable, %s: want %d", cases[i].what, cases[i].want);
}

static void check_memlock_fit(void)
{
	static const uint32_t pages[] = { 4096, 16384, 65536 };
	const uint64_t limit = 8 << 20;	/* an ordinary user's, on Debian */
	struct server srv;

	for (size_t pg = 0; pg < COUNT(pages); pg++) {
		uint64_t left = limit;
		unsigned served = 0, last_depth = ~0u;

		/* Four volumes of one user, each taking what the others left. */
		for (int v = 1; v <= 4; v++) {
			shape(&srv, pages[pg]);
			if (!queue_shape_fit(&srv, left))
				break;
			uint64_t used = queues_locked_bytes(&srv) + 64 * 1024 * (srv.nqueues + 1);

			served++;
			CHECK(used <= left, "page %u, volume %d: %lu bytes in %lu", pages[pg], v,
			      (unsigned long)used, (unsigned long)left);
			CHECK(srv.vol.max_write % pages[pg] == 0 && srv.vol.max_write >= 16384,
			      "page %u, volume %d: max_write %u", pages[pg], v, srv.vol.max_write);
			CHECK(srv.depth >= 1 && srv.depth <= last_depth,
			      "page %u, volume %d: depth %u after %u", pages[pg], v, srv.depth,
			      last_depth);
			/* Requests in flight matter more than their size: no
			 * depth is given up while max_write is above 64K. */
			CHECK(srv.depth == 16 || srv.vol.max_write <= 65536,
			      "page %u, volume %d: depth %u at max_write %u", pages[pg], v,
			      srv.depth, srv.vol.max_write);
			/* ... and max_write stays at 64K or more while some
			 * depth is left to give up. */
			CHECK(srv.vol.max_write >= 65536 || srv.depth == 1,
			      "page %u, volume %d: max_write %u at depth %u", pages[pg], v,
			      srv.vol.max_write, srv.depth);
			last_depth = srv.depth;
			left -= used;
		}
		CHECK(served >= 2 && served <= 3, "page %u: %u volumes fit in 8 MiB", pages[pg],
		      served);
	}
	shape(&srv, 4096);
	CHECK(queue_shape_fit(&srv, 64 << 20) && srv.depth == 16 && srv.vol.max_write == 256 << 10,
	      "what fits is not shrunk: depth %u max_write %u", srv.depth, srv.vol.max_write);
	shape(&srv, 4096);
	CHECK(!queue_shape_fit(&srv, 100 << 10), "64 KiB rings and a buffer do not fit 100 KiB");
	CHECK(srv.nqueues == 1 && srv.depth == 1 && srv.vol.max_write == 16384,
	      "the smallest shape: %u queues, depth %u, max_write %u", srv.nqueues, srv.depth,
	      srv.vol.max_write);
	shape(&srv, 4096);
	srv.transport = TRANSPORT_URING;
	while (queue_shape_shrink(&srv))
		;
	CHECK(srv.nqueues == 2, "uring keeps a queue per kernel queue: %u", srv.nqueues);
}

/* max_background (the INIT reply) is what the queues can be given: each
 * /dev/fuse slot, or the ring entries of the online CPUs' kernel queues. */
static void check_request_slots(void)
{
	/* online: the online CPUs as /sys lists them ("" not known) */
	static const struct {
		enum transport_choice transport;
		unsigned nqueues, kernel_queues;
		const char *online;
		unsigned depth, slots, entries;	/* entries: the queues' slots, together */
	} cases[] = {
		{ TRANSPORT_DEV, 2, 2, "0-1", 16, 32, 32 },
		{ TRANSPORT_DEV, 1, 2, "0-1", 4, 4, 4 },
		{ TRANSPORT_DEV, 4, 16, "0-15", 16, 64, 64 },	/* queues=4 on 16 CPUs */
		{ TRANSPORT_DEV, 1, 1, "0", 1, 1, 1 },
		{ TRANSPORT_DEV, 2, 64, "0-1", 16, 32, 32 },
		/* uring: + queue 0's two /dev/fuse slots */
		{ TRANSPORT_URING, 2, 2, "0-1", 16, 32, 34 },
		{ TRANSPORT_URING, 1, 2, "0-1", 3, 6, 8 },	/* one thread, two kernel queues */
		{ TRANSPORT_URING, 16, 16, "0-15", 16, 256, 258 },
		{ TRANSPORT_URING, 4, 16, "0-15\n", 8, 128, 130 },
		{ TRANSPORT_URING, 3, 64, "0-63", 1, 64, 66 },
		/* 64 possible CPUs, 2 online: one entry each for the other 62 */
		{ TRANSPORT_URING, 64, 64, "0-1", 16, 32, 2 + 32 + 62 },
		{ TRANSPORT_URING, 2, 64, "0,5\n", 16, 32, 2 + 32 + 62 },
		{ TRANSPORT_URING, 2, 2, "", 16, 32, 34 },	/* online CPUs not known */
		{ TRANSPORT_URING, 2, 2, "0-7", 16, 32, 34 },	/* no more than the kernel queues */
		{ TRANSPORT_URING, 2, 4, "1,3", 1, 2, 6 },	/* depth 1: offline ones count none */
		/* past the mask's 1024 CPUs, every queue is taken as fed */
		{ TRANSPORT_URING, 4, 1100, "0-1", 2, 4 + 2 * 76, 2 + 4 + 1022 + 2 * 76 },
	};
	struct server srv;

	for (size_t i = 0; i < COUNT(cases); i++) {
		shape(&srv, 4096);
		srv.transport = cases[i].transport;
		srv.nqueues = cases[i].nqueues;
		srv.kernel_queues = cases[i].kernel_queues;
		srv.depth = cases[i].depth;
		cpu_list_mask(cases[i].online, srv.cpus_online, COUNT(srv.cpus_online));
		unsigned got = queues_request_slots(&srv);
		/* what the arenas pin is what their slots hold */
		uint64_t entries = queues_locked_bytes(&srv) / (4096 + srv.vol.max_write);

		CHECK(got == cases[i].slots && entries == cases[i].entries,
		      "%s, %u queues for %u (online '%s'), depth %u: %u slots, want %u; "
		      "%lu entries, want %u",
		      cases[i].transport == TRANSPORT_URING ? "uring" : "dev", cases[i].nqueues,
		      cases[i].kernel_queues, cases[i].online, cases[i].depth, got,
		      cases[i].slots, (unsigned long)entries, cases[i].entries);
	}
}

/* --- the command line ----------------------------------------------------------------- */

static uint32_t parse_page_size = 4096;

/* Parse argv as the daemon would (its defaults, parse_page_size): the
 * usage status (0 when accepted), and in `out` the options it got as
 * text, or why it refused. */
static int parse(char *out, size_t cap, const char *argv0, ...)
{
	char *argv[16] = { (char *)argv0 };
	struct options got = { .name = "volume", .depth = 16, .max_write = 256 << 10 };
	int argc = 1, status;
	va_list ap;

	va_start(ap, argv0);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	out[0] = 0;
	status = options_parse(&got, argc, argv, parse_page_size, out, cap);
	if (status == 0)	/* the fields that matter, as text */
		snprintf(out, cap, "OK size=%lu depth=%u queues=%u max_write=%lu mode=%o ro=%d "
			 "fg=%d debug=%d transport=%u remount=%d fake=%d noexec=%d help=%d "
			 "backing=%s\n",
			 (unsigned long)got.size, got.depth, got.queues,
			 (unsigned long)got.max_write, got.mode, got.read_only, got.foreground,
			 got.debug, got.transport, got.remount, got.fake, got.noexec, got.help,
			 got.backing ? got.backing : "(none)");
	return status;
}

#define ACCEPT(want, ...) do {						\
	int st_ = parse(out, sizeof(out), "fuseuring", __VA_ARGS__, "b", "m", (char *)0); \
	CHECK(st_ == 0 && strstr(out, want), "%s: exit %d: %s", #__VA_ARGS__, st_, out); \
} while (0)
#define REFUSE(status, words, ...) do {					\
	int st_ = parse(out, sizeof(out), "fuseuring", __VA_ARGS__, (char *)0); \
	CHECK(st_ == (status) && strstr(out, words), "%s: exit %d, want %d with '%s': %s", \
	      #__VA_ARGS__, st_, status, words, out);			\
} while (0)

static void check_command_line(void)
{
	char out[2048];

	ACCEPT("size=1024 ", "-o", "size=1K");
	ACCEPT("size=16777216 ", "-o", "size=16m");
	ACCEPT("size=1099511627776 ", "-o", "size=1T");
	ACCEPT("max_write=20480 ", "-o", "max_write=20K");
	ACCEPT("mode=644 ", "-o", "mode=0644");
	ACCEPT("depth=1 queues=256 ", "-o", "depth=1,queues=256");
	ACCEPT("fg=1 debug=1", "-d");
	ACCEPT("transport=3", "-o", "passthrough");
	ACCEPT("ro=1", "-oro");
	ACCEPT("noexec=1", "-o", "noexec,nofail,x-systemd.automount,_netdev");
	REFUSE(2, "out of range", "-o", "size=0", "b", "m");
	REFUSE(2, "not a size", "-o", "size=99999999999999999999", "b", "m");
	REFUSE(2, "not a size", "-o", "size=16X", "b", "m");
	REFUSE(2, "needs a value", "-o", "size=", "b", "m");
	REFUSE(2, "needs a value", "-o", "depth=", "b", "m");
	REFUSE(2, "out of range", "-o", "depth=0", "b", "m");
	REFUSE(2, "out of range", "-o", "depth=1025", "b", "m");
	REFUSE(2, "out of range", "-o", "queues=257", "b", "m");
	REFUSE(2, "out of range", "-o", "max_write=12K", "b", "m");
	REFUSE(2, "out of range", "-o", "max_write=2M", "b", "m");
	REFUSE(2, "not a multiple of the page size", "-o", "max_write=18K", "b", "m");
	REFUSE(2, "octal", "-o", "mode=0999", "b", "m");
	REFUSE(2, "not a number", "-o", "uid=abc", "b", "m");
	REFUSE(2, "not a number", "-o", "depth=-1", "b", "m");
	REFUSE(2, "do not go together", "-o", "ro,size=1M", "b", "m");
	REFUSE(2, "do not go together", "-o", "passthrough,transport=dev", "b", "m");
	REFUSE(2, "do not go together", "-o", "passthrough,direct", "b", "m");
	REFUSE(2, "cannot contain '/'", "-o", "name=a/b", "b", "m");
	REFUSE(2, "not a usable file name", "-o", "name=..", "b", "m");
	REFUSE(2, "not one of the choices", "-o", "transport=bogus", "b", "m");
	REFUSE(2, "unknown option", "-o", "frob", "b", "m");
	REFUSE(2, "takes no value", "-o", "ro=1", "b", "m");
	REFUSE(2, "empty option in list", "-o", "ro,,rw", "b", "m");
	REFUSE(2, "needs an option list", "b", "m", "-o");
	REFUSE(2, "unexpected argument", "b", "m", "c");
	REFUSE(2, "missing MOUNTPOINT", "b");
	REFUSE(2, "empty path", "", "m");
	REFUSE(2, "unknown option", "-x", "b", "m");
	/* As mount(8)'s helper: its conventions and exit statuses. */
	int st = parse(out, sizeof(out), "/sbin/mount.fuseuring", "b", "m", "-f", "-o",
		       "rw", (char *)0);

	CHECK(st == 0 && strstr(out, "fake=1 ") && strstr(out, "fg=0"), "mount -f: %d %s", st, out);
	st = parse(out, sizeof(out), "mount.fuseuring", "b", "m", "-o", "frob", (char *)0);
	CHECK(st == 1 && strstr(out, "unknown option"), "mount(8)'s usage status 1: %d %s", st, out);
	st = parse(out, sizeof(out), "fuseuring", "b", "m", "-o",
		   "remount,ro,user_id=0,group_id=0,default_permissions", (char *)0);
	CHECK(st == 0 && strstr(out, "remount=1") && strstr(out, "ro=1"),
	      "a remount takes the mount table's options: %d %s", st, out);
	st = parse(out, sizeof(out), "fuseuring", "b", "m", "-o", "user_id=0", (char *)0);
	CHECK(st == 2, "the mount table's options only with remount: %d %s", st, out);
	st = parse(out, sizeof(out), "fuseuring", "-o", "ro", "--", "-b", "m", (char *)0);
	CHECK(st == 0, "-- ends the options: %d %s", st, out);
	st = parse(out, sizeof(out), "fuseuring", "--", "-oremount", "m", (char *)0);
	CHECK(st == 0 && strstr(out, "remount=0") && strstr(out, "backing=-oremount"),
	      "after --, -oremount is BACKING, not a remount: %d %s", st, out);
	/* -h stops there, as -V: what follows is not looked at */
	st = parse(out, sizeof(out), "fuseuring", "-h", "-o", "bogus", (char *)0);
	CHECK(st == 0 && strstr(out, "help=1"), "-h first: %d %s", st, out);
	REFUSE(2, "bogus: unknown option", "-o", "bogus", "-h");
	/* Paths in the wrong number: which argument was taken as what, and
	 * -o for one that reads as an option list. */
	REFUSE(2, "c: unexpected argument after BACKING b and MOUNTPOINT m", "b", "m", "c");
	REFUSE(2, "m: unexpected argument after BACKING size=1G and MOUNTPOINT b; "
	       "for options, write -o size=1G", "size=1G", "b", "m");
	REFUSE(2, "; for options, write -o ro,depth=4", "b", "ro,depth=4", "m");
	REFUSE(2, "; for options, write -o max_write=64K", "b", "m", "max_write=64K");
	REFUSE(2, "missing MOUNTPOINT after BACKING size=1G; for options, write -o size=1G",
	       "size=1G");
	REFUSE(2, "missing BACKING and MOUNTPOINT", "-o", "ro");
	REFUSE(1, "missing MOUNTPOINT after BACKING b", "-o", "remount", "b");
	/* A reason longer than its buffer is cut, not waited for (fmt_v once
	 * stopped reading the format when the buffer was full). */
	static char size[3000] = "size=";

	memset(size + 5, '9', sizeof(size) - 6);
	st = parse(out, sizeof(out), "fuseuring", "-o", size, "b", "m", (char *)0);
	CHECK(st == 2 && strlen(out) == sizeof(out) - 1, "a reason of 3000 bytes in %zu: %d %zu",
	      sizeof(out), st, strlen(out));
	st = parse(out, sizeof(out), "fuseuring", "b", "m", "data=x", (char *)0);
	CHECK(st == 2 && !strstr(out, "-o data") && !strchr(out, '\n'),
	      "no hint for what names no option, and one line: %s", out);
}

/* `prefix`, then 'a' up to `len` bytes. */
static const char *filled(char *buf, const char *prefix, size_t len)
{
	size_t n = strlen(prefix);

	memcpy(buf, prefix, n);
	memset(buf + n, 'a', len - n);
	buf[len] = 0;
	return buf;
}

/* -o opt b m: the status, and what the options or the reason hold. */
static void check_option(const char *opt, int status, const char *words)
{
	char out[2048];
	int st = parse(out, sizeof(out), "fuseuring", "-o", opt, "b", "m", (char *)0);

	CHECK(st == status && strstr(out, words) && (!status || strstr(out, opt)),
	      "-o %s: exit %d, want %d with '%s': %s", opt, st, status, words, out);
}

/* Every bound options.c checks: at it, one past it, far past it (a value
 * that wraps into range when cut to 32 or 64 bits, a length many times
 * over). */
static void check_option_bounds(void)
{
	static char list[4 * OPTION_LISTS_MAX], list2[OPTION_LISTS_MAX];
	char out[2048], name[600], opt[64];

	/* size: 1 to INT64_MAX, and its unit's shift within 64 bits */
	ACCEPT("size=1 ", "-o", "size=1");
	REFUSE(2, "out of range", "-o", "size=0", "b", "m");
	ACCEPT("size=9223372036854775807 ", "-o", "size=9223372036854775807");
	REFUSE(2, "out of range", "-o", "size=9223372036854775808", "b", "m");
	REFUSE(2, "out of range", "-o", "size=18446744073709551615", "b", "m");
	ACCEPT("size=9223370937343148032 ", "-o", "size=8388607T");
	REFUSE(2, "out of range", "-o", "size=8388608T", "b", "m");
	REFUSE(2, "size=16777215T: out of range", "-o", "size=16777215T", "b", "m");
	REFUSE(2, "size=16777216T: not a size", "-o", "size=16777216T", "b", "m");
	REFUSE(2, "size=16777217T: not a size", "-o", "size=16777217T", "b", "m");
	REFUSE(2, "size=18014398509481984K: not a size", "-o", "size=18014398509481984K",
	       "b", "m");
	REFUSE(2, "not a size", "-o", "size=18446744073709551617", "b", "m");
	/* the numbers: at the bounds, one past, and far past (a value that
	 * wraps to 1 cut to 32 or 64 bits) */
	static const struct { const char *name; unsigned long min, max; bool octal; } numbers[] = {
		{ "uid", 0, 0xfffffffe, false }, { "gid", 0, 0xfffffffe, false },
		{ "mode", 0, 07777, true }, { "depth", 1, 1024, false }, { "queues", 1, 256, false },
	};

	for (size_t i = 0; i < COUNT(numbers); i++) {
		const char *key = numbers[i].name, *f = numbers[i].octal ? "%s=%lo" : "%s=%lu";
		const char *not_a = numbers[i].octal ? "not an octal mode" : "not a number";
		unsigned long min = numbers[i].min, max = numbers[i].max;

		snprintf(opt, sizeof(opt), f, key, min);
		check_option(opt, 0, "OK");
		snprintf(opt, sizeof(opt), f, key, max);
		check_option(opt, 0, "OK");
		if (min) {
			snprintf(opt, sizeof(opt), f, key, min - 1);
			check_option(opt, 2, "out of range");
		}
		snprintf(opt, sizeof(opt), f, key, max + 1);
		check_option(opt, 2, "out of range");
		snprintf(opt, sizeof(opt), f, key, (1ul << 32) + 1);
		check_option(opt, 2, "out of range");
		snprintf(opt, sizeof(opt), "%s=%s", key, numbers[i].octal ?
			 "2000000000000000000001" : "18446744073709551617");	/* 2^64 + 1 */
		check_option(opt, 2, not_a);
	}
	/* max_write: 16K to 1M (a remount checks no page size: the bytes
	 * next to them), and a multiple of the page size */
	ACCEPT("max_write=16384 ", "-o", "max_write=16K");
	ACCEPT("max_write=1048576 ", "-o", "max_write=1M");
	REFUSE(2, "max_write=12K: out of range", "-o", "max_write=12K", "b", "m");
	REFUSE(2, "max_write=1028K: out of range", "-o", "max_write=1028K", "b", "m");
	REFUSE(1, "max_write=16383: out of range", "-o", "remount,max_write=16383", "b", "m");
	REFUSE(1, "max_write=1048577: out of range", "-o", "remount,max_write=1048577", "b",
	       "m");
	REFUSE(2, "max_write=1G: out of range", "-o", "max_write=1G", "b", "m");
	REFUSE(2, "max_write=16777217T: not a size", "-o", "max_write=16777217T", "b", "m");
	ACCEPT("max_write=20480 ", "-o", "max_write=20K");
	REFUSE(2, "max_write=20481: not a multiple of the page size (4096)", "-o",
	       "max_write=20481", "b", "m");
	parse_page_size = 65536;
	ACCEPT("max_write=65536 ", "-o", "max_write=64K");
	REFUSE(2, "max_write=69632: not a multiple of the page size (65536)", "-o",
	       "max_write=68K", "b", "m");
	REFUSE(2, "max_write=16384: not a multiple of the page size (65536)", "-o",
	       "max_write=16K", "b", "m");
	parse_page_size = 4096;
	/* the volume's name: 255 bytes */
	ACCEPT("OK", "-o", filled(name, "name=", 5 + 255));
	REFUSE(2, "name: longer than 255 bytes", "-o", filled(name, "name=", 5 + 256), "b", "m");
	REFUSE(2, "name: longer than 255 bytes", "-o", filled(name, "name=", 5 + 590), "b", "m");
	/* the option lists' copy: OPTION_LISTS_MAX bytes, their NULs included,
	 * for one list or for all of them together */
	ACCEPT("OK", "-o", filled(list, "x-", OPTION_LISTS_MAX - 1));
	REFUSE(2, "-o: the option lists are longer than 16384 bytes", "-o",
	       filled(list, "x-", OPTION_LISTS_MAX), "b", "m");
	REFUSE(2, "-o: the option lists are longer than 16384 bytes", "-o",
	       filled(list, "x-", sizeof(list) - 1), "b", "m");
	filled(list2, "x-", OPTION_LISTS_MAX / 2 - 1);
	ACCEPT("OK", "-o", filled(list, "x-", OPTION_LISTS_MAX / 2 - 1), "-o", list2);
	REFUSE(2, "-o: the option lists are longer than 16384 bytes", "-o",
	       filled(list, "x-", OPTION_LISTS_MAX / 2), "-o", list2, "b", "m");
}

int main(void)
{
	alarm(30);	/* a hang is a failure too */
	check_formatter();
	check_mountinfo_parse();
	check_mount_lookup();
	check_mount_tag_lookup();
	check_path_lies_under();
	check_lock_lines();
	check_long_lines();
	check_absolute_path();
	check_remount_flags();
	check_cpu_list();
	check_transport_choice();
	check_backing_mappable();
	check_memlock_fit();
	check_request_slots();
	check_command_line();
	check_option_bounds();
	printf("check_lifecycle: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
