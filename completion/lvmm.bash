# SPDX-License-Identifier: GPL-2.0
# bash completion for lvmm: verbs, the options of each, running VM names
# (from lvmm list) and files where an option takes one. tests/unit/test_docs.c
# checks that every option of "lvmm run --help" is listed here.

_lvmm_vms()
{
	lvmm list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_lvmm()
{
	local cur prev verb
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	verb=${COMP_WORDS[1]}

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "run sandbox restore list pause resume stop snapshot migrate help version --help --version" -- "$cur"))
		return
	fi
	case "$verb" in
	run|sandbox)
		case "$prev" in
		-k|--kernel|-i|--initrd|-d|--disk|--dump-dtb|--restore)
			COMPREPLY=($(compgen -f -- "$cur")); return ;;
		--hugetlbfs|--9p)
			COMPREPLY=($(compgen -d -- "$cur")); return ;;
		--irqchip)
			COMPREPLY=($(compgen -W "auto gicv2 gicv3 gicv3-its" -- "$cur")); return ;;
		--console)
			COMPREPLY=($(compgen -W "serial virtio" -- "$cur")); return ;;
		--virtio-transport)
			COMPREPLY=($(compgen -W "pci mmio" -- "$cur")); return ;;
		--clock)
			COMPREPLY=($(compgen -W "resume advance" -- "$cur")); return ;;
		--seccomp)
			COMPREPLY=($(compgen -W "on log off" -- "$cur")); return ;;
		--loglevel)
			COMPREPLY=($(compgen -W "error warning info debug" -- "$cur")); return ;;
		-n|--network)
			COMPREPLY=($(compgen -W "mode=user mode=user,hostfwd=tcp: mode=tap,tapif= mode=none" -- "$cur")); return ;;
		-p|--params|-m|--mem|-c|--cpus|--name|--kaslr-seed|--stats-marker|--vfio-platform|--vfio-pci)
			return ;;
		esac
		COMPREPLY=($(compgen -W "--kernel --initrd --params --mem --cpus --irqchip --console
			--virtio-transport --disk --network --rng --9p --hugetlbfs --restore --incoming --clock
			--copy-memory --name --vfio-platform --vfio-pci --nodefaults --loglevel --debug
			--kaslr-seed --disable-mte --no-pvtime --no-dhcp --dump-dtb --stats
			--stats-marker --seccomp --flat --help" -- "$cur"))
		[ ${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
		;;
	restore)
		case "$prev" in
		--clock) COMPREPLY=($(compgen -W "resume advance" -- "$cur")); return ;;
		--seccomp) COMPREPLY=($(compgen -W "on log off" -- "$cur")); return ;;
		--name) return ;;
		esac
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--name --clock --copy-memory --stats --seccomp" -- "$cur"))
		fi
		;;
	list)
		COMPREPLY=($(compgen -W "--json" -- "$cur"))
		;;
	pause|resume|stop)
		if [ "$prev" = -n ] || [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "$(_lvmm_vms) -n -a --all --json" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--json" -- "$cur"))
		fi
		;;
	snapshot)
		case "$COMP_CWORD" in
		2) COMPREPLY=($(compgen -W "$(_lvmm_vms)" -- "$cur")) ;;
		3) COMPREPLY=($(compgen -d -- "$cur")) ;;
		*) if [ "$prev" = --diff-from ]; then COMPREPLY=($(compgen -d -- "$cur"));
		   else COMPREPLY=($(compgen -W "--stop --diff-from --json" -- "$cur")); fi ;;
		esac
		;;
	migrate)
		case "$COMP_CWORD" in
		2) COMPREPLY=($(compgen -W "$(_lvmm_vms)" -- "$cur")) ;;
		3) COMPREPLY=($(compgen -W "unix: tcp:" -- "$cur")) ;;
		*) [ "$prev" = --downtime ] || COMPREPLY=($(compgen -W "--downtime --json" -- "$cur")) ;;
		esac
		;;
	esac
}
complete -F _lvmm lvmm
