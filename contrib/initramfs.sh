#!/bin/sh
# SPDX-License-Identifier: MIT
# contrib/initramfs.sh - an initramfs that boots into a fuseuring volume.
#
#   contrib/initramfs.sh OUT.cpio.gz DISK_IMAGE [MODULE.ko[.xz] ...]
#
# It holds busybox (Debian's busybox-static), fuseuring, DISK_IMAGE as
# /disk.img, the kernel modules given (fuse.ko and loop.ko where the kernel
# has them as modules; .ko.xz files are unpacked), and an /init that
#   - mounts /proc, /sys and /dev and loads the modules;
#   - serves /disk.img as /mnt/fu/volume with fuseuring and attaches a loop
#     device to the volume;
#   - with "fuseuring.check" on the kernel command line: writes and fsyncs
#     through the volume, compares the image with what the volume and the
#     loop device read, prints
#     "fuseuring-initramfs: OK" (or FAILED) and powers off;
#   - otherwise mounts the loop device on /mnt/data if the kernel knows its
#     filesystem, and starts a shell.
# Needs: busybox-static, cpio, gzip, and a built ./fuseuring.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUT.cpio.gz DISK_IMAGE [MODULE.ko ...]" >&2; exit 2; }
out=$(realpath -m "$1"); disk=$2; shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
busybox=$(command -v busybox) || { echo "$0: needs busybox-static" >&2; exit 1; }
file "$busybox" 2>/dev/null | grep -q "dynamically linked" &&
	{ echo "$0: $busybox is not static (install busybox-static)" >&2; exit 1; }
[ -x "$here/fuseuring" ] || { echo "$0: build fuseuring first (make)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/mnt/fu" \
	"$root/mnt/data" "$root/lib/modules"
cp "$busybox" "$root/bin/busybox"
cp "$here/fuseuring" "$root/bin/fuseuring"
cp "$disk" "$root/disk.img"
for m in "$@"; do
	case $m in
	*.xz) xz -dc "$m" >"$root/lib/modules/$(basename "$m" .xz)" ;;
	*) cp "$m" "$root/lib/modules/" ;;
	esac
done

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /lib/modules/*.ko; do [ -e "$m" ] && insmod "$m"; done
say() { echo "fuseuring-initramfs: $*"; }
if fuseuring /disk.img /mnt/fu; then
	loop=$(losetup -f) && losetup "$loop" /mnt/fu/volume || say "no loop device"
	if grep -q fuseuring.check /proc/cmdline; then
		if dd if=/dev/urandom of=/mnt/fu/volume bs=4k count=64 seek=16 \
			conv=notrunc,fsync 2>/dev/null &&
		   cmp /disk.img /mnt/fu/volume && cmp /disk.img "$loop"; then
			say OK
		else
			say FAILED
		fi
		losetup -d "$loop"; umount /mnt/fu
		poweroff -f
	fi
	mount -o ro "$loop" /mnt/data 2>/dev/null && say "/mnt/data: the filesystem in /disk.img"
	say "/mnt/fu/volume serves /disk.img"
else
	say "fuseuring failed"
	grep -q fuseuring.check /proc/cmdline && { say FAILED; poweroff -f; }
fi
exec sh
EOF
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$out"
echo "$out"
