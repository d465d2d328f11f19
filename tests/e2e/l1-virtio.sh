# SPDX-License-Identifier: GPL-2.0
# virtio end-to-end tests, sourced by l1-tests.sh inside the L1 host: one
# guest per irqchip model and virtio transport (mmio, pci) with three disks,
# rng and a tap network (virtio-tests.sh is its half), and one with
# --console virtio.

vt=/tmp/vt
pattern() { awk -v r="$1" 'BEGIN { for (i = 0; i < 40330; i++) printf "LVMM-REGION-%d-LINE-%08d\n", r, i }' | head -c 1048576; }
sha() { sha256sum | cut -d' ' -f1; }

virtio_setup_once() {
	[ -d $vt ] && return 0
	mkdir -p $vt/small $vt/www
	# The guest's network peer: L1 itself on a tap, serving a blob over HTTP.
	tunctl -t tap0 >/dev/null
	ifconfig tap0 169.254.10.1 netmask 255.255.255.0 up
	head -c 4194304 /dev/urandom >$vt/www/blob
	httpd -p 169.254.10.1:8080 -h $vt/www
	for r in 0 1 2 3 4; do pattern $r | sha >$vt/pattern$r.sha; done
}

# field NAME KEY FILE: the value of KEY=... on the line starting with NAME.
field() { grep "^$1" "$3" | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# virtio_suite MODEL [mmio|pci]
virtio_suite() {
	local m=$1 tr=${2:-mmio} t="$tag/virtio-$1" f vhost=""
	[ "$tr" = mmio ] || t="$tag/virtio-$tr-$m"
	# The network through the kernel's vhost-net on half the guests, so each
	# transport and interrupt path (MSI-X, INTx, virtio-mmio) runs both ways.
	case "$tr-$m" in pci-gicv3-its | mmio-gicv3 | pci-gicv2) vhost=,vhost=1 ;; esac
	[ -n "$vhost" ] && t="$t-vhost"
	# virtio-pci with an ITS: every queue's interrupt is an MSI-X vector.
	local msix=""
	[ "$tr" = pci ] && [ "$m" = gicv3-its ] && msix=1
	virtio_setup_once
	truncate -s 0 $vt/vda.img
	truncate -s 8M $vt/vda.img
	head -c 4194304 /dev/urandom >$vt/vdb.img
	local vdb_sha
	vdb_sha=$(sha <$vt/vdb.img)
	umount $vt/small 2>/dev/null
	mount -t tmpfs -o size=2m tmpfs $vt/small
	truncate -s 16M $vt/small/vdc.img

	rm -rf $vt/share && mkdir -p $vt/share && echo hello-from-host >$vt/share/hello
	echo host-secret >$vt/secret && ln -s $vt/secret $vt/share/out
	# The guest sends the blob back over TCP: the transmit path, checked whole.
	# busybox nc ends at its peer's FIN, and ours sends one at its stdin's
	# end: that stdin (a FIFO) stays open until all 4 MiB are here.
	rm -f $vt/nc.fifo
	: >$vt/upload	# there before the watcher below looks at its size
	mkfifo $vt/nc.fifo
	sleep 600 >$vt/nc.fifo &
	local nc_hold=$!
	nc -l -p 9000 <$vt/nc.fifo >$vt/upload &
	local nc_pid=$!
	(i=0; while [ "$(wc -c <$vt/upload)" -lt 4194304 ] && [ $i -lt 1200 ]; do
		usleep 100000; i=$((i + 1)); done; kill $nc_hold) 2>/dev/null &

	run "$t" "$LVMM" run -k /Image -i /guest.cpio -m 256 -c 2 --irqchip "$m" --stats \
		--virtio-transport "$tr" \
		-d $vt/vda.img,serial=lvmm-test-vda,queues=2 -d $vt/vdb.img,ro -d $vt/small/vdc.img \
		--9p $vt/share,lvmmshare --rng -n mode=tap,tapif=tap0$vhost -p "$GUEST_PARAMS lvmm.mode=virtio"
	f=$(outfile "$t")
	if grep -q "Kernel panic" "$f" || [ "$rc" != 0 ] || ! grep -q "^V-DONE" "$f"; then
		fail "$t/boots" "status $rc, no V-DONE" "$f"
		kill $nc_pid $nc_hold 2>/dev/null
		return
	fi
	pass "$t/boots"

	# --stats: KVM's counters of the two vCPUs. Every exit counts in exits;
	# the UART's MMIO reaches lvmm, queue notifications (ioeventfd) and the
	# vGIC stay in the kernel, and an idle guest waits in WFI.
	local ex mu mk wfi
	ex=$(field "lvmm-kvm:" exits "$f") mu=$(field "lvmm-kvm:" mmio_exit_user "$f")
	mk=$(field "lvmm-kvm:" mmio_exit_kernel "$f") wfi=$(field "lvmm-kvm:" wfi_exit_stat "$f")
	if [ "${mu:-0}" -gt 0 ] && [ "${mk:-0}" -gt 0 ] && [ "${wfi:-0}" -gt 0 ] &&
		[ "${ex:-0}" -ge $((mu + mk + wfi)) ]; then
		pass "$t/stats-kvm-counters (exits $ex: mmio user $mu, kernel $mk, wfi $wfi)"
	else
		fail "$t/stats-kvm-counters" "$(grep '^lvmm-kvm' "$f")"
	fi

	if grep -q "^V-SERIAL vda=lvmm-test-vda vdb=vdb.img\$" "$f"; then
		pass "$t/blk-serial"
	else
		fail "$t/blk-serial" "$(grep '^V-SERIAL' "$f")"
	fi

	# vda has queues=2 (multiqueue, a worker each), vdb the default one.
	if grep -q "^V-MQ vda=2 vdb=1\$" "$f" && [ "$(field "lvmm-dev: virtio-blk0" queues "$f")" = 2 ]; then
		pass "$t/blk-multiqueue"
	else
		fail "$t/blk-multiqueue" "$(grep '^V-MQ' "$f"), lvmm: $(field "lvmm-dev: virtio-blk0" queues "$f") queues"
	fi

	local got
	got=$(dd if=$vt/vda.img bs=4096 skip=256 count=256 2>/dev/null | sha)
	if grep -q "^V-PATTERN rc=0" "$f" && [ "$got" = "$(cat $vt/pattern0.sha)" ]; then
		pass "$t/blk-guest-write-reaches-image"
	else
		fail "$t/blk-guest-write-reaches-image" "$(grep '^V-PATTERN' "$f"), image region sha $got"
	fi

	if grep -q "^V-VDB-SHA $vdb_sha\$" "$f"; then
		pass "$t/blk-guest-reads-host-image"
	else
		fail "$t/blk-guest-reads-host-image" "$(grep '^V-VDB-SHA' "$f") != $vdb_sha"
	fi

	local bad=""
	for r in 1 2 3 4; do
		grep -q "^V-CONC-READ $r $vdb_sha\$" "$f" || bad="$bad read$r"
		grep -q "^V-CONC-BACK $r \(.*\) \1\$" "$f" || bad="$bad back$r"
		got=$(dd if=$vt/vda.img bs=65536 skip=$((16 * (r + 1))) count=16 2>/dev/null | sha)
		[ "$got" = "$(cat $vt/pattern$r.sha)" ] || bad="$bad image$r"
	done
	local inflight
	inflight=$(field "lvmm-dev: virtio-blk0" max_inflight "$f")
	if [ -z "$bad" ] && [ "${inflight:-0}" -ge 2 ]; then
		pass "$t/blk-concurrent-readers-writers (max in flight $inflight)"
	else
		fail "$t/blk-concurrent-readers-writers" "mismatch:${bad:- none}, max in flight ${inflight:-?}"
	fi

	# The guest's kernel honours VIRTIO_BLK_F_RO, so writes never reach the
	# device here; the device's own refusal (I/O error) is a unit test.
	if grep -q "^V-RO-WRITE rc=[1-9]" "$f" && grep -q "^V-RO-FORCED-WRITE rc=[1-9]" "$f" &&
		[ "$(sha <$vt/vdb.img)" = "$vdb_sha" ]; then
		pass "$t/blk-readonly-refuses-writes"
	else
		fail "$t/blk-readonly-refuses-writes" "$(grep '^V-RO' "$f" | tr '\n' ' ')"
	fi

	if grep -q "^V-HOSTFULL-WRITE rc=[1-9]" "$f" && grep -q "virtio-blk2: write .*No space left on device" "$f"; then
		pass "$t/blk-host-write-error-reaches-guest"
	else
		fail "$t/blk-host-write-error-reaches-guest" "$(grep '^V-HOSTFULL' "$f")"
	fi

	if grep -q "^V-9P mount=0 read=hello-from-host\$" "$f" && grep -q "^V-9P escape=0" "$f" &&
	    [ "$(cat $vt/share/fromguest 2>/dev/null)" = from-guest ]; then
		pass "$t/9p-share-read-write-confined"
	else
		fail "$t/9p-share-read-write-confined" "$(grep '^V-9P' "$f")"
	fi
	if grep -q "^V-RNG current=virtio_rng.0 bytes=64\$" "$f"; then
		pass "$t/rng-hwrng-gives-bytes"
	else
		fail "$t/rng-hwrng-gives-bytes" "$(grep '^V-RNG' "$f")"
	fi

	# vhost=1: the kernel moved every frame (none through lvmm) and
	# signalled KVM itself (an MSI-X vector) or through lvmm (the rest).
	local direct=0
	if [ -n "$vhost" ]; then
		direct=$(field "lvmm-dev: virtio-net0" vhost_direct "$f")
		[ -n "$msix" ] && [ "$direct" != 2 ] && direct="$direct, not 2 with MSI-X"
		[ -z "$msix" ] && [ "$direct" != 0 ] && direct="$direct, not 0 without MSI-X"
		if [ "$(field "lvmm-dev: virtio-net0" vhost "$f")" = 1 ] &&
			[ "$(field "lvmm-dev: virtio-net0" tx_frames "$f")" = 0 ] &&
			{ [ "$direct" = 2 ] || [ "$(field "lvmm-dev: virtio-net0" vhost_signals "$f")" -gt 0 ] 2>/dev/null; } &&
			! grep -q "vhost-net:" "$f"; then
			pass "$t/net-vhost-moves-the-frames"
		else
			fail "$t/net-vhost-moves-the-frames" "$(grep '^lvmm-dev: virtio-net0\|vhost-net:' "$f")"
		fi
	fi
	if grep -q "^V-PING rc=0 3 packets received" "$f"; then
		pass "$t/net-ping"
	else
		fail "$t/net-ping" "$(grep '^V-PING' "$f")"
	fi
	if grep -q "^V-NET-SHA $(sha <$vt/www/blob)\$" "$f"; then
		pass "$t/net-4MiB-transfer"
	else
		fail "$t/net-4MiB-transfer" "$(grep '^V-NET-SHA' "$f")"
	fi
	kill $nc_pid $nc_hold 2>/dev/null
	wait $nc_pid 2>/dev/null
	if [ "$(sha <$vt/upload)" = "$(sha <$vt/www/blob)" ]; then
		pass "$t/net-4MiB-upload"
	else
		fail "$t/net-4MiB-upload" "L1 got $(wc -c <$vt/upload) bytes, sha $(sha <$vt/upload); $(grep '^V-NET-UP' "$f")"
	fi

	# Guest side: every virtio interrupt counted. lvmm side: irqfd only.
	# virtio-pci with an ITS: MSI-X, one vector per queue (and one for
	# config changes, which none happen here), each an MSI route; without
	# an ITS (and on mmio) one interrupt per device.
	bad=""
	local n
	n=$(grep -c "^V-IRQ" "$f")
	if [ -n "$msix" ]; then
		[ "$(grep "^V-IRQ" "$f" | grep -c "MSI")" = "$n" ] && [ "$n" -ge 10 ] ||
			bad="$bad guest-lists-$n-not-all-msix"
		grep "^V-IRQ" "$f" | grep -v config | awk '{ if ($3 + $4 == 0) exit 1 }' ||
			bad="$bad zero-count"
	else
		[ "$n" = 6 ] || bad="$bad guest-lists-$n"
		grep "^V-IRQ" "$f" | awk '{ if ($3 + $4 == 0) exit 1 }' || bad="$bad zero-count"
	fi
	for d in virtio-blk0 virtio-blk1 virtio-blk2 virtio-net0 virtio-rng0; do
		[ "$(field "lvmm-dev: $d" kvm_irq_line "$f")" = 0 ] || bad="$bad $d-irq-line"
		# vhost's MSI-X signals reach KVM without lvmm: none to count.
		[ "$d" = virtio-net0 ] && [ "$direct" = 2 ] ||
			[ "$(field "lvmm-dev: $d" irqfd_signals "$f")" -gt 0 ] 2>/dev/null || bad="$bad $d-no-irqfd"
		if [ -n "$msix" ]; then
			[ "$(field "lvmm-dev: $d" msi_routes "$f")" -gt 0 ] 2>/dev/null ||
				bad="$bad $d-no-msi-route"
		fi
	done
	[ "$tr" = pci ] && grep "^lvmm-dev: virtio" "$f" | sed "s/^/     /"
	if [ -z "$bad" ]; then
		pass "$t/irq-irqfd-only"
	else
		fail "$t/irq-irqfd-only" "$bad" "$f"
	fi

	run "$t-hvc" "$LVMM" run -k /Image -i /guest.cpio -m 256 --irqchip "$m" --console virtio \
		--virtio-transport "$tr" \
		-p "rdinit=/init panic=-1 quiet lvmm.mode=hvc"
	f=$(outfile "$t-hvc")
	if [ "$rc" = 0 ] && grep -q "^LVMM-GUEST-UP" "$f" && grep -q "^LVMM-CONSOLES hvc0" "$f"; then
		pass "$t/console-virtio-is-hvc0"
	else
		fail "$t/console-virtio-is-hvc0" "status $rc" "$f"
	fi
}

