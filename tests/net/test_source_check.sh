#!/usr/bin/env bash
# tests/net/test_source_check.sh — cryptokey routing on receive, against a
# real peer (issue 16): an authenticated peer may only send from its own
# AllowedIPs.
#
# Two namespaces: a runs the wiremesh agent (192.0.2.1, tunnel 10.77.0.1/24,
# its peer b allowed 10.77.0.2/32 only); b runs wireguard-go (192.0.2.2,
# tunnel 10.77.0.2/24, allowing a the whole 10.77.0.0/24). b then puts a
# second address, 10.77.0.9, on its tunnel interface: wireguard-go seals
# packets from it under the real session (its own rules allow that), and
# the agent must drop them after decryption and count them as
# reason="source_not_allowed" in /metrics. An nftables counter in a's
# namespace proves none of them reached a's network stack, and b's own
# address keeps working before and after. ~10 s.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg wireguard-go ping nft curl

TAG=ws$(($$ % 100000)) # interface names: unique per run (UAPI sockets are global)
IA=${TAG}a IB=${TAG}b
PORT_A=51820 PORT_B=51821
N=10 # spoofed pings

lab_ns a && lab_ns b && lab_veth a eth0 192.0.2.1/24 b eth0 192.0.2.2/24 ||
	{ t_fail "lab namespaces"; t_summary; }
pair_key ka && pair_key kb || { t_fail "keys"; t_summary; }
PAIR_API=1 pair_wm_conf "$IA" ka $PORT_A 10.77.0.1/24 kb 10.77.0.2/32
t_check "agent up in a" pair_wm_start a "$IA"
t_check "wireguard-go up in b (allows a 10.77.0.0/24, has 10.77.0.9 too)" \
	eval 'pair_wggo_start b "$IB" kb $PORT_B 10.77.0.2/24 peer "$(wm_pub ka)" \
		allowed-ips 10.77.0.0/24 endpoint 192.0.2.1:$PORT_A &&
		lab_exec b ip addr add 10.77.0.9/24 dev "$IB"'

# What reaches a's IP stack, by source: counted before any routing.
lab_exec a nft -f - <<'EOF' || t_fail "nftables counters in a"
table ip wmsrc {
	counter from_b {}
	counter from_spoof {}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip saddr 10.77.0.2 counter name from_b
		ip saddr 10.77.0.9 counter name from_spoof
	}
}
EOF
nft_count() { # NAME — packets so far
	lab_exec a nft list counter ip wmsrc "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
metrics() { curl -sS --max-time 3 --unix-socket "$LAB_TMP/$IA.api.sock" http://wiremesh/metrics; }
not_allowed() { # the agent's source_not_allowed drop counter
	metrics | awk '/^wiremesh_rx_dropped_packets_total\{.*reason="source_not_allowed"/ {print $NF}'
}
at_least() { # WANT CMD... — CMD prints a number >= WANT
	local want=$1 v
	shift
	v=$("$@")
	[ -n "$v" ] && [ "$v" -ge "$want" ]
}
hs_of_b() { wg show "$IA" latest-handshakes | awk -v k="$(wm_pub kb)" '$1 == k {print $2}'; }
ep_of_b() { wg show "$IA" endpoints | awk -v k="$(wm_pub kb)" '$1 == k {print $2}'; }

t_check "b (10.77.0.2) reaches a over the tunnel (wireguard-go initiates)" \
	lab_wait_for 10 pair_ping1 b 10.77.0.1
S0=$(not_allowed)
t_check "the agent exports the source_not_allowed counter" test -n "$S0"
S0=${S0:-0}
FB0=$(nft_count from_b)
HS0=$(hs_of_b) EP0=$(ep_of_b)
TX0=$(lab_exec b wg show "$IB" transfer | awk '{print $3}')

spoof() { # N pings from b's second address: none may come back
	local out
	out=$(lab_exec b ping -n -q -c $N -i 0.1 -W 1 -I 10.77.0.9 10.77.0.1 2>&1)
	echo "$out"
	grep -q ' 0 received' <<<"$out"
}
t_check "$N pings from 10.77.0.9 (b's, outside its AllowedIPs) get no answer" spoof
TX1=$(lab_exec b wg show "$IB" transfer | awk '{print $3}')
t_check "wireguard-go did seal and send them ($TX0 -> $TX1 bytes)" \
	test "$TX1" -ge $((TX0 + N * 100))
t_check "the agent counted each as source_not_allowed (from $S0, wants +$N)" \
	lab_wait_for 5 at_least $((S0 + N)) not_allowed
echo "    source_not_allowed: $S0 -> $(not_allowed)"
t_check "none reached a's IP stack (nftables: $(nft_count from_spoof) from 10.77.0.9)" \
	test "$(nft_count from_spoof)" = 0
t_check "b's session and endpoint did not change" \
	test "$(hs_of_b) $(ep_of_b)" = "$HS0 $EP0"
t_check "b's own address still gets through (5 of 5)" \
	sh -c "ip netns exec '$(lab_nsname b)' ping -n -q -c 5 -i 0.1 -W 1 -I 10.77.0.2 10.77.0.1 | grep -q ' 5 received'"
t_check "and reached a's IP stack ($FB0 -> $(nft_count from_b) packets from 10.77.0.2)" \
	test "$(nft_count from_b)" -ge $((FB0 + 5))
t_summary
