# SPDX-License-Identifier: GPL-2.0
# Snapshot and restore, end to end, sourced by l1-tests.sh inside the L1
# host. The guest (guest-init, lvmm.mode=counter) prints "TICK cpu=C n=N
# up=SECONDS" twice a second on every CPU and echoes console input as
# "GOT:...". lvmm's stdin is a FIFO the test writes to.

export LVMM_RUNTIME_DIR=/tmp/lvmm-run
snapdir=/tmp/snaps
mkdir -p $snapdir

# Start a VM in the background: start_vm TAG ARGS... -> $vm_pid, output in
# $(outfile TAG), input FIFO /tmp/in-TAG (kept open on fd 7).
start_vm() {
	local t=$1 f
	shift
	f=$(outfile "$t")
	rm -f "/tmp/in-$(basename "$f")"
	mkfifo "/tmp/in-$(basename "$f")"
	exec 7<>"/tmp/in-$(basename "$f")"
	"$LVMM" "$@" <&7 >"$f.raw" 2>&1 &
	vm_pid=$!
	vm_out=$f.raw
	vm_in=/tmp/in-$(basename "$f")
}


# last_tick FILE CPU: the highest n printed by that CPU.
last_tick() { tr -d '\r' <"$1" | sed -n "s/^TICK cpu=$2 n=\([0-9]*\) .*/\1/p" | tail -n 1; }
first_tick() { tr -d '\r' <"$1" | sed -n "s/^TICK cpu=$2 n=\([0-9]*\) .*/\1/p" | head -n 1; }
last_up() { tr -d '\r' <"$1" | sed -n "s/^TICK cpu=0 n=[0-9]* up=\([0-9.]*\)/\1/p" | tail -n 1; }
first_up() { tr -d '\r' <"$1" | sed -n "s/^TICK cpu=0 n=[0-9]* up=\([0-9.]*\)/\1/p" | head -n 1; }

stalls() { tr -d '\r' <"$1" | grep -E "rcu.*stall|soft lockup|Kernel panic|BUG:" | head -n 3; }

