#!/usr/bin/env bash
# A relay restart (issue "Relay for real fleets"): two agents that can only
# reach each other through the relay ping each other; the relay is killed
# and started again with the same config while the ping goes on, and the
# agents must be back on it within seconds — over UDP (symmetric NATs on
# both sides), and with one agent on TLS (its NAT drops UDP, so it uses
# RelayTCP). Prints the time from the restart to the first ping through
# the new relay.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
. tests/net/nat_case.sh
lab_init

LIMIT_MS=${LIMIT_MS:-3000}

transport_of() { # NAME: the relay transport in its status
	wm_api "$1" /v1/status | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["relay"]["transport"])'
}

relay_listening() {
	lab_exec "$RELAY_NS" sh -c 'ss -Hlun "sport = :3478" | grep -q . && ss -Hltn "sport = :443" | grep -q .'
}

# Kills the relay while a -> b pings every 0.2 s, starts it again with the
# same config and the same keys, and pings until one answer comes back:
# sets RESTART_MS, the time from starting the new relay to that answer.
restart_and_time() {
	local pinger tk t0 t1 i
	lab_bg --name background-ping "$HOST_A_NS" ping -i 0.2 -W 1 10.77.0.2
	pinger=$LAB_LAST_PID
	sleep 1
	tk=$(_lab_now)
	lab_kill "$WM_RELAY_PID"
	t0=$(_lab_now)
	EXIT_MS=$(((t0 - tk) / 1000))
	lab_bg --name relay "$RELAY_NS" "$WM" relay --config "$LAB_TMP/relay.conf"
	WM_RELAY_PID=$LAB_LAST_PID
	lab_wait_for 5 relay_listening || { lab_kill "$pinger"; echo "the relay did not come back"; return 1; }
	RESTART_MS=""
	for ((i = 0; i < 100; i++)); do
		if lab_exec "$HOST_A_NS" ping -c 1 -W 0.2 10.77.0.2 >/dev/null 2>&1; then
			t1=$(_lab_now)
			RESTART_MS=$(((t1 - t0) / 1000))
			break
		fi
		sleep 0.05
	done
	lab_kill "$pinger"
	[ -n "$RESTART_MS" ] || { echo "no ping through the new relay in 100 tries"; return 1; }
	return 0
}

within_limit() { test "$RESTART_MS" -le "$LIMIT_MS"; }

# --- both agents on UDP ---------------------------------------------------------
nat_world symmetric symmetric || t_fail "symmetric/symmetric world"
t_check "a -> b over the relay" wm_wait_path a b relay 20
t_check "b -> a over the relay" wm_wait_path b a relay 10
t_check "a on UDP" test "$(transport_of a)" = udp
t_check "ping a -> b before the restart" nat_ping a b
t_check "the relay restarts and a ping crosses it again" restart_and_time
UDP_MS=${RESTART_MS:-none}
echo "relay restart -> ping over UDP: ${UDP_MS} ms (the old relay took ${EXIT_MS:-?} ms to exit)"
t_check "over UDP, back within $LIMIT_MS ms (${UDP_MS} ms)" within_limit
t_check "a still takes the relay" wm_wait_path a b relay 2
t_check "a's agent heard 'unknown session'" grep -q 'does not know our session' "$LAB_TMP/a.log"
t_check "pings keep working" nat_ping a b 5

# The relay path tells the truth: b frozen (its relay session still held,
# so the relay says nothing), a's pings through the relay get no answer and
# a shows the path as none; b thawed, relay again.
frozen_path() { # WANT SECS, while a pings b
	local pinger r=0
	lab_bg --name truth-ping "$HOST_A_NS" ping -i 0.5 -W 1 10.77.0.2
	pinger=$LAB_LAST_PID
	wm_wait_path a b "$1" "$2" || r=1
	lab_kill "$pinger"
	return $r
}
kill -STOP "$WM_PID_b"
t0=$(_lab_now)
t_check "b frozen: a's path to b reads none (traffic unanswered)" frozen_path none 30
echo "b frozen -> path none after $((($(_lab_now) - t0) / 1000)) ms (window ${RELAY_SILENT_S:-15} s)"
kill -CONT "$WM_PID_b"
t_check "b thawed: relay again" frozen_path relay 15
t_check "a's log tells of it" grep -q "path relay -> none" "$LAB_TMP/a.log"

# --- a on TLS (its UDP dropped), b on UDP ----------------------------------------
lab_reset
nat_world udpblock symmetric || t_fail "udpblock/symmetric world"
t_check "a -> b over the relay" wm_wait_path a b relay 25
t_check "b -> a over the relay" wm_wait_path b a relay 15
t_check "a on TLS" test "$(transport_of a)" = tls
t_check "b on UDP" test "$(transport_of b)" = udp
t_check "ping a -> b before the restart" nat_ping a b
t_check "the relay restarts and a ping crosses it again" restart_and_time
TCP_MS=${RESTART_MS:-none}
echo "relay restart -> ping with a on TLS: ${TCP_MS} ms (the old relay took ${EXIT_MS:-?} ms to exit)"
t_check "with a on TLS, back within $LIMIT_MS ms (${TCP_MS} ms)" within_limit
t_check "a is on TLS again" test "$(transport_of a)" = tls
t_check "pings keep working" nat_ping a b 5

echo "figures: restart -> ping: UDP ${UDP_MS} ms, TLS+UDP ${TCP_MS} ms (limit $LIMIT_MS ms)"
t_summary
