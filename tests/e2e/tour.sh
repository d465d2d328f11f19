# SPDX-License-Identifier: GPL-2.0
# The five-minute tour of lvmm on the emulated arm64 host (make shell shows
# it; make shell SCRIPT=1 runs it and checks what each step prints).
# Lines starting with "$ " are the commands, as the README lists them.
tour_cmds='
$ lvmm --version
$ lvmm run -k /Image -i /guest.cpio -m 128 --name g1 -d /root/disk.img -p "rdinit=/init lvmm.mode=counter" </dev/null >/tmp/g1.log 2>&1 &
$ sleep 8; lvmm list
$ tail -n 2 /tmp/g1.log
$ lvmm pause g1; lvmm resume g1
$ lvmm snapshot g1 /tmp/g1.snap --stop
$ lvmm restore /tmp/g1.snap </dev/null >/tmp/g1b.log 2>&1 &
$ sleep 5; lvmm list; tail -n 2 /tmp/g1b.log
$ lvmm stop g1
'
