# SPDX-License-Identifier: GPL-2.0
# Shared by the end-to-end scripts (run, demo, bench/boot) on the build
# machine: initramfs images and the QEMU command line of the L1 arm64 host.

e2e_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(cd "$e2e_dir/../.." && pwd)

# Make sure the tools, sysroot and L1 kernel exist, and lvmm is built.
e2e_prepare() {
	"$e2e_dir/setup-host" all
	eval "$("$e2e_dir/setup-host" paths)"
	make -s -C "$root_dir" lvmm
	BUSYBOX=$LVMM_SYSROOT/bin/busybox
	[ "$(uname -m)" = aarch64 ] && [ -x /bin/busybox ] && BUSYBOX=/bin/busybox
	export LVMM_CACHE LVMM_SYSROOT LVMM_KERNEL BUSYBOX
}

# cpio_from_dir DIR OUT: an uncompressed newc initramfs (no decompression
# under emulation, which is slow).
cpio_from_dir() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$2"
}

# mk_guest_initramfs OUT: busybox and the guest's /init.
mk_guest_initramfs() {
	local d
	d=$(mktemp -d)
	mkdir -p "$d/bin" "$d/dev" "$d/proc" "$d/sys" "$d/tmp" "$d/root"
	cp "$BUSYBOX" "$d/bin/busybox"
	cp "$e2e_dir/guest-init" "$d/init"
	cp "$e2e_dir/virtio-tests.sh" "$d/virtio-tests.sh"
	cp "$e2e_dir/vfio-guest.sh" "$d/vfio-guest.sh"
	mk_blkbench "$d/blkbench" || return 1
	mk_guest_tool evkey "$d/evkey" || return 1
	mk_guest_tool ticker "$d/ticker" || return 1
	chmod 755 "$d/init"
	cpio_from_dir "$d" "$1"
	rm -rf "$d"
}

# A flat (headerless) arm64 binary: print "FLAT-OK" on the UART at
# 0x09000000 and power off with PSCI SYSTEM_OFF (hvc). With "loop" it
# spins forever instead, for the signal test.
mk_flat_binary() {
	python3 - "$1" "${2:-off}" <<'PY'
import struct, sys
out, mode = sys.argv[1], sys.argv[2]
code = [0xd2a12001]                                # movz x1, #0x0900, lsl #16
for ch in b"FLAT-OK\n":
    code += [0x52800002 | (ch << 5), 0x39000022]   # mov w2, #ch; strb w2, [x1]
if mode == "loop":
    code += [0x14000000]                           # b .
else:
    code += [0x52800100, 0x72b08000, 0xd4000002]   # w0 = 0x84000008; hvc #0
    code += [0x14000000]
open(out, "wb").write(struct.pack("<%dI" % len(code), *code))
PY
}

cross_cc() {
	if [ "$(uname -m)" = aarch64 ]; then echo gcc; else echo aarch64-linux-gnu-gcc; fi
}

# mk_blkbench OUT: bench/blkbench.c, static, for the guest and for L1.
mk_blkbench() {
	"$(cross_cc)" -O2 -static -Wall -Wextra -Werror -o "$1" "$root_dir/bench/blkbench.c"
}

# mk_kvmstat OUT: bench/kvmstat.c (any VMM's KVM counters), static, for L1.
mk_kvmstat() {
	"$(cross_cc)" -O2 -static -Wall -Wextra -Werror -isystem "$LVMM_SYSROOT/kernel-headers/include" \
		-o "$1" "$root_dir/bench/kvmstat.c" "$root_dir/kvm/counters.c"
}

# mk_guest_tool NAME OUT: tests/e2e/tools/NAME.c, static, for the guest.
mk_guest_tool() {
	"$(cross_cc)" -O2 -static -Wall -Wextra -Werror -o "$2" "$e2e_dir/tools/$1.c"
}

# l1_monitor SOCKET COMMAND: one command to the L1 machine's QEMU monitor
# (HMP on a unix socket), waiting for its prompt before and after.
l1_monitor() {
	python3 - "$1" "$2" <<'PY' || echo "# l1_monitor: '$2' to $1 failed" >&2
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
def prompt():
    buf, end = b"", time.time() + 10
    while b"(qemu) " not in buf and time.time() < end:
        data = s.recv(4096)
        if not data:
            break
        buf += data
prompt()
s.sendall(sys.argv[2].encode() + b"\n")
prompt()
s.close()
PY
}

# mk_baremetal_guest DIR NAME LDS [LDFLAGS...]: the bare-metal guest
# NAME/NAME.c linked with NAME's or another's LDS, as DIR/NAME.bin.
mk_baremetal_guest() {
	local dir=$1 name=$2 lds=$3 cc=aarch64-linux-gnu-gcc objcopy=aarch64-linux-gnu-objcopy
	shift 3
	[ "$(uname -m)" = aarch64 ] && cc=gcc objcopy=objcopy
	$cc -O2 -ffreestanding -nostdlib -nostartfiles -static -mstrict-align \
		-mgeneral-regs-only -fno-pic -fno-stack-protector -Wall -Wextra -Werror \
		-Wl,--build-id=none "$@" -T "$e2e_dir/$lds" \
		-o "$dir/$name.elf" "$e2e_dir/$name/$name.c" || return 1
	$objcopy -O binary "$dir/$name.elf" "$dir/$name.bin"
	rm "$dir/$name.elf"
}

# mk_hostile_guest DIR: the bare-metal guest that feeds lvmm's virtio
# devices malformed rings (hostile/hostile.c), and the disk it reads.
mk_hostile_guest() {
	mk_baremetal_guest "$1" hostile hostile/hostile.lds || return 1
	python3 -c 'import sys; sys.stdout.buffer.write(b"\xa5" * 65536)' >"$1/hostile-disk.img"
}

