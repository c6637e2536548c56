#!/usr/bin/env bash
# tests/net/test_relay_server.sh — `wiremesh relay` over real sockets.
#
# The relay host runs two relays: one with UDP 3478 and TLS on 443 (an EC
# certificate openssl makes here), one with UDP 3480 and plain TCP on 8080.
# build/tests/relay_probe plays the clients: A on hosta behind a cone NAT
# (UDP), B on hostb with a public address (TLS, then plain TCP), X a key off
# the allow-list. Checked: STUN answers, PING/PONG on each transport, one
# key reconnecting back to back on each, a PING amid a burst over TLS,
# frames from A to B and back arrive as RECV with the sender's key and the
# body unchanged, GONE for unknown and offline keys, silence (and one log
# line) for X, SIGUSR1 counters, --check-config, and a clean SIGTERM exit.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WIREMESH=${WIREMESH:-$TOP/build/wiremesh}
PROBE=${RELAY_PROBE:-$TOP/build/tests/relay_probe}
STUN_PROBE=${STUN_PROBE:-$TOP/build/tests/stun_probe}
lab_init || { echo "0 passed, 1 failed"; exit 1; }

# (help's output is read whole: grep -q on a pipe could SIGPIPE it)
HELP=$("$WIREMESH" help 2>/dev/null) || HELP=
# The relay is built: a binary without it (or a help that failed to run)
# is a failure, never "0 passed, 0 failed".
if ! grep -q '^  relay' <<<"$HELP"; then
	t_fail "$WIREMESH help lists no relay command (binary broken or missing?)"
	t_summary
fi
for b in "$PROBE" "$STUN_PROBE"; do
	[ -x "$b" ] || { t_fail "$b missing (./build.sh build)"; t_summary; }
done

key() { "$WIREMESH" genkey; }
pub() { echo "$1" | "$WIREMESH" pubkey; }
RELAY_KEY=$(key) A_KEY=$(key) B_KEY=$(key) C_KEY=$(key) X_KEY=$(key)
RELAY_PUB=$(pub "$RELAY_KEY") A_PUB=$(pub "$A_KEY") B_PUB=$(pub "$B_KEY")
C_PUB=$(pub "$C_KEY") X_PUB=$(pub "$X_KEY")

umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$LAB_TMP/relay.key" -out "$LAB_TMP/relay.crt" -days 2 \
	-subj /CN=relay.test >/dev/null 2>&1 || { t_fail "openssl"; t_summary; }
printf '%s\n%s\n' "$B_PUB" "$C_PUB" >"$LAB_TMP/clients.txt"
cat >"$LAB_TMP/relay-tls.conf" <<EOF
[Relay]
PrivateKey = $RELAY_KEY
ListenPort = 3478
TCPListen = 203.0.113.10:443
TLSCert = relay.crt
TLSKey = relay.key
AllowedClients = $A_PUB
AllowedClientsFile = clients.txt
EOF
cat >"$LAB_TMP/relay-tcp.conf" <<EOF
[Relay]
PrivateKey = $RELAY_KEY
ListenPort = 3480
TCPListen = 0.0.0.0:8080
AllowedClients = $A_PUB
AllowedClients = $B_PUB
EOF
printf '[Relay]\nListenPort = 1\n' >"$LAB_TMP/bad.conf"

t_check "--check-config accepts the TLS config" \
	"$WIREMESH" relay --config "$LAB_TMP/relay-tls.conf" --check-config
check_bad() {
	"$WIREMESH" relay --config "$LAB_TMP/bad.conf"
	[ $? -eq 2 ]
}
t_check "a config without PrivateKey exits 2" check_bad

lab_topology cone none || { t_fail "lab topology"; t_summary; }