# The whole cycle for one irqchip model, CPU count and virtio transport
# (mmio unless a third argument says pci: the disk's completions then come
# by MSI-X through the ITS, or by INTx without one).
snapshot_cycle() {
	# (busybox sh expands all of one "local" line before assigning any)
	local m=$1 cpus=$2 tr=${3:-mmio}
	local t="$tag/snapshot-$m-${cpus}cpu" name="snap-$m-$cpus" out1 out2 bad=""
	if [ "$tr" != mmio ]; then
		t="$tag/snapshot-$tr-$m-${cpus}cpu"
		name="snap-$tr-$m-$cpus"
	fi
	local disk=/tmp/snapdisk-$name.img
	local s1=$snapdir/$name-1 s2=$snapdir/$name-2
	truncate -s 0 "$disk"
	truncate -s 4M "$disk"
	rm -rf "$s1" "$s2"

	start_vm "$t-run" run -k /Image -i /guest.cpio -m 256 -c "$cpus" --irqchip "$m" \
		--virtio-transport "$tr" --name "$name" -d "$disk" \
		-p "$GUEST_PARAMS lvmm.mode=counter"
	out1=$vm_out
	if ! wait_for "^TICK cpu=$((cpus - 1)) n=3 " "$out1" 120 || ! grep -q "DISK-A-DONE" "$out1"; then
		fail "$t/boots" "no ticks" "$out1"
		kill -9 $vm_pid 2>/dev/null
		return
	fi
	pass "$t/boots"

	# A first snapshot; the VM runs on and a second one is taken later.
	# Its line says the size written and how long the guest was paused.
	if "$LVMM" snapshot "$name" "$s1" >/tmp/snapout 2>&1 && [ -f "$s1/state" ] &&
		grep -q "snapshot written to $s1 ([0-9.]* MiB) in [0-9.]* ms, the guest paused [0-9.]* ms" /tmp/snapout; then
		pass "$t/snapshot-while-running"
	else
		fail "$t/snapshot-while-running" "$(cat /tmp/snapout)"
	fi
	local n_after1
	n_after1=$(last_tick "$out1" 0)
	wait_for "^TICK cpu=0 n=$((n_after1 + 2)) " "$out1" 60 || bad="$bad no-ticks-after-snapshot"
	[ -z "$bad" ] && pass "$t/runs-on-after-snapshot" || fail "$t/runs-on-after-snapshot" "$bad" "$out1"

	# Input the guest has not read yet: pause, type (less than the UART's
	# 16-byte FIFO, so all of it is in the device), snapshot, kill.
	"$LVMM" pause "$name" >/dev/null
	echo "hi-before" >&7
	sleep 1
	local t0 t1
	t0=$(date +%s)
	"$LVMM" snapshot "$name" "$s2" >/tmp/snapout 2>&1
	local snap_rc=$?
	local ticks_at_snap=""
	for c in $(seq_cpus "$cpus"); do ticks_at_snap="$ticks_at_snap $(last_tick "$out1" "$c")"; done
	local up_at_snap
	up_at_snap=$(last_up "$out1")
	kill -9 $vm_pid
	wait $vm_pid 2>/dev/null
	if [ $snap_rc = 0 ] && ! grep -q "GOT:hi-before" "$out1"; then
		pass "$t/snapshot-while-paused"
	else
		fail "$t/snapshot-while-paused" "status $snap_rc: $(cat /tmp/snapout)" "$out1"
	fi

	# Restore in a new process: everything carries on.
	start_vm "$t-restore" restore "$s2"
	out2=$vm_out
	bad=""
	wait_for "^GOT:hi-before" "$out2" 60 || bad="$bad uart-input-lost"
	local i=0
	for c in $(seq_cpus "$cpus"); do
		i=$((i + 1))
		local before after_first
		before=$(echo $ticks_at_snap | cut -d' ' -f$i)
		wait_for "^TICK cpu=$c n=$((before + 3)) " "$out2" 60 || bad="$bad cpu$c-no-ticks"
		after_first=$(first_tick "$out2" "$c")
		# The counter goes on from where it was (not from 0).
		[ -n "$after_first" ] && [ "$after_first" -ge "$before" ] &&
			[ "$after_first" -le $((before + 2)) ] || bad="$bad cpu$c-counter:$before->$after_first"
	done
	[ -z "$(stalls "$out2")" ] || bad="$bad $(stalls "$out2" | tr ' ' '_')"
	if [ -z "$bad" ]; then
		pass "$t/restore-carries-on"
	else
		fail "$t/restore-carries-on" "$bad" "$out2"
	fi

	# The disk written before the snapshot is intact, and writes go on.
	echo "disk-check" >&7
	echo "disk-write-b" >&7
	local want
	want=$(awk 'BEGIN { for (i = 0; i < 40330; i++) printf "LVMM-SNAP-A-LINE-%08d\n", i }' | head -c 1048576 | sha256sum | cut -d' ' -f1)
	if wait_for "^DISK-B-DONE" "$out2" 60 && grep -q "^DISK-A-SHA $want" "$out2"; then
		pass "$t/disk-intact-and-writable"
	else
		fail "$t/disk-intact-and-writable" "$(grep DISK "$out2" | tr '\n' ' ')" "$out2"
	fi

	"$LVMM" stop "$name" >/dev/null 2>&1
	wait $vm_pid
	local rc=$?
	want=$(awk 'BEGIN { for (i = 0; i < 40330; i++) printf "LVMM-SNAP-B-LINE-%08d\n", i }' | head -c 1048576 | sha256sum | cut -d' ' -f1)
	if [ $rc = 0 ] && [ "$(dd if="$disk" bs=65536 skip=16 count=16 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$want" ]; then
		pass "$t/stop-after-restore"
	else
		fail "$t/stop-after-restore" "status $rc or disk region B wrong" "$out2"
	fi

	# The first snapshot, restored twice (through "run --restore", then with
	# all of RAM copied in): it carries on from its own point each time.
	for k in 1 2; do
		if [ $k = 1 ]; then
			start_vm "$t-restore-first-$k" run --restore "$s1"
		else
			start_vm "$t-restore-first-$k" restore "$s1" --copy-memory
		fi
		bad=""
		local first
		wait_for "^TICK cpu=0 n=$((n_after1 + 2)) " "$vm_out" 60 || bad="no-ticks"
		first=$(first_tick "$vm_out" 0)
		[ -n "$first" ] && [ "$first" -le $((n_after1 + 1)) ] || bad="$bad counter:$n_after1->$first"
		"$LVMM" stop "$name" >/dev/null 2>&1
		wait $vm_pid
		[ $? = 0 ] || bad="$bad exit-status"
		if [ -z "$bad" ]; then
			pass "$t/restore-first-snapshot-$k"
		else
			fail "$t/restore-first-snapshot-$k" "$bad" "$vm_out"
		fi
	done
}

