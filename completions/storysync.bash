# bash completion for storysync(1)

_storysync()
{
	local cur prev cmd i word
	local global_opts='-C -c -q --quiet -v --verbose --json --version -h --help'
	local sync_opts='--full --git --dry-run --force --wait --wait= --backlog'
	local commands='sync init status metrics check conflicts install-hooks history help'

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	-C)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	-c)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	esac

	# The command is the first word that is neither an option nor the
	# argument of -C or -c.
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		-C | -c) ((i++)) ;;
		-*) ;;
		*)
			cmd=$word
			break
			;;
		esac
	done

	case $cmd in
	'')
		# sync is the default command: its options work without it.
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global_opts $sync_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		;;
	sync)
		COMPREPLY=($(compgen -W "$sync_opts" -- "$cur"))
		;;
	install-hooks)
		COMPREPLY=($(compgen -W '--uninstall' -- "$cur"))
		;;
	history)
		COMPREPLY=($(compgen -W '--backfill' -- "$cur"))
		;;
	conflicts)
		COMPREPLY=($(compgen -W '--resolve' -- "$cur"))
		;;
	help)
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		;;
	init | status | metrics | check) ;;
	esac
	[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
	return 0
}

complete -F _storysync storysync
