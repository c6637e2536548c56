#!/usr/bin/env bash
# tests/net/test_privileges.sh — an agent started as full root keeps
# CAP_NET_ADMIN only once it is up (agent/privileges.h), and still works.
#
# Namespaces a (192.0.2.1) and b (192.0.2.2), one agent in each, both
# started as root with every capability (as by hand, outside the unit).
#   - /proc/PID/status of a: CapEff, CapPrm and CapBnd are CAP_NET_ADMIN
#     alone (0x1000), CapInh and CapAmb empty, NoNewPrivs 1; its other
#     threads (the resolver's) hold no capability
#   - ping a <-> b; the REST API answers on its unix socket
#   - SIGHUP reload of an edited file (a second peer) applies
#   - `wg set` fwmark and listen-port (a rebind with SO_MARK) work
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg curl ping

TAG=pv$(($$ % 100000))
IA=${TAG}a IB=${TAG}b
IP_A=192.0.2.1 IP_B=192.0.2.2 PORT=51820 PORT2=51822
PID_a="" PID_b=""

lab_ns a && lab_ns b && lab_veth a eth0 "$IP_A/24" b eth0 "$IP_B/24" ||
	{ t_fail "lab namespaces"; t_summary; }
pair_key ka && pair_key kb && pair_key kc || { t_fail "keys"; t_summary; }
PAIR_API=1 pair_wm_conf "$IA" ka $PORT 10.80.0.1/24 kb 10.80.0.2/32 "$IP_B:$PORT"
pair_wm_conf "$IB" kb $PORT 10.80.0.2/24 ka 10.80.0.1/32 "$IP_A:$PORT"

t_check "agent a up (as root with every capability)" pair_wm_start a "$IA"
PID_A=$PID_a
t_check "agent b up" pair_wm_start b "$IB"

status_field() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$PID_A/status"; }
caps_dropped() {
	local e p b i m n
	e=$(status_field CapEff) p=$(status_field CapPrm) b=$(status_field CapBnd)
	i=$(status_field CapInh) m=$(status_field CapAmb) n=$(status_field NoNewPrivs)
	echo "CapEff $e CapPrm $p CapBnd $b CapInh $i CapAmb $m NoNewPrivs $n"
	[ "$e" = 0000000000001000 ] && [ "$p" = 0000000000001000 ] &&
		[ "$b" = 0000000000001000 ] && [ "$i" = 0000000000000000 ] &&
		[ "$m" = 0000000000000000 ] && [ "$n" = 1 ]
}
t_check "a keeps CAP_NET_ADMIN only" caps_dropped
# Capabilities are per thread: the resolver's thread holds none at all.
threads_bare() {
	local t n=0 e p b
	for t in /proc/"$PID_A"/task/*; do
		[ "${t##*/}" = "$PID_A" ] && continue
		e=$(awk '$1 == "CapEff:" {print $2}' "$t/status")
		p=$(awk '$1 == "CapPrm:" {print $2}' "$t/status")
		b=$(awk '$1 == "CapBnd:" {print $2}' "$t/status")
		echo "thread ${t##*/} ($(cat "$t/comm")): CapEff $e CapPrm $p CapBnd $b"
		[ "$e" = 0000000000000000 ] && [ "$p" = 0000000000000000 ] &&
			[ "$b" = 0000000000000000 ] || return 1
		n=$((n + 1))
	done
	echo "$n other threads"
	[ "$n" -ge 1 ]
}
t_check "a's other threads (the resolver) hold no capability" threads_bare
t_check "a logged the drop" grep -q "capabilities dropped: CAP_NET_ADMIN only" "$LAB_TMP/$IA.log"
t_check "ping a -> b" lab_wait_for 10 pair_ping1 a 10.80.0.2
t_check "ping b -> a" lab_wait_for 5 pair_ping1 b 10.80.0.1
api_status() { curl -sf --max-time 2 --unix-socket "$LAB_TMP/$IA.api.sock" http://wiremesh/v1/status | grep -q "\"$IA\""; }
t_check "REST API answers" api_status

# SIGHUP: the file gains a peer, the running agent takes it
printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.80.0.3/32\n' "$(wm_pub kc)" >>"$LAB_TMP/$IA.conf"
kill -HUP "$PID_A"
has_c() { wg show "$IA" peers | grep -qx "$(wm_pub kc)"; }
t_check "SIGHUP reload applied (second peer)" lab_wait_for 5 has_c
t_check "wg set fwmark" wg set "$IA" fwmark 0x77
t_check "wg set listen-port (rebind with SO_MARK)" wg set "$IA" listen-port $PORT2
port_is() { [ "$(wg show "$IA" listen-port)" = "$PORT2" ]; }
t_check "listening on the new port" port_is
t_check "ping a -> b after the rebind" lab_wait_for 10 pair_ping1 a 10.80.0.2
t_check "a still keeps CAP_NET_ADMIN only" caps_dropped
t_check "a still running" pair_alive "$PID_A"
lab_kill "$PID_A"
t_summary
