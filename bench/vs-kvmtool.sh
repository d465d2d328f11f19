# SPDX-License-Identifier: GPL-2.0
# Runs inside the L1 host for bench/vs-kvmtool: lvmm (once per transport)
# and kvmtool's lkvm boot the same guest (CPUS vCPUs, 256 MiB, /Image, the
# busybox initramfs, the same disk file) alternately, RUNS rounds. Each
# round per VMM: a boot run (the guest powers off at once), a disk run
# (guest-init's vsbench mode) and, unless NET=0, a net run (a tap to L1:
# ping, and 64 MiB of TCP each way with busybox nc). Every figure is one "BENCH <vmm> <key> <v>"
# line; bench/vs-kvmtool takes the medians.
RUNS=${RUNS:-7}
SIZE=${SIZE:-64}
TRANSPORTS=${TRANSPORTS:-mmio pci}
CPUS=${CPUS:-1}
QUEUES=${QUEUES:-}	# lvmm's disk with queues=N (not base's: older builds lack it)
VHOST=${VHOST:-}	# 1: lvmm's network with vhost=1 (not kvmtool's); both: base's too
KINDS=${KINDS:-boot blk net}	# which runs each round has
export HOME=/tmp # lkvm keeps its sockets under $HOME/.lkvm
disk=/tmp/disk.img
dd if=/dev/zero of=$disk bs=1048576 count=$SIZE 2>/dev/null
params="rdinit=/init quiet lvmm.mode=vsbench"

vmms=""
for t in $TRANSPORTS; do vmms="$vmms lvmm-$t"; done
# LVMM_BASE: an earlier lvmm build, measured alongside (before/after).
[ -x /lvmm-base ] && for t in $TRANSPORTS; do vmms="$vmms base-$t"; done
vmms="$vmms kvmtool"

cmd() { # cmd VMM TAG
	local net=""
	case "$1" in
	lvmm-* | base-*)
		[ "$2" = net ] && net="-n mode=tap,tapif=tapB"
		bin="/lvmm" d=$disk${QUEUES:+,queues=$QUEUES}
		case "$1" in base-*) bin=/lvmm-base d=$disk ;; esac
		case "$1-$VHOST" in lvmm-*-1 | *-both) [ "$2" = net ] && net="$net,vhost=1" ;; esac
		echo "$bin run --virtio-transport ${1#*-} -k /Image -i /guest.cpio -m 256 -c $CPUS -d $d $net" ;;
	kvmtool)
		net="--network mode=none"
		[ "$2" = net ] && net="-n mode=tap,tapif=tapB,script=none"
		echo "/lkvm run --loglevel=warning -k /Image -i /guest.cpio -m 256 -c $CPUS -d $disk $net" ;;
	esac
}

# vmm_pid PID: the VMM that `time` (PID) runs.
vmm_pid() { awk -v p="$1" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null | head -n1; }

# kvm_exits PID: "exits kicks" of the VMM's vCPUs so far (kicks: MMIO that
# KVM handled itself, here the guest's queue notifications to ioeventfds).
kvm_exits() { /e2e/kvmstat "$1" | tr ' ' '\n' | awk -F= '{ v[$1] = $2 } END { print v["exits"] + 0, v["mmio_exit_kernel"] + 0 }'; }

# exits_per_mib VMM KEY "BEFORE" "AFTER": KVM exits and kicks per MiB of 64.
exits_per_mib() {
	echo "$3 $4" | awk -v v="$1" -v k="$2" 'NF == 4 && $3 > 0 {
		print "BENCH " v " " k "exits " ($3 - $1) / 64; print "BENCH " v " " k "kicks " ($4 - $2) / 64 }'
}

# The net run's L1 side: tapB up as 10.0.5.1 once the VMM made it, a
# listener for the guest's send, then L1's own timed 64 MiB send. KVM's
# counters of lvmm are read around each transfer (the guest's send within
# the 0.1 s this polls at; L1's own exactly); kvmtool's cannot be.
net_l1() {
	local i=0 t0 pid k0 k1 k2
	while [ ! -e /sys/class/net/tapB ] && [ $i -lt 200 ]; do usleep 50000; i=$((i + 1)); done
	ip addr add 10.0.5.1/24 dev tapB 2>/dev/null
	ip link set tapB up
	pid=$(vmm_pid "$2")
	i=0
	while ! grep -q NET-TX-START /tmp/out 2>/dev/null && [ $i -lt 1200 ]; do usleep 100000; i=$((i + 1)); done
	k0=$(kvm_exits "$pid")
	i=0
	while ! grep -q NET-LISTENING /tmp/out 2>/dev/null && [ $i -lt 1200 ]; do usleep 100000; i=$((i + 1)); done
	k1=$(kvm_exits "$pid")
	t0=$(cut -d' ' -f1 /proc/uptime)
	head -c 67108864 /dev/zero | nc 10.0.5.2 5002
	awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" -v v="$1" 'BEGIN { print "BENCH " v " tcprx " 64 * 1.048576 / (b - a) }' >/tmp/netres
	k2=$(kvm_exits "$pid")
	{ exits_per_mib "$1" tcptx "$k0" "$k1"; exits_per_mib "$1" tcprx "$k1" "$k2"; } >>/tmp/netres
}

