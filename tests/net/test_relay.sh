#!/usr/bin/env bash
# Relay and STUN in the agent (issue 5): two agents that cannot reach each
# other directly talk through the relay — over UDP, over TLS when one side's
# UDP is blocked, and with both on TCP — and the relay never sees what they
# say. The agents' STUN client classifies their NATs.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
. tests/net/nat_case.sh
lab_init

MARKER=776d6d61726b6572c0ffee   # "wmmarker" + c0ffee, as ping -p fills payloads
has_marker() { # PCAP: the marker bytes anywhere in the capture
	"$LAB_PYTHON" -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1], "rb").read() else 1)' "$1" "$MARKER"
}
no_marker() { ! has_marker "$1"; }
transport_of() { # NAME: the relay transport in its status
	wm_api "$1" /v1/status | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["relay"]["transport"])'
}
mapping_of() {
	wm_api "$1" /v1/status | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["nat"]["mapping"])'
}
wait_mapping() { # NAME WANT
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(mapping_of "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	echo "mapping of $1: $(mapping_of "$1"), wanted $2"
	return 1
}
nat_iperf5() { nat_iperf 5; }

# --- symmetric on both sides: no direct path can exist -------------------------
nat_world symmetric symmetric || t_fail "symmetric/symmetric world"
t_check "a's NAT is classified endpoint-dependent" wait_mapping a endpoint-dependent
t_check "a -> b over the relay" wm_wait_path a b relay 20
t_check "b -> a over the relay" wm_wait_path b a relay 10
lab_bg --name capture "$RELAY_NS" tcpdump -U -s 0 -i any -w "$LAB_TMP/relay.pcap"
cap=$LAB_LAST_PID
lab_bg --name capture-inner "$HOST_B_NS" tcpdump -U -s 0 -i "$(wm_ifname b)" -w "$LAB_TMP/inner.pcap"
cap2=$LAB_LAST_PID
sleep 1
t_check "ping with a marker payload, a -> b" lab_exec "$HOST_A_NS" ping -c 5 -i 0.2 -W 2 -p "$MARKER" 10.77.0.2
t_check "iperf3 5 s over the relay (UDP)" nat_iperf5
sleep 0.5
lab_kill "$cap"
lab_kill "$cap2"
t_check "the relay's capture holds relayed traffic" test "$(stat -c %s "$LAB_TMP/relay.pcap")" -gt 100000
t_check "the marker is inside the tunnel (the check can see it)" has_marker "$LAB_TMP/inner.pcap"
t_check "the marker never appears in the relay's capture" no_marker "$LAB_TMP/relay.pcap"
# The forwarding frames' header fields, as README "Relay frames" documents
# them, in every relay datagram captured (any one mismatch fails).
relay_frames() {
	"$LAB_PYTHON" tests/net/tools/relay_frames.py "$LAB_TMP/relay.pcap" "$RELAY_IP" \
		"$PUBLIC_A_IP=$(wm_pub a)" "$PUBLIC_B_IP=$(wm_pub b)" \
		--v2-from "$PUBLIC_A_IP" --v2-to "$PUBLIC_B_IP" --v2-from "$PUBLIC_B_IP" --v2-to "$PUBLIC_A_IP"
}
t_check "relayed data crosses as forwarding frames, header fields as documented" relay_frames

# --- cone: endpoint-independent; udpblock: relay over TLS ----------------------
lab_reset
nat_world udpblock cone || t_fail "udpblock/cone world"
t_check "b's NAT (cone) is classified endpoint-independent" wait_mapping b endpoint-independent
t_check "a (UDP blocked) reaches b over the relay" wm_wait_path a b relay 25
t_check "b reaches a over the relay" wm_wait_path b a relay 10
t_check "a's relay session is over TLS" test "$(transport_of a)" = tls
t_check "b's relay session is over UDP" test "$(transport_of b)" = udp
t_check "ping a -> b" nat_ping a b
t_check "iperf3 5 s, a on TLS" nat_iperf5

# --- both sides on TCP ------------------------------------------------------------
lab_reset
nat_world udpblock udpblock || t_fail "udpblock/udpblock world"
t_check "a -> b over the relay" wm_wait_path a b relay 25
t_check "b -> a over the relay" wm_wait_path b a relay 15
t_check "a on TLS" test "$(transport_of a)" = tls
t_check "b on TLS" test "$(transport_of b)" = tls
t_check "ping a -> b" nat_ping a b
t_check "ping b -> a" nat_ping b a
t_check "iperf3 5 s, both on TLS" nat_iperf5
# --- forcing a path through the API moves the data plane ------------------------
lab_reset
nat_world cone cone || t_fail "cone/cone world"
forwarded() { # frames the relay has forwarded so far
	kill -USR1 "$WM_RELAY_PID"
	sleep 0.3
	sed -n 's/.*forwarded frames=\([0-9]*\).*/\1/p' "$LAB_TMP/relay.log" | tail -n 1
}
set_mode() { # MODE: a's path mode for b
	wm_api a "/v1/peers/$(wm_urlkey b)/path" -X PUT -H 'Content-Type: application/json' \
		-d "{\"mode\":\"$1\"}" >/dev/null
}
t_check "cone/cone: direct" wm_wait_path a b direct 20
t_check "cone/cone: ping while direct" nat_ping a b
f0=$(forwarded)
nat_ping a b 10 >/dev/null
f1=$(forwarded)
t_check "direct pings do not cross the relay ($f0 -> $f1 frames)" test $((f1 - f0)) -lt 5
set_mode relay
t_check "PUT path relay: a -> b relayed" wm_wait_path a b relay 2
nat_ping a b 10 >/dev/null
f2=$(forwarded)
t_check "forced relay: the pings cross the relay ($f1 -> $f2 frames)" test $((f2 - f1)) -ge 10
set_mode auto
t_check "PUT path auto: direct again" wm_wait_path a b direct 10
set_mode direct
t_check "PUT path direct: stays direct" wm_wait_path a b direct 2
t_check "ping in direct mode" nat_ping a b
t_summary
