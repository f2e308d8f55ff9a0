/* fuzz_fmt - fmt (sys.c), the program's small snprintf, against the host
 * libc's snprintf (tests/fuzz.h).
 *
 * A format is built from the input out of literal text, "%%" and the
 * conversions sys.h promises: %s %c %d %u %ld %lu %lld %llu %x %lx %llx
 * %o, each with or without '-', '0' and a width (not '0' with %s or %c,
 * which C leaves undefined: libc pads those with spaces, fmt with zeros),
 * and fmt is given the same arguments as snprintf, into a buffer of a size
 * the input gives, 0 and 1 included.  Checks:
 *   - the text is snprintf's, cut where the buffer ends, and a NUL after
 *     it (but with a buffer of 0 bytes, nothing is written);
 *   - what fmt returns is the length it wrote: snprintf's length, or the
 *     buffer's size - 1 when that is less (0 for a buffer of 0 bytes);
 *   - nothing is written past the buffer (an allocation of exactly its
 *     size, AddressSanitizer), and fmt ends (libFuzzer's -timeout).
 *
 * The arguments are passed with the types their conversions take (no
 * int read as a long): a format's k-th conversion takes the k-th of 14
 * arguments, whose types run through int, unsigned, long, unsigned long,
 * long long, unsigned long long and const char * twice, starting with
 * the one the input chooses.
 *
 * Layout; bytes past the input's end read as 0:
 *   1 byte   the buffer's size: below 128 as it is, else 128 + 32 x (B - 128)
 *   1 byte   the type of the first argument (mod 7)
 *   then pieces, up to 14 conversions: 1 byte P, and
 *     P bits 0-1 = 0: literal text, (P >> 2) + 1 bytes ('%' becomes '#', a
 *                     NUL a space);
 *                = 1: "%%";
 *                else a conversion: bit 2 '-', bit 3 '0', bits 4-6 which of
 *                     the argument type's conversions, bit 7: a width
 *                     follows, 1 byte W: W below 240, else 400 x (W - 239);
 *                     then the argument: a string as a length byte and
 *                     that many bytes (a NUL becomes 'z'), anything else as
 *                     8 bytes (little endian), cut to its type.
 */
#include <stdarg.h>

#include "fuzz.h"
#include "../sys.h"

enum { INT, UNSIGNED, LONG, ULONG, LLONG, ULLONG, STRING, TYPES };
#define SLOTS	(2 * TYPES)

/* The conversions of each argument type. */
static const char *const conversions[TYPES][3] = {
	[INT] = { "d", "c" },
	[UNSIGNED] = { "u", "x", "o" },
	[LONG] = { "ld" },
	[ULONG] = { "lu", "lx" },
	[LLONG] = { "lld" },
	[ULLONG] = { "llu", "llx" },
	[STRING] = { "s" },
};

/* Each type's arguments: the k-th conversion takes type (first + k) % 7,
 * the [k / 7]th of it. */
struct arguments {
	int i[2];
	unsigned u[2];
	long l[2];
	unsigned long ul[2];
	long long ll[2];
	unsigned long long ull[2];
	const char *s[2];
	char strings[2][256];
};

/* The argument of type `type` in its `nth` place, from the input. */
static void take_argument(struct fuzz_reader *r, struct arguments *a, unsigned type, unsigned nth)
{
	uint64_t v;
	size_t len;

	if (type == STRING) {
		len = fuzz_take(r, 1);
		for (size_t i = 0; i < len; i++)
			a->strings[nth][i] = (char)fuzz_take(r, 1) ?: 'z';
		a->strings[nth][len] = 0;
		a->s[nth] = a->strings[nth];
		return;
	}
	v = fuzz_take(r, 8);
	switch (type) {
	case INT: a->i[nth] = (int)v; break;
	case UNSIGNED: a->u[nth] = (unsigned)v; break;
	case LONG: a->l[nth] = (long)v; break;
	case ULONG: a->ul[nth] = (unsigned long)v; break;
	case LLONG: a->ll[nth] = (long long)v; break;
	default: a->ull[nth] = (unsigned long long)v; break;
	}
}

/* The format, and the arguments its conversions take, the first of type
 * `first`. */
