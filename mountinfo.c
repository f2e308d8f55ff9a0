/* SPDX-License-Identifier: MIT */
/* mountinfo.c - what is mounted where: the lines of /proc/self/mountinfo,
 * our mount found among them by its ID, and the loop devices whose files
 * lie on a mount (they keep a dead mount busy).
 */
#include "lifecycle.h"

/* --- decisions: the lines ---------------------------------------------------------- */

bool path_lies_under(const char *file, const char *dir)
{
	size_t n = str_len(dir);

	if (!n)
		return false;
	while (n > 1 && dir[n - 1] == '/')
		n--;		/* "/mnt/" is "/mnt"; "/" stays */
	for (size_t i = 0; i < n; i++)
		if (file[i] != dir[i])
			return false;	/* also where file ends first */
	return !file[n] || file[n] == '/' || dir[n - 1] == '/';
}

/* Undo the octal escapes the kernel writes for a space, a tab, a newline, a
 * backslash and '#' ("\040"): a backslash and three octal digits, the first
 * 0-3 (a byte).  "\000" stays as it is (no path holds a NUL, and undoing it
 * would cut the field short), and so does a backslash before anything else. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++)
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7' && (s[1] != '0' || s[2] != '0' || s[3] != '0')) {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	*out = 0;
}

/* Split off the field of *s that a space ends; NULL if none does. */
static char *field(char **s)
{
	char *f = *s, *sp = (char *)find_str(f, " ");

	if (!sp)
		return NULL;
	*sp = 0;
	*s = sp + 1;
	return f;
}

