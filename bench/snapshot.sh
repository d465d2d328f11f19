# SPDX-License-Identifier: GPL-2.0
# Runs inside the L1 host for bench/snapshot: guests of 128, 512 and 1024
# MiB fill 60% of their RAM, are snapshotted onto L1's disk (an ext2 on a
# QEMU disk), and restored with the page cache dropped. RUNS per size.
. /e2e/l1-lib.sh
RUNS=${RUNS:-3}
export LVMM_RUNTIME_DIR=/tmp/lvmm-run
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do usleep 100000; i=$((i + 1)); done
mke2fs -q /dev/vda >/dev/null 2>&1
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || { echo "BENCH error cannot mount L1's disk"; exit 1; }
for size in 128 512 1024; do
	r=0
	while [ $r -lt "$RUNS" ]; do
		name=b$size
		/lvmm run -k /Image -i /guest.cpio -m $size --name $name \
			-p "rdinit=/init quiet lvmm.mode=fill lvmm.size=$((size * 6 / 10))" </dev/null >/tmp/run.out 2>&1 &
		pid=$!
		wait_for "^TICK" /tmp/run.out 600 || { echo "BENCH error no fill: $(tail -n 3 /tmp/run.out)"; kill -9 $pid; break; }
		/lvmm snapshot $name /mnt/s --stop --json >/tmp/snap.json
		wait $pid
		ms=$(sed -n 's/.*"snapshot_ms":\([0-9.]*\).*/\1/p' /tmp/snap.json)
		kib=$(du -sk /mnt/s | cut -f1)
		sync
		echo 3 >/proc/sys/vm/drop_caches
		/lvmm restore /mnt/s --stats --stats-marker TICK </dev/null >/tmp/restore.out 2>&1 &
		pid=$!
		wait_for "^TICK" /tmp/restore.out 300
		/lvmm stop $name >/dev/null
		wait $pid
		started=$(tr ' ' '\n' </tmp/restore.out | sed -n 's/^started_ms=//p')
		marker=$(tr ' ' '\n' </tmp/restore.out | sed -n 's/^marker_ms=//p')
		echo "BENCH $size snapshot_ms $ms"
		echo "BENCH $size snapshot_kib $kib"
		echo "BENCH $size restore_started_ms $started"
		echo "BENCH $size restore_first_output_ms $marker"
		rm -rf /mnt/s
		r=$((r + 1))
	done
done
