#!/usr/bin/env bash
# tests/net/test_api.sh — the REST API and the CLI end to end, against real
# agents: two namespaces a (192.0.2.1) and b (192.0.2.2) on one veth, an
# agent in each. a starts with no peers and learns b through the API.
#
#   every route and its error statuses (400 401 404 405 409 413 415 422),
#   PUT /v1/peers/{key} adds a peer that passes traffic (ping through the
#   tunnel), GET by base64url and by percent-encoded base64, the CLI
#   (status, peers, path; exit 1 unreachable, 2 usage), PUT path changes the
#   path and /v1/events reports path_changed within 3 s, /metrics parses
#   with prometheus_client, PUT /v1/peers twice changes nothing (handshake
#   time kept, counters still rising), SaveConfig survives a SIGKILL and a
#   restart (stale socket replaced), a live socket or a symlink refuses a
#   second agent, DELETE removes the peer, TCP with a bearer token, socket
#   mode. Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init || { echo "0 passed, 1 failed"; exit 1; }

[ -x "$WM" ] || { t_fail "no binary at $WM (./build.sh build)"; t_summary; }

lab_ns a && lab_ns b && lab_veth a eth0 192.0.2.1/24 b eth0 192.0.2.2/24 ||
	{ t_fail "lab setup"; t_summary; }

wm_key a && wm_key b && wm_key relay && wm_key c || { t_fail "keys"; t_summary; }
PA=$(wm_pub a) PB=$(wm_pub b) PC=$(wm_pub c)
IFA=$(wm_ifname a) IFB=$(wm_ifname b)
CONF_A=$LAB_TMP/$IFA.conf
SOCK_A=$LAB_TMP/a.api.sock SOCK_B=$LAB_TMP/b.api.sock
# b's key in its three URL spellings
PB_URL=$(wm_urlkey b)
PB_URLPAD=$(wm_pub b | tr '+/' '-_')
PB_PCT=$("$LAB_PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PB")
TOKEN=t0ken-$RANDOM$RANDOM
echo "$TOKEN" >"$LAB_TMP/api.token"
chmod 600 "$LAB_TMP/api.token"

# The relay is never reached (no route to it); it only makes "relay" a
# valid path mode.
wm_agent_conf a 10.77.0.1/24 <<EOF
# kept by SaveConfig
SaveConfig = true
Relay = 203.0.113.10:3478
RelayPublicKey = $(wm_pub relay)
EOF
wm_agent_conf b 10.77.0.2/24 <<EOF
APIListen = 127.0.0.1:7707
APITokenFile = $LAB_TMP/api.token

[Peer]
PublicKey = $PA
AllowedIPs = 10.77.0.1/32
Endpoint = 192.0.2.1:51820
EOF

