# shellcheck shell=bash
# tests/net/nat_case.sh — one NAT-lab world with a relay, a second STUN
# server and two agents (a behind TYPE_A, b behind TYPE_B) that know each
# other only by key: no Endpoint, no open inbound port. Used by the NAT
# traversal tests and the demo. Source lib.sh and wm.sh first.
#
#   nat_world TYPE_A TYPE_B   builds it and starts everything
#                             (NAT_IFACE_EXTRA: more [Interface] lines)
#   nat_ping FROM TO          one ping through the tunnel (a=10.77.0.1, b=.2)

nat_world() { # TYPE_A TYPE_B
	lab_topology "$1" "$2" || return 1
	wm_key a && wm_key b || return 1
	wm_relay_start relay "$RELAY_IP" a b || return 1
	wm_stun_start stun2 "$STUN2_IP"
	nat_agent_conf a 10.77.0.1 b 10.77.0.2
	nat_agent_conf b 10.77.0.2 a 10.77.0.1
	wm_agent_start "$HOST_A_NS" a && wm_agent_start "$HOST_B_NS" b
}

nat_agent_conf() { # NAME ADDR PEER PEER_ADDR
	wm_agent_conf "$1" "$2/24" <<EOC
Relay = $RELAY_IP:3478
RelayTCP = $RELAY_IP:443
RelayPublicKey = $(wm_pub relay)
STUN = $STUN2_IP:3478
${NAT_IFACE_EXTRA:-}

[Peer]
PublicKey = $(wm_pub "$3")
AllowedIPs = $4/32
PersistentKeepalive = 10
EOC
}

nat_ip() { case $1 in a) echo 10.77.0.1 ;; b) echo 10.77.0.2 ;; esac; }
nat_ns() { case $1 in a) echo "$HOST_A_NS" ;; b) echo "$HOST_B_NS" ;; esac; }

nat_ping() { # FROM TO [count]
	lab_exec "$(nat_ns "$1")" ping -c "${3:-3}" -i 0.2 -W 2 "$(nat_ip "$2")"
}

# A short iperf3 run from a to b; prints Mbit/s.
nat_iperf() { # SECONDS
	local pid out
	lab_bg --name iperf-server "$HOST_B_NS" iperf3 -s -1 -B 10.77.0.2
	pid=$LAB_LAST_PID
	lab_wait_for 5 lab_exec "$HOST_B_NS" sh -c 'ss -Htln "sport = :5201" | grep -q .'
	out=$(lab_exec "$HOST_A_NS" iperf3 -c 10.77.0.2 -t "${1:-3}" -J 2>/dev/null) || {
		lab_kill "$pid"
		return 1
	}
	lab_kill "$pid"
	echo "$out" | "$LAB_PYTHON" -c 'import json,sys; d=json.load(sys.stdin); b=d["end"]["sum_received"]["bits_per_second"]; print("%.1f Mbit/s" % (b/1e6)); sys.exit(0 if b > 0 else 1)'
}
