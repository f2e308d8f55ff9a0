#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/boot.sh [PACKAGE...] - boot Debian kernels under qemu with the
# initramfs of contrib/initramfs.sh and check that fuseuring serves a disk
# image from it.  Optional, not part of test.sh or CI: it downloads kernel
# packages (~100 MB each) and needs qemu-system-x86, busybox-static, cpio.
#   PACKAGE  a Debian kernel image package, by default the bookworm 6.12
#            and 6.1 kernels (linux-image-6.12*-amd64, linux-image-6.1*-amd64)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/fuseuring-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT
for tool in qemu-system-x86_64 busybox cpio; do
	command -v $tool >/dev/null || { echo "boot: needs $tool (apt-get install qemu-system-x86 busybox-static cpio)"; exit 77; }
done
make -s -C "$here" || exit 1

packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
	packages=($(apt-cache search --names-only '^linux-image-6\.(12\.[0-9]+\+deb12|1\.0-[0-9]+)-amd64$' |
		awk '{print $1}' | sort -V | awk -F'[-.]' '{k = $3 "." $4; last[k] = $0} END {for (k in last) print last[k]}'))
fi
head -c $((8 << 20)) /dev/urandom >"$work/disk.img"
failed=0
for pkg in "${packages[@]}"; do
	mkdir -p "$work/$pkg"
	(cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "boot: cannot download $pkg"; failed=1; continue; }
	dpkg-deb -x "$work/${pkg}"_*.deb "$work/$pkg"
	kernel=$(ls "$work/$pkg"/boot/vmlinuz-*)
	modules=$(find "$work/$pkg/lib/modules" \( -name 'fuse.ko*' -o -name 'loop.ko*' \) 2>/dev/null)
	# shellcheck disable=SC2086
	"$here/contrib/initramfs.sh" "$work/$pkg.cpio.gz" "$work/disk.img" $modules >/dev/null || exit 1
	# software emulation: a few seconds, and no dependence on nested KVM
	timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nographic -no-reboot \
		-kernel "$kernel" -initrd "$work/$pkg.cpio.gz" \
		-append "console=ttyS0 panic=-1 fuseuring.check loglevel=4" >"$work/$pkg.log" 2>&1
	result=$(grep -a -o 'fuseuring-initramfs: [A-Z]*' "$work/$pkg.log" | tail -1)
	messages=$(grep -a '^fuseuring' "$work/$pkg.log" | grep -v initramfs | tr -d '\r' | head -5)
	echo "boot: $pkg: ${result:-no result}"
	[ -n "$messages" ] && echo "$messages" | sed 's/^/      /'
	[ "$result" = "fuseuring-initramfs: OK" ] || failed=1
done
exit $failed
