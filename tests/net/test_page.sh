#!/usr/bin/env bash
# tests/net/test_page.sh — the live status page (GET /) in headless
# Chromium, and the checks that keep other sites out of the API
# (api/browser.h). A relay and two agents behind cone NATs (nat_case.sh's
# world); a also serves its API on 127.0.0.1:7707 with a token and has a
# third, absent peer "carol".
#
#   curl, in a's namespace: the page needs no token and is self-contained
#   with a CSP; a bad Host (DNS rebinding) is 403 even with the token; a
#   cross-origin PUT is 403, a same-origin one 200; the event stream takes
#   the session cookie of POST /v1/session and nothing else does.
#   Chromium (chromedriver, tests/net/tools/page_check.py), in a's
#   namespace: the token is typed once and kept for the tab, both peers
#   are shown, a path forced through the API appears within 1 s, the
#   "auto" button works; the screenshot is kept in build/test-output/.
# ~30 s. Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
. tests/net/nat_case.sh
lab_init || { echo "0 passed, 1 failed"; exit 1; }

[ -x "$WM" ] || { t_fail "no binary at $WM (./build.sh build)"; t_summary; }
for tool in chromium chromedriver curl; do
	command -v "$tool" >/dev/null || { t_fail "missing tool: $tool (./build.sh deps)"; t_summary; }
done
OUT_DIR=${WM_TEST_OUT:-$PWD/build/test-output}/page
mkdir -p "$OUT_DIR"

lab_topology cone cone || { t_fail "lab topology"; t_summary; }
wm_key a && wm_key b && wm_key carol || { t_fail "keys"; t_summary; }
wm_relay_start relay "$RELAY_IP" a b || { t_fail "relay"; t_summary; }
TOKEN=page-$RANDOM$RANDOM$RANDOM
(umask 077 && echo "$TOKEN" >"$LAB_TMP/api.token")
wm_agent_conf a 10.77.0.1/24 <<EOC
Relay = $RELAY_IP:3478
RelayPublicKey = $(wm_pub relay)
APIListen = 127.0.0.1:7707
APITokenFile = $LAB_TMP/api.token

[Peer]
PublicKey = $(wm_pub b)
Name = bee
AllowedIPs = 10.77.0.2/32
PersistentKeepalive = 10

[Peer]
PublicKey = $(wm_pub carol)
Name = carol
AllowedIPs = 10.77.0.3/32
EOC
nat_agent_conf b 10.77.0.2 a 10.77.0.1
wm_agent_start "$HOST_A_NS" a && wm_agent_start "$HOST_B_NS" b || { t_fail "agents"; t_summary; }
BASE=http://127.0.0.1:7707
t_check "a's TCP listener answers" lab_wait_for 5 lab_exec "$HOST_A_NS" \
	curl -sf -o /dev/null "$BASE/"

relay_pong() { # a's ping of b through the relay is answered
	wm_api a "/v1/peers/$(wm_urlkey b)/ping?timeout_ms=500" -X POST | "$LAB_PYTHON" -c '
import json, sys
r = json.load(sys.stdin)["results"]
sys.exit(0 if any(t["via"] == "relay" and t["rtt_us"] for t in r) else 1)'
}
t_check "wiremesh ping's relay PING gets its PONG" lab_wait_for 10 relay_pong

# acurl [curl args]: curl in a's namespace; prints the HTTP status
acurl() { lab_exec "$HOST_A_NS" curl -s --max-time 3 -o "$LAB_TMP/body" -D "$LAB_TMP/hdr" -w '%{http_code}' "$@"; }
AUTH="Authorization: Bearer $TOKEN"
PATH_URL="$BASE/v1/peers/$(wm_urlkey b)/path"

t_check "GET / without a token: 200, HTML" eval \
	'[ "$(acurl "$BASE/")" = 200 ] && grep -qi "^content-type: text/html" "$LAB_TMP/hdr" && grep -q "<title>wiremesh</title>" "$LAB_TMP/body"'
t_check "the page has a CSP and may not be framed" eval \
	'grep -qi "^content-security-policy: .*frame-ancestors .none." "$LAB_TMP/hdr" && grep -qi "^x-frame-options: deny" "$LAB_TMP/hdr"'
