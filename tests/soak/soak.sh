#!/usr/bin/env bash
# tests/soak/soak.sh — `./build.sh soak [--short]` (issue 16): one agent
# under a day's worth of rekeys, loss, a relay restart and a NAT rebinding.
#
# The agent under test, a, is the fast-timers build (build/fasttimers:
# REKEY_AFTER_TIME 6 s, REJECT_AFTER_TIME 9 s) behind a cone NAT, with a
# relay configured and 1,000 peers: K real ones (agents b1..bK, fast timers
# too, each on a public host of its own, b1 also on the relay) and 1000-K that only exist
# in its config. a pings every real peer (20 packets a second in all) and,
# as the initiator, rekeys with each of them every ~6 s: 720 rekeys, a day
# of WireGuard's 2-minute rekeys, take 720*6/K seconds (K = 8: 9 minutes).
# The internet router drops 1% of everything it forwards, at random; the
# drops of datagrams the size of a sealed ping (UDP length 136) are counted
# by their own nftables rule, so every lost ping is either explained by one
# of them or is a loss of ours. Halfway: the relay is killed and started
# again, after a's NAT rebinds (its conntrack table flushed, its masquerade
# moved to another port range: a's traffic leaves from a new public port).
#
# Printed: pings sent / lost / explained by the injected loss / beyond it
# (must be 0) and that per rekey; rekeys (a's completed handshakes); RSS and
# open fds of a at the start (after warm-up) and at the end (no growth
# beyond 1 MB of RSS, the same fds). --short: 40 s, K = 2, a under valgrind
# (memcheck, must report 0 errors; the fds then include valgrind's own).
# Env: SOAK_SECONDS (default 720*6/K), SOAK_PEERS (K, default 8).
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
WM=$PWD/build/fasttimers/wiremesh
. tests/net/wm.sh

SHORT=0
[ "${1:-}" = --short ] && SHORT=1
K=${SOAK_PEERS:-$([ $SHORT = 1 ] && echo 2 || echo 8)}
SECS=${SOAK_SECONDS:-$([ $SHORT = 1 ] && echo 40 || echo $((720 * 6 / K)))}
NPEERS=1000
RATE=20 # pings per second, in all
case $K in [1-9] | 1[0-2]) ;; *) echo "soak: SOAK_PEERS must be 1-12 (the lab has 12 free /29s)" >&2; exit 2 ;; esac
lab_init || { echo "0 passed, 1 failed"; exit 1; }
[ -x "$WM" ] || { t_fail "$WM missing (./build.sh soak builds it)"; t_summary; }
for t in conntrack nft ping; do command -v $t >/dev/null || { t_fail "missing tool: $t"; t_summary; }; done
[ $SHORT = 0 ] || command -v valgrind >/dev/null || { t_fail "missing tool: valgrind"; t_summary; }
echo "soak: $K real peers + $((NPEERS - K)) configured, ${SECS} s, $RATE pings/s, 1% loss"

# a behind a cone NAT; each real peer b<i> a public host of its own,
# straight on the lab's internet router, in the documentation range the
# lab leaves free (192.0.2.128-223, tests/net/lib.sh): a /29 each.
lab_world && lab_side a cone || { t_fail "lab topology"; t_summary; }
b_ip() { echo "192.0.2.$((128 + 8 * ($1 - 1) + $2))"; } # I HOST_OCTET
for ((i = 1; i <= K; i++)); do
	lab_ns "b$i" && lab_veth inet "to-b$i" "$(b_ip $i 1)/29" "b$i" eth0 "$(b_ip $i 2)/29" &&
		lab_exec "b$i" ip route add default via "$(b_ip $i 1)" || { t_fail "namespace b$i"; t_summary; }
done
wm_key a
for ((i = 1; i <= K; i++)); do wm_key "b$i"; done
wm_relay_start relay "$RELAY_IP" a b1 || { t_fail "relay"; t_summary; }

