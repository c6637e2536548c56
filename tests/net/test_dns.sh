#!/usr/bin/env bash
# tests/net/test_dns.sh — host names never block the agent's loop.
#
# hosta's agent names its relay, its STUN server and two peer endpoints by
# host name. Its namespace gets its own /etc/hosts and /etc/resolv.conf
# (ip netns exec binds /etc/netns/NS/* over /etc): peerb.wm.test is in the
# hosts file, everything else goes to a name server whose queries an
# nftables rule drops (counted), so every DNS lookup hangs until glibc's
# timeout, again and again. Checked:
#   - the agent starts and keeps running (the config used to be resolved
#     before the loop: a name that did not resolve stopped the agent, and a
#     dead name server held it up for the resolver's timeouts first);
#   - the peer named in the hosts file gets its endpoint in the background,
#     and the tunnel to it carries pings;
#   - while the lookups hang: pings, `wg show`, `/v1/status` and a
#     `wiremesh peers` all answer, every second for 8 s;
#   - the dead server was asked (nft counter), the relay is reported not
#     connected, and the unresolvable endpoint is logged with file:line.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wm.sh"
lab_init || { echo "0 passed, 1 failed"; exit 1; }
[ -x "$WM" ] || { t_fail "$WM missing (./build.sh build)"; t_summary; }

lab_topology none none || { t_fail "lab topology"; t_summary; }
NETNS_ETC=/etc/netns/$HOST_A_NS
lab_on_cleanup() { case $NETNS_ETC in /etc/netns/wm-*) rm -rf "$NETNS_ETC" ;; esac; }
mkdir -p "$NETNS_ETC"
printf '127.0.0.1 localhost\n%s peerb.wm.test\n' "$HOST_B_IP" >"$NETNS_ETC/hosts"
printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$STUN2_IP" >"$NETNS_ETC/resolv.conf"
lab_exec hosta nft -f - <<'EOF2' || t_fail "nft dns drop"
table inet deaddns {
	counter queries { }
	chain output {
		type filter hook output priority 0; policy accept;
		udp dport 53 counter name queries drop
		tcp dport 53 counter name queries drop
	}
}
EOF2

wm_key a && wm_key b && wm_key c && wm_key relay || { t_fail "keys"; t_summary; }
IF_A=$(wm_ifname a)
wm_agent_conf a 10.77.0.1/24 <<EOC
Relay = relay.wm.test:3478
RelayPublicKey = $(wm_pub relay)
STUN = stun.wm.test:3478

[Peer]
PublicKey = $(wm_pub b)
AllowedIPs = 10.77.0.2/32
Endpoint = peerb.wm.test:51820
PersistentKeepalive = 5

[Peer]
PublicKey = $(wm_pub c)
AllowedIPs = 10.77.0.3/32
Endpoint = nowhere.wm.test:51820
EOC
wm_agent_conf b 10.77.0.2/24 <<EOC
[Peer]
PublicKey = $(wm_pub a)
AllowedIPs = 10.77.0.1/32
EOC
START=$(date +%s%N)
wm_agent_start "$HOST_A_NS" a || { t_fail "agent a starts"; t_summary; }
UP_MS=$((($(date +%s%N) - START) / 1000000))
echo "agent a's API up after $UP_MS ms"
wm_agent_start "$HOST_B_NS" b || { t_fail "agent b starts"; t_summary; }

ping_b() { lab_exec hosta ping -c 1 -W 1 10.77.0.2 >/dev/null; }
t_check "endpoint from the hosts file applied in the background: ping a -> b" \
	lab_wait_for 10 ping_b

dns_queries() {
	lab_exec hosta nft -j list counter inet deaddns queries |
		"$LAB_PYTHON" -c 'import json,sys
for o in json.load(sys.stdin)["nftables"]:
    if "counter" in o: print(o["counter"]["packets"])'
}
asked_dead_server() { [ "$(dns_queries)" -gt 0 ]; }
t_check "the dead name server is being asked" lab_wait_for 10 asked_dead_server

# Every second for 8 s, everything on the loop answers within its timeout.
responsive() {
	local i bad=0
	for ((i = 0; i < 8; i++)); do
		ping_b || { echo "round $i: ping failed"; bad=$((bad + 1)); }
		lab_exec hosta timeout 2 wg show "$IF_A" >/dev/null ||
			{ echo "round $i: wg show"; bad=$((bad + 1)); }
		wm_api a /v1/status --max-time 2 >/dev/null ||
			{ echo "round $i: /v1/status"; bad=$((bad + 1)); }
		timeout 2 "$WM" peers --socket "$LAB_TMP/a.api.sock" >/dev/null ||
			{ echo "round $i: wiremesh peers"; bad=$((bad + 1)); }
		sleep 1
	done
	echo "dns queries dropped so far: $(dns_queries)"
	[ "$bad" -eq 0 ]
}
t_check "tunnel, wg show, API and CLI answer while DNS hangs (8 rounds)" responsive

relay_down() {
	wm_api a /v1/status | "$LAB_PYTHON" -c \
		'import json,sys; sys.exit(0 if json.load(sys.stdin)["relay"]["connected"] is False else 1)'
}
t_check "the unresolvable relay is reported not connected" relay_down
t_check "the unresolvable endpoint is logged with file and line" \
	lab_wait_for 15 grep -q "$IF_A.conf:[0-9]*: Endpoint: cannot resolve 'nowhere.wm.test:51820'" \
	"$LAB_TMP/a.log"
t_check "agent a still runs" kill -0 "$WM_PID_a"
t_summary
