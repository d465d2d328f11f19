# SPDX-License-Identifier: GPL-2.0
# The quick guest and user-mode networking, sourced by l1-tests.sh inside
# the L1 host (E2E_ONLY=quick runs only these). L1's own userspace (busybox)
# is "the host's" the guest runs over 9p.
#
# - lvmm run with no argument (the host's kernel from /boot) is a shell;
# - lvmm run -k Image alone reaches a shell prompt on the console, runs the
#   host's programs from 9p, and a file written in its /root is in
#   ~/.lvmm/NAME/root on the host; the VM ends when the shell exits;
# - lvmm sandbox -- CMD exits with CMD's status; its output is on stdout;
# - user networking: the guest gets its address by DHCP, fetches a file
#   from a server on L1 (10.0.2.2 is the host), and L1 fetches one from a
#   server in the guest through hostfwd=; a forward whose port is taken is
#   refused at start;
# - a snapshot of a quick guest is refused, naming why.

quick_home=/tmp/quick-home
# User networking reaches the host's 127.0.0.1, and hostfwd= listens there.
ip link set lo up 2>/dev/null || ifconfig lo up

quick_shell_test() {
	local t="$tag/quick/shell-on-host-userspace" f
	rm -rf $quick_home
	mkdir -p $quick_home
	f=$(outfile "$t")
	printf '%s\n' 'echo QUICK-$((6*7))' 'readlink /bin' \
		'/bin/busybox uname -m' 'echo from-the-guest >/root/note' \
		'grep -c " 9p " /proc/mounts' 'ls /host/lvmm && echo HOST-ROOT-SEEN' 'exit' |
		HOME=$quick_home timeout -s KILL "$GUEST_TIMEOUT" "$LVMM" run -k /Image -m 256 \
			--name qshell >"$f.raw" 2>&1
	rc=$?
	tr -d '\r' <"$f.raw" >"$f"
	if [ "$rc" != 0 ]; then
		fail "$t" "exit status $rc" "$f"
	elif ! grep -q "root@qshell:.*# " "$f"; then
		fail "$t" "no shell prompt" "$f"
	elif ! grep -q "^QUICK-42" "$f" || ! grep -q "^/host/bin" "$f" ||
		! grep -q "^aarch64" "$f" || ! grep -q "^HOST-ROOT-SEEN" "$f"; then
		fail "$t" "the shell did not run the host's programs" "$f"
	elif [ "$(cat $quick_home/.lvmm/qshell/root/note 2>/dev/null)" != from-the-guest ]; then
		fail "$t" "the guest's file is not in ~/.lvmm/qshell/root on the host" "$f"
	elif ! grep -q "no disk or initrd: a quick guest, its root $quick_home/.lvmm/qshell" "$f"; then
		fail "$t" "no line saying what it booted" "$f"
	else
		pass "$t"
	fi
}

# lvmm run with no argument at all, the host's kernel in /boot: a shell.
quick_no_arguments_test() {
	local t="$tag/quick/run-with-no-arguments" f
	mkdir -p /boot
	ln -sf /Image "/boot/Image-$(uname -r)"
	f=$(outfile "$t")
	printf '%s\n' 'echo ZERO-$((6*7))' 'exit' |
		HOME=$quick_home timeout -s KILL "$GUEST_TIMEOUT" "$LVMM" run >"$f.raw" 2>&1
	rc=$?
	rm -f "/boot/Image-$(uname -r)"
	tr -d '\r' <"$f.raw" >"$f"
	if [ "$rc" = 0 ] && grep -q "^ZERO-42" "$f" &&
		grep -q "no --kernel given: booting the host's kernel /boot/Image-" "$f" &&
		grep -q "root@default:" "$f" && [ -x $quick_home/.lvmm/default/virt/init ]; then
		pass "$t"
	else
		fail "$t" "exit status $rc" "$f"
	fi
}

