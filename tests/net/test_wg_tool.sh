#!/usr/bin/env bash
# tests/net/test_wg_tool.sh — the `wg` tool drives a wiremesh agent through
# its UAPI socket (/var/run/wireguard/<iface>.sock), as it drives wireguard-go
# (issue 4).
#
# Namespace a runs the agent (192.0.2.1), namespace b runs wireguard-go as the
# peer (192.0.2.2 and a second address 192.0.2.3 on the same veth).
#   - `wg show IFACE` and every `wg show IFACE <field>`: public/private key,
#     listen port, peer, preshared key, endpoint, allowed ips, latest
#     handshake (recent), persistent keepalive, dump
#   - transfer counters: 20 pings of 1000 bytes each way move the counters by
#     at least the inner bytes and at most the wire bytes (+ slack), and agree
#     with wireguard-go's counters on the other side; the totals since the
#     start (handshake messages included) equal wireguard-go's exactly
#   - `wg set peer endpoint` moves the peer to 192.0.2.3 and the traffic
#     follows (the old address is then dropped by nftables in b, and b's
#     nftables counter for the new one grows)
#   - `wg set peer persistent-keepalive 1` makes the agent send keepalives
#   - `wg set listen-port` rebinds the agent's UDP socket; traffic continues
#   - `wg set peer remove` removes the peer live (ping fails); adding it back
#     with allowed-ips + endpoint + preshared-key restores traffic
#   - `wg showconf` round-trips through `wg setconf` (same text back, traffic
#     still flows) and is a config the agent itself accepts (--check-config)
#   - with SaveConfig = true, `wg set` of private-key, listen-port and fwmark
#     is written to the file and the agent restarted from it has them
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pair.sh"
pair_init wg wireguard-go ping ss nft

# PID_a: set by pair_wm_start (pair.sh)
PID_a=""
TAG=wt$(($$ % 100000)) # interface names: unique per run (UAPI sockets are global)
IA=${TAG}a IB=${TAG}b
PORT_A=51820 PORT_B=51821 PORT_A2=51830
IP_A=192.0.2.1 IP_B=192.0.2.2 IP_B2=192.0.2.3

# ------------------------------------------------------------------ helpers

not() { ! "$@"; }

# ping_rx NS DST COUNT [ping args] — prints the number of replies
ping_rx() {
	local ns=$1 dst=$2 n=$3 out
	shift 3
	out=$(lab_exec "$ns" ping -n -q -c "$n" -W 1 "$@" "$dst" 2>&1)
	sed -n 's/.* \([0-9]\+\) received.*/\1/p' <<<"$out"
}

ping_all() { # NS DST COUNT — every one answered
	local rx
	rx=$(ping_rx "$1" "$2" "$3" -i 0.2)
	echo "$rx of $3 replies"
	[ "${rx:-0}" -eq "$3" ]
}

ping_none() { # NS DST COUNT — none answered
	local rx
	rx=$(ping_rx "$1" "$2" "$3" -i 0.3)
	echo "$rx of $3 replies"
	[ "${rx:-0}" -eq 0 ]
}

field() { # IFACE FIELD PEERKEYNAME — the peer's value in `wg show IFACE FIELD`
	wg show "$1" "$2" | awk -v k="$(wm_pub "$3")" '$1 == k {print $2}'
}

expect() { # WHAT GOT WANT
	echo "$1: got '$2', want '$3'"
	[ "$2" = "$3" ]
}

# ------------------------------------------------------------------ world

lab_ns a && lab_ns b && lab_veth a eth0 "$IP_A/24" b eth0 "$IP_B/24" &&
	lab_exec b ip addr add "$IP_B2/24" dev eth0 ||
	{ t_fail "lab namespaces"; t_summary; }

pair_key ka && pair_key kb && pair_key psk || { t_fail "keys"; t_summary; }

