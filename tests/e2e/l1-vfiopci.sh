# SPDX-License-Identifier: GPL-2.0
# VFIO-PCI passthrough end-to-end tests, sourced by l1-tests.sh inside the
# L1 host. L1 has an SMMUv3 in front of its PCI bus and QEMU's NVMe
# controller behind it (tests/e2e/run); the NVMe is bound to vfio-pci and
# given to guests whose own nvme driver writes and reads back a pattern
# (vfio-guest.sh, lvmm.vfio=nvme): DMA through the SMMU into guest RAM,
# MSI-X to the ITS by irqfd, or INTx by irqfd + resamplefd.

PCI=/sys/bus/pci/devices
VFIO_PCI_ARGS="-k /Image -i /guest.cpio -m 256"

# num KEY LINE: KEY=number on a line.
num() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=\([0-9]*\).*/\1/p"; }

pci_driver_of() { driver_of_dev "$PCI/$1"; }

# The commands lvmm's "bound to nvme" message gives.
vfio_pci_bind() { vfio_rebind pci vfio-pci "$1"; }

vfio_pci_error_tests() {
	local t="$tag/vfio-pci-err"

	expect_error "$t-not-found" 1 \
		"vfio: 0000:00:1f.0: no such PCI device (not in /sys/bus/pci/devices; lspci -D lists them)" \
		run $VFIO_PCI_ARGS --vfio-pci 00:1f.0
	expect_error "$t-bad-address" 2 \
		"lvmm: --vfio-pci '00:01': not a PCI address ([DOMAIN:]BUS:DEV.FN in hex, e.g. 00:01.0 or 0000:00:01.0)" \
		run $VFIO_PCI_ARGS --vfio-pci 00:01
	expect_error "$t-platform-option" 1 \
		"vfio: $NVME: is a PCI device: pass it with --vfio-pci $NVME" \
		run $VFIO_PCI_ARGS --vfio-platform "$PCI/$NVME"
	if [ "$(pci_driver_of "$NVME")" != nvme ]; then
		fail "$t-bound-to-nvme" "$NVME is bound to '$(pci_driver_of "$NVME")', expected nvme"
		return
	fi
	expect_error "$t-bound-to-nvme" 1 \
		"vfio: $NVME: bound to nvme, not to vfio-pci; rebind it: echo vfio-pci > /sys/bus/pci/devices/$NVME/driver_override; echo $NVME > /sys/bus/pci/devices/$NVME/driver/unbind; echo $NVME > /sys/bus/pci/drivers_probe" \
		run $VFIO_PCI_ARGS --vfio-pci "$NVME"
}

# vfio_pci_nvme_test NAME MODE(msix|intx) lvmm-args...: the guest's nvme
# driver reads back what it wrote, its interrupts of the kind MODE says.
vfio_pci_nvme_test() {
	local t=$1 mode=$2 f line dev bad=""
	shift 2
	run "$t" "$LVMM" run $VFIO_PCI_ARGS --stats --vfio-pci "$NVME" "$@"
	f=$(outfile "$t")
	line=$(grep '^G-NVME ' "$f" | head -n 1)
	if [ "$rc" != 0 ] || ! grep -q '^G-DONE' "$f" || [ -z "$line" ]; then
		fail "$t/io" "status $rc, no G-NVME/G-DONE" "$f"
		return
	fi
	echo "L1-NOTE $t: ${line#G-NVME }"
	case "$line" in
	*"written="[0-9a-f]*" read="*) ;;
	*) bad="$bad no checksums;" ;;
	esac
	w=$(echo "$line" | tr ' ' '\n' | sed -n 's/^written=//p')
	r=$(echo "$line" | tr ' ' '\n' | sed -n 's/^read=//p')
	[ -n "$w" ] && [ "$w" = "$r" ] || bad="$bad read back $r, wrote $w;"
	[ "$(num irqs "$line")" -gt 0 ] 2>/dev/null || bad="$bad no nvme interrupt counted;"
	if [ "$mode" = msix ]; then
		grep '^G-NVME-IRQLINE' "$f" | grep -q 'MSI' || bad="$bad nvme interrupts are not MSI-X;"
	else
		grep '^G-NVME-IRQLINE' "$f" | grep -q 'MSI' && bad="$bad nvme interrupts are MSI, not INTx;"
		grep '^G-NVME-IRQLINE' "$f" | grep -q 'Level' || bad="$bad nvme interrupt is not level;"
	fi
	[ -z "$bad" ] && pass "$t/io" || fail "$t/io" "$bad" "$f"

	# lvmm's side: no interrupt through userspace, routes as the mode says.
	dev=$(grep '^lvmm-dev: vfio-pci0 ' "$f" | head -n 1)
	bad=""
	[ -n "$dev" ] || bad="no vfio-pci0 stats line;"
	[ "$(num kvm_irq_line "$dev")" = 0 ] || bad="$bad kvm_irq_line=$(num kvm_irq_line "$dev");"
	[ "$(num slot_errors "$dev")" = 0 ] || bad="$bad slot_errors;"
	[ "$(num irq_errors "$dev")" = 0 ] || bad="$bad irq_errors;"
	[ "$(num io_errors "$dev")" = 0 ] || bad="$bad io_errors;"
	[ "$(num msi_route_errors "$dev")" = 0 ] || bad="$bad msi_route_errors;"
	[ "$(num mapped_chunks "$dev")" -ge 1 ] 2>/dev/null || bad="$bad no BAR mapped;"
	if [ "$mode" = msix ]; then
		[ "$(num msi_routes "$dev")" -gt 0 ] 2>/dev/null || bad="$bad no MSI route;"
		[ "$(num msix_enables "$dev")" -gt 0 ] 2>/dev/null || bad="$bad MSI-X never enabled;"
	else
		echo "$dev" | grep -q 'intx=yes' || bad="$bad no INTx;"
		[ "$(num msix_enables "$dev")" = 0 ] || bad="$bad MSI-X enabled;"
	fi
	echo "L1-NOTE $t: ${dev#lvmm-dev: }"
	[ -z "$bad" ] && pass "$t/irqfd-only" || fail "$t/irqfd-only" "$bad ($dev)" "$f"
}

