#!/usr/bin/env bash
# tests/net/test_rekey.sh — sessions are rekeyed on time without losing
# traffic (issue 4).
#
# Uses the fast-timers build (build/fasttimers/wiremesh, -DWM_TEST_FAST_TIMERS:
# REKEY_AFTER_TIME 6 s, REJECT_AFTER_TIME 9 s, REKEY_TIMEOUT 2 s, KEEPALIVE 2 s)
# so that a 30 s ping (-i 0.2, 150 packets) spans several rekeys:
#   1. fast wiremesh (a) <-> fast wiremesh (b)
#   2. fast wiremesh (a) <-> wireguard-go (b), normal timers: the agent is the
#      initiator (wireguard-go has no endpoint for it) and must rekey every
#      ~6 s on its own, which wireguard-go answers as responder
# Each run checks: the ping loses at most one packet; `wg show
# latest-handshakes` (polled every 0.25 s) took at least 3 new values after
# the first handshake; no two successive handshakes are more than 11 s apart
# (REJECT_AFTER_TIME 9 s + slack: traffic could not have flowed otherwise);
# the agents are still running.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
# every agent here is the fast-timers build
WM=${WIREMESH_FAST:-$PAIR_TOP/build/fasttimers/wiremesh}
PAIR_WM_HINT="./build.sh test builds it: run_make OUT=build/fasttimers TIMERS=-DWM_TEST_FAST_TIMERS"
pair_init wg wireguard-go ping

# PID_a, PID_b: set by the start functions (eval)
PID_a="" PID_b=""
TAG=wr$(($$ % 100000)) # interface names: unique per run (UAPI sockets are global)
PORT_A=51820 PORT_B=51821
IP_A=192.0.2.1 IP_B=192.0.2.2
DURATION=30 INTERVAL=0.2 COUNT=150

# ------------------------------------------------------------------ helpers

# watch_handshakes IFACE KEYNAME SECONDS FILE — every 0.25 s, append the
# peer's latest handshake (unix seconds) to FILE; bounded by SECONDS
watch_handshakes() {
	local k end
	k=$(wm_pub "$2")
	end=$((SECONDS + $3))
	while [ $SECONDS -lt "$end" ]; do
		wg show "$1" latest-handshakes 2>/dev/null | awk -v k="$k" '$1 == k {print $2}' >>"$4"
		sleep 0.25
	done
}

# handshakes_ok FILE — ≥ 3 new handshakes after the first, none > 11 s apart
handshakes_ok() {
	"$LAB_PYTHON" - "$1" <<-'EOF'
		import sys
		seen = []
		for line in open(sys.argv[1]):
		    t = int(line.split()[0]) if line.strip() else 0
		    if t > 0 and (not seen or t != seen[-1]):
		        seen.append(t)
		gaps = [b - a for a, b in zip(seen, seen[1:])]
		print("handshake times:", seen, "gaps (s):", gaps)
		sys.exit(0 if len(seen) >= 4 and gaps and max(gaps) <= 11 else 1)
	EOF
}

# long_ping NS DST — COUNT pings every INTERVAL; at most one lost
long_ping() {
	local out tx rx
	out=$(lab_exec "$1" ping -n -q -c $COUNT -i $INTERVAL -W 1 "$2" 2>&1)
	echo "$out" >"$LAB_TMP/ping.last"
	echo "$out"
	tx=$(sed -n 's/^\([0-9]\+\) packets transmitted.*/\1/p' <<<"$out")
	rx=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' <<<"$out")
	[ -n "$tx" ] && [ -n "$rx" ] && [ "$tx" -eq $COUNT ] && [ $((tx - rx)) -le 1 ]
}

# run DESC IFACE_A PEERKEY_ON_A — the ping with the handshake watcher beside it
run() {
	local d=$1 hs=$LAB_TMP/hs-$2.txt w
	: >"$hs"
	watch_handshakes "$2" "$3" $((DURATION + 2)) "$hs" &
	w=$!
	t_check "$d: ${DURATION} s ping (-i $INTERVAL) loses at most 1 of $COUNT" long_ping a 10.77.0.2
	sed -n 's/^/    /; /packets transmitted/p' "$LAB_TMP/ping.last"
	wait "$w"
	t_check "$d: at least 3 rekeys, none more than 11 s apart" handshakes_ok "$hs"
	handshakes_ok "$hs" | sed 's/^/    /'
}

# ------------------------------------------------------------------ world

lab_ns a && lab_ns b && lab_veth a eth0 "$IP_A/24" b eth0 "$IP_B/24" ||
	{ t_fail "lab namespaces"; t_summary; }

# 1. fast wiremesh <-> fast wiremesh
D="wiremesh <-> wiremesh"
pair_key k1a && pair_key k1b
pair_wm_conf "${TAG}1a" k1a $PORT_A 10.77.0.1/24 k1b 10.77.0.2/32 "$IP_B:$PORT_B"
pair_wm_conf "${TAG}1b" k1b $PORT_B 10.77.0.2/24 k1a 10.77.0.1/32 "$IP_A:$PORT_A"
t_check "$D: agent a starts (fast timers)" pair_wm_start a "${TAG}1a"
t_check "$D: agent b starts (fast timers)" pair_wm_start b "${TAG}1b"
t_check "$D: first handshake" lab_wait_for 10 pair_ping1 a 10.77.0.2
run "$D" "${TAG}1a" k1b
t_check "$D: agent a still running" pair_alive "$PID_a"
t_check "$D: agent b still running" pair_alive "$PID_b"
lab_kill "$PID_a"
lab_kill "$PID_b"

# 2. fast wiremesh (initiator) <-> wireguard-go
D="wiremesh <-> wireguard-go"
IB=${TAG}2b
pair_key k2a && pair_key k2b
pair_wm_conf "${TAG}2a" k2a $PORT_A 10.77.0.1/24 k2b 10.77.0.2/32 "$IP_B:$PORT_B"
t_check "$D: agent a starts (fast timers)" pair_wm_start a "${TAG}2a"
t_check "$D: wireguard-go b configured (no endpoint: a initiates)" \
	pair_wggo_start b "$IB" k2b $PORT_B 10.77.0.2/24 peer "$(wm_pub k2a)" allowed-ips 10.77.0.1/32
t_check "$D: first handshake" lab_wait_for 10 pair_ping1 a 10.77.0.2
run "$D" "${TAG}2a" k2b
t_check "$D: agent a still running" pair_alive "$PID_a"
t_check "$D: wireguard-go b still running" pair_alive "$PID_b"

t_summary
