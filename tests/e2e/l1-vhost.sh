# SPDX-License-Identifier: GPL-2.0
# vhost-net (-n mode=tap,...,vhost=1), sourced by l1-tests.sh inside the L1
# host (E2E_ONLY=vhost runs it alone). The virtio suite runs its network
# checks with vhost=1 on half its guests; here the guest (guest-init's
# netloop mode) fetches a 4 MiB blob from L1 over and over, checking every
# copy, while a full snapshot and then a diff of it (--stop) are taken and
# the chain is restored in a new lvmm. Between the two snapshots the kernel
# wrote receive buffers and used rings in guest RAM behind lvmm's back: the
# diff holds them only if the kernel logged them (its dirty log), and the
# restored guest fetches on only if the diff holds them.

export LVMM_RUNTIME_DIR=/tmp/lvmm-run
vh=/tmp/vhost
# Its own subnet: the hostile tests' tapH is 169.254.20.1.

vhost_setup_once() {
	[ -d $vh ] && return 0
	mkdir -p $vh/www
	tunctl -t tapV >/dev/null
	ifconfig tapV 169.254.30.1 netmask 255.255.255.0 up
	head -c 4194304 /dev/urandom >$vh/www/blob
	httpd -p 169.254.30.1:8081 -h $vh/www
}