pair_wm_conf "$IA" ka $PORT_A "10.77.0.1/24, fd77::1/64" kb "10.77.0.2/32, fd77::2/128" "$IP_B:$PORT_B" psk
t_check "agent $IA serves the UAPI socket" pair_wm_start a "$IA"
t_check "wireguard-go $IB configured" pair_wggo_start b "$IB" kb $PORT_B 10.77.0.2/24,fd77::2/64 \
	peer "$(wm_pub ka)" preshared-key "$LAB_TMP/psk.key" \
	allowed-ips 10.77.0.1/32,fd77::1/128 endpoint "$IP_A:$PORT_A"
t_check "tunnel up (ping a -> b)" lab_wait_for 10 pair_ping1 a 10.77.0.2

# ------------------------------------------------------------------ wg show

show_text() {
	local out
	out=$(wg show "$IA") || return 1
	echo "$out"
	grep -qx "interface: $IA" <<<"$out" &&
		grep -qx "  public key: $(wm_pub ka)" <<<"$out" &&
		grep -qx "  private key: (hidden)" <<<"$out" &&
		grep -qx "  listening port: $PORT_A" <<<"$out" &&
		grep -qx "peer: $(wm_pub kb)" <<<"$out" &&
		grep -qx "  preshared key: (hidden)" <<<"$out" &&
		grep -qx "  endpoint: $IP_B:$PORT_B" <<<"$out" &&
		grep -qx "  allowed ips: 10.77.0.2/32, fd77::2/128" <<<"$out" &&
		grep -qE "^  latest handshake: ([0-9]+ seconds?|Now)( ago)?$" <<<"$out" &&
		grep -qE "^  transfer: [0-9.]+ [KMG]?i?B received, [0-9.]+ [KMG]?i?B sent$" <<<"$out"
}
t_check "wg show $IA: interface, peer, endpoint, handshake, transfer" show_text

t_check "wg show public-key" expect public-key "$(wg show "$IA" public-key)" "$(wm_pub ka)"
t_check "wg show private-key" expect private-key "$(wg show "$IA" private-key)" "$(wm_priv ka)"
t_check "wg show listen-port" expect listen-port "$(wg show "$IA" listen-port)" "$PORT_A"
t_check "wg show peers" expect peers "$(wg show "$IA" peers)" "$(wm_pub kb)"
t_check "wg show preshared-keys" expect psk "$(field "$IA" preshared-keys kb)" "$(wm_priv psk)"
t_check "wg show endpoints" expect endpoint "$(field "$IA" endpoints kb)" "$IP_B:$PORT_B"
t_check "wg show allowed-ips" expect allowed-ips \
	"$(wg show "$IA" allowed-ips | awk -v k="$(wm_pub kb)" '$1 == k {$1 = ""; print substr($0, 2)}')" \
	"10.77.0.2/32 fd77::2/128"
t_check "wg show persistent-keepalive (off)" expect keepalive "$(field "$IA" persistent-keepalive kb)" off

recent_handshake() {
	local t now
	t=$(field "$IA" latest-handshakes kb)
	now=$(date +%s)
	echo "latest handshake $t, now $now"
	[ -n "$t" ] && [ "$t" -gt $((now - 30)) ] && [ "$t" -le $((now + 2)) ]
}
t_check "wg show latest-handshakes: within the last 30 s" recent_handshake

dump_ok() {
	local out
	out=$(wg show "$IA" dump) || return 1
	echo "$out"
	# interface line: private public port fwmark; peer line: 8 fields
	awk -F'\t' -v pa="$(wm_pub ka)" -v pb="$(wm_pub kb)" -v port=$PORT_A -v ep="$IP_B:$PORT_B" '
		NR == 1 { ok1 = (NF == 4 && $2 == pa && $3 == port) }
		NR == 2 { ok2 = (NF == 8 && $1 == pb && $3 == ep && $5 > 0 && $6 > 0 && $7 > 0) }
		END { exit !(NR == 2 && ok1 && ok2) }' <<<"$out"
}
t_check "wg show dump" dump_ok