api_ok() { curl -sf --max-time 2 --unix-socket "$1" http://wiremesh/v1/status >/dev/null; }
start_a() {
	wm_agent_start a a && lab_wait_for 5 api_ok "$SOCK_A"
}
start_a || { t_fail "agent a starts and answers"; t_summary; }
PID_A=$WM_PID_a
wm_agent_start b b && lab_wait_for 5 api_ok "$SOCK_B" ||
	{ t_fail "agent b starts and answers"; t_summary; }

# req NAME METHOD PATH [curl args]: body to $OUT, status to $CODE, headers to $HDR
OUT=$LAB_TMP/out.json HDR=$LAB_TMP/out.hdr
req() {
	local name=$1 m=$2 path=$3
	shift 3
	CODE=$(curl -s --max-time 5 --unix-socket "$LAB_TMP/$name.api.sock" -X "$m" \
		-D "$HDR" -o "$OUT" -w '%{http_code}' "$@" "http://wiremesh$path")
}
put() { # NAME PATH JSON
	req "$1" PUT "$2" -H 'Content-Type: application/json' --data-binary "$3"
}
# j EXPR: a Python expression over the last body, as d
j() { "$LAB_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$OUT" "$1"; }
expect() { # STATUS CODE-NAME: the last answer
	[ "$CODE" = "$1" ] || { echo "status $CODE, wanted $1"; cat "$OUT"; return 1; }
	[ -z "${2:-}" ] || [ "$(j 'd["error"]["code"]')" = "$2" ] || { cat "$OUT"; return 1; }
}

# ------------------------------------------------------------- status, peers
check_status() {
	req a GET /v1/status && expect 200 &&
		[ "$(j 'd["interface"]')" = "$IFA" ] &&
		[ "$(j 'd["public_key"]')" = "$PA" ] &&
		[ "$(j 'd["listen_port"]')" = 51820 ] &&
		[ "$(j 'd["peer_count"]')" = 0 ] &&
		[ "$(j 'd["relay"]["endpoint"]')" = 203.0.113.10:3478 ] &&
		[ "$(j 'd["relay"]["connected"]')" = False ] &&
		[ "$(j 'type(d["reflexive"]).__name__')" = list ] &&
		[ "$(j 'd["nat"]["mapping"] in ("endpoint-independent","endpoint-dependent","unknown")')" = True ] &&
		[ -n "$(j 'd["version"]')" ] &&
		grep -qi '^content-type: application/json' "$HDR"
}
t_check "GET /v1/status" check_status
t_check "GET /v1/peers: empty" eval 'req a GET /v1/peers && expect 200 && [ "$(j "d[\"peers\"]")" = "[]" ]'

# --------------------------------------------------------------- errors
t_check "404 unknown peer" eval 'req a GET /v1/peers/$PB_URL && expect 404 not_found'
t_check "404 unknown path" eval 'req a GET /v2/nothing && expect 404 not_found'
t_check "405 with Allow" eval 'req a POST /v1/peers && expect 405 method_not_allowed && grep -qi "^allow: GET, PUT" "$HDR"'
t_check "400 key in URL is not a key" eval 'req a GET /v1/peers/notakey && expect 400 bad_request'
t_check "415 PUT without application/json" eval \
	'req a PUT /v1/peers/$PB_URL --data-binary "{\"allowed_ips\":[]}" && expect 415 unsupported_media_type'
t_check "400 malformed JSON" eval 'put a /v1/peers/$PB_URL "{\"allowed_ips\":" && expect 400 bad_request'
t_check "422 bad prefix" eval 'put a /v1/peers/$PB_URL "{\"allowed_ips\":[\"10.77.0.300/32\"]}" && expect 422 unprocessable'
t_check "422 unknown field" eval 'put a /v1/peers/$PB_URL "{\"allowed_ips\":[],\"alowed\":1}" && expect 422 unprocessable'
t_check "422 bad path mode" eval 'put a /v1/peers/$PB_URL "{\"allowed_ips\":[],\"path_mode\":\"fast\"}" && expect 422 unprocessable'
t_check "409 the interface's own key" eval 'put a /v1/peers/$(wm_urlkey a) "{\"allowed_ips\":[]}" && expect 409 conflict'
head -c 70000 /dev/zero | tr '\0' ' ' >"$LAB_TMP/big.json"
t_check "413 body over 64 KiB" eval \
	'req a PUT /v1/peers/$PB_URL -H "Content-Type: application/json" --data-binary @"$LAB_TMP/big.json" && expect 413 payload_too_large'
t_check "413 chunked body over 64 KiB" eval \
	'req a PUT /v1/peers/$PB_URL -H "Content-Type: application/json" -H "Transfer-Encoding: chunked" --data-binary @"$LAB_TMP/big.json" && expect 413 payload_too_large'
head -c 2097152 /dev/zero | tr '\0' ' ' >"$LAB_TMP/huge.json"
t_check "413 chunked body of 2 MiB (answered, not dropped)" eval \
	'req a PUT /v1/peers/$PB_URL -H "Content-Type: application/json" -H "Transfer-Encoding: chunked" --data-binary @"$LAB_TMP/huge.json" && expect 413 payload_too_large'
t_check "errors changed nothing" eval 'req a GET /v1/peers && [ "$(j "len(d[\"peers\"])")" = 0 ]'

# ------------------------------------------------------- events, add a peer
EV=$LAB_TMP/events.txt
curl -sN --max-time 60 --unix-socket "$SOCK_A" http://wiremesh/v1/events >"$EV" 2>/dev/null &
EV_PID=$!
lab_on_cleanup() { kill "$EV_PID" 2>/dev/null; }
lab_wait_for 2 grep -q 'wiremesh events' "$EV" || t_fail "event stream opens"

add_b() {
	put a "/v1/peers/$PB_URL" '{"allowed_ips":["10.77.0.2/32"],"endpoint":"192.0.2.2:51820"}' &&
		expect 201 && [ "$(j 'd["public_key"]')" = "$PB" ] &&
		[ "$(j 'd["allowed_ips"]')" = "['10.77.0.2/32']" ]
}
t_check "PUT /v1/peers/{key} adds b (201)" add_b
ping_b() { lab_exec a ping -c 1 -W 1 10.77.0.2; }
t_check "the added peer passes traffic" lab_wait_for 10 ping_b
t_check "peer_added event" grep -q '^event: peer_added' "$EV"
t_check "handshake event" lab_wait_for 3 grep -q '^event: handshake' "$EV"

check_peer() { # URLKEY
	req a GET "/v1/peers/$1" && expect 200 &&
		[ "$(j 'd["public_key"]')" = "$PB" ] &&
		[ "$(j 'd["path"]')" = direct ] &&
		[ "$(j 'd["path_mode"]')" = auto ] &&
		[ "$(j 'd["endpoint"]')" = 192.0.2.2:51820 ] &&
		[ "$(j 'd["rx_bytes"] > 0 and d["tx_bytes"] > 0')" = True ] &&
		[ "$(j 'd["last_handshake"].endswith("Z")')" = True ] &&
		[ "$(j 'type(d["candidates"]).__name__')" = list ] &&
		[ "$(j 'd["persistent_keepalive"]')" = 0 ] &&
		[ "$(j '"rtt_ms" in d')" = True ] &&
		[ "$(j 'type(d["time_to_direct_ms"]).__name__ == "int" and d["time_to_direct_ms"] >= 0')" = True ]
}
t_check "GET /v1/peers/{base64url}" check_peer "$PB_URL"
t_check "GET /v1/peers/{base64url with =}" check_peer "$PB_URLPAD"
t_check "GET /v1/peers/{percent-encoded base64}" check_peer "$PB_PCT"

# -------------------------------------------------------------------- CLI
t_check "wiremesh status" eval '"$WM" status --socket "$SOCK_A" | grep -q "interface: $IFA"'
t_check "wiremesh status --json" eval '"$WM" status --json --socket "$SOCK_A" | "$LAB_PYTHON" -c "import json,sys; assert json.load(sys.stdin)[\"peer_count\"] == 1"'
cli_peers() {
	"$WM" peers --socket "$SOCK_A" >"$OUT" || return 1
	cat "$OUT"
	awk -v k="${PB:0:8}.." '$1 == k && $2 == "direct" && $3 == "192.0.2.2:51820" && / ago / { ok = 1 }
		END { exit !ok }' "$OUT"
}
t_check "wiremesh peers" cli_peers
t_check "wiremesh peers --json" eval '"$WM" peers --json --socket "$SOCK_A" | grep -q "\"$PB\""'
cli_rc() { # WANT CMD...
	local want=$1 rc=0
	shift
	"$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" = "$want" ] || { echo "exit $rc, wanted $want"; return 1; }
}
t_check "CLI: unreachable agent exits 1" cli_rc 1 "$WM" status --socket "$LAB_TMP/none.sock"
t_check "CLI: usage error exits 2" cli_rc 2 "$WM" path --socket "$SOCK_A"
t_check "CLI: bad mode exits 2" cli_rc 2 "$WM" path "${PB:0:6}" sideways --socket "$SOCK_A"
t_check "CLI: unknown peer exits 1" cli_rc 1 "$WM" path "$(wm_pub c | cut -c1-12)" auto --socket "$SOCK_A"