seq_cpus() { i=0; while [ $i -lt "$1" ]; do echo $i; i=$((i + 1)); done; }

# Guest time across a restore: --clock advance moves on by the downtime,
# --clock resume by about nothing.
clock_test() {
	local m=$1
	local t="$tag/snapshot-clock-$m" name="clock-$m" s=$snapdir/clock-$m out1 bad=""
	rm -rf "$s"
	start_vm "$t-run" run -k /Image -i /guest.cpio -m 256 --irqchip "$m" --name "$name" \
		-p "$GUEST_PARAMS lvmm.mode=counter"
	out1=$vm_out
	if ! wait_for "^TICK cpu=0 n=3 " "$out1" 120; then
		fail "$t" "no ticks" "$out1"
		kill -9 $vm_pid
		return
	fi
	"$LVMM" snapshot "$name" "$s" --stop >/tmp/snapout 2>&1 || bad="snapshot: $(cat /tmp/snapout)"
	wait $vm_pid
	local rc=$? up0
	up0=$(last_up "$out1")
	[ $rc = 0 ] || bad="$bad snapshot-stop-status-$rc"
	sleep 6
	for mode in advance resume; do
		start_vm "$t-$mode" restore "$s" --clock $mode
		if ! wait_for "^TICK cpu=0 n=" "$vm_out" 60; then
			bad="$bad $mode-no-ticks"
		else
			local up1 delta
			up1=$(first_up "$vm_out")
			delta=$(awk -v a="$up0" -v b="$up1" 'BEGIN { printf "%.2f", b - a }')
			if [ $mode = advance ]; then
				awk -v d="$delta" 'BEGIN { exit !(d >= 6) }' || bad="$bad advance-only-$delta"
			else
				awk -v d="$delta" 'BEGIN { exit !(d < 2) }' || bad="$bad resume-jumped-$delta"
			fi
			echo "     clock $mode: guest uptime moved $delta s over >= 6 s of downtime"
		fi
		"$LVMM" stop "$name" >/dev/null 2>&1
		wait $vm_pid
	done
	if [ -z "$bad" ]; then
		pass "$t"
	else
		fail "$t" "$bad" "$vm_out"
	fi
}

# try_restore NAME "message part" RESTORE-ARGS...: refused with status 1
# and a short message containing the text.
try_restore() {
	local what=$1 text=$2
	shift 2
	"$LVMM" restore "$@" </dev/null >/tmp/restout 2>&1
	local rc=$?
	if [ $rc = 1 ] && grep -qF -- "$text" /tmp/restout && [ "$(wc -l </tmp/restout)" -le 2 ]; then
		pass "$t/$what"
	else
		fail "$t/$what" "status $rc: $(cat /tmp/restout | tr '\n' ' ')"
	fi
}

# The shared disk tests/e2e/run gives both L1 boots (a PCI disk: its probe
# may finish after init starts).
shared_disk() {
	local i=0
	while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do usleep 100000; i=$((i + 1)); done
	[ -b /dev/vda ] && mkdir -p /mnt/shared
}

