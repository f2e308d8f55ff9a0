/* SPDX-License-Identifier: MIT */
/* mountinfo.c - what is mounted where: the lines of /proc/self/mountinfo,
 * our mount found among them by its ID, and the loop devices whose files
 * lie on a mount (they keep a dead mount busy).
 */
#include "lifecycle.h"

/* --- decisions: the lines ---------------------------------------------------------- */

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++)
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	*out = 0;
}

/* Split off the next space-separated field of *s. */
static char *field(char **s)
{
	char *f = *s, *sp = (char *)find_str(f, " ");

	*s = sp ? (*sp = 0, sp + 1) : f + str_len(f);
	return f;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw":
 * ID, parent ID, device, root, mount point, options, optional fields up
 * to " - ", then type, source, superblock options (proc(5)). */
bool mountinfo_parse(char *line, struct mount_entry *e)
{
	uint64_t id, parent, major, minor;
	char *at = (char *)parse_uint(line, 10, &id);

	if (!at || *at++ != ' ' || !(at = (char *)parse_uint(at, 10, &parent)) ||
	    *at++ != ' ' || !(at = (char *)parse_uint(at, 10, &major)) || *at++ != ':' ||
	    !(at = (char *)parse_uint(at, 10, &minor)) || *at++ != ' ')
		return false;
	char *root = field(&at), *path = field(&at);

	if (!(at = (char *)find_str(at, " - ")))
		return false;
	at += 3;
	char *type = field(&at), *source = field(&at);

	unescape(root);
	unescape(path);
	unescape(source);
	*e = (struct mount_entry){
		.mount = { (unsigned long)id, (uint32_t)major, (uint32_t)minor },
		.parent = (unsigned long)parent,
		.root = root, .path = path, .type = type, .source = source };
	return true;
}

bool mount_lookup_line(void *lookup, char *line)
{
	struct mount_lookup *lk = lookup;
	struct mount_entry e;

	if (!mountinfo_parse(line, &e))
		return false;
	if (same_mount(e.mount, lk->want)) {
		lk->found = true;
		fmt(lk->path, sizeof(lk->path), "%s", e.path);
		fmt(lk->type, sizeof(lk->type), "%s", e.type);
		fmt(lk->source, sizeof(lk->source), "%s", e.source);
	}
	return lk->found;
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

bool mount_find(struct mount_lookup *lk, struct mount_ident m)
{
	*lk = (struct mount_lookup){ .want = m };
	each_line("/proc/self/mountinfo", mount_lookup_line, lk);
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
	size_t n = str_len(q->path);

	if (!str_after(name, "loop"))
		return false;
	fmt(file, sizeof(file), "/sys/block/%s/loop/backing_file", name);
	long len = read_small(file, back, sizeof(back));

	if (len > 0 && back[len - 1] == '\n')
		back[len - 1] = 0;
	if (len > 0 && memcmp(back, q->path, n) == 0 && (!back[n] || back[n] == '/'))
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

