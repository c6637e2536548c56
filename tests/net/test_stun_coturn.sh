#!/usr/bin/env bash
# tests/net/test_stun_coturn.sh — STUN interop with a real server, both ways.
#
# coturn's turnserver (--stun-only, no auth) runs on the relay host
# (203.0.113.10:3478); build/tests/stun_probe — agent/nat/stun.c's request and
# response parser — asks it from hosta (public address, no NAT) and from
# hostb (behind a cone NAT), and must read back the address the server saw:
# hosta's own ip:port, hostb's NAT's public address, the same mapping twice
# from one port. Then, when the binary has the `relay` command, the other
# direction: `wiremesh relay` answers STUN on 203.0.113.11:3490, and coturn's
# own client (turnutils_stunclient) and stun_probe must both read the right
# reflexive address from our answer.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PROBE=${STUN_PROBE:-$TOP/build/tests/stun_probe}
WIREMESH=${WIREMESH:-$TOP/build/wiremesh}
lab_init || { echo "0 passed, 1 failed"; exit 1; }

if ! command -v turnserver >/dev/null 2>&1; then
	t_fail "turnserver missing (apt-get install coturn)"
	t_summary
fi
if [ ! -x "$PROBE" ]; then
	t_fail "$PROBE missing (./build.sh build)"
	t_summary
fi

TURN_PORT=3478
RELAY_PORT=3490

udp_listening() { # NS IP PORT
	lab_exec "$1" ss -Hnlu "src $2:$3" | grep -q .
}

# probe NS BIND SERVER — prints the mapped ip:port
probe() {
	local out
	out=$(lab_exec "$1" "$PROBE" --bind "$2" --timeout 700 --tries 3 "$3") || return 1
	echo "${out#MAPPED }"
}

expect_eq() { # GOT WANT
	[ "$1" = "$2" ] || { echo "got '$1', want '$2'"; return 1; }
}

lab_topology none cone || { t_fail "lab topology"; t_summary; }

lab_bg --name coturn relay turnserver -n --no-cli --stun-only --no-auth \
	-L "$RELAY_IP" -p $TURN_PORT --no-tls --no-dtls --log-file stdout \
	--simple-log --pidfile "$LAB_TMP/turnserver.pid" --db "$LAB_TMP/turndb"
t_check "coturn listens on $RELAY_IP:$TURN_PORT" \
	lab_wait_for 10 udp_listening relay "$RELAY_IP" $TURN_PORT

check_public_host() {
	local m
	m=$(probe hosta "$HOST_A_IP:40000" "$RELAY_IP:$TURN_PORT") || return 1
	expect_eq "$m" "$HOST_A_IP:40000"
}
t_check "coturn reports hosta's own address (no NAT)" check_public_host

M1=
check_nat_host() {
	M1=$(probe hostb "0.0.0.0:40001" "$RELAY_IP:$TURN_PORT") || return 1
	echo "mapping $M1"
	expect_eq "${M1%:*}" "$PUBLIC_B_IP" && [ -n "${M1##*:}" ]
}
t_check "coturn reports hostb's NAT public address" check_nat_host

check_same_mapping() {
	local m
	m=$(probe hostb "0.0.0.0:40001" "$RELAY_IP:$TURN_PORT") || return 1
	expect_eq "$m" "$M1"
}
t_check "one local port keeps one mapping (cone)" check_same_mapping

check_no_server() {
	! lab_exec hosta "$PROBE" --timeout 300 --tries 2 "$RELAY_IP:3999"
}
t_check "no answer from a closed port is reported as failure" check_no_server

# ------------------------------------------------- our relay, coturn's client
# (help's output is read whole: grep -q on a pipe could SIGPIPE it)
HELP=$("$WIREMESH" help 2>/dev/null) || HELP=
# The relay is built: no relay command (a broken binary, a help that
# failed) is a failure, not a skip.
if ! grep -q '^  relay' <<<"$HELP"; then
	t_fail "$WIREMESH help lists no relay command: our server side not tested"
else
	KEY=$("$WIREMESH" genkey) && CLIENT=$("$WIREMESH" genkey | "$WIREMESH" pubkey)
	umask 077
	cat >"$LAB_TMP/relay.conf" <<-EOF
		[Relay]
		PrivateKey = $KEY
		ListenPort = $RELAY_PORT
		AllowedClients = $CLIENT
	EOF
	lab_bg --name relay relay "$WIREMESH" relay --config "$LAB_TMP/relay.conf"
	RELAY_PID=$LAB_LAST_PID
	t_check "wiremesh relay listens on port $RELAY_PORT" \
		lab_wait_for 10 udp_listening relay "*" $RELAY_PORT

	check_probe_relay() {
		local m
		m=$(probe hosta "$HOST_A_IP:40002" "$RELAY_IP2:$RELAY_PORT") || return 1
		expect_eq "$m" "$HOST_A_IP:40002"
	}
	t_check "stun_probe reads wiremesh relay's answer" check_probe_relay

	check_turnutils() { # NS WANT_IP
		local out
		out=$(lab_exec "$1" timeout 10 turnutils_stunclient -p $RELAY_PORT "$RELAY_IP2" 2>&1)
		echo "$out"
		grep -qE "UDP reflexive addr: $2:[0-9]+" <<<"$out"
	}
	t_check "coturn's client reads wiremesh relay's answer (hosta)" \
		check_turnutils hosta "$HOST_A_IP"
	t_check "coturn's client reads wiremesh relay's answer (hostb, NAT)" \
		check_turnutils hostb "$PUBLIC_B_IP"
	exited() { # PID — gone, or a zombie waiting for us
		local s
		s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
		s=${s##*) }
		[ "${s%% *}" = Z ]
	}
	check_relay_stops() {
		kill -TERM "$RELAY_PID" || return 1
		lab_wait_for 5 exited "$RELAY_PID" || { echo "still running"; return 1; }
		wait "$RELAY_PID" || { echo "exit status $?"; return 1; }
		! lab_exec relay ss -Hnlu "sport = :$RELAY_PORT" | grep -q .
	}
	t_check "wiremesh relay stops on SIGTERM" check_relay_stops
fi

t_summary