# ------------------------------------------------- path mode and its event
path_to_relay() {
	local t0 t1
	t0=$(date +%s%N)
	put a "/v1/peers/$PB_URL/path" '{"mode":"relay"}' && expect 200 || return 1
	[ "$(j 'd["path_mode"]')" = relay ] && [ "$(j 'd["path"]')" != direct ] || { cat "$OUT"; return 1; }
	# The event is sent on the loop round that changed the path (no tick
	# in between); the bound leaves room for curl, python and grep on a
	# loaded 2-core machine, where they alone can take a second.
	lab_wait_for 3 grep -q '^data: .*"path_mode":"relay"' "$EV" ||
		{ echo "no path_changed within 3 s"; cat "$EV"; return 1; }
	t1=$(date +%s%N)
	echo "path_changed seen by the test after $(((t1 - t0) / 1000000)) ms"
	grep -B2 '"path_mode":"relay"' "$EV" | grep -q '^event: path_changed'
}
t_check "PUT path relay: path leaves direct, path_changed within 3 s" path_to_relay
t_check "GET shows path_mode relay" eval 'req a GET /v1/peers/$PB_URL && [ "$(j "d[\"path_mode\"]")" = relay ]'
t_check "422 bad mode body" eval 'put a /v1/peers/$PB_URL/path "{\"mode\":\"up\"}" && expect 422 unprocessable'
t_check "404 path of unknown peer" eval 'put a /v1/peers/$(wm_urlkey c)/path "{\"mode\":\"auto\"}" && expect 404 not_found'
# Straight after relay mode the endpoint has not answered lately: the path
# reads none until it does (a path tells the truth), then direct.
t_check "wiremesh path PREFIX auto" eval '"$WM" path "${PB:0:10}" auto --socket "$SOCK_A" | grep -Eq "path mode auto, path now (direct|none)"'
t_check "traffic flows again after auto" lab_wait_for 5 ping_b
t_check "path direct again after auto" wm_wait_path a b direct 5

