# SPDX-License-Identifier: GPL-2.0
# VFIO passthrough end-to-end tests, sourced by l1-tests.sh inside the L1
# host (vfio_suites). L1's PL031 RTC and PL061 GPIO are bound to vfio-amba
# (no-IOMMU groups) and given to guests; vfio-guest.sh is the guest's half.
# For the GPIO key, L1 prints "L1-REQUEST system_powerdown" on its console
# and tests/e2e/run sends that command to L1's QEMU monitor, which pulses
# PL061 line 3.
#
# Not produced here: "group not viable" (L1 has no IOMMU, and a no-IOMMU
# group holds one device) and "region too large for the guest window" (the
# window is 768 MiB, these devices have 4 KiB); the unit tests cover both.

RTC=9010000.pl031
GPIO=9030000.pl061
AMBA=/sys/bus/amba/devices
NOIOMMU=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
VFIO_ARGS="-k /Image -i /guest.cpio -m 256"

driver_of() { driver_of_dev "$AMBA/$1"; }

group_dev_of() {
	local g
	g=$(readlink "$AMBA/$1/iommu_group" 2>/dev/null)
	echo "/dev/vfio/noiommu-${g##*/}"
}

# The three commands of test-host.md.
vfio_bind() { vfio_rebind amba vfio-amba "$1"; }