# The hostile bare-metal guest (hostile/hostile.c), in its four modes.
hostile_test() {
	hostile_basic_test
	hostile_net_test
	hostile_snapshot_test
	hostile_random_test
	hostile_random_test -vhost ,vhost=1
}

# A bare-metal guest that hands the devices malformed rings: each must end
# with the device marked DEVICE_NEEDS_RESET, lvmm alive, and the devices
# working again after a reset.
hostile_basic_test() {
	local t="$tag/virtio-hostile-guest" f bad=""
	f=$(outfile "$t")
	# The guest's lines alone (stdout): lvmm's warnings on stderr would land
	# in the middle of them.
	timeout -s KILL "$GUEST_TIMEOUT" "$LVMM" run -k /hostile.bin --flat -m 64 --virtio-transport mmio \
		--rng -d /hostile-disk.img </dev/null >"$f.raw" 2>"$f.err"
	rc=$?
	tr -d '\r' <"$f.raw" >"$f"
	for c in desc-outside-ram desc-past-ram-end desc-wraps-address-space desc-loop \
		chain-longer-than-queue next-out-of-range head-out-of-range avail-idx-runaway \
		indirect-not-offered blk-no-status-byte; do
		grep -q "^HOSTILE $c broken=1 used=0 isr=2\$" "$f" || bad="$bad $c"
	done
	for c in queue-size-not-power-of-two rings-outside-ram; do
		grep -q "^HOSTILE $c broken=1 ready=0\$" "$f" || bad="$bad $c"
	done
	grep -q "^HOSTILE rng-good-after-reset broken=0 used=1" "$f" || bad="$bad rng-good"
	grep -q "^HOSTILE rng-good-data nonzero=1" "$f" || bad="$bad rng-data"
	grep -q "^HOSTILE blk-good-read-after-reset broken=0 used=1" "$f" || bad="$bad blk-good"
	grep -q "^HOSTILE blk-good-data status=0 byte=165" "$f" || bad="$bad blk-data"
	grep -q "^HOSTILE done" "$f" || bad="$bad not-done"
	if [ "$rc" = 0 ] && [ -z "$bad" ]; then
		pass "$t"
	else
		fail "$t" "status $rc; wrong:$bad" "$f"
	fi
}

