# shellcheck shell=bash
# tests/net/pair.sh — two WireGuard ends in lab namespaces, driven the way the
# `wg` tool drives them, through the UAPI socket /var/run/wireguard/IFACE.sock:
# a wiremesh agent on one side, wiremesh or wireguard-go on the other. Used by
# test_interop, test_wg_tool, test_rekey, test_roaming and test_bad_input:
#
#   set -u
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/pair.sh"
#   pair_init wg wireguard-go ping     # lab_init, tools, $WM, or "0 passed, 1 failed"
#
# Sourcing it sets PAIR_TOP (the source tree) and WM, the agent binary:
# $WIREMESH, else $PAIR_TOP/build/wiremesh (set WM again before pair_init to
# use another build), and sources wm.sh, whose wm_pub / wm_priv read the key
# files pair_key writes.
#
#   pair_init TOOL...                 lab_init; then every TOOL on PATH and $WM
#                                     executable, else t_fail + t_summary (the hint
#                                     in the message: $PAIR_WM_HINT, or ./build.sh build)
#   pair_key NAME                     $LAB_TMP/NAME.key (0600), NAME.pub — as wm_key,
#                                     but made by `wg genkey` (the reference tool)
#   wm_pub NAME / wm_priv NAME        (wm.sh) the public / private key, base64
#   pair_alive PID                    running and not a zombie
#   pair_uapi_up IFACE                the UAPI socket is there and `wg show IFACE` answers
#   pair_ping1 NS DST                 one ping answered within 1 s
#   pair_wm_conf IFACE KEYNAME PORT ADDR PEERKEY ALLOWED [ENDPOINT|-] [PSKNAME|-] [KEEPALIVE|0]
#                                     $LAB_TMP/IFACE.conf (0600): [Interface] and one
#                                     [Peer]; ADDR, ALLOWED as they go in the file
#                                     ("10.77.0.1/24, fd77::1/64"); PAIR_API=1 adds
#                                     API = $LAB_TMP/IFACE.api.sock
#   pair_wm_start NS IFACE [BINARY]   agent ($WM by default) on $LAB_TMP/IFACE.conf; waits
#                                     (10 s) for its UAPI socket; sets PID_<NS>, LOG_<NS>
#   pair_wggo_start NS IFACE KEYNAME PORT ADDRS [wg set args...]
#                                     wireguard-go IFACE; waits (10 s) for its UAPI socket,
#                                     sets key, port and the extra args in one `wg set`,
#                                     then ADDRS (comma-separated, IPv6 with nodad) and
#                                     link up; sets PID_<NS>, LOG_<NS>
#
# PID_<NS> and LOG_<NS> (PID_a, LOG_b, ...) name the last process started in
# namespace NS; as with wm_agent_start, it is the caller's to lab_kill.

PAIR_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WM=${WIREMESH:-$PAIR_TOP/build/wiremesh}
# shellcheck source=tests/net/wm.sh
. "$(dirname "${BASH_SOURCE[0]}")/wm.sh"

pair_init() { # TOOL...
	local t
	lab_init || { echo "0 passed, 1 failed"; exit 1; }
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { t_fail "missing tool: $t"; t_summary; }
	done
	[ -x "$WM" ] || { t_fail "$WM missing (${PAIR_WM_HINT:-./build.sh build})"; t_summary; }
}

pair_key() { # NAME
	(umask 077 && wg genkey >"$LAB_TMP/$1.key") && wg pubkey <"$LAB_TMP/$1.key" >"$LAB_TMP/$1.pub"
}

pair_alive() { # PID — state (field 3 of /proc/PID/stat) is not Z or X
	local s
	s=$(sed -n 's/^.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) &&
		[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

pair_uapi_up() { [ -S "/var/run/wireguard/$1.sock" ] && wg show "$1" >/dev/null 2>&1; }

pair_ping1() { lab_exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; }

pair_wm_conf() { # IFACE KEYNAME PORT ADDR PEERKEY ALLOWED [ENDPOINT|-] [PSKNAME|-] [KEEPALIVE|0]
	(
		umask 077
		exec >"$LAB_TMP/$1.conf"
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s\n' "$(wm_priv "$2")" "$3" "$4"
		[ "${PAIR_API:-0}" = 0 ] || printf 'API = %s\n' "$LAB_TMP/$1.api.sock"
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$(wm_pub "$5")" "$6"
		[ "${8:--}" = - ] || printf 'PresharedKey = %s\n' "$(wm_priv "$8")"
		[ "${7:--}" = - ] || printf 'Endpoint = %s\n' "$7"
		[ "${9:-0}" = 0 ] || printf 'PersistentKeepalive = %s\n' "$9"
	)
}

# PID_<NS>, LOG_<NS> from the lab_bg just run; then wait for IFACE's UAPI
_pair_started() { # NS IFACE WHAT
	eval "PID_$1=\$LAB_LAST_PID LOG_$1=\$LAB_LAST_LOG"
	lab_wait_for 10 pair_uapi_up "$2" || { echo "$3 $2 did not come up"; cat "$LAB_LAST_LOG"; return 1; }
}

pair_wm_start() { # NS IFACE [BINARY]
	lab_bg --name "$2" "$1" "${3:-$WM}" agent --config "$LAB_TMP/$2.conf"
	_pair_started "$1" "$2" agent
}

pair_wggo_start() { # NS IFACE KEYNAME PORT ADDRS [wg set args...]
	local ns=$1 ifc=$2 key=$3 port=$4 a
	local -a addrs
	IFS=, read -ra addrs <<<"$5"
	shift 5
	lab_bg --name "$ifc" "$ns" env WG_PROCESS_FOREGROUND=1 wireguard-go "$ifc"
	_pair_started "$ns" "$ifc" wireguard-go || return 1
	lab_exec "$ns" wg set "$ifc" private-key "$LAB_TMP/$key.key" listen-port "$port" "$@" || return 1
	for a in "${addrs[@]}"; do
		case $a in
		*:*) lab_exec "$ns" ip addr add "$a" dev "$ifc" nodad ;;
		*) lab_exec "$ns" ip addr add "$a" dev "$ifc" ;;
		esac || return 1
	done
	lab_exec "$ns" ip link set "$ifc" up
}
