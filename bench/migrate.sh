# SPDX-License-Identifier: GPL-2.0
# Runs inside the L1 host for bench/migrate: guests of 256 and 1024 MiB,
# idle (the ticker alone) and busy (a quarter of RAM rewritten all the
# time), migrated over loopback TCP from one lvmm to another, RUNS each.
# The guest ticks every millisecond on its console; tickgap times the ticks
# on L1's clock at both ends, so the gap the guest's users see is measured
# outside the guest (whose own clock does not see the pause).
. /e2e/l1-lib.sh
RUNS=${RUNS:-3}
export LVMM_RUNTIME_DIR=/tmp/lvmm-run
ip link set lo up 2>/dev/null || ifconfig lo up
b=/tmp/bm
uri=tcp:127.0.0.1:4444

# field KEY FILE: KEY=VALUE's value in a tickgap summary, or a JSON number.
field() { tr ' ,' '\n\n' <"$2" | sed -n "s/^\"*$1\"*[=:]//p" | head -n 1; }

for size in 256 1024; do
	for load in idle busy; do
		dirty=0
		[ $load = busy ] && dirty=$((size / 4))
		r=0
		while [ $r -lt "$RUNS" ]; do
			r=$((r + 1))
			rm -rf $b && mkdir -p $b
			mkfifo $b/src.fifo $b/dst.fifo
			/e2e/tickgap $b/src.sum <$b/src.fifo >$b/src.out &
			src_tg=$!
			/lvmm run -k /Image -i /guest.cpio -m $size --name msrc \
				-p "rdinit=/init quiet lvmm.mode=ticker lvmm.dirty=$dirty" \
				</dev/null >$b/src.fifo 2>$b/src.err &
			src=$!
			if ! wait_for "^TICKER-READY" $b/src.out 600; then
				echo "BENCH error $size $load: no ticks: $(tail -n 3 $b/src.out $b/src.err)"
				kill -9 $src
				wait
				continue
			fi
			/e2e/tickgap $b/dst.sum <$b/dst.fifo >$b/dst.out &
			/lvmm run --incoming $uri --name mdst </dev/null >$b/dst.fifo 2>$b/dst.err &
			dst=$!
			wait_for "waiting for a migration" $b/dst.err 60
			# Two seconds of ticks before: how regular they are anyway.
			sleep 2
			kill -USR1 $src_tg
			/lvmm migrate msrc $uri --json >$b/mig.json 2>$b/mig.err
			rc=$?
			wait $src
			sleep 2
			/lvmm stop mdst >/dev/null 2>&1
			wait
			if [ $rc != 0 ]; then
				echo "BENCH error $size $load: migrate status $rc: $(cat $b/mig.err $b/mig.json)"
				continue
			fi
			# The switch: the source's last tick to the destination's first.
			switch=$(($(field first_us $b/dst.sum) - $(field last_us $b/src.sum)))
			gap=$switch
			for g in $(field gap_after_us $b/src.sum) $(field gap_before_us $b/dst.sum); do
				[ "$g" -gt "$gap" ] && gap=$g
			done
			k="BENCH $size-$load"
			echo "$k total_ms $(field total_ms $b/mig.json)"
			echo "$k downtime_ms $(field downtime_ms $b/mig.json)"
			echo "$k switch_gap_ms $((switch / 1000))"
			echo "$k largest_gap_ms $((gap / 1000))"
			# Where the switch sits: the source's last tick and the
			# destination's first, from the start of lvmm migrate.
			mark=$(field mark_us $b/src.sum)
			echo "$k src_last_tick_ms $((($(field last_us $b/src.sum) - mark) / 1000))"
			echo "$k dst_first_tick_ms $((($(field first_us $b/dst.sum) - mark) / 1000))"
			echo "$k quiet_gap_ms $(($(field gap_before_us $b/src.sum) / 1000))"
			echo "$k rounds $(field rounds $b/mig.json)"
			echo "$k sent_per_ram $(awk -v b="$(field bytes $b/mig.json)" -v m=$size 'BEGIN { printf "%.2f", b / (m * 1048576) }')"
		done
	done
done