# The hostile guest's network peer: L1 on tapH, answering its ARP requests,
# and saying nothing of its own (no IPv6) to keep the guest's counts exact.
hostile_tap_once() {
	[ -e /sys/class/net/tapH ] && return 0
	tunctl -t tapH >/dev/null
	echo 1 >/proc/sys/net/ipv6/conf/tapH/disable_ipv6 2>/dev/null
	ifconfig tapH 169.254.20.1 netmask 255.255.255.0 up
}

# hostile_verdict NAME FILE "expected line"...: every line present, lvmm
# exited 0 and reported no crash.
hostile_verdict() {
	local t=$1 f=$2 bad=""
	shift 2
	for want in "$@"; do
		grep -qE "^$want\$" "$f" || bad="$bad [$want]"
	done
	grep -q "^HOSTILE done" "$f" || bad="$bad not-done"
	grep -qiE "sanitizer|segmentation|core dumped|lvmm: (fatal|bug)" "$f" && bad="$bad crash-report"
	if [ "$rc" = 0 ] && [ -z "$bad" ]; then
		pass "$t"
	else
		fail "$t" "status $rc; missing:$bad" "$f"
	fi
}

# Issue 8, bug 1: virtio-net holds a receive buffer; the guest writes
# QueueReady=0 and a larger QueueNum; a frame arrives. Nothing may be
# written past the old used ring (canaries there, and a used ring at the
# very end of RAM), the buffer must not show up in the queue set up next,
# and the device must work after that and after a reset.
hostile_net_test() {
	local t="$tag/virtio-hostile-net"
	hostile_tap_once
	run "$t" "$LVMM" run -k /hostile.bin --flat -m 64 --virtio-transport mmio -n mode=tap,tapif=tapH -p "hostile.mode=net"
	hostile_verdict "$t" "$(outfile "$t")" \
		"HOSTILE net-arp-sent=1" \
		"HOSTILE net-held-across-disable canary=ok used=0 broken=0" \
		"HOSTILE net-stale-buffer-not-in-new-ring used=0" \
		"HOSTILE net-good-after used=1 head=1 arp-reply=1 canary=ok" \
		"HOSTILE net-held-used-ring-at-ram-end used=0" \
		"HOSTILE net-good-after-reset tx=1 rx=1" \
		"HOSTILE net-short-buffer used=1 len=20"
}

