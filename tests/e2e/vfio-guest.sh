# SPDX-License-Identifier: GPL-2.0
# The guest's half of the VFIO tests (l1-vfio.sh is L1's), sourced by
# guest-init with lvmm.mode=vfio. lvmm.vfio=rtc: the passed-through PL031
# (time, three alarms); lvmm.vfio=gpio: the PL061's gpio-keys key, pressed
# twice by QEMU's system_powerdown (L1 asks the harness for each press when
# it sees G-GPIO-READY), with the PL031 passed through beside it.
what=rtc
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	lvmm.vfio=*) what=${arg#lvmm.vfio=} ;;
	esac
done

# Sum over CPUs of the /proc/interrupts line whose name contains $1.
irq_count() {
	grep -F "$1" /proc/interrupts | head -n 1 |
		awk -v n="$(nproc)" '{ s = 0; for (i = 2; i < 2 + n; i++) s += $i; print s }'
}

# Each AMBA device: its peripheral ID (read by the bus from the device's
# registers) and the driver that took it.
for d in /sys/bus/amba/devices/*; do
	[ -e "$d" ] || continue
	drv=$(readlink "$d/driver")
	echo "G-AMBA $(basename "$d") id=$(cat "$d/id") driver=${drv##*/}"
done
echo "G-DT $(ls /proc/device-tree | tr '\n' ' ')"
grep -E 'rtc-pl031|pl061' /proc/interrupts | sed 's/^/G-IRQLINE /'
echo "G-RTC time=$(cat /sys/class/rtc/rtc0/since_epoch 2>/dev/null) name=$(cat /sys/class/rtc/rtc0/name 2>/dev/null)"

# One alarm at a time: each must raise the count by exactly one (the second
# one arrives only if the resamplefd -> VFIO unmask path works).
rtc_alarms() {
	local i=1 before t
	while [ $i -le 3 ]; do
		before=$(irq_count rtc-pl031)
		echo 0 >/sys/class/rtc/rtc0/wakealarm
		echo +2 >/sys/class/rtc/rtc0/wakealarm
		t=0
		while [ $t -lt 100 ] && [ "$(irq_count rtc-pl031)" = "$before" ]; do
			usleep 100000
			t=$((t + 1))
		done
		usleep 500000	# a stuck level would show more than one
		echo "G-ALARM $i before=$before after=$(irq_count rtc-pl031) waited=${t}00ms"
		i=$((i + 1))
	done
}

gpio_keys() {
	local i=1 ev="" before e
	for e in /sys/class/input/event*; do
		case "$(cat "$e/device/name" 2>/dev/null)" in
		gpio-keys*) ev=/dev/input/${e##*/} ;;
		esac
	done
	echo "G-GPIO-INPUT dev=$ev"
	while [ $i -le 2 ]; do
		before=$(irq_count "pl061 line 3")
		/evkey "$ev" 60 "G-GPIO-READY $i" | tee /tmp/evkey.$i
		echo "G-KEY $i $(tail -n 1 /tmp/evkey.$i) before=$before after=$(irq_count "pl061 line 3")"
		i=$((i + 1))
	done
}

# The passed-through NVMe controller (lvmm.vfio=nvme): the guest's own nvme
# driver writes a pattern and reads it back (DMA through L1's SMMU into
# guest RAM), with its interrupts counted: MSI-X through the ITS, or INTx
# when the guest is booted pci=nomsi.
nvme_io() {
	local dev=/dev/nvme0n1 t=0 irq0 ios0 w r w_s r_s
	while [ $t -lt 100 ] && [ ! -b $dev ]; do usleep 100000; t=$((t + 1)); done
	if [ ! -b $dev ]; then
		grep -i nvme /proc/interrupts | sed 's/^/G-NVME-IRQLINE /'
		echo "G-NVME-FAIL no $dev"
		return
	fi
	irq0=$(nvme_irqs)
	ios0=$(nvme_ios)
	head -c 4194304 /dev/urandom >/tmp/pattern
	w=$(sha256sum </tmp/pattern | cut -d' ' -f1)
	dd if=/tmp/pattern of=$dev bs=65536 conv=fsync 2>/dev/null
	blockdev --flushbufs $dev
	r=$(dd if=$dev bs=65536 count=64 2>/dev/null | sha256sum | cut -d' ' -f1)
	# Throughput: 32 MiB each way; the reads come from the device (flushbufs).
	t=$(cut -d' ' -f1 /proc/uptime)
	dd if=/dev/zero of=$dev bs=1048576 count=32 conv=fsync 2>/dev/null
	w_s=$(awk -v a="$t" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')
	blockdev --flushbufs $dev
	t=$(cut -d' ' -f1 /proc/uptime)
	dd if=$dev of=/dev/null bs=1048576 count=32 2>/dev/null
	r_s=$(awk -v a="$t" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')
	grep -i nvme /proc/interrupts | sed 's/^/G-NVME-IRQLINE /'
	echo "G-NVME written=$w read=$r irqs=$(($(nvme_irqs) - irq0)) ios=$(($(nvme_ios) - ios0)) write32m_s=$w_s read32m_s=$r_s"
}

# The nvme interrupts so far (all queues, all CPUs), and the namespace's I/Os.
nvme_irqs() {
	grep nvme /proc/interrupts | awk -v n="$(nproc)" '{ for (i = 2; i < 2 + n; i++) s += $i } END { print s + 0 }'
}
nvme_ios() { awk '{ print $1 + $5 }' /sys/block/nvme0n1/stat; }

case "$what" in
rtc) rtc_alarms ;;
gpio) gpio_keys ;;
nvme) nvme_io ;;
esac
echo "G-DONE"
