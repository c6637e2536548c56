#!/usr/bin/env bash
# tests/net/test_readme.sh — the README's "A mesh of two nodes and a relay",
# word for word. The shell blocks marked <!-- readme-test: NAME --> are taken
# from README.md itself and run, as they are written, on three lab hosts:
# the relay on the lab's public address (203.0.113.10) and alice and bob
# behind port-restricted cone NATs (lib.sh lab_topology cone cone).
#
# Each host is a network namespace plus a private mount namespace in which
# /run is a fresh tmpfs and /etc an overlay, so the README's own paths
# (/etc/wiremesh/..., /run/wiremesh/wm0.sock, /etc/systemd/system/...) are
# used unchanged and never touch the machine's; relay.example.net is put in
# that /etc/hosts. `wiremesh` is build/wiremesh; `systemctl` is
# tests/net/systemctl_stub.sh, which does what systemd does for our units
# (credentials, ExecStart). What the test supplies itself: the public keys
# in the "vars" block (the README shows examples), and bob's check, which is
# alice's toward 10.77.0.1 as the README says.
#
# Checks: every block runs and exits 0; the relay and both agents come up;
# alice and bob ping each other (check block), directly once punched and
# forced through the relay (force block); both report the relay connected.
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
. tests/net/lib.sh
. tests/net/wm.sh
lab_init || { echo "0 passed, 1 failed"; exit 1; }

[ -x "$WM" ] || { t_fail "no binary at $WM (./build.sh build)"; t_summary; }

# block NAME: the commands of the README block marked NAME
block() {
	awk -v want="<!-- readme-test: $1 -->" '
		$0 == want { armed = 1; next }
		armed && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' README.md
}
for b in keys vars relay alice bob check-alice force-alice; do
	block "$b" >"$LAB_TMP/blk-$b.sh"
	t_check "README has a marked block '$b'" test -s "$LAB_TMP/blk-$b.sh"
done
t_check "the README's example starts with umask 077 before genkey" eval \
	'grep -n . "$LAB_TMP/blk-keys.sh" | grep -m1 -E "umask 077|genkey" | grep -q "umask 077"'
t_check "nothing in the README points outside the repository" eval \
	'! grep -nE "\.\./|/work/shared|DESIGN\.md" README.md'

lab_topology cone cone || { t_fail "lab topology"; t_summary; }

BIN=$LAB_TMP/bin
mkdir -p "$BIN"
ln -s "$WM" "$BIN/wiremesh"
install -m 0755 tests/net/systemctl_stub.sh "$BIN/systemctl"

# host NAME NS: a holder process in NS with a private /run and /etc.
host() {
	local name=$1 ns=$2 d=$LAB_TMP/host-$1
	mkdir -p "$d/up" "$d/work"
	lab_bg --name "host-$name" "$ns" unshare --mount --propagation private \
		bash -c 'mount -t tmpfs -o mode=0755 tmpfs /run &&
			mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/up,workdir=$1/work" /etc &&
			echo "203.0.113.10 relay.example.net" >>/etc/hosts &&
			touch "$1/ready" && exec sleep 300' _ "$d"
	eval "HOLDER_$name=$LAB_LAST_PID"
	lab_wait_for 5 test -e "$d/ready"
}
# on NAME SCRIPT-FILE...: runs the files' commands in one bash -e on host NAME
on() {
	local name=$1 pid
	shift
	pid=$(eval echo "\$HOLDER_$name")
	cat "$@" >"$LAB_TMP/run-$name.sh"
	nsenter -t "$pid" -m -n -- env PATH="$BIN:$PATH" WM_UNITS="$TOP/packaging/systemd" \
		WM_STUB_DIR="$LAB_TMP/host-$name" HOME=/root \
		bash -e "$LAB_TMP/run-$name.sh"
}
# registers a unit the stub started on NAME, for the lab's cleanup
register() { # NAME UNIT
	local pid
	pid=$(cat "$LAB_TMP/host-$1/$2.pid") || return 1
	echo "$pid $(_lab_starttime "$pid") $1-$2" >>"$LAB_TMP/.pids"
}

host relay "$RELAY_NS" && host alice "$HOST_A_NS" && host bob "$HOST_B_NS" ||
	{ t_fail "host namespaces"; t_summary; }

