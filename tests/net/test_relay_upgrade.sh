#!/usr/bin/env bash
# Upgrades (issue "Relay for real fleets"): a fleet upgrades its relays
# first, then its agents, one by one, so every mix of versions must keep
# peers reachable. The old version is the commit before the relay's
# forwarding frames (build.sh's OLD_BASE, built once by
# `./build.sh build_old` into build/old-OLD_BASE/wiremesh).
#   1. new relay, agent a old, agent b new (both behind symmetric NATs, so
#      only the relay joins them): pings both ways; at the relay, b's
#      frames are forwarding frames ("WMR" 0x02) in and out, a only ever
#      gets sealed ones ("WMR" 0x01), and the marker payload never shows.
#   2. old relay, both agents new: they fall back to sealed frames (the
#      old relay echoes their offer) and ping both ways.
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
. tests/net/nat_case.sh
lab_init

NEW=$WM
OLD_BASE=$(sed -n 's/^OLD_BASE=//p' build.sh)
OLD=$PWD/build/old-$OLD_BASE/wiremesh
MARKER=776d6d61726b6572c0ffee # "wmmarker" + c0ffee, as ping -p fills payloads

t_check "the agent and relay of $OLD_BASE are built" ./build.sh build_old
t_check "the old binary is another version" test "$(cmp -s "$OLD" "$NEW"; echo $?)" = 1

# nat_world with a binary per part: RELAY_BIN, A_BIN, B_BIN.
mixed_world() {
	lab_topology symmetric symmetric || return 1
	wm_key a && wm_key b || return 1
	WM=$RELAY_BIN wm_relay_start relay "$RELAY_IP" a b || return 1
	wm_stun_start stun2 "$STUN2_IP"
	nat_agent_conf a 10.77.0.1 b 10.77.0.2
	nat_agent_conf b 10.77.0.2 a 10.77.0.1
	wm_agent_start "$HOST_A_NS" a "$A_BIN" && wm_agent_start "$HOST_B_NS" b "$B_BIN"
}

has_marker() { # PCAP
	"$LAB_PYTHON" -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1], "rb").read() else 1)' "$1" "$MARKER"
}
no_marker() { ! has_marker "$1"; }

# Pings both ways (with the marker) under a capture at the relay.
ping_both_ways_captured() { # PCAP
	local cap st=0
	lab_bg --name "capture-$(basename "$1" .pcap)" "$RELAY_NS" tcpdump -U -s 0 -i eth0 -w "$1" udp
	cap=$LAB_LAST_PID
	lab_wait_for 5 test -s "$1"
	t_check "ping a -> b" lab_exec "$HOST_A_NS" ping -c 5 -i 0.2 -W 2 -p "$MARKER" 10.77.0.2
	t_check "ping b -> a" lab_exec "$HOST_B_NS" ping -c 5 -i 0.2 -W 2 -p "$MARKER" 10.77.0.1
	lab_kill "$cap"
	t_check "the marker never appears at the relay" no_marker "$1"
	return $st
}

frames() { # PCAP [--opt IP]...
	local pcap=$1
	shift
	"$LAB_PYTHON" tests/net/tools/relay_frames.py "$pcap" "$RELAY_IP" \
		"$PUBLIC_A_IP=$(wm_pub a)" "$PUBLIC_B_IP=$(wm_pub b)" "$@"
}

# --- 1. new relay; a old, b new -----------------------------------------------
RELAY_BIN=$NEW A_BIN=$OLD B_BIN=$NEW mixed_world || t_fail "world: new relay, old a, new b"
t_check "old a -> new b over the new relay" wm_wait_path a b relay 20
t_check "new b -> old a over the new relay" wm_wait_path b a relay 10
ping_both_ways_captured "$LAB_TMP/mixed.pcap"
t_check "frames at the relay as documented; b forwards, a stays sealed" \
	frames "$LAB_TMP/mixed.pcap" --v2-from "$PUBLIC_B_IP" --v2-to "$PUBLIC_B_IP" \
	--v1-only-to "$PUBLIC_A_IP" --v1-only-from "$PUBLIC_A_IP"
frames "$LAB_TMP/mixed.pcap" | sed 's/^/    datagrams at the relay: /'

# --- 2. old relay; both agents new --------------------------------------------
lab_reset
RELAY_BIN=$OLD A_BIN=$NEW B_BIN=$NEW mixed_world || t_fail "world: old relay, new a and b"
t_check "new a -> new b over the old relay" wm_wait_path a b relay 20
t_check "new b -> new a over the old relay" wm_wait_path b a relay 10
ping_both_ways_captured "$LAB_TMP/old-relay.pcap"
t_check "the new agents stay on sealed frames with the old relay" \
	frames "$LAB_TMP/old-relay.pcap" --v1-only-to "$PUBLIC_A_IP" --v1-only-from "$PUBLIC_A_IP" \
	--v1-only-to "$PUBLIC_B_IP" --v1-only-from "$PUBLIC_B_IP"
t_summary
