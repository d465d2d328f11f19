# SPDX-License-Identifier: GPL-2.0
# Live migration between two L1 hosts (tests/e2e/two-hosts): two QEMU
# machines joined by a socket network (10.0.9.1, the source, and 10.0.9.2,
# the destination), each with its own lvmm, and disk images that both
# machines see as /dev/vdX (the shared-disk model), one per case. Each machine runs the
# same list of cases in order; a case is one connection, so the source
# retries "lvmm migrate" until the destination's listener is up:
#
# - moves-IRQCHIP: the guest (guest-init's migrate mode: RAM rewritten and
#   checked, disk writes read back) moves and carries on at the destination;
# - source-killed: the source's lvmm dies mid-transfer, the destination
#   refuses to start the VM;
# - destination-killed: the destination dies mid-transfer, the source's
#   guest carries on.
#
# Each side reports its own half of a case (TEST-RESULT lines).
role=$1
gic=${L1_GIC:-3}
export LVMM_RUNTIME_DIR=/tmp/lvmm-run
LVMM=/lvmm
. /e2e/l1-lib.sh
t0=two-hosts-gic$gic
d=/tmp/hosts
mkdir -p $d
port=4444
uri=tcp:10.0.9.2:$port

ip link set lo up
ip addr add 10.0.9.$([ "$role" = src ] && echo 1 || echo 2)/24 dev eth0
ip link set eth0 up
i=0
while [ ! -b /dev/vdd ] && [ $i -lt 100 ]; do usleep 100000; i=$((i + 1)); done

# disk_of N: case N's disk, the one of 4+N MiB (the same name on both hosts).
disk_of() {
	local b
	for b in /sys/block/vd*; do
		[ "$(cat $b/size)" = $(((4 + $1) * 2048)) ] && echo /dev/${b##*/}
	done
}

if [ "$gic" = 3 ]; then
	cases="moves-gicv3-its moves-gicv3 source-killed destination-killed"
else
	cases="moves-gicv2 source-killed destination-killed"
fi

last_round() { tr -d '\r' <"$1" | sed -n 's/^MEM-OK r=\([0-9]*\).*/\1/p' | tail -n 1; }

# --- the source's half ------------------------------------------------------

# start_guest NAME MEM IRQCHIP: the migrate-mode guest, running its loop,
# on the disk of case $nr.
start_guest() {
	: >$d/$1.out
	"$LVMM" run -k /Image -i /guest.cpio -m "$2" -d "$(disk_of $nr)" --name "$1" --irqchip "$3" \
		-p "rdinit=/init panic=-1 quiet lvmm.mode=migrate" </dev/null >$d/$1.out 2>&1 &
	src_pid=$!
	wait_for "^MEM-OK r=1" $d/$1.out 300 && echo "L1-PROGRESS $1 up at $(cut -d' ' -f1 /proc/uptime)"
}

# migrate NAME: lvmm migrate to the destination, once it listens ($rc).
migrate() {
	local n=0
	while :; do
		timeout -s KILL 600 "$LVMM" migrate "$1" "$uri" --json >$d/reply.json 2>$d/migrate.err
		rc=$?
		grep -q "cannot reach the destination" $d/migrate.err || return
		n=$((n + 1))
		[ $n -ge 240 ] && return
		sleep 1
	done
}

source_case() {
	local c=$1 t="$t0/$1" irqchip r0
	case $c in
	moves-*)
		irqchip=${c#moves-}
		start_guest hsrc 256 "$irqchip" || { fail "$t/source-hands-over" "the guest did not start" $d/hsrc.out; kill -9 $src_pid; return; }
		migrate hsrc
		# A failed migration leaves the VM running here.
		[ $rc = 0 ] || "$LVMM" stop hsrc >/dev/null 2>&1
		wait $src_pid
		local src_rc=$?
		if [ $rc = 0 ] && [ $src_rc = 0 ] && grep -q "hsrc: migrated: it runs on at the destination" $d/hsrc.out; then
			pass "$t/source-hands-over ($(tr ',' '\n' <$d/reply.json | grep -E '"(rounds|downtime_ms|total_ms|bytes)"' | tr '\n' ' '))"
		else
			fail "$t/source-hands-over" "lvmm migrate status $rc, source status $src_rc: $(cat $d/migrate.err)" $d/hsrc.out
		fi
		;;
	source-killed)
		# 1 GiB to scan and send: it is still on its way when the kill comes.
		start_guest hkill 1024 auto || { kill -9 $src_pid; echo "L1-NOTE $t: the guest did not start"; }
		( migrate hkill ) &
		local mig=$! i=0
		# Killed once connected (a probe of the port would be taken for
		# the migration): the destination has a hello and some RAM.
		while ! netstat -tn 2>/dev/null | grep -q ":$port .*ESTABLISHED" && [ $i -lt 3000 ]; do
			usleep 100000
			i=$((i + 1))
		done
		usleep 300000
		kill -9 $src_pid
		wait $mig
		;;
	destination-killed)
		start_guest hkeep 1024 auto || { fail "$t/source-carries-on" "the guest did not start" $d/hkeep.out; kill -9 $src_pid; return; }
		migrate hkeep
		r0=$(last_round $d/hkeep.out)
		if [ $rc = 1 ] && grep -q "; the VM runs on here" $d/migrate.err &&
			wait_for "^MEM-OK r=$((r0 + 2))" $d/hkeep.out 180 && ! grep -q BAD $d/hkeep.out; then
			pass "$t/source-carries-on ($(cat $d/migrate.err))"
		else
			fail "$t/source-carries-on" "lvmm migrate status $rc: $(cat $d/migrate.err)" $d/hkeep.out
		fi
		"$LVMM" stop hkeep >/dev/null 2>&1
		wait $src_pid
		;;
	esac
}