listening() { # NS PROTO PORT
	lab_exec "$1" ss -Hnl"$2" "sport = :$3" | grep -q .
}
lab_bg --name relay-tls relay "$WIREMESH" relay --config "$LAB_TMP/relay-tls.conf"
RELAY1=$LAB_LAST_PID RELAY1_LOG=$LAB_LAST_LOG
lab_bg --name relay-tcp relay "$WIREMESH" relay --config "$LAB_TMP/relay-tcp.conf"
RELAY2=$LAB_LAST_PID RELAY2_LOG=$LAB_LAST_LOG
all_listening() {
	listening relay u 3478 && listening relay t 443 &&
		listening relay u 3480 && listening relay t 8080
}
t_check "relays listen (udp 3478, tls 443, udp 3480, tcp 8080)" \
	lab_wait_for 10 all_listening

check_stun() {
	local m
	m=$(lab_exec hosta "$STUN_PROBE" --bind 0.0.0.0:40000 "$RELAY_IP:3478") || return 1
	echo "$m"
	[ "${m#MAPPED }" != "$m" ] && m=${m#MAPPED } && [ "${m%:*}" = "$PUBLIC_A_IP" ]
}
t_check "STUN on the relay port reports hosta's NAT address" check_stun

probe() { # NS KEY TRANSPORT-ARGS... JOB...
	local ns=$1 k=$2
	shift 2
	lab_exec "$ns" "$PROBE" --relay-key "$RELAY_PUB" --key "$k" --timeout 4000 "$@"
}
t_check "PING/PONG over UDP through a NAT" probe hosta "$A_KEY" --udp "$RELAY_IP:3478" ping
t_check "PING/PONG over TLS" probe hostb "$B_KEY" --tcp "$RELAY_IP:443" --tls ping
t_check "PING/PONG over plain TCP" probe hostb "$B_KEY" --tcp "$RELAY_IP:8080" ping

# The same key reconnecting back to back: a probe run takes ~15 ms, so
# each initiation lands within the 20 ms in which the relay, like any
# WireGuard responder, ignores the key's next one. The client must retry
# with a fresh initiation, and every new connection must be served (it
# used to be every other one: PONG, NO ANSWER, PONG, ...).
reconnects() { # NS KEY TRANSPORT-ARGS...
	local ns=$1 k=$2 i out
	shift 2
	for i in 1 2 3 4 5 6; do
		out=$(probe "$ns" "$k" "$@" ping) || { echo "run $i: ${out:-nothing}"; return 1; }
	done
}
t_check "6 reconnections of one key back to back over TLS" \
	reconnects hostb "$B_KEY" --tcp "$RELAY_IP:443" --tls
t_check "6 reconnections of one key back to back over plain TCP" \
	reconnects hostb "$B_KEY" --tcp "$RELAY_IP:8080"
t_check "6 reconnections of one key back to back over UDP" \
	reconnects hosta "$A_KEY" --udp "$RELAY_IP:3478"

# recv_then_send RECV-NS RECV-KEY RECV-ARGS -- SEND-NS SEND-KEY SEND-PUB SEND-ARGS
relay_path() {
	local rns=$1 rkey=$2 rargs=$3 sns=$4 skey=$5 spub=$6 sargs=$7 log
	lab_bg --name "recv-$rns" "$rns" "$PROBE" --relay-key "$RELAY_PUB" --key "$rkey" \
		--timeout 8000 $rargs recv 3
	log=$LAB_LAST_LOG
	lab_wait_for 5 grep -q '^READY' "$log" || { cat "$log"; return 1; }
	probe "$sns" "$skey" $sargs send "$(pub "$rkey")" 3 || return 1
	lab_wait_for 5 bash -c "[ \$(grep -c '^RECV' '$log') -ge 3 ]" || { cat "$log"; return 1; }
	cat "$log"
	for i in 0 1 2; do
		grep -qxF "RECV $spub probe-$i" "$log" || return 1
	done
}
t_check "A (udp) -> B (tls): RECV with A's key, bodies intact" \
	relay_path hostb "$B_KEY" "--tcp $RELAY_IP:443 --tls" hosta "$A_KEY" "$A_PUB" "--udp $RELAY_IP:3478"
t_check "B (tls) -> A (udp)" \
	relay_path hosta "$A_KEY" "--udp $RELAY_IP:3478" hostb "$B_KEY" "$B_PUB" "--tcp $RELAY_IP:443 --tls"
t_check "B (tcp) -> A (udp) on the plain-TCP relay" \
	relay_path hosta "$A_KEY" "--udp $RELAY_IP:3480" hostb "$B_KEY" "$B_PUB" "--tcp $RELAY_IP:8080"

# A burst from A (udp) to B (tls), B sending a PING once the first frame
# is in. The relay's writes to B pump B's TLS engine, which takes the PING
# off the socket; nothing on the socket then announces it, and B used to
# wait in vain for its PONG about one round in two.
ping_mid_burst() {
	local i log
	for i in 1 2 3; do
		lab_bg --name "recv-ping-$i" hostb "$PROBE" --relay-key "$RELAY_PUB" \
			--key "$B_KEY" --timeout 4000 --tcp "$RELAY_IP:443" --tls recv-ping 200
		log=$LAB_LAST_LOG
		lab_wait_for 5 grep -q '^READY' "$log" || { cat "$log"; return 1; }
		probe hosta "$A_KEY" --udp "$RELAY_IP:3478" send "$B_PUB" 200 >/dev/null ||
			return 1
		lab_wait_for 5 grep -q '^PONG' "$log" ||
			{ echo "round $i: no PONG after $(grep -c '^RECV' "$log") RECV"; return 1; }
	done
}
t_check "B (tls) pings amid a burst from A (udp): PONG" ping_mid_burst

check_gone() {
	local out
	out=$(probe hosta "$A_KEY" --udp "$RELAY_IP:3478" send "$C_PUB" 1) || return 1
	echo "$out"
	grep -qxF "GONE $C_PUB" <<<"$out" || return 1
	out=$(probe hosta "$A_KEY" --udp "$RELAY_IP:3478" send "$X_PUB" 1) || return 1
	echo "$out"
	grep -qxF "GONE $X_PUB" <<<"$out"
}
t_check "GONE for an offline and for an unknown key" check_gone

check_not_allowed() {
	local out
	out=$(lab_exec hostb "$PROBE" --relay-key "$RELAY_PUB" --key "$X_KEY" \
		--timeout 1000 --udp "$RELAY_IP:3478" handshake)
	[ $? -eq 1 ] && [ "$out" = "NO ANSWER" ] || { echo "$out"; return 1; }
	lab_exec hostb "$PROBE" --relay-key "$RELAY_PUB" --key "$X_KEY" \
		--timeout 500 --udp "$RELAY_IP:3478" handshake >/dev/null
	grep "not on the allow-list" "$RELAY1_LOG"
	[ "$(grep -c "$X_PUB.*not on the allow-list" "$RELAY1_LOG")" -eq 1 ]
}
t_check "a key off the allow-list gets no answer, logged once" check_not_allowed

check_usr1() {
	kill -USR1 "$RELAY1"
	lab_wait_for 3 grep -q "^relay: forwarded frames=" "$RELAY1_LOG" || return 1
	grep "^relay: " "$RELAY1_LOG" | tail -n 4
	grep -qE "^relay: forwarded frames=[1-9]" "$RELAY1_LOG" &&
		grep -qE "not_allowed=[1-9]" "$RELAY1_LOG" &&
		grep -qE "dst_unknown=1 dst_offline=1 " "$RELAY1_LOG"
}
t_check "SIGUSR1 prints the counters" check_usr1

exited() { # PID — gone, or a zombie waiting for us
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	[ "${s%% *}" = Z ]
}
check_term() { # PID LOG
	local rc
	kill -TERM "$1"
	lab_wait_for 5 exited "$1" || { echo "still running"; return 1; }
	wait "$1"
	rc=$?
	grep -q "shutting down" "$2" && [ $rc -eq 0 ] || { echo "exit $rc"; return 1; }
}
t_check "SIGTERM: clean exit 0 (TLS relay)" check_term "$RELAY1" "$RELAY1_LOG"
t_check "SIGTERM: clean exit 0 (TCP relay)" check_term "$RELAY2" "$RELAY2_LOG"
check_no_sanitizer_reports() {
	! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$RELAY1_LOG" "$RELAY2_LOG"
}
t_check "no sanitizer reports in the relay logs" check_no_sanitizer_reports

t_summary
