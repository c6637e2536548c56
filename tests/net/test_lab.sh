#!/usr/bin/env bash
# tests/net/test_lab.sh — the NAT lab behaves as lib.sh advertises, checked
# without wiremesh: python UDP/TCP echo servers ("SEEN <ip:port>", a STUN-like
# answer) on the relay (203.0.113.10) and stun2 (198.51.100.20) hosts.
#
# Three worlds cover every type on both sides:
#   none/firewall, cone/cone, symmetric/udpblock
# Per side: the mapping seen by two STUN servers from one local port
# (none, firewall: the host's own address; cone: one public ip:port for both;
# symmetric: one public ip, two ports; udpblock: no UDP answer, TCP works),
# then filtering: an unsolicited datagram from the internet to the mapping
# does not reach the host (it does for none), the host's own datagram to that
# peer leaves through the same mapping (cone, firewall), and the peer's reply
# then comes in: the precondition of simultaneous open. cone/cone also
# punches a real hole between the two hosts, checks the private LANs cannot
# reach each other, and lab_loss.
set -u
. "$(dirname "$0")/lib.sh"
lab_init || { echo "0 passed, 1 failed"; exit 1; }

PORT=3478     # echo servers (udp+tcp on the relay, udp on stun2)
LPORT=40000   # the hosts' fixed local port for the mapping probes
SPORT=41000   # the hosts' controllable socket for the filtering checks
PEERPORT=6000 # + side number: a port on the relay host the hosts never talked to
QUIET=0.5     # how long "nothing arrives" is watched

servers() {
	lab_echo_server relay "$RELAY_IP" $PORT both &&
		lab_echo_server stun2 "$STUN2_IP" $PORT udp
}

# probe_ok NS — both servers answer; sets M1 (relay's view) and M2 (stun2's)
probe() {
	local out
	M1=- M2=-
	out=$(lab_udp_probe "$1" $LPORT "${2:-2}" "$RELAY_IP:$PORT" "$STUN2_IP:$PORT")
	local rc=$?
	echo "$out"
	M1=$(awk -v d="$RELAY_IP:$PORT" '$1 == d {print $2}' <<<"$out")
	M2=$(awk -v d="$STUN2_IP:$PORT" '$1 == d {print $2}' <<<"$out")
	return $rc
}

expect_mapping() { # X TYPE
	local X=$1 type=$2 ns hip pip
	ns=$(eval echo "\$HOST_${X}_NS") hip=$(eval echo "\$HOST_${X}_IP") pip=$(eval echo "\$PUBLIC_${X}_IP")
	case $type in
	none | firewall)
		[ "$hip" = "$pip" ] || { echo "HOST_${X}_IP $hip != PUBLIC_${X}_IP $pip"; return 1; }
		probe "$ns" && [ "$M1" = "$hip:$LPORT" ] && [ "$M2" = "$hip:$LPORT" ]
		;;
	cone)
		probe "$ns" && [ "$M1" = "$M2" ] && [ "${M1%:*}" = "$pip" ] && [ "$hip" != "$pip" ]
		;;
	symmetric)
		probe "$ns" && [ "${M1%:*}" = "$pip" ] && [ "${M2%:*}" = "$pip" ] &&
			[ "${M1#*:}" != "${M2#*:}" ]
		;;
	udpblock)
		! probe "$ns" 0.6 && [ "$M1" = - ] && [ "$M2" = - ]
		;;
	esac
}

tcp_ok() { # X — TCP to the relay works and comes from the public address
	local X=$1 seen pip
	pip=$(eval echo "\$PUBLIC_${X}_IP")
	seen=$(lab_tcp_probe "$(eval echo "\$HOST_${X}_NS")" 2 "$RELAY_IP:$PORT") || return 1
	echo "tcp seen $seen"
	[ "${seen%:*}" = "$pip" ]
}