# ------------------------------------------------------------------ counters

# "rx tx" of the peer KEYNAME on IFACE
transfer() { wg show "$1" transfer | awk -v k="$(wm_pub "$2")" '$1 == k {print $2, $3}'; }

N=20 SIZE=1000
INNER=$((20 + 8 + SIZE))                      # IPv4 + ICMP + payload
WIRE=$((16 + (INNER + 15) / 16 * 16 + 16))    # data header + padded + tag
counters() {
	local a0 b0 a1 b1 rx
	a0=$(transfer "$IA" kb) b0=$(transfer "$IB" ka)
	rx=$(ping_rx a 10.77.0.2 $N -i 0.05 -s $SIZE)
	a1=$(transfer "$IA" kb) b1=$(transfer "$IB" ka)
	echo "$rx of $N replies; agent before '$a0' after '$a1'; wireguard-go before '$b0' after '$b1'"
	[ "${rx:-0}" -eq $N ] || return 1
	"$LAB_PYTHON" - "$a0" "$a1" "$b0" "$b1" $N $INNER $WIRE >"$LAB_TMP/counters.last" <<-'EOF'
		import sys
		a0, a1, b0, b1 = ([int(x) for x in s.split()] for s in sys.argv[1:5])
		n, inner, wire = (int(x) for x in sys.argv[5:8])
		lo, hi = n * inner, n * wire + 600      # + a handshake or keepalives
		d_rx, d_tx = a1[0] - a0[0], a1[1] - a0[1]
		e_rx, e_tx = b1[0] - b0[0], b1[1] - b0[1]
		print("agent: +%d rx, +%d tx; wireguard-go: +%d rx, +%d tx; want %d..%d"
		      % (d_rx, d_tx, e_rx, e_tx, lo, hi))
		ok = lo <= d_tx <= hi and lo <= d_rx <= hi
		# what one side sent, the other received (give or take a keepalive)
		ok = ok and abs(d_tx - e_rx) <= 200 and abs(d_rx - e_tx) <= 200
		sys.exit(0 if ok else 1)
	EOF
	local rc=$?
	cat "$LAB_TMP/counters.last"
	return $rc
}
t_check "transfer counters match $N x $SIZE-byte pings both ways (and wireguard-go's)" counters
sed 's/^/    /' "$LAB_TMP/counters.last" 2>/dev/null

# Since the start, every byte one side sent the other received: handshake
# messages included, as the kernel (update_rx_stats in
# wg_receive_handshake_packet) and wireguard-go count them. Read when the
# link is quiet; retried in case a packet was in flight.
totals_equal() {
	local a b i
	for ((i = 0; i < 3; i++)); do
		sleep 0.3
		a=$(transfer "$IA" kb) b=$(transfer "$IB" ka)
		echo "agent rx tx: $a; wireguard-go rx tx: $b"
		[ "${a%% *}" = "${b#* }" ] && [ "${a#* }" = "${b%% *}" ] && return 0
	done
	echo "agent rx - wireguard-go tx = $((${a%% *} - ${b#* })); agent tx - wireguard-go rx = $((${a#* } - ${b%% *}))"
	return 1
}
t_check "total transfer counters equal wireguard-go's, handshakes included" totals_equal

# ------------------------------------------------------------------ wg set endpoint

