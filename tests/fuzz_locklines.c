/* fuzz_locklines - lock_line_on (backing.c), one lock line of /proc/locks
 * or of an fdinfo ("lock:\t" first), against lines printed here as the
 * kernel prints them (tests/fuzz.h).
 *
 * fs/locks.c, lock_get_status, prints "ID: ", a waiter's "-> " (after one
 * space per level of waiting past the first; kernels before 5.11 print
 * "ID: -> " for every waiter), then the kind: "POSIX ", "OFDLCK" or
 * "ACCESS" and " ADVISORY " (" MANDATORY" before 5.15, " *NOINODE* " for
 * a lock on no inode), "FLOCK  ADVISORY  ", "LEASE  " or "DELEG  " and
 * "ACTIVE    ", "BREAKING  " or "BREAKER   " (a breaker has no file), or
 * "UNKNOWN UNKNOWN  "; then "WRITE ", "READ " or "UNLCK " (before 5.11
 * padded to 5 letters: "READ  "), the pid ("%d": -1 for an OFD lock), the
 * file as "%02x:%02x:%lu " (major, minor, inode) or "<none>:0 ", and the
 * range: "START EOF", "START END", or "0 EOF" for all but POSIX kinds.
 *
 * Each input is checked twice:
 *   - its bytes as the line's text: never a crash nor a read past its end
 *     (an allocation of its own size, AddressSanitizer), the answer one of
 *     the three, the answer for one file either none or the answer for any
 *     file, and the same answers with "lock:\t" in front (an fdinfo's
 *     line), unless the text starts with "lock:" already;
 *   - its bytes as the fields of a lock (the layout below), printed as the
 *     kernel prints them: the answer is WRITE or READ for a holder (not a
 *     waiter) of a write or read lock on the file asked about (with no
 *     file asked about: on any file), and none otherwise: for a waiter, an
 *     UNLCK, a lock on no inode, another device, another inode, an inode
 *     number that is the line's cut short or the line's with a digit more.
 *
 * The fields' layout, little endian; bytes past the input's end read as 0:
 *   1 byte   the kind (mod 7): POSIX, OFDLCK, ACCESS, FLOCK, LEASE, DELEG,
 *            UNKNOWN
 *   1 byte   bits 0-1: ADVISORY, ADVISORY, MANDATORY or *NOINODE* (POSIX,
 *            OFDLCK, ACCESS); bits 2-3: ACTIVE, ACTIVE, BREAKING or
 *            BREAKER (LEASE, DELEG); bits 4-5: WRITE, READ, UNLCK, WRITE;
 *            bit 6: as kernels before 5.11 print it; bit 7: an fdinfo's line
 *   1 byte   the level of waiting: 0 for the holder
 *   1 byte   bit 0: the range ends at EOF; bits 1-3: the file asked about:
 *            none (any file), the line's, another major, another minor,
 *            another inode, the inode / 10, the inode * 10 + 7, the line's
 *   8 bytes  ID, shifted right 1 (a count: never negative); 4: pid;
 *            4: major; 4: minor; 8: inode; 8: start; 8: end
 */
#include "fuzz.h"
#include "../lifecycle.h"

static const char *seen_name(enum lock_seen seen)
{
	return seen == LOCKS_WRITE ? "WRITE" : seen == LOCKS_READ ? "READ" :
	       seen == LOCKS_NONE ? "none" : "neither";
}

/* --- the input as the line's text ----------------------------------------------- */

static void check_text(const char *text)
{
	static const struct file_id file = { 0, 0x2d, 1234 };
	enum lock_seen any = lock_line_on(text, NULL), on_file = lock_line_on(text, &file);
	size_t len = strlen(text);
	char *fdinfo = malloc(len + sizeof("lock:\t"));

	FUZZ_CHECK(any == LOCKS_NONE || any == LOCKS_READ || any == LOCKS_WRITE,
		   "'%s': %d", text, any);
	FUZZ_CHECK(on_file == LOCKS_NONE || on_file == any,
		   "'%s': %s on 00:2d:1234, %s on any file", text, seen_name(on_file),
		   seen_name(any));
	memcpy(fdinfo, "lock:\t", strlen("lock:\t"));
	memcpy(fdinfo + strlen("lock:\t"), text, len + 1);
	if (strncmp(text, "lock:", strlen("lock:")))
		FUZZ_CHECK(lock_line_on(fdinfo, NULL) == any &&
			   lock_line_on(fdinfo, &file) == on_file,
			   "'%s': %s and %s in an fdinfo, %s and %s in /proc/locks", text,
			   seen_name(lock_line_on(fdinfo, NULL)),
			   seen_name(lock_line_on(fdinfo, &file)), seen_name(any),
			   seen_name(on_file));
	free(fdinfo);
}

