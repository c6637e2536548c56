#!/usr/bin/env bash
# tests/bench/bench.sh — wiremesh vs wireguard-go, same machine, same run.
# Run through `./build.sh bench` (which installs deps and builds first).
#
# World: two namespaces "a" and "b" joined by one veth pair (MTU 1500,
# 192.0.2.1/24 and 192.0.2.2/24). In each namespace both implementations run
# at once, each with its own tunnel:
#   wiremesh      (build/wiremesh agent)   10.77.0.1 <-> 10.77.0.2, UDP 51820, MTU 1420
#   wireguard-go  (Debian's, via wg set)   10.78.0.1 <-> 10.78.0.2, UDP 51821, MTU 1420
# iperf3 client in a, server in b. Rounds alternate the order of the two
# implementations so that machine noise is spread over both.
#
# Measured per implementation: median Gbit/s (receiver side) of TCP single
# stream and of -P 4, and the median of the per-round paired ratios
# wiremesh/wireguard-go (each round's two runs side by side, so a slow round
# slows both); ping RTT through the tunnel (median/avg); VmRSS of each agent
# idle (after start, before any traffic) and after the run (with VmHWM); CPU
# time the two agents used per GB moved (from /proc/PID/stat, so it is
# independent of how fast the run was).
#
# Also measured:
#   memory per peer  an agent alone in a namespace with 1 peer, then with
#                    BENCH_PEERS idle peers (no endpoints): VmRSS after start,
#                    the difference in MB and KB per peer; wireguard-go too,
#                    given the same peers with `wg setconf`.
#   relayed/direct   a second wiremesh pair (10.79.0.1 <-> 10.79.0.2, default
#                    MTU with a relay) with Relay= a `wiremesh relay` in a third
#                    namespace "r" (ClientRate 1 GB/s, not the bottleneck), its
#                    peers set to Path = relay, then to direct through the REST
#                    API: the same pair, single stream, rounds alternating.
#   under a flood    a handshake flood (tests/tools/hs_flood: BENCH_FLOOD_RATE
#                    initiations/s from 100 addresses in a, answering cookies)
#                    at b's agent, for wiremesh and wireguard-go: b's CPU with
#                    the flood alone, and single-stream Gbit/s quiet and under
#                    the flood; then at the relay, the relayed pair's Gbit/s
#                    quiet and under the flood, and the relay's CPU.
#   machine busy     before each round, CPU idle share over 1 s (/proc/stat);
#                    below BENCH_IDLE_MIN % a warning is printed on that round.
#
# Knobs (environment):
#   BENCH_ROUNDS=5   rounds (each round: both impls, 1 stream and -P 4)
#   BENCH_TIME=4     seconds measured per iperf3 run (plus BENCH_OMIT warm-up)
#   BENCH_OMIT=1     iperf3 -O: seconds of slow start left out of the figure
#   BENCH_PINGS=50   pings per implementation, at -i 0.05
#   BENCH_PROFILE=0  1: one more wiremesh single-stream run under `perf record`,
#                    top symbols of both agents printed (needs linux-perf); and
#                    one more relayed run with the relay and both agents profiled
#   BENCH_PEERS=1000 idle peers for the memory-per-peer figure (0: skip it)
#   BENCH_RELAY_ROUNDS=2  relayed/direct rounds (0: skip the relay pair)
#   BENCH_IDLE_MIN=80     CPU idle % below which a round is flagged
#   BENCH_FLOOD_RATE=15000 initiations/s of the flood figures (0: skip them)
#   LAB_KEEP=1       keep the scratch directory (iperf3 JSON, logs)
# Defaults take about 3 minutes. Exit status 0 when both were measured.
# shellcheck disable=SC2015 # "a && b || fail" is meant
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
WM=${WIREMESH:-$TOP/build/wiremesh}   # WIREMESH=path: another build (development)
# shellcheck source=tests/net/lib.sh
. "$TOP/tests/net/lib.sh"

ROUNDS=${BENCH_ROUNDS:-5}
TIME=${BENCH_TIME:-4}
OMIT=${BENCH_OMIT:-1}
PINGS=${BENCH_PINGS:-50}
PROFILE=${BENCH_PROFILE:-0}
PEERS=${BENCH_PEERS:-1000}
RELAY_ROUNDS=${BENCH_RELAY_ROUNDS:-2}
IDLE_MIN=${BENCH_IDLE_MIN:-80}
FLOOD_RATE=${BENCH_FLOOD_RATE:-15000}
FLOOD=$TOP/build/tests/hs_flood
PY=$LAB_PYTHON

die() { echo "bench: $*" >&2; exit 1; }

for t in iperf3 wireguard-go wg ping ip; do
	command -v "$t" >/dev/null 2>&1 || die "missing tool: $t (./build.sh deps)"
done
[ -x "$WM" ] || die "no $WM (./build.sh build)"

lab_init || die "lab_init failed"
RES=$LAB_TMP/res
mkdir -p "$RES"

# Interface names are global through /var/run/wireguard/<if>.sock, so they
# carry a random tag: concurrent runs (or tests) must not collide.
TAG=$(printf %04x $((RANDOM % 65536)))
WM_IF_A=wm${TAG}a WM_IF_B=wm${TAG}b
WG_IF_A=wg${TAG}a WG_IF_B=wg${TAG}b
UNDER_A=192.0.2.1 UNDER_B=192.0.2.2
WM_A=10.77.0.1 WM_B=10.77.0.2
WG_A=10.78.0.1 WG_B=10.78.0.2
WM_PORT=51820 WG_PORT=51821
IPERF_PORT=5201
WMR_IF_A=wm${TAG}c WMR_IF_B=wm${TAG}d   # the relayed pair
WMR_A=10.79.0.1 WMR_B=10.79.0.2 WMR_PORT=51822
RELAY_A=198.51.100.2 RELAY_B=203.0.113.2 RELAY_PORT=3478   # the relay as a and b see it

