# SPDX-License-Identifier: GPL-2.0
# make shell on the L1 host: a shell with lvmm on the PATH, the test guest
# kernel (/Image) and initramfs (/guest.cpio), a disk image (/root/disk.img)
# and the tour of tour.sh; in script mode the tour runs and is checked.
mkdir -p /root /usr/local/bin
ln -sf /lvmm /usr/local/bin/lvmm
export PATH=/usr/local/bin:$PATH HOME=/root
truncate -s 64M /root/disk.img
. /e2e/tour.sh
if [ "${1:-}" = script ]; then
	cd /root
	echo "$tour_cmds" | sed -n 's/^\$ //p' | while IFS= read -r c; do
		echo "TOUR\$ $c"
		eval "$c"
	done 2>&1 | tee /tmp/tour.out
	# The restored VM ends in the background: give it a moment.
	i=0
	while [ $i -lt 100 ] && ! grep -q "g1: stopped" /tmp/g1b.log; do usleep 100000; i=$((i + 1)); done
	# What the tour promises: the VM listed, counting, snapshotted, restored
	# under its name and still counting, then stopped.
	ok=1
	grep -q "^lvmm [0-9.]* (commit " /tmp/tour.out || ok=0
	[ "$(grep -c '^g1 .* running ' /tmp/tour.out)" -ge 2 ] || ok=0
	grep -q "g1: snapshot written to /tmp/g1.snap (" /tmp/tour.out || ok=0
	grep -q "^TICK cpu=0 " /tmp/g1b.log || ok=0
	grep -q "g1: stopped" /tmp/g1b.log || ok=0
	[ $ok = 1 ] && echo "TOUR-OK" || echo "TOUR-FAILED"
	exit
fi
cat <<MSG

This is the emulated arm64 KVM host, with lvmm on the PATH, a guest kernel
(/Image), an initramfs (/guest.cpio) and a disk image (/root/disk.img).
A five-minute tour (README "Trying it"):
$(echo "$tour_cmds" | sed -n 's/^\$ /  /p')

A guest with a shell: lvmm run -k /Image -i /guest.cpio -p "rdinit=/init lvmm.mode=shell"
(Ctrl-A x quits it). poweroff -f leaves this host.
MSG
cd /root
setsid cttyhack sh -l
