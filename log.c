/* SPDX-License-Identifier: MIT */
/* log.c - where messages go: stderr until the daemon detaches (always,
 * with -f or -o debug), then the file of -o log=FILE, else the system log
 * (/dev/log, or the kernel log when no syslog daemon listens).
 */
#include "lifecycle.h"

/* The one piece of process-wide state, because every part of the program
 * may need to report. */
static struct {
	int fd;
	bool syslog;	/* frame lines as "<priority>fuseuring[pid]: " */
	bool file;	/* -o log=FILE: "@SECONDS fuseuring[pid]: " (Unix time) */
	int pid;
} log_sink = { .fd = 2 };

void log_v(enum log_level level, const char *f, va_list ap)
{
	char line[1024];
	size_t n;
	struct kernel_timespec now = { 0, 0 };

	if (log_sink.syslog)
		n = fmt(line, sizeof(line), "<%d>fuseuring[%d]: ",
			3 << 3 /* daemon */ | level, log_sink.pid);
	else if (log_sink.file && sc2(SYS_clock_gettime, 0 /* REALTIME */, &now) == 0)
		n = fmt(line, sizeof(line), "@%ld fuseuring[%d]: ", (long)now.tv_sec,
			log_sink.pid);
	else
		n = fmt(line, sizeof(line), "fuseuring: ");
	if (level == LOG_WARNING)
		n += fmt(line + n, sizeof(line) - n, "warning: ");
	n += fmt_v(line + n, sizeof(line) - n - 1, f, ap);
	line[n++] = '\n';
	sys_write(log_sink.fd, line, n);
}

#define DEFINE_LOG(fn, level)						\
	void fn(const char *f, ...)					\
	{								\
		va_list ap;						\
		va_start(ap, f);					\
		log_v(level, f, ap);					\
		va_end(ap);						\
	}
DEFINE_LOG(error, LOG_ERR)
DEFINE_LOG(warn, LOG_WARNING)
DEFINE_LOG(info, LOG_INFO)

/* Report a command-line mistake and exit with status 2 (1 for mount). */
_Noreturn void usage_error(const char *why)
{
	static const char hint[] = "Try 'fuseuring --help'.\n";

	error("%s", why);
	sys_write(2, hint, sizeof(hint) - 1);
	sys_exit_group(exit_usage);
}

/* After detaching there is no terminal: messages go to -o log=FILE, else
 * to syslog, else to the kernel log (root only; the kernel rate-limits
 * what user space writes there).  Where none of them takes messages, say
 * so now, while the terminal still sees it. */
void log_detach(int log_fd)
{
	struct sockaddr_un addr = { AF_UNIX, "/dev/log" };
	int fd = log_fd;

	if (fd < 0) {
		fd = sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && sys_connect(fd, &addr, sizeof(addr)) < 0) {
			sys_close(fd);
			fd = -1;
		}
		if (fd < 0)
			fd = sys_open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);
	}
	if (fd < 0) {
		warn("once detached, messages (stats, errors) are lost: nothing "
		     "listens on /dev/log, and /dev/kmsg is root's; -o log=FILE "
		     "keeps them");
		fd = sys_open("/dev/null", O_WRONLY | O_CLOEXEC, 0);
	}
	log_sink.fd = fd;
	log_sink.file = fd == log_fd;
	log_sink.syslog = !log_sink.file;
	log_sink.pid = sys_getpid();
}
