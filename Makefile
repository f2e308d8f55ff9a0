# SPDX-License-Identifier: MIT
# fuseuring: a freestanding, static binary.  `make` builds it; see README.md.
#   make ARCH=aarch64   cross-builds fuseuring-aarch64 (gcc-aarch64-linux-gnu)
#   make install [PREFIX=/usr/local] [DESTDIR=...] (also BINDIR, MANDIR, SBINDIR, UNITDIR)
NATIVE   := $(shell uname -m)
ARCH     ?= $(NATIVE)
ifeq ($(ARCH),$(NATIVE))
BIN      := fuseuring
STRIP    ?= strip
else
BIN      := fuseuring-$(ARCH)
CC       := $(ARCH)-linux-gnu-gcc
STRIP    := $(ARCH)-linux-gnu-strip
endif
CFLAGS   ?= -Os
FREESTANDING = -std=gnu11 -ffreestanding -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-ffunction-sections -fdata-sections -flto $(GENERAL_REGS) $(NO_LOOP_CALLS)
LINK     = -nostdlib -static $(call cc_has,-no-pie) -Wl,--gc-sections -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,norelro -Wl,-z,noseparate-code \
	-Wl,-z,common-page-size=64
# noseparate-code: code, constants and the ELF headers share one read-only
# executable segment instead of three page-aligned ones; that saves about
# 7 KiB of padding, at the price of constants that could be executed.
# common-page-size=64: the writable segment starts right behind them in
# the file; otherwise ld may pad the file to a page boundary (up to 4 KiB)
# to save one page of memory.
WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter
# The data path, in the order a request travels, and the runtime under it.
DATAPATH  = fuseuring.c fuse_ops.c sys.c
# The lifecycle, in rooms (lifecycle.h lists them).
LIFECYCLE = daemon.c log.c backing.c mount.c fusermount.c mountinfo.c handshake.c options.c
SRC      = $(DATAPATH) $(LIFECYCLE)
HDR      = arch.h sys.h linux.h atomic.h uring.h fuse_proto.h fuse_ops.h \
	server.h log.h options.h lifecycle.h

ifeq ($(ARCH),x86_64)
FREESTANDING += -fcf-protection=none
endif
ifeq ($(ARCH),aarch64)
FREESTANDING += -mno-outline-atomics	# inline atomics, no libgcc helpers
FREESTANDING += -mcmodel=tiny	# code and data within 1 MiB: one adr, not adrp+add
endif

# The flags, and why:
#  - Everything is built for size (-Os), the data path too: its own work
#    is well under a microsecond of the several each request costs in the
#    kernel, and bench.sh measured no difference (doc/performance.md);
#    the binary is to fit an initramfs and be read.
#  - Link-time optimization (-flto) lets the compiler see the whole
#    program: what one file's function does for another's is inlined or
#    left out.  sys.c marks what only the compiler calls (memcpy...) or
#    only _start does (start_c) as used, or it would be left out.
#  - No floating point anywhere: -mgeneral-regs-only, and a variadic
#    function (fmt, error, the option parser's refusals) saves no vector
#    registers on entry (about 40 bytes each).
#  - sys.c defines memcpy, memset and memmove: the compiler must not turn
#    their loops back into calls to themselves (gcc's loop distribution,
#    clang's loop idioms: -fno-builtin there).  Nor any other loop: our
#    memset is a loop too, and the call costs its setup (256 bytes on
#    aarch64).  The stripped binary keeps no .comment naming the compiler.
cc_has = $(shell $(CC) $(1) -Werror -x c -c /dev/null -o /dev/null 2>/dev/null && echo $(1))
GENERAL_REGS   := $(call cc_has,-mgeneral-regs-only)
NO_LOOP_CALLS  := $(call cc_has,-fno-tree-loop-distribute-patterns)
RUNTIME_CFLAGS := -fno-builtin

OBJDIR   := obj-$(ARCH)
OBJ      = $(SRC:%.c=$(OBJDIR)/%.o)

# The .debug file keeps the symbols (test.sh checks there are no undefined ones).
$(BIN): $(BIN).debug
	$(STRIP) -R .comment -o $@ $(BIN).debug

$(BIN).debug: $(OBJ)
	$(CC) $(CFLAGS) $(FREESTANDING) $(LINK) -o $@ $(OBJ)

$(OBJDIR)/%.o: %.c $(HDR) Makefile
	@mkdir -p $(OBJDIR)
	$(CC) $(CFLAGS) $(OBJ_CFLAGS) $(FREESTANDING) $(WARN) -c -o $@ $<

$(OBJDIR)/sys.o: OBJ_CFLAGS = $(RUNTIME_CFLAGS)

# The ceiling build: the same daemon with a BACKING that does nothing (a
# READ answers with the buffer as it is, a WRITE is dropped), so that
# `bench.sh --ceiling` measures what each transport alone can do.  It loses
# every byte written: never install it.
ceiling: $(BIN)-ceiling

