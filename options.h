/* SPDX-License-Identifier: MIT */
/* options.h - the command line: what the user asked for (options.c). */
#ifndef FUSEURING_OPTIONS_H
#define FUSEURING_OPTIONS_H

#include "sys.h"

/* How requests reach BACKING: -o transport=. */
enum transport_choice { TRANSPORT_AUTO, TRANSPORT_DEV, TRANSPORT_URING,
			TRANSPORT_PASSTHROUGH };
extern const char *const transport_names[];	/* by enum transport_choice */

struct options {
	const char *backing, *mountpoint;
	bool foreground;
	bool read_only, allow_other, direct, passthrough, resize, debug;
	bool quiet;		/* no "serving" line on the terminal */
	bool recover;		/* detach a dead fuseuring mount at MOUNTPOINT first */
	bool noexec;		/* from mount(8)'s generic options */
	bool noexec_given;	/* noexec or exec was given (remount) */
	bool access_given;	/* ro or rw was given (remount) */
	bool fake;		/* mount.fuseuring -f: check, mount nothing */
	bool helper;		/* called by mount(8): its conventions */
	bool verbose;		/* mount -v */
	bool remount;		/* mount -o remount: change ro/rw, noexec */
	bool version;		/* -V: print the version and what the kernel offers */
	bool help;		/* -h: print the usage */
	const char *name;
	const char *pidfile;
	const char *log_file;	/* once detached, messages go there */
	uint64_t size;		/* 0: not given */
	uint64_t max_write;
	uint32_t uid, gid, mode;
	uint32_t depth, queues;	/* queues 0: one per CPU */
	uint32_t transport;	/* enum transport_choice */
	char **envp;
};

#define VERSION "1.0"

/* Fill `o` (already holding the defaults) from argv, and decide nothing
 * else: returns 0, or the usage exit status (2; 1 when mount(8) runs us,
 * as mount.fuseuring or for a remount) with the reason, one line, in
 * `why`.  -h and -V stop there (o->help, o->version).  max_write must be a
 * multiple of the kernel's page size.  argv is left as it was (ps shows
 * it): the option lists, OPTION_LISTS_MAX bytes in all with their NULs,
 * are split in a copy, which the strings in `o` point into until the next
 * call. */
int options_parse(struct options *o, int argc, char **argv, uint32_t page_size,
		  char *why, size_t why_cap);
#define OPTION_LISTS_MAX 16384

/* options_parse() for the daemon: a mistake is reported and ends the
 * process with the usage status, -h prints the usage and exits 0; sets
 * exit_usage and exit_failure. */
void parse_command_line(struct options *o, int argc, char **argv,
			uint32_t page_size);

/* N, or N followed by K, M, G or T in either case (powers of 1024): N is
 * decimal digits, nothing before or after; false if the value does not fit
 * 64 bits. */
bool parse_size(const char *s, uint64_t *out);

/* Exit statuses: fuseuring's own (2 usage, 1 failure), or mount(8)'s
 * when mount(8) runs us (1 usage, 32 mount failure).  Set by
 * parse_command_line. */
extern int exit_usage, exit_failure;

/* log.c: report a command-line mistake, `why`, and exit with exit_usage. */
_Noreturn void usage_error(const char *why);

#endif