# ---------------------------------------------------------------- metrics
check_metrics() {
	req a GET /metrics && expect 200 || return 1
	grep -qi '^content-type: text/plain; version=0.0.4' "$HDR" || return 1
	"$LAB_PYTHON" - "$OUT" "$PB" <<-'PY'
		import sys
		try:
		    from prometheus_client.parser import text_string_to_metric_families
		except ImportError:
		    sys.exit("python3-prometheus-client is missing (./build.sh deps)")
		text = open(sys.argv[1]).read()
		fams = {f.name: f for f in text_string_to_metric_families(text)}
		for want in ("wiremesh_peers", "wiremesh_peer_rx_bytes", "wiremesh_peer_tx_bytes",
		             "wiremesh_peer_last_handshake_seconds", "wiremesh_rx_dropped_packets",
		             "wiremesh_tx_dropped_packets", "wiremesh_handshakes_completed"):
		    assert want in fams, "missing family " + want
		    assert fams[want].documentation, "no HELP for " + want
		rx = [s for s in fams["wiremesh_peer_rx_bytes"].samples if s.labels.get("peer") == sys.argv[2]]
		assert rx and rx[0].value > 0, "no rx for b"
		assert fams["wiremesh_peers"].samples[0].value == 1
		assert fams["wiremesh_peer_rx_bytes"].type == "counter"
		print(len(fams), "families")
	PY
}
t_check "/metrics parses with prometheus_client" check_metrics

