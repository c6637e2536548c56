#!/usr/bin/env bash
# tests/net/test_fulltunnel.sh — wg-quick's full tunnel from a wiremesh
# config (issue 15): a peer with `AllowedIPs = 0.0.0.0/0, ::/0`.
#
#   a (agent) ── r (router) ── b (wireguard-go, forwards) ── pub 198.51.100.7
#   192.0.2.1    .254 | 203.0.113.254   203.0.113.2 | 198.51.100.1  2001:db8:3::7
#
# a's main table has only a default route via r, so its datagrams to the
# endpoint 203.0.113.2 would themselves match a default route into the
# tunnel were they not marked; r knows no route to pub, so reaching pub
# proves the tunnel carried it. Checked:
#   - pub answers over IPv4 and IPv6, and `ip route get` picks the tunnel
#   - the rules are wg-quick's (not fwmark 51820 table 51820; table main
#     suppress_prefixlength 0; v4 and v6), the default routes sit in table
#     51820, the socket carries the mark (`wg show IF fwmark`), and the
#     main table's default route is untouched
#   - after the agent stops: no rule left, table 51820 empty, a still
#     reaches r the old way
#   - Table = 1234: every route (defaults too) goes there and no rule is added
#   - the other way round: `WG_QUICK_USERSPACE_IMPLEMENTATION=wiremesh-wg
#     wg-quick up` with the same peer (wg-quick's own rules and routes over
#     `wiremesh-wg IF`, which went to the background): pub answers over v4
#     and v6; `wg-quick down` removes the rules, the main default route is
#     as before, and the wiremesh-wg process exits with its interface
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg wireguard-go ping ip wg-quick nft
[ -x "$PAIR_TOP/build/wiremesh-wg" ] || { t_fail "build/wiremesh-wg missing (./build.sh build)"; t_summary; }

TAG=ft$(($$ % 100000))
IA=${TAG}a IB=${TAG}b
PORT_A=51820 PORT_B=51821
PUB4=198.51.100.7 PUB6=2001:db8:3::7
PID_a="" PID_b=""

addr6() { lab_exec "$1" ip -6 addr add "$2" dev "$3" nodad; }

world() {
	lab_ns a && lab_ns r router && lab_ns b router && lab_ns pub || return 1
	lab_exec r sysctl -qw net.ipv6.conf.all.forwarding=1 &&
		lab_exec b sysctl -qw net.ipv6.conf.all.forwarding=1 || return 1
	lab_veth a eth0 192.0.2.1/24 r eth0 192.0.2.254/24 &&
		lab_veth r eth1 203.0.113.254/24 b eth0 203.0.113.2/24 &&
		lab_veth b eth1 198.51.100.1/24 pub eth0 $PUB4/24 || return 1
	addr6 a 2001:db8:1::1/64 eth0 && addr6 r 2001:db8:1::fe/64 eth0 &&
		addr6 r 2001:db8:2::fe/64 eth1 && addr6 b 2001:db8:2::2/64 eth0 &&
		addr6 b 2001:db8:3::1/64 eth1 && addr6 pub $PUB6/64 eth0 || return 1
	lab_exec a ip route add default via 192.0.2.254 &&
		lab_exec a ip -6 route add default via 2001:db8:1::fe &&
		lab_exec b ip route add default via 203.0.113.254 &&
		lab_exec b ip -6 route add default via 2001:db8:2::fe &&
		lab_exec pub ip route add default via 198.51.100.1 &&
		lab_exec pub ip -6 route add default via 2001:db8:3::1
}