# 1. keys on each host; 2. the vars block with the keys printed
for h in relay alice bob; do
	t_check "$h: keys block" eval 'on $h "$LAB_TMP/blk-keys.sh" >"$LAB_TMP/$h.pub"'
done
sed -e "s|^RELAY_PUB=.*|RELAY_PUB='$(tail -n1 "$LAB_TMP/relay.pub")'|" \
	-e "s|^ALICE_PUB=.*|ALICE_PUB='$(tail -n1 "$LAB_TMP/alice.pub")'|" \
	-e "s|^BOB_PUB=.*|BOB_PUB='$(tail -n1 "$LAB_TMP/bob.pub")'|" \
	"$LAB_TMP/blk-vars.sh" >"$LAB_TMP/vars.sh"
t_check "the vars block sets the three keys" eval \
	'[ "$(grep -cE "^(RELAY|ALICE|BOB)_PUB='"'"'[A-Za-z0-9+/]{43}='"'"'$" "$LAB_TMP/vars.sh")" = 3 ]'

# 3. the relay
t_check "relay: relay block" on relay "$LAB_TMP/vars.sh" "$LAB_TMP/blk-relay.sh"
register relay wiremesh-relay
t_check "relay listens on UDP 3478 and TCP 443" lab_wait_for 5 lab_exec "$RELAY_NS" \
	sh -c 'ss -Hlun "sport = :3478" | grep -q . && ss -Hltn "sport = :443" | grep -q .'

tls_cert() { # the relay's TLS listener serves the certificate the README made
	lab_exec "$HOST_A_NS" timeout 5 openssl s_client -connect 203.0.113.10:443 \
		-servername relay.example.net </dev/null 2>/dev/null | grep -q "CN *= *relay.example.net"
}
t_check "the relay's TLS fallback serves CN=relay.example.net (seen from alice)" tls_cert

# 4., 5. the nodes
for h in alice bob; do
	t_check "$h: $h block (check-config, enable)" on $h "$LAB_TMP/vars.sh" "$LAB_TMP/blk-$h.sh"
	register $h wiremesh@wm0
done
connected() { # NAME
	on "$1" <(echo 'wiremesh status --json') |
		"$LAB_PYTHON" -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["relay"]["connected"] else 1)'
}
for h in alice bob; do
	t_check "$h: relay connected" lab_wait_for 10 connected $h
done

# 6. check, on alice and (toward alice) on bob
t_check "alice: check block (status, ping 10.77.0.2, peers)" \
	on alice "$LAB_TMP/vars.sh" "$LAB_TMP/blk-check-alice.sh"
sed 's/10\.77\.0\.2/10.77.0.1/g' "$LAB_TMP/blk-check-alice.sh" >"$LAB_TMP/blk-check-bob.sh"
t_check "bob: the same toward 10.77.0.1" on bob "$LAB_TMP/vars.sh" "$LAB_TMP/blk-check-bob.sh"

path_of_bob() {
	on alice "$LAB_TMP/vars.sh" <(echo 'wiremesh peers --json') |
		"$LAB_PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
peers = d["peers"] if isinstance(d, dict) else d
print(peers[0]["path"])'
}
t_check "alice reaches bob directly once punched" lab_wait_for 15 eval '[ "$(path_of_bob)" = direct ]'
t_check "alice: force block (relay, ping, auto)" \
	on alice "$LAB_TMP/vars.sh" "$LAB_TMP/blk-force-alice.sh"
relay_frames() {
	lab_exec "$RELAY_NS" kill -USR1 "$(cat "$LAB_TMP/host-relay/wiremesh-relay.pid")" &&
		lab_wait_for 2 grep -q "forwarded frames" "$LAB_TMP/host-relay/wiremesh-relay.log" &&
		grep -o "forwarded frames=[0-9]*" "$LAB_TMP/host-relay/wiremesh-relay.log" | tail -n1 | grep -qv "=0$"
}
t_check "the relay forwarded frames (its counters, SIGUSR1)" relay_frames
t_check "bob pings alice after the force block" \
	on bob "$LAB_TMP/vars.sh" <(echo 'ping -c 2 -W 2 10.77.0.1')

t_summary
