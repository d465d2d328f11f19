# SPDX-License-Identifier: GPL-2.0
# seccomp, end to end, sourced by l1-tests.sh inside the L1 host
# (seccomp_suites; E2E_ONLY=seccomp runs it alone). Every thread of a VM
# with disks, a tap network, rng, the serial console and the control socket
# in use runs under a filter (Seccomp: 2 in /proc/PID/task/*/status), also
# after a snapshot restarted its virtio workers and in a restored VM; a
# forbidden system call ends lvmm with a message naming it, for every thread
# kind; --seccomp log names it and goes on; --seccomp off filters nothing.
# The snapshot, virtio and VFIO suites run with the filters on (the default).

export LVMM_RUNTIME_DIR=/tmp/lvmm-run
sc=/tmp/seccomp

# sc_start TAG ARGS...: lvmm in the background, stdin a FIFO kept open on
# fd 8 -> $sc_pid, output in $sc_out. (The FIFO is not in $out_dir: a grep
# over that directory would block on it.)
sc_start() {
	local f fifo
	f=$(outfile "$1")
	fifo=$sc/in-$(basename "$f")
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	exec 8<>"$fifo"
	"$LVMM" "$@" <&8 >"$f.raw" 2>&1 &
	sc_pid=$!
	sc_out=$f.raw
}

# sc_threads PID: one "NAME:SECCOMP-MODE" line per thread of PID.
sc_threads() {
	local t
	for t in /proc/"$1"/task/*; do
		echo "$(cat "$t/comm" 2>/dev/null):$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status" 2>/dev/null)"
	done
}

# sc_check_threads NAME PID MODE MIN: at least MIN threads, each with Seccomp: MODE.
sc_check_threads() {
	local name=$1 pid=$2 mode=$3 min=$4 list n bad
	list=$(sc_threads "$pid")
	n=$(echo "$list" | grep -c .)
	bad=$(echo "$list" | grep -v ":$mode\$" | tr '\n' ' ')
	if [ "$n" -ge "$min" ] && [ -z "$bad" ]; then
		pass "$name ($n threads: $(echo "$list" | tr '\n' ' '))"
	else
		fail "$name" "$n threads (want >= $min), not Seccomp $mode: '$bad'; all: $(echo "$list" | tr '\n' ' ')"
	fi
}

# sc_stop NAME VM: lvmm stop ends it with status 0 and no seccomp message.
sc_stop() {
	"$LVMM" stop "$2" >/dev/null 2>&1
	wait $sc_pid
	local rc=$?
	if [ $rc = 0 ] && ! grep -q "seccomp:" "$sc_out"; then
		pass "$1"
	else
		fail "$1" "exit status $rc" "$sc_out"
	fi
}

# A VM with every kind of thread, used through its control socket.
seccomp_full_vm() {
	local t="$tag/seccomp" name=sc-full bad=""
	local snap=$sc/snap-full n
	rm -rf "$snap"
	truncate -s 0 $sc/d1.img $sc/d2.img
	truncate -s 4M $sc/d1.img
	truncate -s 4M $sc/d2.img
	# 2 vCPUs + 2 disks + net + rng workers + console input + control + main
	local min=9

	sc_start "$t-full" run -k /Image -i /guest.cpio -m 256 -c 2 --name $name \
		-d $sc/d1.img -d $sc/d2.img,ro --rng -n mode=tap,tapif=tapsc0 \
		-p "$GUEST_PARAMS lvmm.mode=counter"
	if ! wait_for "^TICK cpu=1 n=3 " "$sc_out" 120 || ! grep -q "DISK-A-DONE" "$sc_out"; then
		fail "$t/full-vm-boots" "no ticks" "$sc_out"
		kill -9 $sc_pid 2>/dev/null
		return
	fi
	pass "$t/full-vm-boots"
	sc_check_threads "$t/every-thread-filtered" $sc_pid 2 $min

	# The control socket: list, pause, resume, snapshot (which stops and
	# restarts the virtio workers from the control thread).
	"$LVMM" list | grep -q "^$name " || bad="$bad list"
	"$LVMM" pause $name | grep -q "paused" || bad="$bad pause"
	"$LVMM" resume $name | grep -q "running" || bad="$bad resume"
	"$LVMM" snapshot $name "$snap" >/tmp/sc-snapout 2>&1 || bad="$bad snapshot:$(cat /tmp/sc-snapout)"
	n=$(tr -d '\r' <"$sc_out" | sed -n 's/^TICK cpu=0 n=\([0-9]*\) .*/\1/p' | tail -n 1)
	wait_for "^TICK cpu=0 n=$((n + 2)) " "$sc_out" 60 || bad="$bad no-ticks-after-snapshot"
	# Console input, and a disk write through a restarted worker.
	echo "disk-write-b" >&8
	wait_for "^DISK-B-DONE" "$sc_out" 60 || bad="$bad no-disk-write-after-snapshot"
	if [ -z "$bad" ]; then
		pass "$t/control-verbs-and-snapshot"
	else
		fail "$t/control-verbs-and-snapshot" "$bad" "$sc_out"
	fi
	sc_check_threads "$t/every-thread-filtered-after-snapshot" $sc_pid 2 $min
	sc_stop "$t/stop-exits-0" $name

	# The snapshot restored (all of RAM copied in): the same.
	sc_start "$t-restored" restore "$snap" --copy-memory --name sc-restored
	if wait_for "^TICK cpu=1 n=$((n + 4)) " "$sc_out" 60; then
		pass "$t/restored-vm-runs"
	else
		fail "$t/restored-vm-runs" "no ticks" "$sc_out"
	fi
	sc_check_threads "$t/restored-every-thread-filtered" $sc_pid 2 $min
	echo "disk-check" >&8
	if wait_for "^DISK-A-SHA " "$sc_out" 60; then
		pass "$t/restored-disk-reads"
	else
		fail "$t/restored-disk-reads" "no DISK-A-SHA" "$sc_out"
	fi
	sc_stop "$t/restored-stop-exits-0" sc-restored
}

