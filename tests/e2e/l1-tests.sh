# SPDX-License-Identifier: GPL-2.0
# End-to-end tests, run by busybox sh inside the L1 arm64 host, on its real
# KVM. One "TEST-RESULT PASS|FAIL name[: reason]" line per test on the
# console; tests/e2e/run collects them. L1_GIC (3 or 2) says which vGIC
# models this L1's KVM offers.

. /e2e/l1-lib.sh
LVMM=/lvmm
GUEST_TIMEOUT=${GUEST_TIMEOUT:-150}
out_dir=/tmp/results
mkdir -p "$out_dir"

# section NAME: a mark with L1's uptime; tests/e2e/run prints each section's
# duration (CI must stay under 30 minutes: this says where the time goes).
section() { echo "L1-SECTION $1 $(cut -d' ' -f1 /proc/uptime)"; }
# Where a test's output goes ("gic3-host/x" -> /tmp/results/gic3-host_x.txt).
outfile() { echo "$out_dir/$(echo "$1" | tr / _).txt"; }
# run NAME CMD...: run a command with a time limit, output in $out_dir/NAME.out,
# exit status in $rc.
run() {
	local f
	f=$(outfile "$1")
	shift
	timeout -s KILL "$GUEST_TIMEOUT" "$@" </dev/null >"$f.raw" 2>&1
	rc=$?
	tr -d '\r' <"$f.raw" >"$f"
}

# [AS_USER="cmd prefix"] expect_error NAME STATUS "message part" lvmm-args...: lvmm must refuse with
# that exit status and a one-line message containing the text.
expect_error() {
	local name=$1 status=$2 text=$3
	shift 3
	run "$name" $AS_USER "$LVMM" ${AS_USER:+--} "$@"
	local f="$(outfile "$name")"
	if [ "$rc" != "$status" ]; then
		fail "$name" "exit status $rc, expected $status" "$f"
	elif ! grep -qF -- "$text" "$f"; then
		fail "$name" "message lacks '$text'" "$f"
	elif [ "$(wc -l <"$f")" -gt 2 ]; then
		fail "$name" "more than a short message" "$f"
	else
		pass "$name"
	fi
}

GUEST_PARAMS="rdinit=/init panic=-1 quiet"

# Compare "LVMM-TIMER before: a b after: c d": every CPU's count rose.
timer_rose() {
	awk -v n="$2" '/^LVMM-TIMER/ {
		ok = 1
		for (i = 0; i < n; i++) if ($(4 + n + i) + 0 <= $(3 + i) + 0) ok = 0
		found = 1
	} END { exit !(found && ok) }' "$1"
}

uart_rose() {
	awk '/^LVMM-UART/ { split($2, b, ":"); split($3, a, ":"); found = 1; ok = (a[2] + 0 > b[2] + 0) }
		END { exit !(found && ok) }' "$1"
}

# boot_test NAME CPUS lvmm-run-args...: boot the test guest and check it.
boot_test() {
	local name=$1 cpus=$2
	shift 2
	local t0 t1
	t0=$(date +%s)
	run "$name" "$LVMM" run -i /guest.cpio -c "$cpus" -m 256 -p "$GUEST_PARAMS" "$@"
	t1=$(date +%s)
	local f="$(outfile "$name")"
	local want_online=0
	[ "$cpus" = 2 ] && want_online=0-1
	if grep -q "Kernel panic" "$f"; then
		fail "$name" "guest kernel panic" "$f"
	elif [ "$rc" = 137 ]; then
		fail "$name" "guest hung: killed after ${GUEST_TIMEOUT}s" "$f"
	elif [ "$rc" != 0 ]; then
		fail "$name" "lvmm exit status $rc" "$f"
	elif ! grep -q "^LVMM-GUEST-DONE" "$f"; then
		fail "$name" "no guest marker" "$f"
	elif ! grep -q "^LVMM-CPUS online=$want_online n=$cpus\$" "$f"; then
		fail "$name" "CPUs online: $(grep '^LVMM-CPUS' "$f"), expected $want_online" "$f"
	elif ! timer_rose "$f" "$cpus"; then
		fail "$name" "timer interrupts did not count on every CPU: $(grep '^LVMM-TIMER' "$f")" "$f"
	elif ! uart_rose "$f"; then
		fail "$name" "UART interrupts did not count: $(grep '^LVMM-UART' "$f")" "$f"
	else
		pass "$name ($((t1 - t0))s)"
	fi
}