/* A decimal number of *s up to `max`, which `end` follows. */
static bool number(char **s, char end, uint64_t max, uint64_t *v)
{
	const char *after = parse_uint(*s, 10, v);

	if (!after || *after != end || *v > max)
		return false;
	*s = (char *)after + 1;
	return true;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw":
 * ID, parent ID, device, root, mount point, options, optional fields up
 * to " - ", then type, source, superblock options (proc(5); the kernel's
 * show_mountinfo).  lifecycle.h says what is accepted. */
bool mountinfo_parse(char *line, struct mount_entry *e)
{
	uint64_t id, parent, major, minor;
	char *at = line, *root, *path, *type, *source;

	if (!number(&at, ' ', (unsigned long)-1, &id) ||
	    !number(&at, ' ', (unsigned long)-1, &parent) ||
	    !number(&at, ':', UINT32_MAX, &major) || !number(&at, ' ', UINT32_MAX, &minor) ||
	    !(root = field(&at)) || !(path = field(&at)) ||
	    !(at = (char *)find_str(at, " - ")))
		return false;
	at += 3;
	if (!(type = field(&at)) || !(source = field(&at)))
		return false;
	unescape(root);
	unescape(path);
	unescape(type);
	unescape(source);
	*e = (struct mount_entry){
		.mount = { (unsigned long)id, (uint32_t)major, (uint32_t)minor },
		.parent = (unsigned long)parent, .root = root, .path = path,
		.type = type, .source = source, .options = at };
	return true;
}

/* Is `item` ("user_id=0") an item of the comma-separated list? */
static bool options_item(const char *options, const char *item)
{
	for (const char *o = options; *o; o++) {
		const char *after = (o == options || o[-1] == ',') ? str_after(o, item) : NULL;

		if (after && (!*after || *after == ','))
			return true;
	}
	return false;
}

uint32_t options_tag(const char *options)
{
	uint64_t tag;

	for (const char *o = options; *o; o++) {
		const char *value = (o == options || o[-1] == ',') ?
				    str_after(o, "max_read=") : NULL;
		const char *end = value ? parse_uint(value, 10, &tag) : NULL;

		if (end && (!*end || *end == ',') && tag <= UINT32_MAX)
			return (uint32_t)tag;
	}
	return 0;
}

/* The line describes what the lookup wants. */
static bool wanted(const struct mount_lookup *lk, const struct mount_entry *e)
{
	if (lk->want.id && !lk->want.dev_major && !lk->want.dev_minor)
		return e->mount.id == lk->want.id;	/* on any device */
	if (lk->want.id)
		return same_mount(e->mount, lk->want);
	if (lk->want.dev_major || lk->want.dev_minor) {
		if (e->mount.dev_major != lk->want.dev_major ||
		    e->mount.dev_minor != lk->want.dev_minor)
			return false;
	}
	return lk->tag && options_tag(e->options) == lk->tag &&
	       str_eq(e->type, "fuse.fuseuring") &&
	       (!lk->parent || e->parent == lk->parent) &&
	       (!lk->owner || options_item(e->options, lk->owner));
}

bool mount_lookup_line(void *lookup, char *line)
{
	struct mount_lookup *lk = lookup;
	struct mount_entry e;

	if (!mountinfo_parse(line, &e) || !wanted(lk, &e))
		return false;
	/* A mount by ID is one; by tag, all are counted (ours is unique). */
	if (lk->matches++)
		return false;
	lk->found = true;
	lk->mount = e.mount;
	lk->mount_parent = e.parent;
	lk->mount_tag = options_tag(e.options);
	fmt(lk->path, sizeof(lk->path), "%s", e.path);
	fmt(lk->type, sizeof(lk->type), "%s", e.type);
	fmt(lk->source, sizeof(lk->source), "%s", e.source);
	return lk->want.id != 0;
}

/* --- the system, read ------------------------------------------------------------- */

/* No FUSE request, which a mount before INIT or whose server died would
 * not answer: statx asks for no attributes (fuse_getattr then sends none,
 * and lets anyone have that, root for a user's mount too); the mount ID
 * and the device come anyway. */
int mount_of(int dirfd, const char *path, struct mount_ident *m)
{
	struct statx st;
	int r = sys_statx(dirfd, path, (*path ? 0 : AT_EMPTY_PATH) | AT_STATX_DONT_SYNC,
			  0, &st);

	if (r == 0 && !(st.stx_mask & STATX_MNT_ID))
		r = -ENOSYS;	/* before Linux 5.8 */
	*m = r == 0 ? (struct mount_ident){ (unsigned long)st.stx_mnt_id, st.stx_dev_major,
					    st.stx_dev_minor } : (struct mount_ident){ 0 };
	return r;
}

int mount_find(struct mount_lookup *lk)
{
	lk->found = false;
	lk->matches = 0;
	if (!each_line("/proc/self/mountinfo", mount_lookup_line, lk) && !lk->found)
		return -EIO;
	return lk->found;
}

/* Loop devices whose backing file is `path` or lies under it. */
struct loop_query {
	const char *path;
	char *list;
	size_t cap, len;
	unsigned count;
};

static bool loop_entry(void *ctx, const char *name)
{
	struct loop_query *q = ctx;
	char file[256], back[4096];

	if (!str_after(name, "loop"))
		return false;
	fmt(file, sizeof(file), "/sys/block/%s/loop/backing_file", name);
	long len = read_small(file, back, sizeof(back));

	if (len > 0 && back[len - 1] == '\n')
		back[len - 1] = 0;
	if (len > 0 && path_lies_under(back, q->path))
		q->len += fmt(q->list + q->len, q->cap - q->len, "%s/dev/%s",
			      q->count++ ? " " : "", name);
	return false;
}

unsigned loops_under(const char *path, char *list, size_t cap)
{
	struct loop_query q = { .path = path, .list = list, .cap = cap };

	list[0] = 0;
	each_entry("/sys/block", loop_entry, &q);
	return q.count;
}

/* Filesystems mounted from one loop device: known by its device number
 * (mountinfo's third column) or by its name as the source. */
struct loop_mounts_query {
	const char *name;	/* "/dev/loop0" */
	struct mount_ident dev;	/* its major and minor */
	char *what, *where;
	size_t what_cap, where_cap, what_len, where_len;
	unsigned count;
};

static bool loop_mount_line(void *ctx, char *line)
{
	struct loop_mounts_query *q = ctx;
	struct mount_entry e;

	if (!mountinfo_parse(line, &e) || (!str_eq(e.source, q->name) &&
	    (e.mount.dev_major != q->dev.dev_major || e.mount.dev_minor != q->dev.dev_minor)))
		return false;
	q->what_len += fmt(q->what + q->what_len, q->what_cap - q->what_len,
			   "%s%s on %s is mounted at %s", q->count ? ", " : "", e.type,
			   q->name, e.path);
	q->where_len += fmt(q->where + q->where_len, q->where_cap - q->where_len,
			    "%s%s", q->count++ ? " " : "", e.path);
	return false;
}

unsigned mounts_on_loops(const char *loops, char *what, size_t what_cap,
			 char *where, size_t where_cap)
{
	struct loop_mounts_query q = { .what = what, .what_cap = what_cap,
				       .where = where, .where_cap = where_cap };
	char name[64], file[96], dev[32];

	what[0] = where[0] = 0;
	for (const char *p = loops; *p;) {
		size_t n = 0;
		uint64_t major, minor;
		const char *at;

		while (p[n] && p[n] != ' ')
			n++;
		if (n >= sizeof(name))
			break;
		memcpy(name, p, n);
		name[n] = 0;
		p += n + (p[n] == ' ');
		fmt(file, sizeof(file), "/sys/block/%s/dev", name + sizeof("/dev/") - 1);
		if (!str_after(name, "/dev/loop") || read_small(file, dev, sizeof(dev)) <= 0 ||
		    !(at = parse_uint(dev, 10, &major)) || *at != ':' ||
		    !parse_uint(at + 1, 10, &minor))
			continue;
		q.name = name;
		q.dev = (struct mount_ident){ 0, (uint32_t)major, (uint32_t)minor };
		each_line("/proc/self/mountinfo", loop_mount_line, &q);
	}
	return q.count;
}

struct served_query {
	const char *backing;
	struct loop_query loops;
};

static bool served_line(void *ctx, char *line)
{
	struct served_query *q = ctx;
	struct mount_entry e;

	if (mountinfo_parse(line, &e) && str_eq(e.type, "fuse.fuseuring") &&
	    str_eq(e.source, q->backing)) {
		q->loops.path = e.path;
		each_entry("/sys/block", loop_entry, &q->loops);
	}
	return false;
}

unsigned loops_on_volumes_of(const char *backing, char *list, size_t cap)
{
	struct served_query q = { .backing = backing,
				  .loops = { .list = list, .cap = cap } };

	list[0] = 0;
	each_line("/proc/self/mountinfo", served_line, &q);
	return q.loops.count;
}

