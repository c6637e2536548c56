#!/usr/bin/env bash
# NAT traversal matrix (issue 6): two agents behind every pair of lab NAT
# types find a direct path when one can exist, and fall back to the relay
# (over TCP/TLS where UDP is blocked) when it cannot. Also measures the
# time from start to a direct path for cone/cone (reported, not asserted).
set -u
cd "$(dirname "$0")/../.."
. tests/net/lib.sh
. tests/net/wm.sh
. tests/net/nat_case.sh
lab_init

check_case() { # TYPE_A TYPE_B EXPECT
	local a=$1 b=$2 want=$3 name="$1/$2" t0 t1
	[ "$_first" = 1 ] || lab_reset
	_first=0
	t0=$(date +%s.%N)
	if ! nat_world "$a" "$b"; then
		t_fail "$name: world did not start"
		return
	fi
	case $want in
	direct)
		if wm_wait_path a b direct 20 && wm_wait_path b a direct 10; then
			t1=$(date +%s.%N)
			t_pass "$name: direct path ($(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s after start)"
		else
			t_fail "$name: no direct path"
		fi
		;;
	relay | relay-tcp)
		t_check "$name: a reaches b over the relay" wm_wait_path a b relay 20
		t_check "$name: b reaches a over the relay" wm_wait_path b a relay 10
		# Give discovery a few rounds: it must not claim a direct path.
		sleep 4
		t_check "$name: still relayed after probing" test "$(wm_path a b)" = relay
		t_check "$name: iperf3 over the relay" nat_iperf 3
		;;
	esac
	if [ "$want" = relay-tcp ]; then
		t_check "$name: a's relay session is on TCP/TLS" sh -c \
			"curl -sS --unix-socket $LAB_TMP/a.api.sock http://x/v1/status | grep -Eq '\"transport\": *\"(tcp|tls)\"'"
	fi
	t_check "$name: ping a -> b" nat_ping a b
	t_check "$name: ping b -> a" nat_ping b a
}

_first=1
check_case firewall firewall direct
check_case cone cone direct
check_case none symmetric direct
check_case cone firewall direct
# cone/symmetric goes direct by birthday probing (test_birthday.sh); with
# it off, the pair shows the relay fallback when no punch can work.
NAT_IFACE_EXTRA="BirthdayProbe = off" check_case cone symmetric relay
check_case symmetric symmetric relay
check_case udpblock cone relay-tcp

# A direct path that stops answering falls back to the relay, and comes back
# once it works again; the upgrade loses no packets.
block() { # add | del: UDP between the two NATs' public addresses
	if [ "$1" = add ]; then
		lab_exec "$INET_NS" nft -f - <<EOF
table inet wmblock {
	chain wmfwd {
		type filter hook forward priority -10; policy accept;
		ip saddr $PUBLIC_A_IP ip daddr $PUBLIC_B_IP udp dport != 3478 drop
		ip saddr $PUBLIC_B_IP ip daddr $PUBLIC_A_IP udp dport != 3478 drop
	}
}
EOF
	else
		lab_exec "$INET_NS" nft delete table inet wmblock
	fi
}
ping_loss() { # FROM TO COUNT: prints the loss percentage
	lab_exec "$(nat_ns "$1")" ping -c "$3" -i 0.1 -W 1 "$(nat_ip "$2")" |
		sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p'
}
lab_reset
nat_world cone cone
t_check "fallback: direct first" wm_wait_path a b direct 20
block add
t_check "fallback: relay once the direct path stops answering" wm_wait_path a b relay 15
t_check "fallback: ping over the relay" nat_ping a b
block del
loss_file=$LAB_TMP/upgrade-loss
( ping_loss a b 450 >"$loss_file" ) &
upgrade_pid=$!
t_check "fallback: direct again once the path works (probing with backoff)" wm_wait_path a b direct 45
wait "$upgrade_pid"
t_check "fallback: the upgrade to direct lost no packets (loss $(cat "$loss_file")%)" test "$(cat "$loss_file")" = 0

# Time to a direct path, cone/cone, five runs.
times=()
for i in 1 2 3 4 5; do
	lab_reset
	t0=$(date +%s.%N)
	nat_world cone cone || continue
	if wm_wait_path a b direct 20; then
		times+=("$(awk "BEGIN{printf \"%.2f\", $(date +%s.%N) - $t0}")")
	fi
done
if [ ${#times[@]} -eq 5 ]; then
	med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
	t_pass "cone/cone time to direct: median ${med} s over 5 runs (${times[*]})"
else
	t_fail "cone/cone: only ${#times[@]} of 5 runs reached a direct path"
fi
t_summary