# mk_checkpoint_guest DIR: the bare-metal guest whose interrupt and timer
# state the checkpoint tests carry through snapshot and restore
# (checkpoint/checkpoint.c), as DIR/checkpoint.bin.
mk_checkpoint_guest() {
	mk_baremetal_guest "$1" checkpoint checkpoint/checkpoint.lds -Wl,--no-warn-rwx-segments
}

# mk_poll_guest DIR: the bare-metal guest that polls the UART for input
# (poll/poll.c), as DIR/poll.bin.
mk_poll_guest() {
	mk_baremetal_guest "$1" poll hostile/hostile.lds
}

# mk_compressed_kernels DIR: the test kernel as distributions ship theirs,
# Image.gz and EFI zboot images with gzip and zstd payloads (made once,
# next to the kernel in the cache), copied into DIR.
mk_compressed_kernels() {
	local c
	c=$(dirname "$LVMM_KERNEL")
	if [ ! -e "$c/Image.zboot-zstd" ]; then
		gzip -9 -n -c "$LVMM_KERNEL" >"$c/Image.gz.tmp" &&
			zstd -q -3 -c "$LVMM_KERNEL" >"$c/Image.zst.tmp" &&
			"$e2e_dir/tools/mk-zboot" gzip "$c/Image.gz.tmp" "$c/Image.zboot-gzip" &&
			"$e2e_dir/tools/mk-zboot" zstd "$c/Image.zst.tmp" "$c/Image.zboot-zstd.tmp" &&
			mv "$c/Image.gz.tmp" "$c/Image.gz" && rm -f "$c/Image.zst.tmp" &&
			mv "$c/Image.zboot-zstd.tmp" "$c/Image.zboot-zstd" || return 1
	fi
	cp "$c/Image.gz" "$c/Image.zboot-gzip" "$c/Image.zboot-zstd" "$1/"
}

# mk_l1_initramfs OUT EXTRA_DIR: busybox, lvmm, the guest kernel and
# initramfs, the L1 scripts, and anything in EXTRA_DIR (copied to /).
mk_l1_initramfs() {
	local out=$1 extra=${2:-} d
	d=$(mktemp -d)
	mkdir -p "$d/bin" "$d/dev" "$d/proc" "$d/sys" "$d/tmp" "$d/etc" "$d/e2e"
	cp "$BUSYBOX" "$d/bin/busybox"
	cp "$e2e_dir/l1-init" "$d/init"
	chmod 755 "$d/init"
	cp "$root_dir/lvmm" "$d/lvmm"
	cp "$LVMM_KERNEL" "$d/Image"
	mk_compressed_kernels "$d" || return 1
	mk_guest_initramfs "$d/guest.cpio"
	mk_flat_binary "$d/flat.bin" off
	mk_flat_binary "$d/flat-loop.bin" loop
	mk_hostile_guest "$d" || return 1
	mk_checkpoint_guest "$d" || return 1
	mk_poll_guest "$d" || return 1
	mk_blkbench "$d/e2e/blkbench" || return 1
	mk_kvmstat "$d/e2e/kvmstat" || return 1
	mk_guest_tool tickgap "$d/e2e/tickgap" || return 1
	cp "$e2e_dir"/l1-*.sh "$e2e_dir/tour.sh" "$d/e2e/"
	[ -d "$root_dir/bench" ] && cp "$root_dir"/bench/*.sh "$d/e2e/" 2>/dev/null
	[ -n "$extra" ] && cp -a "$extra/." "$d/"
	echo "root:x:0:0:root:/root:/bin/sh" > "$d/etc/passwd"
	echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$d/etc/passwd"
	echo "root:x:0:" > "$d/etc/group"
	echo "nogroup:x:65534:" >> "$d/etc/group"
	cpio_from_dir "$d" "$out"
	rm -rf "$d"
}

# l1_qemu_cmd GIC MODE INITRD [extra kernel args]: the command line of the
# L1 machine. GIC is 3 or 2: L1's KVM then offers gicv3(+its) or gicv2 to
# lvmm. L1_SERIAL replaces "-serial stdio", L1_MONITOR "-monitor none";
# L1_QEMU_EXTRA adds QEMU options; L1_IOMMU=smmuv3 puts an SMMUv3 in front
# of L1's PCI bus.
#
# L1's own pl061 driver is kept from binding at boot: it installs a chained
# handler on the PL061's interrupt, which the kernel leaves unrequestable
# after unbinding, so vfio-amba could not use it (the VFIO tests pass the
# PL061 through).
l1_qemu_cmd() {
	local gic=$1 mode=$2 initrd=$3
	shift 3
	echo qemu-system-aarch64 \
		-M "virt,virtualization=on,gic-version=$gic,acpi=off${L1_IOMMU:+,iommu=$L1_IOMMU}" \
		-cpu max,pauth-impdef=on -smp 2 -m ${L1_MEM:-2048} \
		-display none -no-reboot -nic none ${L1_SERIAL:--serial stdio} ${L1_MONITOR:--monitor none} ${L1_QEMU_EXTRA:-} \
		-kernel "$LVMM_KERNEL" -initrd "$initrd" \
		-append "\"console=ttyAMA0 rdinit=/init quiet lvmm.l1=$mode lvmm.gic=$gic vfio.enable_unsafe_noiommu_mode=1 vfio_platform.reset_required=0 initcall_blacklist=pl061_gpio_driver_init $*\""
}
