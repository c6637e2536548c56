#!/usr/bin/env bash
# tests/net/test_interop.sh — wiremesh speaks WireGuard with wireguard-go and
# with itself (issue 4).
#
# Two namespaces, "a" (192.0.2.1) and "b" (192.0.2.2), joined by one veth.
# For each pairing (wiremesh <-> wireguard-go, wiremesh <-> wiremesh), with
# and without a PresharedKey, the handshake is started once from each side:
# only the initiator is given the other's Endpoint, so the responder can only
# answer, and must then learn the initiator's address from the handshake.
# Every combination uses fresh keys and fresh processes, and checks:
#   - the handshake completes (latest handshake set on both sides, the
#     responder learnt the initiator's endpoint),
#   - ping both ways over the inner IPv4 (10.77.0.x/24) and IPv6 (fd77::x/64),
#   - full-size (1420-byte) inner packets with DF set, v4 and v6,
#   - a 5 s bidirectional iperf3 run (TCP) moves bytes both ways
#     (over IPv4 when the first side initiates, over IPv6 otherwise).
# Two more combinations run over an IPv6 underlay (endpoints
# [fd00:77::x]:port, private addresses inside the namespaces), without
# iperf3; and a wrong PresharedKey must stop the handshake.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg wireguard-go iperf3 ping ss

TAG=wi$(($$ % 100000)) # interface names: unique per run (UAPI sockets are global)
PORT_A=51820 PORT_B=51821
IP_A=192.0.2.1 IP_B=192.0.2.2
IP6_A=fd00:77::1 IP6_B=fd00:77::2 # private, only inside the two namespaces

# ------------------------------------------------------------------ helpers

# ping_ok NS DST COUNT MIN [ping args] — at least MIN of COUNT echo replies
ping_ok() {
	local out rx ns=$1 dst=$2 n=$3 min=$4
	shift 4
	out=$(lab_exec "$ns" ping -n -q -c "$n" -i 0.2 -W 1 "$@" "$dst" 2>&1)
	echo "$out"
	rx=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' <<<"$out")
	[ -n "$rx" ] && [ "$rx" -ge "$min" ]
}

not() { ! "$@"; }

# handshake_ok IFACE PEERKEYNAME — latest handshake set
handshake_ok() {
	local t
	t=$(wg show "$1" latest-handshakes | awk -v k="$(wm_pub "$2")" '$1 == k {print $2}')
	echo "latest handshake of $1: '${t}'"
	[ -n "$t" ] && [ "$t" -gt 0 ]
}

# endpoint_is IFACE PEERKEYNAME ENDPOINT
endpoint_is() {
	local e
	e=$(wg show "$1" endpoints | awk -v k="$(wm_pub "$2")" '$1 == k {print $2}')
	echo "endpoint of $2 on $1: '$e', want '$3'"
	[ "$e" = "$3" ]
}

IPERF_PORT=5200
# iperf_ok SRVNS SRVADDR CLINS — 5 s bidirectional TCP, bytes move both ways
iperf_ok() {
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
print("forward %d bytes (%.1f Mbit/s), reverse %d bytes (%.1f Mbit/s)" % (
    fwd, e["sum_received"]["bits_per_second"] / 1e6,
    rev, e["sum_received_bidir_reverse"]["bits_per_second"] / 1e6))
sys.exit(0 if fwd > 0 and rev > 0 else 1)
' "$out" | tee "$LAB_TMP/iperf.last"
	[ "${PIPESTATUS[0]}" -eq 0 ]
}

stop_all() {
	local p
	for p in ${PID_a:-} ${PID_b:-}; do lab_kill "$p"; done
	PID_a="" PID_b=""
}

# ------------------------------------------------------------------ world

lab_ns a && lab_ns b && lab_veth a eth0 "$IP_A/24" b eth0 "$IP_B/24" &&
	lab_exec a ip addr add "$IP6_A/64" dev eth0 nodad &&
	lab_exec b ip addr add "$IP6_B/64" dev eth0 nodad ||
	{ t_fail "lab namespaces"; t_summary; }

