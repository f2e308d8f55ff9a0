/* SPDX-License-Identifier: MIT */
/* lifecycle.h - what the rooms of the lifecycle share.  The lifecycle is
 * everything around the data path: it checks BACKING and MOUNTPOINT,
 * mounts, answers INIT, starts the queues, and ends the process cleanly.
 *
 *   log.c        where messages go
 *   backing.c    BACKING: open, lock (one read-write server), undo
 *   mount.c      MOUNTPOINT: check, mount, unmount, remount, -o recover
 *   fusermount.c mounting and unmounting as an ordinary user (fusermount3)
 *   mountinfo.c  what is mounted where: our mount by its ID, loop devices
 *   handshake.c  INIT: the transport, the queues and their locked memory; -V
 *   daemon.c     the process: main, workers, signals, detach, pidfile,
 *                systemd
 *   options.c    the command line: -o options, their checks and help
 *                (options.h, which the data path reads too)
 *
 * Each room's decisions are pure functions of what it read from the
 * system (declared under "decisions" below, and driven from fixtures by
 * tests/check_lifecycle.c); the system calls sit at the edges.
 */
#ifndef FUSEURING_LIFECYCLE_H
#define FUSEURING_LIFECYCLE_H

#include "server.h"
#include "options.h"

/* Which file: what a statx says identifies it. */
struct file_id {
	uint32_t dev_major, dev_minor;
	uint64_t ino;
};

static inline struct file_id file_id(const struct statx *st)
{
	return (struct file_id){ st->stx_dev_major, st->stx_dev_minor, st->stx_ino };
}

static inline bool same_file(struct file_id a, struct file_id b)
{
	return a.ino == b.ino && a.dev_major == b.dev_major &&
	       a.dev_minor == b.dev_minor;
}

/* Which mount: its ID (mountinfo's first column) and its filesystem's
 * device (the third), as mount IDs are given again as soon as they are
 * free. */
struct mount_ident {
	unsigned long id;
	uint32_t dev_major, dev_minor;
};

static inline bool same_mount(struct mount_ident a, struct mount_ident b)
{
	return a.id == b.id && a.dev_major == b.dev_major && a.dev_minor == b.dev_minor;
}

enum { UNMOUNT_IDLE, UNMOUNT_RUNNING, UNMOUNT_DONE };

/* The signals that stop the server (daemon.c's control_loop).  They end
 * a start at once until it makes something a death would leave behind;
 * from there (hold_stop_signals) they wait, blocked, for the signalfd. */
#define SIGNAL_BIT(sig)	(1ull << ((sig) - 1))
#define STOP_SIGNALS	(SIGNAL_BIT(SIGINT) | SIGNAL_BIT(SIGTERM) | SIGNAL_BIT(SIGHUP) | \
			 SIGNAL_BIT(SIGUSR1))

static inline void hold_stop_signals(void)
{
	sys_sigprocmask_block(STOP_SIGNALS);
}

/* Everything the lifecycle knows beyond the data path's struct server. */
struct daemon {
	struct server srv;
	const struct options *opt;
	const char *backing;	/* absolute: the mount's source */
	const char *pidfile;	/* absolute, or NULL */
	struct file_id pidfile_id;
	struct file_id backing_id;
	bool backing_created;	/* this start created BACKING (-o size=) */
	bool backing_grown;	/* this start grew it from backing_old_size */
	uint64_t backing_old_size;
	/* MOUNTPOINT, as checked: an O_PATH descriptor, what it resolves to
	 * (symlinks followed, as /proc/self/mountinfo shows paths) */
	int mountpoint_fd;
	char mountpoint[4096];
	bool root_is_file;	/* MOUNTPOINT is a file: the volume itself */
	struct mount_ident mount;	/* ours; id 0 before mounting */
	uint32_t mount_tag;	/* its max_read=, in its options (new_mount_tag) */
	uint32_t random;	/* the exec's random bits (AT_RANDOM) */
	int unmount_state;	/* fuse_unmount: UNMOUNT_IDLE, _RUNNING or _DONE */
	int unmount_result;	/* what the last fuse_unmount() came to */
	bool passthrough;	/* the kernel reads and writes BACKING itself */
	const char *notify_socket;	/* systemd's NOTIFY_SOCKET, or NULL */
	int log_fd;		/* -o log=FILE, or -1 */
	char dead_loops[200];	/* loop devices on a dead mount -o recover took away */
	char shrunk[300];	/* why the queues got less than asked, or "" */
	unsigned kernel_minor;	/* the FUSE protocol minor the kernel speaks */
};