declare -A PID_A PID_B DST OK NAME PUB_B PORT_B
PORT_B[wm]=$WM_PORT PORT_B[wg]=$WG_PORT
NAME[wm]=wiremesh NAME[wg]=wireguard-go NAME[wmr]="wiremesh (relay pair)"
DST[wm]=$WM_B DST[wg]=$WG_B DST[wmr]=$WMR_B
OK[wm]=0 OK[wg]=0 OK[wmr]=0

# ---------------------------------------------------------------- world

lab_ns a && lab_ns b || die "cannot create namespaces"
lab_veth a eth0 "$UNDER_A/24" b eth0 "$UNDER_B/24" || die "cannot create veth"
lab_exec a ip link set eth0 mtu 1500 && lab_exec b ip link set eth0 mtu 1500 ||
	die "cannot set veth MTU"

# ---------------------------------------------------------------- wiremesh

wm_conf() { # file priv port addr peerpub peerip endpoint api
	cat >"$1" <<-EOF
		[Interface]
		PrivateKey = $2
		ListenPort = $3
		Address = $4/24
		MTU = 1420
		API = $8

		[Peer]
		PublicKey = $5
		AllowedIPs = $6/32
		Endpoint = $7
	EOF
}

start_wiremesh() {
	local ka kb pa pb
	ka=$("$WM" genkey) && kb=$("$WM" genkey) &&
		pa=$("$WM" pubkey <<<"$ka") && pb=$("$WM" pubkey <<<"$kb") ||
		{ echo "wiremesh genkey/pubkey failed"; return 1; }
	PUB_B[wm]=$pb
	wm_conf "$LAB_TMP/$WM_IF_A.conf" "$ka" $WM_PORT $WM_A "$pb" $WM_B "$UNDER_B:$WM_PORT" "$LAB_TMP/$WM_IF_A.sock"
	wm_conf "$LAB_TMP/$WM_IF_B.conf" "$kb" $WM_PORT $WM_B "$pa" $WM_A "$UNDER_A:$WM_PORT" "$LAB_TMP/$WM_IF_B.sock"
	lab_bg --name wiremesh-a a "$WM" agent --config "$LAB_TMP/$WM_IF_A.conf"
	PID_A[wm]=$LAB_LAST_PID
	lab_bg --name wiremesh-b b "$WM" agent --config "$LAB_TMP/$WM_IF_B.conf"
	PID_B[wm]=$LAB_LAST_PID
	lab_wait_for 10 lab_exec a ip link show "$WM_IF_A" up &&
		lab_wait_for 10 lab_exec b ip link show "$WM_IF_B" up ||
		{ echo "wiremesh interfaces did not come up"; return 1; }
}

# ---------------------------------------------------------------- wireguard-go

wg_side() { # ns if priv addr peerpub peerip endpoint
	local ns=$1 ifn=$2
	lab_bg --name "wireguard-go-$ns" "$ns" env WG_PROCESS_FOREGROUND=1 wireguard-go "$ifn"
	WG_LAST_PID=$LAB_LAST_PID
	lab_wait_for 10 test -S "/var/run/wireguard/$ifn.sock" ||
		{ echo "wireguard-go $ifn: no UAPI socket"; return 1; }
	printf '%s\n' "$3" >"$LAB_TMP/$ifn.key"
	lab_exec "$ns" wg set "$ifn" private-key "$LAB_TMP/$ifn.key" listen-port $WG_PORT \
		peer "$5" allowed-ips "$6/32" endpoint "$7" &&
		lab_exec "$ns" ip addr add "$4/24" dev "$ifn" &&
		lab_exec "$ns" ip link set "$ifn" mtu 1420 up
}

start_wireguard_go() {
	local ka kb pa pb
	ka=$(wg genkey) && kb=$(wg genkey) && pa=$(wg pubkey <<<"$ka") && pb=$(wg pubkey <<<"$kb") ||
		{ echo "wg genkey/pubkey failed"; return 1; }
	PUB_B[wg]=$pb
	wg_side a "$WG_IF_A" "$ka" $WG_A "$pb" $WG_B "$UNDER_B:$WG_PORT" || return 1
	PID_A[wg]=$WG_LAST_PID
	wg_side b "$WG_IF_B" "$kb" $WG_B "$pa" $WG_A "$UNDER_A:$WG_PORT" || return 1
	PID_B[wg]=$WG_LAST_PID
}

tunnel_up() { # impl — a few pings until one answers (the first starts the handshake)
	lab_wait_for 15 lab_exec a ping -c 1 -W 1 "${DST[$1]}"
}

# ---------------------------------------------------------------- measuring

agent_pid() { if [ "$2" = A ]; then echo "${PID_A[$1]:-}"; else echo "${PID_B[$1]:-}"; fi; }