CEILING_OBJ = $(filter-out $(OBJDIR)/fuseuring.o,$(OBJ))
$(BIN)-ceiling: fuseuring.c $(CEILING_OBJ) $(HDR) Makefile
	$(CC) $(CFLAGS) -DCEILING=1 $(FREESTANDING) $(LINK) $(WARN) -s -o $@ \
		fuseuring.c $(CEILING_OBJ)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SBINDIR ?= /sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system

# mount(8) looks for mount.TYPE helpers in /sbin: mount.fuseuring for
# -t fuseuring, mount.fuse.fuseuring for -t fuse.fuseuring and for every
# remount of such a mount.  The unit gets the binary's path.
install: fuseuring fuseuring.1 contrib/fuseuring@.service
	install -D -m 755 fuseuring $(DESTDIR)$(BINDIR)/fuseuring
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	ln -sf $(BINDIR)/fuseuring $(DESTDIR)$(SBINDIR)/mount.fuseuring
	ln -sf $(BINDIR)/fuseuring $(DESTDIR)$(SBINDIR)/mount.fuse.fuseuring
	install -D -m 644 fuseuring.1 $(DESTDIR)$(MANDIR)/man1/fuseuring.1
	echo '.so man1/fuseuring.1' >$(DESTDIR)$(MANDIR)/man8/mount.fuseuring.8
	sed 's|/usr/local/bin/fuseuring|$(BINDIR)/fuseuring|' contrib/fuseuring@.service \
		>$(DESTDIR)$(UNITDIR)/fuseuring@.service
	$(MAKE_WHATIS)

# whatis and apropos read man-db's index of each directory of the manpath,
# and a directory can be there under two names (Debian: /usr/local/man is
# /usr/local/share/man, with an index of its own): update every name of
# MANDIR, unless staging into DESTDIR.
MAKE_WHATIS = if [ -z "$(DESTDIR)" ] && command -v mandb >/dev/null; then \
		real=$$(realpath -m $(MANDIR)); \
		for dir in $(MANDIR) $$(manpath 2>/dev/null | tr : ' '); do \
			[ "$$(realpath -m $$dir)" = "$$real" ] && mandb -q $$dir; \
		done; true; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fuseuring $(DESTDIR)$(SBINDIR)/mount.fuseuring \
		$(DESTDIR)$(SBINDIR)/mount.fuse.fuseuring \
		$(DESTDIR)$(MANDIR)/man1/fuseuring.1 $(DESTDIR)$(MANDIR)/man8/mount.fuseuring.8 \
		$(DESTDIR)$(UNITDIR)/fuseuring@.service
	$(MAKE_WHATIS)

# Test builds: hosted, with libc, never shipped.
#   make check:    root-free, kernel-free tests of the request core and of the
#                  data path against a fake ring, the lifecycle's decisions,
#                  and a replay of every fuzz target's corpus (seconds)
#   make sanitize: the daemon with AddressSanitizer and UBSan, and with the
#                  fault-injection hook of tests/fault.c
#   make fuzz:     the libFuzzer targets (needs clang); make fuzz-run runs
#                  them (tests/fuzz.sh)
HOSTCC  ?= $(shell command -v clang >/dev/null && echo clang || echo gcc)
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -g -O1

sanitize: fuseuring-asan

fuseuring-asan: $(SRC) $(HDR) tests/fault.c Makefile
	$(HOSTCC) -std=gnu11 -DHOSTED -DFAULT_INJECTION $(SANITIZE) $(WARN) \
		-o $@ $(SRC) tests/fault.c -lpthread

# The program's files for the tests that link them, each compiled once:
# all but daemon.c, whose main() is the program's.  obj-check/ for make
# check; obj-fuzz/ with libFuzzer's coverage instrumentation.
TESTED_SRC = $(filter-out daemon.c,$(SRC))
FUZZ_CC    = clang
obj-check/%.o: %.c $(HDR) Makefile
	@mkdir -p $(@D)
	$(HOSTCC) -std=gnu11 -DHOSTED $(SANITIZE) $(WARN) -c -o $@ $<
obj-fuzz/%.o: %.c $(HDR) Makefile
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=gnu11 -DHOSTED -fsanitize=fuzzer-no-link $(SANITIZE) $(WARN) -c -o $@ $<

# The fuzz targets (tests/fuzz.h): each a parser of outside text, checked
# against an oracle of its own, with its corpus in tests/corpus/TARGET/.
# fuzz_uses_TARGET: the program's files it links.
FUZZ_TARGETS        = request size cpulist options mountinfo locklines fmt
fuzz_uses_request   = fuse_ops.c
fuzz_uses_size      = options.c log.c sys.c
fuzz_uses_cpulist   = $(TESTED_SRC)
fuzz_uses_options   = options.c log.c sys.c
fuzz_uses_mountinfo = mountinfo.c sys.c
fuzz_uses_locklines = $(TESTED_SRC)
fuzz_uses_fmt       = sys.c
# $(call fuzz_objs,DIR,TARGET)
fuzz_objs = $(addprefix $(1)/,$(fuzz_uses_$(2):.c=.o))

# None of these may hang make check: a run that does not end within a minute
# fails and says so (check_ring has a watchdog of its own, per case).
HANG_LIMIT = 60
hang_guard = echo '$(1)'; timeout $(HANG_LIMIT) $(1) || { r=$$?; [ $$r != 124 ] || \
	echo "FAIL $(1): no end after $(HANG_LIMIT) seconds (a livelock or a deadlock)"; exit 1; }