# Issue 8, bug 3: a virtio-rng request sits in the ring, not yet taken by
# the device, when the VM is snapshotted (lvmm snapshot --stop); restored
# in a new process, the request must complete with no further kick.
hostile_snapshot_test() {
	local t="$tag/virtio-hostile-snapshot" s=/tmp/hostile-snap name=hostile-snap f1 pid
	export LVMM_RUNTIME_DIR=${LVMM_RUNTIME_DIR:-/tmp/lvmm-run}
	rm -rf $s
	f1=$(outfile "$t-run")
	"$LVMM" run -k /hostile.bin --flat -m 64 --virtio-transport mmio --rng --name $name -p "hostile.mode=snap" \
		</dev/null >"$f1" 2>&1 &
	pid=$!
	if ! wait_for "^HOSTILE-SNAP posted" "$f1" 60; then
		fail "$t" "the guest did not post its request" "$f1"
		kill -9 $pid
		return
	fi
	if ! "$LVMM" snapshot $name $s --stop >/tmp/snapout 2>&1; then
		fail "$t" "snapshot: $(cat /tmp/snapout)" "$f1"
		kill -9 $pid
		return
	fi
	wait $pid
	rc=$?
	if [ $rc != 0 ] || ! grep -q "^HOSTILE snap-first-request used=1" "$f1" ||
		grep -q "^HOSTILE snap-pending-request" "$f1"; then
		fail "$t" "before the snapshot: status $rc" "$f1"
		return
	fi
	run "$t" "$LVMM" restore $s
	hostile_verdict "$t" "$(outfile "$t")" "HOSTILE snap-pending-request used=2 len=32"
	rm -rf $s
}

