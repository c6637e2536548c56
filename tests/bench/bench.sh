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
# stream and of -P 4, ping RTT through the tunnel (median/avg), VmRSS (and
# VmHWM) of each agent after the run, and CPU time the two agents used per GB
# moved (from /proc/PID/stat, so it is independent of how fast the run was).
#
# Knobs (environment):
#   BENCH_ROUNDS=5   rounds (each round: both impls, 1 stream and -P 4)
#   BENCH_TIME=4     seconds measured per iperf3 run (plus BENCH_OMIT warm-up)
#   BENCH_OMIT=1     iperf3 -O: seconds of slow start left out of the figure
#   BENCH_PINGS=50   pings per implementation, at -i 0.05
#   BENCH_PROFILE=0  1: one more wiremesh single-stream run under `perf record`,
#                    top symbols of both agents printed (needs linux-perf)
#   LAB_KEEP=1       keep the scratch directory (iperf3 JSON, logs)
# Defaults take about 2 minutes. Exit status 0 when both were measured.
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

declare -A PID_A PID_B DST OK NAME
NAME[wm]=wiremesh NAME[wg]=wireguard-go
DST[wm]=$WM_B DST[wg]=$WG_B
OK[wm]=0 OK[wg]=0

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

# ---------------------------------------------------------------- run

echo "== machine"
echo "nproc: $(nproc)   kernel: $(uname -r)   cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== wiremesh version ($WM)"
"$WM" version 2>&1 || echo "(wiremesh version failed)"
echo "== wireguard-go $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null || echo '?'), iperf3 $(iperf3 --version 2>/dev/null | awk 'NR==1 {print $2}')"
echo

if start_wiremesh && tunnel_up wm; then OK[wm]=1; else echo "bench: wiremesh tunnel did not come up"; fi
if start_wireguard_go && tunnel_up wg; then OK[wg]=1; else echo "bench: wireguard-go tunnel did not come up"; fi

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
	echo "$line"
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

echo
"$PY" - "$RES" "$ROUNDS" "${OK[wm]}" "${OK[wg]}" "$(getconf CLK_TCK)" "$PINGS" <<'PYEOF'
import json, os, re, statistics, sys

res, rounds, ok_wm, ok_wg, hz, pings = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
impls = [i for i, ok in (('wm', ok_wm), ('wg', ok_wg)) if ok == '1']
name = {'wm': 'wiremesh', 'wg': 'wireguard-go'}

def iperf(impl, p):
    gbps, cpu_per_gb, retr = [], [], []
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
        except Exception:
            pass
    return gbps, cpu_per_gb, retr

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

table = [
    ('TCP 1 stream, Gbit/s (median)', 'g1', '%.2f', True),
    ('TCP -P 4, Gbit/s (median)', 'g4', '%.2f', True),
    ('ping RTT median, ms', 'rttmed', '%.3f', True),
    ('ping RTT avg, ms', 'rttavg', '%.3f', True),
    ('RSS sender agent, MB', 'rssA', '%.1f', True),
    ('RSS receiver agent, MB', 'rssB', '%.1f', True),
    ('peak RSS (VmHWM) sender, MB', 'hwmA', '%.1f', True),
    ('peak RSS (VmHWM) receiver, MB', 'hwmB', '%.1f', True),
    ('agents CPU s per GB, 1 stream', 'c1', '%.2f', True),
    ('agents CPU s per GB, -P 4', 'c4', '%.2f', True),
]
w = 34
print('== results (%d rounds; throughput = iperf3 receiver side)' % rounds)
print('%-*s %12s %14s %16s' % (w, '', 'wiremesh', 'wireguard-go', 'wiremesh/wg-go'))
for label, k, fmt, ratio in table:
    a, b = val('wm', k), val('wg', k)
    sa = fmt % a if a is not None else 'n/a'
    sb = fmt % b if b is not None else 'n/a'
    sr = '%.2f' % (a / b) if ratio and a is not None and b else '-'
    print('%-*s %12s %14s %16s' % (w, label, sa, sb, sr))
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
PYEOF
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

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
for d in build build/openssl build/bearssl; do
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