# Each program runs as soon as it is built (with -j, while the others are
# still being built); make check fails if any of them does.  (Not .PHONY:
# make looks for no rule of a phony target, these pattern rules included.)
CHECKS = check_core check_ring check_lifecycle $(FUZZ_TARGETS:%=replay_%)
.SECONDARY: $(CHECKS)	# built through a pattern rule, but kept
check: $(CHECKS:%=run-%)
run-check_%: check_%
	@$(call hang_guard,./$<)
run-replay_%: replay_%
	@$(call hang_guard,./$< tests/corpus/$*)

check_core: tests/check_core.c obj-check/fuse_ops.o fuse_ops.h fuse_proto.h linux.h Makefile
	$(HOSTCC) -std=gnu11 -DHOSTED $(SANITIZE) $(WARN) -o $@ tests/check_core.c obj-check/fuse_ops.o

# The data path (fuseuring.c) unchanged, its three io_uring system calls
# answered by the fake kernel of tests/fake_ring.c.
check_ring: tests/check_ring.c tests/fake_ring.c tests/fake_ring.h fuseuring.c fuse_ops.c options.c sys.c $(HDR) Makefile
	$(HOSTCC) -std=gnu11 -DHOSTED -DFAKE_RING $(SANITIZE) $(WARN) -o $@ \
		tests/check_ring.c tests/fake_ring.c fuseuring.c fuse_ops.c options.c sys.c -lpthread

# The lifecycle's decisions (lifecycle.h), from fixtures.
check_lifecycle: tests/check_lifecycle.c $(TESTED_SRC:%.c=obj-check/%.o) $(HDR) Makefile
	$(HOSTCC) -std=gnu11 -DHOSTED $(SANITIZE) $(WARN) -o $@ \
		tests/check_lifecycle.c $(TESTED_SRC:%.c=obj-check/%.o)

fuzz: $(FUZZ_TARGETS:%=fuzz_%)

# Each target three ways (tests/fuzz.h): fuzz_TARGET under libFuzzer;
# replay_TARGET, its checks on every input of its corpus, from the plain
# main() of tests/fuzz_main.c (make check); seeds_TARGET, its seeds.
.SECONDEXPANSION:
fuzz_%: tests/fuzz_%.c tests/fuzz.h $$(call fuzz_objs,obj-fuzz,$$*) $(HDR) Makefile
	$(FUZZ_CC) -std=gnu11 -DHOSTED -fsanitize=fuzzer $(SANITIZE) $(WARN) -o $@ \
		tests/fuzz_$*.c $(call fuzz_objs,obj-fuzz,$*)

FUZZ_MAIN_LINK = $(HOSTCC) -std=gnu11 -DHOSTED -DFUZZ_TARGET='"$*"' $(SANITIZE) $(WARN) \
	-o $@ tests/fuzz_$*.c tests/fuzz_main.c $(call fuzz_objs,obj-check,$*)
replay_%: tests/fuzz_%.c tests/fuzz_main.c tests/fuzz.h $$(call fuzz_objs,obj-check,$$*) \
		$(HDR) Makefile
	$(FUZZ_MAIN_LINK)
seeds_%: tests/fuzz_%.c tests/fuzz_main.c tests/fuzz.h $$(call fuzz_objs,obj-check,$$*) \
		$(HDR) Makefile
	$(FUZZ_MAIN_LINK) -DMAKE_CORPUS

# Writes every target's seeds into its corpus (the inputs found by
# fuzzing stay): rerun when a target's input format changes.
corpus: $(FUZZ_TARGETS:%=seeds_%)
	for t in $(FUZZ_TARGETS); do mkdir -p tests/corpus/$$t && ./seeds_$$t tests/corpus/$$t || exit 1; done
	rm -f $(FUZZ_TARGETS:%=seeds_%)

# Fuzz every target, FUZZ_TOTAL_SECONDS split evenly among them,
# stopping at the first failing input, which stays in the target's corpus;
# FUZZ_KEEP=1 also adds the new inputs that add coverage.  libFuzzer ends
# a run in the second after its -max_total_time: each target is given its
# share less that second (at least one).
FUZZ_TOTAL_SECONDS ?= 30
FUZZ_SHARE = $(FUZZ_TOTAL_SECONDS) / $(words $(FUZZ_TARGETS)) - 1
fuzz-run: fuzz
	tests/fuzz.sh $(if $(FUZZ_KEEP),--keep) \
		$$(( $(FUZZ_SHARE) > 0 ? $(FUZZ_SHARE) : 1 )) $(FUZZ_TARGETS)

clean:
	rm -f fuseuring fuseuring.debug fuseuring-*[a-z0-9] check_core check_ring check_lifecycle \
		$(foreach t,$(FUZZ_TARGETS),fuzz_$(t) replay_$(t) seeds_$(t))
	rm -rf obj-*

.PHONY: clean check sanitize fuzz fuzz-run corpus install uninstall ceiling
