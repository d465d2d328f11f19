# SPDX-License-Identifier: GPL-2.0
# Inside the L1 host (busybox sh): kvm-unit-tests' migration group, which
# its runner drives only under QEMU, with lvmm. For each test of group
# "migration" in unittests.cfg: start it as a named VM, wait for "Now
# migrate the VM", move it to a second lvmm process, press a key on the
# second console, and read the test's "EXIT: STATUS=" (1 is a pass).
#
#   l1-migrate.sh GIC snapshot   lvmm snapshot NAME DIR --stop, then lvmm
#                                restore DIR ("KUT vmm=mig ...")
#   l1-migrate.sh GIC live       lvmm migrate NAME unix:SOCK to a waiting
#                                lvmm run --incoming ("KUT vmm=live ...")
gic=${1:-3}
how=${2:-snapshot}
vmm=mig
[ "$how" = live ] && vmm=live
export MAX_SMP=${MAX_SMP:-$(grep -c ^processor /proc/cpuinfo)}
cfg=/kut/arm/unittests.cfg
env=/tmp/kut-env

# The environment file (errata flags) made by kvm-unit-tests' own scripts,
# as its runner would hand it to the VMM with --initrd.
bash -c 'cd /kut && source config.mak && source scripts/arch-run.bash &&
	source scripts/vmm.bash && TARGET=kvmtool && initrd_create >/dev/null &&
	cp "$KVM_UNIT_TESTS_ENV" '"$env" || echo "MIG could not make $env"

# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s.
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
result() { echo "KUT vmm=$vmm gic=$gic $1 $2${3:+ ($3)}"; }
show() { tail -n 15 "$1" | sed "s/^/  $vmm:$2:$3: /"; }

# name|file|smp|test_args|kvmtool_params of every migration test.
awk '
	function flush() {
		if (name != "" && groups ~ /(^| )migration( |$)/)
			print name "|" file "|" smp "|" args "|" params
	}
	/^\[.*\]$/ { flush(); name = substr($0, 2, length($0) - 2)
		file = ""; smp = "1"; args = ""; params = ""; groups = "" }
	function val() { v = $0; sub(/^[^=]*= */, "", v); gsub(/^'\''|'\''$|^"|"$/, "", v); return v }
	/^file *=/ { file = val() }
	/^smp *=/ { smp = val() }
	/^test_args *=/ { args = val() }
	/^kvmtool_params *=/ { params = val() }
	/^groups *=/ { groups = val() }
	END { flush() }' "$cfg" >/tmp/mig-tests

i=0
while IFS='|' read -r test file smp args params; do
	i=$((i + 1))
	smp=$(eval echo "\"$smp\"")
	# Upstream runs these under QEMU's gic-version=3, which has an ITS.
	case "$params" in
	*--irqchip=gicv3)
		[ "$gic" = 3 ] || { result SKIP "$test" "needs a GICv3 host"; continue; }
		params="${params%=gicv3}=gicv3-its"
		;;
	esac
	d=/tmp/mig/$test
	name=kut-mig-$i
	rm -rf "$d"
	mkdir -p "$d"
	mkfifo "$d/in1" "$d/in2"
	# Both ends held open: no EOF on the consoles while we write to them.
	exec 3<>"$d/in1" 4<>"$d/in2"
	/lvmm run --name "$name" --nodefaults --loglevel=warning -k "/kut/arm/$file" -c "$smp" \
		$params -p "$args" -i "$env" <"$d/in1" >"$d/out1" 2>&1 &
	pid=$!
	wait_for 180 sh -c "grep -q -e 'Now migrate the VM' -e 'Skipped VM migration' '$d/out1' ||
		! kill -0 $pid 2>/dev/null"
	if ! grep -q "Now migrate the VM" "$d/out1"; then
		# The test decided not to migrate: a key lets it finish.
		grep -q "Skipped VM migration" "$d/out1" && echo >&3
		wait_for 60 dead $pid
		alive $pid && kill -9 $pid
		wait $pid 2>/dev/null
		if grep -q "Skipped VM migration" "$d/out1"; then
			result SKIP "$test" "$(grep -E '^(SKIP|FAIL)' "$d/out1" | head -n 1)"
		else
			result FAIL "$test" "no 'Now migrate the VM' from the first VM"
		fi
		show "$d/out1" "$test" source
		exec 3>&- 4>&-
		continue
	fi
	if [ "$how" = live ]; then
		# The destination waits first; the key once it has the VM (migrate
		# returns when the destination confirmed, just before it runs).
		/lvmm run --incoming "unix:$d/mig.sock" --name "$name-dst" <"$d/in2" >"$d/out2" 2>&1 &
		rpid=$!
		wait_for 30 sh -c "grep -q 'waiting for a migration' '$d/out2'"
		/lvmm migrate "$name" "unix:$d/mig.sock" >"$d/move.out" 2>&1
	else
		/lvmm snapshot "$name" "$d/snap" --stop >"$d/move.out" 2>&1
	fi
	src=$?
	wait_for 30 dead $pid
	alive $pid && kill -9 $pid
	wait $pid
	srcexit=$?
	if [ $src != 0 ] || [ $srcexit != 0 ]; then
		result FAIL "$test" "lvmm $how exit $src, first VM exit $srcexit"
		cat "$d/move.out" "$d/out1" | tail -n 15 | sed "s/^/  $vmm:$test: /"
		[ "$how" = live ] && kill -9 $rpid 2>/dev/null && wait $rpid 2>/dev/null
		exec 3>&- 4>&-
		continue
	fi
	if [ "$how" = live ]; then
		echo >&4
	else
		/lvmm restore "$d/snap" <"$d/in2" >"$d/out2" 2>&1 &
		rpid=$!
		# The key once the restored VM is up (it answers on its socket).
		wait_for 60 sh -c "/lvmm list | grep -q '^$name '"
		echo >&4
	fi
	if ! wait_for 180 dead $rpid; then
		kill -9 $rpid
		result FAIL "$test" "the second VM did not finish"
		show "$d/out2" "$test" second
	elif grep -q '^EXIT: STATUS=1\b' "$d/out2"; then
		result PASS "$test" "$(grep -E '^(SUMMARY|PASS|FAIL)' "$d/out2" | tail -n 1)"
	else
		result FAIL "$test" "$(grep '^EXIT: ' "$d/out2" | head -n 1)"
		show "$d/out2" "$test" second
	fi
	wait $rpid 2>/dev/null
	exec 3>&- 4>&-
	rm -rf "$d/snap"
done </tmp/mig-tests