case "$L1_GIC" in
3) models="gicv3-its gicv3 auto"; offered="gicv3-its, gicv3"; missing=gicv2 ;;
*) models="gicv2 auto"; offered="gicv2"; missing=gicv3 ;;
esac
tag="gic$L1_GIC-host"

# E2E_ONLY=snapshot (lvmm.only= on L1's command line): one suite, for
# working on it.
if [ -n "${L1_ONLY:-}" ]; then
	. "/e2e/l1-$L1_ONLY.sh"
	"${L1_ONLY}_suites"
	return 0 2>/dev/null || exit 0
fi

# --- guests boot under every irqchip the host offers, 1 and 2 vCPUs -------
section boot
for m in $models; do
	for c in 1 2; do
		boot_test "$tag/boot-$m-${c}cpu" "$c" -k /Image --irqchip "$m"
	done
done

# --- lvmm run details -----------------------------------------------------
section run-details
name="$tag/auto-picks-best"
run "$name" "$LVMM" run -k /flat.bin --flat
case "$L1_GIC" in 3) want=gicv3-its ;; *) want=gicv2 ;; esac
if [ "$rc" = 0 ] && grep -q ", $want\$" "$(outfile "$name")"; then
	pass "$name"
else
	fail "$name" "status $rc, wanted $want chosen" "$(outfile "$name")"
fi

# A file without the Image header is a flat binary only when asked (--flat,
# or kvmtool's --nodefaults), else it is refused.
expect_error "$tag/flat-binary-needs-flat" 1 \
	"kernel '/flat.bin' is not an arm64 Image (no Image header; not gzip or an EFI zboot image either): pass --flat to load it as a flat binary at 0x40080000" \
	run -k /flat.bin
name="$tag/flat-binary"
run "$name" "$LVMM" run -k /flat.bin --flat --dump-dtb /tmp/flat.dtb
f="$(outfile "$name")"
if [ "$rc" != 0 ]; then
	fail "$name" "exit status $rc" "$f"
elif ! grep -q "^FLAT-OK" "$f"; then
	fail "$name" "the binary's output is missing" "$f"
else
	pass "$name"
fi
name="$tag/flat-binary-nodefaults"
run "$name" "$LVMM" run -k /flat.bin --nodefaults
if [ "$rc" = 0 ] && grep -q "^FLAT-OK" "$(outfile "$name")"; then
	pass "$name"
else
	fail "$name" "exit status $rc" "$(outfile "$name")"
fi

# Kernels as distributions ship them: gzip'd, and EFI zboot (gzip, zstd).
for k in Image.gz Image.zboot-gzip Image.zboot-zstd; do
	name="$tag/kernel-$k"
	run "$name" "$LVMM" run -k /$k -i /guest.cpio -m 128 -p "$GUEST_PARAMS"
	if [ "$rc" = 0 ] && grep -q "^LVMM-GUEST-DONE" "$(outfile "$name")" &&
		grep -q "kernel '/$k': .*, [0-9]* MiB unpacked" "$(outfile "$name")"; then
		pass "$name"
	else
		fail "$name" "exit status $rc" "$(outfile "$name")"
	fi
done

name="$tag/dump-dtb"
magic=$(hexdump -n 4 -e '4/1 "%02x"' /tmp/flat.dtb 2>/dev/null)
if [ "$magic" = d00dfeed ]; then
	pass "$name"
else
	fail "$name" "no FDT blob written (magic '$magic')"
fi

