#!/usr/bin/env bash
# An attacker without keys who taps the internet router (sees disco pings
# between two agents whose direct path is blocked) replays them from its
# own host and then forwards only disco between the agents, dropping
# WireGuard data. Replay protection refuses the replays; where a forwarded
# ping still makes a side trust the attacker's address, WireGuard liveness
# (answers must come back that way) takes the trust away again, and the
# tunnel keeps working over the relay.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
. tests/net/nat_case.sh
lab_init
lab_topology none none
lab_side c none
# No direct path between a and b: only the relay works.
lab_exec "$INET_NS" nft -f - <<EOT
table inet wmblock {
	chain wmfwd {
		type filter hook forward priority -10; policy accept;
		ip saddr $PUBLIC_A_IP ip daddr $PUBLIC_B_IP udp dport != 3478 drop
		ip saddr $PUBLIC_B_IP ip daddr $PUBLIC_A_IP udp dport != 3478 drop
	}
}
EOT
wm_key a && wm_key b
wm_relay_start relay "$RELAY_IP" a b
nat_agent_conf a 10.77.0.1 b 10.77.0.2
nat_agent_conf b 10.77.0.2 a 10.77.0.1
lab_bg --name tap "$INET_NS" tcpdump -U -n -i any -w "$LAB_TMP/tap.pcap" udp port 51820
TAP=$LAB_LAST_PID
lab_wait_for 5 grep -q "listening on" "$LAB_LAST_LOG"
wm_agent_start "$HOST_A_NS" a && wm_agent_start "$HOST_B_NS" b
t_check "a reaches b over the relay" wm_wait_path a b relay 20
t_check "ping over the relay" nat_ping a b
T=tests/net/tools
tapped() { # a disco ping each way in the capture so far (tcpdump -U writes each packet)
	"$LAB_PYTHON" $T/disco_extract.py "$LAB_TMP/tap.pcap" "$PUBLIC_B_IP" "$PUBLIC_A_IP" >"$LAB_TMP/pb.hex" 2>/dev/null &&
		"$LAB_PYTHON" $T/disco_extract.py "$LAB_TMP/tap.pcap" "$PUBLIC_A_IP" "$PUBLIC_B_IP" >"$LAB_TMP/pa.hex" 2>/dev/null &&
		[ -s "$LAB_TMP/pb.hex" ] && [ -s "$LAB_TMP/pa.hex" ]
}
t_check "the tap captured a disco ping each way" lab_wait_for 20 tapped
lab_kill "$TAP"
disco_dropped() { # NAME
	wm_api "$1" /metrics | sed -n 's/^wiremesh_disco_dropped_total{[^}]*} //p'
}
DROPPED0=$(($(disco_dropped a) + $(disco_dropped b)))
lab_bg --name mitm "$HOST_C_NS" "$LAB_PYTHON" -u $T/disco_mitm.py "$PUBLIC_A_IP" "$PUBLIC_B_IP" \
	"$LAB_TMP/pb.hex" "$LAB_TMP/pa.hex" 90 blackhole
MITM_LOG=$LAB_LAST_LOG
# Keep traffic flowing, as a user would, while the attack runs.
lab_bg --name traffic "$HOST_A_NS" ping -i 0.5 -c 120 -W 1 10.77.0.2
sleep 30
# The attack was real: the agents answered the replays and the attacker
# carried their disco across (else this test would prove nothing).
t_check "the attacker replayed a ping each way" grep -q '^replayed [1-9][0-9]* [1-9]' "$MITM_LOG"
# Either the agents took the replays and the attacker carried their disco
# across, or (disco version 2's counter window) they refused the replayed
# pings, which they count: both are the attack met, neither a test that
# proved nothing.
attack_met() {
	local fwd dropped
	fwd=$(sed -n 's/^FWD //p' "$MITM_LOG" | tail -n1)
	dropped=$(($(disco_dropped a) + $(disco_dropped b) - DROPPED0))
	echo "attacker: ${fwd:-forwarded nothing}; disco refused by the agents meanwhile: $dropped"
	grep -q '^FWD disco=[1-9]' "$MITM_LOG" || [ "$dropped" -gt 0 ]
}
t_check "the attacker's disco was carried across or refused and counted" attack_met
t_check "30 s into the attack, a -> b is relayed, not via the attacker" test "$(wm_path a b)" = relay
t_check "30 s into the attack, b -> a is relayed, not via the attacker" wm_wait_path b a relay 10
ok_pings() { # out of 10 over 5 s
	nat_ping a b 10 | sed -n 's/.* \([0-9]*\) received.*/\1/p'
}
t_check "the tunnel works during the attack ($(ok_pings)/10 pings)" sh -c "[ \$(ip netns exec $HOST_A_NS ping -c 10 -i 0.3 -W 1 10.77.0.2 | sed -n 's/.* \([0-9]*\) received.*/\1/p') -ge 9 ]"
t_summary
