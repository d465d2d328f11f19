# SPDX-License-Identifier: GPL-2.0
# Inside the L1 host (busybox sh, from l1-init's "kut" mode): kvm-unit-tests'
# own runner with TARGET=kvmtool, once with kvmtool's lkvm-static (if the
# image has it) and once with lvmm as KVMTOOL, then the migration group with
# lvmm. One line per test: "KUT vmm=lkvm|lvmm|mig gic=N PASS|FAIL|SKIP NAME".
gic=${L1_GIC:-3}

# bash's process substitution and the runner's "tee /dev/stderr".
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${i#*:}" ] || ln -s "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"
done
esc=$(printf '\033')

run_suite() {
	local name=$1 bin=$2
	cd /kut || return
	echo "KUT-BEGIN vmm=$name gic=$gic $("$bin" --version 2>/dev/null | head -1)"
	TARGET=kvmtool KVMTOOL=$bin MAX_SMP=$smp bash ./run_tests.sh $tests >/tmp/kut-$name.out 2>&1
	echo "KUT-RUNNER vmm=$name exit=$?"
	sed "s/$esc\[[0-9;]*m//g" /tmp/kut-$name.out | while read -r st test rest; do
		case "$st" in
		PASS|FAIL|SKIP)
			echo "KUT vmm=$name gic=$gic $st $test $rest"
			# What a failure printed, for the log of the L1 boot.
			[ "$st" = FAIL ] && sed "s/^/  $name:$test: /" "logs/$test.log" | tail -n 25
			;;
		esac
	done
	cd /
}

# L1 has 2 CPUs; the tests that need 4 vCPUs (the ITS ones) get them,
# overcommitted, for both VMMs alike (lvmm.kut_smp=).
parts=lkvm,lvmm,mig,live
smp=4
tests=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	lvmm.kut=*) parts=${arg#lvmm.kut=} ;;
	lvmm.kut_smp=*) smp=${arg#lvmm.kut_smp=} ;;
	lvmm.kut_tests=*) tests=$(echo "${arg#lvmm.kut_tests=}" | tr , ' ') ;;
	esac
done
export MAX_SMP=$smp
case ",$parts," in *,lkvm,*) [ -x /lkvm-static ] && run_suite lkvm /lkvm-static ;; esac
case ",$parts," in *,lvmm,*) run_suite lvmm /lvmm ;; esac
case ",$parts," in *,mig,*) sh /lvmm-kut/l1-migrate.sh "$gic" snapshot ;; esac
case ",$parts," in *,live,*) sh /lvmm-kut/l1-migrate.sh "$gic" live ;; esac
