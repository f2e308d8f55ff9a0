/* fuzz_mountinfo - one line of /proc/self/mountinfo: mountinfo_parse,
 * options_tag and mount_lookup_line (mountinfo.c), against lines printed
 * here as the kernel prints them, and against a recogniser of the grammar
 * lifecycle.h states (tests/fuzz.h).
 *
 * Each input is checked twice:
 *   - its bytes as the line's text: accepted exactly when the recogniser
 *     written here says the text matches the grammar, and then split into
 *     the same fields; options_tag of the text is the number of its first
 *     comma-separated item "max_read=DIGITS" below 2^32, else 0; every
 *     lookup finds the line exactly when it was accepted and is what the
 *     lookup wants (below); nothing is read past the line's end (each copy
 *     of it an allocation of its own size, AddressSanitizer);
 *   - its bytes as the fields of a mount (the layout below), printed as
 *     fs/proc_namespace.c (show_mountinfo) prints them, with the octal
 *     escapes of seq_escape ("\040") for a space, a tab, a newline and a
 *     backslash, and '#' too in the type and the source (mangle): the
 *     line parses back to exactly those fields, the superblock options to
 *     exactly the text written, the tag to exactly the max_read= written
 *     (0 when there is none, or it is not decimal digits below 2^32), and
 *     each lookup finds exactly what was built.
 * The lookups: by ID and device; by ID on any device (0:0); by ID and
 * another device, or another ID, which find nothing; by tag on any parent,
 * on the mount's parent, on another parent (nothing), and by another tag
 * (nothing); with nothing wanted (nothing).  A tag lookup finds only a
 * fuse.fuseuring mount.  What a lookup found is the mount's ID, device,
 * parent and tag, its path, type and source (cut to the lookup's buffers).
 *
 * The fields' layout, little endian; bytes past the input's end read as 0:
 *   1 byte   bit 0: a read-only mount, bit 1: a read-only superblock,
 *            bit 2: the IDs take 8 bytes each (else 4), bits 3-6: the
 *            optional fields shared:N, master:N, propagate_from:N and
 *            unbindable
 *   1 byte   the mount's options: nosuid nodev noexec noatime nodiratime
 *            relatime nosymfollow idmapped (bits 0-7)
 *   4 or 8   ID; 4 or 8: the parent's ID; 4: major; 4: minor
 *   4 x 3    the optional fields' numbers (shared, master, propagate_from)
 *   string   the root; string: the mount point
 *   1 byte   the type: 0-3 fuse.fuseuring, 4 fuse.sshfs, 5 ext4, 6 tmpfs,
 *            7 a string (the value mod 8)
 *   string   the source
 *   1 byte   bits 0-2: sync, dirsync, mand; bits 3-5: how many options of
 *            its own the filesystem adds (strings; ',' and a newline
 *            become '.', and one starting "max_read=" gets a capital M)
 *   1 byte   the tag: bits 0-2 its form: none, max_read=N, max_read=00N,
 *            max_read=, max_read=-N, max_read=Nk, xmax_read=N, " max_read=N";
 *            bits 3-5: after how many of those options it comes
 *   8 bytes  N, shifted right by the next byte's low 6 bits
 * A string: a byte L; below 0xf0, L bytes follow; else a length (2 bytes,
 * mod 4096: a path of up to PATH_MAX - 1 bytes), then a pattern of
 * (L & 15) + 1 bytes, repeated to that length.  A NUL byte in a string
 * stands for a backslash (no path holds a NUL).
 */
#include "fuzz.h"
#include "../lifecycle.h"

/* One mount, as built or as the recogniser read it. */
struct mount_record {
	unsigned long id, parent;
	uint32_t major, minor;
	char *root, *path, *type, *source;
	const char *options;
	uint32_t tag;		/* what options_tag should make of options */
};

/* --- the grammar, read here ---------------------------------------------------- */

/* The tag by the rule of lifecycle.h: the items of the list, one by one. */
static uint32_t reference_tag(const char *options)
{
	const size_t prefix = strlen("max_read=");

	for (const char *item = options;; item++) {
		size_t len = strcspn(item, ",");
		unsigned long long v = 0;
		bool fits = len > prefix && !strncmp(item, "max_read=", prefix) &&
			    strspn(item + prefix, "0123456789") == len - prefix;

		for (size_t i = prefix; i < len && fits; i++)
			fits = !__builtin_mul_overflow(v, 10, &v) &&
			       !__builtin_add_overflow(v, (unsigned)(item[i] - '0'), &v);
		if (fits && v <= UINT32_MAX)
			return (uint32_t)v;
		item += len;
		if (!*item)
			return 0;
	}
}