/* --- log.c --------------------------------------------------------------------- */

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6 };

void log_v(enum log_level level, const char *f, va_list ap);
/* From now on messages go to log_fd (-o log=FILE) if >= 0, else to the
 * system log; says so first if they would be lost. */
void log_detach(int log_fd);

/* --- backing.c ----------------------------------------------------------------- */

/* Open BACKING as the options say (creating or growing it with size=),
 * lock it, and fill d->srv.backing.  Prints why and returns false. */
bool backing_open(struct daemon *d);
/* A failed start leaves BACKING as it found it. */
void backing_undo(struct daemon *d);
/* Is BACKING (opened as the options say, owned by file_uid) mapped for
 * replies from its page cache?  Only where mincore tells the truth. */
bool backing_mappable(bool direct, bool is_block, bool read_only,
		      uint32_t file_uid, uint32_t uid);
/* Remove `path` if it is still the file `id` (not whatever was put there
 * since). */
void unlink_if_same(const char *path, struct file_id id);

/* Who locks a file, from the lock lines of /proc/locks or an fdinfo. */
enum lock_seen { LOCKS_NONE, LOCKS_READ, LOCKS_WRITE };
/* The file of `path` (with "": of descriptor dirfd) as lock lines name
 * it: the device is its superblock's (mountinfo's), not always statx's. */
bool lock_file_id(int dirfd, const char *path, struct file_id *id);
/* The locks on `file` (a lock_file_id), from /proc/locks. */
enum lock_seen backing_locks(struct file_id file);
/* The locks process `pid` holds, on any file (a server: BACKING's). */
enum lock_seen server_locks(int pid);
/* The process serving the FUSE mount m (from its /dev/fuse descriptor's
 * fdinfo, Linux 6.16+), or 0. */
int fuse_server_of(struct mount_ident m);
/* The device of the FUSE connection fuse_fd is on, into m (id untouched);
 * false where the kernel does not say (before 6.16). */
bool fuse_connection_device(int fuse_fd, struct mount_ident *m);

/* --- mount.c ------------------------------------------------------------------- */

/* Open MOUNTPOINT (d->mountpoint_fd), resolve it, and handle a dead mount
 * there (-o recover).  Before BACKING: a dead mount may still hold it. */
bool mountpoint_open(struct daemon *d);
/* Is MOUNTPOINT usable for BACKING?  Sets d->root_is_file. */
bool mountpoint_check(struct daemon *d);
/* Mount on what mountpoint_open opened; d->srv.fuse_fd and d->mount. */
bool fuse_mount(struct daemon *d);
/* Lazily unmount our mount, once, from any thread: whoever asks first
 * does it, the others wait until it is done (then the process may end).
 * 0 when it is gone; -EBUSY when it cannot be reached by its path now
 * (covered by another mount, or moved), or another -errno: it may be
 * asked again. */
int fuse_unmount(struct daemon *d);
/* Once ours is gone: how many other mounts of our volume stay in this
 * mount namespace (mount --bind copies), and where the first is. */
unsigned copies_of_our_mount(const struct daemon *d, char *where, size_t cap);
/* For a message: why fuse_unmount() could not reach our mount. */
void unmount_blocked_why(const struct daemon *d, char *why, size_t cap);

/* --- fusermount.c ---------------------------------------------------------------- */

/* Mount MOUNTPOINT through fusermount3 with these FUSE options: the
 * /dev/fuse descriptor, or -errno (having said why). */
int fusermount_mount(const struct daemon *d, const char *options);
/* fusermount3 -u -z: lazily unmount `path` as an ordinary user may. */
int fusermount_unmount(const struct daemon *d, const char *path);
/* mount -o remount: an exit status. */
int remount(const struct options *o);

