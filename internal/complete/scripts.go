package complete

import (
	"fmt"
	"strings"

	"github.com/ferryhq/ferry/spec"
)

// Shells are the shells Script writes for.
var Shells = []string{"bash", "zsh", "fish"}

// Script returns the completion script of prog for shell. Each script
// runs the program being completed (its first word, so ./bin/ferry
// completes with itself) as `prog hidden WORDS...`, which prints what
// Write prints.
func Script(shell, prog, hidden string) (string, error) {
	var tmpl string
	switch shell {
	case "bash":
		tmpl = bashScript
	case "zsh":
		tmpl = zshScript
	case "fish":
		tmpl = fishScript
	default:
		return "", fmt.Errorf("shell %q: completion is written for %s: %w", shell, strings.Join(Shells, ", "), spec.ErrBadInput)
	}
	return strings.NewReplacer("PROG", prog, "HIDDEN", hidden).Replace(tmpl), nil
}

// bash splits the word being completed at COMP_WORDBREAKS (":" and "="
// among them), so the script reads the line itself and hands bash only
// what follows the last break.
const bashScript = `# bash completion for PROG, written by "PROG completion bash" from its command definitions.
# Load it with:  source <(PROG completion bash)
_PROG_complete() {
    local line="${COMP_LINE:0:COMP_POINT}"
    local -a words
    read -r -a words <<< "$line"
    [[ -z "$line" || "$line" =~ [[:space:]]$ ]] && words+=("")
    local cur="${words[${#words[@]}-1]}"
    local brk="${cur%"${cur##*[:=]}"}"
    local -a cands
    mapfile -t cands < <("${words[0]}" HIDDEN "${words[@]:1}" 2>/dev/null)
    COMPREPLY=()
    local c
    for c in "${cands[@]}"; do
        c="${c%%$'\t'*}"
        COMPREPLY+=("${c#"$brk"}")
    done
    if [[ ${#COMPREPLY[@]} -eq 1 && "${cands[0]%%$'\t'*}" == *[/:=] ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -F _PROG_complete PROG
`

const zshScript = `#compdef PROG
# zsh completion for PROG, written by "PROG completion zsh" from its command definitions.
# Load it with:  source <(PROG completion zsh)  (after compinit), or save it as _PROG in $fpath.
_PROG() {
    local -a lines vals descs novals nodescs
    local line value help
    lines=("${(@f)$("${words[1]}" HIDDEN "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    for line in "${lines[@]}"; do
        [[ -z "$line" ]] && continue
        value="${line%%$'\t'*}"
        help="${line#*$'\t'}"
        [[ "$help" == "$line" ]] && help=""
        if [[ "$value" == *[/:=] ]]; then
            novals+=("$value"); nodescs+=("$value${help:+  -- $help}")
        else
            vals+=("$value"); descs+=("$value${help:+  -- $help}")
        fi
    done
    (( ${#vals} )) && compadd -Q -l -d descs -- "${vals[@]}"
    (( ${#novals} )) && compadd -Q -S '' -l -d nodescs -- "${novals[@]}"
    return 0
}
if [[ "${funcstack[1]}" == "_PROG" ]]; then
    _PROG "$@"
else
    compdef _PROG PROG
fi
`

const fishScript = `# fish completion for PROG, written by "PROG completion fish" from its command definitions.
# Load it with:  PROG completion fish | source
function __PROG_complete
    set -l tokens (commandline -opc) (commandline -ct)
    $tokens[1] HIDDEN $tokens[2..-1] 2>/dev/null
end
complete -c PROG -f -a '(__PROG_complete)'
`
