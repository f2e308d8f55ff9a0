/* fuzz.h - what the fuzz targets share.
 *
 * A target, tests/fuzz_TARGET.c (one per name in the Makefile's
 * FUZZ_TARGETS), feeds one input to a parser of outside text and checks
 * what the parser made of it against an oracle of its own, one that does
 * not restate the code: a failed check aborts (FUZZ_CHECK), and so does
 * AddressSanitizer or UBSan.  Each is built three ways:
 *   fuzz_TARGET    with libFuzzer, which looks for inputs that fail
 *                  (make fuzz; tests/fuzz.sh runs every target);
 *   replay_TARGET  with tests/fuzz_main.c: every input of
 *                  tests/corpus/TARGET/ through the same checks, without
 *                  libFuzzer (make check);
 *   seeds_TARGET   with tests/fuzz_main.c and -DMAKE_CORPUS: the target's
 *                  write_seeds() writes its seed inputs into
 *                  tests/corpus/TARGET/ (make corpus).
 * An input that ever failed stays in the corpus, as a regression input.
 */
#ifndef FUSEURING_FUZZ_H
#define FUSEURING_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

/* MAKE_CORPUS: the target writes its seeds into `dir`, each with
 * seed_write() (tests/fuzz_main.c). */
void write_seeds(const char *dir);
void seed_write(const char *dir, const char *name, const void *bytes, size_t len);
/* Each of n texts as a seed of its own: PREFIX-00, PREFIX-01, ... */
void seed_write_texts(const char *dir, const char *prefix, const char *const *texts, size_t n);

#define FUZZ_CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
			abort();						\
		}								\
	} while (0)

/* The input read as fields: fuzz_take() gives the next `bytes` of it
 * (8 at most) as a little-endian number, bytes past its end as 0. */
struct fuzz_reader {
	const uint8_t *at;
	size_t left;
};

static inline uint64_t fuzz_take(struct fuzz_reader *r, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && r->left; i++, r->left--)
		v |= (uint64_t)*r->at++ << 8 * i;
	return v;
}

#ifdef MAKE_CORPUS
/* A seed written field by field, as fuzz_take() reads it back. */
struct seed {
	uint8_t bytes[512];
	size_t len;
};

static inline void seed_put_bytes(struct seed *s, const void *bytes, size_t len)
{
	if (s->len + len > sizeof(s->bytes))
		abort();
	memcpy(s->bytes + s->len, bytes, len);
	s->len += len;
}

static inline void seed_put(struct seed *s, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++, v >>= 8)
		seed_put_bytes(s, &(uint8_t){ (uint8_t)v }, 1);
}
#endif

/* The input as a C string (up to its first NUL, if any), in an
 * allocation of exactly that size: a parser that reads past the string's
 * end reads past the allocation, which AddressSanitizer reports. */
static inline char *fuzz_string(const uint8_t *input, size_t size)
{
	size_t len = strnlen((const char *)input, size);
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, input, len);
	s[len] = 0;
	return s;
}

/* check() on the input as a C string (fuzz_string). */
static inline void fuzz_text(const uint8_t *input, size_t size, void (*check)(const char *text))
{
	char *text = fuzz_string(input, size);

	check(text);
	free(text);
}

#endif
