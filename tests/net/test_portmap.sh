#!/usr/bin/env bash
# tests/net/test_portmap.sh — port mappings from the gateway (NAT-PMP, UPnP).
#
# hosta sits behind a symmetric NAT whose router runs miniupnpd (Debian's
# miniupnpd-nftables); hostb behind a plain symmetric NAT. Two symmetric
# NATs never punch, so without a mapping the pair stays on the relay.
# miniupnpd refuses to map when its WAN address is reserved (documentation
# ranges are), so nata's WAN is 20.0.113.2/24 — an address that exists only
# inside these namespaces (DESIGN.md's one exception). Its nftables chains
# are created before it starts, and nata's forward filter lets in what
# miniupnpd DNATs. Checked:
#   - natpmpc and upnpc (the reference clients) get mappings: the lab works;
#   - the agent on hosta gets a mapping of its port (nat-pmp, in /v1/status)
#     and offers it as a candidate; the pair goes direct through it;
#   - the mapping is deleted when the agent stops;
#   - PortMapping = off asks nothing: the status says "off".
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wm.sh"
lab_init || { echo "0 passed, 1 failed"; exit 1; }
for t in miniupnpd natpmpc upnpc; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
		{ t_fail "$t missing (apt-get install miniupnpd-nftables natpmpc miniupnpc)"; t_summary; }
done
[ -x "$WM" ] || { t_fail "$WM missing (./build.sh build)"; t_summary; }

lab_topology symmetric symmetric || { t_fail "lab topology"; t_summary; }
WAN_A=20.0.113.2
setup_upnp_router() {
	lab_exec nata ip addr flush dev wan &&
		lab_exec nata ip addr add "$WAN_A/24" dev wan &&
		lab_exec inet ip addr add 20.0.113.1/24 dev to-a &&
		lab_exec nata ip route replace default via 20.0.113.1 &&
		lab_exec nata nft add rule inet wm_filter forward ct status dnat accept &&
		lab_exec nata nft -f - <<-'EON'
			table inet miniupnpd {
				chain forward { type filter hook forward priority -1; policy accept; jump miniupnpd; }
				chain miniupnpd { }
				chain prerouting { type nat hook prerouting priority -101; policy accept; jump prerouting_miniupnpd; }
				chain postrouting { type nat hook postrouting priority 99; policy accept; jump postrouting_miniupnpd; }
				chain prerouting_miniupnpd { }
				chain postrouting_miniupnpd { }
			}
		EON
	cat >"$LAB_TMP/miniupnpd.conf" <<-EOC
		ext_ifname=wan
		listening_ip=lan
		http_port=0
		enable_natpmp=yes
		enable_upnp=yes
		secure_mode=yes
		system_uptime=yes
		uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
		upnp_table_name=miniupnpd
		upnp_nat_table_name=miniupnpd
		upnp_forward_chain=miniupnpd
		upnp_nat_chain=prerouting_miniupnpd
		upnp_nat_postrouting_chain=postrouting_miniupnpd
		allow 1024-65535 10.0.1.0/24 1024-65535
		deny 0-65535 0.0.0.0/0 0-65535
	EOC
	lab_bg --name miniupnpd nata /usr/sbin/miniupnpd -d -f "$LAB_TMP/miniupnpd.conf"
	UPNPD_PID=$LAB_LAST_PID
	lab_wait_for 5 lab_exec nata sh -c 'ss -Hlun "sport = :5351" | grep -q .'
}
t_check "nata runs miniupnpd on a 20.0.113.0/24 WAN" setup_upnp_router
mappings() { lab_exec nata nft list chain inet miniupnpd prerouting_miniupnpd | grep -c dnat; }