/* --- mountinfo.c ---------------------------------------------------------------- */

struct mount_lookup;
/* The mount a path (or, with "", a descriptor) is on. */
int mount_of(int dirfd, const char *path, struct mount_ident *m);
/* Run a lookup (set up by the caller) over /proc/self/mountinfo: 1 when
 * what it wants is there, 0 when not, -EIO when the table cannot be read. */
int mount_find(struct mount_lookup *lk);
/* Loop devices whose backing file is `path` or lies under it:
 * "/dev/loopN ..." into list; how many. */
unsigned loops_under(const char *path, char *list, size_t cap);
/* Filesystems mounted from those loop devices ("/dev/loop0 /dev/loop3"):
 * what ("ext4 on /dev/loop0 is mounted at /mnt/data, ...") and where
 * ("/mnt/data ..."); how many. */
unsigned mounts_on_loops(const char *loops, char *what, size_t what_cap,
			 char *where, size_t where_cap);
/* The same for every fuseuring volume of BACKING (`backing`, absolute). */
unsigned loops_on_volumes_of(const char *backing, char *list, size_t cap);

/* --- handshake.c ---------------------------------------------------------------- */

/* Can this kernel's io_uring do what we need (before mounting)? */
bool kernel_check(struct daemon *d);
/* -o transport=uring: is FUSE over io_uring switched on (before mounting)? */
bool uring_switched_on(void);
/* -V: the version, and what this kernel offers; the exit status. */
int print_version(void);
/* Read INIT, choose the transport, set up the queues, answer INIT. */
bool fuse_handshake(struct daemon *d);
/* The kernel's queues (one per possible CPU; 0: not known) and the CPUs
 * online, from /sys/devices/system/cpu. */
void read_cpus(struct server *srv);

/* --- decisions: pure functions of what was read (tests/check_lifecycle.c) ------ */

/* Make `path` absolute against `cwd` and tidy ("." and ".." and doubled
 * slashes removed, by the text: symlinks stay).  Returns `buf`, or NULL
 * if it does not fit. */
const char *absolute_path(const char *path, const char *cwd, char *buf, size_t cap);

/* Is `file` the path `dir` or below it ("/a/b" is below "/a", "/ab" is
 * not)?  By the text: both as the kernel prints them. */
bool path_lies_under(const char *file, const char *dir);

/* One line of /proc/self/mountinfo, split in place, escapes (\040)
 * undone.  What the kernel prints (show_mountinfo), and a little more:
 *   ID SP PARENT SP MAJOR ":" MINOR SP ROOT SP PATH SP MIDDLE " - "
 *   TYPE SP SOURCE SP OPTIONS
 * The numbers are decimal digits (leading zeros too), MAJOR and MINOR
 * below 2^32; ROOT, PATH, TYPE and SOURCE hold no space and may be empty,
 * their escapes undone: a backslash and three octal digits, the first 0-3,
 * but not "\000"; any other backslash stays.  MIDDLE (the mount's options
 * and the optional fields) is not looked into: it runs up to the first
 * " - ".  OPTIONS is the rest of the line as it is, escapes and all (they
 * keep a comma in a value from splitting it; a filesystem may print a
 * space there).  Any other line is refused. */
struct mount_entry {
	struct mount_ident mount;
	unsigned long parent;
	const char *root, *path, *type, *source;
	const char *options;	/* the superblock's: "rw,user_id=0,..." */
};
bool mountinfo_parse(char *line, struct mount_entry *e);

/* Our mounts carry a tag in their options, max_read=MOUNT_TAG_BASE + 31
 * random bits, no mount's already: a mount made by path (mount(2) through
 * /proc/self/fd, fusermount3) is then told from any other by what the
 * kernel itself reports, whatever was renamed or mounted meanwhile.  A
 * READ is never anywhere near that large, so the limit changes nothing. */
#define MOUNT_TAG_BASE	(1u << 31)
/* The tag in a superblock's option list: the number of its first item
 * (comma-separated) that is "max_read=" and decimal digits of a number
 * below 2^32; 0 without one. */
