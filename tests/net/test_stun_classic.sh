#!/usr/bin/env bash
# tests/net/test_stun_classic.sh — STUN for every client, and one relay is
# enough to classify a NAT.
#
# `wiremesh relay` answers RFC 3489 clients (no magic cookie) with
# MAPPED-ADDRESS and CHANGED-ADDRESS, and answers on a second port
# (STUNAltPort, default ListenPort + 1) named in OTHER-ADDRESS. Checked:
#   - Debian's `stun` client (RFC 3489) prints hosta's NAT's public address
#     and the relay's second port as the changed address; its "change port"
#     test is answered from the second port (a port-restricted NAT drops it,
#     as the client then reports);
#   - an agent whose only STUN server is the relay reports its NAT's mapping:
#     endpoint-independent behind a cone NAT (hosta), endpoint-dependent
#     behind a symmetric one (hostb), in /v1/status;
#   - STUNAltPort = 0 turns the second port off (and the mapping stays
#     unknown with the relay alone, as before).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wm.sh"
lab_init || { echo "0 passed, 1 failed"; exit 1; }

command -v stun >/dev/null 2>&1 || { t_fail "stun client missing (apt-get install stun-client)"; t_summary; }
[ -x "$WM" ] || { t_fail "$WM missing (./build.sh build)"; t_summary; }

lab_topology cone symmetric || { t_fail "lab topology"; t_summary; }
wm_key a && wm_key b || { t_fail "keys"; t_summary; }
wm_relay_start relay "$RELAY_IP" a b || { t_fail "relay start"; t_summary; }

udp_port_open() { lab_exec relay sh -c "ss -Hlun 'sport = :$1' | grep -q ."; }
t_check "relay listens on the second STUN port 3479" lab_wait_for 5 udp_port_open 3479

classic_client() {
	local out
	out=$(lab_exec hosta timeout 30 stun -v "$RELAY_IP" 2>&1)
	grep -E "MappedAddress|ChangedAddress|^test|Primary" <<<"$out" | sort -u
	grep -q "MappedAddress = $PUBLIC_A_IP:[0-9]" <<<"$out" &&
		grep -q "ChangedAddress = $RELAY_IP:3479" <<<"$out" &&
		grep -q "test I = 1" <<<"$out"
}
t_check "Debian's stun client (RFC 3489) prints hosta's mapped address" classic_client

agent_conf() { # NAME ADDR
	wm_agent_conf "$1" "$2/24" <<EOC
Relay = $RELAY_IP:3478
RelayPublicKey = $(wm_pub relay)
EOC
}
agent_conf a 10.77.0.1 && agent_conf b 10.77.0.2
wm_agent_start "$HOST_A_NS" a && wm_agent_start "$HOST_B_NS" b ||
	{ t_fail "agents start"; t_summary; }

mapping() { # NAME
	wm_api "$1" /v1/status |
		"$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["nat"]["mapping"])' 2>/dev/null
}
mapping_is() { # NAME WANT
	local got
	got=$(mapping "$1")
	[ "$got" = "$2" ] || { echo "$1: nat.mapping is '$got', want '$2'"; return 1; }
}
t_check "cone NAT, the relay as only STUN server: endpoint-independent" \
	lab_wait_for 10 mapping_is a endpoint-independent
t_check "symmetric NAT, the relay as only STUN server: endpoint-dependent" \
	lab_wait_for 10 mapping_is b endpoint-dependent
mapping_is a endpoint-independent >/dev/null && mapping_is b endpoint-dependent >/dev/null &&
	echo "mapping with one relay: hosta $(mapping a), hostb $(mapping b)"

# netcheck asks again and reports what came back now, not the last round:
# with the relay's STUN answers dropped before hosta, its servers read as
# not answering (the agent's cached answers are seconds old); let through,
# they answer, with a latency.
stun_answered() { # NAME: "answered" of each STUN server in a fresh netcheck
	wm_api "$1" "/v1/netcheck?timeout_ms=800" |
		"$LAB_PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(str(s["answered"]).lower() + ("" if s["latency_us"] is None else "+rtt") for s in d["stun"]))'
}
lab_exec hosta nft -f - <<'EOF2' || t_fail "nft stun drop"
table inet wmstundrop {
	chain input { type filter hook input priority -10; udp sport { 3478, 3479 } meta length < 200 drop; }
}
EOF2
got=$(stun_answered a)
t_check "netcheck with STUN answers dropped: no server answered ($got)" eval '[[ "$got" =~ ^false( false)*$ ]]'
lab_exec hosta nft delete table inet wmstundrop
got=$(stun_answered a)
t_check "netcheck with STUN answers back: every server answered, with a latency ($got)" eval '[[ "$got" =~ ^true\+rtt( true\+rtt)*$ ]]'
t_check "netcheck: a bad timeout_ms is 422" eval \
	'[ "$(wm_api a "/v1/netcheck?timeout_ms=0" -o /dev/null -w "%{http_code}")" = 422 ]'

# The relay without a second port: the mapping cannot be told.
lab_kill "$WM_RELAY_PID"
echo "STUNAltPort = 0" >>"$LAB_TMP/relay.conf"
lab_bg --name relay-noalt relay "$WM" relay --config "$LAB_TMP/relay.conf"
WM_RELAY_PID=$LAB_LAST_PID
t_check "relay back on 3478" lab_wait_for 5 udp_port_open 3478
no_alt_port() { ! udp_port_open 3479; }
t_check "STUNAltPort = 0: no second port" no_alt_port
t_check "relay log says no second port" \
	lab_wait_for 3 grep -q "udp port 3478 (relay + STUN); tcp" "$LAB_TMP/relay-noalt.log"
t_summary
