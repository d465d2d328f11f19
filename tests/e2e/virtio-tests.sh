# SPDX-License-Identifier: GPL-2.0
# Sourced by the L2 guest's /init with lvmm.mode=virtio: exercises the
# virtio devices lvmm gives it and prints "V-..." lines that the L1 side
# (l1-tests.sh, virtio_test) checks. The disks: vda (rw, serial set), vdb
# (ro, prefilled by L1), vdc (rw, on a host file system that fills up).

# The same generator as on the L1 side: the pattern for region $1.
pattern() { awk -v r="$1" 'BEGIN { for (i = 0; i < 40330; i++) printf "LVMM-REGION-%d-LINE-%08d\n", r, i }' | head -c 1048576; }

echo "V-SERIAL vda=$(cat /sys/block/vda/serial) vdb=$(cat /sys/block/vdb/serial)"
echo "V-SIZE vda=$(cat /sys/block/vda/size) vdb=$(cat /sys/block/vdb/size)"
# Multiqueue: vda has queues=2, blk-mq a hardware context each; vdb one.
echo "V-MQ vda=$(ls /sys/block/vda/mq | wc -l) vdb=$(ls /sys/block/vdb/mq | wc -l)"

# 1. A pattern at 1 MiB on vda, checked by L1 in the image after power-off.
pattern 0 >/tmp/p0
dd if=/tmp/p0 of=/dev/vda bs=4096 seek=256 conv=fsync 2>/dev/null
echo "V-PATTERN rc=$?"

# 2. vdb was filled by L1; its checksum must match L1's.
echo "V-VDB-SHA $(sha256sum /dev/vdb | cut -d' ' -f1)"

# 3. Concurrent writers (vda regions 1-4) and readers (vdb), page cache
#    dropped first so the reads reach the device. The writes are direct,
#    64 KiB each: through the page cache each writer's fsync merged its
#    region into one request, and four of them did not always meet in lvmm.
for r in 1 2 3 4; do pattern $r >/tmp/p$r; done
echo 3 >/proc/sys/vm/drop_caches
for r in 1 2 3 4; do
	dd if=/tmp/p$r of=/dev/vda bs=65536 seek=$((16 * (r + 1))) oflag=direct conv=fsync 2>/dev/null &
	sha256sum /dev/vdb >/tmp/read$r &
done
wait
echo 3 >/proc/sys/vm/drop_caches
for r in 1 2 3 4; do
	echo "V-CONC-READ $r $(cut -d' ' -f1 /tmp/read$r)"
	echo "V-CONC-BACK $r $(dd if=/dev/vda bs=65536 skip=$((16 * (r + 1))) count=16 2>/dev/null | sha256sum | cut -d' ' -f1) $(sha256sum </tmp/p$r | cut -d' ' -f1)"
done

# 4. The read-only disk: the kernel refuses, and with the block layer's
#    read-only flag lifted the device itself answers with an I/O error.
dd if=/tmp/p0 of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null
echo "V-RO-WRITE rc=$?"
blockdev --setrw /dev/vdb
dd if=/tmp/p0 of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null || \
	dd if=/tmp/p0 of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null
echo "V-RO-FORCED-WRITE rc=$?"

# 5. vdc's host file system fills up: the guest must see an I/O error.
head -c 4194304 /dev/urandom >/tmp/big
dd if=/tmp/big of=/dev/vdc bs=65536 conv=fsync 2>/dev/null
echo "V-HOSTFULL-WRITE rc=$?"

# 6. Entropy.
echo "V-RNG current=$(cat /sys/class/misc/hw_random/rng_current) bytes=$(head -c 64 /dev/hwrng | wc -c)"

# 6b. virtio-9p: read the host's file, write one back, and the symlink to a
# host file outside the share only resolves inside the guest.
mkdir -p /mnt9
mount -t 9p -o trans=virtio,version=9p2000.L lvmmshare /mnt9
echo "V-9P mount=$? read=$(cat /mnt9/hello)"
echo from-guest >/mnt9/fromguest
echo "V-9P wrote=$?"
echo "V-9P escape=$(cat /mnt9/out 2>/dev/null | grep -c host-secret)"
umount /mnt9

# 7. Network: L1 is 169.254.10.1 on its tap; we are .2.
ifconfig eth0 169.254.10.2 netmask 255.255.255.0 up
ping -c 3 -W 5 169.254.10.1 >/tmp/ping 2>&1
echo "V-PING rc=$? $(grep -o '[0-9]* packets received' /tmp/ping)"
wget -q -O /tmp/blob http://169.254.10.1:8080/blob
echo "V-NET-SHA $(sha256sum </tmp/blob | cut -d' ' -f1)"
timeout 60 nc 169.254.10.1 9000 </tmp/blob
echo "V-NET-UP rc=$?"

# 8. The virtio interrupts, as the guest counts them.
grep virtio /proc/interrupts | while read -r line; do echo "V-IRQ $line"; done
echo "V-DONE"