static char *build(struct fuzz_reader *r, struct arguments *a, unsigned first)
{
	char *format;
	size_t len;
	FILE *f = open_memstream(&format, &len);
	unsigned slot = 0;

	while (r->left && slot < SLOTS) {
		unsigned piece = (unsigned)fuzz_take(r, 1);

		if ((piece & 3) == 0) {
			for (unsigned i = 0; i < (piece >> 2) + 1; i++) {
				char c = (char)fuzz_take(r, 1);

				fputc(c == '%' ? '#' : c ? c : ' ', f);
			}
			continue;
		}
		if ((piece & 3) == 1) {
			fputs("%%", f);
			continue;
		}
		unsigned type = (first + slot) % TYPES, nth = slot / TYPES, count = 0;

		while (count < 3 && conversions[type][count])
			count++;
		const char *conversion = conversions[type][(piece >> 4 & 7) % count];
		bool zero = piece & 8 && type != STRING && strcmp(conversion, "c");

		fprintf(f, "%%%s%s", piece & 4 ? "-" : "", zero ? "0" : "");
		if (piece & 128) {
			unsigned w = (unsigned)fuzz_take(r, 1);

			w = w < 240 ? w : 400 * (w - 239);
			if (w)
				fprintf(f, "%u", w);
		}
		fputs(conversion, f);
		take_argument(r, a, type, nth);
		slot++;
	}
	fclose(f);
	return format;
}

/* The 14 arguments, starting with type `first`. */
#define ARGS(t0, t1, t2, t3, t4, t5, t6)					\
	a.t0[0], a.t1[0], a.t2[0], a.t3[0], a.t4[0], a.t5[0], a.t6[0],		\
	a.t0[1], a.t1[1], a.t2[1], a.t3[1], a.t4[1], a.t5[1], a.t6[1]
#define CALL(first, call)							\
	switch (first) {							\
	case INT: call(ARGS(i, u, l, ul, ll, ull, s)); break;			\
	case UNSIGNED: call(ARGS(u, l, ul, ll, ull, s, i)); break;		\
	case LONG: call(ARGS(l, ul, ll, ull, s, i, u)); break;			\
	case ULONG: call(ARGS(ul, ll, ull, s, i, u, l)); break;		\
	case LLONG: call(ARGS(ll, ull, s, i, u, l, ul)); break;		\
	case ULLONG: call(ARGS(ull, s, i, u, l, ul, ll)); break;		\
	default: call(ARGS(s, i, u, l, ul, ll, ull)); break;			\
	}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	static char want[1 << 17];	/* 14 widths of 6400 at most, and text */
	struct fuzz_reader r = { input, size };
	size_t cap = (size_t)fuzz_take(&r, 1), got;
	unsigned first = (unsigned)fuzz_take(&r, 1) % TYPES;
	struct arguments a = { .s = { "", "" } };
	char *format, *buf;
	int full;

	cap = cap < 128 ? cap : 128 + 32 * (cap - 128);
	format = build(&r, &a, first);
	buf = malloc(cap);	/* exactly cap bytes: a write past them is reported */
#define FMT(...)	got = fmt(buf, cap, format, __VA_ARGS__)
#define LIBC(...)	full = snprintf(want, sizeof(want), format, __VA_ARGS__)
	CALL(first, FMT);
	CALL(first, LIBC);
#undef FMT
#undef LIBC
	FUZZ_CHECK(full >= 0 && (size_t)full < sizeof(want), "'%s': snprintf: %d", format, full);

	size_t written = cap ? ((size_t)full < cap - 1 ? (size_t)full : cap - 1) : 0;

	FUZZ_CHECK(got == written, "'%s' into %zu bytes: returned %zu, want %zu (of %d)", format,
		   cap, got, written, full);
	FUZZ_CHECK(!memcmp(buf, want, written) && (!cap || !buf[written]),
		   "'%s' into %zu bytes: '%.*s', want '%.*s'", format, cap, (int)written, buf,
		   (int)written, want);
	free(buf);
	free(format);
	return 0;
}

#ifdef MAKE_CORPUS
static void put_text(struct seed *s, const char *text)
{
	seed_put(s, (strlen(text) - 1) << 2, 1);
	seed_put_bytes(s, text, strlen(text));
}

/* A conversion of an argument of type `type`: flags '-' (1) and '0' (2),
 * which of its type's conversions, a width byte (0: none), and the
 * argument: a string's text, or a number. */
static void put_conversion(struct seed *s, unsigned type, unsigned flags, unsigned which,
			   unsigned width, const char *text, uint64_t value)
{
	seed_put(s, 2 | flags << 2 | which << 4 | (width ? 128 : 0), 1);
	if (width)
		seed_put(s, width, 1);
	if (type == STRING) {
		seed_put(s, strlen(text), 1);
		seed_put_bytes(s, text, strlen(text));
	} else {
		seed_put(s, value, 8);
	}
}

