/* fuzz_cpulist - cpu_list_count (handshake.c), which counts the CPUs of
 * /sys/devices/system/cpu/possible and online, against a reference that
 * expands the list into a bitmap and counts its bits (tests/fuzz.h).
 *
 * The format, as lifecycle.h states it: what the kernel prints for a CPU
 * mask (lib/vsprintf.c, bitmap_list_string, then a newline): each run of
 * CPUs as "A-B", a lone CPU as "A", ascending, comma-separated; the empty
 * mask is "\n" alone.  cpu_list_count takes that and a little more:
 *   list := item ("," item)* ["\n"]      item := N | N "-" N
 * where N is decimal digits (leading zeros too) below CPU_LIST_END, an
 * item's first CPU is not above its last, and each item starts above the
 * one before it ends (so "0-3,4-7", which the kernel would print "0-7",
 * counts 8).  Anything else counts 0: nothing listed, spaces, a second
 * newline, overlaps and duplicates ("0-3,2"), descending items, a number
 * of CPU_LIST_END or more (however many digits: no overflow).
 *
 * Each input is checked twice:
 *   - its bytes as the list's text: the count is the reference's;
 *   - its bytes as a CPU mask, printed as the kernel prints it: byte 0
 *     times 256 is the first CPU of the mask, byte 1 bit 0 drops the
 *     newline, the rest are the mask's bits (up to 8192 CPUs, those of
 *     CPU_LIST_END or more left out); the count is the number of bits set.
 */
#include "fuzz.h"
#include "../lifecycle.h"

/* A CPU number: decimal digits, below CPU_LIST_END. */
static bool reference_cpu(const char **p, unsigned long *cpu)
{
	const char *s = *p;
	unsigned long v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v >= CPU_LIST_END)
			return false;
	}
	*p = s;
	*cpu = v;
	return true;
}

/* The list read by the grammar above, its CPUs set in a bitmap; the
 * number of bits set, or 0 where the list breaks the grammar. */
static unsigned reference_count(const char *s)
{
	static uint8_t cpus[CPU_LIST_END / 8];
	unsigned long first, last;
	long highest = -1;	/* the highest CPU listed so far */
	unsigned count = 0;

	memset(cpus, 0, sizeof(cpus));
	for (;;) {
		if (!reference_cpu(&s, &first))
			return 0;
		last = first;
		if (*s == '-') {
			s++;
			if (!reference_cpu(&s, &last))
				return 0;
		}
		if (last < first || (long)first <= highest)
			return 0;
		for (unsigned long cpu = first; cpu <= last; cpu++)
			cpus[cpu / 8] |= (uint8_t)(1 << cpu % 8);
		highest = (long)last;
		if (*s != ',')
			break;
		s++;
	}
	if (*s == '\n')
		s++;
	if (*s)
		return 0;
	for (size_t i = 0; i < sizeof(cpus); i++)
		count += (unsigned)__builtin_popcount(cpus[i]);
	return count;
}

/* The mask as the kernel prints it: each run of set bits. */
static char *kernel_print(unsigned long base, const uint8_t *bits, size_t nbits, bool newline,
			  unsigned *set)
{
	char *text = malloc(nbits * 7 + 2), *at = text;	/* "65535," per CPU at most */
	bool first = true;

	*set = 0;
	for (size_t i = 0; i < nbits; i++) {
		size_t end = i;

		if (!(bits[i / 8] >> i % 8 & 1))
			continue;
		while (end + 1 < nbits && bits[(end + 1) / 8] >> (end + 1) % 8 & 1)
			end++;
		at += sprintf(at, first ? "%lu" : ",%lu", base + i);
		if (end > i)
			at += sprintf(at, "-%lu", base + end);
		*set += (unsigned)(end - i + 1);
		first = false;
		i = end;
	}
	if (newline)
		*at++ = '\n';
	*at = 0;
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	char *text = fuzz_string(input, size);
	unsigned got = cpu_list_count(text), want = reference_count(text);

	FUZZ_CHECK(got == want, "'%s': %u CPUs, want %u", text, got, want);
	free(text);

	if (size < 2)
		return 0;
	unsigned long base = (unsigned long)input[0] * 256;
	size_t nbits = (size - 2 < 1024 ? size - 2 : 1024) * 8;
	unsigned set;

	if (base + nbits > CPU_LIST_END)
		nbits = CPU_LIST_END - base;
	text = kernel_print(base, input + 2, nbits, !(input[1] & 1), &set);
	got = cpu_list_count(text);
	FUZZ_CHECK(got == set, "the mask printed '%s': %u CPUs, want %u", text, got, set);
	/* ... and cpu_list_mask gives back the very bits printed */
	static uint64_t mask[CPU_LIST_END / 64];

	got = cpu_list_mask(text, mask, CPU_LIST_END / 64);
	for (unsigned long cpu = 0; cpu < CPU_LIST_END; cpu++) {
		bool printed = cpu >= base && cpu < base + nbits &&
			       (input[2 + (cpu - base) / 8] >> (cpu - base) % 8 & 1);

		FUZZ_CHECK((bool)(mask[cpu / 64] >> cpu % 64 & 1) == printed,
			   "the mask printed '%s': CPU %lu %s", text, cpu,
			   printed ? "missing" : "set, not printed");
	}
	FUZZ_CHECK(got == set, "the mask printed '%s': cpu_list_mask counts %u, want %u",
		   text, got, set);
	free(text);
	return 0;
}

#ifdef MAKE_CORPUS
/* What the kernel prints, and lists it never prints: each boundary at,
 * one past and far past it.  The mask seeds: the first CPUs, and the
 * last ones below CPU_LIST_END. */
void write_seeds(const char *dir)
{
	static const char *const lists[] = {
		"0-3,6\n", "0\n", "0-1\n", "0-15", "0,2,4-5\n", "0-127\n", "0-3,8-11,16\n",
		"", "\n", "garbage\n", "3-1\n", "0-\n", "-3\n", "0-3,\n", ",0-3\n", "0--3\n",
		"0-3,2\n", "0-3,3\n", "4,0-3\n", "1,1\n", "0-3,4-7\n", "00-03\n",
		"0 -3\n", " 0-3\n", "0-3 \n", "0-3\n\n", "0-3\r\n", "0-3\nx",
		"65535\n", "65536\n", "0-65535\n", "0-65536\n", "65535-65535\n",
		"0-4294967295\n", "0-4294967296\n", "0-18446744073709551615\n",
		"0-18446744073709551616\n", "99999999999999999999999999\n",
		"000000000000000000000000000000000000000001\n",
	};
	static const uint8_t masks[][6] = {
		{ 0, 0, 0xff, 0x0f },			/* 0-11\n */
		{ 0, 1, 0x55, 0x55, 0x01 },		/* 0,2,4,...,16 */
		{ 0, 0, 0x00, 0x00 },			/* \n: no CPU */
		{ 255, 0, 0x00, 0x00, 0x00, 0x80 },	/* 65311 */
	};
	static uint8_t top[2 + 32] = { 255, 0 };	/* 65280-65535\n */
	char name[64];

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		snprintf(name, sizeof(name), "list-%02zu", i);
		seed_write(dir, name, lists[i], strlen(lists[i]));
	}
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		snprintf(name, sizeof(name), "mask-%02zu", i);
		seed_write(dir, name, masks[i], sizeof(masks[i]));
	}
	memset(top + 2, 0xff, 32);
	seed_write(dir, "mask-top", top, sizeof(top));
}
#endif
