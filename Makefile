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
CFLAGS   ?= -O2
FREESTANDING = -std=gnu11 -ffreestanding -nostdlib -static -fno-pie -no-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-tree-loop-distribute-patterns \
	-ffunction-sections -fdata-sections -Wl,--gc-sections \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,norelro
WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter
SRC      = fuseuring.c fuse_ops.c daemon.c options.c sys.c
HDR      = arch.h sys.h linux.h uring.h fuse_proto.h fuse_ops.h server.h options.h

ifeq ($(ARCH),x86_64)
FREESTANDING += -fcf-protection=none
endif
ifeq ($(ARCH),aarch64)
FREESTANDING += -mno-outline-atomics	# inline atomics, no libgcc helpers
endif

# The .debug file keeps the symbols (test.sh checks there are no undefined ones).
$(BIN): $(BIN).debug
	$(STRIP) -o $@ $(BIN).debug

$(BIN).debug: $(SRC) $(HDR) Makefile
	$(CC) $(CFLAGS) $(FREESTANDING) $(WARN) -o $@ $(SRC)

# The ceiling build: the same daemon with a BACKING that does nothing (a
# READ answers with the buffer as it is, a WRITE is dropped), so that
# `bench.sh --ceiling` measures what each transport alone can do.  It loses
# every byte written: never install it.
ceiling: $(BIN)-ceiling

$(BIN)-ceiling: $(SRC) $(HDR) Makefile
	$(CC) $(CFLAGS) -DCEILING=1 $(FREESTANDING) $(WARN) -s -o $@ $(SRC)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SBINDIR ?= /sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system

# mount(8) looks for mount.TYPE helpers in /sbin: mount.fuseuring for
# -t fuseuring, mount.fuse.fuseuring for -t fuse.fuseuring and for every
# remount of such a mount.  The unit gets the binary's path; whatis and
# apropos read man-db's index, updated here unless staging into DESTDIR.
install: fuseuring fuseuring.1 contrib/fuseuring@.service
	install -D -m 755 fuseuring $(DESTDIR)$(BINDIR)/fuseuring
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	ln -sf $(BINDIR)/fuseuring $(DESTDIR)$(SBINDIR)/mount.fuseuring
	ln -sf $(BINDIR)/fuseuring $(DESTDIR)$(SBINDIR)/mount.fuse.fuseuring
	install -D -m 644 fuseuring.1 $(DESTDIR)$(MANDIR)/man1/fuseuring.1
	echo '.so man1/fuseuring.1' >$(DESTDIR)$(MANDIR)/man8/mount.fuseuring.8
	sed 's|/usr/local/bin/fuseuring|$(BINDIR)/fuseuring|' contrib/fuseuring@.service \
		>$(DESTDIR)$(UNITDIR)/fuseuring@.service
	if [ -z "$(DESTDIR)" ] && command -v mandb >/dev/null; then mandb -q $(MANDIR) || true; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fuseuring $(DESTDIR)$(SBINDIR)/mount.fuseuring \
		$(DESTDIR)$(SBINDIR)/mount.fuse.fuseuring \
		$(DESTDIR)$(MANDIR)/man1/fuseuring.1 $(DESTDIR)$(MANDIR)/man8/mount.fuseuring.8 \
		$(DESTDIR)$(UNITDIR)/fuseuring@.service
	if [ -z "$(DESTDIR)" ] && command -v mandb >/dev/null; then mandb -q $(MANDIR) || true; fi

# Test builds: hosted, with libc, never shipped.
#   make check:    root-free, kernel-free tests of the request core and of the
#                  data path against a fake ring (seconds)
#   make sanitize: the daemon with AddressSanitizer and UBSan, and with the
#                  fault-injection hook of tests/fault.c
#   make fuzz:     a libFuzzer harness for the protocol core (needs clang)
HOSTCC  ?= $(shell command -v clang >/dev/null && echo clang || echo gcc)
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -g -O1

sanitize: fuseuring-asan

fuseuring-asan: $(SRC) $(HDR) tests/fault.c Makefile
	$(HOSTCC) -std=gnu11 -DHOSTED -DFAULT_INJECTION $(SANITIZE) $(WARN) \
		-o $@ $(SRC) tests/fault.c -lpthread

check: check_core check_ring
	./check_core
	./check_ring

check_core: tests/check_core.c fuse_ops.c fuse_ops.h fuse_proto.h linux.h Makefile
	$(HOSTCC) -std=gnu11 -DHOSTED $(SANITIZE) $(WARN) -o $@ tests/check_core.c fuse_ops.c

# The data path (fuseuring.c) unchanged, its three io_uring system calls
# answered by the fake kernel of tests/fake_ring.c.
check_ring: tests/check_ring.c tests/fake_ring.c tests/fake_ring.h fuseuring.c fuse_ops.c options.c sys.c $(HDR) Makefile
	$(HOSTCC) -std=gnu11 -DHOSTED -DFAKE_RING $(SANITIZE) $(WARN) -o $@ \
		tests/check_ring.c tests/fake_ring.c fuseuring.c fuse_ops.c options.c sys.c -lpthread

fuzz: fuzz_request

fuzz_request: tests/fuzz_request.c fuse_ops.c fuse_ops.h fuse_proto.h linux.h Makefile
	clang -std=gnu11 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -g -O1 $(WARN) \
		-o $@ tests/fuzz_request.c fuse_ops.c

# Writes the seed corpus for the fuzzer into tests/corpus/.
corpus: tests/fuzz_request.c fuse_ops.c
	$(HOSTCC) -std=gnu11 -DMAKE_CORPUS -o fuzz_corpus tests/fuzz_request.c fuse_ops.c
	./fuzz_corpus tests/corpus && rm -f fuzz_corpus

clean:
	rm -f fuseuring fuseuring.debug fuseuring-*[a-z0-9] fuzz_request fuzz_corpus \
		check_core check_ring

.PHONY: clean check sanitize fuzz corpus install uninstall ceiling
