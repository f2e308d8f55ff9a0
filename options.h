/* options.h - the command line: what the user asked for (options.c). */
#ifndef FUSEURING_OPTIONS_H
#define FUSEURING_OPTIONS_H

#include "sys.h"

struct options {
	const char *backing, *mountpoint;
	bool foreground;
	bool read_only, allow_other, direct, passthrough, resize, debug;
	bool noexec;		/* from mount(8)'s generic options */
	bool fake;		/* mount.fuseuring -f: check, mount nothing */
	const char *name;
	const char *pidfile;
	uint64_t size;		/* 0: not given */
	uint64_t max_write;
	uint32_t uid, gid, mode;
	uint32_t depth, queues;	/* queues 0: one per CPU */
	uint32_t transport;	/* enum transport_choice */
	char **envp;
};

#define VERSION "1.0"

/* Fill `o` (already holding the defaults) from argv; a mistake is
 * reported and ends the process with status 2.  max_write must be a
 * multiple of the kernel's page size. */
void parse_command_line(struct options *o, int argc, char **argv,
			uint32_t page_size);

/* N, or N followed by K, M, G or T (powers of 1024). */
bool parse_size(const char *s, uint64_t *out);

/* daemon.c: report a command-line mistake and exit with status 2. */
__attribute__((format(printf, 1, 2))) _Noreturn void usage_error(const char *f, ...);

#endif
