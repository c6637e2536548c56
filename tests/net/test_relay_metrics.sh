#!/usr/bin/env bash
# The relay's MetricsListen: Prometheus text on GET /metrics over loopback,
# 404 elsewhere, 405 for another method, 431 for an oversized request, the
# counters move (a TLS ClientHello to a relay without a certificate is
# counted as refused; a connection that never authenticates is not, until
# its deadline); a non-loopback MetricsListen is a config error naming
# file:line:key (exit 2). One namespace, no topology.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
lab_init

NS=relay
lab_ns "$NS" || { t_fail "namespace"; t_summary; }
wm_key relay && wm_key a || { t_fail "keys"; t_summary; }
conf() { # METRICS_LISTEN
	printf '[Relay]\nPrivateKey = %s\nListenPort = 3478\nTCPListen = 127.0.0.1:8443\nAllowedClients = %s\nMetricsListen = %s\n' \
		"$(wm_priv relay)" "$(wm_pub a)" "$1"
}

conf 0.0.0.0:9478 >"$LAB_TMP/bad.conf"
bad_config() {
	local out rc
	out=$("$WM" relay --config "$LAB_TMP/bad.conf" --check-config 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" -eq 2 ] && grep -q "bad.conf:6: MetricsListen: .*loopback" <<<"$out"
}
t_check "MetricsListen = 0.0.0.0:9478 is a config error (file:line:key, exit 2)" bad_config
conf '[::]:9478' >"$LAB_TMP/bad.conf"
t_check "MetricsListen = [::]:9478 is a config error too" bad_config

conf 127.0.0.1:9478 >"$LAB_TMP/relay.conf"
chmod 600 "$LAB_TMP/relay.conf"
lab_bg --name relay "$NS" "$WM" relay --config "$LAB_TMP/relay.conf"
lab_wait_for 5 lab_exec "$NS" sh -c 'ss -Hltn "sport = :9478" | grep -q .' ||
	t_fail "the metrics port never opened"

get() { # PATH [curl args]: the status code, the body in $LAB_TMP/body
	local path=$1
	shift
	lab_exec "$NS" curl -s --max-time 5 -o "$LAB_TMP/body" -w '%{http_code}' "$@" \
		"http://127.0.0.1:9478$path"
}
metric() { # NAME{labels}: its value from the last body
	awk -v n="$1" '$1 == n {print $2}' "$LAB_TMP/body"
}
t_check "GET /metrics: 200" test "$(get /metrics)" = 200
t_check "the body is Prometheus text (TYPE lines, client gauges)" \
	grep -q '^# TYPE wiremesh_relay_clients gauge' "$LAB_TMP/body"
t_check "handshakes start at 0" test "$(metric wiremesh_relay_handshakes_total)" = 0
parses() {
	"$LAB_PYTHON" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
names = {f.name for f in text_string_to_metric_families(open(sys.argv[1]).read())}
need = {"wiremesh_relay_clients", "wiremesh_relay_dropped", "wiremesh_relay_tcp_refused"}
sys.exit(0 if need <= names else "missing: %s" % (need - names))' "$LAB_TMP/body"
}
t_check "the body parses with prometheus_client" parses
t_check "GET /: 404" test "$(get /)" = 404
t_check "GET /metricsx: 404" test "$(get /metricsx)" = 404
t_check "POST /metrics: 405" test "$(get /metrics -X POST -d x)" = 405
t_check "a 4 KB header: 431" test "$(get /metrics -H "X-Pad: $(head -c 4000 /dev/zero | tr '\0' a)")" = 431

# A TLS ClientHello to this relay (no certificate) is closed at once.
hello() {
	lab_exec "$NS" timeout 5 openssl s_client -connect 127.0.0.1:8443 </dev/null >/dev/null 2>&1
	return 0
}
hello
get /metrics >/dev/null
t_check "a ClientHello without a certificate is counted" \
	test "$(metric 'wiremesh_relay_tcp_refused_total{reason="tls_without_cert"}')" = 1
t_check "the relay still answers after all that" test "$(get /metrics)" = 200
# Nine connections from one address: the per-address cap (default 8).
many() {
	local i pids=()
	for i in 1 2 3 4 5 6 7 8 9; do
		lab_exec "$NS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8443; sleep 2' &
		pids+=($!)
	done
	lab_wait_for 3 refused_one
	wait "${pids[@]}"
}
refused_one() {
	get /metrics >/dev/null &&
		test "$(metric 'wiremesh_relay_tcp_refused_total{reason="per_address"}')" = 1
}
many
t_check "the 9th connection from one address is refused and counted" \
	test "$(metric 'wiremesh_relay_tcp_refused_total{reason="per_address"}')" = 1
t_check "8 connections were accepted" test "$(metric wiremesh_relay_tcp_accepted_total)" -ge 8
t_summary