# vfield PREFIX KEY FILE: KEY=value on the first line starting with PREFIX.
vfield() { grep "^$1" "$3" | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# KEY=number on a line.
num() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=\([0-9]*\).*/\1/p"; }

vfio_error_tests() {
	local t="$tag/vfio-err" f cmds gdev kvm_mode

	expect_error "$t-device-not-found" 1 \
		"vfio: 9999000.nothing: no such device (looked in /sys/bus/platform/devices and /sys/bus/amba/devices)" \
		run $VFIO_ARGS --vfio-platform 9999000.nothing

	if [ "$(driver_of $RTC)" != rtc-pl031 ]; then
		fail "$t-bound-to-host-driver" "$RTC is bound to '$(driver_of $RTC)', expected rtc-pl031"
		return
	fi
	expect_error "$t-bound-to-host-driver" 1 \
		"vfio: $RTC: bound to rtc-pl031, not to vfio-amba; rebind it: echo vfio-amba > /sys/bus/amba/devices/$RTC/driver_override; echo $RTC > /sys/bus/amba/devices/$RTC/driver/unbind; echo $RTC > /sys/bus/amba/drivers_probe" \
		run $VFIO_ARGS --vfio-platform $RTC

	# The rebind commands of that message, with no-IOMMU mode off: the
	# device has no IOMMU group, vfio-amba cannot take it, it stays unbound.
	f=$(outfile "$t-bound-to-host-driver")
	cmds=$(sed -n 's/.*rebind it: //p' "$f")
	echo N >$NOIOMMU
	sh -c "$cmds" 2>/dev/null
	expect_error "$t-noiommu-off-at-bind" 1 \
		"vfio: $RTC: not bound to vfio-amba: it has no IOMMU group and no-IOMMU mode is not enabled (echo Y > $NOIOMMU" \
		run $VFIO_ARGS --vfio-platform $RTC
	echo Y >$NOIOMMU
	echo $RTC >/sys/bus/amba/drivers_probe 2>/dev/null
	gdev=$(group_dev_of $RTC)
	if [ "$(driver_of $RTC)" = vfio-amba ] && [ -c "$gdev" ]; then
		pass "$tag/vfio-rebind-as-the-message-says"
	else
		fail "$tag/vfio-rebind-as-the-message-says" "driver '$(driver_of $RTC)', group device '$gdev'"
		return
	fi

	# Bound, but no-IOMMU mode switched off afterwards.
	echo N >$NOIOMMU
	expect_error "$t-noiommu-off" 1 \
		"vfio: $RTC: its group is a no-IOMMU group, but no-IOMMU mode is not enabled" \
		run $VFIO_ARGS --vfio-platform $RTC
	echo Y >$NOIOMMU

	# As nobody (with /dev/kvm opened up, so that VFIO is what refuses).
	kvm_mode=$(stat -c %a /dev/kvm 2>/dev/null || echo 600)
	chmod 666 /dev/kvm
	AS_USER="start-stop-daemon -S -c nobody:nogroup -x" \
		expect_error "$t-no-permission" 1 \
		"vfio: $RTC: no permission to open $gdev (run as root: no-IOMMU groups also need CAP_SYS_RAWIO)" \
		run $VFIO_ARGS --vfio-platform $RTC
	chmod 666 "$gdev"
	AS_USER="start-stop-daemon -S -c nobody:nogroup -x" \
		expect_error "$t-noiommu-needs-rawio" 1 \
		"vfio: $RTC: no permission to open $gdev: no-IOMMU groups need CAP_SYS_RAWIO (run as root)" \
		run $VFIO_ARGS --vfio-platform $RTC
	chmod 600 "$gdev"
	chmod "$kvm_mode" /dev/kvm

	expect_error "$t-given-twice" 1 "vfio: $RTC: given twice" \
		run $VFIO_ARGS --vfio-platform $RTC --vfio-platform $AMBA/$RTC
	# Fails after the device is open, mapped and wired: all of it undone
	# (the guests below open it again).
	expect_error "$t-gpio-key-needs-gpio-controller" 1 \
		"vfio: $RTC: gpio-key needs a GPIO controller" \
		run $VFIO_ARGS --vfio-platform $RTC,gpio-key=3:116
}

# vfio_rtc_test NAME lvmm-args...: the guest's rtc-pl031 on the passed-through PL031.
vfio_rtc_test() {
	local t=$1 f gt hi d1 line b a bad="" i
	shift
	run "$t" "$LVMM" run $VFIO_ARGS --stats "$@" -p "$GUEST_PARAMS lvmm.mode=vfio lvmm.vfio=rtc"
	d1=$(date +%s)
	f=$(outfile "$t")
	if grep -q "Kernel panic" "$f" || [ "$rc" != 0 ] || ! grep -q "^G-DONE" "$f"; then
		fail "$t/boots" "status $rc, no G-DONE" "$f"
		return
	fi
	pass "$t/boots"

	# The AMBA bus read the peripheral ID from the device's registers.
	if grep -q "^G-AMBA 10000000.pl031 id=$rtc_id driver=rtc-pl031\$" "$f" &&
		grep -q "^G-DT .*apb-pclk .*pl031@10000000" "$f"; then
		pass "$t/pl031-probed (id $rtc_id)"
	else
		fail "$t/pl031-probed" "$(grep '^G-AMBA' "$f"), want id $rtc_id" "$f"
	fi

	gt=$(sed -n 's/^G-RTC time=\([0-9]*\).*/\1/p' "$f")
	hi=$((l1_rtc + d1 - l1_date0 + 5))
	if [ -n "$gt" ] && [ "$gt" -ge "$l1_rtc" ] && [ "$gt" -le "$hi" ]; then
		pass "$t/time-close-to-l1 (guest $gt, L1 read $l1_rtc $((d1 - l1_date0))s earlier)"
	else
		fail "$t/time-close-to-l1" "guest read '$gt', expected $l1_rtc..$hi" "$f"
	fi

	for i in 1 2 3; do
		line=$(grep "^G-ALARM $i " "$f")
		b=$(num before "$line")
		a=$(num after "$line")
		[ -n "$b" ] && [ "$a" = "$((b + 1))" ] || bad="$bad [${line:-alarm $i missing}]"
	done
	if [ -z "$bad" ]; then
		pass "$t/three-alarms-one-interrupt-each"
	else
		fail "$t/three-alarms-one-interrupt-each" "$bad" "$f"
	fi

	# Level in the guest, irqfd + resamplefd in lvmm: no KVM_IRQ_LINE.
	if grep -q "^G-IRQLINE .*Level.*rtc-pl031" "$f" &&
		[ "$(vfield 'lvmm-dev: vfio0 ' level "$f")" = 1 ] &&
		[ "$(vfield 'lvmm-dev: vfio0 ' kvm_irq_line "$f")" = 0 ]; then
		pass "$t/level-irq-via-irqfd"
	else
		fail "$t/level-irq-via-irqfd" "$(grep -E '^G-IRQLINE|^lvmm-dev: vfio' "$f" | tr '\n' ' ')"
	fi
}

vfio_rtc_checks_mapping() {
	local t=$1 f
	f=$(outfile "$t")
	[ -f "$f" ] && grep -q "^G-DONE" "$f" || return
	if [ "$(vfield 'lvmm-dev: vfio0 ' mapped "$f")" = 1 ] &&
		[ "$(vfield 'lvmm-dev: vfio0 ' trapped "$f")" = 0 ] && ! grep -q "^lvmm-dev: vfio0-r0" "$f"; then
		pass "$t/registers-mapped-not-trapped"
	else
		fail "$t/registers-mapped-not-trapped" "$(grep '^lvmm-dev: vfio' "$f" | tr '\n' ' ')"
	fi
}

vfio_rtc_checks_trapping() {
	local t=$1 f n
	f=$(outfile "$t")
	[ -f "$f" ] && grep -q "^G-DONE" "$f" || return
	n=$(vfield 'lvmm-dev: vfio0-r0 ' trapped_accesses "$f")
	if [ "$(vfield 'lvmm-dev: vfio0 ' mapped "$f")" = 0 ] && [ "${n:-0}" -gt 0 ] &&
		[ "$(vfield 'lvmm-dev: vfio0-r0 ' errors "$f")" = 0 ]; then
		pass "$t/registers-trapped-and-forwarded ($n accesses)"
	else
		fail "$t/registers-trapped-and-forwarded" "$(grep '^lvmm-dev: vfio' "$f" | tr '\n' ' ')"
	fi
}

# The PL061 (with the PL031 beside it): QEMU's system_powerdown, twice,
# reaches the guest as KEY_POWER through the gpio-keys node on line 3.
vfio_gpio_test() {
	local t="$tag/vfio-gpio" f pid i line b a bad=""
	if [ -e /sys/bus/platform/drivers/gpio-keys/gpio-keys ]; then
		echo gpio-keys >/sys/bus/platform/drivers/gpio-keys/unbind
	fi
	vfio_bind $GPIO
	if [ "$(driver_of $GPIO)" != vfio-amba ]; then
		fail "$t/bind-pl061" "bound to '$(driver_of $GPIO)'"
		return
	fi
	f=$(outfile "$t")
	timeout -s KILL "$GUEST_TIMEOUT" "$LVMM" run $VFIO_ARGS --stats -c 2 --vfio-platform $RTC \
		--vfio-platform "$GPIO,gpio-key=3:116" -p "$GUEST_PARAMS lvmm.mode=vfio lvmm.vfio=gpio" \
		</dev/null >"$f.raw" 2>&1 &
	pid=$!
	for i in 1 2; do
		if ! wait_for "^G-GPIO-READY $i" "$f.raw" 120; then
			bad="$bad no-G-GPIO-READY-$i"
			break
		fi
		echo "L1-REQUEST system_powerdown"
		if ! wait_for "^G-KEY $i " "$f.raw" 60; then
			bad="$bad no-G-KEY-$i"
			break
		fi
		# While that guest has both devices: a second VMM is refused.
		[ $i = 1 ] && expect_error "$tag/vfio-err-in-use" 1 "vfio: $RTC: $(group_dev_of $RTC) is in use by another process" \
			run $VFIO_ARGS --vfio-platform $RTC
	done
	wait $pid
	rc=$?
	tr -d '\r' <"$f.raw" >"$f"
	if grep -q "Kernel panic" "$f" || [ "$rc" != 0 ] || ! grep -q "^G-DONE" "$f"; then
		fail "$t/boots" "status $rc, no G-DONE;$bad" "$f"
		return
	fi
	pass "$t/boots"
	if grep -q "^G-AMBA 10010000.pl061 id=$gpio_id driver=pl061_gpio\$" "$f" &&
		grep -q "^G-AMBA 10000000.pl031 id=$rtc_id driver=rtc-pl031\$" "$f" &&
		grep -q "^G-GPIO-INPUT dev=/dev/input/event" "$f"; then
		pass "$t/pl061-and-pl031-probed"
	else
		fail "$t/pl061-and-pl031-probed" "$(grep -E '^G-AMBA|^G-GPIO-INPUT' "$f" | tr '\n' ' ')" "$f"
	fi
	for i in 1 2; do
		line=$(grep "^G-KEY $i " "$f")
		b=$(num before "$line")
		a=$(num after "$line")
		if echo "$line" | grep -q "EVKEY-RESULT code=116 presses=1 releases=1 " &&
			[ -n "$b" ] && [ -n "$a" ] && [ "$a" -gt "$b" ]; then
			pass "$t/key-power-$i (interrupts $b -> $a)"
		else
			fail "$t/key-power-$i" "${line:-no G-KEY $i}$bad" "$f"
		fi
	done
}

# A VM with a passed-through device cannot be snapshotted: refused, naming
# the device, no directory left behind, the VM running on.
vfio_snapshot_refused() {
	snapshot_refused_test "$tag/vfio-snapshot-refused" vfiosnap \
		"cannot snapshot: vfio0 (passed-through $RTC) cannot be checkpointed" \
		$VFIO_ARGS --vfio-platform $RTC
}

vfio_suites() {
	# L1 reads its own RTC before giving it away.
	l1_rtc=$(cat /sys/class/rtc/rtc0/since_epoch)
	l1_date0=$(date +%s)
	rtc_id=$(cat $AMBA/$RTC/id)
	gpio_id=$(cat $AMBA/$GPIO/id)

	vfio_error_tests
	[ "$(driver_of $RTC)" = vfio-amba ] || return
	for m in $models; do
		[ "$m" = auto ] && continue
		vfio_rtc_test "$tag/vfio-rtc-$m" --irqchip "$m" --vfio-platform $RTC
		vfio_rtc_checks_mapping "$tag/vfio-rtc-$m"
	done
	vfio_rtc_test "$tag/vfio-rtc-no-mmap" --vfio-platform $RTC,no-mmap
	vfio_rtc_checks_trapping "$tag/vfio-rtc-no-mmap"
	vfio_snapshot_refused
	vfio_gpio_test
}