# --------------------------------------------------- PUT /v1/peers is idempotent
peer_field() { req a GET "/v1/peers/$PB_URL" >/dev/null && j "d[\"$1\"]"; }
idempotent() {
	local hs rx set=$LAB_TMP/set.json i
	ping_b >/dev/null || return 1
	req a GET /v1/peers && cp "$OUT" "$set" || return 1
	hs=$(peer_field last_handshake) rx=$(peer_field rx_bytes)
	for i in 1 2; do
		req a PUT /v1/peers -H 'Content-Type: application/json' --data-binary @"$set" &&
			expect 200 || return 1
		[ "$(j '(d["added"], d["changed"], d["removed"])')" = "([], [], [])" ] ||
			{ echo "round $i changed something:"; cat "$OUT"; return 1; }
	done
	ping_b >/dev/null || return 1
	[ "$(peer_field last_handshake)" = "$hs" ] || { echo "handshake $hs -> $(peer_field last_handshake)"; return 1; }
	[ "$(peer_field rx_bytes)" -gt "$rx" ] || { echo "rx_bytes stuck at $rx"; return 1; }
}
t_check "PUT /v1/peers twice: no change, session kept, counters rising" idempotent
t_check "PUT /v1/peers: 422 duplicate keys" eval \
	'req a PUT /v1/peers -H "Content-Type: application/json" --data-binary "{\"peers\":[{\"public_key\":\"$PB\",\"allowed_ips\":[]},{\"public_key\":\"$PB\",\"allowed_ips\":[]}]}" && expect 422 unprocessable'
t_check "PUT /v1/peers: 409 own key" eval \
	'req a PUT /v1/peers -H "Content-Type: application/json" --data-binary "{\"peers\":[{\"public_key\":\"$PA\",\"allowed_ips\":[]}]}" && expect 409 conflict'

# --------------------------------------------------------------- SaveConfig
saved() {
	grep -q "^PublicKey = $PB\$" "$CONF_A" && grep -q '^AllowedIPs = 10.77.0.2/32$' "$CONF_A" &&
		grep -q '^Endpoint = 192.0.2.2:51820$' "$CONF_A" && grep -q '^# kept by SaveConfig$' "$CONF_A" &&
		grep -q '^Relay = 203.0.113.10:3478$' "$CONF_A" &&
		[ "$(stat -c %a "$CONF_A")" = 600 ] || { cat "$CONF_A"; return 1; }
}
t_check "SaveConfig wrote the peer, kept [Interface]" saved
restart_a() {
	# SIGKILL leaves the socket file behind: the new agent must replace it.
	kill -KILL "$PID_A" && wait "$PID_A" 2>/dev/null
	[ -S "$SOCK_A" ] || { echo "no stale socket left to test with"; return 1; }
	start_a || return 1
	PID_A=$WM_PID_a
	req a GET "/v1/peers/$PB_URL" && expect 200 && [ "$(j 'd["allowed_ips"]')" = "['10.77.0.2/32']" ]
}
t_check "restart after SIGKILL: stale socket replaced, peer from SaveConfig" restart_a
t_check "traffic after restart" lab_wait_for 10 ping_b

# --------------------------------------------------- the socket is guarded
second_agent() { # API-PATH: an agent c using it must fail
	wm_agent_conf c 10.78.0.1/24 <<<"" && sed -i "s|^API = .*|API = $1|; s|^ListenPort = .*|ListenPort = 0|" "$LAB_TMP/$(wm_ifname c).conf"
	local rc=0
	timeout 10 ip netns exec "$(lab_nsname a)" "$WM" agent --config "$LAB_TMP/$(wm_ifname c).conf" \
		>"$LAB_TMP/c.log" 2>&1 || rc=$?
	cat "$LAB_TMP/c.log"
	[ "$rc" = 1 ] && grep -q "$2" "$LAB_TMP/c.log"
}
t_check "a live socket refuses a second agent" second_agent "$SOCK_A" "in use by a running agent"
t_check "the first agent still answers" api_ok "$SOCK_A"
ln -s "$LAB_TMP/elsewhere" "$LAB_TMP/link.sock"
t_check "a symlink is never followed" eval 'second_agent "$LAB_TMP/link.sock" "not a socket" && [ -L "$LAB_TMP/link.sock" ] && [ ! -e "$LAB_TMP/elsewhere" ]'
sock_mode() {
	local want=600
	getent group wiremesh >/dev/null && want=660
	[ "$(stat -c %a "$SOCK_A")" = $want ] || { stat -c '%a %G' "$SOCK_A"; return 1; }
}
t_check "API socket mode" sock_mode

