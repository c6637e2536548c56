#!/usr/bin/env bash
# tests/net/test_roaming.sh — endpoint roaming (issue 4).
#
# a (192.0.2.1) stays put; b (192.0.2.2 at first) roams twice while pings
# run through the tunnel both ways: b gets a new address on its veth and loses
# the old one (192.0.2.2 → .3 → .4, promote_secondaries on, all inside b's
# namespace). b has PersistentKeepalive = 1, so it keeps sending from its new
# address; a must follow the new source address of b's authenticated packets.
# Three pairings:
#   1. wiremesh a <-> wiremesh b (roaming)
#   2. wiremesh a <-> wireguard-go b (roaming): wiremesh follows the reference
#      (wireguard-go keeps its stale source address after the address is
#      deleted, so it also changes its listen port each time: a new ip:port)
#   3. wireguard-go a <-> wiremesh b (roaming): wiremesh roams, the reference follows
# Checks per pairing, after each move: a's `wg show endpoints` shows b's new
# address (within 5 s); then: the pings from b to a (b sends from its new
# address at once) lose at most 2 packets in all, the pings from a to b (lost
# until b's next packet reaches a) at most 8 per move, and the last 2 s of
# both pings lose nothing. Then a third move (.4 → .5) with no traffic at
# all: a must follow within 4 s on b's keepalives alone, and ping a → b
# works. Both ends still run.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg wireguard-go ping

# PID_a, PID_b: set by the start functions (eval)
PID_a="" PID_b=""
TAG=wo$(($$ % 100000)) # interface names: unique per run (UAPI sockets are global)
PORT_A=51820 PORT_B=51821
IP_A=192.0.2.1 IP_B=192.0.2.2
COUNT=60 INTERVAL=0.2 # 12 s of pings; moves at ~3 s and ~7 s

# ------------------------------------------------------------------ helpers

ping_all() { # NS DST COUNT — every one answered
	local out
	out=$(lab_exec "$1" ping -n -q -c "$3" -i 0.2 -W 1 "$2" 2>&1)
	echo "$out"
	grep -q " $3 received" <<<"$out"
}

# start_wm / start_wggo NS IFACE KEYNAME PORT ADDR PEERKEY ALLOWED ENDPOINT|- KEEPALIVE|0
start_wm() { pair_wm_conf "$2" "$3" "$4" "$5" "$6" "$7" "$8" - "$9" && pair_wm_start "$1" "$2"; }
start_wggo() {
	local args=(peer "$(wm_pub "$6")" allowed-ips "$7" persistent-keepalive "$9")
	[ "$8" = - ] || args+=(endpoint "$8")
	pair_wggo_start "$1" "$2" "$3" "$4" "$5" "${args[@]}"
}

endpoint_of() { # IFACE KEYNAME
	wg show "$1" endpoints 2>/dev/null | awk -v k="$(wm_pub "$2")" '$1 == k {print $2}'
}
endpoint_is() { [ "$(endpoint_of "$1" "$2")" = "$3" ]; }

move_b() { # NEW OLD — new address on b's veth, then the old one goes
	lab_exec b ip addr add "$1/24" dev eth0 && lab_exec b ip addr del "$2/24" dev eth0
}

# ping_loss LOG — transmitted minus received, from ping's summary
ping_loss() {
	local tx rx
	tx=$(sed -n 's/^\([0-9]\+\) packets transmitted.*/\1/p' "$1")
	rx=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' "$1")
	[ -n "$tx" ] && [ -n "$rx" ] && [ "$tx" -eq $COUNT ] || { echo "no summary in $1"; return 1; }
	echo $((tx - rx))
}

loss_at_most() { # LOG MAX
	local l
	l=$(ping_loss "$1") || { echo "$l"; return 1; }
	grep 'packets transmitted' "$1"
	[ "$l" -le "$2" ]
}

