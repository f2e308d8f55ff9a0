/* fuzz_size - parse_size (options.c), the N[K|M|G|T] of -o size= and
 * max_write=, against arithmetic done here in 128 bits (tests/fuzz.h).
 *
 * The grammar, as options.h states it: decimal digits, then at most one
 * unit, K, M, G or T in either case (powers of 1024), nothing else; the
 * value must fit 64 bits, else the text is refused.  Each input is checked
 * twice:
 *   - its bytes as the text: accepted exactly when a recogniser written
 *     here says it matches the grammar and its value, worked out in 128
 *     bits, fits 64; then the result is that value;
 *   - its bytes as a number: bytes 0-7 (little endian) shifted right by
 *     byte 8's low 6 bits give n (small numbers and numbers near the top as
 *     often as any), byte 9 the unit (its value mod 5: none, K, M, G, T;
 *     bit 3: upper case; bits 4-5: leading zeros).  printf's decimal text
 *     of n with that unit must give n << shift when that fits 64 bits, and
 *     be refused when it does not.
 */
#include "fuzz.h"
#include "../options.h"

typedef unsigned __int128 u128;

/* The value of `s` by the grammar, in 128 bits; false if `s` breaks the
 * grammar or its value needs more than 64 bits. */
static bool reference_size(const char *s, u128 *value)
{
	static const char units[] = "kKmMgGtT";
	const char *unit;
	u128 v = 0;
	size_t i = 0;
	bool huge = false;	/* the digits alone are past 64 bits */

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > UINT64_MAX) {
			huge = true;
			v = 0;	/* so that 128 bits do not overflow either */
		}
	}
	if (i == 0)
		return false;
	if (s[i] && (unit = strchr(units, s[i]))) {
		v <<= 10 * (1 + (unit - units) / 2);
		i++;
	}
	if (s[i] || huge || v > UINT64_MAX)
		return false;
	*value = v;
	return true;
}

static void check_text(const char *text)
{
	uint64_t got = 0;
	u128 want = 0;
	bool accepted = parse_size(text, &got), valid = reference_size(text, &want);

	FUZZ_CHECK(accepted == valid, "'%s': %s, want %s", text,
		   accepted ? "accepted" : "refused", valid ? "accepted" : "refused");
	FUZZ_CHECK(!accepted || got == want, "'%s': %llu, want %llu", text,
		   (unsigned long long)got, (unsigned long long)want);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	char *text = fuzz_string(input, size);

	check_text(text);
	free(text);
	if (size < 10)
		return 0;

	uint64_t raw, n, got = 0;
	unsigned unit = input[9] % 5, shift = 10 * unit;
	char formatted[64];

	memcpy(&raw, input, 8);	/* little endian, as the machines we build for */
	n = raw >> (input[8] & 63);
	snprintf(formatted, sizeof(formatted), "%.*s%llu%s", (input[9] >> 4) & 3, "000",
		 (unsigned long long)n, unit ? (const char *[]){ "", "K", "M", "G", "T" }[unit] : "");
	if (unit && !(input[9] & 8))
		formatted[strlen(formatted) - 1] |= 0x20;	/* lower case */

	bool fits = ((u128)n << shift) <= UINT64_MAX;
	bool accepted = parse_size(formatted, &got);

	FUZZ_CHECK(accepted == fits, "'%s': %s, want %s", formatted,
		   accepted ? "accepted" : "refused", fits ? "accepted" : "refused");
	FUZZ_CHECK(!accepted || got == n << shift, "'%s': %llu, want %llu", formatted,
		   (unsigned long long)got, (unsigned long long)(n << shift));
	return 0;
}

#ifdef MAKE_CORPUS
/* For each unit, the largest number that fits 64 bits (at the bound),
 * the next (one past) and one far past, in both cases; then text that
 * breaks the grammar, and numbers in the second form at each bound. */
void write_seeds(const char *dir)
{
	static const char *const texts[] = {
		"0", "1", "1K", "1k", "16M", "1G", "1T", "00000000000000000000000000000000001K",
		"18446744073709551615", "18446744073709551616", "99999999999999999999999",
		"", "K", "1KB", "1 K", " 1", "1 ", "-1", "+1", "0x10", "1\n", "1.5G", "1KK",
		"1P", "1e3",
	};
	static const char upper[] = " KMGT", lower[] = " kmgt";
	uint8_t number[10];
	char name[64], text[64];
	int seq = 0;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(name, sizeof(name), "text-%02d", seq++);
		seed_write(dir, name, texts[i], strlen(texts[i]));
	}
	for (unsigned u = 1; u <= 4; u++) {
		uint64_t at = UINT64_MAX >> (10 * u);
		const uint64_t past[] = { at, at + 1, at * 1024 + 1023 };

		for (size_t k = 0; k < 3; k++) {
			snprintf(text, sizeof(text), "%llu%c", (unsigned long long)past[k],
				 (k == 1 ? lower : upper)[u]);
			snprintf(name, sizeof(name), "text-%02d", seq++);
			seed_write(dir, name, text, strlen(text));
			/* the same number in the second form */
			memcpy(number, &past[k], 8);
			number[8] = 0;
			number[9] = (uint8_t)(u | 8);
			snprintf(name, sizeof(name), "number-%02d", seq++);
			seed_write(dir, name, number, sizeof(number));
		}
	}
	/* UINT64_MAX shifted down to each bound, with zeros in front */
	for (unsigned u = 0; u <= 4; u++) {
		memset(number, 0xff, 8);
		number[8] = (uint8_t)(10 * u);
		number[9] = (uint8_t)(u | 0x30);
		snprintf(name, sizeof(name), "number-%02d", seq++);
		seed_write(dir, name, number, sizeof(number));
	}
}
#endif