t_check "the page loads nothing from elsewhere" eval '! grep -Eq "https://|<link| src=" "$LAB_TMP/body"'
t_check "GET /v1/status without a token: 401" eval '[ "$(acurl "$BASE/v1/status")" = 401 ]'
t_check "a rebinding Host (evil.example:7707) with the token: 403" eval \
	'[ "$(acurl -H "$AUTH" -H "Host: evil.example:7707" "$BASE/v1/status")" = 403 ]'
t_check "a Host with another port: 403" eval \
	'[ "$(acurl -H "$AUTH" -H "Host: 127.0.0.1:80" "$BASE/")" = 403 ]'
t_check "Host localhost:7707 is this listener: 200" eval \
	'[ "$(acurl -H "$AUTH" -H "Host: localhost:7707" "$BASE/v1/status")" = 200 ]'
t_check "a cross-origin PUT with the token: 403, nothing changed" eval \
	'[ "$(acurl -X PUT -H "$AUTH" -H "Origin: http://evil.example" -H "Content-Type: application/json" -d "{\"mode\":\"relay\"}" "$PATH_URL")" = 403 ] &&
	 [ "$(wm_api a "/v1/peers/$(wm_urlkey b)" | "$LAB_PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"path_mode\"])")" = auto ]'
t_check "a same-origin PUT with the token: 200" eval \
	'[ "$(acurl -X PUT -H "$AUTH" -H "Origin: http://127.0.0.1:7707" -H "Content-Type: application/json" -d "{\"mode\":\"auto\"}" "$PATH_URL")" = 200 ]'
t_check "no CORS header is ever sent" eval '! grep -qi "^access-control-" "$LAB_TMP/hdr"'
t_check "POST /v1/session without the token: 401" eval '[ "$(acurl -X POST "$BASE/v1/session")" = 401 ]'
t_check "POST /v1/session: an HttpOnly SameSite=Strict cookie" eval \
	'[ "$(acurl -X POST -H "$AUTH" "$BASE/v1/session")" = 204 ] && grep -qi "^set-cookie: wm_session=[0-9a-f]\{32\}; Path=/v1/events; Max-Age=600; HttpOnly; SameSite=Strict" "$LAB_TMP/hdr"'
COOKIE=$(sed -n 's/^[Ss]et-[Cc]ookie: \(wm_session=[0-9a-f]*\);.*/\1/p' "$LAB_TMP/hdr")
t_check "the cookie opens the event stream" eval \
	'lab_exec "$HOST_A_NS" curl -s --max-time 1 -o /dev/null -w "%{http_code}" -H "Cookie: $COOKIE" "$BASE/v1/events" | grep -qx 200'
t_check "the cookie opens nothing else" eval '[ "$(acurl -H "Cookie: $COOKIE" "$BASE/v1/peers")" = 401 ]'
t_check "the event stream without token or cookie: 401" eval '[ "$(acurl "$BASE/v1/events")" = 401 ]'

# Chromium, driven as a person would (page_check.py prints PASS/FAIL lines).
lab_bg --name chromedriver "$HOST_A_NS" chromedriver --port=9515 --allowed-ips=127.0.0.1
t_check "chromedriver starts" lab_wait_for 10 lab_exec "$HOST_A_NS" curl -sf -o /dev/null http://127.0.0.1:9515/status
PNG=$OUT_DIR/page.png
rm -f "$PNG"
while IFS= read -r line; do
	case $line in
	PASS:*) t_pass "chromium: ${line#PASS: }" ;;
	FAIL:*) t_fail "chromium: ${line#FAIL: }" ;;
	*) echo "    | $line" ;;
	esac
done < <(timeout 90 ip netns exec "$HOST_A_NS" "$LAB_PYTHON" tests/net/tools/page_check.py \
	http://127.0.0.1:9515 "$BASE/" "$TOKEN" "$(wm_urlkey b)" "$PNG" 2>&1)
t_check "the screenshot is there" test -s "$PNG"
echo "screenshot: $PNG"
t_summary