ref_clients() {
	lab_exec hosta timeout 10 natpmpc -g 10.0.1.1 -a 40000 40000 udp 30 | tee /dev/stderr |
		grep -q "Mapped public port 40000 protocol UDP" &&
		lab_exec hosta timeout 15 upnpc -e wmtest -a 10.0.1.2 40001 40001 UDP | tee /dev/stderr |
		grep -q "external $WAN_A:40001 UDP is redirected" &&
		lab_exec hosta timeout 10 natpmpc -g 10.0.1.1 -a 40000 40000 udp 0 >/dev/null &&
		lab_exec hosta timeout 15 upnpc -d 40001 UDP >/dev/null
}
t_check "the reference clients (natpmpc, upnpc) get mappings" ref_clients 2>/dev/null

wm_key a && wm_key b || { t_fail "keys"; t_summary; }
wm_relay_start relay "$RELAY_IP" a b || { t_fail "relay start"; t_summary; }
agent_conf() { # NAME ADDR PEER PEER_ADDR [extra line]
	wm_agent_conf "$1" "$2/24" <<EOC
Relay = $RELAY_IP:3478
RelayPublicKey = $(wm_pub relay)
${5:-}

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
mapped() { [ "$(status a 'd["port_mapping"]["method"]')" = nat-pmp ] &&
	[ "$(status a 'd["port_mapping"]["external"]')" = "$WAN_A:51820" ]; }
t_check "a's agent maps its port with NAT-PMP ($WAN_A:51820)" lab_wait_for 10 mapped
has_mapping() { [ "$(mappings)" -ge 1 ]; }
t_check "miniupnpd holds the agent's mapping" lab_wait_for 3 has_mapping
method_is() { [ "$(status "$1" 'd["port_mapping"]["method"]')" = "$2" ]; }
t_check "b's gateway has none (status says so)" lab_wait_for 15 method_is b none

direct_via_mapping() {
	[ "$(wm_path b a)" = direct ] &&
		wm_api b "/v1/peers/$(wm_urlkey a)" | grep -q "\"endpoint\": *\"$WAN_A:51820\""
}
t_check "symmetric <-> symmetric goes direct through the mapping" lab_wait_for 20 direct_via_mapping
echo "b's view of a: $(wm_api b "/v1/peers/$(wm_urlkey a)" | tr -d '\n' | cut -c1-300)"
tunnel_ping() { lab_exec hosta ping -c 3 -i 0.2 -W 1 10.77.0.2 >/dev/null; }
t_check "pings cross the tunnel" tunnel_ping

eval "pid_a=\$WM_PID_a"
lab_kill "$pid_a"
no_mappings() { [ "$(mappings)" -eq 0 ]; }
t_check "the mapping is deleted when the agent stops" lab_wait_for 10 no_mappings

agent_conf a 10.77.0.1 b 10.77.0.2 "PortMapping = off"
wm_agent_start "$HOST_A_NS" a || t_fail "agent a restarts"
t_check "PortMapping = off: status says off" lab_wait_for 5 method_is a off
t_check "PortMapping = off: nothing mapped" no_mappings

# A gateway with UPnP only: the agent falls back to it.
eval "pid_a=\$WM_PID_a"
lab_kill "$pid_a"
lab_kill "$UPNPD_PID"
sed -i 's/^enable_natpmp=yes/enable_natpmp=no/' "$LAB_TMP/miniupnpd.conf"
lab_bg --name miniupnpd-upnp nata /usr/sbin/miniupnpd -d -f "$LAB_TMP/miniupnpd.conf"
agent_conf a 10.77.0.1 b 10.77.0.2
wm_agent_start "$HOST_A_NS" a || t_fail "agent a restarts"
upnp_mapped() { [ "$(status a 'd["port_mapping"]["method"]')" = upnp ] &&
	[ "$(status a 'd["port_mapping"]["external"]')" = "$WAN_A:51820" ]; }
t_check "UPnP only: a's agent maps its port with UPnP" lab_wait_for 15 upnp_mapped
t_check "miniupnpd holds the UPnP mapping" has_mapping
eval "pid_a=\$WM_PID_a"
lab_kill "$pid_a"
t_check "the UPnP mapping is deleted when the agent stops" lab_wait_for 10 no_mappings
t_summary