# lvmm --version: the release and the commit.
name="$tag/version"
v=$("$LVMM" --version 2>&1)
case "$v" in
"lvmm "[0-9]*.[0-9]*.[0-9]*" (commit "?*")") pass "$name" ;;
*) fail "$name" "'$v'" ;;
esac

# A kernel that panics (its root= is no device) ends the VM: lvmm adds panic=-1.
name="$tag/guest-panic-exit-3"
run "$name" "$LVMM" run -k /Image -m 128 -p root=/dev/vda
if [ "$rc" = 3 ] && grep -q "Kernel panic" "$(outfile "$name")"; then
	pass "$name"
else
	fail "$name" "exit status $rc, expected 3 after a panic" "$(outfile "$name")"
fi

# Likely mistakes are said, and the VM still runs: more RAM than the host's,
# a console= lvmm does not provide (QEMU's ttyAMA0).
name="$tag/warns-mem-beyond-host"
run "$name" "$LVMM" run -k /Image -i /guest.cpio -m 3G -p "$GUEST_PARAMS"
if [ "$rc" = 0 ] && grep -q "3072 MiB of guest RAM is more than the host's" "$(outfile "$name")"; then
	pass "$name"
else
	fail "$name" "exit status $rc, or no warning" "$(outfile "$name")"
fi
name="$tag/warns-console-ttyAMA0"
run "$name" "$LVMM" run -k /Image -i /guest.cpio -m 128 -p "console=ttyAMA0 $GUEST_PARAMS"
if [ "$rc" = 0 ] && grep -q "names console=ttyAMA0, which is not this VM's console: that is ttyS0" "$(outfile "$name")"; then
	pass "$name"
else
	fail "$name" "exit status $rc, or no warning" "$(outfile "$name")"
fi

# --hugetlbfs: guest RAM from L1's pool of 2 MiB pages, all taken at start.
mkdir -p /hugepages
mount -t hugetlbfs none /hugepages
expect_error "$tag/hugetlbfs-not-a-mount" 1 "--hugetlbfs /tmp: not a hugetlbfs mount (mount -t hugetlbfs none /tmp)" \
	run -k /Image -i /guest.cpio -m 128 --hugetlbfs /tmp
echo 0 >/proc/sys/vm/nr_hugepages
expect_error "$tag/hugetlbfs-pool-too-small" 1 "--hugetlbfs /hugepages: 128 MiB of huge pages: Cannot allocate memory" \
	run -k /Image -i /guest.cpio -m 128 --hugetlbfs /hugepages
echo 64 >/proc/sys/vm/nr_hugepages
name="$tag/hugetlbfs-boots"
run "$name" "$LVMM" run -k /Image -i /guest.cpio -m 128 --hugetlbfs /hugepages -p "$GUEST_PARAMS"
if [ "$rc" = 0 ] && grep -q "^LVMM-GUEST-DONE" "$(outfile "$name")" &&
	[ "$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)" = 64 ]; then
	pass "$name"
else
	fail "$name" "status $rc, HugePages_Free $(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo) after exit" "$(outfile "$name")"
fi
echo 0 >/proc/sys/vm/nr_hugepages
umount /hugepages

name="$tag/guest-reset-exit-3"
run "$name" "$LVMM" run -k /Image -i /guest.cpio -p "rdinit=/init quiet lvmm.mode=reset"
if [ "$rc" = 3 ] && grep -q "asked for a reset" "$(outfile "$name")"; then
	pass "$name"
else
	fail "$name" "exit status $rc, expected 3" "$(outfile "$name")"
fi

name="$tag/sigterm-stops-a-spinning-guest"
"$LVMM" run -k /flat-loop.bin --flat </dev/null >"$out_dir/sigterm.out" 2>&1 &
pid=$!
sleep 2
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" = 143 ] && grep -q "stopped by signal 15" "$out_dir/sigterm.out"; then
	pass "$name"
else
	fail "$name" "exit status $rc, expected 143" "$out_dir/sigterm.out"
fi

