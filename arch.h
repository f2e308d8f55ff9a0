/* SPDX-License-Identifier: MIT */
/* arch.h - the code that differs between CPU architectures.
 *
 * How to enter the kernel, the system call numbers, where a freestanding
 * process starts, and how a new thread starts on its own stack: one block
 * per architecture.  The values that differ are data, in linux.h: the few
 * open(2) flags (O_DIRECT, O_DIRECTORY, O_NOFOLLOW), kept there because
 * they also travel inside FUSE messages.  The Makefile adds each
 * architecture's compiler flags.  Adding an architecture means a block
 * here, a look at linux.h's flags and layouts, and its flags in the
 * Makefile.  The entry points (_start, thread_spawn) are emitted only by
 * sys.c, the one file that defines SYS_RUNTIME.
 */
#ifndef FUSEURING_ARCH_H
#define FUSEURING_ARCH_H

#if defined(__x86_64__)

enum {
	SYS_read = 0, SYS_write = 1, SYS_close = 3, SYS_lseek = 8,
	SYS_mmap = 9, SYS_munmap = 11, SYS_rt_sigaction = 13, SYS_rt_sigprocmask = 14, SYS_rt_sigpending = 127,
	SYS_ioctl = 16, SYS_mincore = 27, SYS_madvise = 28, SYS_getpid = 39,
	SYS_socket = 41,
	SYS_connect = 42, SYS_sendto = 44, SYS_recvmsg = 47,
	SYS_socketpair = 53, SYS_clone = 56, SYS_execve = 59, SYS_exit = 60,
	SYS_wait4 = 61, SYS_kill = 62, SYS_fcntl = 72, SYS_fsync = 74,
	SYS_fdatasync = 75, SYS_ftruncate = 77, SYS_getcwd = 79,
	SYS_chdir = 80, SYS_getuid = 102, SYS_getgid = 104, SYS_setsid = 112,
	SYS_capget = 125, SYS_statfs = 137, SYS_fstatfs = 138,
	SYS_prctl = 157, SYS_mount = 165, SYS_umount2 = 166, SYS_gettid = 186,
	SYS_futex = 202, SYS_sched_setaffinity = 203,
	SYS_sched_getaffinity = 204, SYS_getdents64 = 217,
	SYS_clock_gettime = 228,
	SYS_exit_group = 231, SYS_openat = 257, SYS_unlinkat = 263,
	SYS_readlinkat = 267, SYS_ppoll = 271, SYS_utimensat = 280,
	SYS_fallocate = 285,
	SYS_signalfd4 = 289, SYS_dup3 = 292, SYS_pipe2 = 293,
	SYS_prlimit64 = 302, SYS_renameat2 = 316, SYS_statx = 332,
	SYS_io_uring_setup = 425,
	SYS_io_uring_enter = 426, SYS_io_uring_register = 427,
	SYS_move_mount = 429, SYS_fsopen = 430, SYS_fsconfig = 431,
	SYS_fsmount = 432, SYS_close_range = 436,
};

