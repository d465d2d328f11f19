# SPDX-License-Identifier: GPL-2.0
# Helpers shared by the scripts that run inside the L1 host (l1-*.sh and
# bench/*.sh), for busybox sh.

# pass NAME, fail NAME REASON [OUTPUT-FILE]: one "TEST-RESULT" line each,
# which tests/e2e/run and two-hosts collect; a failure shows the tail of
# what the test printed.
pass() { echo "TEST-RESULT PASS $1"; }
fail() {
	echo "TEST-RESULT FAIL $1: $2"
	if [ -n "${3:-}" ] && [ -f "$3" ]; then
		echo "---- last lines of $1 output ----"
		tail -n 25 "$3" | tr -d '\r'
		echo "----"
	fi
}

# destination_refused NAME STATUS OUTPUT-FILE: an lvmm run --incoming
# whose source died mid-stream ended with status 1 and said so, started no
# VM (no "restored" banner, no guest output) and left nothing received.
destination_refused() {
	if [ "$2" = 1 ] && grep -q "the source went away before it sent everything" "$3" &&
		! grep -q "restored\|MEM-OK" "$3" && ! ls -d /tmp/lvmm-incoming-* >/dev/null 2>&1; then
		pass "$1"
	else
		fail "$1" "destination status $2" "$3"
	fi
}

# wait_for PATTERN FILE SECONDS: true once FILE (carriage returns dropped)
# has a line matching the extended regular expression.
wait_for() {
	local i=0
	while [ $i -lt $(($3 * 10)) ]; do
		tr -d '\r' <"$2" 2>/dev/null | grep -qE "$1" && return 0
		usleep 100000
		i=$((i + 1))
	done
	return 1
}

# driver_of_dev SYSFS-DIR: the driver bound to the device there ("" if none).
driver_of_dev() {
	local l
	l=$(readlink "$1/driver" 2>/dev/null)
	echo "${l##*/}"
}

# vfio_rebind BUS DRIVER DEV: the three commands of test-host.md (which
# lvmm's "bound to ..." messages give): DEV of BUS to DRIVER.
vfio_rebind() {
	local d=/sys/bus/$1/devices/$3
	echo "$2" >"$d/driver_override"
	[ -e "$d/driver" ] && echo "$3" >"$d/driver/unbind"
	echo "$3" >/sys/bus/$1/drivers_probe 2>/dev/null
}

# snapshot_refused_test TEST VM "message" lvmm-run-args...: a VM that cannot
# be checkpointed (a device whose state lives outside lvmm) refuses
# "lvmm snapshot" with status 1 and the message, leaves no directory behind,
# and its guest (a ticking counter) runs on.
snapshot_refused_test() {
	local t=$1 name=$2 text=$3 f=/tmp/$2.out dir=/tmp/$2-snap n0 pid rc
	shift 3
	rm -rf "$dir"
	LVMM_RUNTIME_DIR=/tmp/lvmm-run "$LVMM" run "$@" --name $name \
		-p "$GUEST_PARAMS lvmm.mode=counter" </dev/null >$f 2>&1 &
	pid=$!
	if ! wait_for "^TICK cpu=0 n=2 " $f 120; then
		fail "$t" "the VM did not start" $f
		kill -9 $pid
		return
	fi
	LVMM_RUNTIME_DIR=/tmp/lvmm-run "$LVMM" snapshot $name "$dir" >/tmp/$name.err 2>&1
	rc=$?
	n0=$(tr -d '\r' <$f | sed -n 's/^TICK cpu=0 n=\([0-9]*\) .*/\1/p' | tail -n 1)
	if [ $rc = 1 ] && grep -qF "$text" /tmp/$name.err &&
		[ ! -e "$dir" ] && ! ls -d "$dir".tmp* >/dev/null 2>&1 &&
		wait_for "^TICK cpu=0 n=$((n0 + 2)) " $f 30; then
		pass "$t"
	else
		fail "$t" "status $rc: $(cat /tmp/$name.err)" $f
	fi
	LVMM_RUNTIME_DIR=/tmp/lvmm-run "$LVMM" stop $name >/dev/null 2>&1
	wait $pid
}