/* Decimal digits of a number up to `max`, then the byte `end`. */
static bool reference_number(const char **s, char end, unsigned long long max,
			     unsigned long long *v)
{
	size_t n = strspn(*s, "0123456789");
	unsigned long long x = 0;

	if (!n || (*s)[n] != end)
		return false;
	for (size_t i = 0; i < n; i++)
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (unsigned)((*s)[i] - '0'), &x))
			return false;
	if (x > max)
		return false;
	*v = x;
	*s += n + 1;
	return true;
}

/* The field of *s up to the next space, its escapes undone, in an
 * allocation of its own; NULL where no space ends it. */
static char *reference_field(const char **s)
{
	const char *sp = strchr(*s, ' ');
	size_t n, out = 0;
	char *f;

	if (!sp)
		return NULL;
	n = (size_t)(sp - *s);
	f = malloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		char oct[4] = { 0 };
		unsigned long byte = 0;

		if ((*s)[i] == '\\' && i + 3 < n) {
			memcpy(oct, *s + i + 1, 3);
			if (strspn(oct, "01234567") == 3)
				byte = strtoul(oct, NULL, 8);
		}
		if (byte >= 1 && byte <= 255) {
			f[out++] = (char)byte;
			i += 3;
		} else {
			f[out++] = (*s)[i];
		}
	}
	f[out] = 0;
	*s = sp + 1;
	return f;
}

static void free_record(struct mount_record *m)
{
	free(m->root);
	free(m->path);
	free(m->type);
	free(m->source);
}

/* The line by the grammar of lifecycle.h (mount_entry). */
static bool reference_parse(const char *line, struct mount_record *m)
{
	unsigned long long id, parent, major, minor;
	const char *at = line, *separator;

	memset(m, 0, sizeof(*m));
	if (!reference_number(&at, ' ', (unsigned long)-1, &id) ||
	    !reference_number(&at, ' ', (unsigned long)-1, &parent) ||
	    !reference_number(&at, ':', UINT32_MAX, &major) ||
	    !reference_number(&at, ' ', UINT32_MAX, &minor) ||
	    !(m->root = reference_field(&at)) || !(m->path = reference_field(&at)) ||
	    !(separator = strstr(at, " - "))) {
		free_record(m);
		return false;
	}
	at = separator + 3;
	if (!(m->type = reference_field(&at)) || !(m->source = reference_field(&at))) {
		free_record(m);
		return false;
	}
	m->id = (unsigned long)id;
	m->parent = (unsigned long)parent;
	m->major = (uint32_t)major;
	m->minor = (uint32_t)minor;
	m->options = at;
	m->tag = reference_tag(at);
	return true;
}

/* --- what the program makes of a line ------------------------------------------- */

static void check_parse(const char *line, const struct mount_record *m)
{
	char *copy = strdup(line);	/* exactly its size: nothing read past it */
	struct mount_entry e;
	bool accepted = mountinfo_parse(copy, &e);

	FUZZ_CHECK(accepted == (m != NULL), "'%s': %s, want %s", line,
		   accepted ? "accepted" : "refused", m ? "accepted" : "refused");
	if (accepted) {
		FUZZ_CHECK(e.mount.id == m->id && e.parent == m->parent,
			   "'%s': IDs %lu %lu, want %lu %lu", line, e.mount.id, e.parent, m->id,
			   m->parent);
		FUZZ_CHECK(e.mount.dev_major == m->major && e.mount.dev_minor == m->minor,
			   "'%s': device %u:%u, want %u:%u", line, e.mount.dev_major,
			   e.mount.dev_minor, m->major, m->minor);
		FUZZ_CHECK(!strcmp(e.root, m->root), "'%s': root '%s', want '%s'", line, e.root,
			   m->root);
		FUZZ_CHECK(!strcmp(e.path, m->path), "'%s': path '%s', want '%s'", line, e.path,
			   m->path);
		FUZZ_CHECK(!strcmp(e.type, m->type), "'%s': type '%s', want '%s'", line, e.type,
			   m->type);
		FUZZ_CHECK(!strcmp(e.source, m->source), "'%s': source '%s', want '%s'", line,
			   e.source, m->source);
		FUZZ_CHECK(!strcmp(e.options, m->options), "'%s': options '%s', want '%s'", line,
			   e.options, m->options);
		FUZZ_CHECK(options_tag(e.options) == m->tag, "'%s': tag %u, want %u", line,
			   options_tag(e.options), m->tag);
	}
	free(copy);
}

