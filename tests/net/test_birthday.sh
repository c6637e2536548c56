#!/usr/bin/env bash
# Birthday probing (issue 14): a port-restricted cone NAT or a stateful
# firewall on one side and a symmetric NAT (`masquerade random`) on the
# other get a direct path: the symmetric side opens 256 sockets toward the
# other's mapping, the other probes random ports of the symmetric side's
# address. Two symmetric NATs stay on the relay without runaway probing;
# BirthdayProbe = off keeps a cone/symmetric pair on the relay.
#
# BIRTHDAY_CASES="cone firewall" limits the direct cases (bench loops use it).
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
. tests/net/nat_case.sh
lab_init

metric() { # NAME METRIC: the counter's value in NAME's /metrics
	wm_api "$1" /metrics | awk -v m="wiremesh_$2_total" '$1 ~ "^"m"[{]" {print $2}'
}

# The lab's symmetric NAT picks ports the birthday math counts on.
range_check() {
	local r
	r=$(lab_exec "$NAT_B_NS" cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	echo "natb ip_local_port_range: $r (masquerade random draws from 1024-65535 when none is given)"
	lab_exec "$NAT_B_NS" nft list ruleset | grep -q 'masquerade random'
}

direct_case() { # TYPE_A
	local a=$1 t0 t1 probes wins
	lab_reset
	if ! nat_world "$a" symmetric; then
		t_fail "$a/symmetric: world did not start"
		return
	fi
	t0=$(date +%s.%N) # the agents are up
	[ "$a" = cone ] && t_check "symmetric NAT: masquerade random over the whole range" range_check
	# Bounded by the clock, not by a count of polls (each poll is an
	# API call that takes its own time on a loaded machine).
	while [ "$(wm_path a b)" != direct ] &&
		awk "BEGIN{exit !($(date +%s.%N) - $t0 < 15)}"; do
		sleep 0.2
	done
	t1=$(date +%s.%N)
	el=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")
	if [ "$(wm_path a b)" = direct ] && awk "BEGIN{exit !($el <= 15)}" &&
		wm_wait_path b a direct 5; then
		t_pass "$a/symmetric: direct $el s after the agents started"
	else
		t_fail "$a/symmetric: no direct path within 15 s ($el s)"
	fi
	probes=$(metric a birthday_probes)
	wins=$(metric a birthday_wins)
	echo "  $a side: $(metric a birthday_attempts) attempt(s), ${probes:-?} probes sent, ${wins:-?} won;" \
		"symmetric side: $(metric b birthday_sockets) sockets opened"
	grep -h 'birthday:' "$LAB_TMP"/a.log "$LAB_TMP"/b.log 2>/dev/null | sed 's/^/  | /'
	t_check "$a/symmetric: at most 1024 probes per attempt" \
		test "${probes:-99999}" -le $((1024 * $(metric a birthday_attempts)))
	t_check "$a/symmetric: ping a -> b" nat_ping a b
	t_check "$a/symmetric: ping b -> a" nat_ping b a
	t_check "$a/symmetric: b keeps one extra socket (the winner), the others closed" \
		test "$(lab_exec "$HOST_B_NS" ss -Huan | awk '{print $4}' | grep -vc ':51820$')" = 1
	[ "$a" = cone ] && t_check "$a/symmetric: a FwMark set with wg reaches the winner's socket too" marked_all
}

# b's UDP sockets (its agent's only): ListenPort and the kept winner, both
# marked after `wg set fwmark`.
marked_all() {
	local all marked
	wg set "$(wm_ifname b)" fwmark 0x77 || return 1
	all=$(lab_exec "$HOST_B_NS" ss -Huane | wc -l)
	marked=$(lab_exec "$HOST_B_NS" ss -Huane | grep -c 'fwmark:0x77')
	echo "b's UDP sockets: $all, marked: $marked"
	[ "$all" -ge 2 ] && [ "$marked" = "$all" ]
}

for c in ${BIRTHDAY_CASES:-cone firewall}; do
	direct_case "$c"
done

# Two symmetric NATs: no attempt at all, and UDP leaving each NAT stays
# at a trickle (keepalives, STUN, relay, discovery).
count_rules() { # NS
	lab_exec "$1" nft -f - <<'EOF'
table inet wmcount {
	chain wmc {
		type filter hook forward priority -5; policy accept;
		iifname "lan" meta l4proto udp counter
	}
}
EOF
}
counted() { # NS: packets counted so far (fails the test when unreadable)
	local c
	c=$(lab_exec "$1" nft list table inet wmcount | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
	[ -n "$c" ] || { t_fail "nft counter in $1 unreadable"; c=0; }
	echo "$c"
}
if [ -z "${BIRTHDAY_CASES:-}" ]; then
	lab_reset
	nat_world symmetric symmetric
	count_rules "$NAT_A_NS"
	count_rules "$NAT_B_NS"
	t_check "symmetric/symmetric: on the relay" wm_wait_path a b relay 15
	c0a=$(counted "$NAT_A_NS")
	c0b=$(counted "$NAT_B_NS")
	sleep 10
	c1a=$(counted "$NAT_A_NS")
	c1b=$(counted "$NAT_B_NS")
	pma=$(((c1a - c0a) * 6))
	pmb=$(((c1b - c0b) * 6))
	echo "  symmetric/symmetric: UDP out of nata $pma packets/min, natb $pmb packets/min (10 s sample x 6)"
	t_check "symmetric/symmetric: still relayed" test "$(wm_path a b)" = relay
	t_check "symmetric/symmetric: no birthday attempt, socket or probe" \
		test "$(metric a birthday_attempts)$(metric b birthday_attempts)$(metric a birthday_probes)$(metric b birthday_sockets)" = 0000
	t_check "symmetric/symmetric: UDP packets per minute bounded (0 < n < 600 each: $pma, $pmb)" \
		test "$pma" -gt 0 -a "$pma" -lt 600 -a "$pmb" -gt 0 -a "$pmb" -lt 600

	# BirthdayProbe = off on both: the pair stays on the relay.
	lab_reset
	NAT_IFACE_EXTRA="BirthdayProbe = off" nat_world cone symmetric
	t_check "BirthdayProbe = off: cone/symmetric on the relay" wm_wait_path a b relay 15
	sleep 6
	t_check "BirthdayProbe = off: still relayed after the grace time" test "$(wm_path a b)" = relay
	t_check "BirthdayProbe = off: no attempt" \
		test "$(metric a birthday_attempts)$(metric b birthday_attempts)$(metric b birthday_sockets)" = 000
fi
t_summary
