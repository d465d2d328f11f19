# SPDX-License-Identifier: GPL-2.0
# The hostile bare-metal guest's tests alone (E2E_ONLY=hostile), for working
# on them; the full run gets them from l1-tests.sh after the virtio suites.
. /e2e/l1-virtio.sh

hostile_suites() {
	hostile_test
}