# GICv3 host: leave a gicv3-its snapshot for the GICv2 host.
cross_host_save() {
	shared_disk || return
	mke2fs -q /dev/vda >/dev/null 2>&1
	mount -t ext4 /dev/vda /mnt/shared || return
	cp -r $snapdir/clock-gicv3-its /mnt/shared/ && sync
	umount /mnt/shared
}

# GICv2 host: that snapshot needs an irqchip this KVM does not have.
cross_host_check() {
	local t="$tag/snapshot-refuses" sum
	shared_disk || return
	mount -t ext4 /dev/vda /mnt/shared 2>/dev/null || return
	if [ -f /mnt/shared/clock-gicv3-its/state ]; then
		sum=$(cat /mnt/shared/clock-gicv3-its/* | sha256sum)
		try_restore host-lacks-saved-irqchip \
			"irqchip gicv3-its is not offered by this host's KVM (it offers: gicv2)" \
			/mnt/shared/clock-gicv3-its
		[ "$(cat /mnt/shared/clock-gicv3-its/* | sha256sum)" = "$sum" ] ||
			fail "$t/host-lacks-saved-irqchip" "the snapshot changed"
	fi
	umount /mnt/shared
}

# Every refusal we can produce, and nothing changed by it.
refusal_tests() {
	local m=$1
	local t="$tag/snapshot-refuses" name="refuse" s=$snapdir/refuse bad="" f
	local disk=/tmp/refuse-disk.img
	rm -rf "$s" "$s.bad" $snapdir/exists
	truncate -s 0 $disk
	truncate -s 4M $disk
	start_vm "$t-run" run -k /Image -i /guest.cpio -m 256 --irqchip "$m" --name "$name" \
		-d $disk -p "$GUEST_PARAMS lvmm.mode=counter"
	f=$vm_out
	wait_for "^TICK cpu=0 n=2 " "$f" 120 || { fail "$t/boots" "no ticks" "$f"; kill -9 $vm_pid; return; }

	# Into an existing directory: refused, and the VM runs on.
	mkdir -p $snapdir/exists
	local n0
	n0=$(last_tick "$f" 0)
	if ! "$LVMM" snapshot "$name" $snapdir/exists >/tmp/snapout 2>&1 &&
		grep -q "already exists" /tmp/snapout && [ -z "$(ls $snapdir/exists)" ] &&
		wait_for "^TICK cpu=0 n=$((n0 + 2)) " "$f" 30; then
		pass "$t/existing-directory"
	else
		fail "$t/existing-directory" "$(cat /tmp/snapout)"
	fi
	if ! "$LVMM" snapshot nosuchvm $snapdir/x >/tmp/snapout 2>&1 && grep -q "no running VM named 'nosuchvm'" /tmp/snapout; then
		pass "$t/unknown-vm"
	else
		fail "$t/unknown-vm" "$(cat /tmp/snapout)"
	fi
	# Its disk moved away since it was opened: refused (a restore could not
	# find it), nothing left behind, and the VM runs on.
	rm -rf $snapdir/diskgone
	mv $disk $disk.away
	n0=$(last_tick "$f" 0)
	if ! "$LVMM" snapshot "$name" $snapdir/diskgone >/tmp/snapout 2>&1 &&
		grep -q "disk '$disk': No such file or directory" /tmp/snapout &&
		[ -z "$(ls -d $snapdir/diskgone* 2>/dev/null)" ] &&
		wait_for "^TICK cpu=0 n=$((n0 + 2)) " "$f" 30; then
		pass "$t/disk-gone"
	else
		fail "$t/disk-gone" "$(cat /tmp/snapout; ls -d $snapdir/diskgone* 2>/dev/null)"
	fi
	mv $disk.away $disk
	# lvmm list shows it, owner-only socket.
	if "$LVMM" list | grep -q "^$name .* running " && [ "$(stat -c %a $LVMM_RUNTIME_DIR/$name.sock)" = 600 ]; then
		pass "$t/list-and-socket-mode"
	else
		fail "$t/list-and-socket-mode" "$("$LVMM" list 2>&1 | tr '\n' '|') mode $(stat -c %a $LVMM_RUNTIME_DIR/$name.sock)"
	fi
	# lvmm list: the IRQCHIP heading stands over the irqchip column.
	"$LVMM" list >/tmp/listout 2>&1
	if awk -v n="$name" 'NR == 1 { h = index($0, "IRQCHIP") } $1 == n { c = index($0, "gic") }
		END { exit !(h > 0 && h == c) }' /tmp/listout; then
		pass "$t/list-columns"
	else
		fail "$t/list-columns" "$(tr '\n' '|' </tmp/listout)"
	fi
	# A second VM of that name: refused before it says anything else.
	run "$t-dup-name" "$LVMM" run -k /Image -i /guest.cpio -m 64 --name "$name"
	if [ "$rc" = 1 ] && grep -q "a VM named '$name' is already running" "$(outfile "$t-dup-name")" &&
		! grep -q "vCPU" "$(outfile "$t-dup-name")"; then
		pass "$t/duplicate-name-no-banner"
	else
		fail "$t/duplicate-name-no-banner" "status $rc" "$(outfile "$t-dup-name")"
	fi
	# --json: the snapshot's size and pause in the reply.
	rm -rf $snapdir/json
	out=$("$LVMM" snapshot "$name" $snapdir/json --json 2>/dev/null)
	b=$(echo "$out" | sed -n 's/.*"snapshot_bytes":\([0-9]*\).*/\1/p')
	if [ -n "$b" ] && [ "$b" -gt 4096 ] && echo "$out" | grep -q '"pause_ms":[0-9.]*[,}]' &&
		[ "$b" -ge "$(du -k $snapdir/json/memory | cut -f1)" ]; then
		pass "$t/json-snapshot-size-and-pause"
	else
		fail "$t/json-snapshot-size-and-pause" "$out"
	fi
	rm -rf $snapdir/json
	# --json answers on stdout even when there is no such VM.
	out=$("$LVMM" pause no-such-vm --json 2>/dev/null)
	case "$out" in
	'{"ok":false,"error":"'*'"}') pass "$t/json-no-such-vm" ;;
	*) fail "$t/json-no-such-vm" "stdout: '$out'" ;;
	esac
	"$LVMM" snapshot "$name" "$s" --stop >/dev/null 2>&1
	wait $vm_pid

	# Damaged snapshots: each refused with its own message, nothing changed.
	local sum
	sum=$(cat "$s/state" "$s/memory" | sha256sum)
	mkdir -p "$s.bad"
	cp "$s/memory" "$s.bad/memory"
	head -c 1000 "$s/state" >"$s.bad/state"
	try_restore truncated-state "truncated" "$s.bad"
	cp "$s/state" "$s.bad/state"
	printf '\377' | dd of="$s.bad/state" bs=1 seek=3000 conv=notrunc 2>/dev/null
	try_restore corrupt-state "checksum mismatch" "$s.bad"
	cp "$s/state" "$s.bad/state"
	printf '\002' | dd of="$s.bad/state" bs=1 seek=8 conv=notrunc 2>/dev/null
	try_restore wrong-version "state format version 2.0" "$s.bad"
	cp "$s/state" "$s.bad/state"
	printf '\076' | dd of="$s.bad/state" bs=1 seek=16 conv=notrunc 2>/dev/null
	try_restore wrong-architecture "another architecture" "$s.bad"
	cp "$s/state" "$s.bad/state"
	truncate -s 100M "$s.bad/memory"
	try_restore truncated-memory "truncated or not this snapshot's" "$s.bad"
	try_restore missing-dir "No such file or directory" /tmp/no-such-snapshot
	truncate -s 8M $disk
	try_restore disk-changed-size "changed size since the snapshot" "$s"
	mv $disk $disk.moved
	try_restore disk-missing "No such file or directory" "$s"
	mv $disk.moved $disk
	truncate -s 4M $disk
	if [ "$(cat "$s/state" "$s/memory" | sha256sum)" = "$sum" ]; then
		pass "$t/snapshot-unchanged-by-restores"
	else
		fail "$t/snapshot-unchanged-by-restores" "the snapshot's files changed"
	fi
	# A good restore of it still works.
	start_vm "$t-good" restore "$s"
	if wait_for "^TICK cpu=0 " "$vm_out" 60; then
		pass "$t/restores-after-refusals"
	else
		fail "$t/restores-after-refusals" "no ticks" "$vm_out"
	fi
	"$LVMM" stop "$name" >/dev/null 2>&1
	wait $vm_pid
	# Its exit line names it as the snapshot did, not lvmm-PID.
	if tr -d '\r' <"$vm_out" | grep -q "^lvmm: $name: stopped\$"; then
		pass "$t/restored-exit-names-vm"
	else
		fail "$t/restored-exit-names-vm" "no '$name: stopped' line" "$vm_out"
	fi
}