# net_round FILE: the guest's last good fetch.
net_round() { tr -d '\r' <"$1" | sed -n 's/^NET-OK r=\([0-9]*\).*/\1/p' | tail -n 1; }
# net_field FILE KEY: KEY=... of lvmm's --stats line for virtio-net0.
net_field() { tr -d '\r' <"$1" | grep "^lvmm-dev: virtio-net0" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# netloop_vm NAME OUT lvmm-run-args...: a netloop guest on tapV with
# vhost=1 in the background ($pid), false if it did not fetch twice.
netloop_vm() {
	local name=$1 out=$2
	shift 2
	"$LVMM" run -k /Image -i /guest.cpio -m 256 --name "$name" --stats \
		-n mode=tap,tapif=tapV,vhost=1 -p "$GUEST_PARAMS lvmm.mode=netloop" "$@" </dev/null >"$out" 2>&1 &
	pid=$!
	wait_for "^NET-OK r=1 " "$out" 180
}

# netloop_bad FILE...: what went wrong in these runs of one guest (empty:
# nothing): a bad copy, TCP checksum errors, the kernel given up on, or
# frames through lvmm instead of the kernel.
netloop_bad() {
	local f last=$(eval echo \${$#}) bad=""
	grep -q "^NET-FIRST $(sha256sum <$vh/www/blob | cut -d' ' -f1)" "$1" || bad="$bad first copy wrong;"
	grep -q "^NET-BAD" "$@" && bad="$bad bad copies: $(grep -h '^NET-BAD' "$@" | head -n 2 | tr '\n' ' ');"
	[ "$(tr -d '\r' <"$last" | sed -n 's/^NET-OK .*csumerr=//p' | tail -n 1)" = 0 ] ||
		bad="$bad TCP checksum errors: $(tr -d '\r' <"$last" | grep '^NET-OK' | tail -n 1);"
	grep -q "vhost-net:\|needs a reset" "$@" && bad="$bad $(grep -h 'vhost-net:\|needs a reset' "$@" | head -n 2);"
	# Frames went through the kernel, none through lvmm; its signals went
	# to KVM (MSI-X) or through lvmm.
	for f in "$@"; do
		[ "$(net_field "$f" vhost)" = 1 ] && [ "$(net_field "$f" tx_frames)" = 0 ] &&
			{ [ "$(net_field "$f" vhost_direct)" = 2 ] ||
			  [ "$(net_field "$f" vhost_signals)" -gt 0 ] 2>/dev/null; } ||
			bad="$bad $(basename "$f") stats: $(tr -d '\r' <"$f" | grep '^lvmm-dev: virtio-net0');"
	done
	echo "$bad"
}

# vhost_chain_test MODEL TRANSPORT
vhost_chain_test() {
	local m=$1 tr=$2 t="$tag/vhost/$2-$1-snapshot-diff-restore" name=vh-$2 r0 bad=""
	local s0=$vh/vh-$2-s0 s1=$vh/vh-$2-s1 out=$vh/vh-$2.out out2=$vh/vh-$2r.out
	rm -rf "$s0" "$s1"
	if ! netloop_vm "$name" "$out" --irqchip "$m" --virtio-transport "$tr"; then
		fail "$t" "the guest did not fetch twice" "$out"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		return
	fi
	# Tracking is on from the full snapshot: the kernel logs from there.
	if ! "$LVMM" snapshot "$name" "$s0" >$vh/snap.log 2>&1; then
		fail "$t" "full snapshot: $(cat $vh/snap.log)" "$out"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		return
	fi
	r0=$(net_round "$out")
	wait_for "^NET-OK r=$((r0 + 2)) " "$out" 180
	if ! "$LVMM" snapshot "$name" "$s1" --diff-from "$s0" --stop >>$vh/snap.log 2>&1; then
		fail "$t" "diff snapshot: $(cat $vh/snap.log)" "$out"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		return
	fi
	wait $pid
	r0=$(net_round "$out")
	"$LVMM" restore "$s1" --name "${name}r" --stats </dev/null >"$out2" 2>&1 &
	pid=$!
	wait_for "^NET-OK r=$((r0 + 3)) " "$out2" 240 ||
		bad="the restored guest did not fetch 3 more times after round $r0;"
	"$LVMM" stop "${name}r" >/dev/null 2>&1
	wait $pid 2>/dev/null
	bad="$bad$(netloop_bad "$out" "$out2")"
	if [ -z "$bad" ]; then
		pass "$t (restored at round $r0, on to $(net_round "$out2"))"
	else
		fail "$t" "$bad" "$out2"
	fi
}

# A migration attempt within this host: the kernel's rings restart with its
# log on while the guest fetches (the first round), the destination cannot
# attach the tap the source still holds and starts nothing, and the
# source's guest fetches on, its rings restarted once more without the log.
vhost_migrate_attempt_test() {
	local t="$tag/vhost/migrate-attempt-source-fetches-on" out=$vh/vhm.out dout=$vh/vhmd.out
	local rc r0 dpid bad=""
	if ! netloop_vm vhm "$out" --irqchip "$1"; then
		fail "$t" "the guest did not fetch twice" "$out"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		return
	fi
	"$LVMM" run --incoming unix:$vh/mig.sock --name vhmd </dev/null >"$dout" 2>&1 &
	dpid=$!
	wait_for "waiting for a migration on" "$dout" 30
	"$LVMM" migrate vhm unix:$vh/mig.sock >$vh/mig.reply 2>&1
	rc=$?
	wait $dpid 2>/dev/null
	r0=$(net_round "$out")
	if [ $rc != 1 ] || ! grep -q "tapV.*the VM runs on here" $vh/mig.reply; then
		bad="lvmm migrate: status $rc: $(cat $vh/mig.reply);"
	elif ! wait_for "^NET-OK r=$((r0 + 3)) " "$out" 180; then
		bad="the source's guest did not fetch 3 more times after round $r0;"
	fi
	"$LVMM" stop vhm >/dev/null 2>&1
	wait $pid 2>/dev/null
	kill -9 $dpid 2>/dev/null
	bad="$bad$(netloop_bad "$out")"
	if [ -z "$bad" ]; then
		pass "$t ($(cat $vh/mig.reply | head -c 160))"
	else
		fail "$t" "$bad" "$out"
	fi
}

vhost_suites() {
	vhost_setup_once
	local m
	m=$(echo $models | cut -d' ' -f1)
	vhost_chain_test "$m" pci
	vhost_chain_test "$m" mmio
	vhost_migrate_attempt_test "$m"
	# Without the kernel's device: one line saying so, nothing started.
	mv /dev/vhost-net /dev/vhost-net.hidden
	expect_error "$tag/vhost/err-no-dev-vhost-net" 1 \
		"vhost=1: /dev/vhost-net: No such file or directory (the host kernel needs CONFIG_VHOST_NET: modprobe vhost_net)" \
		run -k /Image -n mode=tap,tapif=tapV,vhost=1
	mv /dev/vhost-net.hidden /dev/vhost-net
	expect_error "$tag/vhost/err-user-mode" 2 "vhost=1 needs mode=tap" run -k /Image -n mode=user,vhost=1
}
