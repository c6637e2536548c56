#!/usr/bin/env bash
# The example configs in packaging/examples work together as shipped: a
# relay from relay.conf.example and two agents from wm0.conf.example, with
# only keys, addresses and the API socket's path substituted (sed). Agent a
# sits behind a NAT that drops every UDP packet (nftables), so it can only
# reach the relay over its TCP fallback; b is behind a cone NAT. Run twice:
# the relay as shipped (no certificate: a's bare RelayTCP tries TLS, the
# relay closes the ClientHello, a falls back to plain TCP), and with the
# example's TLSCert/TLSKey lines enabled on a self-signed certificate.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init

EX=packaging/examples
transport_of() { # NAME: the relay transport in its status
	wm_api "$1" /v1/status | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["relay"]["transport"])'
}
relay_counter() { # NAME: a "tcp ..." counter from the relay's SIGUSR1 lines
	kill -USR1 "$RELAY_PID"
	sleep 0.3
	sed -n "s/.*tcp open.* $1=\([0-9]*\).*/\1/p" "$RELAY_LOG" | tail -n 1
}

# relay.conf from the example: its key, and the two agents' keys in place of
# the example's AllowedClients; with "tls", the certificate lines enabled.
relay_conf() { # [tls]
	local tls=${1:-}
	# the first AllowedClients line becomes a's key, the others b's
	sed -e "s|^PrivateKey = .*|PrivateKey = $(wm_priv relay)|" \
		-e "0,/^AllowedClients = /s|^AllowedClients = .*|AllowedClients = $(wm_pub a)|" \
		-e "\\%^AllowedClients = $(wm_pub a)\$%b" \
		-e "s|^AllowedClients = .*|AllowedClients = $(wm_pub b)|" \
		${tls:+-e "s|^#TLSCert = .*|TLSCert = $LAB_TMP/relay.crt|"} \
		${tls:+-e "s|^#TLSKey = .*|TLSKey = $LAB_TMP/relay.pem|"} \
		"$EX/relay.conf.example" >"$LAB_TMP/relay.conf"
	chmod 600 "$LAB_TMP/relay.conf"
}

# an agent's file from the example: its key, its address, the peer's key and
# address, the relay's key and address, its API socket.
agent_conf() { # NAME ADDR PEER PEER_ADDR
	local f
	f=$LAB_TMP/$(wm_ifname "$1").conf
	sed -e "s|^PrivateKey = .*|PrivateKey = $(wm_priv "$1")|" \
		-e "s|^Address = .*|Address = $2/24|" \
		-e "s|^RelayPublicKey = .*|RelayPublicKey = $(wm_pub relay)|" \
		-e "s|relay\.example\.net|$RELAY_IP|g" \
		-e "s|^API = .*|API = $LAB_TMP/$1.api.sock|" \
		-e "s|^PublicKey = .*|PublicKey = $(wm_pub "$3")|" \
		-e "s|^AllowedIPs = .*|AllowedIPs = $4/32|" \
		"$EX/wm0.conf.example" >"$f"
	chmod 600 "$f"
}

# Only the lines named above differ from the example (a typo in a sed
# expression would silently test another file).
only_substituted() { # FILE EXAMPLE
	diff "$2" "$1" | grep '^[<>]' | grep -vE '^[<>] (#?TLSCert|#?TLSKey|PrivateKey|AllowedClients|Address|RelayPublicKey|Relay|RelayTCP|STUN|API|PublicKey|AllowedIPs) = ' && return 1
	return 0
}

run() { # plain | tls  (tls reuses plain's world, with everything restarted)
	local mode=$1 want
	if [ "$mode" = plain ]; then
		lab_topology udpblock cone || { t_fail "$mode: lab topology"; return; }
	else
		eval "lab_kill \$WM_PID_a; lab_kill \$WM_PID_b"
		lab_kill "$RELAY_PID"
	fi
	relay_conf $([ "$mode" = tls ] && echo tls)
	agent_conf a 10.77.0.1 b 10.77.0.2
	agent_conf b 10.77.0.2 a 10.77.0.1
	t_check "$mode: relay.conf differs from the example only in keys/cert" \
		only_substituted "$LAB_TMP/relay.conf" "$EX/relay.conf.example"
	t_check "$mode: a's file differs from the example only in keys/addresses" \
		only_substituted "$LAB_TMP/$(wm_ifname a).conf" "$EX/wm0.conf.example"
	lab_bg --name relay "$RELAY_NS" "$WM" relay --config "$LAB_TMP/relay.conf"
	RELAY_PID=$LAB_LAST_PID RELAY_LOG=$LAB_LAST_LOG
	lab_wait_for 5 lab_exec "$RELAY_NS" sh -c 'ss -Hltn "sport = :443" | grep -q .'
	wm_agent_start "$HOST_A_NS" a
	A_LOG=$LAB_LAST_LOG
	wm_agent_start "$HOST_B_NS" b
	B_LOG=$LAB_LAST_LOG
	t_check "$mode: a (UDP blocked) reaches b through the relay" wm_wait_path a b relay 25
	t_check "$mode: b reaches a through the relay" wm_wait_path b a relay 10
	want=$([ "$mode" = tls ] && echo tls || echo tcp)
	t_check "$mode: a's relay session is over $want" test "$(transport_of a)" = "$want"
	t_check "$mode: ping a -> b" lab_exec "$HOST_A_NS" ping -c 3 -i 0.2 -W 2 10.77.0.2
	t_check "$mode: ping b -> a" lab_exec "$HOST_B_NS" ping -c 3 -i 0.2 -W 2 10.77.0.1
	if [ "$mode" = plain ]; then
		t_check "plain: the relay closed a's TLS ClientHello (tls_refused >= 1)" \
			test "$(relay_counter tls_refused)" -ge 1
	else
		t_check "tls: the relay refused no TLS (tls_refused = 0)" \
			test "$(relay_counter tls_refused)" -eq 0
	fi
	t_check "$mode: no handshake timeouts for real clients" \
		test "$(relay_counter handshake_timeouts)" -eq 0
}

