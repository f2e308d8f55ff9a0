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

clean:
	rm -f fuseuring fuseuring.debug

.PHONY: clean
