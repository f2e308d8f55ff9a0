/* fuzz_main.c - the main() of a fuzz target built without libFuzzer
 * (tests/fuzz.h): FUZZ_TARGET names the target.
 *
 *   replay_TARGET DIR   runs every input in DIR through the target's checks
 *                       and prints "replayed N inputs of TARGET"; an input
 *                       that fails ends it (abort or sanitizer report) and
 *                       is named; no input at all is a failure too, since an
 *                       empty corpus proves nothing.
 *   seeds_TARGET DIR    (-DMAKE_CORPUS) writes the target's seeds into DIR.
 */
#include <dirent.h>
#include <signal.h>
#include <sanitizer/common_interface_defs.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET names the target (the Makefile defines it)"
#endif

#ifdef MAKE_CORPUS
void seed_write(const char *dir, const char *name, const void *bytes, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(bytes, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

void seed_write_texts(const char *dir, const char *prefix, const char *const *texts, size_t n)
{
	char name[256];

	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s-%02zu", prefix, i);
		seed_write(dir, name, texts[i], strlen(texts[i]));
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	write_seeds(argv[1]);
	return 0;
}
#else
static char replaying[4096];	/* the input being replayed */

/* Say which input failed: on abort() (a failed check) and on a
 * sanitizer's report, which ends the process without one. */
static void name_the_input(void)
{
	fprintf(stderr, "replay_%s: the input that failed: %s\n", FUZZ_TARGET, replaying);
}

static void on_abort(int sig)
{
	name_the_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint8_t *read_input(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long len = -1;
	uint8_t *bytes = NULL;

	if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		/* exactly its size, as libFuzzer gives it: reading past the
		 * input is reading past the allocation */
		bytes = malloc(len ? (size_t)len : 1);
		if (bytes && fread(bytes, 1, (size_t)len, f) != (size_t)len) {
			free(bytes);
			bytes = NULL;
		}
	}
	if (f)
		fclose(f);
	if (!bytes) {
		perror(path);
		exit(2);
	}
	*size = (size_t)len;
	return bytes;
}

static int not_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	struct dirent **names;
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	n = scandir(argv[1], &names, not_hidden, alphasort);
	if (n < 0) {
		perror(argv[1]);
		return 2;
	}
	signal(SIGABRT, on_abort);
	__sanitizer_set_death_callback(name_the_input);
	for (int i = 0; i < n; i++) {
		size_t size;
		uint8_t *input;

		snprintf(replaying, sizeof(replaying), "%s/%s", argv[1], names[i]->d_name);
		input = read_input(replaying, &size);
		LLVMFuzzerTestOneInput(input, size);
		free(input);
		free(names[i]);
	}
	free(names);
	if (n == 0) {
		fprintf(stderr, "replay_%s: no inputs in %s: an empty corpus proves nothing\n",
			FUZZ_TARGET, argv[1]);
		return 1;
	}
	printf("replayed %d inputs of %s\n", n, FUZZ_TARGET);
	return 0;
}
#endif