# Issue 8, bug 2: 8 disks, each with a serial (16 strings in the saved
# configuration), snapshot and restore; the restored guest reads every
# serial back from its device (a GET_ID request on the restored queue).
serial_disks_test() {
	local m=$1
	local t="$tag/snapshot-8-disks-serials" name="serials" s=$snapdir/serials bad="" args="" i
	rm -rf "$s"
	i=0
	while [ $i -lt 8 ]; do
		truncate -s 0 /tmp/serial-disk$i.img
		truncate -s 2M /tmp/serial-disk$i.img
		args="$args -d /tmp/serial-disk$i.img,serial=lvmm-serial-$i-abcdef"
		i=$((i + 1))
	done
	start_vm "$t-run" run -k /Image -i /guest.cpio -m 256 --irqchip "$m" --name "$name" \
		$args -p "$GUEST_PARAMS lvmm.mode=counter"
	wait_for "^TICK cpu=0 n=2 " "$vm_out" 120 || { fail "$t" "no ticks" "$vm_out"; kill -9 $vm_pid; return; }
	echo serials >&7
	wait_for "^SERIALS-DONE" "$vm_out" 30 || bad="no-serials-before"
	"$LVMM" snapshot "$name" "$s" --stop >/tmp/snapout 2>&1 || bad="$bad snapshot:$(cat /tmp/snapout)"
	wait $vm_pid
	start_vm "$t-restore" restore "$s"
	wait_for "^TICK cpu=0 " "$vm_out" 60 || bad="$bad restored-no-ticks"
	echo serials >&7
	wait_for "^SERIALS-DONE" "$vm_out" 30 || bad="$bad no-serials-after"
	i=0
	for d in a b c d e f g h; do
		tr -d '\r' <"$vm_out" | grep -q "^SERIAL vd$d lvmm-serial-$i-abcdef\$" || bad="$bad vd$d-serial"
		i=$((i + 1))
	done
	"$LVMM" stop "$name" >/dev/null 2>&1
	wait $vm_pid
	[ $? = 0 ] || bad="$bad exit-status"
	if [ -z "$bad" ]; then
		pass "$t"
	else
		fail "$t" "$bad" "$vm_out"
	fi
	rm -f /tmp/serial-disk*.img
}

