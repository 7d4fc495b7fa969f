#!/usr/bin/env bash
# Shell completion of scanfw, run without a terminal: bash sources the completion, sets
# COMP_WORDS/COMP_CWORD and calls _scanfw, as readline would; once alone and once with
# Debian's bash-completion loaded. zsh (when installed) runs it through bashcompinit,
# and completes a real command line in a pseudo-terminal (zpty) through the _scanfw
# file. What is expected comes from the binary: every option of --help, every plugin
# of --list-plugins, the installed profiles.
#   completion.sh SCANFW BASH_COMPLETION ZSH_COMPLETION
set -euo pipefail
scanfw=$1 bash_completion=$2 zsh_completion=$3
for f in "$scanfw" "$bash_completion" "$zsh_completion"; do
    [ -e "$f" ] || { echo "FAIL: $f does not exist"; exit 1; }
done
scanfw=$(realpath -s "$scanfw") bash_completion=$(realpath "$bash_completion") zsh_completion=$(realpath "$zsh_completion")
work=$(mktemp -d "${TMPDIR:-/tmp}/completion.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0 checks=0
bad() { echo "FAIL: $*"; fail=1; }

# What must be offered, from the binary itself.
plugins=$("$scanfw" --list-plugins | awk 'NR > 1 && /^[a-z0-9_-]+ / { print $1 }' | sort)
[ "$(wc -l <<<"$plugins")" -ge 2 ] || { echo "FAIL: --list-plugins lists fewer than 2 plugins: $plugins"; exit 1; }
grep -qx syn <<<"$plugins" && grep -qx udp <<<"$plugins" || { echo "FAIL: no syn or udp plugin"; exit 1; }
long_options=$("$scanfw" --help | grep -oE '^ +-[^ ]+' | tr ',' '\n' | grep -E '^ *--' | tr -d ' ' | sort -u)
[ "$(wc -l <<<"$long_options")" -ge 10 ] || { echo "FAIL: found too few options in --help"; exit 1; }
profile_dir=$(dirname "$(readlink -f "$scanfw")")/../share/scanfw/profiles
profiles=""
[ -d "$profile_dir" ] && profiles=$(find "$profile_dir" -maxdepth 1 -name '*.yaml' -printf '%f\n' | sed 's/\.yaml$//' | sort)

# A folder to complete file names in.
mkdir "$work/files" "$work/files/sub"
touch "$work/files/out.xml" "$work/files/targets.txt" "$work/files/mine.yaml"

# run_bash MODE: prints "WORDS => CANDIDATES" for each case, MODE plain or full.
run_bash() {
    (
        cd "$work/files"
        export HOME=$work
        bash --norc --noprofile -s "$1" "$scanfw" "$bash_completion" <<'EOF'
mode=$1 scanfw=$2 file=$3
if [ "$mode" = full ]; then
    [ -r /usr/share/bash-completion/bash_completion ] || { echo "NO-BASH-COMPLETION"; exit 0; }
    source /usr/share/bash-completion/bash_completion
fi
source "$file"
complete -p scanfw >/dev/null || { echo "NOT-REGISTERED"; exit 0; }
c() { # c WORD...: complete the last word
    COMP_WORDS=("$scanfw" "$@") COMP_CWORD=$#
    COMP_LINE="${COMP_WORDS[*]}" COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _scanfw scanfw "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s => %s\n' "$*" "$(printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' ')"
}
c --plu
c --plugin ""
c --plugin syn,u
c -oX ""
c -oG ""
c -oN ""
c -oJ o
c -oA ""
c --output-xml ""
c --profile ""
c -T ""
c --
c --plugin syn -p 22 19
EOF
    )
}

# expect OUTPUT WORDS WORD...: the candidates for WORDS include each WORD.
expect() {
    local out=$1 words=$2 line w
    shift 2
    checks=$((checks + 1))
    line=$(awk -v p="$words => " 'index($0, p) == 1 { print; exit }' <<<"$out")
    [ -n "$line" ] || { bad "[$words<TAB>] was not completed"; return; }
    for w in "$@"; do
        [[ " ${line#* => } " == *" $w "* ]] || bad "[$words<TAB>] offers '${line#* => }', not '$w'"
    done
}
# expect_not OUTPUT WORDS WORD...: ... and none of these.
expect_not() {
    local out=$1 words=$2 line w
    shift 2
    line=$(awk -v p="$words => " 'index($0, p) == 1 { print; exit }' <<<"$out")
    for w in "$@"; do
        [[ " ${line#* => } " != *" $w "* ]] || bad "[$words<TAB>] offers '$w'"
    done
}

check_output() { # check_output NAME OUTPUT
    local name=$1 out=$2
    echo "== $name"
    echo "$out" | sed 's/^/   /'
    grep -q NOT-REGISTERED <<<"$out" && { bad "$name: the completion does not register itself for scanfw"; return; }
    expect "$out" "--plu" --plugin --plugin-dir
    # shellcheck disable=SC2086
    expect "$out" '--plugin ' $plugins
    expect "$out" "--plugin syn,u" syn,udp
    for o in -oX -oG -oN -oA --output-xml; do expect "$out" "$o " out.xml targets.txt; done
    expect "$out" "-oJ o" out.xml
    expect "$out" "--profile " mine.yaml $profiles
    expect_not "$out" "--profile " targets.txt out.xml
    expect "$out" "-T " 0 1 2 3 4 5
    # shellcheck disable=SC2086
    expect "$out" "--" $long_options
    expect_not "$out" "--plugin syn -p 22 19" --plugin  # a target is no option
}

check_output "bash" "$(run_bash plain)"
full=$(run_bash full)
if grep -q NO-BASH-COMPLETION <<<"$full"; then
    bad "bash-completion is not installed (apt-get install bash-completion)"
else
    check_output "bash with bash-completion" "$full"
fi

# zsh: the same function through bashcompinit, then the _scanfw file in a terminal.
if command -v zsh >/dev/null; then
    zout=$(cd "$work/files" && HOME=$work zsh -f -s "$scanfw" "$bash_completion" <<'EOF'
scanfw=$1
autoload -Uz compinit && compinit -u -D
autoload -Uz bashcompinit && bashcompinit
source $2
setopt ksharrays
c() {
    COMP_WORDS=($scanfw "$@"); COMP_CWORD=$#; COMPREPLY=()
    _scanfw
    print -r -- "$* => ${(j: :)${(ou)COMPREPLY[@]}}"
}
c --plu
c --plugin ""
c -oX ""
EOF
    ) || true
    echo "== zsh (bashcompinit)"
    echo "$zout" | sed 's/^/   /'
    expect "$zout" "--plu" --plugin
    # shellcheck disable=SC2086
    expect "$zout" '--plugin ' $plugins
    expect "$zout" "-oX " out.xml

    # The installed layout: <prefix>/share/zsh/vendor-completions/_scanfw finds the bash
    # completion at <prefix>/share/bash-completion/completions/scanfw.
    mkdir -p "$work/prefix/bin" "$work/prefix/share/zsh/vendor-completions" "$work/prefix/share/bash-completion/completions"
    ln -s "$(readlink -f "$scanfw")" "$work/prefix/bin/scanfw"
    cp "$zsh_completion" "$work/prefix/share/zsh/vendor-completions/_scanfw"
    cp "$bash_completion" "$work/prefix/share/bash-completion/completions/scanfw"
    ztty=$(cd "$work/files" && timeout 60 zsh -f -s "$work" <<'EOF'
work=$1
zmodload zsh/zpty
zpty z "env -i HOME=$work TERM=vt100 PATH=$work/prefix/bin:/usr/bin:/bin zsh -f -i"
zpty -w z "fpath=($work/prefix/share/zsh/vendor-completions \$fpath); autoload -Uz compinit; compinit -u -D; PS1='%% '; echo RE''ADY"
zpty -r z line '*READY*' || exit 1
# Complete, then go to the start of the line and make it an echo of what was completed.
zpty -w -n z $'scanfw --plugin-di\t'; sleep 1; zpty -w -n z $'\C-aecho WORD1: \n'
zpty -r z line '*WORD1: scanfw --plugin-dir*' && print "zpty: --plugin-di -> --plugin-dir"
zpty -w -n z $'scanfw --plugin sy\t'; sleep 1; zpty -w -n z $'\C-aecho WORD2: \n'
zpty -r z line '*WORD2: scanfw --plugin syn*' && print "zpty: --plugin sy -> --plugin syn"
zpty -d z
EOF
    ) || true
    echo "== zsh in a terminal (zpty), through _scanfw"
    echo "$ztty" | sed 's/^/   /'
    checks=$((checks + 1))
    grep -q -- "--plugin-di -> --plugin-dir" <<<"$ztty" || bad "zsh did not complete 'scanfw --plugin-di<TAB>'"
    checks=$((checks + 1))
    grep -q -- "--plugin sy -> --plugin syn" <<<"$ztty" || bad "zsh did not complete 'scanfw --plugin sy<TAB>'"
else
    echo "== zsh is not installed: its completion is not checked"
fi

if [ "$fail" = 0 ]; then echo "completion: $checks checks passed"; else echo "completion: FAILED"; fi
exit "$fail"
