# SPDX-License-Identifier: GPL-2.0
# Helpers shared by the scripts that run inside the L1 host (l1-*.sh and
# bench/*.sh), for busybox sh.

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