rules() { lab_exec a ip "$1" rule show; }
n_rules() { rules "$1" | wc -l; }
has_rules() { # -4|-6 — wg-quick's two rules
	local out
	out=$(rules "$1")
	echo "$out"
	grep -q "not from all fwmark 0xca6c lookup 51820" <<<"$out" &&
		grep -q "from all lookup main suppress_prefixlength 0" <<<"$out"
}
table_has_default() { lab_exec a ip "$1" route show table 51820 | grep -q "^default dev $IA"; }
route_dev() { lab_exec a ip route get "$1" | grep -o "dev [^ ]*"; }
expect() { echo "$1: got '$2', want '$3'"; [ "$2" = "$3" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

world || { t_fail "lab world"; t_summary; }
pair_key ka && pair_key kb || { t_fail "keys"; t_summary; }
BASE4=$(n_rules -4) BASE6=$(n_rules -6)
MAIN_BEFORE=$(lab_exec a ip route show default)

pair_wggo_start b "$IB" kb $PORT_B "10.66.0.2/24,fd66::2/64" \
	peer "$(wm_pub ka)" allowed-ips 10.66.0.1/32,fd66::1/128 ||
	{ t_fail "wireguard-go in b"; t_summary; }
pair_wm_conf "$IA" ka $PORT_A "10.66.0.1/24, fd66::1/64" kb \
	"0.0.0.0/0, ::/0" 203.0.113.2:$PORT_B
pair_wm_start a "$IA" || { t_fail "agent in a"; t_summary; }

t_check "pub answers over IPv4 through the tunnel" lab_wait_for 10 pair_ping1 a $PUB4
t_check "pub answers over IPv6 through the tunnel" lab_wait_for 5 pair_ping1 a $PUB6
t_check "route to pub is the tunnel" expect "ip route get $PUB4" "$(route_dev $PUB4)" "dev $IA"
t_check "IPv4 rules are wg-quick's" has_rules -4
t_check "IPv6 rules are wg-quick's" has_rules -6
t_check "IPv4 default route in table 51820" table_has_default -4
t_check "IPv6 default route in table 51820" table_has_default -6
t_check "socket mark" expect "wg show fwmark" "$(wg show "$IA" fwmark)" "0xca6c"
t_check "endpoint reached outside the tunnel" expect "endpoint b sees" \
	"$(wg show "$IB" endpoints | awk '{print $2}')" "192.0.2.1:$PORT_A"
t_check "main default route untouched" expect "main default" \
	"$(lab_exec a ip route show default)" "$MAIN_BEFORE"

lab_kill "$PID_a"
t_check "agent gone" lab_wait_for 5 gone "$PID_a"
t_check "IPv4 rules removed" expect "ip -4 rule count" "$(n_rules -4)" "$BASE4"
t_check "IPv6 rules removed" expect "ip -6 rule count" "$(n_rules -6)" "$BASE6"
t_check "table 51820 empty" expect "table 51820" \
	"$(lab_exec a ip route show table 51820; lab_exec a ip -6 route show table 51820)" ""
t_check "main default route restored" expect "main default" \
	"$(lab_exec a ip route show default)" "$MAIN_BEFORE"
t_check "r reachable the old way" pair_ping1 a 203.0.113.254

# Table = 1234: routes there, defaults included, and no rules.
sed -i 's/^\[Interface\]$/[Interface]\nTable = 1234/' "$LAB_TMP/$IA.conf"
pair_wm_start a "$IA" || t_fail "agent with Table = 1234"
t_check "Table = 1234 holds the default route" lab_wait_for 5 \
	sh -c "ip netns exec $(lab_nsname a) ip route show table 1234 | grep -q '^default dev $IA'"
t_check "Table = 1234 adds no rule" expect "ip -4 rule count" "$(n_rules -4)" "$BASE4"
t_check "Table = 1234 leaves main alone" expect "main default" \
	"$(lab_exec a ip route show default)" "$MAIN_BEFORE"
lab_kill "$PID_a"
lab_wait_for 5 gone "$PID_a"

# Table 51820 already in use (another tunnel's): the next free one, as
# wg-quick picks it, with the mark to match; the other table untouched.
sed -i '/^Table = 1234$/d' "$LAB_TMP/$IA.conf"
lab_exec a ip route add 192.0.2.123/32 dev eth0 table 51820
pair_wm_start a "$IA" || t_fail "agent with table 51820 taken"
t_check "51820 taken: the default route goes to table 51821" lab_wait_for 5 \
	sh -c "ip netns exec $(lab_nsname a) ip route show table 51821 | grep -q '^default dev $IA'"
t_check "51820 taken: the rule and the mark are 51821's" eval \
	'rules -4 | grep -q "not from all fwmark 0xca6d lookup 51821" && [ "$(wg show "$IA" fwmark)" = 0xca6d ]'
t_check "51820 taken: pub answers through the tunnel" lab_wait_for 10 pair_ping1 a $PUB4
lab_kill "$PID_a"
lab_wait_for 5 gone "$PID_a"
t_check "51820 taken: its route is still there, 51821 empty" eval \
	'[ "$(lab_exec a ip route show table 51820)" = "192.0.2.123 dev eth0 scope link " ] && [ -z "$(lab_exec a ip route show table 51821)" ]'
lab_exec a ip route del 192.0.2.123/32 dev eth0 table 51820

# wg-quick driving wiremesh-wg
(
	umask 077
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.66.0.1/24, fd66::1/64\n\n' "$(wm_priv ka)"
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 203.0.113.2:%s\n' \
		"$(wm_pub kb)" $PORT_B
) >"$LAB_TMP/$IA.conf"
wgq() { # up|down
	lab_exec a env PATH="$PAIR_TOP/build:$PATH" WG_QUICK_USERSPACE_IMPLEMENTATION=wiremesh-wg \
		wg-quick "$1" "$LAB_TMP/$IA.conf"
}
wgpid() { # the wiremesh-wg serving $IA (started by wg-quick, not by us)
	local f
	for f in /proc/[0-9]*/cmdline; do
		[ "$(tr '\0' ' ' 2>/dev/null <"$f")" = "wiremesh-wg $IA " ] && { f=${f#/proc/}; echo "${f%/cmdline}"; return 0; }
	done
	return 1
}
no_sock() { [ ! -e "/var/run/wireguard/$IA.sock" ]; }
t_check "wg-quick up with wiremesh-wg" wgq up
WGPID=$(wgpid) || WGPID=""
t_check "wiremesh-wg runs in the background" [ -n "$WGPID" ]
t_check "wg-quick: pub answers over IPv4" lab_wait_for 10 pair_ping1 a $PUB4
t_check "wg-quick: pub answers over IPv6" lab_wait_for 5 pair_ping1 a $PUB6
t_check "wg-quick: route to pub is the tunnel" expect "ip route get $PUB4" "$(route_dev $PUB4)" "dev $IA"
t_check "wg-quick set the mark through the UAPI" expect "wg show fwmark" "$(wg show "$IA" fwmark)" "0xca6c"
t_check "wg-quick down" wgq down
t_check "wiremesh-wg exits with its interface" lab_wait_for 5 gone "${WGPID:-1}"
t_check "its UAPI socket is gone" no_sock
t_check "wg-quick down: IPv4 rules removed" expect "ip -4 rule count" "$(n_rules -4)" "$BASE4"
t_check "wg-quick down: IPv6 rules removed" expect "ip -6 rule count" "$(n_rules -6)" "$BASE6"
t_check "wg-quick down: main default route as before" expect "main default" \
	"$(lab_exec a ip route show default)" "$MAIN_BEFORE"
t_check "wg-quick down: r reachable" pair_ping1 a 203.0.113.254
t_summary