uint32_t options_tag(const char *options);

/* Looking for one mount, line by line: by its ID and device (`want`; a
 * device 0:0, which no mount has, stands for any), or, with want.id 0, a
 * fuseuring mount by its tag, on the mount `parent` if that is not 0.
 * What it is, and where: path, type and source cut to fit (a mount point
 * can be longer than PATH_MAX; whoever follows `path` checks where it
 * leads). */
struct mount_lookup {
	/* wanted */
	struct mount_ident want;
	uint32_t tag;
	unsigned long parent;
	const char *owner;	/* by tag: "user_id=N" among its options, or NULL */
	/* by tag, want.dev_major:dev_minor too, unless 0:0 */
	/* found: the first that matches, and how many do */
	bool found;
	unsigned matches;
	struct mount_ident mount;
	unsigned long mount_parent;
	uint32_t mount_tag;
	char path[4096], type[64], source[4096];
};
bool mount_lookup_line(void *lookup, char *line);

/* One lock line of /proc/locks, or of an fdinfo ("lock:\t..."): the lock
 * it shows a holder having on file `id` (NULL: on any file). */
enum lock_seen lock_line_on(const char *line, const struct file_id *id);

/* The flags for mount(MS_REMOUNT) that change only what was asked (ro or
 * rw, exec or noexec) and keep the rest, from statfs's f_flags. */
unsigned long remount_flags(const struct options *o, unsigned long statfs_flags);

/* The number of CPUs in a list of /sys/devices/system/cpu, such as
 * "0-3,6\n": ranges and single CPUs, ascending without overlaps, as the
 * kernel prints them (bitmap_print_to_pagebuf), with or without the
 * newline at the end.  0 for anything else, the kernel's empty list "\n"
 * included: an overlap ("0-3,2"), spaces, a CPU number of CPU_LIST_END or
 * more (NR_CPUS is a few thousand at most; a count that could overflow is
 * refused). */
unsigned cpu_list_count(const char *list);
#define CPU_LIST_END 65536
/* The same, and the CPUs' bits set in mask (the first 64 * words CPUs;
 * all clear for a list cpu_list_count refuses). */
unsigned cpu_list_mask(const char *list, uint64_t *mask, unsigned words);

/* What the transport choice depends on, as read from the system and the
 * kernel's INIT. */
struct transport_facts {
	uint64_t offered;	/* the kernel's INIT flags */
	bool may_passthrough;	/* CAP_SYS_ADMIN */
	bool is_block;		/* BACKING is a block device */
	unsigned cpus;		/* those we may run on */
	unsigned kernel_queues;	/* possible CPUs; 0: unknown */
	unsigned queues_asked;	/* -o queues=, or 0 */
};

struct transport_plan {
	enum transport_choice transport;	/* DEV or URING */
	bool passthrough;	/* the kernel moves the data */
	bool resizable;		/* the volume follows BACKING's size */
	unsigned nqueues;
	char why[200];		/* for the start line */
	char refusal[300];	/* INIT must be refused: why; else "" */
};
void transport_decide(const struct options *o, const struct transport_facts *f,
		      struct transport_plan *p);

/* /dev/fuse readers beyond this only wake each other: every clone of the
 * connection waits on the one input queue (doc/design.md, "Queues and the
 * herd"; measured in doc/performance.md). */
#define DEV_QUEUES_MAX	4
/* From this many CPUs on, FUSE over io_uring beats /dev/fuse (measured at
 * 2 and at 16 CPUs: doc/performance.md, "Queues, and what auto chooses"). */
#define URING_MIN_CPUS	8

/* Locked memory: the one way the queues shrink when it is short
 * (max_write down to 64K, then depth, then max_write further, then
 * /dev/fuse queues); false when nothing is left to give up. */
bool queue_shape_shrink(struct server *srv);
/* Shrink the queues until their locked memory fits `budget` bytes;
 * false if even the smallest does not. */
bool queue_shape_fit(struct server *srv, uint64_t budget);

#endif
