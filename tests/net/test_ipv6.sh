#!/usr/bin/env bash
# tests/net/test_ipv6.sh — relay, STUN and direct paths over IPv6.
#
# Two hosts, each behind a stateful firewall (replies only) that also does
# NAT44 for IPv4 — a home router of today — with global addresses from
# 2001:db8::/32 (lib.sh lab_v6). The relay and the STUN server are named
# only by their IPv6 addresses, so everything the agents learn through
# them is IPv6. Checked:
#   - the relay session runs over IPv6 (relay.connected, its endpoint);
#   - STUN over IPv6: each agent's reflexive addresses include its own
#     global IPv6 address and port (no NAT66);
#   - both firewalls are punched from the inside at once: the path becomes
#     direct over IPv6, and pings cross the tunnel;
#   - the relay answers STUN over IPv6 on its second port too (the
#     mapping classification needs two answers of one family).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wm.sh"
lab_init || { echo "0 passed, 1 failed"; exit 1; }
[ -x "$WM" ] || { t_fail "$WM missing (./build.sh build)"; t_summary; }

lab_topology cone cone && lab_v6 || { t_fail "lab topology with IPv6"; t_summary; }
wm_key a && wm_key b || { t_fail "keys"; t_summary; }
wm_relay_start relay "$RELAY_IP" a b || { t_fail "relay start"; t_summary; }
wm_stun_start stun2 "$STUN2_IP"

v6_reach() { lab_exec hosta ping -6 -c 1 -W 1 "$RELAY_IP6" >/dev/null; }
t_check "lab: hosta reaches the relay over IPv6" lab_wait_for 5 v6_reach
v6_blocked() { ! lab_exec hosta ping -6 -c 1 -W 1 "$HOST_B_IP6" >/dev/null; }
t_check "lab: hostb's firewall drops what hosta starts (IPv6)" v6_blocked

agent_conf() { # NAME ADDR PEER PEER_ADDR
	wm_agent_conf "$1" "$2/24" <<EOC
Relay = [$RELAY_IP6]:3478
RelayPublicKey = $(wm_pub relay)
STUN = [$STUN2_IP6]:3478

[Peer]
PublicKey = $(wm_pub "$3")
AllowedIPs = $4/32
PersistentKeepalive = 10
EOC
}
agent_conf a 10.77.0.1 b 10.77.0.2 && agent_conf b 10.77.0.2 a 10.77.0.1
wm_agent_start "$HOST_A_NS" a && wm_agent_start "$HOST_B_NS" b ||
	{ t_fail "agents start"; t_summary; }

status() { # NAME PYTHON-EXPR on d
	wm_api "$1" /v1/status | "$LAB_PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>/dev/null
}
relay_v6_up() {
	[ "$(status "$1" 'd["relay"]["connected"]')" = True ] &&
		[ "$(status "$1" 'd["relay"]["endpoint"]')" = "[$RELAY_IP6]:3478" ]
}
t_check "a's relay session runs over IPv6" lab_wait_for 10 relay_v6_up a
t_check "b's relay session runs over IPv6" lab_wait_for 10 relay_v6_up b

reflexive_v6() { # NAME WANT
	status "$1" 'd["reflexive"]' | grep -qF "'[$2]:51820'"
}
t_check "STUN over IPv6: a sees its own global address" lab_wait_for 10 reflexive_v6 a "$HOST_A_IP6"
t_check "STUN over IPv6: b sees its own global address" lab_wait_for 10 reflexive_v6 b "$HOST_B_IP6"
mapping_known() { [ "$(status a 'd["nat"]["mapping"]')" = endpoint-independent ]; }
t_check "IPv6 answers from two servers classify a's mapping" lab_wait_for 10 mapping_known

peer_field() { # NAME PEER FIELD
	wm_api "$1" "/v1/peers/$(wm_urlkey "$2")" |
		"$LAB_PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"$3\"])" 2>/dev/null
}
direct_v6() { # NAME PEER WANT_IP
	[ "$(peer_field "$1" "$2" path)" = direct ] &&
		[ "$(peer_field "$1" "$2" endpoint)" = "[$3]:51820" ]
}
t_check "a -> b direct over IPv6 through both firewalls" lab_wait_for 15 direct_v6 a b "$HOST_B_IP6"
t_check "b -> a direct over IPv6 through both firewalls" lab_wait_for 15 direct_v6 b a "$HOST_A_IP6"
echo "a's endpoint for b: $(peer_field a b endpoint); candidates: $(peer_field a b candidates)"
tunnel_ping() { lab_exec hosta ping -c 3 -i 0.2 -W 1 10.77.0.2 >/dev/null; }
t_check "pings cross the tunnel" tunnel_ping
t_summary