/* --- the input as a lock's fields ----------------------------------------------- */

enum kind { POSIX, OFDLCK, ACCESS, FLOCK, LEASE, DELEG, UNKNOWN, KINDS };
enum type { WRITE, READ, UNLCK };

static void check_fields(const uint8_t *input, size_t size)
{
	static const char *const kinds[] = {
		"POSIX ", "OFDLCK", "ACCESS", "FLOCK  ADVISORY  ", "LEASE  ", "DELEG  ",
		"UNKNOWN UNKNOWN  ",
	};
	static const char *const posix_words[] = {
		" ADVISORY ", " ADVISORY ", " MANDATORY ", " *NOINODE* " };
	static const char *const lease_words[] = {
		"ACTIVE    ", "ACTIVE    ", "BREAKING  ", "BREAKER   " };
	static const char *const types[] = { "WRITE", "READ", "UNLCK", "WRITE" };
	static const char *const old_types[] = { "WRITE", "READ ", "UNLCK", "WRITE" };
	struct fuzz_reader r = { input, size };
	enum kind kind = (enum kind)(fuzz_take(&r, 1) % KINDS);
	unsigned words = (unsigned)fuzz_take(&r, 1), level = (unsigned)fuzz_take(&r, 1);
	unsigned range = (unsigned)fuzz_take(&r, 1), asked = range >> 1 & 7;
	long long id = (long long)(fuzz_take(&r, 8) >> 1);	/* a count: never negative */
	int pid = (int)fuzz_take(&r, 4);
	uint32_t major = (uint32_t)fuzz_take(&r, 4), minor = (uint32_t)fuzz_take(&r, 4);
	uint64_t ino = fuzz_take(&r, 8);
	long long start = (long long)fuzz_take(&r, 8), end = (long long)fuzz_take(&r, 8);
	enum type type = (enum type)(words >> 4 & 3);
	bool old = words & 64, fdinfo = words & 128, posix = kind <= ACCESS;
	bool lease = kind == LEASE || kind == DELEG;
	bool inode = !(posix && (words & 3) == 3) && !(lease && (words >> 2 & 3) == 3);
	struct file_id line_file = { major, minor, ino }, file = line_file;
	char *line;
	size_t len;
	FILE *f = open_memstream(&line, &len);

	/* lock_get_status */
	fprintf(f, "%s%lld: ", fdinfo ? "lock:\t" : "", id);
	if (level && old)
		fputs("-> ", f);	/* "%lld:%s " with " ->" */
	else if (level)
		fprintf(f, "%*s", (int)level - 1 + 3, "-> ");
	fputs(kinds[kind], f);
	if (posix)
		fputs(posix_words[words & 3], f);
	if (lease)
		fputs(lease_words[words >> 2 & 3], f);
	fprintf(f, "%s ", (old ? old_types : types)[type]);
	if (inode)
		fprintf(f, "%d %02x:%02x:%llu ", pid, major, minor, (unsigned long long)ino);
	else
		fprintf(f, "%d <none>:0 ", pid);
	if (!posix)
		fputs("0 EOF", f);
	else if (range & 1)
		fprintf(f, "%lld EOF", start);
	else
		fprintf(f, "%lld %lld", start, end);
	fclose(f);

	/* The file asked about. */
	if (asked == 2)
		file.dev_major ^= 1;
	if (asked == 3)
		file.dev_minor ^= 0x100;
	if (asked == 4)
		file.ino++;
	if (asked == 5)
		file.ino /= 10;
	if (asked == 6)
		file.ino = file.ino * 10 + 7;

	bool on_it = asked == 0 || (file.dev_major == major && file.dev_minor == minor &&
				    file.ino == ino);
	enum lock_seen want = !level && inode && on_it && type != UNLCK ?
			      (type == READ ? LOCKS_READ : LOCKS_WRITE) : LOCKS_NONE;
	char *copy = strdup(line);	/* exactly its size: nothing read past it */
	enum lock_seen got = lock_line_on(copy, asked ? &file : NULL);

	FUZZ_CHECK(got == want, "'%s' asked about %s%02x:%02x:%llu: %s, want %s", line,
		   asked ? "" : "any file, not ", file.dev_major, file.dev_minor,
		   (unsigned long long)file.ino, seen_name(got), seen_name(want));
	free(copy);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	fuzz_text(input, size, check_text);
	check_fields(input, size);
	return 0;
}

