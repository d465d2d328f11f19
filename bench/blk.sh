# SPDX-License-Identifier: GPL-2.0
# Runs inside the L1 host for bench/blk. L1's /dev/vda is a QEMU disk;
# an ext2 on it holds the guest's image file, which is measured twice:
# read by L1 directly, and by the guest through lvmm's virtio-blk on each
# virtio transport (TRANSPORTS, default "mmio pci").
RUNS=${RUNS:-5}
SIZE=${SIZE:-64}
# QEMU's disk is a PCI device; its probe can finish after init starts.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do usleep 100000; i=$((i + 1)); done
[ -b /dev/vda ] || { echo "BENCH error no /dev/vda in L1: $(ls /sys/block)"; dmesg | grep -i -E "pci|virtio|blk" | sed "s/^/BENCH dmesg /"; exit 1; }
mke2fs -q /dev/vda >/dev/null 2>&1 || mke2fs /dev/vda
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || { echo "BENCH error cannot mount L1's disk"; exit 1; }
dd if=/dev/zero of=/mnt/disk.img bs=1048576 count=$((SIZE + 8)) 2>/dev/null
sync
i=0
while [ $i -lt "$RUNS" ]; do
	echo 3 >/proc/sys/vm/drop_caches
	/e2e/blkbench /mnt/disk.img seqread "$SIZE" | sed 's/^RESULT/BENCH host/'
	echo 3 >/proc/sys/vm/drop_caches
	/e2e/blkbench /mnt/disk.img randread "$SIZE" 3 | sed 's/^RESULT/BENCH host/'
	/e2e/blkbench /mnt/disk.img seqwrite "$SIZE" | sed 's/^RESULT/BENCH host/'
	i=$((i + 1))
done
# The guest once per virtio transport, in this same L1 boot.
for t in ${TRANSPORTS:-mmio pci}; do
	echo 3 >/proc/sys/vm/drop_caches
	/lvmm run -k /Image -i /guest.cpio -m 256 -c 2 -d /mnt/disk.img --virtio-transport "$t" \
		-p "rdinit=/init quiet lvmm.mode=blkbench lvmm.runs=$RUNS lvmm.size=$SIZE" </dev/null |
		tr -d '\r' | sed -n "s/^RESULT/BENCH guest-$t/p"
done