# A forbidden call in each kind of thread (the test hook
# LVMM_TEST_SECCOMP_VIOLATION makes that thread call getppid once its
# filter is in): status 1 and the message naming it.
seccomp_violations() {
	local k t f
	truncate -s 4M $sc/v.img
	for k in main vcpu virtio console control; do
		t="$tag/seccomp/violation-in-$k-thread"
		run "$t" env LVMM_TEST_SECCOMP_VIOLATION=$k "$LVMM" run -k /Image -i /guest.cpio \
			-d $sc/v.img -p "$GUEST_PARAMS"
		f=$(outfile "$t")
		if [ "$rc" != 1 ]; then
			fail "$t" "exit status $rc, expected 1" "$f"
		elif ! grep -q "^lvmm: seccomp: $k thread made syscall getppid (nr 173), which its filter does not allow\$" "$f"; then
			fail "$t" "no message naming getppid" "$f"
		else
			pass "$t"
		fi
	done

	# --seccomp log: named, carried out, and the guest runs to its end.
	for k in vcpu virtio; do
		t="$tag/seccomp/log-mode-$k-carries-on"
		run "$t" env LVMM_TEST_SECCOMP_VIOLATION=$k "$LVMM" run --seccomp log -k /Image \
			-i /guest.cpio -c 2 -d $sc/v.img -p "$GUEST_PARAMS"
		f=$(outfile "$t")
		if [ "$rc" != 0 ] || ! grep -q "^LVMM-GUEST-DONE" "$f"; then
			fail "$t" "exit status $rc, or the guest did not finish" "$f"
		elif ! grep -q "^lvmm: seccomp: $k thread made syscall getppid (nr 173), which its filter does not allow (carried out: --seccomp log)\$" "$f"; then
			fail "$t" "no log message" "$f"
		else
			pass "$t"
		fi
	done

	expect_error "$tag/seccomp/err-bad-mode" 2 "unknown seccomp mode 'strict' (on, log or off)" \
		run -k /Image --seccomp strict
}

# --seccomp off: no thread is filtered.
seccomp_off() {
	local t="$tag/seccomp/off"
	sc_start "$t" run -k /Image -i /guest.cpio -c 2 --name sc-off --seccomp off \
		-d $sc/v.img --rng -p "$GUEST_PARAMS lvmm.mode=counter"
	if ! wait_for "^TICK cpu=1 n=2 " "$sc_out" 120; then
		fail "$t/boots" "no ticks" "$sc_out"
		kill -9 $sc_pid 2>/dev/null
		return
	fi
	sc_check_threads "$t/no-thread-filtered" $sc_pid 0 6
	sc_stop "$t/stop-exits-0" sc-off
}

seccomp_suites() {
	mkdir -p $sc
	if ! grep -q "^Seccomp:" /proc/self/status; then
		fail "$tag/seccomp/host-kernel" "L1's kernel has no CONFIG_SECCOMP"
		return
	fi
	seccomp_full_vm
	seccomp_violations
	seccomp_off
}