alive() { [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

cpu_ticks() { # pid → utime+stime (clock ticks, all threads)
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

# run_iperf IMPL STREAMS TAG — JSON in $RES/TAG.json, agent CPU ticks in $RES/TAG.cpu
run_iperf() {
	local impl=$1 par=$2 tag=$3 a0 b0 a1 b1
	alive "${PID_A[$impl]}" && alive "${PID_B[$impl]}" || { echo '{"error":"agent died"}' >"$RES/$tag.json"; return 1; }
	a0=$(cpu_ticks "${PID_A[$impl]}") b0=$(cpu_ticks "${PID_B[$impl]}")
	timeout $((TIME + OMIT + 20)) ip netns exec "$(lab_nsname a)" \
		iperf3 -c "${DST[$impl]}" -p $IPERF_PORT -t "$TIME" -O "$OMIT" -P "$par" -J \
		>"$RES/$tag.json" 2>"$RES/$tag.err"
	a1=$(cpu_ticks "${PID_A[$impl]}") b1=$(cpu_ticks "${PID_B[$impl]}")
	echo "$((a1 - a0)) $((b1 - b0))" >"$RES/$tag.cpu"
}

run_ping() { # impl
	timeout 30 ip netns exec "$(lab_nsname a)" ping -n -c "$PINGS" -i 0.05 -W 1 "${DST[$1]}" \
		>"$RES/ping-$1.txt" 2>&1
}

rss() { # pid field → kB
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

# ---------------------------------------------------------------- idle RSS

# rss_idle IMPL — VmRSS of both agents after start, before any traffic
# (the tunnel is up but has not carried a packet), into $RES/rss-idle.txt.
rss_idle() {
	local side pid
	sleep 0.5
	for side in A B; do
		pid=$(agent_pid "$1" $side)
		echo "$1 $side $(rss "$pid" VmRSS)" >>"$RES/rss-idle.txt"
	done
}

# ---------------------------------------------------------------- machine busy

cpu_times() { # → idle+iowait and total jiffies of all CPUs
	awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat
}

cpu_idle_pct() { # → integer % of CPU time idle (idle + iowait) over 1 s
	local a b
	a=$(cpu_times)
	sleep 1
	b=$(cpu_times)
	# shellcheck disable=SC2086
	set -- $a $b
	[ $(($4 - $2)) -gt 0 ] && echo $((100 * ($3 - $1) / ($4 - $2))) || echo 100
}

# busy_note ROUND — empty when the machine was idle, else a warning for the
# round's line (also kept in $RES/busy.txt for the summary)
busy_note() {
	local idle
	idle=$(cpu_idle_pct)
	[ "$idle" -ge "$IDLE_MIN" ] && return 0
	echo "$1 $idle" >>"$RES/busy.txt"
	echo "  [WARNING: machine busy before this round: CPU ${idle}% idle over 1 s, $(cut -d' ' -f1 /proc/loadavg) load]"
}

# ---------------------------------------------------------------- memory per peer

# peers_conf FILE N KIND — N peers with random keys and one /32 each, no
# endpoints (idle: nothing to probe, no handshake). KIND wm: a wiremesh
# file (with Address and API); wg: a file for `wg setconf`.
peers_conf() {
	local priv
	priv=$("$WM" genkey) || return 1
	(umask 077 && "$PY" - "$1" "$2" "$3" "$priv" "${1%.conf}.api.sock") <<'PYEOF'
import base64, os, sys
f, n, kind, priv, api = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
with open(f, 'w') as o:
    o.write('[Interface]\nPrivateKey = %s\nListenPort = 51830\n' % priv)
    if kind == 'wm':
        o.write('Address = 10.99.0.1/16\nAPI = %s\n' % api)
    for i in range(n):
        o.write('\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.%d/32\n' % (
            base64.b64encode(os.urandom(32)).decode(), 100 + i // 65536, i // 256 % 256, i % 256))
PYEOF
}

# peers_rss KIND N — VmRSS (kB) of an agent alone in namespace m with N
# idle peers, a second after they were all in (wiremesh: its UAPI socket
# opens after the peers are set up; wireguard-go: `wg setconf` returned).
# Read before `wg show` checks the count, whose buffers would add to it.
peers_rss() {
	local kind=$1 n=$2 ifn pid kb=
	ifn=${kind}${TAG}m
	peers_conf "$LAB_TMP/$ifn.conf" "$n" "$kind" || return 1
	if [ "$kind" = wm ]; then
		lab_bg --name "wiremesh-peers-$n" m "$WM" agent --config "$LAB_TMP/$ifn.conf"
		pid=$LAB_LAST_PID
		lab_wait_for 30 test -S "/var/run/wireguard/$ifn.sock"
	else
		lab_bg --name "wireguard-go-peers-$n" m env WG_PROCESS_FOREGROUND=1 wireguard-go "$ifn"
		pid=$LAB_LAST_PID
		lab_wait_for 10 test -S "/var/run/wireguard/$ifn.sock" &&
			lab_exec m wg setconf "$ifn" "$LAB_TMP/$ifn.conf" &&
			lab_exec m ip link set "$ifn" up
	fi && sleep 1 && kb=$(rss "$pid" VmRSS) &&
		[ "$(lab_exec m wg show "$ifn" peers | wc -l)" = "$n" ] || kb=
	lab_kill "$pid"
	echo "$kb"
}

measure_peers() {
	local kind n
	lab_ns m || { echo "bench: cannot create namespace m"; return 1; }
	for kind in wm wg; do
		for n in 1 "$PEERS"; do
			echo "$kind $n $(peers_rss "$kind" "$n")" >>"$RES/peers.txt"
		done
	done
}

# ---------------------------------------------------------------- relayed vs direct

gbps() { # iperf3 JSON → receiver Gbit/s, or "fail"
	"$PY" -c 'import json,sys
try:
    print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("fail")' "$1"
}

urlkey() { tr '+/' '-_' <<<"$1" | tr -d '='; }

wmr_api() { # IF PATH [curl args...] — the REST API of one end of the relay pair
	local ifn=$1 path=$2
	shift 2
	curl -sS --max-time 5 --unix-socket "$LAB_TMP/$ifn.api.sock" "$@" "http://wiremesh$path"
}

wmr_path_is() { # IF PEERPUB WANT — the path the agent reports for the peer
	[ "$(wmr_api "$1" "/v1/peers/$(urlkey "$2")" |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)["path"])' 2>/dev/null)" = "$3" ]
}

wmr_mode() { # MODE — set on both ends, then wait until both report it as the path
	local put=(-X PUT -H 'Content-Type: application/json' -d "{\"mode\":\"$1\"}")
	wmr_api "$WMR_IF_A" "/v1/peers/$(urlkey "$WMR_PUB_B")/path" "${put[@]}" >/dev/null &&
		wmr_api "$WMR_IF_B" "/v1/peers/$(urlkey "$WMR_PUB_A")/path" "${put[@]}" >/dev/null &&
		lab_wait_for 15 wmr_path_is "$WMR_IF_A" "$WMR_PUB_B" "$1" &&
		lab_wait_for 15 wmr_path_is "$WMR_IF_B" "$WMR_PUB_A" "$1" &&
		lab_wait_for 10 lab_exec a ping -c 1 -W 1 "$WMR_B"
}

wmr_conf() { # IF priv addr relay peerpub peerip endpoint
	(umask 077 && cat >"$LAB_TMP/$1.conf") <<-EOF
		[Interface]
		PrivateKey = $2
		ListenPort = $WMR_PORT
		Address = $3/24
		API = $LAB_TMP/$1.api.sock
		Relay = $4:$RELAY_PORT
		RelayPublicKey = $RELAY_PUB

		[Peer]
		PublicKey = $5
		AllowedIPs = $6/32
		Endpoint = $7
		Path = relay
	EOF
}

# Namespace r, one veth to a and one to b; `wiremesh relay` there; the pair
# wm${TAG}c (in a) and wm${TAG}d (in b), relayed from the start.
start_relay_pair() {
	local kr ka kb
	lab_ns r && lab_veth a rl0 198.51.100.1/24 r eth0 "$RELAY_A/24" &&
		lab_veth b rl0 203.0.113.1/24 r eth1 "$RELAY_B/24" ||
		{ echo "cannot build the relay's namespace"; return 1; }
	kr=$("$WM" genkey) && ka=$("$WM" genkey) && kb=$("$WM" genkey) &&
		RELAY_PUB=$("$WM" pubkey <<<"$kr") && WMR_PUB_A=$("$WM" pubkey <<<"$ka") &&
		WMR_PUB_B=$("$WM" pubkey <<<"$kb") || { echo "wiremesh genkey/pubkey failed"; return 1; }
	(umask 077 && printf '[Relay]\nPrivateKey = %s\nListenPort = %s\nClientRate = 1000000000\nAllowedClients = %s\nAllowedClients = %s\n' \
		"$kr" $RELAY_PORT "$WMR_PUB_A" "$WMR_PUB_B" >"$LAB_TMP/relay.conf")
	lab_bg --name relay r "$WM" relay --config "$LAB_TMP/relay.conf"
	RELAY_PID=$LAB_LAST_PID
	lab_wait_for 5 lab_exec r sh -c "ss -Hlun 'sport = :$RELAY_PORT' | grep -q ." ||
		{ echo "the relay did not start"; return 1; }
	wmr_conf "$WMR_IF_A" "$ka" $WMR_A $RELAY_A "$WMR_PUB_B" $WMR_B "$UNDER_B:$WMR_PORT"
	wmr_conf "$WMR_IF_B" "$kb" $WMR_B $RELAY_B "$WMR_PUB_A" $WMR_A "$UNDER_A:$WMR_PORT"
	lab_bg --name wiremesh-relayed-a a "$WM" agent --config "$LAB_TMP/$WMR_IF_A.conf"
	PID_A[wmr]=$LAB_LAST_PID
	lab_bg --name wiremesh-relayed-b b "$WM" agent --config "$LAB_TMP/$WMR_IF_B.conf"
	PID_B[wmr]=$LAB_LAST_PID
	lab_wait_for 10 test -S "$LAB_TMP/$WMR_IF_A.api.sock" &&
		lab_wait_for 10 test -S "$LAB_TMP/$WMR_IF_B.api.sock" &&
		wmr_mode relay || { echo "the relayed pair did not come up"; return 1; }
	echo "mtu $(lab_exec a cat "/sys/class/net/$WMR_IF_A/mtu")" >"$RES/relay-info.txt"
}

# Rounds of one single-stream run relayed and one direct (order alternating);
# the relay's own CPU ticks per run go to $RES/TAG.relaycpu.
measure_relay() {
	local r m order line note r0
	start_relay_pair || return 1
	OK[wmr]=1
	for r in $(seq 1 "$RELAY_ROUNDS"); do
		order=(relay direct)
		[ $((r % 2)) -eq 0 ] && order=(direct relay)
		note=$(busy_note "relay-$r")
		line="relay round $r/$RELAY_ROUNDS:"
		for m in "${order[@]}"; do
			if ! wmr_mode "$m"; then
				line+="  $m: the path did not switch"
				continue
			fi
			r0=$(cpu_ticks "$RELAY_PID")
			run_iperf wmr 1 "wmr-$m-r$r"
			echo $(($(cpu_ticks "$RELAY_PID") - r0)) >"$RES/wmr-$m-r$r.relaycpu"
			line+="  $m $(gbps "$RES/wmr-$m-r$r.json")"
		done
		echo "$line$note"
	done
	[ "$PROFILE" = 1 ] && profile_relayed
	return 0
}

# BENCH_PROFILE=1: one more relayed run with the relay and both agents
# under `perf record`, their top symbols printed.
profile_relayed() {
	local who pid pids=() names=()
	command -v perf >/dev/null 2>&1 || { echo "bench: BENCH_PROFILE=1 but no perf"; return 0; }
	wmr_mode relay || return 0
	echo
	echo "== profile: relayed single stream under perf record (${TIME}s), self time by symbol"
	for who in relay A B; do
		case $who in
		relay) pid=$RELAY_PID ;;
		*) pid=$(agent_pid wmr $who) ;;
		esac
		perf record -q -F 999 -g -o "$RES/perf-relayed-$who.data" -p "$pid" \
			>"$RES/perf-relayed-$who.log" 2>&1 &
		pids+=($!)
		names+=("$who:$pid")
	done
	sleep 0.5
	run_iperf wmr 1 wmr-profile
	for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	for who in "${names[@]}"; do
		echo "-- ${who%%:*} (pid ${who#*:}; A sends, B receives), $(gbps "$RES/wmr-profile.json") Gbit/s; by object: $(
			perf report -i "$RES/perf-relayed-${who%%:*}.data" --no-children --sort dso -g none \
				--percent-limit 0.5 --stdio 2>/dev/null |
				awk '/^ +[0-9]/ {printf "%s%s %s", sep, $2, $1; sep=", "}')"
		perf report -i "$RES/perf-relayed-${who%%:*}.data" --no-children --sort dso,sym -g none \
			--percent-limit 1 --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -n 12
	done
}


# ---------------------------------------------------------------- under a flood

# flood_start NAME TARGET KEY SRC SECONDS [args] — hs_flood in a, 100 sources
# from SRC, answering cookies
flood_start() {
	lab_bg --name "$1" a "$FLOOD" --target "$2" --key "$3" --src "$4" --sources 100 \
		--rate "$FLOOD_RATE" --seconds "$5" --cookies "${@:6}"
	FLOOD_PID=$LAB_LAST_PID
}
flood_wait() { lab_wait_for 30 sh -c "! kill -0 $FLOOD_PID 2>/dev/null"; }
pct() { # TICKS SECONDS → % of one core
	awk -v k="$1" -v hz="$(getconf CLK_TCK)" -v s="$2" 'BEGIN {printf "%.0f%%", 100 * k / hz / s}'
}

# For each implementation: b's CPU under the flood alone (3 s), then one
# single-stream run quiet and one under the flood. Lines into $RES/flood.txt.
measure_flood() {
	local i b0 q f
	[ -x "$FLOOD" ] || { echo "bench: no $FLOOD"; return 1; }
	for h in $(seq 100 199); do echo "addr add 192.0.2.$h/24 dev eth0"; done |
		lab_exec a ip -batch - || return 1
	for i in "${IMPLS[@]}"; do
		flood_start "flood-$i-idle" "$UNDER_B:${PORT_B[$i]}" "${PUB_B[$i]}" 192.0.2.100 3
		b0=$(cpu_ticks "$(agent_pid "$i" B)")
		flood_wait
		echo "${NAME[$i]}: b's CPU under the flood alone, $(pct $(($(cpu_ticks "$(agent_pid "$i" B)") - b0)) 3) of one core; $(grep -h hs_flood "$LAB_TMP/flood-$i-idle.log" | cut -d' ' -f3-5)" >>"$RES/flood.txt"
		run_iperf "$i" 1 "flood-$i-quiet"
		flood_start "flood-$i" "$UNDER_B:${PORT_B[$i]}" "${PUB_B[$i]}" 192.0.2.100 $((TIME + OMIT + 3))
		sleep 1 # the flood's sources hold their cookies by then
		b0=$(cpu_ticks "$(agent_pid "$i" B)")
		run_iperf "$i" 1 "flood-$i-flood"
		flood_wait
		q=$(gbps "$RES/flood-$i-quiet.json") f=$(gbps "$RES/flood-$i-flood.json")
		echo "${NAME[$i]}: 1 stream quiet $q Gbit/s, under the flood $f Gbit/s ($(awk -v q="$q" -v f="$f" 'BEGIN {if (q > 0 && f >= 0) printf "%.2f", f / q; else print "n/a"}') of quiet)" >>"$RES/flood.txt"
	done
	[ "${OK[wmr]}" = 1 ] || return 0
	# The relay, flooded from a's side (its addresses on a's link to it).
	for h in $(seq 100 199); do echo "addr add 198.51.100.$h/24 dev rl0"; done |
		lab_exec a ip -batch - || return 1
	wmr_mode relay || return 1
	run_iperf wmr 1 "flood-wmr-quiet"
	flood_start flood-relay "$RELAY_A:$RELAY_PORT" "$RELAY_PUB" 198.51.100.100 $((TIME + OMIT + 3)) --relay
	sleep 1
	b0=$(cpu_ticks "$RELAY_PID")
	run_iperf wmr 1 "flood-wmr-flood"
	f=$(($(cpu_ticks "$RELAY_PID") - b0))
	flood_wait
	q=$(gbps "$RES/flood-wmr-quiet.json") g=$(gbps "$RES/flood-wmr-flood.json")
	echo "relayed pair: 1 stream quiet $q Gbit/s, relay flooded $g Gbit/s ($(awk -v q="$q" -v f="$g" 'BEGIN {if (q > 0 && f >= 0) printf "%.2f", f / q; else print "n/a"}') of quiet); relay CPU $(pct "$f" $((TIME + OMIT)))" >>"$RES/flood.txt"
}

# ---------------------------------------------------------------- run

echo "== machine"
echo "nproc: $(nproc)   kernel: $(uname -r)   cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== wiremesh version ($WM)"
"$WM" version 2>&1 || echo "(wiremesh version failed)"
echo "== wireguard-go $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null || echo '?'), iperf3 $(iperf3 --version 2>/dev/null | awk 'NR==1 {print $2}')"
echo

if start_wiremesh && rss_idle wm && tunnel_up wm; then OK[wm]=1; else echo "bench: wiremesh tunnel did not come up"; fi
if start_wireguard_go && rss_idle wg && tunnel_up wg; then OK[wg]=1; else echo "bench: wireguard-go tunnel did not come up"; fi

lab_bg --name iperf3-server b iperf3 -s -p $IPERF_PORT
lab_wait_for 5 sh -c "ip netns exec $(lab_nsname b) ss -Hltn 'sport = :$IPERF_PORT' | grep -q ." ||
	die "iperf3 server did not start"

IMPLS=()
for i in wm wg; do [ "${OK[$i]}" = 1 ] && IMPLS+=("$i"); done
[ ${#IMPLS[@]} -gt 0 ] || die "neither tunnel came up"

for i in "${IMPLS[@]}"; do run_ping "$i"; done

for r in $(seq 1 "$ROUNDS"); do
	order=("${IMPLS[@]}")
	if [ $((r % 2)) -eq 0 ] && [ ${#IMPLS[@]} -eq 2 ]; then order=("${IMPLS[1]}" "${IMPLS[0]}"); fi
	note=$(busy_note "$r")
	line="round $r/$ROUNDS:"
	for i in "${order[@]}"; do
		for p in 1 4; do
			run_iperf "$i" $p "$i-p$p-r$r"
			g=$("$PY" -c 'import json,sys
try:
    e=json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/1e9
    print("%.2f" % e)
except Exception:
    print("fail")' "$RES/$i-p$p-r$r.json")
			line+="  ${NAME[$i]} -P$p $g"
		done
	done
	echo "$line$note"
done

if [ "$PROFILE" = 1 ] && [ "${OK[wm]}" = 1 ]; then
	if command -v perf >/dev/null 2>&1; then
		echo
		echo "== profile: wiremesh single stream under perf record -g (${TIME}s), self time by symbol"
		perf_pids=()
		for side in A B; do
			perf record -q -F 999 -g -o "$RES/perf-$side.data" -p "$(agent_pid wm $side)" \
				>"$RES/perf-$side.log" 2>&1 &
			perf_pids+=($!)
		done
		sleep 0.5
		run_iperf wm 1 profile
		for p in "${perf_pids[@]}"; do kill -INT "$p" 2>/dev/null; done
		for p in "${perf_pids[@]}"; do wait "$p" 2>/dev/null; done
		for side in A B; do
			role=receiver
			[ $side = B ] || role=sender
			echo "-- wiremesh-${side,,} ($role; pid $(agent_pid wm $side)); by object: $(
				perf report -i "$RES/perf-$side.data" --no-children --sort dso -g none \
					--percent-limit 0.5 --stdio 2>/dev/null |
					awk '/^ +[0-9]/ {printf "%s%s %s", sep, $2, $1; sep=", "}')"
			perf report -i "$RES/perf-$side.data" --no-children --sort dso,sym -g none \
				--percent-limit 1 --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -n 18
		done
		echo "(LAB_KEEP=1 keeps the perf data, with call graphs: $RES/perf-{A,B}.data)"
	else
		echo "bench: BENCH_PROFILE=1 but no perf (apt-get install linux-perf)"
	fi
fi

# RSS after the run, while the agents still run
for i in "${IMPLS[@]}"; do
	for side in A B; do
		pid=$(agent_pid "$i" $side)
		echo "$i $side $(rss "$pid" VmRSS) $(rss "$pid" VmHWM)" >>"$RES/rss.txt"
	done
done

if [ "$RELAY_ROUNDS" -gt 0 ]; then
	echo
	measure_relay || echo "bench: no relayed/direct figure"
fi
if [ "$FLOOD_RATE" -gt 0 ]; then
	echo
	echo "flood figures ($FLOOD_RATE initiations/s from 100 addresses, answering cookies) ..."
	measure_flood || echo "bench: no flood figures"
fi
if [ "$PEERS" -gt 0 ]; then
	measure_peers || echo "bench: no memory-per-peer figure"
fi

echo
"$PY" - "$RES" "$ROUNDS" "${OK[wm]}" "${OK[wg]}" "$(getconf CLK_TCK)" "$PINGS" <<'PYEOF'
import json, os, re, statistics, sys

res, rounds, ok_wm, ok_wg, hz, pings = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
impls = [i for i, ok in (('wm', ok_wm), ('wg', ok_wg)) if ok == '1']
name = {'wm': 'wiremesh', 'wg': 'wireguard-go'}

def iperf(impl, p):
    gbps, cpu_per_gb, retr = [], [], []
    cpu_side = {'A': [], 'B': []}
    for r in range(1, rounds + 1):
        tag = '%s-p%d-r%d' % (impl, p, r)
        try:
            j = json.load(open(os.path.join(res, tag + '.json')))
            end = j['end']
            bits = end['sum_received']['bits_per_second']
            nbytes = end['sum_received']['bytes']
            retr.append(end['sum_sent'].get('retransmits', 0))
        except Exception:
            continue
        gbps.append(bits / 1e9)
        try:
            a, b = (int(x) for x in open(os.path.join(res, tag + '.cpu')).read().split())
            # the agents' CPU seconds cover the omitted warm-up too; scale the
            # bytes of the measured part up by the same share of time
            start = j['start']['test_start']
            total_s = start['duration'] + start.get('omit', 0)
            moved = nbytes * total_s / max(start['duration'], 1)
            cpu_per_gb.append(((a + b) / hz) / (moved / 1e9))
            cpu_side['A'].append((a / hz) / (moved / 1e9))
            cpu_side['B'].append((b / hz) / (moved / 1e9))
        except Exception:
            pass
    iperf.side[(impl, p)] = cpu_side
    return gbps, cpu_per_gb, retr
iperf.side = {}

def ping(impl):
    try:
        txt = open(os.path.join(res, 'ping-%s.txt' % impl)).read()
    except OSError:
        return []
    return [float(x) for x in re.findall(r'time=([0-9.]+) ms', txt)]

rss = {}
try:
    for line in open(os.path.join(res, 'rss.txt')):
        f = line.split()
        if len(f) >= 4:
            rss[(f[0], f[1])] = (int(f[2]) / 1024, int(f[3]) / 1024)
except OSError:
    pass

med = lambda v: statistics.median(v) if v else None

def per_round(impl, p, tag='%s-p%d-r%d'):
    """{round: Gbit/s} of the runs that produced a figure"""
    out = {}
    for r in range(1, rounds + 1):
        try:
            j = json.load(open(os.path.join(res, (tag % (impl, p, r)) + '.json')))
            out[r] = j['end']['sum_received']['bits_per_second'] / 1e9
        except Exception:
            pass
    return out

def paired(p):
    """wiremesh/wireguard-go within each round where both ran"""
    a, b = per_round('wm', p), per_round('wg', p)
    return {r: a[r] / b[r] for r in sorted(a) if r in b and b[r]}

def kb_file(name):
    """lines "impl side kB" → {(impl, side): kB}"""
    out = {}
    try:
        for line in open(os.path.join(res, name)):
            f = line.split()
            if len(f) >= 3 and f[2].isdigit():
                out[(f[0], f[1])] = int(f[2])
    except OSError:
        pass
    return out

rss_idle = kb_file('rss-idle.txt')
ratios = {1: paired(1), 4: paired(4)}
data = {}
for i in impls:
    g1, c1, r1 = iperf(i, 1)
    g4, c4, r4 = iperf(i, 4)
    pg = ping(i)
    data[i] = dict(g1=g1, g4=g4, c1=c1, c4=c4, r1=r1, r4=r4, ping=pg)

def val(i, k):
    d = data.get(i)
    if d is None:
        return None
    if k == 'g1': return med(d['g1'])
    if k == 'g4': return med(d['g4'])
    if k == 'c1': return med(d['c1'])
    if k == 'c4': return med(d['c4'])
    if k == 'rttmed': return med(d['ping'])
    if k == 'rttavg': return statistics.mean(d['ping']) if d['ping'] else None
    if k == 'rssA': return rss.get((i, 'A'), (None, None))[0]
    if k == 'rssB': return rss.get((i, 'B'), (None, None))[0]
    if k == 'hwmA': return rss.get((i, 'A'), (None, None))[1]
    if k == 'hwmB': return rss.get((i, 'B'), (None, None))[1]
    if k in ('cA1', 'cB1', 'cA4', 'cB4'):
        return med(iperf.side.get((i, int(k[2])), {}).get(k[1], []))
    if k in ('irssA', 'irssB'):
        v = rss_idle.get((i, k[-1]))
        return v / 1024 if v is not None else None

table = [
    ('TCP 1 stream, Gbit/s (median)', 'g1', '%.2f', True),
    ('TCP -P 4, Gbit/s (median)', 'g4', '%.2f', True),
    ('ping RTT median, ms', 'rttmed', '%.3f', True),
    ('ping RTT avg, ms', 'rttavg', '%.3f', True),
    ('RSS idle sender agent, MB', 'irssA', '%.1f', True),
    ('RSS idle receiver agent, MB', 'irssB', '%.1f', True),
    ('RSS sender agent, MB', 'rssA', '%.1f', True),
    ('RSS receiver agent, MB', 'rssB', '%.1f', True),
    ('peak RSS (VmHWM) sender, MB', 'hwmA', '%.1f', True),
    ('peak RSS (VmHWM) receiver, MB', 'hwmB', '%.1f', True),
    ('agents CPU s per GB, 1 stream', 'c1', '%.2f', True),
    ('agents CPU s per GB, -P 4', 'c4', '%.2f', True),
    ('  sender agent, 1 stream', 'cA1', '%.2f', True),
    ('  receiver agent, 1 stream', 'cB1', '%.2f', True),
    ('  sender agent, -P 4', 'cA4', '%.2f', True),
    ('  receiver agent, -P 4', 'cB4', '%.2f', True),
]
w = 34
print('== results (%d rounds; throughput = iperf3 receiver side)' % rounds)
print('%-*s %12s %14s %16s' % (w, '', 'wiremesh', 'wireguard-go', 'wiremesh/wg-go'))
for label, k, fmt, ratio in table:
    a, b = val('wm', k), val('wg', k)
    sa = fmt % a if a is not None else 'n/a'
    sb = fmt % b if b is not None else 'n/a'
    sr = '%.2f' % (a / b) if ratio and a is not None and b else '-'
    if k in ('g1', 'g4'):  # paired: the median of the per-round ratios
        pr = ratios[1 if k == 'g1' else 4]
        sr = '%.2f*' % med(list(pr.values())) if pr else '-'
    print('%-*s %12s %14s %16s' % (w, label, sa, sb, sr))
print('* median of the per-round ratios (each round runs both), not a ratio of medians')
print()
for i in impls:
    d = data[i]
    print('%-13s 1 stream Gbit/s: %s   (TCP retransmits: %s)' % (
        name[i], ' '.join('%.2f' % x for x in d['g1']) or '-', ' '.join(map(str, d['r1'])) or '-'))
    print('%-13s -P 4     Gbit/s: %s   (TCP retransmits: %s)' % (
        '', ' '.join('%.2f' % x for x in d['g4']) or '-', ' '.join(map(str, d['r4'])) or '-'))
    if d['ping']:
        print('%-13s ping: %d/%s answered, min %.3f max %.3f ms' % (
            '', len(d['ping']), pings, min(d['ping']), max(d['ping'])))
    else:
        print('%-13s ping: no answers' % '')

# ---- per-round ratios and busy rounds
print()
for p in (1, 4):
    pr = ratios[p]
    print('wiremesh/wg-go per round, %s: %s' % (
        '1 stream' if p == 1 else '-P 4    ',
        ' '.join('%.2f' % pr[r] for r in sorted(pr)) or '-'))
busy = []
try:
    busy = [l.split() for l in open(os.path.join(res, 'busy.txt')) if l.strip()]
except OSError:
    pass
if busy:
    print('WARNING: machine busy before round(s) %s (CPU idle %%: %s): those figures are suspect' % (
        ', '.join(b[0] for b in busy), ', '.join(b[1] for b in busy)))
else:
    print('machine idle (CPU idle share over 1 s) before every round')

# ---- relayed vs direct, the same wiremesh pair
rr = sorted(int(f.split('-r')[-1].split('.')[0]) for f in os.listdir(res)
            if f.startswith('wmr-relay-r') and f.endswith('.json'))
if rr:
    info = {}
    try:
        info = dict(l.split(None, 1) for l in open(os.path.join(res, 'relay-info.txt')))
    except (OSError, ValueError):
        pass
    n = max(rr)
    rel = {}
    for m in ('relay', 'direct'):
        rel[m] = {}
        for r in range(1, n + 1):
            try:
                j = json.load(open(os.path.join(res, 'wmr-%s-r%d.json' % (m, r))))
                rel[m][r] = j['end']['sum_received']['bits_per_second'] / 1e9
            except Exception:
                pass
    pr = {r: rel['relay'][r] / rel['direct'][r] for r in rel['relay']
          if rel['direct'].get(r)}
    relay_cpu = []
    for r in rel['relay']:
        try:
            t = int(open(os.path.join(res, 'wmr-relay-r%d.relaycpu' % r)).read())
            j = json.load(open(os.path.join(res, 'wmr-relay-r%d.json' % r)))
            st = j['start']['test_start']
            moved = j['end']['sum_received']['bytes'] * (st['duration'] + st.get('omit', 0)) / max(st['duration'], 1)
            relay_cpu.append((t / hz) / (moved / 1e9))
        except Exception:
            pass
    f = lambda v: '%.2f' % v if v is not None else 'n/a'
    print()
    print('== relayed vs direct (one wiremesh pair, TCP 1 stream, MTU %s, %d rounds)' % (
        info.get('mtu', '?').strip(), n))
    print('%-34s %s' % ('relayed, Gbit/s (median)', f(med(list(rel['relay'].values())))))
    print('%-34s %s' % ('direct, Gbit/s (median)', f(med(list(rel['direct'].values())))))
    print('%-34s %s   (per round: %s)' % ('relayed/direct (median per round)',
          f(med(list(pr.values()))), ' '.join('%.2f' % pr[r] for r in sorted(pr)) or '-'))
    print('%-34s %s' % ('relay process CPU s per GB', f(med(relay_cpu))))

# ---- memory per peer
peers = {}
try:
    for l in open(os.path.join(res, 'peers.txt')):
        x = l.split()
        if len(x) == 3 and x[2].isdigit():
            peers[(x[0], int(x[1]))] = int(x[2])
except OSError:
    pass
if peers:
    big = max(n for _, n in peers)
    print()
    print('== memory per peer (an agent alone, VmRSS after start; %d idle peers, no endpoints)' % big)
    for i in ('wm', 'wg'):
        one, many = peers.get((i, 1)), peers.get((i, big))
        if one is None or many is None:
            print('%-13s n/a' % name[i])
            continue
        print('%-13s 1 peer %.1f MB   %d peers %.1f MB   +%.2f MB = %.2f KB per peer' % (
            name[i], one / 1024, big, many / 1024, (many - one) / 1024,
            (many - one) / (big - 1) if big > 1 else 0))
PYEOF
if [ -s "$RES/flood.txt" ]; then
	echo
	echo "== under a handshake flood ($FLOOD_RATE initiations/s from 100 addresses, answering cookies)"
	cat "$RES/flood.txt"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ============================================================ what ran
echo
echo "== what ran"
echo "wiremesh $("$WM" version | sed -n 's/^crypto: /crypto: /p')"
for f in "$LAB_TMP"/wiremesh-a.log "$LAB_TMP"/wiremesh-b.log; do
	[ -e "$f" ] || continue
	grep -h "offloads" "$f" | sed "s/^/$(basename "$f" .log): /"
done
echo "wireguard-go: $(wireguard-go --version 2>/dev/null | head -n1)"

# ================================================================ crypto
# One core's crypto, apart from the network (run after the iperf3 rounds,
# with the agents idle): ChaCha20-Poly1305 MB/s at 1440 bytes and X25519
# ops/s per implementation (tests/tools/crypto_bench.c), and complete
# handshakes/s through agent/wg/noise.c (tests/tools/hs_bench.c), for the
# build's backend and, when `./build.sh test` has built it, the other one.
# Knob: BENCH_CRYPTO_SECONDS=1 per row (the best of five runs of a fifth).
echo
echo "== crypto (one core)"
CSEC=${BENCH_CRYPTO_SECONDS:-1}
for d in build build/sodium build/openssl build/bearssl; do
	[ -x "$TOP/$d/tests/crypto_bench" ] || continue
	echo "-- $d/tests/crypto_bench"
	"$TOP/$d/tests/crypto_bench" --seconds "$CSEC" || echo "crypto_bench failed"
	echo "-- $d/tests/hs_bench"
	"$TOP/$d/tests/hs_bench" --seconds "$CSEC" || echo "hs_bench failed"
done
# ================================================================ end crypto

st=0
for i in wm wg; do
	if [ "${OK[$i]}" != 1 ]; then
		st=1
		continue
	fi
	for side in A B; do
		pid=$(agent_pid "$i" $side)
		alive "$pid" || { echo "bench: ${NAME[$i]} agent $side (pid $pid) died during the run"; st=1; }
	done
done
if [ $st -ne 0 ]; then
	for f in "$LAB_TMP"/wiremesh-*.log "$LAB_TMP"/wireguard-go-*.log; do
		[ -s "$f" ] || continue
		echo "--- $(basename "$f") (last 15 lines)"
		tail -n 15 "$f" | sed 's/^/    | /'
	done
fi
exit $st
