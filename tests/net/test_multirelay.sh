#!/usr/bin/env bash
# Several relays (issue "Relay for real fleets"): two relays, r1 on the
# lab's relay host and r2 on a second one (lab_relay2). Agents a and b
# (symmetric NATs: they only ever meet through a relay) have both, a
# through the Interface shorthand plus a [Relay] section, b through two
# [Relay] sections; agent c has r2 only. Checked:
#   - every session is up, the home is r1 (equally fast: the first one);
#   - a and c, who share only r2, talk: a tries its home r1 first, r1 says
#     "gone", a moves c to r2;
#   - the home relay is killed while a pings b: the ping resumes through r2
#     within 5 s (the time is printed);
#   - r1 is started again: it becomes a's home again (hysteresis: after it
#     has settled), and pings keep working;
#   - /v1/status lists the relays, /metrics counts per relay;
#   - a file with nine relays is refused (exit 2, file:line).
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init

LIMIT_MS=${LIMIT_MS:-5000}

# A relay (UDP relay + STUN on IP:3478) serving CLIENT...; NAME.key is made
# once, so a restart keeps the relay's identity.
mr_relay_start() { # NAME LOGNAME NS IP CLIENT...
	local name=$1 log=$2 ns=$3 ip=$4 c conf=$LAB_TMP/$1.conf
	shift 4
	[ -f "$LAB_TMP/$name.key" ] || wm_key "$name"
	{
		echo "[Relay]"
		echo "PrivateKey = $(wm_priv "$name")"
		echo "ListenPort = 3478"
		for c in "$@"; do echo "AllowedClients = $(wm_pub "$c")"; done
	} >"$conf"
	chmod 600 "$conf"
	lab_bg --name "$log" "$ns" "$WM" relay --config "$conf"
	eval "PID_$name=$LAB_LAST_PID"
	lab_wait_for 5 lab_exec "$ns" sh -c 'ss -Hlun "sport = :3478" | grep -q .'
}

mr_ip() { case $1 in a) echo 10.77.0.1 ;; b) echo 10.77.0.2 ;; c) echo 10.77.0.3 ;; esac; }
mr_ns() { case $1 in a) echo "$HOST_A_NS" ;; b) echo "$HOST_B_NS" ;; c) echo "$HOST_C_NS" ;; esac; }
mr_peer() { # NAME: a [Peer] section
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nPersistentKeepalive = 10\n' \
		"$(wm_pub "$1")" "$(mr_ip "$1")"
}
mr_ping() { lab_exec "$(mr_ns "$1")" ping -c 1 -W 1 "$(mr_ip "$2")"; }