# smaps_sample PID: "total_rss guest_rss" in KiB. Guest RAM is every
# mapping of at least 256 MiB (kvmtool maps a little more, to align it).
smaps_sample() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { big = 0 }
		/^Size:/ { big = ($2 >= 262144) }
		/^Rss:/ { t += $2; if (big) g += $2 }
		END { if (NR) print t + 0, g + 0 }' "/proc/$1/smaps" 2>/dev/null
}

# run VMM SIZE TAG: one guest; prints its RESULT lines and the VMM's wall
# time, CPU time (user + system, guest mode included: KVM accounts it as
# user time; boot runs) and RSS outside guest RAM (disk runs: the last
# smaps sample, 0.5 s apart, before exit).
run() {
	vmm=$1 size=$2 tag=$3
	echo 3 >/proc/sys/vm/drop_caches
	: >/tmp/netres
	if [ "$tag" = net ]; then
		# nc's stdin held open (see guest-init): it must not half-close.
		rm -f /tmp/hold /tmp/l1rx
		mkfifo /tmp/hold
		sleep 1000 >/tmp/hold &
		hold=$!
		nc -l -p 5001 </tmp/hold | wc -c >/tmp/l1rx &
	fi
	time -f "TIME %e %U %S" $(cmd "$vmm" "$tag") -p "$params lvmm.size=$size lvmm.net=$([ "$tag" = net ] && echo 1 || echo 0)" \
		</dev/null >/tmp/out 2>/tmp/err &
	tpid=$!
	npid=""
	if [ "$tag" = net ]; then
		net_l1 "$vmm" $tpid &
		npid=$!
	fi
	pid=""
	last=""
	klast=""
	while kill -0 $tpid 2>/dev/null; do
		[ -z "$pid" ] && pid=$(vmm_pid $tpid)
		[ -n "$pid" ] && s=$(smaps_sample "$pid") && [ -n "$s" ] && last=$s
		[ -n "$pid" ] && [ "$tag" != boot ] && s=$(/e2e/kvmstat "$pid") && klast=$s
		usleep 500000
	done
	wait $tpid
	if [ -n "$npid" ]; then
		wait $npid
		kill $hold 2>/dev/null
		# A figure only for a transfer that arrived whole.
		[ "$(cat /tmp/l1rx 2>/dev/null)" = 67108864 ] || sed -i '/ tcptx /d' /tmp/out
		tr -d '\r' </tmp/out | grep -q "^RESULT tcprxbytes 67108864 " && cat /tmp/netres
		grep -q "tcprx" /tmp/netres && tr -d '\r' </tmp/out | grep -q "^RESULT tcprxbytes 67108864 " ||
			echo "BENCH error $vmm net: L1 got $(cat /tmp/l1rx 2>/dev/null) bytes, the guest $(tr -d '\r' </tmp/out | sed -n 's/^RESULT tcprxbytes \([0-9]*\).*/\1/p')"
	fi
	tr -d '\r' </tmp/out | sed -n "s/^RESULT \([a-z0-9]*\) \([0-9.]*\).*/BENCH $vmm \1 \2/p" >/tmp/res
	# KVM's counters of lvmm's vCPUs, the last sample before it ended.
	echo "$klast" | tr ' ' '\n' | awk -F= -v v="$vmm" -v t="$tag" 'NF == 2 { print "BENCH " v " " t "_" $1 " " $2 }' >>/tmp/res
	grep -q " uptime " /tmp/res || { echo "BENCH error $vmm guest did not finish"; tail -n 20 /tmp/out /tmp/err | sed 's/^/BENCH log /'; return; }
	if [ "$tag" = boot ]; then
		up=$(awk '$3 == "uptime" { print $4 }' /tmp/res)
		awk -v up="$up" -v v="$vmm" '$1 == "TIME" { print "BENCH " v " overhead " $2 - up; print "BENCH " v " cpu " $3 + $4 }' /tmp/err
		grep "_" /tmp/res
	else
		grep -v " uptime " /tmp/res
		[ "$tag" = blk ] && [ -n "$last" ] && echo "BENCH $vmm rss_outside $(echo $last | awk '{ print $1 - $2 }')"
	fi
}

# The order turns around every round, so a VMM's place in the round does not
# weigh on its medians: two builds whose boot runs do the same work took
# 10-35 % less CPU time in the first place than in the second, in every boot.
reversed=""
for v in $vmms; do reversed="$v $reversed"; done
i=0
while [ $i -lt "$RUNS" ]; do
	order=$vmms
	[ $((i % 2)) = 1 ] && order=$reversed
	for v in $order; do
		for k in $KINDS; do
			case $k in
			boot) run $v 0 boot ;;
			blk) run $v "$SIZE" blk ;;
			net) [ "${NET:-1}" = 1 ] && run $v 0 net ;;
			esac
		done
	done
	i=$((i + 1))
done
echo "BENCH done vmms=$vmms"