relay_has() { # NAME: the relay logged NAME's session
	grep -qF "client $(wm_pub "$1") connected" "$RELAY_LOG"
}
cert_fingerprint() { # what a new TLS connection to the relay is shown
	lab_exec "$RELAY_NS" timeout 5 openssl s_client -connect "$RELAY_IP:443" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256
}
# (re)connections and new handshakes an agent logged
ups() { grep -cE "up over|handshaking again" "$1"; }
received() { sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"; }

# SIGHUP, in the TLS world: c is added to the file and connects while a and
# b keep pinging through the relay on their sessions; then b is removed and
# dropped; a new certificate is served to new connections.
reload_checks() {
	local ups_a ups_b fp_old fp_new ping_pid
	lab_side c cone || { t_fail "reload: side c"; return; }
	wm_key c
	agent_conf c 10.77.0.3 a 10.77.0.1
	ups_a=$(ups "$A_LOG") ups_b=$(ups "$B_LOG")
	fp_old=$(cert_fingerprint)
	lab_exec "$HOST_A_NS" ping -c 30 -i 0.1 -W 1 10.77.0.2 >"$LAB_TMP/ping-reload.txt" 2>&1 &
	ping_pid=$!
	sleep 0.5
	echo "AllowedClients = $(wm_pub c)" >>"$LAB_TMP/relay.conf"
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=relay2.test -keyout "$LAB_TMP/relay.pem" \
		-out "$LAB_TMP/relay.crt" >/dev/null 2>&1)
	kill -HUP "$RELAY_PID"
	wm_agent_start "$HOST_C_NS" c
	t_check "SIGHUP: c, added to the file, connects" lab_wait_for 10 relay_has c
	wait "$ping_pid"
	t_check "SIGHUP: a keeps pinging b across the reload ($(received "$LAB_TMP/ping-reload.txt") of 30)" \
		test "$(received "$LAB_TMP/ping-reload.txt")" -ge 28
	t_check "SIGHUP: a's and b's relay sessions were kept" \
		test "$(ups "$A_LOG") $(ups "$B_LOG")" = "$ups_a $ups_b"
	t_check "SIGHUP: the relay logged the reload" grep -q "reloaded: 3 allowed clients" "$RELAY_LOG"
	fp_new=$(cert_fingerprint)
	t_check "SIGHUP: new TLS connections get the new certificate" \
		test -n "$fp_old" -a -n "$fp_new" -a "$fp_old" != "$fp_new"
	t_check "SIGHUP: a still pings b" lab_exec "$HOST_A_NS" ping -c 2 -i 0.2 -W 2 10.77.0.2
	sed -i "/$(wm_pub b | sed 's|[/]|\\/|g')/d" "$LAB_TMP/relay.conf"
	kill -HUP "$RELAY_PID"
	t_check "SIGHUP: b, removed from the file, is dropped" \
		lab_wait_for 5 grep -q "gone (dropped by the reload)" "$RELAY_LOG"
	t_check "SIGHUP: a broken file keeps the running config" sh -c '
		echo "Bogus = 1" >>"$1"; kill -HUP "$2"; sleep 0.5
		grep -q "reload failed: the running config stays" "$3" && kill -0 "$2"' _ \
		"$LAB_TMP/relay.conf" "$RELAY_PID" "$RELAY_LOG"
}

wm_key relay && wm_key a && wm_key b || { t_fail "keys"; t_summary; }
wm_cert || { t_fail "openssl: self-signed certificate"; t_summary; }
run plain
run tls
reload_checks
t_summary
