#!/usr/bin/env bash
# The agent's life cycle (issue 4): SIGHUP reloads the config file, adding
# and removing peers while unchanged peers keep their sessions; a broken
# file on reload changes nothing; SIGTERM removes the interface, the wg
# UAPI socket and the API socket.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init
lab_topology none none
for k in a b c; do wm_key "$k"; done

conf_a() { # extra peer sections on stdin
	wm_agent_conf a 10.77.0.1/24 <<EOC
[Peer]
PublicKey = $(wm_pub b)
AllowedIPs = 10.77.0.2/32
Endpoint = $HOST_B_IP:51820
$(cat)
EOC
}
wm_agent_conf b 10.77.0.2/24 <<EOC
[Peer]
PublicKey = $(wm_pub a)
AllowedIPs = 10.77.0.1/32
Endpoint = $HOST_A_IP:51820
EOC
conf_a </dev/null
wm_agent_start "$HOST_A_NS" a
wm_agent_start "$HOST_B_NS" b
IFA=$(wm_ifname a)
uapi() { lab_exec "$HOST_A_NS" wg show "$IFA" "$@"; }
ping_b() { lab_exec "$HOST_A_NS" ping -c 2 -i 0.2 -W 2 10.77.0.2; }

t_check "tunnel up before reload" ping_b
hs_before=$(uapi latest-handshakes | awk -v k="$(wm_pub b)" '$1 == k {print $2}')
rx_before=$(uapi transfer | awk -v k="$(wm_pub b)" '$1 == k {print $2}')

# Reload with a new peer c: b's session must survive.
conf_a <<EOC
[Peer]
PublicKey = $(wm_pub c)
AllowedIPs = 10.77.0.3/32
EOC
kill -HUP "$WM_PID_a"
t_check "reload adds peer c" lab_wait_for 5 sh -c "ip netns exec $HOST_A_NS wg show $IFA peers | grep -qF '$(wm_pub c)'"
t_check "reload adds c's route" lab_wait_for 5 sh -c "ip -n $HOST_A_NS route show dev $IFA | grep -q 10.77.0.3"
t_check "b still answers after the reload" ping_b
hs_after=$(uapi latest-handshakes | awk -v k="$(wm_pub b)" '$1 == k {print $2}')
rx_after=$(uapi transfer | awk -v k="$(wm_pub b)" '$1 == k {print $2}')
t_check "b kept its session (no new handshake: $hs_before = $hs_after)" test "$hs_before" = "$hs_after"
t_check "b's counters kept rising ($rx_before -> $rx_after)" test "$rx_after" -gt "$rx_before"

# A broken file on reload changes nothing.
cp "$LAB_TMP/$IFA.conf" "$LAB_TMP/good.conf"
printf '[Interface]\nPrivateKey = nonsense\n' >"$LAB_TMP/$IFA.conf"
kill -HUP "$WM_PID_a"
sleep 0.5
t_check "a broken reload keeps the agent running" kill -0 "$WM_PID_a"
t_check "a broken reload keeps the peers" sh -c "[ \$(ip netns exec $HOST_A_NS wg show $IFA peers | wc -l) = 2 ]"
t_check "a broken reload is reported with file and line" grep -q "$IFA.conf:2: PrivateKey" "$LAB_TMP/a.log"
t_check "b still answers" ping_b

# Reload without c: c goes, with its route.
cp "$LAB_TMP/good.conf" "$LAB_TMP/$IFA.conf"
conf_a </dev/null
kill -HUP "$WM_PID_a"
t_check "reload removes peer c" lab_wait_for 5 sh -c "! ip netns exec $HOST_A_NS wg show $IFA peers | grep -qF '$(wm_pub c)'"
t_check "reload removes c's route" lab_wait_for 5 sh -c "! ip -n $HOST_A_NS route show dev $IFA | grep -q 10.77.0.3"

# SIGTERM: everything the agent made goes away.
kill -TERM "$WM_PID_a"
t_check "SIGTERM stops the agent" lab_wait_for 5 sh -c "! kill -0 $WM_PID_a 2>/dev/null"
t_check "the interface is gone" sh -c "! ip -n $HOST_A_NS link show $IFA 2>/dev/null"
t_check "the wg UAPI socket is gone" test ! -e "/var/run/wireguard/$IFA.sock"
t_check "the API socket is gone" test ! -e "$LAB_TMP/a.api.sock"
t_check "it said why it stopped" grep -q "signal 15" "$LAB_TMP/a.log"
t_summary
