# shellcheck shell=bash
# tests/net/wm.sh — wiremesh helpers on top of the lab (lib.sh): keys, a relay
# (+ STUN) on the lab's internet, agents in host namespaces, and the path a
# peer takes as the agent's REST API reports it. Source lib.sh first.
#
#   wm_key NAME                       $LAB_TMP/NAME.key, NAME.pub
#   wm_relay_start NS IP CLIENT...    relay + STUN on IP:3478/udp, TLS on IP:443
#   wm_stun_start NS IP               a second STUN server (a relay serving nobody)
#   wm_agent_conf NAME ADDR [Key = value lines on stdin, then [Peer] sections]
#   wm_agent_start NS NAME            starts build/wiremesh agent, waits for its API
#   wm_api NAME PATH [curl args]      GET/PUT on NAME's API socket
#   wm_path NAME PEER                 direct | relay | none, from the API
#   wm_wait_path NAME PEER WANT SECS  waits for the API to report WANT

WM=${WM:-$PWD/build/wiremesh}
WM_IFSUFFIX=${WM_IFSUFFIX:-$(printf '%04x' $((RANDOM % 65536)))}

wm_key() {
	(umask 077 && "$WM" genkey >"$LAB_TMP/$1.key") &&
		"$WM" pubkey <"$LAB_TMP/$1.key" >"$LAB_TMP/$1.pub"
}
wm_pub() { cat "$LAB_TMP/$1.pub"; }
wm_priv() { cat "$LAB_TMP/$1.key"; }
wm_ifname() { echo "wm${WM_IFSUFFIX}$1"; }

# A self-signed certificate: clients trust the relay by its static key.
wm_cert() {
	[ -f "$LAB_TMP/relay.crt" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=relay.test -keyout "$LAB_TMP/relay.pem" \
		-out "$LAB_TMP/relay.crt" >/dev/null 2>&1
}

wm_relay_start() { # NS IP CLIENT...
	local ns=$1 ip=$2 c conf
	shift 2
	wm_key relay
	wm_cert
	conf=$LAB_TMP/relay.conf
	{
		echo "[Relay]"
		echo "PrivateKey = $(wm_priv relay)"
		echo "ListenPort = 3478"
		echo "TCPListen = $ip:443"
		echo "TLSCert = $LAB_TMP/relay.crt"
		echo "TLSKey = $LAB_TMP/relay.pem"
		for c in "$@"; do echo "AllowedClients = $(wm_pub "$c")"; done
	} >"$conf"
	chmod 600 "$conf"
	lab_bg --name relay "$ns" "$WM" relay --config "$conf"
	WM_RELAY_PID=$LAB_LAST_PID
	lab_wait_for 5 lab_exec "$ns" sh -c 'ss -Hlun "sport = :3478" | grep -q .'
}

wm_stun_start() { # NS IP
	local ns=$1 conf=$LAB_TMP/stun2.conf
	wm_key stun2
	wm_key nobody
	printf '[Relay]\nPrivateKey = %s\nListenPort = 3478\nAllowedClients = %s\n' \
		"$(wm_priv stun2)" "$(wm_pub nobody)" >"$conf"
	chmod 600 "$conf"
	lab_bg --name stun2 "$ns" "$WM" relay --config "$conf"
}

# wm_agent_conf NAME ADDR; the rest of the file comes on stdin.
wm_agent_conf() {
	local name=$1 addr=$2 f
	f=$LAB_TMP/$(wm_ifname "$name").conf
	{
		echo "[Interface]"
		echo "PrivateKey = $(wm_priv "$name")"
		echo "ListenPort = 51820"
		echo "Address = $addr"
		echo "API = $LAB_TMP/$name.api.sock"
		cat
	} >"$f"
	chmod 600 "$f"
}

wm_agent_start() { # NS NAME [binary]
	local ns=$1 name=$2 bin=${3:-$WM}
	lab_bg --name "$name" "$ns" "$bin" agent --config "$LAB_TMP/$(wm_ifname "$name").conf"
	eval "WM_PID_$name=$LAB_LAST_PID"
	lab_wait_for 10 test -S "$LAB_TMP/$name.api.sock"
}

wm_api() { # NAME PATH [curl args...]
	local name=$1 path=$2
	shift 2
	curl -sS --max-time 5 --unix-socket "$LAB_TMP/$name.api.sock" "$@" \
		"http://wiremesh$path"
}

# The key in URL form: base64url, no padding.
wm_urlkey() { wm_pub "$1" | tr '+/' '-_' | tr -d '='; }

wm_path() { # NAME PEER
	wm_api "$1" "/v1/peers/$(wm_urlkey "$2")" |
		"$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["path"])' 2>/dev/null
}

wm_wait_path() { # NAME PEER WANT SECS
	local i
	for ((i = 0; i < $4 * 5; i++)); do
		[ "$(wm_path "$1" "$2")" = "$3" ] && return 0
		sleep 0.2
	done
	echo "path of $2 at $1: $(wm_path "$1" "$2"), wanted $3"
	return 1
}