t_check "wg set peer endpoint $IP_B2:$PORT_B" wg set "$IA" peer "$(wm_pub kb)" endpoint "$IP_B2:$PORT_B"
t_check "wg show endpoints: the new one" expect endpoint "$(field "$IA" endpoints kb)" "$IP_B2:$PORT_B"
# from now on nothing reaches b at its old address; count what reaches the new one
lab_exec b nft -f - <<EOF
table inet wmt {
	counter to_new {}
	chain input {
		type filter hook input priority filter; policy accept;
		ip daddr $IP_B udp dport $PORT_B drop
		ip daddr $IP_B2 udp dport $PORT_B counter name to_new
	}
}
EOF
new_count() { lab_exec b nft list counter inet wmt to_new | sed -n 's/.*packets \([0-9]\+\).*/\1/p'; }
moved() {
	local c0 c1
	c0=$(new_count)
	ping_all a 10.77.0.2 5 || return 1
	c1=$(new_count)
	echo "packets to $IP_B2:$PORT_B: $c0 -> $c1"
	[ "$c1" -ge $((c0 + 5)) ]
}
t_check "traffic follows the new endpoint (old one dropped)" moved
t_check "ping b -> a after the move" ping_all b 10.77.0.1 3
t_check "endpoint stays at the new address" expect endpoint "$(field "$IA" endpoints kb)" "$IP_B2:$PORT_B"

# ------------------------------------------------------------------ keepalive

t_check "wg set peer persistent-keepalive 1" wg set "$IA" peer "$(wm_pub kb)" persistent-keepalive 1
t_check "wg show persistent-keepalive (1)" expect keepalive "$(field "$IA" persistent-keepalive kb)" 1
keepalives() {
	local b0 b1
	b0=$(transfer "$IB" ka)
	sleep 3.5
	b1=$(transfer "$IB" ka)
	echo "wireguard-go rx/tx: '$b0' -> '$b1'"
	# at least 2 keepalives (32 bytes each) in 3.5 s with no other traffic
	[ $((${b1%% *} - ${b0%% *})) -ge 64 ]
}
t_check "the agent sends persistent keepalives" keepalives
t_check "wg set peer persistent-keepalive 0" wg set "$IA" peer "$(wm_pub kb)" persistent-keepalive 0
t_check "wg show persistent-keepalive (off again)" expect keepalive "$(field "$IA" persistent-keepalive kb)" off

# ------------------------------------------------------------------ wg set listen-port

t_check "wg set listen-port $PORT_A2" wg set "$IA" listen-port $PORT_A2
t_check "wg show listen-port (new)" expect listen-port "$(wg show "$IA" listen-port)" $PORT_A2
udp_bound() { lab_exec a ss -Hlun "sport = :$1" | grep -q .; }
t_check "the agent listens on UDP $PORT_A2" lab_wait_for 3 udp_bound $PORT_A2
t_check "and no longer on UDP $PORT_A" not udp_bound $PORT_A
t_check "ping a -> b after the port change" ping_all a 10.77.0.2 3
t_check "wireguard-go learnt the new port" expect "b's endpoint" "$(field "$IB" endpoints ka)" "$IP_A:$PORT_A2"
t_check "ping b -> a after the port change" ping_all b 10.77.0.1 3

# ------------------------------------------------------------------ remove / add back

t_check "wg set peer remove" wg set "$IA" peer "$(wm_pub kb)" remove
t_check "wg show peers: none" expect peers "$(wg show "$IA" peers)" ""
t_check "ping a -> b fails without the peer" ping_none a 10.77.0.2 3
t_check "ping b -> a fails without the peer" ping_none b 10.77.0.1 3
t_check "agent still running after the removal" pair_alive "$PID_a"
t_check "wg set peer (add back) allowed-ips endpoint preshared-key" \
	wg set "$IA" peer "$(wm_pub kb)" allowed-ips 10.77.0.2/32,fd77::2/128 \
	endpoint "$IP_B2:$PORT_B" preshared-key "$LAB_TMP/psk.key"
t_check "wg show peers: back" expect peers "$(wg show "$IA" peers)" "$(wm_pub kb)"
t_check "traffic restored (new handshake)" lab_wait_for 10 pair_ping1 a 10.77.0.2
t_check "ping a -> b after adding back" ping_all a 10.77.0.2 5
t_check "ping v6 b -> a after adding back" ping_all b fd77::1 3

