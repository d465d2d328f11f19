# SPDX-License-Identifier: GPL-2.0
# The console, end to end, sourced by l1-tests.sh inside the L1 host
# (E2E_ONLY=console runs only these):
#
# - a guest that floods its console while lvmm's stdout is a full FIFO that
#   nobody reads: pause, snapshot and stop still answer within seconds (a
#   vCPU or the virtio worker blocked in write() on stdout used to hang
#   them), and nothing written before the snapshot is lost: what reached
#   the FIFO plus what the restored VM prints is one unbroken sequence of
#   lines from the first;
# - a bare-metal guest that polls the UART (IER 0, as firmware and
#   kvm-unit-tests do) gets the bytes on lvmm's stdin.

export LVMM_RUNTIME_DIR=/tmp/lvmm-run
console_snaps=/tmp/console-snaps
mkdir -p $console_snaps

# The flood guest's line count, which it writes to its disk every 20 lines.
flood_count() { head -n 1 "$1" 2>/dev/null | tr -dc 0-9; }

# wait_stalled DISK SECONDS: true once the count is above 0 and has not
# moved for 5 s: the guest cannot get its output out.
wait_stalled() {
	local i=0 last=-1 same=0 c
	while [ $i -lt "$2" ]; do
		c=$(flood_count "$1")
		c=${c:-0}
		if [ "$c" -gt 0 ] && [ "$c" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 5 ] && return 0
		else
			same=0
		fi
		last=$c
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# timed NAME SECONDS lvmm-args...: an lvmm command with a time limit; passes
# when it exits 0 in time. Status in $rc, seconds taken in $secs.
timed() {
	local name=$1 limit=$2 t0
	shift 2
	t0=$(date +%s)
	timeout -s KILL "$limit" "$LVMM" "$@" </dev/null >/tmp/console-cmd.out 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	if [ $rc = 0 ]; then
		pass "$name (${secs}s)"
	else
		fail "$name" "status $rc after ${secs}s (limit ${limit}s): $(tr '\n' ' ' </tmp/console-cmd.out)"
	fi
}

# wait_exit PID SECONDS: true once the process is gone.
wait_exit() {
	local i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $i -ge $(($2 * 10)) ] && return 1
		usleep 100000
		i=$((i + 1))
	done
	return 0
}

# flood_sequence FILE...: the FLOOD line numbers in the files joined, one per
# line (a line cut where one file ends goes on in the next).
flood_sequence() { cat "$@" | tr -d '\r' | grep -o 'FLOOD [0-9]* ' | cut -d' ' -f2; }

# unbroken: numbers on stdin go 0, 1, 2, ... with no gap; prints the last.
unbroken() {
	awk 'NR == 1 && $1 != 0 { print "starts at " $1; bad = 1; exit }
		NR > 1 && $1 != prev + 1 { print "gap after " prev ": " $1; bad = 1; exit }
		{ prev = $1 } END { if (!bad) print "ok " prev; exit bad }'
}

stalled_stdout_test() {
	local mode=$1
	local t="$tag/console-stalled-stdout-$mode" name="stall-$mode"
	local fifo=/tmp/stall-$mode.fifo disk=/tmp/stall-$mode.img s=$console_snaps/stall-$mode
	local err=/tmp/stall-$mode.err got=/tmp/stall-$mode.got pid n_snap res
	local out2 err2
	out2=$(outfile "$t-restore")
	err2=$out2.err
	rm -rf "$fifo" "$s"
	mkfifo "$fifo"
	truncate -s 0 "$disk"
	truncate -s 1M "$disk"

	# The FIFO nearly full already (60 KiB of empty lines; the guest's UART would
	# take minutes to fill it under emulation), opened for reading and
	# never read: stdout stalls from the first byte.
	exec 9<>"$fifo"
	head -c 61440 /dev/zero | tr '\0' '\n' >&9
	exec 8<"$fifo"
	"$LVMM" run -k /Image -i /guest.cpio -m 256 --console "$mode" --name "$name" \
		-d "$disk" -p "$GUEST_PARAMS lvmm.mode=flood" </dev/null >"$fifo" 2>"$err" &
	pid=$!
	exec 9>&-
	# lvmm's buffer fills, then the guest waits: its count stops.
	if wait_stalled "$disk" 150; then
		pass "$t/guest-output-stalls (at line $(flood_count "$disk"))"
	else
		fail "$t/guest-output-stalls" "count '$(flood_count "$disk")': still moving, or never started" "$err"
	fi
	n_snap=$(flood_count "$disk")
	n_snap=${n_snap:-0}

	timed "$t/pause" 10 pause "$name"
	timed "$t/snapshot" 60 snapshot "$name" "$s"
	timed "$t/stop" 10 stop "$name"
	if wait_exit $pid 15; then
		wait $pid
		rc=$?
		if [ $rc = 0 ]; then
			pass "$t/vm-exits"
		else
			fail "$t/vm-exits" "status $rc" "$err"
		fi
	else
		fail "$t/vm-exits" "lvmm still running 15 s after stop" "$err"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
	fi
	# Everything that reached stdout before lvmm ended (it gave up the rest).
	cat <&8 >"$got"
	exec 8<&-
	[ -f "$s/state" ] || return

	# The snapshot in a new process, stdout a file: it prints first what
	# stdout had not taken, then the guest goes on.
	"$LVMM" restore "$s" </dev/null >"$out2" 2>"$err2" &
	pid=$!
	local i=0 c=0
	while [ "${c:-0}" -le $((n_snap + 40)) ] && [ $i -lt 600 ]; do
		usleep 100000
		i=$((i + 1))
		c=$(flood_count "$disk")
	done
	"$LVMM" stop "$name" >/dev/null 2>&1
	wait_exit $pid 15 || kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	res=$(flood_sequence "$got" "$out2" | unbroken)
	if [ "${res%% *}" = ok ] && [ "${res#ok }" -gt $((n_snap + 20)) ]; then
		pass "$t/nothing-lost-across-snapshot (lines 0-${res#ok }, snapshot at $n_snap)"
	else
		fail "$t/nothing-lost-across-snapshot" "$res (snapshot at line $n_snap; $(flood_sequence "$got" | wc -l) lines reached the FIFO; $(tr '\n' ' ' <"$err2"))" "$out2"
	fi
}

# A bare-metal guest polling LSR with IER 0 reads three bytes and echoes them.
polling_guest_test() {
	local t="$tag/console-polling-guest" f
	f=$(outfile "$t")
	printf 'xyz' | timeout -s KILL 60 "$LVMM" run -k /poll.bin --flat -m 64 >"$f.raw" 2>&1
	rc=$?
	tr -d '\r' <"$f.raw" >"$f"
	if [ $rc = 0 ] && grep -q "^POLL-GOT:xyz\$" "$f"; then
		pass "$t/input-before-it-polls"
	else
		fail "$t/input-before-it-polls" "status $rc" "$f"
	fi
	# Typed while it polls.
	(sleep 5; printf 'abc') | timeout -s KILL 60 "$LVMM" run -k /poll.bin --flat -m 64 >"$f.raw" 2>&1
	rc=$?
	tr -d '\r' <"$f.raw" >"$f"
	if [ $rc = 0 ] && grep -q "^POLL-READY\$" "$f" && grep -q "^POLL-GOT:abc\$" "$f"; then
		pass "$t/input-while-it-polls"
	else
		fail "$t/input-while-it-polls" "status $rc" "$f"
	fi
}

console_suites() {
	polling_guest_test
	stalled_stdout_test serial
	stalled_stdout_test virtio
}