/* The first cap - 1 bytes of s, as a buffer of cap bytes holds it. */
static bool same_cut(const char *got, const char *want, size_t cap)
{
	size_t n = strlen(want) < cap - 1 ? strlen(want) : cap - 1;

	return strlen(got) == n && !memcmp(got, want, n);
}

/* One lookup over a copy of the line, as each_line hands it over. */
static void check_lookup(const char *line, struct mount_lookup lk, const char *what,
			 const struct mount_record *m, bool want_found)
{
	char *copy = strdup(line);
	bool stop = mount_lookup_line(&lk, copy), found = lk.found;

	/* A lookup by ID stops at the mount; by tag, it counts them all. */
	FUZZ_CHECK(stop == (found && lk.want.id), "'%s': %s: returned %d, found %d", line,
		   what, stop, found);
	FUZZ_CHECK(found == want_found && lk.matches == want_found,
		   "'%s': %s: found %d (%u matches), want %d", line, what, found, lk.matches,
		   want_found);
	if (found) {
		FUZZ_CHECK(lk.mount.id == m->id && lk.mount.dev_major == m->major &&
			   lk.mount.dev_minor == m->minor && lk.mount_parent == m->parent &&
			   lk.mount_tag == m->tag, "'%s': %s: found %lu %u:%u on %lu tag %u", line,
			   what, lk.mount.id, lk.mount.dev_major, lk.mount.dev_minor,
			   lk.mount_parent, lk.mount_tag);
		FUZZ_CHECK(same_cut(lk.path, m->path, sizeof(lk.path)) &&
			   same_cut(lk.type, m->type, sizeof(lk.type)) &&
			   same_cut(lk.source, m->source, sizeof(lk.source)),
			   "'%s': %s: found '%s' '%s' '%s'", line, what, lk.path, lk.type,
			   lk.source);
	}
	free(copy);
}

/* Is item one of the comma-separated options, whole? */
static bool has_item(const char *options, const char *item)
{
	char *copy = strdup(options ? options : ""), *save = NULL;
	bool has = false;

	for (char *o = strtok_r(copy, ",", &save); o && !has; o = strtok_r(NULL, ",", &save))
		has = !strcmp(o, item);
	free(copy);
	return has;
}

/* Every lookup, for the mount m (NULL: a refused line, which no lookup
 * may find; `id` and `tag` then say what they look for). */
static void check_lookups(const char *line, const struct mount_record *m, unsigned long id,
			  uint32_t tag)
{
	static const struct mount_record none;
	const struct mount_record *r = m ? m : &none;
	bool ours = m && !strcmp(m->type, "fuse.fuseuring");
	unsigned long other_parent = r->parent ^ 1;
	uint32_t other_minor = r->minor ^ 1;

	if (m) {
		id = m->id;
		tag = m->tag;
	}
	/* An ID of 0 wants a tag, and a device of 0:0 is any device. */
	check_lookup(line, (struct mount_lookup){ .want = { id, r->major, r->minor } },
		     "by ID and device", m, m && id);
	check_lookup(line, (struct mount_lookup){ .want = { id, 0, 0 } },
		     "by ID on any device", m, m && id);
	check_lookup(line, (struct mount_lookup){ .want = { id, r->major, other_minor } },
		     "by ID and another device", m, m && id && !r->major && !other_minor);
	check_lookup(line, (struct mount_lookup){ .want = { id ^ 1, r->major, r->minor } },
		     "by another ID", m, false);
	check_lookup(line, (struct mount_lookup){ .tag = tag }, "by tag", m, ours && tag);
	check_lookup(line, (struct mount_lookup){ .tag = tag, .parent = r->parent },
		     "by tag on its parent", m, ours && tag);
	check_lookup(line, (struct mount_lookup){ .tag = tag, .parent = other_parent },
		     "by tag on another parent", m, ours && tag && !other_parent);
	check_lookup(line, (struct mount_lookup){ .tag = tag ^ 1 }, "by another tag", m, false);
	check_lookup(line, (struct mount_lookup){ .want = { 0, r->major, r->minor }, .tag = tag },
		     "by tag and device", m, ours && tag);
	check_lookup(line, (struct mount_lookup){ .want = { 0, r->major, other_minor },
						  .tag = tag },
		     "by tag and another device", m, ours && tag && !r->major && !other_minor);
	check_lookup(line, (struct mount_lookup){ .tag = tag, .owner = "user_id=0" },
		     "by tag and user_id=0", m, ours && tag && has_item(r->options, "user_id=0"));
	check_lookup(line, (struct mount_lookup){ .tag = tag, .owner = "user_id=1000" },
		     "by tag and user_id=1000", m,
		     ours && tag && has_item(r->options, "user_id=1000"));
	check_lookup(line, (struct mount_lookup){ .found = false }, "nothing wanted", m, false);
}

