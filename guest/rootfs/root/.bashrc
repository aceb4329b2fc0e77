# The reader's shell. The prompt carries invisible OSC 133 ("semantic prompt") marks for the host:
# D;<status> (the last command finished), A (prompt start) and, at its end, B;<command number>
# (readline is listening). The element's run() takes a command's output up to D and types the next
# one after B, so nothing typed is echoed twice. The number tells a new prompt from the same prompt
# redrawn (readline redraws it when the terminal is resized). The host's side: src/protocol/prompt.ts.
PS1='\[\e]133;D;$?\a\e]133;A\a\]\[\e[1;34m\]\w\[\e[0m\] \$ \[\e]133;B;\#\a\]'
HISTCONTROL=ignoreboth
alias ls='ls --color=auto'