# filtering X TYPE: host socket hX, peer socket pX on the relay host
filtering() {
	local X=$1 type=$2 x map back pport
	x=${X,,}
	pport=$((PEERPORT + $(printf %d "'$x") - 96))
	lab_sock "h$x" "$(eval echo "\$HOST_${X}_NS")" "0.0.0.0:$SPORT" &&
		lab_sock "p$x" relay "$RELAY_IP:$pport" ||
		{ t_fail "$X/$type: sockets start"; return; }
	map=$(lab_sock_stun "h$x" "$RELAY_IP" $PORT)
	t_check "$X/$type: host socket learns its mapping ($map) from the relay" [ -n "$map" ]
	[ -n "$map" ] || return
	lab_sock_send "p$x" "${map%:*}" "${map#*:}" "unsolicited-$x"
	sleep $QUIET
	if [ "$type" = none ]; then
		t_check "$X/$type: unsolicited datagram from the internet reaches the host (no filtering)" \
			lab_sock_got "h$x" "^RECV $RELAY_IP:$pport unsolicited-$x\$"
	else
		t_check "$X/$type: unsolicited datagram to $map from $RELAY_IP:$pport (the STUN server's IP, another port) is dropped" \
			eval "! lab_sock_got h$x unsolicited-$x"
	fi
	t_check "$X/$type: host sends to the peer" lab_sock_send "h$x" "$RELAY_IP" $pport "hello-$x"
	lab_sock_wait "p$x" "^RECV [^ ]+ hello-$x\$" 2
	back=$(grep -E "^RECV [^ ]+ hello-$x\$" "$LAB_TMP/sock-p$x.log" | tail -n1 | awk '{print $2}')
	case $type in
	symmetric)
		t_check "$X/$type: the peer sees a new mapping ($back, not $map)" \
			eval "[ -n '$back' ] && [ '${back%:*}' = '${map%:*}' ] && [ '$back' != '$map' ]" ;;
	*)
		t_check "$X/$type: the peer sees the same mapping $map (${back:-nothing})" [ "$back" = "$map" ] ;;
	esac
	[ -n "$back" ] || return
	lab_sock_send "p$x" "${back%:*}" "${back#*:}" "reply-$x"
	t_check "$X/$type: after the host spoke, the peer's reply comes in" \
		lab_sock_wait "h$x" "^RECV $RELAY_IP:$pport reply-$x\$" 2
}

udpblock_checks() { # X
	local X=$1
	t_check "$X/udpblock: no UDP answer from either server" expect_mapping "$X" udpblock
	t_check "$X/udpblock: TCP to the relay works, from $(eval echo "\$PUBLIC_${X}_IP")" tcp_ok "$X"
}

side() { # X TYPE
	if [ "$2" = udpblock ]; then udpblock_checks "$1"; return; fi
	case $2 in
	none | firewall) t_check "$1/$2: both STUN servers see the host's own address" expect_mapping "$1" "$2" ;;
	cone) t_check "$1/$2: both STUN servers see one public ip:port" expect_mapping "$1" "$2" ;;
	symmetric) t_check "$1/$2: the STUN servers see one public ip, two ports" expect_mapping "$1" "$2" ;;
	esac
	t_check "$1/$2: TCP to the relay works" tcp_ok "$1"
	filtering "$1" "$2"
}

world() { # TYPE_A TYPE_B
	lab_reset
	if ! lab_topology "$1" "$2" || ! servers; then
		t_fail "build world $1/$2"
		return 1
	fi
	echo "# world $1/$2: A $HOST_A_IP (public $PUBLIC_A_IP), B $HOST_B_IP (public $PUBLIC_B_IP)"
	return 0
}

start=$SECONDS

# ---- none / firewall
if world none firewall; then
	side A none
	side B firewall
	lab_loss inet 100
	t_check "lab_loss inet 100: nothing crosses the internet" eval '! lab_udp_probe hosta 40100 0.5 "$RELAY_IP:$PORT"'
	lab_loss inet 0
	t_check "lab_loss inet 0: traffic flows again" lab_udp_probe hosta 40100 1 "$RELAY_IP:$PORT"
fi

# ---- cone / cone: both sides, then a real hole punch between the hosts
if world cone cone; then
	side A cone
	side B cone
	MA=$(lab_sock_stun ha "$RELAY_IP" $PORT) MB=$(lab_sock_stun hb "$RELAY_IP" $PORT)
	punch() {
		local n
		for n in 1 2 3 4 5; do
			lab_sock_send ha "${MB%:*}" "${MB#*:}" "punch-a$n"
			lab_sock_send hb "${MA%:*}" "${MA#*:}" "punch-b$n"
			lab_wait_for 0.3 eval 'lab_sock_got ha "^RECV $MB punch-b" && lab_sock_got hb "^RECV $MA punch-a"' &&
				return 0
		done
		return 1
	}
	lab_sock_send ha "${MB%:*}" "${MB#*:}" "punch-a0"
	sleep $QUIET
	t_check "cone/cone: A's first punch is dropped by B's NAT (B has not spoken to A yet)" \
		eval '! lab_sock_got hb "punch-a0\$"'
	t_check "cone/cone: simultaneous open between $MA and $MB" punch
	lab_sock_send ha "$HOST_B_IP" $SPORT "private-a"
	sleep $QUIET
	t_check "cone/cone: hostA cannot reach hostB's private address $HOST_B_IP" \
		eval '! lab_sock_got hb private-a'
	t_check "cone/cone: hostA has no route to LAN B except through its NAT" \
		eval '[ "$(lab_exec hosta ip -4 route get "$HOST_B_IP" | awk "{print \$3; exit}")" = "$HOST_A_GW" ]'
fi

# ---- symmetric / udpblock
if world symmetric udpblock; then
	side A symmetric
	side B udpblock
fi

echo "# runtime $((SECONDS - start)) s"
lab_reset
t_check "no lab namespace left after reset" eval '! ip netns list | grep -q "^$LAB_PREFIX-"'
t_summary
