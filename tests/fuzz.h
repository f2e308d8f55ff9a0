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

#define FUZZ_CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
			abort();						\
		}								\
	} while (0)

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

#endif