# le32 FILE OFFSET: the little-endian u32 there; put_le32 FILE OFFSET VALUE.
le32() { od -An -v -tu1 -j "$2" -N 4 "$1" | awk '{ printf "%.0f\n", $1 + $2 * 256 + $3 * 65536 + $4 * 16777216 }'; }
put_le32() {
	local esc="" i=0
	while [ $i -lt 4 ]; do
		esc="$esc\\$(printf %o $((($3 >> (8 * i)) & 255)))"
		i=$((i + 1))
	done
	printf "$esc" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# state_crc FILE: the CRC-32 a state file's trailer holds (of all but its last 8 bytes).
state_crc() {
	head -c $(($(wc -c <"$1") - 8)) "$1" | od -An -v -tu1 | awk '
		BEGIN {
			for (i = 0; i < 256; i++) {
				c = i
				for (k = 0; k < 8; k++)
					c = and(c, 1) ? xor(3988292384, rshift(c, 1)) : rshift(c, 1)
				t[i] = c
			}
			crc = 4294967295
		}
		{ for (j = 1; j <= NF; j++) crc = xor(t[and(xor(crc, $j), 255)], rshift(crc, 8)) }
		END { printf "%.0f\n", xor(crc, 4294967295) }'
}

# Issue 8, bug 4: a state file whose saved name is "../x" (crafted from a
# real one: the name entry rewritten, the checksum made right). Restoring
# it must be refused with a message, and create no x.sock next to the
# runtime directory.
crafted_name_test() {
	local s=$1 c=$snapdir/crafted-name t="$tag/snapshot-refuses/crafted-name" len pid i off end
	rm -rf "$c"
	mkdir -p "$c"
	cp "$s/state" "$s/memory" "$c/"
	len=$(wc -c <"$c/state")
	# The vm section comes first (entries from byte 64 to 64 + its length):
	# find its name entry (key 9) by walking the entries, u64 key, u32 len,
	# u32 0, then the data padded to 8.
	off=64
	end=$((64 + $(le32 "$c/state" 60)))
	while [ $off -lt $end ] && [ "$(le32 "$c/state" $off)" != 9 ]; do
		off=$((off + 16 + ($(le32 "$c/state" $((off + 8))) + 7) / 8 * 8))
	done
	# "../x" is 4 bytes: the entry keeps its padded size if the saved name had 5 to 8.
	if [ $off -ge $end ] || [ $((($(le32 "$c/state" $((off + 8))) + 7) / 8)) != 1 ] ||
		[ "$(state_crc "$c/state")" != "$(le32 "$c/state" $((len - 8)))" ]; then
		fail "$t" "cannot craft: layout or CRC tool mismatch"
		return
	fi
	put_le32 "$c/state" $((off + 8)) 4
	printf '../x\000\000\000\000' | dd of="$c/state" bs=1 seek=$((off + 16)) conv=notrunc 2>/dev/null
	put_le32 "$c/state" $((len - 8)) "$(state_crc "$c/state")"
	rm -f "$LVMM_RUNTIME_DIR/../x.sock"
	"$LVMM" restore "$c" </dev/null >/tmp/restout 2>&1 &
	pid=$!
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do usleep 200000; i=$((i + 1)); done
	if kill -0 $pid 2>/dev/null; then
		kill -9 $pid
		wait $pid
		fail "$t" "restored and ran (socket: $(ls "$LVMM_RUNTIME_DIR/../x.sock" 2>&1))"
		rm -f "$LVMM_RUNTIME_DIR/../x.sock"
		return
	fi
	wait $pid
	local rc=$?
	if [ $rc = 1 ] && grep -qF "the snapshot's VM name '../x' is invalid" /tmp/restout &&
		[ ! -e "$LVMM_RUNTIME_DIR/../x.sock" ]; then
		pass "$t"
	else
		fail "$t" "status $rc: $(tr '\n' ' ' </tmp/restout) $(ls "$LVMM_RUNTIME_DIR/../x.sock" 2>&1)"
	fi
}

snapshot_suites() {
	for m in $models; do
		[ "$m" = auto ] && continue
		for c in 1 2; do
			snapshot_cycle "$m" "$c"
		done
		clock_test "$m"
	done
	# virtio-pci: MSI-X through the ITS (LPIs in flight in its tables) on
	# the GICv3 host, INTx on the resample path on the GICv2 host.
	snapshot_cycle "$(echo $models | cut -d' ' -f1)" 2 pci
	refusal_tests "$(echo $models | cut -d' ' -f1)"
	crafted_name_test $snapdir/refuse
	serial_disks_test "$(echo $models | cut -d' ' -f1)"
	if [ "$L1_GIC" = 3 ]; then
		cross_host_save
	else
		cross_host_check
	fi
}
