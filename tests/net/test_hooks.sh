#!/usr/bin/env bash
# tests/net/test_hooks.sh — wg-quick's PreUp, PostUp, PreDown, PostDown and
# DNS, run by the agent (issue 15; agent/hooks.h).
#   - the four hooks run in wg-quick's order with %i replaced: PreUp before
#     the interface exists, PostUp once it has its address, PreDown while it
#     still exists, PostDown after it is gone; DNS goes to `resolvconf -a IF
#     -m 0 -x` (a recording resolvconf first on PATH) as wg-quick's lines,
#     and `resolvconf -d IF -f` at stop
#   - a failing PostUp aborts startup (exit 1, interface removed, no PreDown),
#     and the log names the hook, the exit status and its stderr; DNS without
#     a resolvconf on PATH is a warning
#   - a PreDown that needs more than CAP_NET_ADMIN (chown) fails after the
#     agent dropped its capabilities, and the log says it lacked a privilege
#     and where the drop-in is documented
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg ip

TAG=hk$(($$ % 100000))
IF=${TAG}a
F=$LAB_TMP/trace
BIN=$LAB_TMP/bin

lab_ns a || { t_fail "namespace"; t_summary; }
pair_key ka || { t_fail "keys"; t_summary; }
mkdir -p "$BIN"
cat >"$BIN/resolvconf" <<EOS
#!/bin/sh
echo "resolvconf \$*" >>"$F"
[ "\$1" = -a ] && sed 's/^/stdin: /' >>"$F"
exit 0
EOS
chmod +x "$BIN/resolvconf"

conf() { # extra [Interface] lines on stdin
	(
		umask 077
		printf '[Interface]\nPrivateKey = %s\nAddress = 10.55.0.1/24\n' "$(wm_priv ka)"
		cat
	) >"$LAB_TMP/$IF.conf"
}
gone() { ! kill -0 "$1" 2>/dev/null; }
no_link() { ! lab_exec a ip link show "$IF" >/dev/null 2>&1; }
logged() { grep -qF -- "$2" "$1" || { echo "not in $1: $2"; false; }; }
not_logged() { ! grep -qF -- "$2" "$1" || { echo "in $1: $2"; false; }; }

# ---- 1. every hook, in order, and DNS through resolvconf
conf <<EOC
PreUp = ip link show %i >/dev/null 2>&1 && echo "preup %i exists" >>$F || echo "preup %i absent" >>$F
PostUp = ip -o addr show dev %i | grep -q 10.55.0.1 && echo "postup %i has its address" >>$F
PreDown = ip link show %i >/dev/null && echo "predown %i exists" >>$F
PostDown = ip link show %i >/dev/null 2>&1 || echo "postdown %i gone" >>$F
DNS = 192.0.2.53, 2001:db8::53, example.test, corp.test
EOC
lab_bg --name ok a env PATH="$BIN:$PATH" "$WM" agent --config "$LAB_TMP/$IF.conf"
PID=$LAB_LAST_PID
t_check "agent with hooks up" lab_wait_for 10 pair_uapi_up "$IF"
lab_kill "$PID"
WANT="preup $IF absent
resolvconf -a $IF -m 0 -x
stdin: nameserver 192.0.2.53
stdin: nameserver 2001:db8::53
stdin: search example.test corp.test
postup $IF has its address
predown $IF exists
resolvconf -d $IF -f
postdown $IF gone"
t_check "hooks and resolvconf in wg-quick's order" diff <(echo "$WANT") "$F"

# ---- 2. a failing PostUp aborts; DNS without resolvconf warns
rm -f "$F"
conf <<EOC
DNS = 192.0.2.53
PostUp = echo "cannot frob %i" >&2; exit 3
PreDown = echo "predown ran" >>$F
EOC
lab_bg --name fail a "$WM" agent --config "$LAB_TMP/$IF.conf"
PID=$LAB_LAST_PID LOG=$LAB_LAST_LOG
t_check "failing PostUp: agent exits" lab_wait_for 10 gone "$PID"
wait "$PID" 2>/dev/null
ST=$?
t_check "exit status 1" [ "$ST" = 1 ]
t_check "log names hook, status and command" logged "$LOG" "$IF: PostUp failed: exit status 3: echo \"cannot frob $IF\""
t_check "log carries its stderr" logged "$LOG" "$IF: PostUp: | cannot frob $IF"
t_check "log says startup aborted" logged "$LOG" "startup aborted: PostUp failed"
t_check "DNS without resolvconf warns" logged "$LOG" "no resolvconf is on PATH"
t_check "and does not undo it at stop" not_logged "$LOG" "resolvconf -d"
t_check "interface removed" lab_wait_for 5 no_link
t_check "no PreDown after a failed PostUp" [ ! -e "$F" ]

# ---- 3. a PreDown needing more than CAP_NET_ADMIN
touch "$LAB_TMP/owned"
conf <<EOC
PreDown = chown 65534 $LAB_TMP/owned
PostDown = echo "postdown ran" >>$F
EOC
lab_bg --name priv a "$WM" agent --config "$LAB_TMP/$IF.conf"
PID=$LAB_LAST_PID LOG=$LAB_LAST_LOG
t_check "agent up" lab_wait_for 10 pair_uapi_up "$IF"
lab_kill "$PID"
t_check "agent stopped" lab_wait_for 5 gone "$PID"
t_check "PreDown failure named" logged "$LOG" "$IF: PreDown failed: exit status 1: chown 65534"
t_check "its stderr" logged "$LOG" "Operation not permitted"
t_check "the reason: a privilege, and the drop-in's place" logged "$LOG" "lacked a privilege"
t_check "stop went on: PostDown ran" grep -q "postdown ran" "$F"
t_summary
