# The reader's shell. PROMPT_COMMAND reports each command's exit status to the host with an invisible
# OSC 133 ("semantic prompt") sequence, which the element's run() waits for.
PS1='\[\e[1;34m\]\w\[\e[0m\] \$ '
PROMPT_COMMAND='printf "\033]133;D;%s\007" $?'
HISTCONTROL=ignoreboth
alias ls='ls --color=auto'