# the last 2 s (10 pings) of a ping log were all answered
tail_clean() { # LOG
	local last
	last=$(grep -o 'icmp_seq=[0-9]\+' "$1" | cut -d= -f2 | sort -n | tail -n 10 | tr '\n' ' ')
	echo "last answered seqs: $last"
	# shellcheck disable=SC2086
	set -- $last
	[ $# -eq 10 ] && [ "${10}" -eq $COUNT ] && [ "$1" -eq $((COUNT - 9)) ]
}

# ------------------------------------------------------------------ world

lab_ns a && lab_ns b && lab_veth a eth0 "$IP_A/24" b eth0 - ||
	{ t_fail "lab namespaces"; t_summary; }

N=0
# pairing KIND_A KIND_B (wm|wggo)
pairing() {
	local ka kb ia ib d pa pb pb1=$PORT_B pb2=$PORT_B pb3=$PORT_B
	N=$((N + 1))
	ka=k${N}a kb=k${N}b ia=${TAG}${N}a ib=${TAG}${N}b
	d="$([ "$1" = wm ] && echo wiremesh || echo wireguard-go) a <-> $([ "$2" = wm ] && echo wiremesh || echo wireguard-go) b (roaming)"
	echo "=== $d"
	# wireguard-go (v0.0.20220316) keeps sending from the address it
	# last used (sticky source) after that address is gone, and only
	# forgets it when its socket is rebound: as roaming side it changes
	# its listen port too, like a NAT that rebinds.
	[ "$2" = wm ] || pb1=$((PORT_B + 1)) pb2=$((PORT_B + 2)) pb3=$((PORT_B + 3))
	# b starts at 192.0.2.2 again; secondaries survive the primary's removal
	lab_exec b ip addr flush dev eth0
	lab_exec b sysctl -qw net.ipv4.conf.all.promote_secondaries=1 net.ipv4.conf.eth0.promote_secondaries=1
	lab_exec b ip addr add "$IP_B/24" dev eth0
	pair_key "$ka" && pair_key "$kb"
	# a has no endpoint for b: it only ever learns it from b's packets
	t_check "$d: a starts" "start_$1" a "$ia" "$ka" $PORT_A 10.77.0.1/24 "$kb" 10.77.0.2/32 - 0
	t_check "$d: b starts (PersistentKeepalive 1)" "start_$2" b "$ib" "$kb" $PORT_B 10.77.0.2/24 "$ka" 10.77.0.1/32 "$IP_A:$PORT_A" 1
	pa=$PID_a pb=$PID_b
	t_check "$d: tunnel up" lab_wait_for 10 pair_ping1 b 10.77.0.1
	t_check "$d: a sees b at $IP_B:$PORT_B" endpoint_is "$ia" "$kb" "$IP_B:$PORT_B"

	lab_bg --name "ping-ab-$N" a ping -n -c $COUNT -i $INTERVAL -W 1 10.77.0.2
	local pab=$LAB_LAST_PID lab_=$LAB_LAST_LOG
	lab_bg --name "ping-ba-$N" b ping -n -c $COUNT -i $INTERVAL -W 1 10.77.0.1
	local pba=$LAB_LAST_PID lba=$LAB_LAST_LOG
	sleep 3
	t_check "$d: b moves 192.0.2.2 -> 192.0.2.3" move_b 192.0.2.3 "$IP_B"
	[ "$2" = wm ] || t_check "$d: b rebinds to port $((PORT_B + 1))" lab_exec b wg set "$ib" listen-port $((PORT_B + 1))
	t_check "$d: a follows to 192.0.2.3:$pb1" lab_wait_for 5 endpoint_is "$ia" "$kb" "192.0.2.3:$pb1"
	echo "    a's endpoint for b: $(endpoint_of "$ia" "$kb")"
	sleep 3
	t_check "$d: b moves 192.0.2.3 -> 192.0.2.4" move_b 192.0.2.4 192.0.2.3
	[ "$2" = wm ] || t_check "$d: b rebinds to port $((PORT_B + 2))" lab_exec b wg set "$ib" listen-port $((PORT_B + 2))
	t_check "$d: a follows to 192.0.2.4:$pb2" lab_wait_for 5 endpoint_is "$ia" "$kb" "192.0.2.4:$pb2"
	echo "    a's endpoint for b: $(endpoint_of "$ia" "$kb")"
	# both pings end within COUNT * INTERVAL + 1 s; bounded wait
	lab_wait_for 20 not_running "$pab" "$pba"
	t_check "$d: ping b -> a lost at most 2 of $COUNT" loss_at_most "$lba" 2
	t_check "$d: ping a -> b lost at most 16 of $COUNT" loss_at_most "$lab_" 16
	t_check "$d: ping b -> a: last 2 s all answered" tail_clean "$lba"
	t_check "$d: ping a -> b: last 2 s all answered" tail_clean "$lab_"
	echo "    a -> b: $(grep 'packets transmitted' "$lab_")"
	echo "    b -> a: $(grep 'packets transmitted' "$lba")"
	# a third move with no traffic at all: only b's keepalives tell a
	t_check "$d: quiet move 192.0.2.4 -> 192.0.2.5" move_b 192.0.2.5 192.0.2.4
	[ "$2" = wm ] || t_check "$d: b rebinds to port $((PORT_B + 3))" lab_exec b wg set "$ib" listen-port $((PORT_B + 3))
	t_check "$d: a follows to 192.0.2.5:$pb3 on keepalives alone" \
		lab_wait_for 4 endpoint_is "$ia" "$kb" "192.0.2.5:$pb3"
	t_check "$d: ping a -> b after the quiet move" ping_all a 10.77.0.2 5
	t_check "$d: a still running" pair_alive "$pa"
	t_check "$d: b still running" pair_alive "$pb"
	lab_kill "$pab"
	lab_kill "$pba"
	lab_kill "$pa"
	lab_kill "$pb"
}
not_running() { local p; for p; do pair_alive "$p" && return 1; done; return 0; }

pairing wm wm
pairing wm wggo
pairing wggo wm

t_summary
