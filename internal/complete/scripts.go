package complete

import (
	"fmt"
	"strings"
)

// Shells are the shells robo completes in.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

// Script is the completion script of shell for the program prog (robo,
// found on PATH when the user presses Tab). Each is a thin client of
// "prog completion __complete": the candidates come from the program, so a script
// never goes stale when robo gains a command or an option.
func Script(shell, prog string) (string, error) {
	var s string
	switch shell {
	case "bash":
		s = bashScript
	case "zsh":
		s = zshScript
	case "fish":
		s = fishScript
	case "powershell", "pwsh":
		s = powershellScript
	default:
		return "", fmt.Errorf("unknown shell %q (robo completes in %s)", shell, strings.Join(Shells, ", "))
	}
	return strings.ReplaceAll(s, "@PROG@", prog), nil
}

// bashScript: bash 4+ (complete -F, compopt, mapfile). COMP_WORDS is split
// at "=" (COMP_WORDBREAKS); robo rejoins "-target = do" and answers whole
// words, which are cut back here to the part bash replaces.
const bashScript = `# bash completion for @PROG@ (robo completion bash). Load it with
#   source <(@PROG@ completion bash)
# or install it in ~/.bashrc with: @PROG@ completion install bash
_@PROG@_complete() {
    local cword=$COMP_CWORD
    local cur=${COMP_WORDS[cword]}
    local out
    out=$(command @PROG@ completion __complete -cur="$cur" -- "${COMP_WORDS[@]:1:cword-1}" 2>/dev/null) || return 0
    COMPREPLY=()
    case ${out%%$'\n'*} in
    :files)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0 ;;
    :dirs)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return 0 ;;
    esac
    [[ $out == *$'\n'* ]] || return 0
    local cut=
    if [[ $cur == "=" || ( $cword -gt 1 && ${COMP_WORDS[cword-1]} == "=" ) ]]; then
        cut=1
    fi
    local line
    while IFS= read -r line; do
        line=${line%%$'\t'*}
        [[ -n $line ]] || continue
        if [[ -n $cut ]]; then
            line=${line#*=}
            [[ $cur == "=" ]] && line="=$line"
        fi
        COMPREPLY+=("$line")
    done <<<"${out#*$'\n'}"
    # An option that takes a value is completed without a trailing space
    # when it ends in "=".
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -F _@PROG@_complete @PROG@
`

// zshScript: compdef, with descriptions through _describe.
const zshScript = `#compdef @PROG@
# zsh completion for @PROG@ (robo completion zsh). Load it with
#   source <(@PROG@ completion zsh)
# after compinit, or install it in ~/.zshrc with: @PROG@ completion install zsh
_@PROG@() {
    local out
    out=$(command @PROG@ completion __complete -cur="${words[CURRENT]}" -- "${(@)words[2,CURRENT-1]}" 2>/dev/null) || return 1
    local -a lines cands
    lines=("${(@f)out}")
    case ${lines[1]} in
    :files) _files; return ;;
    :dirs) _files -/; return ;;
    esac
    local line word desc
    for line in "${(@)lines[2,-1]}"; do
        [[ -n $line ]] || continue
        word=${line%%$'\t'*}
        desc=
        [[ $line == *$'\t'* ]] && desc=${line#*$'\t'}
        if [[ -n $desc ]]; then
            cands+=("${word//:/\\:}:$desc")
        else
            cands+=("${word//:/\\:}")
        fi
    done
    (( ${#cands} )) || return 1
    _describe -t values '@PROG@' cands
}
if (( $+functions[compdef] )); then
    compdef _@PROG@ @PROG@
fi
`

// fishScript: one complete rule whose candidates come from robo; fish shows
// the tab-separated descriptions itself.
const fishScript = `# fish completion for @PROG@ (robo completion fish). Install it with
#   @PROG@ completion install fish
# (it writes ~/.config/fish/completions/@PROG@.fish).
function __@PROG@_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out (command @PROG@ completion __complete -cur="$cur" -- $tokens[2..-1] 2>/dev/null)
    or return
    switch "$out[1]"
        case :files
            __fish_complete_path "$cur"
        case :dirs
            __fish_complete_directories "$cur"
        case '*'
            printf '%s\n' $out[2..-1]
    end
end
complete -c @PROG@ -f -a '(__@PROG@_complete)'
`

// powershellScript: Register-ArgumentCompleter -Native. An empty list lets
// PowerShell complete paths itself (:files, :dirs).
const powershellScript = `# PowerShell completion for @PROG@ (robo completion powershell). Load it with
#   @PROG@ completion powershell | Out-String | Invoke-Expression
# or install it in $PROFILE with: @PROG@ completion install powershell
Register-ArgumentCompleter -Native -CommandName @PROG@, @PROG@.exe -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $before = @()
    foreach ($e in ($commandAst.CommandElements | Select-Object -Skip 1)) {
        if ($e.Extent.EndOffset -lt $cursorPosition) {
            $before += $e.Extent.Text
        }
    }
    $out = @(& @PROG@ completion __complete "-cur=$wordToComplete" -- @before 2>$null)
    if ($out.Count -lt 2 -or $out[0] -ne ':words') { return }
    foreach ($line in ($out | Select-Object -Skip 1)) {
        $word, $desc = $line -split "` + "`" + `t", 2
        if (-not $word) { continue }
        if (-not $desc) { $desc = $word }
        [System.Management.Automation.CompletionResult]::new($word, $word, 'ParameterValue', $desc)
    }
}
`