# KVM's counters of a running VM read from outside it (bench/kvmstat, from
# the statistics files lvmm holds; bench/vs-kvmtool counts exits per MiB
# with it) and by lvmm's --stats at exit: the spinning guest's only MMIO is
# its 8 UART writes ("FLAT-OK\n"), and exits only grow. A process without
# vCPUs has no counters.
name="$tag/kvm-counters-inside-and-outside"
"$LVMM" run -k /flat-loop.bin --flat --stats </dev/null >"$out_dir/kvmstat.out" 2>&1 &
pid=$!
sleep 2
outside=$(/e2e/kvmstat "$pid")
krc=$?
/e2e/kvmstat $$ >/dev/null 2>&1
nrc=$?
kill -TERM "$pid"
wait "$pid"
inside=$(tr -d '\r' <"$out_dir/kvmstat.out" | sed -n 's/^lvmm-kvm: //p')
kfield() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
if [ "$krc" = 0 ] && [ "$nrc" = 1 ] && [ "$(kfield "$outside" mmio_exit_user)" = 8 ] &&
	[ "$(kfield "$inside" mmio_exit_user)" = 8 ] && [ "$(kfield "$outside" exits)" -gt 0 ] &&
	[ "$(kfield "$outside" exits)" -le "$(kfield "$inside" exits)" ]; then
	pass "$name"
else
	fail "$name" "outside (status $krc): $outside; inside: $inside; no vCPUs: status $nrc" "$out_dir/kvmstat.out"
fi

# lkvm's verb forms: pause -n NAME, resume --name=NAME, stop -a; the
# kernel as a plain word.
name="$tag/lkvm-verbs"
"$LVMM" run --name lkvm-verbs --flat /flat-loop.bin </dev/null >"$out_dir/lkvm-verbs.out" 2>&1 &
pid=$!
sleep 2
"$LVMM" pause -n lkvm-verbs >>"$out_dir/lkvm-verbs.out" 2>&1 && p=paused || p=x
"$LVMM" list >>"$out_dir/lkvm-verbs.out" 2>&1
grep -q "^lkvm-verbs .* paused" "$out_dir/lkvm-verbs.out" || p=x
"$LVMM" resume --name=lkvm-verbs >>"$out_dir/lkvm-verbs.out" 2>&1 || p=x
"$LVMM" stop -a >>"$out_dir/lkvm-verbs.out" 2>&1 || p=x
wait "$pid"
rc=$?
if [ "$rc" = 0 ] && [ "$p" = paused ] && grep -q "lkvm-verbs: stopping" "$out_dir/lkvm-verbs.out"; then
	pass "$name"
else
	fail "$name" "exit status $rc, verbs $p" "$out_dir/lkvm-verbs.out"
fi

# The host's own kernel as the default: none in /boot, then one there.
expect_error "$tag/no-kernel-no-host-image" 1 "no kernel given (-k IMAGE)" run -i /guest.cpio
if [ "$L1_GIC" = 3 ]; then
	mkdir -p /boot
	ln -sf /Image "/boot/Image-$(uname -r)"
	boot_test "$tag/no-kernel-boots-host-kernel" 1
	rm -f "/boot/Image-$(uname -r)"
fi

# --- bad input: one clear line and a non-zero status ----------------------
section bad-input
: >/tmp/empty
truncate -s 48M /tmp/big.initrd
cp /Image /tmp/noread.Image
chmod 000 /tmp/noread.Image
expect_error "$tag/err-missing-kernel" 1 "Unable to open kernel /nonexistent: No such file or directory" run -k /nonexistent
expect_error "$tag/err-empty-kernel" 1 "kernel '/tmp/empty' is empty" run -k /tmp/empty
expect_error "$tag/err-kernel-is-dir" 1 "kernel '/tmp' is not a regular file" run -k /tmp
# A user who may use /dev/kvm (lvmm checks the host before the files).
kvm_mode=$(stat -c %a /dev/kvm)
chmod 666 /dev/kvm
AS_USER="start-stop-daemon -S -c nobody:nogroup -x" \
	expect_error "$tag/err-unreadable-kernel" 1 "Unable to open kernel /tmp/noread.Image: Permission denied" \
	run -k /tmp/noread.Image
