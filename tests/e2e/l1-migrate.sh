# SPDX-License-Identifier: GPL-2.0
# Live migration within one L1 host, sourced by l1-tests.sh (E2E_ONLY=
# migrate runs only these): two lvmm processes, over a Unix socket and over
# loopback TCP. The guest (guest-init's migrate mode) ticks, rewrites 8 MiB
# of RAM in a loop checking each round's sha256 before the next, and reads
# its disk (pages lvmm writes) checking those too:
#
# - it moves and carries on at the destination, with no MEM-BAD or DISK-BAD;
#   the source exits 0 saying it migrated; the reply has rounds, bytes and
#   the downtime;
# - the source killed mid-transfer: the destination refuses to start;
# - the destination killed mid-transfer: the source says so and its guest
#   carries on.

export LVMM_RUNTIME_DIR=/tmp/lvmm-run
mt=/tmp/migrate
# tcp: goes over loopback.
ip link set lo up 2>/dev/null || ifconfig lo up

migrate_setup() {
	rm -rf $mt && mkdir -p $mt
	head -c 4194304 /dev/urandom >$mt/disk.img
}

# migrate_source NAME MEM [IRQCHIP]: a source VM in the background ($src_pid,
# output $mt/NAME.out).
migrate_source() {
	"$LVMM" run -k /Image -i /guest.cpio -m "$2" -d $mt/disk.img --name "$1" --irqchip "${3:-auto}" \
		-p "$GUEST_PARAMS lvmm.mode=migrate" </dev/null >$mt/$1.out 2>&1 &
	src_pid=$!
	wait_for "^MEM-OK r=1" $mt/$1.out 180
}

# migrate_pair TEST SRC MEM URI: a source SRC of MEM MiB running its loop,
# and an lvmm run --incoming URI (named SRCdst, $dst_pid) waiting for it;
# false (the test failed) if either did not come up.
migrate_pair() {
	if ! migrate_source "$2" "$3"; then
		fail "$1" "the source did not start" $mt/$2.out
		kill -9 $src_pid 2>/dev/null
		return 1
	fi
	"$LVMM" run --incoming "$4" --name "$2dst" </dev/null >$mt/$2dst.out 2>&1 &
	dst_pid=$!
	wait_for "waiting for a migration on" $mt/$2dst.out 30
}

# last_round FILE: the last MEM-OK round in FILE.
last_round() { tr -d '\r' <"$1" | sed -n 's/^MEM-OK r=\([0-9]*\).*/\1/p' | tail -n 1; }

migrate_moves_test() {
	local kind=$1 uri=$2 irqchip=${3:-auto} t="$tag/migrate/$1-$3-moves-and-carries-on" r0 dst_pid rc
	migrate_setup
	if ! migrate_source msrc 256 "$irqchip"; then
		fail "$t" "the source did not start" $mt/msrc.out
		kill -9 $src_pid 2>/dev/null
		return
	fi
	"$LVMM" run --incoming "$uri" --name mdst </dev/null >$mt/mdst.out 2>&1 &
	dst_pid=$!
	wait_for "waiting for a migration on" $mt/mdst.out 30
	"$LVMM" migrate msrc "$uri" --json >$mt/reply.json 2>$mt/migrate.err
	rc=$?
	wait $src_pid
	local src_rc=$?
	r0=$(last_round $mt/msrc.out)
	if [ $rc != 0 ] || ! grep -q '"ok":true' $mt/reply.json; then
		fail "$t" "lvmm migrate: status $rc: $(cat $mt/migrate.err)" $mt/mdst.out
	elif [ $src_rc != 0 ] || ! grep -q "msrc: migrated: it runs on at the destination" $mt/msrc.out; then
		fail "$t" "the source's lvmm: status $src_rc" $mt/msrc.out
	elif ! wait_for "^MEM-OK r=$((r0 + 2))" $mt/mdst.out 180; then
		fail "$t" "the guest did not carry on at the destination (last round at the source $r0)" $mt/mdst.out
	elif grep -qE "BAD|FAILED" $mt/mdst.out; then
		fail "$t" "the guest found its memory or disk reads changed: $(grep BAD $mt/mdst.out | head -n 3)" $mt/mdst.out
	else
		pass "$t ($(tr ',' '\n' <$mt/reply.json | grep -E '"(rounds|downtime_ms|total_ms|bytes)"' | tr '\n' ' '))"
	fi
	"$LVMM" stop mdst >/dev/null 2>&1
	wait $dst_pid 2>/dev/null
	kill -9 $src_pid $dst_pid 2>/dev/null
}

# The source dies while RAM is on its way: the destination starts nothing.
migrate_source_dies_test() {
	local t="$tag/migrate/source-killed-destination-refuses" uri=unix:$mt/kill.sock
	migrate_setup
	migrate_pair "$t" mkill 1024 "$uri" || return
	"$LVMM" migrate mkill "$uri" >/dev/null 2>&1 &
	usleep 300000
	kill -9 $src_pid
	wait $dst_pid
	destination_refused "$t" $? $mt/mkilldst.out
}

