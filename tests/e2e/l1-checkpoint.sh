# SPDX-License-Identifier: GPL-2.0
# Interrupt and timer state through checkpoints, sourced by l1-tests.sh
# inside the L1 host (E2E_ONLY=checkpoint runs it alone). The bare-metal
# guest /checkpoint.bin (tests/e2e/checkpoint/checkpoint.c) puts the vGIC and
# the timers into a state, prints "CKPT-SNAP <phase>" and spins until a byte
# of its RAM turns non-zero. Here, for each phase: lvmm snapshot, SIGKILL of
# that lvmm, the byte written into the snapshot's memory file ('r': resume,
# 'a': advance), restore in a new lvmm. The restored guest checks what it
# finds and prints "CKPT-RESULT PASS|FAIL name...", made TEST-RESULT lines.

export LVMM_RUNTIME_DIR=/tmp/lvmm-run
ckpt_dir=/tmp/ckpt
mkdir -p $ckpt_dir
ckpt_flag_offset=3145728	# the guest's flag, 0x40300000, less the RAM base

# ckpt_start TAG lvmm-args...: lvmm in the background with its input from a
# FIFO on fd 8 -> $ck_pid, output in $ck_out.
ckpt_start() {
	local f
	f=$(outfile "$1")
	shift
	rm -f "$f.in"
	mkfifo "$f.in"
	exec 8<>"$f.in"
	"$LVMM" "$@" <&8 >"$f.raw" 2>&1 &
	ck_pid=$!
	ck_out=$f.raw
}

# The guest's results in FILE, as TEST-RESULT lines under $t.
ckpt_results() {
	local line
	tr -d '\r' <"$1" | sed -n 's/^CKPT-RESULT //p' >/tmp/ckpt-results
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) pass "$t/${line#PASS }" ;;
		"FAIL "*)
			line=${line#FAIL }
			fail "$t/${line%%: *}" "${line#*: }" "$1"
			;;
		esac
	done </tmp/ckpt-results
}

# End the current lvmm (SIGKILL if it still runs) and report its results.
ckpt_end() {
	kill -9 "$ck_pid" 2>/dev/null
	wait "$ck_pid" 2>/dev/null
	exec 8>&-
	ckpt_results "$ck_out"
}

ckpt_flag() {
	printf "$2" | dd of="$1/memory" bs=1 seek=$ckpt_flag_offset conv=notrunc 2>/dev/null
}

# ckpt_cycle PHASE: at the guest's marker, snapshot, kill, set the flag,
# restore in a new lvmm, and wait for the phase's results.
ckpt_cycle() {
	local p=$1 s=$d/$1
	if ! wait_for "^CKPT-SNAP $p" "$ck_out" 120; then
		fail "$t/$p" "the guest never reached its snapshot point" "$ck_out"
		ckpt_end
		return 1
	fi
	if ! "$LVMM" snapshot "$name" "$s" >/tmp/ckpt-snap.out 2>&1; then
		fail "$t/$p" "snapshot: $(cat /tmp/ckpt-snap.out)" "$ck_out"
		ckpt_end
		return 1
	fi
	[ "$p" = timers ] && timers_snap_at=$(date +%s)
	ckpt_end
	ckpt_flag "$s" r
	ckpt_start "$t-$p-restored" restore "$s" --clock resume
	if ! wait_for "^CKPT-PHASE $p[a-z-]* done" "$ck_out" 120; then
		fail "$t/$p" "no results after the restore" "$ck_out"
		ckpt_end
		return 1
	fi
}

# ckpt_boot TAG PARAMS: boot the guest; at its first phase, the UART's
# receive interrupt (taken and left active by the guest) gets its byte.
ckpt_boot() {
	ckpt_start "$t-$1-boot" run -k /checkpoint.bin --flat -m 32 --irqchip "$m" --name "$name" -p "$2"
	case "$2" in
	*ckpt=uart* | *ckpt=all*)
		if ! wait_for "^CKPT-READY uart" "$ck_out" 60; then
			fail "$t/$1" "no CKPT-READY" "$ck_out"
			ckpt_end
			return 1
		fi
		printf U >&8
		;;
	esac
}

# The VM restored last runs to CKPT-DONE and powers off.
ckpt_done() {
	local rc=none
	if wait_for "^CKPT-DONE" "$ck_out" 60; then
		wait "$ck_pid"
		rc=$?
	fi
	ckpt_end
	if [ $rc = 0 ]; then
		pass "$t/$1"
	else
		fail "$t/$1" "no CKPT-DONE or lvmm exit status $rc" "$ck_out"
	fi
}

# The timers' snapshot again, once their deadlines passed in real time:
# with --clock advance they fire as soon as the guest runs.
ckpt_advance() {
	local waited=$(($(date +%s) - timers_snap_at))
	[ $waited -lt 12 ] && sleep $((12 - waited))
	ckpt_flag "$d/timers" a
	ckpt_start "$t-timers-advance" restore "$d/timers" --clock advance
	wait_for "^CKPT-PHASE timers-advance done" "$ck_out" 60 ||
		fail "$t/timers-advance" "no results after the restore" "$ck_out"
	ckpt_end
}

# Each phase from a freshly booted VM, for one irqchip model.
checkpoint_model() {
	local m=$1 p
	local t="$tag/checkpoint-$m" name="ckpt-$m" d=$ckpt_dir/$m
	rm -rf "$d"
	mkdir -p "$d"
	for p in uart vtimer timers lpi; do
		[ $p = lpi ] && [ "$m" != gicv3-its ] && continue
		ckpt_boot "$p" "ckpt=$p" || continue
		ckpt_cycle "$p" || continue
		ckpt_done "$p/runs-to-the-end"
	done
	[ -n "${timers_snap_at:-}" ] && ckpt_advance
	rm -rf "$d"
}

# All phases in one VM, each restored from the one restored before.
checkpoint_chain() {
	local m=$1 p
	local t="$tag/checkpoint-$m/chain" name="ckpt-chain" d=$ckpt_dir/chain
	rm -rf "$d"
	mkdir -p "$d"
	ckpt_boot chain "ckpt=all" || return
	for p in uart vtimer timers lpi; do
		[ $p = lpi ] && [ "$m" != gicv3-its ] && continue
		ckpt_cycle "$p" || return
	done
	ckpt_done runs-to-the-end
	rm -rf "$d"
}

checkpoint_suites() {
	local m
	for m in $models; do
		timers_snap_at=
		[ "$m" = auto ] || checkpoint_model "$m"
	done
	checkpoint_chain "$(echo $models | cut -d' ' -f1)"
}