static inline long syscall6(long n, long a, long b, long c, long d, long e,
			    long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#if defined(SYS_RUNTIME) && !defined(HOSTED)
/* The kernel enters with the stack pointing at argc, then argv[], NULL,
 * envp[], NULL.  Align the stack as the ABI wants for a call and hand that
 * pointer to C. */
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");

/* long thread_spawn(flags, stack_top, child_tid, fn, arg)
 * clone(2) with a fresh stack.  The child cannot return through the caller's
 * frames (they live on the parent's stack), so fn and arg travel on the new
 * stack and the child calls fn(arg) and then exit(0) right here. */
__asm__(".text\n"
	".global thread_spawn\n"
	"thread_spawn:\n"
	"	and $-16, %rsi\n"
	"	sub $16, %rsi\n"
	"	mov %r8, 0(%rsi)\n"
	"	mov %rcx, 8(%rsi)\n"
	"	mov %rdx, %r10\n"	/* child_tid */
	"	xor %edx, %edx\n"	/* parent_tid */
	"	xor %r8d, %r8d\n"	/* tls */
	"	mov $56, %eax\n"	/* SYS_clone */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"	xor %ebp, %ebp\n"
	"	pop %rdi\n"
	"	pop %rax\n"
	"	call *%rax\n"
	"	xor %edi, %edi\n"
	"	mov $60, %eax\n"	/* SYS_exit: this thread only */
	"	syscall\n"
	"1:	ret\n");
#endif

#elif defined(__aarch64__)

enum {
	SYS_getcwd = 17, SYS_dup3 = 24, SYS_fcntl = 25, SYS_ioctl = 29,
	SYS_umount2 = 39, SYS_mount = 40, SYS_statfs = 43, SYS_fstatfs = 44, SYS_ftruncate = 46,
	SYS_fallocate = 47, SYS_chdir = 49, SYS_openat = 56, SYS_close = 57,
	SYS_unlinkat = 35, SYS_pipe2 = 59, SYS_getdents64 = 61, SYS_lseek = 62, SYS_read = 63, SYS_write = 64,
	SYS_ppoll = 73, SYS_signalfd4 = 74, SYS_readlinkat = 78,
	SYS_utimensat = 88, SYS_capget = 90,
	SYS_fsync = 82, SYS_fdatasync = 83, SYS_exit = 93, SYS_exit_group = 94,
	SYS_futex = 98,
	SYS_clock_gettime = 113, SYS_sched_setaffinity = 122,
	SYS_sched_getaffinity = 123, SYS_kill = 129, SYS_rt_sigaction = 134, SYS_rt_sigprocmask = 135, SYS_rt_sigpending = 136,
	SYS_setsid = 157, SYS_prctl = 167, SYS_getpid = 172, SYS_getuid = 174,
	SYS_getgid = 176, SYS_gettid = 178, SYS_socket = 198,
	SYS_socketpair = 199, SYS_connect = 203, SYS_sendto = 206,
	SYS_recvmsg = 212, SYS_munmap = 215, SYS_clone = 220, SYS_execve = 221,
	SYS_mmap = 222, SYS_mincore = 232, SYS_madvise = 233, SYS_wait4 = 260,
	SYS_prlimit64 = 261,
	SYS_renameat2 = 276,
	SYS_statx = 291, SYS_close_range = 436,
	SYS_io_uring_setup = 425, SYS_io_uring_enter = 426,
	SYS_io_uring_register = 427, SYS_move_mount = 429, SYS_fsopen = 430,
	SYS_fsconfig = 431, SYS_fsmount = 432,
};

static inline long syscall6(long n, long a, long b, long c, long d, long e,
			    long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}

#if defined(SYS_RUNTIME) && !defined(HOSTED)
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	mov x0, sp\n"
	"	and sp, x0, #-16\n"
	"	bl start_c\n"
	"	brk #0\n");

/* Same contract as the x86_64 version; arm64's clone takes
 * (flags, stack, parent_tid, tls, child_tid). */
__asm__(".text\n"
	".global thread_spawn\n"
	"thread_spawn:\n"
	"	and x1, x1, #-16\n"
	"	stp x3, x4, [x1, #-16]!\n"
	"	mov x4, x2\n"		/* child_tid */
	"	mov x2, xzr\n"		/* parent_tid */
	"	mov x3, xzr\n"		/* tls */
	"	mov x8, #220\n"		/* SYS_clone */
	"	svc #0\n"
	"	cbnz x0, 1f\n"
	"	mov x29, #0\n"
	"	ldp x1, x0, [sp], #16\n"
	"	blr x1\n"
	"	mov x0, #0\n"
	"	mov x8, #93\n"		/* SYS_exit: this thread only */
	"	svc #0\n"
	"1:	ret\n");
#endif

#else
#error "fuseuring: add this architecture to arch.h"
#endif

#endif
