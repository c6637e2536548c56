#!/usr/bin/env bash
# tests/net/test_path_truth.sh — the path field tells the truth: a peer in
# direct mode with a configured Endpoint reads "direct" only while its
# endpoint answers. Two namespaces a (192.0.2.1) and b (192.0.2.2) on one
# veth, an agent in each, each peer the other with Path = direct. Then a's
# traffic with b is black-holed (an nftables drop in a's namespace):
# a's API must read "none" within 10 s, with the endpoint still shown and
# last_rx.direct in the past; the drop removed, "direct" again within 10 s
# (no traffic is sent meanwhile: disco's probes alone find it). ~20 s.
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init || { echo "0 passed, 1 failed"; exit 1; }

[ -x "$WM" ] || { t_fail "no binary at $WM (./build.sh build)"; t_summary; }
command -v nft >/dev/null || { t_fail "missing tool: nft (./build.sh deps)"; t_summary; }

lab_ns a && lab_ns b && lab_veth a eth0 192.0.2.1/24 b eth0 192.0.2.2/24 ||
	{ t_fail "lab setup"; t_summary; }
wm_key a && wm_key b || { t_fail "keys"; t_summary; }

wm_agent_conf a 10.77.0.1/24 <<EOF2
[Peer]
PublicKey = $(wm_pub b)
Name = bee
AllowedIPs = 10.77.0.2/32
Endpoint = 192.0.2.2:51820
Path = direct
EOF2
wm_agent_conf b 10.77.0.2/24 <<EOF2
[Peer]
PublicKey = $(wm_pub a)
AllowedIPs = 10.77.0.1/32
Endpoint = 192.0.2.1:51820
Path = direct
EOF2
wm_agent_start a a && wm_agent_start b b || { t_fail "agents start"; t_summary; }

field() { # FIELD: a's view of b, one JSON field (dotted path)
	wm_api a "/v1/peers/$(wm_urlkey b)" | "$LAB_PYTHON" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" 2>/dev/null
}
elapsed() { echo "$(( ($(date +%s%N) - $1) / 1000000 )) ms"; }

t_check "a ping through the tunnel" lab_wait_for 10 lab_exec a ping -c1 -W1 10.77.0.2
t_check "path direct once heard" wm_wait_path a b direct 5
t_check "the name is shown" test "$(field name)" = bee
t_check "last_rx.direct is a time, last_rx.relay null" eval \
	'[[ $(field last_rx.direct) == 20*Z ]] && [ "$(field last_rx.relay)" = null ]'
t_check "rtt_us is known" eval '[[ $(field rtt_us) =~ ^[0-9]+$ ]]'

# The CLI: status, ping, netcheck (each backed by an API route).
SOCK_A=$LAB_TMP/a.api.sock
got=$("$WM" status --socket "$SOCK_A" 2>&1)
t_check "wiremesh status: one line for the peer, by name" eval \
	'grep -Eq "^10\.77\.0\.2 +bee +direct +192\.0\.2\.2:51820 " <<<"$got" || { echo "$got"; false; }'
got=$("$WM" ping bee -c 2 --socket "$SOCK_A" 2>&1)
t_check "wiremesh ping: pongs straight from the endpoint" eval \
	'[ "$(grep -c "^pong from bee via 192\.0\.2\.2:51820 in [0-9.]* ms (current path)" <<<"$got")" = 2 ] || { echo "$got"; false; }'
t_check "POST /v1/peers/{key}/ping answers JSON with rtt_us" eval \
	'wm_api a "/v1/peers/$(wm_urlkey b)/ping?timeout_ms=500" -X POST |
	 "$LAB_PYTHON" -c "import json,sys; r=json.load(sys.stdin)[\"results\"]; assert r[0][\"via\"]==\"direct\" and r[0][\"rtt_us\"]>0, r"'
t_check "ping: a bad timeout is 422" eval \
	'[ "$(wm_api a "/v1/peers/$(wm_urlkey b)/ping?timeout_ms=0" -X POST -o /dev/null -w "%{http_code}")" = 422 ]'
got=$("$WM" netcheck --socket "$SOCK_A" 2>&1)
t_check "wiremesh netcheck: says what it knows (no STUN, no port mapper here)" eval \
	'grep -q "^  UDP: no" <<<"$got" && grep -Eq "^  port mapping: (none|off)" <<<"$got" || { echo "$got"; false; }'

# Black hole: a drops everything with b, both ways.
lab_exec a nft -f - <<EOF2
table inet wmbh {
	chain in { type filter hook input priority -10; ip saddr 192.0.2.2 drop; }
	chain out { type filter hook output priority -10; ip daddr 192.0.2.2 drop; }
}
EOF2
t0=$(date +%s%N)
if wm_wait_path a b none 10; then
	t_pass "black-holed: path none after $(elapsed "$t0") (limit 10 s)"
else
	t_fail "black-holed: path still $(field path) after 10 s"
fi
before=$(field last_rx.direct)
got=$("$WM" ping bee -c 1 -t 300 --socket "$SOCK_A" 2>&1)
t_check "wiremesh ping while black-holed: no pong, exit 1" eval \
	'! "$WM" ping bee -c 1 -t 300 --socket "$SOCK_A" >/dev/null 2>&1 && grep -Eq "^no pong from bee via 192\.0\.2\.2:51820 \((timeout|send failed)\)" <<<"$got" || { echo "$got"; false; }'
got=$("$WM" status --socket "$SOCK_A" 2>&1)
t_check "wiremesh status: none, the endpoint shown as silent" eval \
	'grep -Eq "^10\.77\.0\.2 +bee +none +192\.0\.2\.2:51820 \(silent\)" <<<"$got" || { echo "$got"; false; }' 
t_check "the endpoint is still shown" test "$(field endpoint)" = 192.0.2.2:51820
stamp_ms() { "$LAB_PYTHON" -c 'import datetime,sys; print(int(datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()*1000))' "$1"; }
t_check "last_rx.direct stays in the past" eval \
	'sleep 1; d=$(( $(stamp_ms "$(field last_rx.direct)") - $(stamp_ms "$before") )); [ "${d#-}" -lt 50 ] || { echo "moved by $d ms"; false; }'

lab_exec a nft delete table inet wmbh
t0=$(date +%s%N)
if wm_wait_path a b direct 10; then
	t_pass "path back: direct after $(elapsed "$t0") (limit 10 s)"
else
	t_fail "path back: still $(field path) after 10 s"
fi
t_check "path_changed events were logged" grep -q "path direct -> none" "$LAB_TMP/a.log"
t_summary