/* The buffer's size byte for `cap`. */
static uint8_t cap_byte(size_t cap)
{
	return (uint8_t)(cap < 128 ? cap : 128 + (cap - 128) / 32);
}

void write_seeds(const char *dir)
{
	/* "serving /srv/b.img at 42   %" (28 bytes) into buffers of every
	 * size around it: 0, 1, 2, ..., at, one past, far past. */
	static const size_t caps[] = { 0, 1, 2, 3, 16, 27, 28, 29, 30, 127, 128, 4192 };
	static const uint64_t values[] = {
		0, 1, 0x2a, INT32_MAX, (uint64_t)INT32_MIN, UINT32_MAX, INT64_MAX,
		(uint64_t)INT64_MIN, UINT64_MAX,
	};
	static const char *const texts[] = { "", "a", "/srv/b.img", "%d %s%%", "\t\n\\" };
	char name[64];
	struct seed s;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		s.len = 0;
		seed_put(&s, cap_byte(caps[i]), 1);
		seed_put(&s, STRING, 1);
		put_text(&s, "serving ");
		put_conversion(&s, STRING, 0, 0, 0, "/srv/b.img", 0);
		put_text(&s, " at ");
		put_conversion(&s, INT, 1, 0, 5, NULL, 42);	/* %-5d */
		seed_put(&s, 1, 1);					/* %% */
		snprintf(name, sizeof(name), "cap-%zu", caps[i]);
		seed_write(dir, name, s.bytes, s.len);
	}
	/* 14 conversions, every type twice, each value at its bounds, with
	 * each flag and widths past and short of the text. */
	for (unsigned j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
		s.len = 0;
		seed_put(&s, cap_byte(4192), 1);
		seed_put(&s, j % TYPES, 1);
		for (unsigned k = 0; k < SLOTS; k++)
			put_conversion(&s, (j + k) % TYPES, k % 4, k % 3, (j + k * 3) % 24,
				       texts[(j + k) % 5], values[(j + k) % 9]);
		snprintf(name, sizeof(name), "conversions-%u", j);
		seed_write(dir, name, s.bytes, s.len);
	}
	/* Negative numbers padded with zeros: the sign before the zeros. */
	s.len = 0;
	seed_put(&s, 64, 1);
	seed_put(&s, INT, 1);
	put_conversion(&s, INT, 2, 0, 6, NULL, (uint64_t)-42);		/* %06d */
	put_conversion(&s, UNSIGNED, 2, 0, 4, NULL, 7);			/* %04u */
	put_conversion(&s, LONG, 3, 0, 6, NULL, (uint64_t)-42);		/* %-06ld */
	put_conversion(&s, ULONG, 2, 0, 2, NULL, 7);			/* %02lu */
	put_conversion(&s, LLONG, 2, 0, 3, NULL, (uint64_t)-1234);	/* %03lld */
	seed_write(dir, "zeros-negative", s.bytes, s.len);
	/* The widest widths, into the largest buffer and a small one. */
	for (unsigned small = 0; small < 2; small++) {
		s.len = 0;
		seed_put(&s, small ? 5 : 255, 1);
		seed_put(&s, STRING, 1);
		put_conversion(&s, STRING, 1, 0, 255, "left", 0);		/* %-6400s */
		put_conversion(&s, INT, 2, 0, 239, NULL, (uint64_t)-1);	/* %0239d */
		put_conversion(&s, UNSIGNED, 0, 1, 255, NULL, 0xc);		/* %6400x */
		snprintf(name, sizeof(name), "widths-%s", small ? "small" : "large");
		seed_write(dir, name, s.bytes, s.len);
	}
	/* A %c of NUL, an empty string, an empty format. */
	s.len = 0;
	seed_put(&s, 10, 1);
	seed_put(&s, INT, 1);
	put_conversion(&s, INT, 0, 1, 0, NULL, 0);
	put_text(&s, "after");
	seed_write(dir, "char-nul", s.bytes, s.len);
	s.len = 0;
	seed_put(&s, 1, 1);
	seed_put(&s, STRING, 1);
	put_conversion(&s, STRING, 0, 0, 0, "", 0);
	seed_write(dir, "empty-string", s.bytes, s.len);
	seed_write(dir, "empty", "", 0);
}
#endif