/* --- the input as the line's text ----------------------------------------------- */

static void check_text(const char *text)
{
	struct mount_record m;
	bool valid = reference_parse(text, &m);

	FUZZ_CHECK(options_tag(text) == reference_tag(text), "options_tag('%s'): %u, want %u",
		   text, options_tag(text), reference_tag(text));
	check_parse(text, valid ? &m : NULL);
	check_lookups(text, valid ? &m : NULL, strtoul(text, NULL, 10), reference_tag(text));
	if (valid)
		free_record(&m);
}

/* --- the input as a mount's fields ---------------------------------------------- */

static char *take_string(struct fuzz_reader *r)
{
	unsigned lead = (unsigned)fuzz_take(r, 1), len = lead;
	char pattern[16], *s;

	if (lead >= 0xf0) {
		len = (unsigned)fuzz_take(r, 2) % 4096;
		for (unsigned i = 0; i < (lead & 15) + 1; i++)
			pattern[i] = (char)fuzz_take(r, 1);
	}
	s = malloc(len + 1);
	for (unsigned i = 0; i < len; i++) {
		s[i] = lead >= 0xf0 ? pattern[i % ((lead & 15) + 1)] : (char)fuzz_take(r, 1);
		if (!s[i])
			s[i] = '\\';
	}
	s[len] = 0;
	return s;
}

/* s as the kernel prints it (seq_escape, ESCAPE_OCTAL): each byte of
 * `special` as a backslash and three octal digits. */
static void print_escaped(FILE *f, const char *s, const char *special)
{
	for (; *s; s++)
		if (strchr(special, *s))
			fprintf(f, "\\%03o", (unsigned char)*s);
		else
			fputc(*s, f);
}

#define PATH_SPECIAL	" \t\n\\"	/* seq_path_root, seq_dentry */
#define NAME_SPECIAL	" \t\n\\#"	/* mangle(): the type and the source */

/* The superblock's options, as show_mountinfo and a filesystem's
 * show_options print them; the tag they carry into m->tag. */
static char *print_options(struct fuzz_reader *r, bool read_only, struct mount_record *m)
{
	static const char *const flags[] = { ",sync", ",dirsync", ",mand" };
	unsigned shape = (unsigned)fuzz_take(r, 1), tag = (unsigned)fuzz_take(r, 1);
	unsigned own = shape >> 3 & 7, form = tag & 7, at = tag >> 3 & 7;
	uint64_t n = fuzz_take(r, 8);
	char *text;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	n >>= fuzz_take(r, 1) & 63;
	fputs(read_only ? "ro" : "rw", f);
	for (unsigned i = 0; i < 3; i++)
		if (shape >> i & 1)
			fputs(flags[i], f);
	for (unsigned i = 0; i <= own; i++) {
		if (i == at || (i == own && at > own)) {
			static const char *const forms[] = {
				"", ",max_read=%llu", ",max_read=00%llu", ",max_read=",
				",max_read=-%llu", ",max_read=%lluk", ",xmax_read=%llu",
				", max_read=%llu",
			};
			fprintf(f, forms[form], (unsigned long long)n);
		}
		if (i == own)
			break;
		char *word = take_string(r);

		for (char *c = word; *c; c++)
			if (*c == ',' || *c == '\n')
				*c = '.';	/* the kernel escapes them in a value */
		if (!strncmp(word, "max_read=", strlen("max_read=")))
			word[0] = 'M';
		fprintf(f, ",%s", word);
		free(word);
	}
	fclose(f);
	m->tag = (form == 1 || form == 2) && n <= UINT32_MAX ? (uint32_t)n : 0;
	return text;
}