quick_sandbox_test() {
	local t="$tag/quick/sandbox-exit-status" f
	run "$t" env HOME=$quick_home "$LVMM" sandbox -k /Image -m 256 -- sh -c 'echo SANDBOX-RAN-$((3*3)); exit 7'
	f=$(outfile "$t")
	if [ "$rc" != 7 ]; then
		fail "$t" "exit status $rc, expected 7" "$f"
	elif ! grep -q "^SANDBOX-RAN-9" "$f"; then
		fail "$t" "no output of the command" "$f"
	elif [ -e $quick_home/.lvmm/default/virt/sandbox/lvmm-* ] 2>/dev/null; then
		fail "$t" "the run's files are left in virt/sandbox" "$f"
	else
		pass "$t"
	fi
	t="$tag/quick/sandbox-command-not-found"
	run "$t" env HOME=$quick_home "$LVMM" sandbox -k /Image -m 256 -- no-such-command
	[ "$rc" = 127 ] && pass "$t" || fail "$t" "exit status $rc, expected 127" "$(outfile "$t")"
	expect_error "$tag/quick/sandbox-needs-a-quick-guest" 2 "lvmm sandbox runs its command in a quick guest" \
		sandbox -k /Image -i /guest.cpio -- true
	expect_error "$tag/quick/sandbox-needs-a-command" 2 "no command after --" sandbox -k /Image --
}

quick_net_test() {
	local t="$tag/quick/user-net-dhcp-nat-hostfwd" f www=/tmp/quick-www i
	rm -rf $www /quick-fetched
	mkdir -p $www
	echo "from-the-L1-host" >$www/hostfile
	httpd -p 127.0.0.1:18080 -h $www
	f=$(outfile "$t")
	# The guest: its lease, a file from L1 through the NAT, then its own
	# server until L1 says (through /host) that it fetched the guest's file.
	HOME=$quick_home timeout -s KILL "$GUEST_TIMEOUT" "$LVMM" sandbox -k /Image -m 256 \
		--name qnet -n mode=user,hostfwd=tcp:127.0.0.1:18081-:80 -- sh -c '
		cat /etc/resolv.conf
		wget -q -O - http://10.0.2.2:18080/hostfile | sed "s/^/GOT: /"
		mkdir -p /root/www && echo from-the-guest >/root/www/guestfile
		httpd -p 80 -h /root/www && echo GUEST-SERVING
		i=0; while [ ! -e /host/quick-fetched ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
		echo GUEST-DONE' >"$f.raw" 2>&1 &
	local pid=$! got=
	# (L1's static busybox wget crashes; nc speaks the HTTP/1.0 itself.)
	for i in $(seq 90); do
		got=$(printf 'GET /guestfile HTTP/1.0\r\n\r\n' | nc 127.0.0.1 18081 2>/dev/null |
			tr -d '\r' | tail -n 1)
		[ "$got" = from-the-guest ] && break
		sleep 1
	done
	touch /quick-fetched
	wait $pid
	rc=$?
	tr -d '\r' <"$f.raw" >"$f"
	pkill -f "httpd -p 127.0.0.1:18080" 2>/dev/null
	rm -f /quick-fetched
	if [ "$rc" != 0 ]; then
		fail "$t" "exit status $rc" "$f"
	elif ! grep -q "eth0: 10.0.2.15 by DHCP, gateway 10.0.2.2" "$f"; then
		fail "$t" "no DHCP lease" "$f"
	elif ! grep -q "^nameserver 10.0.2.3" "$f"; then
		fail "$t" "no DNS server from DHCP in /etc/resolv.conf" "$f"
	elif ! grep -q "^GOT: from-the-L1-host" "$f"; then
		fail "$t" "the guest did not fetch the host's file through the NAT" "$f"
	elif [ "$got" != from-the-guest ]; then
		fail "$t" "L1 did not fetch the guest's file through hostfwd (got '$got')" "$f"
	else
		pass "$t"
	fi

	# A forward's port already taken: refused before the guest starts.
	httpd -p 127.0.0.1:18082 -h $www
	expect_error "$tag/quick/hostfwd-port-taken" 1 "cannot listen on TCP port 18082" \
		run -k /Image -i /guest.cpio -n mode=user,hostfwd=tcp:127.0.0.1:18082-:80
	pkill -f "httpd -p 127.0.0.1:18082" 2>/dev/null
}

quick_snapshot_refused() {
	HOME=$quick_home snapshot_refused_test "$tag/quick/snapshot-refused" qsnap \
		"cannot snapshot: virtio-net0: a user-mode network (-n mode=user) cannot be checkpointed" \
		-k /Image -i /guest.cpio -m 128 -n mode=user
}

quick_suites() {
	quick_shell_test
	quick_no_arguments_test
	quick_sandbox_test
	quick_net_test
	quick_snapshot_refused
}
