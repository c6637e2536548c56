#!/usr/bin/env bash
# tests/net/test_offload.sh — TUN offloads (netif/tun.h, gso.h, gro.h): TCP
# through the tunnel with super-packets split on the way in and segments
# coalesced on the way out, and the same with offloads off.
#
# Two namespaces, "a" (192.0.2.1) and "b" (192.0.2.2), joined by one veth.
# Three pairings, fresh keys and processes each:
#   - wiremesh <-> wiremesh, offloads on (both agents log "offloads on");
#   - wiremesh <-> wiremesh, WIREMESH_TUN_OFFLOAD=0 (both log "offloads off");
#   - wiremesh (offloads on) <-> wireguard-go.
# Each checks ping v4 and v6 and full-size (1420-byte, DF) packets, then a
# 5 s bidirectional iperf3 TCP run over the inner IPv4 and one over IPv6:
# bytes must move both ways (a wrong checksum kills the flow: the kernel
# drops the segment), and no namespace may count a TCP checksum error.
# The measured Gbit/s are printed, never asserted.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg wireguard-go iperf3 ping ss nstat

TAG=wo$(($$ % 100000))
PORT_A=51820 PORT_B=51821
IP_A=192.0.2.1 IP_B=192.0.2.2

ping_ok() { # NS DST COUNT MIN [ping args]
	local out rx ns=$1 dst=$2 n=$3 min=$4
	shift 4
	out=$(lab_exec "$ns" ping -n -q -c "$n" -i 0.2 -W 1 "$@" "$dst" 2>&1)
	echo "$out"
	rx=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' <<<"$out")
	[ -n "$rx" ] && [ "$rx" -ge "$min" ]
}

IPERF_PORT=5300
iperf_ok() { # SRVNS SRVADDR CLINS — 5 s bidirectional TCP, bytes both ways
	local out srv
	IPERF_PORT=$((IPERF_PORT + 1))
	lab_bg --name "iperf-s-$IPERF_PORT" "$1" iperf3 -s -1 -p "$IPERF_PORT" -B "$2"
	srv=$LAB_LAST_PID
	lab_wait_for 5 sh -c "ip netns exec '$(lab_nsname "$1")' ss -Htln | grep -q ':$IPERF_PORT\b'" ||
		{ echo "iperf3 server did not listen"; return 1; }
	out=$(lab_exec "$3" timeout 25 iperf3 -c "$2" -p "$IPERF_PORT" -t 5 -J --bidir --connect-timeout 3000 2>&1)
	lab_kill "$srv"
	"$LAB_PYTHON" -c '
import json, sys
try:
    j = json.loads(sys.argv[1])
except ValueError:
    print(sys.argv[1][:2000]); sys.exit(1)
if "error" in j:
    print("iperf3 error:", j["error"]); sys.exit(1)
e = j["end"]
fwd = e["sum_received"]["bytes"]
rev = e["sum_received_bidir_reverse"]["bytes"]
print("forward %.2f Gbit/s, reverse %.2f Gbit/s (retransmits %d, %d)" % (
    e["sum_received"]["bits_per_second"] / 1e9,
    e["sum_received_bidir_reverse"]["bits_per_second"] / 1e9,
    e["sum_sent"].get("retransmits", 0),
    e["sum_sent_bidir_reverse"].get("retransmits", 0)))
sys.exit(0 if fwd > 0 and rev > 0 else 1)
' "$out" | tee "$LAB_TMP/iperf.last"
	[ "${PIPESTATUS[0]}" -eq 0 ]
}

csum_errors() { # NS — TCP checksum errors counted in the namespace
	lab_exec "$1" nstat -saz TcpInCsumErrors | awk '$1 == "TcpInCsumErrors" {print $2}'
}

no_csum_errors() {
	local a b
	a=$(csum_errors a) b=$(csum_errors b)
	echo "TcpInCsumErrors: a ${a:-?}, b ${b:-?}"
	[ "${a:-1}" = 0 ] && [ "${b:-1}" = 0 ]
}

