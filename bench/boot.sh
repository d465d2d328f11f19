# SPDX-License-Identifier: GPL-2.0
# Runs inside the L1 arm64 host (bench/boot starts it): boots the same
# guest RUNS times with --stats and prints the median of each figure.
RUNS=${RUNS:-7}
i=0
: >/tmp/stats
while [ $i -lt "$RUNS" ]; do
	/lvmm run -k /Image -i /guest.cpio -m 256 -c 1 --stats --stats-marker LVMM-GUEST-UP \
		-p "rdinit=/init quiet lvmm.mode=marker" </dev/null 2>&1 >/dev/null |
		grep '^lvmm-stats:' >>/tmp/stats
	i=$((i + 1))
done
echo "BENCH runs=$(wc -l </tmp/stats)"
median() {
	sed -n "s/.* $1=\([-0-9.]*\).*/\1/p" /tmp/stats | sort -n |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for k in first_kvm_run_ms marker_ms setup_cpu_ms cpu_ms guest_cpu_ms rss_kib guest_ram_rss_kib vmm_rss_kib; do
	echo "BENCH $k $(median $k)"
done
