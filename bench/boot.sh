# SPDX-License-Identifier: GPL-2.0
# Runs inside the L1 arm64 host (bench/boot starts it): boots the same
# guest RUNS times per virtio transport with --stats and prints the median
# of each figure.
RUNS=${RUNS:-7}
# Per virtio transport: the guest has a virtio-blk disk and virtio-rng, so
# its boot probes two devices on that transport. Alternating, one run each
# per round.
TRANSPORTS=${TRANSPORTS:-mmio pci}
truncate -s 16M /tmp/boot-disk.img
i=0
for t in $TRANSPORTS; do : >/tmp/stats-$t; done
while [ $i -lt "$RUNS" ]; do
	for t in $TRANSPORTS; do
		/lvmm run -k /Image -i /guest.cpio -m 256 -c 1 --stats --stats-marker LVMM-GUEST-UP \
			-d /tmp/boot-disk.img --rng --virtio-transport "$t" \
			-p "rdinit=/init quiet lvmm.mode=marker" </dev/null 2>&1 >/dev/null |
			grep '^lvmm-stats:' >>/tmp/stats-$t
	done
	i=$((i + 1))
done
echo "BENCH runs=$i"
echo "BENCH transports $TRANSPORTS"
median() {
	sed -n "s/.* $2=\([-0-9.]*\).*/\1/p" /tmp/stats-$1 | sort -n |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for t in $TRANSPORTS; do
	for k in first_kvm_run_ms marker_ms setup_cpu_ms cpu_ms guest_cpu_ms rss_kib guest_ram_rss_kib vmm_rss_kib; do
		echo "BENCH $t $k $(median $t $k)"
	done
done