static void check_fields(const uint8_t *input, size_t size)
{
	static const char *const mount_flags[] = {
		",nosuid", ",nodev", ",noexec", ",noatime", ",nodiratime", ",relatime",
		",nosymfollow", ",idmapped",
	};
	static const char *const types[] = { "fuse.sshfs", "ext4", "tmpfs" };
	struct fuzz_reader r = { input, size };
	struct mount_record m;
	unsigned shape = (unsigned)fuzz_take(&r, 1), options = (unsigned)fuzz_take(&r, 1);
	unsigned id_bytes = shape & 4 ? 8 : 4, type;
	uint32_t shared, master, propagate_from;
	char *line, *sb_options;
	size_t len;
	FILE *f = open_memstream(&line, &len);

	m.id = (unsigned long)fuzz_take(&r, id_bytes);
	m.parent = (unsigned long)fuzz_take(&r, id_bytes);
	m.major = (uint32_t)fuzz_take(&r, 4);
	m.minor = (uint32_t)fuzz_take(&r, 4);
	shared = (uint32_t)fuzz_take(&r, 4);
	master = (uint32_t)fuzz_take(&r, 4);
	propagate_from = (uint32_t)fuzz_take(&r, 4);
	m.root = take_string(&r);
	m.path = take_string(&r);
	type = (unsigned)fuzz_take(&r, 1) % 8;
	m.type = type < 4 ? strdup("fuse.fuseuring") :
		 type < 7 ? strdup(types[type - 4]) : take_string(&r);
	m.source = take_string(&r);
	sb_options = print_options(&r, shape & 2, &m);

	/* show_mountinfo */
	fprintf(f, "%lu %lu %u:%u ", m.id, m.parent, m.major, m.minor);
	print_escaped(f, m.root, PATH_SPECIAL);
	fputc(' ', f);
	print_escaped(f, m.path, PATH_SPECIAL);
	fputs(shape & 1 ? " ro" : " rw", f);
	for (unsigned i = 0; i < 8; i++)
		if (options >> i & 1)
			fputs(mount_flags[i], f);
	if (shape & 8)
		fprintf(f, " shared:%u", shared);
	if (shape & 16)
		fprintf(f, " master:%u", master);
	if (shape & 32)
		fprintf(f, " propagate_from:%u", propagate_from);
	if (shape & 64)
		fputs(" unbindable", f);
	fputs(" - ", f);
	print_escaped(f, m.type, NAME_SPECIAL);
	fputc(' ', f);
	print_escaped(f, m.source, NAME_SPECIAL);
	fprintf(f, " %s", sb_options);
	fclose(f);
	m.options = sb_options;

	check_parse(line, &m);
	check_lookups(line, &m, 0, 0);
	free(line);
	free(sb_options);
	free_record(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	fuzz_text(input, size, check_text);
	check_fields(input, size);
	return 0;
}

#ifdef MAKE_CORPUS
static void put_string(struct seed *s, const char *text)
{
	seed_put(s, strlen(text), 1);
	seed_put_bytes(s, text, strlen(text));
}

/* A string of `len` bytes: `pattern` repeated. */
static void put_repeated(struct seed *s, unsigned len, const char *pattern)
{
	seed_put(s, 0xf0 | (strlen(pattern) - 1), 1);
	seed_put(s, len, 2);
	seed_put_bytes(s, pattern, strlen(pattern));
}

/* A mount in the fields' layout (the optional fields' numbers 7, 8 and
 * 9; N not shifted); sb_shape and tag are the bytes of the superblock's
 * options and of the tag, with words their options of its own. */
struct mount_seed {
	const char *name;
	uint8_t shape, options;
	uint64_t id, parent;
	uint32_t major, minor;
	const char *root, *path;	/* NULL: a path of 4095 backslashes */
	uint8_t type;
	const char *other_type, *source;
	uint8_t sb_shape, tag;
	uint64_t n;
	const char *words[3];
};

static void write_mount(const char *dir, const struct mount_seed *ms)
{
	struct seed s = { .len = 0 };
	unsigned id_bytes = ms->shape & 4 ? 8 : 4;

	seed_put(&s, ms->shape, 1);
	seed_put(&s, ms->options, 1);
	seed_put(&s, ms->id, id_bytes);
	seed_put(&s, ms->parent, id_bytes);
	seed_put(&s, ms->major, 4);
	seed_put(&s, ms->minor, 4);
	seed_put(&s, 7, 4);
	seed_put(&s, 8, 4);
	seed_put(&s, 9, 4);
	if (ms->root)
		put_string(&s, ms->root);
	else
		put_repeated(&s, 4095, "\\");
	if (ms->path)
		put_string(&s, ms->path);
	else
		put_repeated(&s, 4095, "\\");
	seed_put(&s, ms->type, 1);
	if (ms->type == 7)
		put_string(&s, ms->other_type);
	put_string(&s, ms->source);
	seed_put(&s, ms->sb_shape, 1);
	seed_put(&s, ms->tag, 1);
	seed_put(&s, ms->n, 8);
	seed_put(&s, 0, 1);
	for (unsigned i = 0; i < (ms->sb_shape >> 3 & 7u) && i < 3; i++)
		put_string(&s, ms->words[i] ? ms->words[i] : "");
	seed_write(dir, ms->name, s.bytes, s.len);
}

void write_seeds(const char *dir)
{
	/* Lines as the kernel prints them, and lines it never prints. */
	static const char *const lines[] = {
		"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
		"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
		("40 25 0:40 / /run/vol rw,nosuid,nodev,relatime shared:7 master:3 "
		 "propagate_from:2 unbindable - fuse.fuseuring /srv/b\\040c.img "
		 "rw,user_id=0,group_id=0,default_permissions,allow_other,max_read=2147483748"),
		("50 30 0:45 / /mnt/a\\040b\\011c\\012d\\134e rw - fuse.fuseuring /x\\043y "
		 "rw,max_read=4294967295"),
		"50 30 0:45 / /mnt rw - fuse.fuseuring /x rw,max_read=4294967296",
		"50 30 0:45 / /mnt rw - fuse.fuseuring /x rw,max_read=0",
		"50 30 0:45 / /mnt rw - fuse.fuseuring /x rw,max_read=99999999999999999999999",
		"50 30 0:45 / /mnt rw - fuse.fuse\\040uring /x rw,max_read=2147483748",
		"50 30 0:45 / /mnt rw - fuse.fuseuring /x rw,a=b c,max_read=2147483748",
		"50 0 0:45 / /mnt rw - fuse.fuseuring /x max_read=5,max_read=6",
		"50 30 0:45 / /mnt rw - fuse.fuseuring /x rw,max_read=2147483748 x",
		"50 30 0:45  /mnt rw - cgroup2 cgroup2 rw",		/* an empty root */
		"50 30 0:45 /  rw - tmpfs tmpfs rw",		/* an empty mount point */
		"50 30 0:45 / /mnt  - tmpfs tmpfs rw",			/* no mount options */
		"50 30 0:45 / /mnt rw -  tmpfs rw",			/* an empty type */
		"50 30 0:45 / /mnt rw - tmpfs  rw",			/* an empty source */
		"50 30 0:45 / /mnt rw - tmpfs tmpfs ",			/* empty options */
		"50 30 0:45 / /mnt rw - - - rw",			/* type and source "-" */
		"50 30 0:45 /a\\b /m\\x\\400\\08\\000\\1 rw - t s rw",	/* not escapes */
		"50 30 0:45 / /m\\04 rw - t s\\",			/* cut short */
		"4294967295 4294967295 4095:1048575 / /mnt rw - t s rw",
		"18446744073709551615 18446744073709551615 4294967295:4294967295 / / rw - t s rw",
		"18446744073709551616 1 0:45 / / rw - t s rw",
		"1 18446744073709551616 0:45 / / rw - t s rw",
		"1 0 4294967296:0 / / rw - t s rw",
		"1 0 0:4294967296 / / rw - t s rw",
		"1 0 00:045 / / rw - t s rw",
		"", "1", "1 ", "1 0", "1 0 0:45", "1 0 0:45 /", "1 0 0:45 / /mnt",
		"1 0 0:45 / /mnt rw", "1 0 0:45 / /mnt rw -", "1 0 0:45 / /mnt rw - ",
		"1 0 0:45 / /mnt rw - t", "1 0 0:45 / /mnt rw - t ", "1 0 0:45 / /mnt rw - t s",
		"1 0 0:45 / /mnt rw -- t s rw", "1 0 0:45 / /mnt rw-t s rw",
		"-1 0 0:45 / / rw - t s rw", "+1 0 0:45 / / rw - t s rw",
		" 1 0 0:45 / / rw - t s rw", "1  0 0:45 / / rw - t s rw",
		"1 0 0 45 / / rw - t s rw", "1 0 0:45:1 / / rw - t s rw",
		"0 0 0:0 / / rw - fuse.fuseuring s max_read=7",
		"1\t0 0:45 / / rw - t s rw",
	};
	/* Mounts, printed by check_fields. */
	static const struct mount_seed mounts[] = {
		{ "mount-ours", 0x08, 0x03, 40, 30, 0, 45, "/", "/run/vol", 0, NULL,
		  "/srv/b.img", 0x18, 0x11, 2147483748u,
		  { "user_id=0", "group_id=0", "default_permissions" } },
		{ "mount-longest", 0x78, 0xff, 40, 30, 0, 45, NULL, NULL, 0, NULL,
		  "/srv/b\\ c#d.img", 0x08, 0x09, 4294967295u, { "allow_other" } },
		{ "mount-tag-at", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0, 0x01,
		  4294967295u, { 0 } },
		{ "mount-tag-past", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0, 0x01,
		  4294967296u, { 0 } },
		{ "mount-tag-far", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0, 0x01,
		  UINT64_MAX, { 0 } },
		{ "mount-tag-zeros", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0x08, 0x02,
		  2147483648u, { "x" } },
		{ "mount-tag-empty", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0, 0x03, 7,
		  { 0 } },
		{ "mount-tag-minus", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0, 0x04, 7,
		  { 0 } },
		{ "mount-tag-unit", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0, 0x05, 7,
		  { 0 } },
		{ "mount-tag-prefix", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0, 0x06, 7,
		  { 0 } },
		{ "mount-tag-space", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0, 0x07, 7,
		  { 0 } },
		{ "mount-tag-word", 0, 0, 40, 30, 0, 45, "/", "/mnt", 0, NULL, "s", 0x10, 0x01, 9,
		  { "max_read=3", "a,max_read=4" } },
		{ "mount-other-type", 0, 0, 40, 30, 0, 45, "/", "/mnt", 4, NULL, "host:",
		  0, 0x01, 2147483748u, { 0 } },
		{ "mount-escaped-type", 0, 0, 40, 30, 0, 45, "/", "/mnt", 7, "fuse.fuse uring#\t",
		  "s", 0, 0x01, 2147483748u, { 0 } },
		{ "mount-long-type", 0, 0, 40, 30, 0, 45, "/", "/mnt", 7,
		  "fuse.fuseuring-and-a-subtype-longer-than-the-64-bytes-a-lookup-keeps", "s",
		  0, 0x01, 2147483748u, { 0 } },
		{ "mount-ids-64", 0x04, 0, UINT64_MAX, UINT64_MAX - 1, UINT32_MAX, UINT32_MAX,
		  "/", "/mnt", 0, NULL, "s", 0, 0x01, 1, { 0 } },
		{ "mount-any-device", 0, 0, 40, 0, 0, 0, "/", "/mnt", 0, NULL, "s", 0, 0x01, 1,
		  { 0 } },
		{ "mount-id-0", 0, 0, 0, 1, 0, 1, "/", "/mnt", 0, NULL, "s", 0, 0x01, 2, { 0 } },
		{ "mount-escapes", 0, 0, 40, 30, 8, 1, "/a b\tc\nd\\e", "/\\040\\134 x", 0, NULL,
		  "\\0\\1 #", 0x08, 0x09, 12, { "a b\tc" } },
	};

	seed_write_texts(dir, "line", lines, sizeof(lines) / sizeof(lines[0]));
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++)
		write_mount(dir, &mounts[i]);
}
#endif
