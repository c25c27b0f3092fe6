# fish completion for storysync(1)

set -l commands sync init status metrics check conflicts install-hooks history help

# sync is the default command: its options work without the word sync.
set -l no_cmd "not __fish_seen_subcommand_from $commands"
set -l sync_ok "$no_cmd; or __fish_seen_subcommand_from sync"

complete -c storysync -f

# Global options.
complete -c storysync -n $no_cmd -s C -xa '(__fish_complete_directories)' -d 'Run as if started in DIR'
complete -c storysync -n $no_cmd -s c -r -F -d 'Use this configuration file'
complete -c storysync -n $no_cmd -s q -l quiet -d 'Print errors only'
complete -c storysync -n $no_cmd -s v -l verbose -d 'Print one line per change'
complete -c storysync -n $no_cmd -l json -d 'Print JSON for programs'
complete -c storysync -n $no_cmd -l version -d 'Print the version and exit'
complete -c storysync -n $no_cmd -s h -l help -d 'Print a summary and exit'

# Commands.
complete -c storysync -n $no_cmd -a sync -d 'Synchronise files and database (default)'
complete -c storysync -n $no_cmd -a init -d 'Write .storysync.yml, create or migrate the DB'
complete -c storysync -n $no_cmd -a status -d 'Is sync healthy? Verdict, last runs, pending, conflicts'
complete -c storysync -n $no_cmd -a metrics -d 'Print the Prometheus text format of the same facts'
complete -c storysync -n $no_cmd -a check -d 'Validate stories and dependencies'
complete -c storysync -n $no_cmd -a conflicts -d 'List or show recorded conflicts'
complete -c storysync -n $no_cmd -a install-hooks -d 'Install the git hooks'
complete -c storysync -n $no_cmd -a history -d 'Fill the status history from git'
complete -c storysync -n $no_cmd -a help -d 'Print the help, or a command'"'"'s'
complete -c storysync -n '__fish_seen_subcommand_from help' -a 'sync init status metrics check conflicts install-hooks history'

# sync.
complete -c storysync -n $sync_ok -l full -d 'Hash every file, compare every row'
complete -c storysync -n $sync_ok -l git -d 'Candidates from the git diff since the last sync'
complete -c storysync -n $sync_ok -l dry-run -d 'Plan and report, write nothing'
complete -c storysync -n $sync_ok -l force -d 'Go on where a guard stopped the run'
complete -c storysync -n $sync_ok -l backlog -x -d 'Sync only this backlog (repeatable)'
complete -c storysync -n $sync_ok -l wait -d 'Wait for the lock and the API writer [=SECONDS]'

# install-hooks, history, conflicts.
complete -c storysync -n '__fish_seen_subcommand_from conflicts' -l resolve -d 'Mark the conflict, or every open one, resolved'
complete -c storysync -n '__fish_seen_subcommand_from install-hooks' -l uninstall -d 'Remove the hooks, restore chained ones'
complete -c storysync -n '__fish_seen_subcommand_from history' -l backfill -d 'Record status changes from past commits'
