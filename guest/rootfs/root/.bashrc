# The reader's shell. The prompt carries invisible OSC 133 ("semantic prompt") marks for the host:
# D;<status>;<key> (the last command finished), A (prompt start) and, at its end,
# B;<command number>;<key> (readline is listening). The element's run() takes a command's output up
# to D and types the next one after B, so nothing typed is echoed twice. The number tells a new
# prompt from the same prompt redrawn (readline redraws it when the terminal is resized). The key
# is this boot's secret, which the host gives dt-init's agent (/run/dt-mark), so that a command's
# output cannot end a run() early. The host's side: src/protocol/prompt.ts.
PROMPT_COMMAND='dt_status=$?; read -r dt_mark 2>/dev/null </run/dt-mark || dt_mark='
PS1='\[\e]133;D;${dt_status};${dt_mark}\a\e]133;A\a\]\[\e[1;34m\]\w\[\e[0m\] \$ \[\e]133;B;\#;${dt_mark}\a\]'
HISTCONTROL=ignoreboth
alias ls='ls --color=auto'
