# bash completion for wiremesh(8)                          -*- shell-script -*-

# Peer public keys from the running agent, for "wiremesh path/ping PEER".
_wiremesh_peer_keys()
{
    local sock=$1
    wiremesh peers ${sock:+--socket "$sock"} 2>/dev/null |
        grep -oE '[A-Za-z0-9+/_-]{42,43}=?' | sort -u
}

_wiremesh()
{
    local cur prev words cword
    _init_completion -n =: || return

    local commands="agent relay genkey pubkey genpsk status peers path ping netcheck version help"
    local cmd="" i sock="" args=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --socket) sock=${words[i + 1]}; ((i++)) ;;
        -*) ;;
        *)
            if [[ -z $cmd ]]; then cmd=${words[i]}; else ((args++)); fi
            ;;
        esac
    done

    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return
    fi

    case $prev in
    --config)
        _filedir conf
        return
        ;;
    --socket)
        COMPREPLY=($(compgen -f -X '!*.sock' -- "${cur:-/run/wiremesh/}"))
        [[ ${#COMPREPLY[@]} -eq 0 ]] && _filedir
        return
        ;;
    esac

    case $cmd in
    agent | relay)
        COMPREPLY=($(compgen -W "--config --check-config" -- "$cur"))
        ;;
    status)
        COMPREPLY=($(compgen -W "--json --socket" -- "$cur"))
        ;;
    peers)
        COMPREPLY=($(compgen -W "--socket" -- "$cur"))
        ;;
    netcheck)
        COMPREPLY=($(compgen -W "--json --socket" -- "$cur"))
        ;;
    ping)
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "-c -t --json --socket" -- "$cur"))
        elif ((args == 0)); then
            COMPREPLY=($(compgen -W "$(_wiremesh_peer_keys "$sock")" -- "$cur"))
        fi
        ;;
    path)
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--socket" -- "$cur"))
        elif ((args == 0)); then
            COMPREPLY=($(compgen -W "$(_wiremesh_peer_keys "$sock")" -- "$cur"))
        elif ((args == 1)); then
            COMPREPLY=($(compgen -W "auto direct relay" -- "$cur"))
        fi
        ;;
    esac
} &&
    complete -F _wiremesh wiremesh

# ex: filetype=sh
