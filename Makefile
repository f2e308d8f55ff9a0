# fuseuring: a freestanding, static binary.  `make` builds it; see README.md.
CC       ?= cc
CFLAGS   ?= -O2
FREESTANDING = -std=gnu11 -ffreestanding -nostdlib -static -fno-pie -no-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-tree-loop-distribute-patterns -fcf-protection=none \
	-ffunction-sections -fdata-sections -Wl,--gc-sections \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,norelro
WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter
SRC      = fuseuring.c fuse_ops.c sys.c
HDR      = arch.h sys.h linux.h uring.h fuse_proto.h fuse_ops.h

# fuseuring.debug keeps the symbols (test.sh checks it has no undefined ones).
fuseuring: fuseuring.debug
	strip -o $@ fuseuring.debug

fuseuring.debug: $(SRC) $(HDR) Makefile
	$(CC) $(CFLAGS) $(FREESTANDING) $(WARN) -o $@ $(SRC)

# Test builds: hosted, with libc, never shipped.
#   make sanitize: the daemon with AddressSanitizer and UBSan, and with a
#                  fault-injection switch (FUSEURING_FAULT_EIO, see fuseuring.c)
#   make fuzz:     a libFuzzer harness for the protocol core (needs clang)
HOSTCC  ?= $(shell command -v clang >/dev/null && echo clang || echo gcc)
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -g -O1

sanitize: fuseuring-asan

fuseuring-asan: $(SRC) $(HDR) Makefile
	$(HOSTCC) -std=gnu11 -DHOSTED -DFAULT_INJECTION $(SANITIZE) $(WARN) \
		-o $@ $(SRC) -lpthread

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
	rm -f fuseuring fuseuring.debug fuseuring-asan fuzz_request fuzz_corpus

.PHONY: clean sanitize fuzz corpus