# Random register and ring writes to every device (blk, net, console, rng)
# for 20 s, from a fixed seed (printed; hostile.seed=N on the guest's
# command line replays another): lvmm must stay up, and each device must
# serve a good request after a reset. Again with vhost=1 ("-vhost"): the
# net device's rings go to the kernel and back at every status and
# QueueReady write.
hostile_random_test() {
	local t="$tag/virtio-hostile-random$1" seed=1 f n
	hostile_tap_once
	cp /hostile-disk.img /tmp/hostile-random.img
	run "$t" "$LVMM" run -k /hostile.bin --flat -m 64 --virtio-transport mmio --rng -d /tmp/hostile-random.img \
		-n mode=tap,tapif=tapH$2 --console virtio \
		-p "hostile.mode=random hostile.seed=$seed hostile.secs=20"
	f=$(outfile "$t")
	# The storm's console output may hold any bytes, NULs too.
	tr -d '\000' <"$f" >"$f.t" && mv "$f.t" "$f"
	n=$(sed -n 's/^HOSTILE random-steps n=\([0-9]*\).*/\1/p' "$f")
	echo "     random: seed $seed, ${n:-no} steps"
	hostile_verdict "$t" "$f" \
		"HOSTILE random seed=$seed secs=20 devices=net,blk,console,rng," \
		"HOSTILE random-steps n=[0-9]{4,} .*" \
		"HOSTILE random-console-after-reset ok" \
		"HOSTILE random-rng-after-reset used=1 len=64" \
		"HOSTILE random-blk-after-reset used=1 status=0" \
		"HOSTILE random-net-after-reset tx=1 rx=1"
	rm -f /tmp/hostile-random.img
}

# A VM with a --9p share refuses a snapshot, naming the share.
virtio_9p_snapshot_refused() {
	mkdir -p /tmp/p9share
	snapshot_refused_test "$tag/9p-snapshot-refused" p9snap \
		"cannot snapshot: virtio-9p0: a --9p share cannot be checkpointed" \
		-k /Image -i /guest.cpio -m 128 --9p /tmp/p9share,s
}

virtio_suites() {
	for m in $models; do
		[ "$m" = auto ] && continue
		# Both transports on every model: virtio-pci's MSI-X goes through
		# the ITS (gicv3-its), its INTx on the resample path (gicv3, gicv2).
		virtio_suite "$m" mmio
		virtio_suite "$m" pci
	done
	hostile_test
	virtio_9p_snapshot_refused
}
