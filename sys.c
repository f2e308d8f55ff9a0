/* SPDX-License-Identifier: MIT */
/* sys.c - the freestanding runtime: process entry, the memory functions
 * the compiler may call, error names and a small formatter.
 *
 * In a hosted (test) build libc provides the entry point and mem*; the rest
 * is the same code.
 */
#define SYS_RUNTIME
#include "sys.h"

int main(int argc, char **argv, char **envp);

#ifndef HOSTED
/* Called by _start (arch.h) with the initial stack: argc, argv..., NULL,
 * envp..., NULL. */
/* `used`: called by _start's assembly (and, like memcpy below, by no C
 * that link-time optimization would see), it must be kept. */
_Noreturn void start_c(long *sp);
__attribute__((used)) _Noreturn void start_c(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);

	sys_exit_group(main(argc, argv, argv + argc + 1));
}

/* The compiler calls these for struct copies and the like. */
__attribute__((used)) void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

__attribute__((used)) void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

__attribute__((used)) void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

__attribute__((used)) int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}
#endif

#ifdef HOSTED
/* Test builds take it from the heap, so that the sanitizer knows where
 * each allocation ends. */
void *aligned_alloc(size_t align, size_t size);
void free(void *p);

void *map_anonymous(size_t len)
{
	void *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);

	return p ? memset(p, 0, len) : 0;
}

void unmap_anonymous(void *p, size_t len)
{
	(void)len;
	free(p);
}
#else
void *map_anonymous(size_t len)
{
	long p = sys_mmap(0, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p < 0 && p >= MAP_FAILED_MAX)
		return 0;
	/* Some of it is pinned by io_uring: a child need not copy it. */
	sc3(SYS_madvise, p, len, MADV_DONTFORK);
	return (void *)p;
}

void unmap_anonymous(void *p, size_t len)
{
	sys_munmap(p, len);
}
#endif

static const struct {
	uint8_t err;
	const char *text;
} errno_texts[] = {
	{ EPERM, "Operation not permitted" },
	{ ENOENT, "No such file or directory" },
	{ EINTR, "Interrupted system call" },
	{ EIO, "Input/output error" },
	{ ENXIO, "No such device or address" },
	{ EBADF, "Bad file descriptor" },
	{ EAGAIN, "Resource temporarily unavailable" },
	{ ENOMEM, "Cannot allocate memory" },
	{ EACCES, "Permission denied" },
	{ EFAULT, "Bad address" },
	{ EBUSY, "Device or resource busy" },
	{ EEXIST, "File exists" },
	{ EXDEV, "Invalid cross-device link" },
	{ ENODEV, "No such device" },
	{ ENOTDIR, "Not a directory" },
	{ EISDIR, "Is a directory" },
	{ EINVAL, "Invalid argument" },
	{ ENFILE, "Too many open files in system" },
	{ EMFILE, "Too many open files" },
	{ ENOTTY, "Inappropriate ioctl for device" },
	{ EFBIG, "File too large" },
	{ ENOSPC, "No space left on device" },
	{ ESPIPE, "Illegal seek" },
	{ EROFS, "Read-only file system" },
	{ EPIPE, "Broken pipe" },
	{ ERANGE, "Numerical result out of range" },
	{ ENAMETOOLONG, "File name too long" },
	{ ENOSYS, "Function not implemented" },
	{ ELOOP, "Too many levels of symbolic links" },
	{ EPROTO, "Protocol error" },
	{ EOVERFLOW, "Value too large for defined data type" },
	{ EBADFD, "File descriptor in bad state" },
	{ EOPNOTSUPP, "Operation not supported" },
	{ ECONNABORTED, "Software caused connection abort" },
	{ ENOBUFS, "No buffer space available" },
	{ ENOTCONN, "Transport endpoint is not connected" },
	{ ECONNREFUSED, "Connection refused" },
	{ ECANCELED, "Operation canceled" },
};

const char *errno_name(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errno_texts) / sizeof(errno_texts[0]); i++)
		if (errno_texts[i].err == err)
			return errno_texts[i].text;
	return "Unknown error";
}

