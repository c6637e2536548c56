#!/usr/bin/env bash
# tests/net/test_flood_relay.sh — a handshake flood against the relay
# (issue 13, "hard to knock over"): 15,000 initiations a second from 100
# addresses (tests/tools/hs_flood, valid mac1 for the relay's key,
# answering the relay's cookies), while two allowed agents talk through it.
#
#   over UDP (~7 s): agent a is connected before the flood; agent b starts
#     during it, so its relay handshake meets the load: a cookie first, then
#     its own address's budget. Both keep >= 90% of their pings.
#   over TCP (~6 s): the same flood on 100 TCP connections to the relay's
#     plain TCP listener; the relay answers cookies there too, and the
#     pings between a and b (relayed over UDP) still get through.
# Each flood is stopped once the pings are done (so it covers them all, on
# a busy machine too). The relay's counters (SIGUSR1) must show cookie replies and initiations
# stopped by the per-address budget; its CPU and the ping figures are
# printed, not asserted (./build.sh bench measures throughput).
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init || { echo "0 passed, 1 failed"; exit 1; }
FLOOD=$PWD/build/tests/hs_flood
[ -x "$FLOOD" ] && [ -x "$WM" ] || { t_fail "build/ missing (./build.sh build)"; t_summary; }
RATE=${FLOOD_RATE:-15000}

lab_topology none none || { t_fail "lab topology"; t_summary; }
# The flood's 100 addresses, on the second STUN host's link: the relay's
# cookies route back to them through the lab's internet.
for i in $(seq 100 199); do echo "addr add 198.51.100.$i/24 dev eth0"; done |
	lab_exec stun2 ip -batch - || { t_fail "flood addresses"; t_summary; }

wm_key a && wm_key b && wm_key relay || { t_fail "keys"; t_summary; }
# Plain TCP (no TLSCert), so that the flood can speak the relay's framing.
cat >"$LAB_TMP/relay.conf" <<EOC
[Relay]
PrivateKey = $(wm_priv relay)
ListenPort = 3478
TCPListen = $RELAY_IP:443
MaxClients = 200
AllowedClients = $(wm_pub a)
AllowedClients = $(wm_pub b)
EOC
chmod 600 "$LAB_TMP/relay.conf"
lab_bg --name relay "$RELAY_NS" "$WM" relay --config "$LAB_TMP/relay.conf"
RELAY_PID=$LAB_LAST_PID
t_check "relay listens" lab_wait_for 5 lab_exec "$RELAY_NS" sh -c 'ss -Hlun "sport = :3478" | grep -q .'

agent_conf() { # NAME ADDR PEER PEER_ADDR
	wm_agent_conf "$1" "$2/24" <<EOC
Relay = $RELAY_IP:3478
RelayPublicKey = $(wm_pub relay)

[Peer]
PublicKey = $(wm_pub "$3")
AllowedIPs = $4/32
Path = relay
EOC
}
agent_conf a 10.77.0.1 b 10.77.0.2
agent_conf b 10.77.0.2 a 10.77.0.1