# The destination dies mid-transfer: the source carries on as before.
migrate_destination_dies_test() {
	local t="$tag/migrate/destination-killed-source-carries-on" uri=unix:$mt/kill2.sock rc n0
	migrate_setup
	migrate_pair "$t" mkeep 1024 "$uri" || return
	"$LVMM" migrate mkeep "$uri" >$mt/keep.reply 2>&1 &
	local mig_pid=$!
	usleep 300000
	kill -9 $dst_pid
	wait $mig_pid
	rc=$?
	n0=$(last_round $mt/mkeep.out)
	if [ $rc = 1 ] && grep -q "lvmm migrate: .*; the VM runs on here" $mt/keep.reply &&
		wait_for "^MEM-OK r=$((n0 + 2))" $mt/mkeep.out 180 && ! grep -q BAD $mt/mkeep.out &&
		"$LVMM" stop mkeep >/dev/null 2>&1; then
		pass "$t ($(cat $mt/keep.reply))"
	else
		fail "$t" "lvmm migrate status $rc: $(cat $mt/keep.reply)" $mt/mkeep.out
	fi
	wait $src_pid 2>/dev/null
	kill -9 $src_pid 2>/dev/null
}

# Incremental snapshots: a full one, then diffs of the last, each holding
# only what the guest (and lvmm, for its disk reads) dirtied; the chain
# restores and the guest carries on; a wrong or missing base is refused.
incremental_snapshot_test() {
	local t="$tag/snapshot/incremental-diffs-restore" r0 full d1 d2 pid
	migrate_setup
	rm -rf $mt/s0 $mt/s1 $mt/s2 $mt/sx $mt/s1.moved
	if ! migrate_source minc 256; then
		fail "$t" "the VM did not start" $mt/minc.out
		kill -9 $src_pid 2>/dev/null
		return
	fi
	"$LVMM" snapshot minc $mt/s0 >$mt/inc.log 2>&1 || { fail "$t" "full snapshot: $(cat $mt/inc.log)"; kill -9 $src_pid; return; }
	r0=$(last_round $mt/minc.out)
	wait_for "^MEM-OK r=$((r0 + 1))" $mt/minc.out 120
	"$LVMM" snapshot minc $mt/s1 --diff-from $mt/s0 >>$mt/inc.log 2>&1 || { fail "$t" "diff 1: $(cat $mt/inc.log)"; kill -9 $src_pid; return; }
	# Only from the last snapshot: s0 is not any more.
	"$LVMM" snapshot minc $mt/sx --diff-from $mt/s0 >$mt/incx.log 2>&1
	local wrong=$?
	r0=$(last_round $mt/minc.out)
	wait_for "^MEM-OK r=$((r0 + 1))" $mt/minc.out 120
	"$LVMM" snapshot minc $mt/s2 --diff-from $mt/s1 --stop >>$mt/inc.log 2>&1 || { fail "$t" "diff 2: $(cat $mt/inc.log)"; kill -9 $src_pid; return; }
	wait $src_pid
	r0=$(last_round $mt/minc.out)
	full=$(du -k $mt/s0/memory | cut -f1)
	d1=$(du -k $mt/s1/memory | cut -f1)
	d2=$(du -k $mt/s2/memory | cut -f1)
	"$LVMM" restore $mt/s2 --name minc2 </dev/null >$mt/minc2.out 2>&1 &
	pid=$!
	if [ $wrong = 0 ] || ! grep -q "a diff goes from this VM's last snapshot, $mt/s1" $mt/incx.log; then
		fail "$t" "a diff from an older snapshot was not refused: $(cat $mt/incx.log)"
	elif [ $((d1 * 2)) -ge "$full" ] || [ $((d2 * 2)) -ge "$full" ]; then
		fail "$t" "diffs not smaller than half the full one: full ${full} KiB, diffs ${d1} and ${d2} KiB"
	elif ! wait_for "^MEM-OK r=$((r0 + 2))" $mt/minc2.out 180; then
		fail "$t" "the restored chain did not carry on (last round $r0)" $mt/minc2.out
	elif grep -qE "BAD|FAILED" $mt/minc2.out; then
		fail "$t" "the guest found its memory or disk reads changed" $mt/minc2.out
	else
		pass "$t (full ${full} KiB, diffs ${d1} and ${d2} KiB)"
	fi
	"$LVMM" stop minc2 >/dev/null 2>&1
	wait $pid 2>/dev/null
	# The base gone: refused before anything starts.
	mv $mt/s1 $mt/s1.moved
	expect_error "$tag/snapshot/incremental-base-missing" 1 "is a diff of $mt/s1, which is missing" \
		restore $mt/s2 --name minc3
}

migrate_suites() {
	local m
	for m in $models; do
		[ "$m" = auto ] && continue
		migrate_moves_test unix unix:$mt/mig.sock "$m"
	done
	migrate_moves_test tcp tcp:127.0.0.1:4444 auto
	migrate_source_dies_test
	migrate_destination_dies_test
	incremental_snapshot_test
}