# ------------------------------------------------------------------ showconf

roundtrip() {
	local f1=$LAB_TMP/sc1.conf f2=$LAB_TMP/sc2.conf
	(umask 077 && wg showconf "$IA" >"$f1") || return 1
	sed 's/^\(PrivateKey\|PresharedKey\) = .*/\1 = (hidden)/' "$f1"
	grep -qx "PrivateKey = $(wm_priv ka)" "$f1" &&
		grep -qx "ListenPort = $PORT_A2" "$f1" &&
		grep -qx "PublicKey = $(wm_pub kb)" "$f1" &&
		grep -qx "PresharedKey = $(wm_priv psk)" "$f1" &&
		grep -qx "AllowedIPs = 10.77.0.2/32, fd77::2/128" "$f1" &&
		grep -qx "Endpoint = $IP_B2:$PORT_B" "$f1" || { echo "field missing"; return 1; }
	wg setconf "$IA" "$f1" || { echo "setconf failed"; return 1; }
	(umask 077 && wg showconf "$IA" >"$f2") || return 1
	diff "$f1" "$f2"
}
t_check "wg showconf | wg setconf | wg showconf gives the same text" roundtrip
t_check "traffic after setconf" lab_wait_for 10 pair_ping1 a 10.77.0.2
t_check "ping a -> b after setconf" ping_all a 10.77.0.2 3
accepts() {
	local f=$LAB_TMP/${TAG}x.conf
	(umask 077 && cp "$LAB_TMP/sc1.conf" "$f")
	"$WM" agent --config "$f" --check-config
}
t_check "the agent accepts the showconf output as its config (--check-config)" accepts

# ------------------------------------------------------------------ SaveConfig

# A second agent with SaveConfig = true: `wg set` of the private key, the
# listen port and the fwmark is written to its file and survives a restart.
IS=${TAG}s PORT_S=51840 PORT_S2=51841 PID_main=$PID_a
pair_key ks && pair_key ks2 || t_fail "keys for $IS"
pair_wm_conf "$IS" ks $PORT_S "10.78.0.1/24" kb "10.78.0.2/32"
sed -i 's/^\[Interface\]$/&\nSaveConfig = true/' "$LAB_TMP/$IS.conf"
t_check "agent $IS (SaveConfig = true) up" pair_wm_start a "$IS"
PID_s=$PID_a
t_check "wg set $IS private-key listen-port fwmark" \
	wg set "$IS" private-key "$LAB_TMP/ks2.key" listen-port $PORT_S2 fwmark 0x1234
saved_iface() {
	local f=$LAB_TMP/$IS.conf
	grep -qx "PrivateKey = $(wm_priv ks2)" "$f" && grep -qx "ListenPort = $PORT_S2" "$f" &&
		grep -qx "FwMark = 0x1234" "$f" && [ "$(grep -c '^PrivateKey' "$f")" = 1 ] &&
		grep -qx "PublicKey = $(wm_pub kb)" "$f"
}
t_check "SaveConfig kept the running private key, port and fwmark" lab_wait_for 5 saved_iface
sed 's/^\(PrivateKey\) = .*/\1 = (hidden)/' "$LAB_TMP/$IS.conf"
lab_kill "$PID_s"
t_check "agent $IS restarted from the saved file" pair_wm_start a "$IS"
PID_s=$PID_a
t_check "after restart: wg show public-key" expect public-key "$(wg show "$IS" public-key)" "$(wm_pub ks2)"
t_check "after restart: wg show listen-port" expect listen-port "$(wg show "$IS" listen-port)" $PORT_S2
t_check "after restart: wg show fwmark" expect fwmark "$(wg show "$IS" fwmark)" 0x1234
lab_kill "$PID_s"
PID_a=$PID_main

t_check "agent still running at the end" pair_alive "$PID_a"
t_check "wg show still answers at the end" pair_uapi_up "$IA"
t_summary