relay_up() { # NAME
	wm_api "$1" /v1/status | "$LAB_PYTHON" -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["relay"]["connected"] else 1)'
}
counter() { # NAME: the relay's counter (drops by their name), printed on SIGUSR1
	local before
	before=$(grep -c 'relay: drops' "$LAB_TMP/relay.log")
	kill -USR1 "$RELAY_PID"
	lab_wait_for 3 sh -c "[ \$(grep -c 'relay: drops' '$LAB_TMP/relay.log') -gt $before ]" || return 1
	grep -o " $1=[0-9]*" "$LAB_TMP/relay.log" | tail -n 1 | cut -d= -f2
}
counter_above() { local v; v=$(counter "$1"); [ -n "$v" ] && [ "$v" -gt "$2" ]; }
conns_up() { [ "$(lab_exec "$RELAY_NS" ss -Htn state established '( sport = :443 )' | wc -l)" -ge "$1" ]; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
flood() { # NAME SECONDS [args]
	lab_bg --name "$1" stun2 "$FLOOD" --key "$(wm_pub relay)" --relay --cookies \
		--src 198.51.100.100 --sources 100 --rate "$RATE" --seconds "$2" "${@:3}"
	FLOOD_PID=$LAB_LAST_PID FLOOD_LOG=$LAB_LAST_LOG
}
flood_done() { lab_wait_for 15 sh -c "! kill -0 $FLOOD_PID 2>/dev/null"; }
PINGS=25
pings() { # FROM_NS DST: prints "received/sent" and the rtt line; true at >= 90%
	local out rx
	out=$(lab_exec "$1" ping -n -q -c $PINGS -i 0.2 -W 1 "$2" 2>&1)
	rx=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' <<<"$out")
	echo "${rx:-0}/$PINGS answered; $(grep rtt <<<"$out")"
	[ "${rx:-0}" -ge $((PINGS * 9 / 10)) ]
}
report() { # WHAT: pings a -> b, printed; then the check on them
	local r
	r=$(pings "$HOST_A_NS" 10.77.0.2)
	echo "    ping a -> b $1: $r"
	t_check "a and b keep >= 90% of their pings $1 (${r%% *})" test "${r%%/*}" -ge $((PINGS * 9 / 10))
}

wm_agent_start "$HOST_A_NS" a || t_fail "agent a starts"
t_check "a connects to the relay (before the flood)" lab_wait_for 10 relay_up a

# --- UDP ------------------------------------------------------------------------
echo "=== flood over UDP: $RATE/s from 100 addresses, answering cookies, until the pings are done"
c0=$(counter cookie_replies) l0=$(counter handshake_rate_limited)
k0=$(cpu_ticks "$RELAY_PID") s0=$(date +%s.%N)
flood flood-udp 40 --target "$RELAY_IP:3478"
t_check "the relay answers the flood with cookies" lab_wait_for 4 counter_above cookie_replies "${c0:-0}"
wm_agent_start "$HOST_B_NS" b || t_fail "agent b starts"
t_check "b connects to the relay under the flood (a cookie round, then its budget)" lab_wait_for 10 relay_up b
report "under the UDP flood"
t_check "... the flood ran all along" kill -0 "$FLOOD_PID"
kill -TERM "$FLOOD_PID" 2>/dev/null
t_check "flood over UDP ends" flood_done
k1=$(cpu_ticks "$RELAY_PID") s1=$(date +%s.%N)
sed -n 's/^/    /p' "$FLOOD_LOG"
c1=$(counter cookie_replies) l1=$(counter handshake_rate_limited)
echo "    relay CPU during the flood: $(awk -v k=$((k1 - k0)) -v hz="$(getconf CLK_TCK)" -v a="$s0" -v b="$s1" \
	'BEGIN {printf "%.0f%% of one core over %.1f s", 100 * k / hz / (b - a), b - a}')"
echo "    relay cookie replies: $c0 -> $c1; initiations over budget: $l0 -> $l1"
t_check "cookie replies counted" test "${c1:-0}" -gt "${c0:-0}"
t_check "initiations stopped by the per-address budget" test "${l1:-0}" -gt "${l0:-0}"
t_check "the flood opened the relay's cookies" grep -q 'cookies_opened=[1-9]' "$FLOOD_LOG"

# --- TCP ------------------------------------------------------------------------
echo "=== flood over TCP: $RATE/s on 100 connections, answering cookies, until the pings are done"
k0=$(cpu_ticks "$RELAY_PID") s0=$(date +%s.%N)
flood flood-tcp 40 --target "$RELAY_IP:443" --tcp
t_check "the flood's 100 connections are up" lab_wait_for 5 conns_up 100
report "under the TCP flood"
t_check "... the flood ran all along" kill -0 "$FLOOD_PID"
kill -TERM "$FLOOD_PID" 2>/dev/null
t_check "flood over TCP ends" flood_done
k1=$(cpu_ticks "$RELAY_PID") s1=$(date +%s.%N)
sed -n 's/^/    /p' "$FLOOD_LOG"
c2=$(counter cookie_replies) l2=$(counter handshake_rate_limited)
echo "    relay CPU during the flood: $(awk -v k=$((k1 - k0)) -v hz="$(getconf CLK_TCK)" -v a="$s0" -v b="$s1" \
	'BEGIN {printf "%.0f%% of one core over %.1f s", 100 * k / hz / (b - a), b - a}')"
echo "    relay cookie replies: $c1 -> $c2; initiations over budget: $l1 -> $l2"
t_check "the flood's connections were accepted" grep -q 'connected=[1-9]' "$FLOOD_LOG"
t_check "cookie replies over TCP" grep -q 'cookies_opened=[1-9]' "$FLOOD_LOG"
t_check "initiations over TCP stopped by the per-address budget" test "${l2:-0}" -gt "${l1:-0}"
t_check "the relay still runs" kill -0 "$RELAY_PID"
t_summary