# A VM with a VFIO-PCI device refuses a snapshot, naming the device.
vfio_pci_snapshot_refused() {
	snapshot_refused_test "$tag/vfio-pci-snapshot-refused" vfiopcisnap \
		"cannot snapshot: vfio-pci0 (passed-through PCI $NVME) cannot be checkpointed" \
		$VFIO_PCI_ARGS --vfio-pci "$NVME"
}

vfiopci_suites() {
	local d
	NVME=
	for d in "$PCI"/*; do
		[ "$(cat "$d/class" 2>/dev/null)" = 0x010802 ] && NVME=${d##*/}
	done
	if [ -z "$NVME" ]; then
		fail "$tag/vfio-pci-nvme-present" "L1 has no NVMe controller (lspci: $(ls $PCI))"
		return
	fi
	vfio_pci_error_tests
	vfio_pci_bind "$NVME"
	if [ "$(pci_driver_of "$NVME")" != vfio-pci ]; then
		fail "$tag/vfio-pci-bind" "$NVME is bound to '$(pci_driver_of "$NVME")' after the commands lvmm gave"
		return
	fi
	pass "$tag/vfio-pci-bind"
	# Without an ITS (a GICv2 host) nothing isolates the device's MSIs:
	# VFIO's type1 IOMMU refuses it until told to accept that.
	if [ "$L1_GIC" = 2 ]; then
		expect_error "$tag/vfio-pci-err-unsafe-interrupts" 1 \
			"vfio: $NVME: VFIO_SET_IOMMU: the host cannot isolate the device's MSIs (no interrupt remapping, e.g. a GICv2 or no ITS), so VFIO refuses it; to accept that risk: echo 1 > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts" \
			run $VFIO_PCI_ARGS --vfio-pci "$NVME"
		echo 1 >/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
	fi
	for m in $models; do
		case "$m" in
		gicv3-its)
			vfio_pci_nvme_test "$tag/vfio-pci-nvme-msix-$m" msix --irqchip "$m" \
				-p "$GUEST_PARAMS lvmm.mode=vfio lvmm.vfio=nvme"
			vfio_pci_nvme_test "$tag/vfio-pci-nvme-intx-$m" intx --irqchip "$m" \
				-p "$GUEST_PARAMS pci=nomsi lvmm.mode=vfio lvmm.vfio=nvme"
			;;
		gicv3|gicv2)
			vfio_pci_nvme_test "$tag/vfio-pci-nvme-intx-$m" intx --irqchip "$m" \
				-p "$GUEST_PARAMS pci=nomsi lvmm.mode=vfio lvmm.vfio=nvme"
			;;
		esac
	done
	vfio_pci_snapshot_refused
}
