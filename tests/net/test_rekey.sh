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
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WMF=${WIREMESH_FAST:-$TOP/build/fasttimers/wiremesh}
lab_init || { echo "0 passed, 1 failed"; exit 1; }
for t in wg wireguard-go ping; do
	command -v "$t" >/dev/null 2>&1 || { t_fail "missing tool: $t"; t_summary; }
done
[ -x "$WMF" ] || {
	t_fail "$WMF missing (./build.sh test builds it: run_make OUT=build/fasttimers TIMERS=-DWM_TEST_FAST_TIMERS)"
	t_summary
}

# PID_a, PID_b: set by the start functions (eval)
PID_a="" PID_b=""
TAG=wr$(($$ % 100000)) # interface names: unique per run (UAPI sockets are global)
PORT_A=51820 PORT_B=51821
IP_A=192.0.2.1 IP_B=192.0.2.2
DURATION=30 INTERVAL=0.2 COUNT=150

# ------------------------------------------------------------------ helpers

# "STATE STARTTIME" of a PID (fields 3 and 22 of /proc/PID/stat)
proc_st() { sed -n 's/^.*) \([A-Za-z]\) \([^ ]* \)\{18\}\([0-9]*\) .*/\1 \3/p' "/proc/$1/stat" 2>/dev/null; }

alive() { # PID — running and not a zombie
	local s
	s=$(proc_st "$1") && [ -n "$s" ] && [ "${s%% *}" != Z ] && [ "${s%% *}" != X ]
}

genkey() { # NAME → $LAB_TMP/NAME.key (0600), $LAB_TMP/NAME.pub
	(umask 077 && wg genkey >"$LAB_TMP/$1.key") && wg pubkey <"$LAB_TMP/$1.key" >"$LAB_TMP/$1.pub"
}
key() { cat "$LAB_TMP/$1.key"; }
pub() { cat "$LAB_TMP/$1.pub"; }

uapi_up() { [ -S "/var/run/wireguard/$1.sock" ] && wg show "$1" >/dev/null 2>&1; }

ping1() { lab_exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; }

# wm_conf IFACE KEYNAME PORT ADDR PEERKEY ALLOWED [ENDPOINT]
wm_conf() {
	(
		umask 077
		exec >"$LAB_TMP/$1.conf"
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s\n\n' "$(key "$2")" "$3" "$4"
		printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$(pub "$5")" "$6"
		[ -z "${7:-}" ] || printf 'Endpoint = %s\n' "$7"
	)
}

start_wm() { # NS IFACE — sets PID_<NS>
	lab_bg --name "$2" "$1" "$WMF" agent --config "$LAB_TMP/$2.conf"
	eval "PID_$1=$LAB_LAST_PID"
	lab_wait_for 10 uapi_up "$2" || { echo "agent $2 did not come up"; cat "$LAB_LAST_LOG"; return 1; }
}

# watch_handshakes IFACE KEYNAME SECONDS FILE — every 0.25 s, append the
# peer's latest handshake (unix seconds) to FILE; bounded by SECONDS
watch_handshakes() {
	local k end
	k=$(pub "$2")
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
genkey k1a && genkey k1b
wm_conf "${TAG}1a" k1a $PORT_A 10.77.0.1/24 k1b 10.77.0.2/32 "$IP_B:$PORT_B"
wm_conf "${TAG}1b" k1b $PORT_B 10.77.0.2/24 k1a 10.77.0.1/32 "$IP_A:$PORT_A"
t_check "$D: agent a starts (fast timers)" start_wm a "${TAG}1a"
t_check "$D: agent b starts (fast timers)" start_wm b "${TAG}1b"
t_check "$D: first handshake" lab_wait_for 10 ping1 a 10.77.0.2
run "$D" "${TAG}1a" k1b
t_check "$D: agent a still running" alive "$PID_a"
t_check "$D: agent b still running" alive "$PID_b"
lab_kill "$PID_a"
lab_kill "$PID_b"

# 2. fast wiremesh (initiator) <-> wireguard-go
D="wiremesh <-> wireguard-go"
IB=${TAG}2b
genkey k2a && genkey k2b
wm_conf "${TAG}2a" k2a $PORT_A 10.77.0.1/24 k2b 10.77.0.2/32 "$IP_B:$PORT_B"
t_check "$D: agent a starts (fast timers)" start_wm a "${TAG}2a"
lab_bg --name "$IB" b env WG_PROCESS_FOREGROUND=1 wireguard-go "$IB"
PID_b=$LAB_LAST_PID
start_b() {
	lab_wait_for 10 uapi_up "$IB" &&
		lab_exec b wg set "$IB" private-key "$LAB_TMP/k2b.key" listen-port $PORT_B \
			peer "$(pub k2a)" allowed-ips 10.77.0.1/32 &&
		lab_exec b ip addr add 10.77.0.2/24 dev "$IB" &&
		lab_exec b ip link set "$IB" up
}
t_check "$D: wireguard-go b configured (no endpoint: a initiates)" start_b
t_check "$D: first handshake" lab_wait_for 10 ping1 a 10.77.0.2
run "$D" "${TAG}2a" k2b
t_check "$D: agent a still running" alive "$PID_a"
t_check "$D: wireguard-go b still running" alive "$PID_b"

t_summary