# What NAME's /v1/status says about its relays.
mr_status() { # NAME PYTHON-EXPRESSION over d (the status)
	wm_api "$1" /v1/status | "$LAB_PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($2)"
}
mr_home() { mr_status "$1" '([r["endpoint"] for r in d.get("relays", []) if r["home"]] or ["none"])[0]'; }
mr_connected() { mr_status "$1" 'sum(1 for r in d.get("relays", []) if r["connected"])'; }
mr_wait_connected() { # NAME N SECS
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		[ "$(mr_connected "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	echo "$1: $(mr_connected "$1") relays connected, wanted $2"
	return 1
}
mr_wait_home() { # NAME ENDPOINT SECS
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		[ "$(mr_home "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	echo "$1: home $(mr_home "$1"), wanted $2"
	return 1
}

# --- a ninth relay is a config error naming its line ------------------------------
too_many() {
	local f=$LAB_TMP/wm9.conf out rc=0 i
	wm_key nine
	{
		printf '[Interface]\nPrivateKey = %s\n' "$(wm_priv nine)"
		for i in 0 1 2 3 4 5 6 7 8; do
			wm_key "relay$i"
			printf '[Relay]\nEndpoint = 192.0.2.%d:3478\nPublicKey = %s\n' $((230 + i)) "$(wm_pub "relay$i")"
		done
	} >"$f"
	chmod 600 "$f"
	out=$("$WM" agent --check-config --config "$f" 2>&1) || rc=$?
	echo "exit $rc: $out"
	[ "$rc" -eq 2 ] && [[ $out == "$f:27: more than 8 relays"* ]]
}
t_check "nine relays: exit 2, file:line named" too_many

# --- the world ------------------------------------------------------------------
lab_topology symmetric symmetric || t_fail "symmetric/symmetric world"
lab_side c symmetric || t_fail "side c"
lab_relay2 || t_fail "second relay host"
R1=$RELAY_IP:3478
R2=$RELAY2_IP:3478
for n in a b c; do wm_key "$n"; done
mr_relay_start r1 r1 "$RELAY_NS" "$RELAY_IP" a b c || t_fail "r1 starts"
mr_relay_start r2 r2 "$RELAY2_NS" "$RELAY2_IP" a b c || t_fail "r2 starts"

wm_agent_conf a 10.77.0.1/24 <<EOC
Relay = $R1
RelayPublicKey = $(wm_pub r1)

[Relay]
Endpoint = $R2
PublicKey = $(wm_pub r2)
$(mr_peer b)
$(mr_peer c)
EOC
wm_agent_conf b 10.77.0.2/24 <<EOC

[Relay]
Endpoint = $R1
PublicKey = $(wm_pub r1)

[Relay]
Endpoint = $R2
PublicKey = $(wm_pub r2)
$(mr_peer a)
EOC
wm_agent_conf c 10.77.0.3/24 <<EOC

[Relay]
Endpoint = $R2
PublicKey = $(wm_pub r2)
$(mr_peer a)
EOC
for n in a b c; do
	wm_agent_start "$(mr_ns "$n")" "$n" || t_fail "agent $n starts"
done

# --- sessions and home ----------------------------------------------------------
t_check "a: both relays connected" mr_wait_connected a 2 10
t_check "b: both relays connected" mr_wait_connected b 2 10
t_check "c: its one relay connected" mr_wait_connected c 1 10
t_check "a: home is r1 (as fast as r2, and first)" mr_wait_home a "$R1" 5
t_check "b: home is r1" mr_wait_home b "$R1" 5
t_check "a: status relay is the home" test "$(mr_status a 'd["relay"]["endpoint"]')" = "$R1"
t_check "a: status relays carry key, transport, rtt" test "$(mr_status a \
	'";".join("%s %s %s" % (r["public_key"], r["transport"], r["rtt_us"] is not None) for r in d["relays"])')" \
	= "$(wm_pub r1) udp True;$(wm_pub r2) udp True"
t_check "a -> b over a relay" wm_wait_path a b relay 20
t_check "ping a -> b" lab_wait_for 10 mr_ping a b

# --- a and c share only r2 ------------------------------------------------------
t_check "ping a -> c (only r2 in common)" lab_wait_for 20 mr_ping a c
t_check "ping c -> a" lab_wait_for 5 mr_ping c a
mr_metric() { # NAME FAMILY RELAY VALUE-REGEX
	wm_api "$1" /metrics | grep -qE "^$2\{interface=\"[^\"]*\",relay=\"$3\"\} $4\$"
}
t_check "metrics: r1 told a that c is not there" mr_metric a wiremesh_relay_gone_total "$R1" '[1-9][0-9]*'
t_check "metrics: r1 up at a" mr_metric a wiremesh_relay_up "$R1" 1
t_check "metrics: r2 up at a" mr_metric a wiremesh_relay_up "$R2" 1
t_check "metrics: r1 home at a" mr_metric a wiremesh_relay_home "$R1" 1
t_check "metrics: frames through r2 at c" mr_metric c wiremesh_relay_rx_frames_total "$R2" '[1-9][0-9]*'

# a -> b goes through the home: pings raise r1's frame count at a, not r2's.
mr_frames() { # NAME RELAY: frames sent through it
	wm_api "$1" /metrics | sed -n "s/^wiremesh_relay_tx_frames_total{interface=\"[^\"]*\",relay=\"$2\"} //p"
}
through_home() {
	local r1 r2
	r1=$(mr_frames a "$R1") r2=$(mr_frames a "$R2")
	lab_exec "$HOST_A_NS" ping -c 5 -i 0.2 -W 1 10.77.0.2 >/dev/null || return 1
	r1=$(($(mr_frames a "$R1") - r1)) r2=$(($(mr_frames a "$R2") - r2))
	echo "frames a -> r1: $r1, a -> r2: $r2"
	[ "$r1" -ge 5 ] && [ "$r2" -lt 5 ]
}
t_check "a -> b pings go through r1" lab_wait_for 15 through_home

# --- the home relay dies --------------------------------------------------------
# a pings b every 0.2 s; r1 is killed; a ping of its own every 0.1 s times
# the first answer through r2.
failover() {
	local pinger t0 t1 i
	lab_bg --name background-ping "$HOST_A_NS" ping -i 0.2 -W 1 10.77.0.2
	pinger=$LAB_LAST_PID
	sleep 1
	t0=$(_lab_now)
	lab_kill "$PID_r1"
	FAILOVER_MS=""
	for ((i = 0; i < 150; i++)); do
		if lab_exec "$HOST_A_NS" ping -c 1 -W 0.2 10.77.0.2 >/dev/null 2>&1; then
			t1=$(_lab_now)
			FAILOVER_MS=$(((t1 - t0) / 1000))
			break
		fi
		sleep 0.1
	done
	lab_kill "$pinger"
	[ -n "$FAILOVER_MS" ] || { echo "no ping through r2"; return 1; }
}
t_check "r1 killed: a ping crosses r2" failover
echo "home relay killed -> ping through the other: ${FAILOVER_MS:-none} ms"
t_check "failover within $LIMIT_MS ms (${FAILOVER_MS:-none} ms)" test "${FAILOVER_MS:-999999}" -le "$LIMIT_MS"
t_check "a: home is r2" mr_wait_home a "$R2" 5
t_check "ping b -> a while r1 is down" lab_wait_for 5 mr_ping b a

# --- it comes back --------------------------------------------------------------
t_back=$(_lab_now)
mr_relay_start r1 r1-again "$RELAY_NS" "$RELAY_IP" a b c || t_fail "r1 starts again"
t_check "a: r1 is home again" mr_wait_home a "$R1" 30
RETURN_MS=$((($(_lab_now) - t_back) / 1000))
echo "r1 back -> home again at a: ${RETURN_MS} ms (the client's reconnect backoff, then settling)"
t_check "b: r1 is home" mr_wait_home b "$R1" 20
t_check "ping a -> b" lab_wait_for 10 mr_ping a b
t_check "ping b -> a" lab_wait_for 5 mr_ping b a
t_check "ping a -> c" lab_wait_for 15 mr_ping a c
home_moves() { # r2 became home once, r1 twice (at start, on its return)
	grep -q "home relay $R2" "$LAB_TMP/a.log" &&
		[ "$(grep -c "home relay $R1" "$LAB_TMP/a.log")" -ge 2 ]
}
t_check "a logged its home moves" home_moves

echo "figures: failover ${FAILOVER_MS:-none} ms (limit $LIMIT_MS ms), home back ${RETURN_MS} ms after r1 restarted"
t_summary