# --- the destination's half -------------------------------------------------

# listen NAME: lvmm run --incoming in the background ($dst_pid, $d/NAME.out).
listen() {
	rm -rf /tmp/lvmm-incoming-*
	: >$d/$1.out
	timeout -s KILL 400 "$LVMM" run --incoming "tcp:0.0.0.0:$port" --name "$1" </dev/null >$d/$1.out 2>&1 &
	dst_pid=$!
	wait_for "waiting for a migration on" $d/$1.out 30
}

destination_case() {
	local c=$1 t="$t0/$1" rc n
	case $c in
	moves-*)
		listen hdst
		# Two rounds of the guest's loop here: it carries on, intact.
		if ! wait_for "^MEM-OK" $d/hdst.out 400; then
			fail "$t/destination-carries-on" "no guest output here" $d/hdst.out
		else
			n=$(last_round $d/hdst.out)
			if wait_for "^MEM-OK r=$((n + 2))" $d/hdst.out 180 && ! grep -qE "BAD|FAILED" $d/hdst.out; then
				pass "$t/destination-carries-on (rounds $n to $((n + 2)) here)"
			else
				fail "$t/destination-carries-on" "the guest did not carry on intact" $d/hdst.out
			fi
		fi
		"$LVMM" stop hdst >/dev/null 2>&1
		wait $dst_pid
		;;
	source-killed)
		listen hkilled
		wait $dst_pid
		destination_refused "$t/destination-refuses" $? $d/hkilled.out
		;;
	destination-killed)
		listen hgone
		# Killed once the source's RAM is arriving.
		i=0
		while ! ls -d /tmp/lvmm-incoming-* >/dev/null 2>&1 && [ $i -lt 6000 ]; do
			usleep 100000
			i=$((i + 1))
		done
		usleep 500000
		kill -9 $dst_pid
		wait $dst_pid
		rm -rf /tmp/lvmm-incoming-*
		;;
	esac
}

nr=0
for c in $cases; do
	echo "L1-PROGRESS $role case $c on $(disk_of $nr) at $(cut -d' ' -f1 /proc/uptime)"
	if [ "$role" = src ]; then
		source_case $c
	else
		destination_case $c
	fi
	nr=$((nr + 1))
done