# one combination: KIND (wggo|wm) for side b, PSK (psk|nopsk), INIT (a|b)
N=0
combo() {
	local kind=$1 psk=$2 init=$3 under=${4:-v4} ia ib ka kb pskname=- epa="" epb="" d oa ob
	N=$((N + 1))
	ia=${TAG}${N}a ib=${TAG}${N}b ka=k${N}a kb=k${N}b
	d="wiremesh(a) <-> $([ "$kind" = wggo ] && echo wireguard-go || echo wiremesh)(b), $psk, $init initiates"
	# the underlay: endpoints over IPv4 or over IPv6
	if [ "$under" = v6 ]; then
		oa="[$IP6_A]:$PORT_A" ob="[$IP6_B]:$PORT_B" d="$d, IPv6 underlay"
	else
		oa=$IP_A:$PORT_A ob=$IP_B:$PORT_B
	fi
	echo "=== $d"
	pair_key "$ka" && pair_key "$kb" || { t_fail "$d: keys"; return; }
	if [ "$psk" = psk ]; then
		pskname=psk$N
		(umask 077 && wg genpsk >"$LAB_TMP/$pskname.key")
	fi
	# only the initiator knows where the other one is
	if [ "$init" = a ]; then epa=$ob; else epb=$oa; fi

	pair_wm_conf "$ia" "$ka" $PORT_A "10.77.0.1/24, fd77::1/64" "$kb" 10.77.0.2/32,fd77::2/128 "${epa:--}" "$pskname"
	t_check "$d: wiremesh a starts" pair_wm_start a "$ia"
	if [ "$kind" = wggo ]; then
		t_check "$d: wireguard-go b starts" pair_wggo_start b "$ib" "$kb" $PORT_B 10.77.0.2/24,fd77::2/64
		local args=(peer "$(wm_pub "$ka")" allowed-ips "10.77.0.1/32,fd77::1/128")
		[ "$pskname" = - ] || args+=(preshared-key "$LAB_TMP/$pskname.key")
		[ -z "$epb" ] || args+=(endpoint "$epb")
		t_check "$d: wg set on wireguard-go" lab_exec b wg set "$ib" "${args[@]}"
	else
		pair_wm_conf "$ib" "$kb" $PORT_B "10.77.0.2/24, fd77::2/64" "$ka" 10.77.0.1/32,fd77::1/128 "${epb:--}" "$pskname"
		t_check "$d: wiremesh b starts" pair_wm_start b "$ib"
	fi

	local src=$init dst4 dst6 rsrc rdst4 rdst6 iif rif rkey ikey iep
	if [ "$init" = a ]; then
		dst4=10.77.0.2 dst6=fd77::2 rsrc=b rdst4=10.77.0.1 rdst6=fd77::1
		iif=$ia rif=$ib ikey=$ka rkey=$kb iep=$oa
	else
		dst4=10.77.0.1 dst6=fd77::1 rsrc=a rdst4=10.77.0.2 rdst6=fd77::2
		iif=$ib rif=$ia ikey=$kb rkey=$ka iep=$ob
	fi
	t_check "$d: handshake (first ping from $init)" lab_wait_for 10 pair_ping1 "$src" "$dst4"
	t_check "$d: initiator $init has a handshake" handshake_ok "$iif" "$rkey"
	t_check "$d: responder $rsrc has a handshake" handshake_ok "$rif" "$ikey"
	t_check "$d: responder learnt the initiator's endpoint" endpoint_is "$rif" "$ikey" "$iep"
	t_check "$d: ping v4 $src -> $rsrc" ping_ok "$src" "$dst4" 4 3
	t_check "$d: ping v4 $rsrc -> $src" ping_ok "$rsrc" "$rdst4" 4 3
	t_check "$d: ping v6 $src -> $rsrc" ping_ok "$src" "$dst6" 4 3
	t_check "$d: ping v6 $rsrc -> $src" ping_ok "$rsrc" "$rdst6" 4 3
	# full-size inner packets (MTU 1420 on both sides), don't fragment
	t_check "$d: 1420-byte v4 packets $src -> $rsrc (DF)" ping_ok "$src" "$dst4" 3 3 -M "do" -s 1392
	t_check "$d: 1420-byte v6 packets $rsrc -> $src" ping_ok "$rsrc" "$rdst6" 3 3 -M "do" -s 1372
	if [ "$under" = v6 ]; then
		: # the iperf3 runs are on the IPv4 underlay
	elif [ "$init" = a ]; then
		t_check "$d: iperf3 5 s bidir over v4 (client a)" iperf_ok b 10.77.0.2 a
	else
		t_check "$d: iperf3 5 s bidir over v6 (client b)" iperf_ok a fd77::1 b
	fi
	[ "$under" = v6 ] || sed 's/^/    iperf3: /' "$LAB_TMP/iperf.last" 2>/dev/null
	t_check "$d: wiremesh a still running" pair_alive "$PID_a"
	[ "$kind" = wggo ] || t_check "$d: wiremesh b still running" pair_alive "$PID_b"
	stop_all
}

for kind in wggo wm; do
	for psk in nopsk psk; do
		for init in a b; do
			combo "$kind" "$psk" "$init"
		done
	done
done
# the same over an IPv6 underlay ([fd00:77::x]:port endpoints)
combo wggo psk a v6
combo wm nopsk b v6

# A PresharedKey that differs between the two sides must stop the handshake
# (so the positive cases above really mixed the PSK in).
wrong_psk() {
	local ia=${TAG}xa ib=${TAG}xb d="wiremesh(a) <-> wireguard-go(b), different PSKs"
	echo "=== $d"
	pair_key k9a && pair_key k9b && pair_key psk9x && pair_key psk9y
	pair_wm_conf "$ia" k9a $PORT_A "10.77.0.1/24, fd77::1/64" k9b 10.77.0.2/32,fd77::2/128 "$IP_B:$PORT_B" psk9x
	t_check "$d: wiremesh a starts" pair_wm_start a "$ia"
	t_check "$d: wireguard-go b starts" pair_wggo_start b "$ib" k9b $PORT_B 10.77.0.2/24,fd77::2/64
	t_check "$d: wg set on wireguard-go" lab_exec b wg set "$ib" peer "$(wm_pub k9a)" \
		allowed-ips 10.77.0.1/32,fd77::1/128 preshared-key "$LAB_TMP/psk9y.key"
	t_check "$d: no ping gets through in 4 s" not lab_wait_for 4 pair_ping1 a 10.77.0.2
	t_check "$d: no handshake on wiremesh" not handshake_ok "$ia" k9b
	t_check "$d: no handshake on wireguard-go" not handshake_ok "$ib" k9a
	t_check "$d: wiremesh a still running" pair_alive "$PID_a"
	stop_all
}
wrong_psk

t_summary