const char *parse_uint(const char *s, unsigned base, uint64_t *out)
{
	const char *start = s;
	uint64_t v = 0;

	for (;; s++) {
		unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0') :
			     (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f' ?
			     (unsigned)((*s | 0x20) - 'a' + 10) : 16;

		if (d >= base)
			break;
		if (v > (UINT64_MAX - d) / base)
			return NULL;
		v = v * base + d;
	}
	if (s == start)
		return NULL;
	*out = v;
	return s;
}

const char *find_str(const char *hay, const char *needle)
{
	for (; *hay; hay++) {
		size_t i = 0;

		/* Never past hay's end: its NUL differs from the needle. */
		while (needle[i] && hay[i] == needle[i])
			i++;
		if (!needle[i])
			return hay;
	}
	return NULL;
}

long read_small(const char *path, char *buf, size_t cap)
{
	int fd = sys_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	long n = fd, got = 0;

	while (fd >= 0 && (size_t)got + 1 < cap &&
	       (n = sys_read(fd, buf + got, cap - 1 - (size_t)got)) > 0)
		got += n;
	if (fd >= 0)
		sys_close(fd);
	buf[got] = 0;
	return n < 0 ? n : got;
}

bool each_entry(const char *dir, bool (*fn)(void *ctx, const char *name),
		void *ctx)
{
	struct dirent64 { uint64_t ino; int64_t off; uint16_t reclen; uint8_t type; char name[]; };
	uint64_t buf[512];
	int fd = sys_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	bool stop = false;
	long n;

	while (fd >= 0 && !stop && (n = sys_getdents64(fd, buf, sizeof(buf))) > 0)
		for (long at = 0; at < n && !stop;) {
			struct dirent64 *e = (struct dirent64 *)((char *)buf + at);

			at += e->reclen;
			if (e->name[0] != '.')
				stop = fn(ctx, e->name);
		}
	if (fd >= 0)
		sys_close(fd);
	return stop;
}

bool each_line(const char *path, bool (*fn)(void *ctx, char *line), void *ctx)
{
	/* Not on the stack: a worker thread's is 64 KiB. */
	char *buf = map_anonymous(EACH_LINE_MAX + 1);
	int fd = buf ? sys_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0) : -ENOMEM;
	size_t have = 0;
	long n = fd;
	bool skip = false;

	while (fd >= 0 && (n = sys_read(fd, buf + have, EACH_LINE_MAX - have)) > 0) {
		char *line = buf, *end = buf + have + n;

		*end = 0;
		for (char *nl; (nl = (char *)find_str(line, "\n")); line = nl + 1) {
			*nl = 0;
			if (!skip && fn(ctx, line))
				goto done;
			skip = false;
		}
		have = (size_t)(end - line);
		if (have == EACH_LINE_MAX)
			have = 0, skip = true;	/* a giant line */
		memmove(buf, line, have);
	}
done:
	if (fd >= 0)
		sys_close(fd);
	if (buf)
		unmap_anonymous(buf, EACH_LINE_MAX + 1);
	return n >= 0;
}

size_t fmt_v(char *buf, size_t cap, const char *f, va_list ap)
{
	size_t n = 0;

	/* Every character is counted, whether it fits or not, and its
	 * argument is evaluated once: PUT(*f++) must move on either way. */
#define PUT(ch) do { char c_ = (ch); if (n + 1 < cap) buf[n] = c_; n++; } while (0)
	while (*f) {
		if (*f != '%') {
			PUT(*f++);
			continue;
		}
		f++;
		char pad = ' ', tmp[24];
		unsigned width = 0, longs = 0;
		bool left = *f == '-', neg = false;

		if (left)
			f++;
		if (*f == '0')
			pad = *f++;
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (unsigned)(*f++ - '0');
		while (*f == 'l')
			longs++, f++;

		const char *s = tmp;
		size_t len = 1;
		char conv = *f ? *f++ : '%';

		if (conv == 's') {
			s = va_arg(ap, const char *);
			len = str_len(s);
		} else if (conv == 'c') {
			tmp[0] = (char)va_arg(ap, int);
		} else if (conv == 'd' || conv == 'u' || conv == 'x' ||
			   conv == 'o') {
			unsigned base = conv == 'x' ? 16 : conv == 'o' ? 8 : 10;
			uint64_t v;

			if (conv == 'd') {
				int64_t sv = longs ? va_arg(ap, long) : va_arg(ap, int);

				neg = sv < 0;
				v = neg ? -(uint64_t)sv : (uint64_t)sv;
			} else {
				v = longs ? va_arg(ap, unsigned long) :
					    va_arg(ap, unsigned);
			}
			char *p = tmp + sizeof(tmp);

			do
				*--p = "0123456789abcdef"[v % base];
			while (v /= base);
			if (neg)
				*--p = '-';
			s = p;
			len = (size_t)(tmp + sizeof(tmp) - p);
		} else {
			tmp[0] = conv;	/* %% and anything unknown */
		}
		if (neg && pad == '0') {
			PUT('-');	/* "-0042": the sign goes before the zeros */
			s++, len--;
			width -= width > 0;
		}
		for (; !left && width > len; width--)
			PUT(pad);
		for (size_t i = 0; i < len; i++)
			PUT(s[i]);
		for (; left && width > len; width--)
			PUT(' ');
	}
#undef PUT
	if (cap)
		buf[n < cap ? n : cap - 1] = 0;
	return n < cap ? n : cap ? cap - 1 : 0;
}

size_t fmt(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, f);
	n = fmt_v(buf, cap, f, ap);
	va_end(ap);
	return n;
}