logs_offloads() { # LOG on|off
	grep -q "TUN offloads $2" "$1" || { cat "$1"; return 1; }
}

wm_start() { # NS IFACE OFFLOAD(1|0)
	lab_bg --name "$2" "$1" env WIREMESH_TUN_OFFLOAD="$3" "$WM" agent --config "$LAB_TMP/$2.conf"
	_pair_started "$1" "$2" agent
}

stop_all() {
	local p
	for p in ${PID_a:-} ${PID_b:-}; do lab_kill "$p"; done
	PID_a="" PID_b=""
}

lab_ns a && lab_ns b && lab_veth a eth0 "$IP_A/24" b eth0 "$IP_B/24" ||
	{ t_fail "lab namespaces"; t_summary; }

N=0
combo() { # KIND(wm|wggo) OFFLOAD(1|0)
	local kind=$1 off=$2 ia ib ka kb d mode
	N=$((N + 1))
	ia=${TAG}${N}a ib=${TAG}${N}b ka=k${N}a kb=k${N}b
	mode=$([ "$off" = 1 ] && echo on || echo off)
	d="wiremesh(a) <-> $([ "$kind" = wggo ] && echo wireguard-go || echo wiremesh)(b), offloads $mode"
	echo "=== $d"
	pair_key "$ka" && pair_key "$kb" || { t_fail "$d: keys"; return; }
	pair_wm_conf "$ia" "$ka" $PORT_A "10.77.0.1/24, fd77::1/64" "$kb" 10.77.0.2/32,fd77::2/128 "$IP_B:$PORT_B"
	t_check "$d: wiremesh a starts" wm_start a "$ia" "$off"
	local la=$LOG_a
	t_check "$d: wiremesh a logs offloads $mode" logs_offloads "$la" "$mode"
	if [ "$kind" = wggo ]; then
		t_check "$d: wireguard-go b starts" pair_wggo_start b "$ib" "$kb" $PORT_B 10.77.0.2/24,fd77::2/64 \
			peer "$(wm_pub "$ka")" allowed-ips 10.77.0.1/32,fd77::1/128
	else
		pair_wm_conf "$ib" "$kb" $PORT_B "10.77.0.2/24, fd77::2/64" "$ka" 10.77.0.1/32,fd77::1/128 -
		t_check "$d: wiremesh b starts" wm_start b "$ib" "$off"
		t_check "$d: wiremesh b logs offloads $mode" logs_offloads "$LOG_b" "$mode"
	fi
	t_check "$d: handshake" lab_wait_for 10 pair_ping1 a 10.77.0.2
	t_check "$d: ping v4 a -> b" ping_ok a 10.77.0.2 4 3
	t_check "$d: ping v6 b -> a" ping_ok b fd77::1 4 3
	t_check "$d: 1420-byte v4 packets a -> b (DF)" ping_ok a 10.77.0.2 3 3 -M "do" -s 1392
	t_check "$d: 1420-byte v6 packets b -> a" ping_ok b fd77::1 3 3 -M "do" -s 1372
	t_check "$d: iperf3 5 s bidir over inner v4" iperf_ok b 10.77.0.2 a
	sed "s/^/    iperf3 v4 ($d): /" "$LAB_TMP/iperf.last" 2>/dev/null
	t_check "$d: iperf3 5 s bidir over inner v6" iperf_ok a fd77::1 b
	sed "s/^/    iperf3 v6 ($d): /" "$LAB_TMP/iperf.last" 2>/dev/null
	t_check "$d: no TCP checksum errors in either namespace" no_csum_errors
	t_check "$d: wiremesh a still running" pair_alive "$PID_a"
	[ "$kind" = wggo ] || t_check "$d: wiremesh b still running" pair_alive "$PID_b"
	stop_all
}

combo wm 1
combo wm 0
combo wggo 1

t_summary