chmod "$kvm_mode" /dev/kvm
# lkvm's options: kvm-unit-tests' probe for a missing kernel, and a refused one.
expect_error "$tag/err-lkvm-probe" 1 "Fatal: Unable to open kernel _NO_FILE_4Uhere_" \
	run --nodefaults --network mode=none --loglevel=warning --kernel _NO_FILE_4Uhere_ --cpus 1
expect_error "$tag/err-lkvm-refused" 2 "kvmtool's --pmu is not supported" run -k /Image --pmu
expect_error "$tag/err-missing-initrd" 1 "initrd '/nonexistent': No such file or directory" run -k /Image -i /nonexistent
expect_error "$tag/err-initrd-does-not-fit" 1 "too small for the kernel" run -k /Image -i /tmp/big.initrd -m 40
expect_error "$tag/err-mem-too-small" 1 "give at least" run -k /Image -m 4
expect_error "$tag/err-bad-mem" 2 "invalid memory size '12X'" run -k /Image -m 12X
expect_error "$tag/err-unknown-option" 2 "unknown option '--frobnicate'" run --frobnicate
expect_error "$tag/err-unknown-command" 2 "unknown command 'frobnicate'" frobnicate
expect_error "$tag/err-irqchip-not-offered" 1 "irqchip $missing is not offered by this host's KVM (it offers: $offered)" \
	run -k /Image --irqchip "$missing"
if [ "$L1_GIC" = 3 ]; then
	expect_error "$tag/err-too-many-vcpus" 1 "200 vCPUs requested, but gicv3-its allows at most" run -k /Image -c 200
else
	expect_error "$tag/err-too-many-vcpus" 1 "9 vCPUs requested, but this host's KVM allows at most 8" run -k /Image -c 9
fi
AS_USER="start-stop-daemon -S -c nobody:nogroup -x" \
	expect_error "$tag/err-no-kvm-permission" 1 "no permission to open /dev/kvm" run -k /Image
mv /dev/kvm /dev/kvm.hidden
expect_error "$tag/err-no-dev-kvm" 1 "/dev/kvm does not exist" run -k /Image
mv /dev/kvm.hidden /dev/kvm

name="$tag/help-tells-the-options"
run "$name" "$LVMM" run --help
if [ "$rc" = 0 ] && grep -q -- "--irqchip MODEL" "$(outfile "$name")" &&
	grep -q "Ctrl-A x" "$(outfile "$name")"; then
	pass "$name"
else
	fail "$name" "status $rc" "$(outfile "$name")"
fi

# --- virtio devices (mmio and pci), interrupts through irqfd -------------
section virtio
. /e2e/l1-virtio.sh
virtio_suites
section vhost
. /e2e/l1-vhost.sh
vhost_suites

# --- the quick guest (no disk, no initrd), lvmm sandbox, user networking ---
section quick
. /e2e/l1-quick.sh
quick_suites

# --- the console: stalled stdout, a polling guest -------------------------
section console
. /e2e/l1-console.sh
console_suites

# --- snapshot and restore -------------------------------------------------
section snapshot
. /e2e/l1-snapshot.sh
snapshot_suites
section checkpoint
. /e2e/l1-checkpoint.sh && checkpoint_suites	# interrupt and timer state across restores
section migrate
. /e2e/l1-migrate.sh
migrate_suites

# --- seccomp filters on every thread --------------------------------------
section seccomp
. /e2e/l1-seccomp.sh
seccomp_suites

# --- VFIO platform/AMBA passthrough (last: it takes L1's RTC and GPIO) ----
section vfio
. /e2e/l1-vfio.sh
vfio_suites
# --- VFIO-PCI passthrough: L1's NVMe behind its SMMUv3 --------------------
section vfiopci
. /e2e/l1-vfiopci.sh
vfiopci_suites
section end