#ifdef MAKE_CORPUS
/* A lock in the fields' layout. */
struct lock_seed {
	const char *name;
	uint8_t kind, words, level, range;
	uint64_t id;
	int32_t pid;
	uint32_t major, minor;
	uint64_t ino, start, end;
};

static void write_lock(const char *dir, const struct lock_seed *l)
{
	struct seed s = { .len = 0 };

	seed_put(&s, l->kind, 1);
	seed_put(&s, l->words, 1);
	seed_put(&s, l->level, 1);
	seed_put(&s, l->range, 1);
	seed_put(&s, l->id << 1, 8);
	seed_put(&s, (uint32_t)l->pid, 4);
	seed_put(&s, l->major, 4);
	seed_put(&s, l->minor, 4);
	seed_put(&s, l->ino, 8);
	seed_put(&s, l->start, 8);
	seed_put(&s, l->end, 8);
	seed_write(dir, l->name, s.bytes, s.len);
}

void write_seeds(const char *dir)
{
	/* Lines as kernels print them, and lines none prints. */
	static const char *const lines[] = {
		"1: OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF",
		"lock:\t1: OFDLCK ADVISORY  READ -1 00:2d:1234 0 EOF",
		"7: POSIX  ADVISORY  WRITE 4321 00:2d:1234 100 200",
		"3: FLOCK  ADVISORY  WRITE 555 00:2d:1234 0 EOF",
		"4: LEASE  ACTIVE    READ 555 00:2d:1234 0 EOF",
		"4: DELEG  BREAKING  UNLCK 555 00:2d:1234 0 EOF",
		"4: LEASE  BREAKER   READ 555 <none>:0 0 EOF",
		"1: -> OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF",
		"1:  -> POSIX  ADVISORY  WRITE 77 00:2d:1234 0 EOF",
		"2: POSIX  ADVISORY  READ  77 00:2d:1234 0 EOF",
		"2: POSIX  MANDATORY WRITE 77 00:2d:1234 0 EOF",
		"2: POSIX  *NOINODE* WRITE 77 <none>:0 0 EOF",
		"2: FLOCK  MSNFS     RW    77 00:2d:1234 0 EOF",
		"2: UNKNOWN UNKNOWN  WRITE 0 00:2d:1234 0 EOF",
		"5: OFDLCK ADVISORY  UNLCK -1 00:2d:1234 0 EOF",
		"1: OFDLCK ADVISORY  WRITE -1 00:2d:12345 0 EOF",
		"1: OFDLCK ADVISORY  WRITE -1 00:2d:123 0 EOF",
		"1: OFDLCK ADVISORY  WRITE -1 00:33:1234 0 EOF",
		"1: OFDLCK ADVISORY  WRITE -1 fff:fffff:18446744073709551615 0 EOF",
		"1: OFDLCK ADVISORY  WRITE -1 00:2d:18446744073709551616 0 EOF",
		"1: OFDLCK ADVISORY  WRITE -1 10000000000000000:2d:1234 0 EOF",
		"1: OFDLCK ADVISORY  WRITE -1 00:2d:1234", "1: OFDLCK ADVISORY  WRITE -1 00:2d:",
		"1: OFDLCK ADVISORY  WRITE -1 00:2d", "1: OFDLCK ADVISORY  WRITE -1",
		"1: OFDLCK ADVISORY  WRITE", "1: OFDLCK", "1:", "1", "", "lock:", "lock:\t",
		"lock:\tlock:\t1: OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF",
		"x: OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF",
		"18446744073709551616: OFDLCK ADVISORY  WRITE -1 00:2d:1234 0 EOF",
		"1: WRITE -1 00:2d:1234", "1: A B C WRITE -1 00:2d:1234",
		"1: A B C D WRITE -1 00:2d:1234", "1: -> WRITE -1 00:2d:1234",
		"1:\tOFDLCK\tADVISORY\tWRITE\t-1\t00:2d:1234\t0\tEOF", "pos:\t0", "flags:\t02",
	};
	static const struct lock_seed locks[] = {
		{ "lock-ofd-write", OFDLCK, 0x00, 0, 0x03, 1, -1, 0, 0x2d, 1234, 0, 0 },
		{ "lock-ofd-read-fdinfo", OFDLCK, 0x90, 0, 0x03, 1, -1, 0, 0x2d, 1234, 0, 0 },
		{ "lock-posix-range", POSIX, 0x00, 0, 0x02, 7, 4321, 8, 1, 99, 100, 200 },
		{ "lock-any-file", FLOCK, 0x10, 0, 0x00, 3, 555, 0, 0x2d, 1234, 0, 0 },
		{ "lock-waiter", OFDLCK, 0x00, 1, 0x03, 1, -1, 0, 0x2d, 1234, 0, 0 },
		{ "lock-waiter-deep", POSIX, 0x00, 40, 0x03, 1, 77, 0, 0x2d, 1234, 0, 0 },
		{ "lock-waiter-old", POSIX, 0x40, 1, 0x03, 1, 77, 0, 0x2d, 1234, 0, 0 },
		{ "lock-read-old", POSIX, 0x50, 0, 0x03, 1, 77, 0, 0x2d, 1234, 0, 0 },
		{ "lock-unlck", LEASE, 0x28, 0, 0x03, 4, 555, 0, 0x2d, 1234, 0, 0 },
		{ "lock-noinode", ACCESS, 0x03, 0, 0x01, 2, 9, 0, 0x2d, 1234, 0, 0 },
		{ "lock-breaker", DELEG, 0x0c, 0, 0x01, 2, 9, 0, 0x2d, 1234, 0, 0 },
		{ "lock-lease-breaking", LEASE, 0x18, 0, 0x03, 4, 555, 0, 0x2d, 1234, 0, 0 },
		{ "lock-deleg-active", DELEG, 0x00, 0, 0x03, 4, 555, 0, 0x2d, 1234, 0, 0 },
		{ "lock-mandatory", POSIX, 0x02, 0, 0x03, 2, 9, 0, 0x2d, 1234, 0, 0 },
		{ "lock-unknown", UNKNOWN, 0x10, 0, 0x03, 2, 9, 0, 0x2d, 1234, 0, 0 },
		{ "lock-other-major", OFDLCK, 0x00, 0, 0x05, 1, -1, 0, 0x2d, 1234, 0, 0 },
		{ "lock-other-minor", OFDLCK, 0x00, 0, 0x07, 1, -1, 0, 0x2d, 1234, 0, 0 },
		{ "lock-other-inode", OFDLCK, 0x00, 0, 0x09, 1, -1, 0, 0x2d, 1234, 0, 0 },
		{ "lock-inode-cut", OFDLCK, 0x00, 0, 0x0b, 1, -1, 0, 0x2d, 12345, 0, 0 },
		{ "lock-inode-longer", OFDLCK, 0x00, 0, 0x0d, 1, -1, 0, 0x2d, 1234, 0, 0 },
		{ "lock-inode-0-cut", OFDLCK, 0x00, 0, 0x0b, 1, -1, 0, 0x2d, 0, 0, 0 },
		{ "lock-largest", POSIX, 0x00, 0, 0x02, INT64_MAX, INT32_MAX, 0xfff, 0xfffff,
		  UINT64_MAX, INT64_MAX - 1, INT64_MAX },
		{ "lock-u32-device", OFDLCK, 0x00, 0, 0x03, 1, INT32_MIN, UINT32_MAX, UINT32_MAX,
		  UINT64_MAX, 0, 0 },
		{ "lock-u32-device-other", OFDLCK, 0x00, 0, 0x05, 1, -1, UINT32_MAX, UINT32_MAX,
		  UINT64_MAX, 0, 0 },
	};

	seed_write_texts(dir, "line", lines, sizeof(lines) / sizeof(lines[0]));
	for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++)
		write_lock(dir, &locks[i]);
}
#endif
