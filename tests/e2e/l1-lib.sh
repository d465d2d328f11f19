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
