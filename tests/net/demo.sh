#!/usr/bin/env bash
# ./build.sh demo: a relay and two agents behind port-restricted cone NATs.
# Watch the peer's path go from relay to direct over the agent's REST API,
# then force it onto the relay and back to auto with the CLI.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
. tests/net/nat_case.sh
lab_init

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { # prints a's view of peer b, one line
	wm_api a "/v1/peers/$(wm_urlkey b)" | "$LAB_PYTHON" -c '
import json, sys
p = json.load(sys.stdin)
print("  t=%5.1fs  path=%-6s mode=%-6s endpoint=%-22s rtt=%s  rx=%s tx=%s" % (
    float(sys.argv[1]), p["path"], p["path_mode"], p["endpoint"] or "-",
    "%.2f ms" % (p["rtt_us"] / 1000) if p["rtt_us"] is not None else "-",
    p["rx_bytes"], p["tx_bytes"]))' \
		"$(awk "BEGIN{print $(date +%s.%N) - $T0}")"
}
watch_until() { # WANT SECS
	local i last=""
	for ((i = 0; i < $2 * 2; i++)); do
		show
		[ "$(wm_path a b)" = "$1" ] && return 0
		sleep 0.5
	done
	return 1
}

say "building the lab: relay 203.0.113.10, hosts behind two cone NATs"
T0=$(date +%s.%N)
nat_world cone cone || { echo "demo: the lab did not start"; exit 1; }
say "agents up; a's view of peer b over GET /v1/peers/{key}:"
watch_until direct 20 || echo "  (no direct path yet)"
wm_api a "/v1/peers/$(wm_urlkey b)" | "$LAB_PYTHON" -c '
import json, sys
t = json.load(sys.stdin)["time_to_direct_ms"]
print("  time_to_direct_ms: %s (first packet from b to the first direct path)" % t)'
say "ping through the tunnel"
nat_ping a b 3 | tail -n 2
say "wiremesh status (CLI over the unix socket; one line per peer)"
"$WM" status --socket "$LAB_TMP/a.api.sock"
say "wiremesh ping <b>: disco pings on every candidate and through the relay"
"$WM" ping --socket "$LAB_TMP/a.api.sock" -c 2 "$(wm_pub b | cut -c1-8)"
say "wiremesh netcheck"
"$WM" netcheck --socket "$LAB_TMP/a.api.sock"
say "forcing b onto the relay: wiremesh path <b> relay"
"$WM" path --socket "$LAB_TMP/a.api.sock" "$(wm_pub b | cut -c1-8)" relay >/dev/null
watch_until relay 10
nat_ping a b 3 | tail -n 2
say "back to auto: wiremesh path <b> auto"
"$WM" path --socket "$LAB_TMP/a.api.sock" "$(wm_pub b | cut -c1-8)" auto >/dev/null
watch_until direct 20
say "wiremesh status, after all that"
"$WM" status --socket "$LAB_TMP/a.api.sock"
say "done; cleaning up"