# a: its real peers at b's public address, then the ones that never answer
{
	printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.77.0.1/16\n' "$(wm_priv a)"
	printf 'API = %s\nRelay = %s:3478\nRelayPublicKey = %s\n' "$LAB_TMP/a.api.sock" "$RELAY_IP" "$(wm_pub relay)"
	for ((i = 1; i <= K; i++)); do
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.77.1.%d/32\nEndpoint = %s:51820\n' \
			"$(wm_pub "b$i")" "$i" "$(b_ip $i 2)"
	done
	"$LAB_PYTHON" - $((NPEERS - K)) <<-'EOF'
		import base64, os, sys
		for i in range(int(sys.argv[1])):
		    k = base64.b64encode(os.urandom(32)).decode()
		    print('\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.78.%d.%d/32' % (k, i // 250, i % 250 + 1))
	EOF
} >"$LAB_TMP/a.conf"
for ((i = 1; i <= K; i++)); do
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.77.1.%d/16\n' \
			"$(wm_priv "b$i")" "$i"
		[ "$i" != 1 ] || printf 'Relay = %s:3478\nRelayPublicKey = %s\n' "$RELAY_IP" "$(wm_pub relay)"
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.77.0.1/32\n' "$(wm_pub a)"
	} >"$LAB_TMP/b$i.conf"
done
chmod 600 "$LAB_TMP"/*.conf
T=$(printf '%04x' $((RANDOM % 65536)))
# interface names come from the file names
for ((i = 1; i <= K; i++)); do
	cp "$LAB_TMP/b$i.conf" "$LAB_TMP/wk${T}b$i.conf"
	lab_bg --name "b$i" "b$i" "$WM" agent --config "$LAB_TMP/wk${T}b$i.conf"
done
cp "$LAB_TMP/a.conf" "$LAB_TMP/wk${T}a.conf"
if [ $SHORT = 1 ]; then
	lab_bg --name a "$HOST_A_NS" valgrind --tool=memcheck --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite --track-fds=no \
		--log-file="$LAB_TMP/valgrind.log" "$WM" agent --config "$LAB_TMP/wk${T}a.conf"
else
	lab_bg --name a "$HOST_A_NS" "$WM" agent --config "$LAB_TMP/wk${T}a.conf"
fi
PID_A=$LAB_LAST_PID
t_check "agent a up with $NPEERS peers" lab_wait_for 60 test -S "$LAB_TMP/a.api.sock"

metric() { # NAME — sum of a's samples
	wm_api a /metrics 2>/dev/null | awk -v n="$1" 'index($0, n) == 1 {s += $NF} END {printf "%d\n", s}'
}
reach_all() {
	local i
	for ((i = 1; i <= K; i++)); do
		lab_exec "$HOST_A_NS" ping -n -q -c 1 -W 1 "10.77.1.$i" >/dev/null || return 1
	done
}
if ! t_check "a reaches its $K real peers" lab_wait_for 60 reach_all; then :; fi
for ((i = 1; i <= K; i++)); do
	echo "    b$i: $(wm_path a "b$i" 2>/dev/null)"
done

# The loss: 1% of everything the internet forwards, sealed pings counted apart.
lab_exec inet nft -f - <<'EOF' || t_fail "loss rules"
table inet wm_soakloss {
	counter ping_drops {}
	counter other_drops {}
	chain forward {
		type filter hook forward priority -300; policy accept;
		meta l4proto udp udp length 136 numgen random mod 100 < 1 counter name ping_drops drop
		meta l4proto udp udp length != 136 numgen random mod 100 < 1 counter name other_drops drop
		meta l4proto != udp numgen random mod 100 < 1 counter name other_drops drop
	}
}
EOF
drops() { lab_exec inet nft list counter inet wm_soakloss "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

sample() { # LABEL — RSS (kB) and open fds of a
	local rss fds
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID_A/status")
	fds=$(ls "/proc/$PID_A/fd" | wc -l)
	echo "$rss $fds"
}
sleep 5 # warm-up: sessions, relay, STUN settle before the first sample
read -r RSS0 FD0 < <(sample)
HS0=$(metric wiremesh_handshakes_completed_total)
echo "soak: start: RSS ${RSS0} kB, ${FD0} fds, ${HS0} handshakes so far"

N_EACH=$((SECS * RATE / K))
INTERVAL=$(awk -v k="$K" -v r="$RATE" 'BEGIN {printf "%.3f", k / r}')
PINGS=()
for ((i = 1; i <= K; i++)); do
	lab_bg --name "ping$i" "$HOST_A_NS" ping -n -D -c "$N_EACH" -i "$INTERVAL" -W 2 "10.77.1.$i"
	PINGS+=("$LAB_LAST_LOG")
done
T_START=$SECONDS
# a's handshakes with its real peers, as `wg show` reports them (for the
# report of each lost ping below), every 0.5 s for the run
watch_hs() {
	local end=$((SECONDS + SECS + 10))
	while [ $SECONDS -lt $end ]; do
		echo "$(date +%s.%N) $(wg show "wk${T}a" latest-handshakes 2>/dev/null | grep -vP '\t0$' | tr '\n' ' ')"
		sleep 0.5
	done
}
watch_hs >"$LAB_TMP/handshakes.log" 2>&1 &
WATCH=$!

# RSS at a quarter: growth that stops after warm-up is no leak; a leak
# keeps growing into the last quarter.
sleep $((SECS / 4))
read -r RSS_Q1 _ < <(sample)
# Halfway: a's NAT rebinds, then the relay restarts (so a's new session
# with it must come from the new port).
sleep $((SECS / 2 - SECS / 4))
rebind() {
	lab_exec "$NAT_A_NS" nft flush chain ip wm_nat postrouting &&
		lab_exec "$NAT_A_NS" nft add rule ip wm_nat postrouting oifname wan ip saddr "$HOST_A_LAN" \
			meta l4proto udp masquerade to :61000-61999 &&
		lab_exec "$NAT_A_NS" nft add rule ip wm_nat postrouting oifname wan ip saddr "$HOST_A_LAN" \
			masquerade &&
		lab_exec "$NAT_A_NS" conntrack -F 2>/dev/null
}
T_REBIND=$(date +%s.%N)
t_check "a's NAT rebinds (new port range, conntrack flushed)" rebind
restart_relay() {
	lab_kill "$WM_RELAY_PID"
	lab_bg --name relay2 relay "$WM" relay --config "$LAB_TMP/relay.conf"
	WM_RELAY_PID=$LAB_LAST_PID
	lab_wait_for 5 lab_exec relay sh -c 'ss -Hlun "sport = :3478" | grep -q .'
}
t_check "relay restarted halfway" restart_relay
RELAY2_LOG=$LAB_LAST_LOG
# a found the new relay, from its new public port
a_back() { grep -qE "client $(wm_pub a | sed 's/[+/]/./g') connected over udp from [0-9.]+:61[0-9]{3}" "$RELAY2_LOG"; }
t_check "a connected to the restarted relay from its rebound port" lab_wait_for 30 a_back
grep -h "connected" "$RELAY2_LOG" | sed 's/^/    /'

sleep $((SECS / 4))
read -r RSS_Q3 _ < <(sample)

# the pings end on their own (bounded: count and -W)
pings_done() {
	local l
	for l in "${PINGS[@]}"; do grep -q 'packets transmitted' "$l" || return 1; done
}
lab_wait_for $((SECS + 30)) pings_done || t_fail "pings did not finish"
read -r RSS1 FD1 < <(sample)
HS1=$(metric wiremesh_handshakes_completed_total)
SENT=0 RECV=0
for l in "${PINGS[@]}"; do
	SENT=$((SENT + $(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$l")))
	RECV=$((RECV + $(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$l")))
done
kill "$WATCH" 2>/dev/null
LOST=$((SENT - RECV)) INJ=$(drops ping_drops) OTHER=$(drops other_drops)
# Every lost ping: when, and how far from a's last handshake with that
# peer and from the rebinding (injected drops look like any other loss:
# this is for reading when the total says a loss was ours).
lost_report() {
	local i
	for ((i = 1; i <= K; i++)); do
		echo "PEER $i $(wm_pub "b$i") ${PINGS[$((i - 1))]}"
	done >"$LAB_TMP/peers.txt"
	"$LAB_PYTHON" - "$LAB_TMP/handshakes.log" "$T_REBIND" "$INTERVAL" "$N_EACH" "$LAB_TMP/peers.txt" <<-'EOF'
		import re, sys
		hs_log, t_rebind, interval, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
		hs = {}  # key -> sorted handshake times
		for line in open(hs_log):
		    f = line.split()
		    for k, t in zip(f[1::2], f[2::2]):
		        if t != '0':
		            hs.setdefault(k, set()).add(int(t))
		for line in open(sys.argv[5]):
		    _, i, key, log = line.split()
		    got, first = {}, None
		    for l in open(log):
		        m = re.match(r'\[(\d+\.\d+)\] \d+ bytes from .* icmp_seq=(\d+)', l)
		        if m:
		            got[int(m.group(2))] = float(m.group(1))
		    if not got:
		        continue
		    s0, t0 = min(got.items())
		    for seq in range(1, n + 1):
		        if seq in got:
		            continue
		        t = t0 + (seq - s0) * interval
		        before = [h for h in hs.get(key, ()) if h <= t]
		        dh = t - max(before) if before else -1
		        print('lost: b%s seq %d at %+.1f s from the rebinding, %.1f s after a handshake'
		              % (i, seq, t - t_rebind, dh))
	EOF
}
lost_report >"$LAB_TMP/lost.txt" 2>&1
REKEYS=$((HS1 - HS0))
BEYOND=$((LOST > INJ ? LOST - INJ : 0))
echo
echo "soak: $((SECONDS - T_START)) s, $REKEYS rekeys (a's completed handshakes), $((REKEYS * 2)) min of 2-minute rekeys"
echo "soak: pings sent $SENT, lost $LOST, explained by injected loss $INJ (+$OTHER other datagrams dropped)"
if [ "$BEYOND" -gt 0 ] || [ "${SOAK_VERBOSE:-0}" = 1 ]; then
	echo "soak: the lost pings (wg show's handshake times are whole seconds):"
	sed 's/^/    /' "$LAB_TMP/lost.txt"
fi
echo "soak: lost beyond the injected loss: $BEYOND ($(awk -v b="$BEYOND" -v r="$REKEYS" 'BEGIN {printf "%.3f", (r ? b / r : 0)}') per rekey)"
echo "soak: RSS ${RSS0} kB at start, ${RSS_Q1} at 1/4, ${RSS_Q3} at 3/4, ${RSS1} at the end; fds ${FD0} -> ${FD1}"
t_check "sent every ping ($SENT of $((N_EACH * K)))" test "$SENT" -eq $((N_EACH * K))
t_check "no ping lost beyond the injected loss ($BEYOND)" test "$BEYOND" -eq 0
t_check "rekeyed ($REKEYS handshakes in $SECS s with $K peers)" test "$REKEYS" -ge $((SECS * K / 9))
# (under valgrind the RSS is valgrind's: shown, not judged)
[ $SHORT = 1 ] || t_check "RSS did not grow (${RSS0} -> ${RSS1} kB)" test "$RSS1" -le $((RSS0 + 1024))
[ $SHORT = 1 ] || t_check "nor in the last quarter (${RSS_Q3} -> ${RSS1} kB)" test "$RSS1" -le $((RSS_Q3 + 128))
t_check "no fd leak (${FD0} -> ${FD1})" test "$FD1" -le "$FD0"
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }
dead() { ! alive "$1"; }
t_check "agent a still running" alive "$PID_A"
if [ $SHORT = 1 ]; then
	stop_valgrind() {
		kill -TERM "$PID_A"
		lab_wait_for 30 dead "$PID_A" || return 1
		grep -E 'ERROR SUMMARY|definitely lost' "$LAB_TMP/valgrind.log"
		grep -q 'ERROR SUMMARY: 0 errors' "$LAB_TMP/valgrind.log"
	}
	t_check "valgrind memcheck: 0 errors" stop_valgrind
	grep -E 'ERROR SUMMARY|definitely|indirectly|possibly' "$LAB_TMP/valgrind.log" | sed 's/^/    /'
fi
t_summary