# ---------------------------------------------------------------- DELETE
t_check "DELETE /v1/peers/{key} (204)" eval 'req a DELETE /v1/peers/$PB_PCT && expect 204'
t_check "GET after DELETE: 404" eval 'req a GET /v1/peers/$PB_URL && expect 404 not_found'
t_check "DELETE again: 404" eval 'req a DELETE /v1/peers/$PB_URL && expect 404 not_found'
t_check "no traffic after DELETE" eval '! ping_b'
t_check "SaveConfig dropped the peer" eval '! grep -q "^\[Peer\]" "$CONF_A" && grep -q "^PrivateKey" "$CONF_A"'

# events after the restart go to a new stream
EV2=$LAB_TMP/events2.txt
curl -sN --max-time 10 --unix-socket "$SOCK_A" http://wiremesh/v1/events >"$EV2" 2>/dev/null &
EV2_PID=$!
lab_on_cleanup() { kill "$EV_PID" "$EV2_PID" 2>/dev/null; }
lab_wait_for 2 grep -q 'wiremesh events' "$EV2"
put a "/v1/peers/$(wm_urlkey c)" '{"allowed_ips":["10.77.0.3/32"]}' >/dev/null
req a DELETE "/v1/peers/$(wm_urlkey c)"
t_check "peer_added and peer_removed events" eval \
	'lab_wait_for 2 grep -q "^event: peer_removed" "$EV2" && grep -q "^event: peer_added" "$EV2"'

# wg set adds and removes peers: announced too
IFA=$(wm_ifname a)
wg set "$IFA" peer "$(wm_pub c)" allowed-ips 10.77.0.3/32
wg set "$IFA" peer "$(wm_pub c)" remove
t_check "wg set: peer_added and peer_removed events" eval \
	'lab_wait_for 2 eval "[ \$(grep -c \"^event: peer_removed\" \"$EV2\") = 2 ] && [ \$(grep -c \"^event: peer_added\" \"$EV2\") = 2 ]"'

# 16 streams (the most) whose clients then hang up hold no slot: a client
# that comes back gets its stream at once, not a 503 until the keepalive.
kill "$EV_PID" "$EV2_PID" 2>/dev/null
stream_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 1 --unix-socket "$SOCK_A" http://wiremesh/v1/events; }
SPIDS=()
for i in $(seq 16); do
	curl -sN --max-time 30 --unix-socket "$SOCK_A" http://wiremesh/v1/events >/dev/null 2>&1 &
	SPIDS+=($!)
done
lab_on_cleanup() { kill "${SPIDS[@]}" 2>/dev/null; }
t_check "16 streams open: the 17th is 503" lab_wait_for 5 eval '[ "$(stream_code)" = 503 ]'
kill "${SPIDS[@]}" 2>/dev/null
wait "${SPIDS[@]}" 2>/dev/null
t_check "their clients gone: a new stream opens at once (200)" eval '[ "$(stream_code)" = 200 ]'

# ------------------------------------------------------ TCP with a token (b)
tcp() { # [curl args]: status of GET /v1/status on b's TCP listener
	lab_exec b curl -s --max-time 3 -o "$OUT" -D "$HDR" -w '%{http_code}' "$@" http://127.0.0.1:7707/v1/status
}
t_check "TCP without a token: 401" eval '[ "$(tcp)" = 401 ] && grep -qi "^www-authenticate: Bearer" "$HDR" && [ "$(j "d[\"error\"][\"code\"]")" = unauthorized ]'
t_check "TCP with a wrong token: 401" eval '[ "$(tcp -H "Authorization: Bearer nope")" = 401 ]'
t_check "TCP with the token: 200" eval '[ "$(tcp -H "Authorization: Bearer $TOKEN")" = 200 ] && [ "$(j "d[\"interface\"]")" = "$IFB" ]'
t_check "b's unix socket needs no token" api_ok "$SOCK_B"

kill "$EV_PID" "$EV2_PID" 2>/dev/null
t_summary
