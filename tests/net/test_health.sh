#!/usr/bin/env bash
# tests/net/test_health.sh — GET /v1/health, and api/openapi.yaml against a
# running agent. Two namespaces on one veth: r (the relay, 203.0.113.10) and
# a (an agent, 203.0.113.20) whose config names the relay.
#
#   health: 503 "relay ... is not connected" before the relay runs, 200
#   {"status":"ok"} once it does, 503 "interface ... is down" after
#   `ip link set down`, 200 again after `up`; HEAD answers without a body.
#   the document: every operation in api/openapi.yaml is called on the
#   agent (tests/net/openapi_walk.py), valid and invalid, over the unix
#   socket and without a token over TCP; every status the agent answers
#   must be one the document lists for that operation.
# Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init || { echo "0 passed, 1 failed"; exit 1; }

[ -x "$WM" ] || { t_fail "no binary at $WM (./build.sh build)"; t_summary; }
lab_ns r && lab_ns a && lab_veth r eth0 203.0.113.10/24 a eth0 203.0.113.20/24 ||
	{ t_fail "lab setup"; t_summary; }
wm_key a && wm_key b || { t_fail "keys"; t_summary; }
IFA=$(wm_ifname a)
SOCK=$LAB_TMP/a.api.sock
TOKEN=tok-$RANDOM$RANDOM
echo "$TOKEN" >"$LAB_TMP/api.token"
chmod 600 "$LAB_TMP/api.token"

wm_key relay
wm_agent_conf a 10.77.0.1/24 <<EOF
Relay = 203.0.113.10:3478
RelayPublicKey = $(wm_pub relay)
APIListen = 127.0.0.1:7707
APITokenFile = $LAB_TMP/api.token
EOF
wm_agent_start a a || { t_fail "agent a starts"; t_summary; }

# health WANT_CODE [REGEX]: the last answer in $H_CODE, $H_BODY (compact JSON)
health() {
	H_BODY=$(curl -s --max-time 2 --unix-socket "$SOCK" -w '\n%{http_code}' http://wiremesh/v1/health)
	H_CODE=${H_BODY##*$'\n'}
	H_BODY=$("$LAB_PYTHON" -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read()), separators=(",", ":")))' \
		<<<"${H_BODY%$'\n'*}" 2>/dev/null)
	[ "$H_CODE" = "$1" ] && { [ -z "${2:-}" ] || grep -Eq "$2" <<<"$H_BODY"; }
}
show() { echo "health: $H_CODE $H_BODY"; }

t_check "503 while the relay does not answer" eval \
	'lab_wait_for 5 health 503 "\"status\":\"unavailable\",\"reason\":\"relay 203.0.113.10:3478 is not connected" || { show; false; }'
t_check "503 carries the usual error document" eval \
	'health 503 "\"error\":\{\"code\":\"unavailable\",\"message\":\"relay" || { show; false; }'

# The relay, with the key a was given (wm_relay_start would make a new one).
printf '[Relay]\nPrivateKey = %s\nListenPort = 3478\nAllowedClients = %s\n' \
	"$(wm_priv relay)" "$(wm_pub a)" >"$LAB_TMP/relay.conf"
chmod 600 "$LAB_TMP/relay.conf"
lab_bg --name relay r "$WM" relay --config "$LAB_TMP/relay.conf" || t_fail "relay starts"

t_check "200 {\"status\":\"ok\"} once the relay is connected" eval \
	'lab_wait_for 15 health 200 "^\{\"status\":\"ok\"\}$" || { show; false; }'
t_check "HEAD /v1/health: 200, no body" eval \
	'[ "$(curl -s -I --max-time 2 --unix-socket "$SOCK" -o /dev/null -w "%{http_code} %{size_download}" http://wiremesh/v1/health)" = "200 0" ]'

lab_exec a ip link set dev "$IFA" down
t_check "503 \"interface ... is down\" after ip link set down" eval \
	'lab_wait_for 3 health 503 "interface $IFA is down" || { show; false; }'
lab_exec a ip link set dev "$IFA" up
t_check "200 again after ip link set up" eval \
	'lab_wait_for 5 health 200 || { show; false; }'

# ------------------------------------------------- the document, live
WALK=$LAB_TMP/walk.log
lab_exec a "$LAB_PYTHON" tests/net/openapi_walk.py api/openapi.yaml "$SOCK" \
	127.0.0.1:7707 "$TOKEN" "$(wm_pub b)" >"$WALK" 2>&1
st=$?
sed 's/^/    walk| /' "$WALK"
t_check "every documented operation was called" grep -q '^operations [1-9][0-9]* called' "$WALK"
t_check "every answer is a status documented for its operation" test "$st" = 0

t_summary
