# shellcheck shell=bash
# tests/net/lib.sh — the NAT lab shared by the network tests, the demo and the
# benchmark. Source it, call lab_init, build a world, test, end with t_summary.
#
#   . "$(dirname "$0")/lib.sh"
#   lab_init
#   lab_topology cone symmetric          # inet, relay, stun2, hosta+nata, hostb+natb
#   lab_bg hosta ./build/wiremesh agent --config "$LAB_TMP/wm0.conf"
#   t_check "hosta reaches the relay" lab_exec hosta true
#   t_summary                            # last line: "N passed, M failed"
#
# Rules it enforces (DESIGN.md, "Tests"): everything lives in network
# namespaces named "$LAB_PREFIX-<name>" (LAB_PREFIX = wm-<pid>-<rand>); the
# host's own namespace is never given an address, route or link (veths are
# created *inside* a lab namespace with `ip -n`, their peer moved straight into
# another lab namespace); "public" addresses are documentation ranges only;
# every wait is bounded; lab_cleanup (trap on EXIT, INT, TERM, HUP) kills the
# processes we started — by PID, checking the PID still names the same process
# — and deletes the namespaces, even when the test fails.
#
# Functions
#   lab_init                      prefix, $LAB_TMP, traps, counters (call first)
#   lab_cleanup                   kill lab processes, delete namespaces, rm $LAB_TMP
#                                 (idempotent, never fails; LAB_KEEP=1 keeps $LAB_TMP)
#   lab_reset                     like lab_cleanup but keeps $LAB_TMP (logs are moved
#                                 to $LAB_TMP/run-N/) and the t_* counters: build
#                                 another topology in the same test
#   lab_nsname NAME               full namespace name (a full name is echoed as is)
#   lab_ns NAME [router]          create namespace, lo up; ip_forward=1 only if "router"
#   lab_veth NS1 IF1 A1/LEN NS2 IF2 A2/LEN   veth pair between two lab namespaces
#                                 (an address of "-" means none)
#   lab_exec NS CMD...            ip netns exec
#   lab_bg [--name N] NS CMD...   background command; sets LAB_LAST_PID, LAB_LAST_LOG
#                                 (output in $LAB_TMP/<name>.log), registered for cleanup
#   lab_kill PID                  TERM (then KILL after 2 s) one lab_bg process
#   lab_wait_for TIMEOUT_S CMD... poll CMD (every 0.02 s, then 0.1 s) until it succeeds (bounded)
#   lab_topology TYPE_A TYPE_B    the standard world (see below)
#   lab_world                     just inet + relay + stun2 (lab_topology calls it)
#   lab_side X TYPE               one more side X in a..d (lab_topology does a and b)
#   lab_relay2                    a second relay host on the internet (relay2, RELAY2_IP)
#   lab_v6                        adds IPv6 to the world and every side built so far
#                                 (call after lab_topology / lab_side; see "IPv6" below)
#   lab_loss NS PERCENT           random drop of a namespace's forwarded + output
#                                 traffic (nftables numgen; 0 removes it)
#   lab_nat_timeout NS SECONDS    conntrack UDP timeouts of a NAT (mapping lifetime)
#   lab_echo_server NS IP PORT [udp|tcp|both]   "STUN-like" echo: answers every UDP
#                                 datagram / TCP chunk with "SEEN <src-ip>:<src-port> <data>"
#   lab_udp_probe NS LPORT TIMEOUT DST:PORT...  from one UDP socket bound to LPORT,
#                                 ask echo servers what they see; prints "<dst> <seen>"
#   lab_tcp_probe NS TIMEOUT DST:PORT            prints what a TCP echo server sees
#   lab_sock NAME NS IP:PORT      a UDP socket you drive from the test:
#   lab_sock_send NAME IP PORT PAYLOAD   send (waits until it is sent)
#   lab_sock_wait NAME REGEX TIMEOUT     wait for a log line ("RECV <src> <payload>")
#   lab_sock_got NAME REGEX              grep its log now
#   lab_sock_stun NAME IP PORT [TIMEOUT] print the mapping an echo server reports
#   lab_sweep_stale               delete empty namespaces left by lab runs whose PID is
#                                 gone (after a SIGKILL); never called automatically
#   t_pass MSG / t_fail MSG / t_skip MSG / t_check DESC CMD...   counted results
#   t_summary                     log tails on failure, then "N passed, M failed"
#                                 as the LAST line; exit status 1 if anything failed
#
# lab_topology TYPE_A TYPE_B — TYPE is one of
#   none       hostX has a public address directly on the internet, no filtering
#   firewall   hostX has a public address behind natX, a stateful nftables
#              firewall without NAT: established/related and outbound new pass,
#              unsolicited inbound is dropped
#   cone       natX: `masquerade` — Linux keeps the source port when it is free,
#              so the mapping is endpoint-independent — plus conntrack filtering
#              (only replies to flows hostX started come in, from that exact
#              ip:port): a port-restricted cone NAT
#   symmetric  natX: `masquerade random` — a new random public port for every
#              destination (endpoint-dependent mapping), same filtering
#   udpblock   like cone, but every UDP packet from hostX's LAN to the internet
#              is dropped (TCP, ICMP pass): only the relay's TCP fallback works
#
# Addresses (X = a, b, c, d → i = 1, 2, 3, 4, k = i-1)
#   inet     the internet router (ip_forward); drops bogons (10/8, 172.16/12,
#            192.168/16) so private LANs never route to each other
#   relay    RELAY_IP=203.0.113.10 and RELAY_IP2=203.0.113.11 (same host), gw 203.0.113.1
#   stun2    STUN2_IP=198.51.100.20 (a second STUN host), gw 198.51.100.1
#   relay2   RELAY2_IP=192.0.2.226 (lab_relay2 only: a second relay host),
#            gw 192.0.2.225 (192.0.2.224/28, above every side's range)
#   side X   WAN 192.0.2.16k/28: inet .16k+1, natX (or hostX when none) .16k+2
#            none:      HOST_X_IP = PUBLIC_X_IP = 192.0.2.16k+2
#            firewall:  LAN 192.0.2.(64+16k)/28, natX .+1, HOST_X_IP = PUBLIC_X_IP = .+2
#            NAT types: LAN 10.0.i.0/24, natX 10.0.i.1, HOST_X_IP = 10.0.i.2,
#                       PUBLIC_X_IP = 192.0.2.16k+2
#   so a: WAN 192.0.2.0/28 (public 192.0.2.2), firewall host 192.0.2.66, private 10.0.1.2
#      b: WAN 192.0.2.16/28 (public 192.0.2.18), firewall host 192.0.2.82, private 10.0.2.2
# Exported: LAB_PREFIX LAB_TMP INET_NS RELAY_NS STUN2_NS RELAY_IP RELAY_IP2 STUN2_IP
#   and per side HOST_X_NS NAT_X_NS (empty for none) NAT_X_TYPE HOST_X_IP
#   PUBLIC_X_IP HOST_X_GW HOST_X_IF (eth0) HOST_X_LAN (subnet) with X = A, B, ...
# IPv6 (lab_v6): global addresses from 2001:db8::/32 beside the IPv4 ones.
#   relay    RELAY_IP6=2001:db8:10::10, stun2 STUN2_IP6=2001:db8:20::20
#   side X   WAN 2001:db8:a<i>::/64 (inet ::1, natX or hostX ::2);
#            behind a router, LAN 2001:db8:b<i>::/64 (natX ::1, hostX ::2)
#            HOST_X_IP6. No NAT66: every router type is, for IPv6, the same
#            stateful firewall its IPv4 rules make (replies only; udpblock
#            drops UDP), as home routers do it; none: no filtering.
# Interface names: hostX eth0; natX wan, lan; inet to-X, to-relay, to-stun2;
# relay and stun2 eth0. MTU 1500 everywhere.

LAB_PYTHON=${LAB_PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || echo python3)}
T_PASSED=${T_PASSED:-0}
T_FAILED=${T_FAILED:-0}
T_SKIPPED=${T_SKIPPED:-0}
_LAB_RUN=0

_lab_err() { echo "lab: $*" >&2; }

# ---------------------------------------------------------------- test counters

t_pass() { T_PASSED=$((T_PASSED + 1)); echo "PASS: $*"; }
t_fail() { T_FAILED=$((T_FAILED + 1)); echo "FAIL: $*"; }
t_skip() { T_SKIPPED=$((T_SKIPPED + 1)); echo "SKIP: $*"; }

# t_check DESC CMD... — runs CMD in the current shell (variables it sets stay
# set); its output is shown only when it fails.
t_check() {
	local desc=$1 out rc=0
	shift
	out=${LAB_TMP:-/tmp}/.t_check.$$
	"$@" >"$out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		t_pass "$desc"
	else
		t_fail "$desc (exit $rc)"
		sed -n '1,25s/^/    | /p' "$out" 2>/dev/null
	fi
	rm -f "$out"
	return 0
}

t_summary() {
	local f
	if [ "$T_FAILED" -ne 0 ] && [ -n "${LAB_TMP:-}" ] && [ -d "$LAB_TMP" ]; then
		while IFS= read -r f; do
			echo "--- ${f#"$LAB_TMP"/} (last 15 lines)"
			tail -n 15 "$f" | sed 's/^/    | /'
		done < <(find "$LAB_TMP" -name '*.log' -size +0 2>/dev/null | sort | head -n 40)
	fi
	[ "$T_SKIPPED" -eq 0 ] || echo "($T_SKIPPED skipped)"
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ] && exit 0
	exit 1
}

# ---------------------------------------------------------------- life cycle

lab_init() {
	if [ "$(id -u)" != 0 ]; then _lab_err "needs root (network namespaces)"; return 1; fi
	local t
	for t in ip nft timeout "$LAB_PYTHON"; do
		command -v "$t" >/dev/null 2>&1 || { _lab_err "missing tool: $t"; return 1; }
	done
	LAB_PREFIX=${LAB_PREFIX:-wm-$$-$(printf %04x $((RANDOM % 65536)))}
	LAB_TMP=
	_LAB_CLEANED=0
	_LAB_OWNER=${BASHPID:-$$}
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/wmlab.XXXXXX") || return 1
	: >"$LAB_TMP/.pids"
	: >"$LAB_TMP/.netns"
	_lab_write_tool
	export LAB_PREFIX LAB_TMP
	return 0
}

# Start time (clock ticks since boot) of a PID, so that we never signal a
# recycled PID that now belongs to someone else.
_lab_starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $s
	echo "${20}"
}

# alive and still the process we registered (zombies count as dead)
_lab_ours() { # pid starttime
	local s st want=$2
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $s
	st=$1
	[ "$st" != Z ] && [ "$st" != X ] || return 1
	[ "${20}" = "$want" ]
}

# kill every registered process, and whatever still runs inside our
# namespaces (started there by us through lab_exec); TERM, 2 s grace, KILL.
_lab_kill_all() {
	local pid st name ns p live i
	local -a pl=() sl=()
	if [ -f "$LAB_TMP/.pids" ]; then
		while read -r pid st name; do
			[ -n "$pid" ] && _lab_ours "$pid" "$st" || continue
			pl+=("$pid"); sl+=("$st")
		done <"$LAB_TMP/.pids"
	fi
	if [ -f "$LAB_TMP/.netns" ]; then
		while read -r ns; do
			[ -n "$ns" ] || continue
			for p in $(ip netns pids "$ns" 2>/dev/null); do
				[ "$p" != $$ ] || continue
				st=$(_lab_starttime "$p") || continue
				pl+=("$p"); sl+=("$st")
			done
		done <"$LAB_TMP/.netns"
	fi
	[ ${#pl[@]} -gt 0 ] || return 0
	for i in "${!pl[@]}"; do kill -TERM "${pl[$i]}" 2>/dev/null; done
	for _ in $(seq 1 20); do
		live=0
		for i in "${!pl[@]}"; do _lab_ours "${pl[$i]}" "${sl[$i]}" && live=1; done
		[ $live -eq 1 ] || break
		sleep 0.1
	done
	for i in "${!pl[@]}"; do
		_lab_ours "${pl[$i]}" "${sl[$i]}" && kill -KILL "${pl[$i]}" 2>/dev/null
	done
	for i in "${!pl[@]}"; do wait "${pl[$i]}" 2>/dev/null; done
	return 0
}

_lab_del_netns() {
	local ns
	[ -f "$LAB_TMP/.netns" ] || return 0
	# reverse order: hosts before routers (not required, just tidy)
	while read -r ns; do
		[ -n "$ns" ] && case $ns in "$LAB_PREFIX"-*) ip netns del "$ns" 2>/dev/null ;; esac
	done < <(tac "$LAB_TMP/.netns")
	: >"$LAB_TMP/.netns"
}

_lab_unset_topology() {
	local v
	for v in INET_NS RELAY_NS STUN2_NS RELAY_IP RELAY_IP2 STUN2_IP RELAY2_NS RELAY2_IP; do unset "$v"; done
	for v in $(compgen -v | grep -E '^(HOST|NAT|PUBLIC)_[A-D]_' || true); do unset "$v"; done
}

# lab_reset — tear the world down, keep $LAB_TMP (logs go to run-N/) and counters.
lab_reset() {
	local opts=$- f
	set +e
	if [ -n "${LAB_TMP:-}" ] && [ -d "$LAB_TMP" ]; then
		_lab_kill_all
		_lab_del_netns
		: >"$LAB_TMP/.pids"
		_LAB_RUN=$((_LAB_RUN + 1))
		mkdir -p "$LAB_TMP/run-$_LAB_RUN"
		for f in "$LAB_TMP"/*.log "$LAB_TMP"/*.ctl; do
			[ -e "$f" ] || continue
			case $f in
			*.log) mv "$f" "$LAB_TMP/run-$_LAB_RUN/" 2>/dev/null ;;
			*) rm -f "$f" ;;
			esac
		done
	fi
	_lab_unset_topology
	case $opts in *e*) set -e ;; esac
	return 0
}

lab_cleanup() {
	local opts=$-
	set +e
	[ "${_LAB_CLEANED:-1}" = 0 ] || return 0
	# only the shell that ran lab_init tears the lab down, never a subshell
	[ "${_LAB_OWNER:-}" = "${BASHPID:-$$}" ] || return 0
	_LAB_CLEANED=1
	trap '' INT TERM HUP # a second ^C must not cut the cleanup short
	if declare -F lab_on_cleanup >/dev/null; then lab_on_cleanup >&2; fi
	if [ -n "${LAB_TMP:-}" ] && [ -d "$LAB_TMP" ]; then
		_lab_kill_all
		_lab_del_netns
		if [ "${LAB_KEEP:-0}" = 1 ]; then
			echo "lab: kept $LAB_TMP" >&2
		else
			case $LAB_TMP in */wmlab.*) rm -rf "$LAB_TMP" ;; esac
		fi
	fi
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	case $opts in *e*) set -e ;; esac
	return 0
}

# Namespaces whose name says "wm-<pid>-…" for a PID that no longer exists:
# leftovers of a run that was SIGKILLed. A namespace in which some process
# still runs is only reported, never touched (that process is not ours).
lab_sweep_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in wm-[0-9]*-*) ;; *) continue ;; esac
		pid=${ns#wm-}
		pid=${pid%%-*}
		[ -n "$pid" ] && [ ! -e "/proc/$pid" ] || continue
		if [ -n "$(ip netns pids "$ns" 2>/dev/null)" ]; then
			echo "lab: stale namespace $ns still has processes; left alone" >&2
			continue
		fi
		ip netns del "$ns" 2>/dev/null && echo "lab: removed stale namespace $ns" >&2
	done
	return 0
}

# ---------------------------------------------------------------- building blocks

lab_nsname() {
	case $1 in
	"$LAB_PREFIX"-*) echo "$1" ;;
	*) echo "$LAB_PREFIX-$1" ;;
	esac
}

lab_ns() { # NAME [router]
	local ns fwd=0
	ns=$(lab_nsname "$1")
	[ "${2:-}" = router ] && fwd=1
	[ ! -e "/run/netns/$ns" ] || { _lab_err "namespace $ns exists already"; return 1; }
	# registered first, so that a signal between the two leaves nothing behind
	echo "$ns" >>"$LAB_TMP/.netns"
	ip netns add "$ns" || { _lab_err "cannot create namespace $ns"; return 1; }
	ip -n "$ns" link set lo up || return 1
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=$fwd \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null || return 1
	return 0
}

lab_veth() { # NS1 IF1 ADDR1/LEN NS2 IF2 ADDR2/LEN
	local n1 n2
	n1=$(lab_nsname "$1") n2=$(lab_nsname "$4")
	[ -e "/run/netns/$n1" ] && [ -e "/run/netns/$n2" ] ||
		{ _lab_err "lab_veth: unknown namespace $n1 or $n2"; return 1; }
	# created inside n1, peer straight into n2: never in the host's namespace
	ip -n "$n1" link add "$2" type veth peer name "$5" netns "$n2" || return 1
	if [ "$3" != - ] && [ -n "$3" ]; then ip -n "$n1" addr add "$3" dev "$2" || return 1; fi
	if [ "$6" != - ] && [ -n "$6" ]; then ip -n "$n2" addr add "$6" dev "$5" || return 1; fi
	ip -n "$n1" link set "$2" up && ip -n "$n2" link set "$5" up
}

lab_exec() { # NS CMD...
	local ns
	ns=$(lab_nsname "$1")
	shift
	ip netns exec "$ns" "$@"
}

lab_bg() { # [--name NAME] NS CMD...
	local name="" ns log n=1 st
	if [ "${1:-}" = --name ]; then name=$2; shift 2; fi
	ns=$(lab_nsname "$1")
	shift
	[ -n "$name" ] || name="${ns#"$LAB_PREFIX"-}-$(basename "$1")"
	name=${name//\//_}
	log="$LAB_TMP/$name.log"
	while [ -e "$log" ] && [ $n -lt 1000 ]; do n=$((n + 1)); log="$LAB_TMP/$name.$n.log"; done
	ip netns exec "$ns" "$@" </dev/null >"$log" 2>&1 &
	LAB_LAST_PID=$!
	LAB_LAST_LOG=$log
	st=$(_lab_starttime "$LAB_LAST_PID") || st=0
	echo "$LAB_LAST_PID $st $name" >>"$LAB_TMP/.pids"
	return 0
}

lab_kill() { # PID — a process started with lab_bg
	local pid=$1 st
	st=$(awk -v p="$pid" '$1 == p {print $2}' "$LAB_TMP/.pids" | tail -n1)
	[ -n "$st" ] || { _lab_err "lab_kill: $pid was not started by lab_bg"; return 1; }
	_lab_ours "$pid" "$st" || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 20); do _lab_ours "$pid" "$st" || break; sleep 0.1; done
	_lab_ours "$pid" "$st" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

_lab_usec() { # seconds (may be fractional) → microseconds
	local i=${1%%.*} f=000000
	[ -n "$i" ] || i=0
	case $1 in *.*) f=${1#*.}000000; f=${f:0:6} ;; esac
	echo $((10#$i * 1000000 + 10#$f))
}

_lab_now() { local t=${EPOCHREALTIME/./}; echo "${t/,/}"; }

# polls every 0.02 s for the first 0.2 s, then every 0.1 s; bounded both by
# the clock and by an iteration count
lab_wait_for() { # TIMEOUT_S CMD...
	local end max n=0
	end=$(($(_lab_now) + $(_lab_usec "$1")))
	max=$(($(_lab_usec "$1") / 100000 + 12))
	shift
	while [ $n -lt $max ]; do
		"$@" >/dev/null 2>&1 && return 0
		n=$((n + 1))
		[ "$(_lab_now)" -lt "$end" ] || break
		if [ $n -le 10 ]; then sleep 0.02; else sleep 0.1; fi
	done
	return 1
}

lab_loss() { # NS PERCENT
	local ns p=$2
	ns=$(lab_nsname "$1")
	case $p in '' | *[!0-9]*) _lab_err "lab_loss: bad percent '$p'"; return 1 ;; esac
	[ "$p" -le 100 ] || { _lab_err "lab_loss: bad percent '$p'"; return 1; }
	ip netns exec "$ns" nft delete table inet wm_loss 2>/dev/null
	[ "$p" -gt 0 ] || return 0
	local rule="numgen random mod 100 < $p drop"
	[ "$p" -lt 100 ] || rule=drop
	# priority -300: before conntrack, so a dropped packet leaves no state
	ip netns exec "$ns" nft -f - <<-EOF
		table inet wm_loss {
			chain forward {
				type filter hook forward priority -300; policy accept;
				$rule
			}
			chain output {
				type filter hook output priority -300; policy accept;
				oifname "lo" accept
				$rule
			}
		}
	EOF
}

lab_nat_timeout() { # NS SECONDS — UDP mapping lifetime (unreplied and assured)
	lab_exec "$1" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$2" \
		net.netfilter.nf_conntrack_udp_timeout_stream="$2" >/dev/null
}

# ---------------------------------------------------------------- the world

lab_world() {
	[ -z "${INET_NS:-}" ] || return 0
	lab_ns inet router || return 1
	lab_ns relay || return 1
	lab_ns stun2 || return 1
	lab_veth inet to-relay 203.0.113.1/24 relay eth0 203.0.113.10/24 || return 1
	lab_exec relay ip addr add 203.0.113.11/24 dev eth0 || return 1
	lab_exec relay ip route add default via 203.0.113.1 || return 1
	lab_veth inet to-stun2 198.51.100.1/24 stun2 eth0 198.51.100.20/24 || return 1
	lab_exec stun2 ip route add default via 198.51.100.1 || return 1
	# The internet does not carry private addresses (so the LANs never meet).
	lab_exec inet nft -f - <<-'EOF' || return 1
		table inet wm_inet {
			set bogons {
				type ipv4_addr; flags interval;
				elements = { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 }
			}
			chain forward {
				type filter hook forward priority filter; policy accept;
				ip saddr @bogons drop
				ip daddr @bogons drop
			}
		}
	EOF
	INET_NS=$(lab_nsname inet) RELAY_NS=$(lab_nsname relay) STUN2_NS=$(lab_nsname stun2)
	RELAY_IP=203.0.113.10 RELAY_IP2=203.0.113.11 STUN2_IP=198.51.100.20
	export INET_NS RELAY_NS STUN2_NS RELAY_IP RELAY_IP2 STUN2_IP
}

# nftables of natX. Common to all filtering types: the router itself answers
# nothing from the internet (input policy drop, silently, like a consumer
# router; an unsolicited packet thus leaves no confirmed conntrack entry that
# could later steal the port of a mapping), forward lets out what the LAN
# starts and lets in only what belongs to it (ct established,related).
_lab_nat_rules() { # TYPE LANSUBNET
	local type=$1 lan=$2 udpdrop="" nat=""
	[ "$type" = udpblock ] && udpdrop='iifname "lan" oifname "wan" meta l4proto udp drop'
	case $type in
	cone | udpblock) nat="oifname \"wan\" ip saddr $lan masquerade" ;;
	symmetric) nat="oifname \"wan\" ip saddr $lan masquerade random" ;;
	esac
	cat <<-EOF
		table inet wm_filter {
			chain input {
				type filter hook input priority filter; policy drop;
				iif "lo" accept
				ct state established,related accept
				iifname "lan" accept
				icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
			}
			chain forward {
				type filter hook forward priority filter; policy drop;
				ct state established,related accept
				$udpdrop
				iifname "lan" oifname "wan" accept
			}
		}
	EOF
	[ -z "$nat" ] || cat <<-EOF
		table ip wm_nat {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				$nat
			}
		}
	EOF
}

# A second relay host, for agents with several relays (call after
# lab_world or lab_topology).
lab_relay2() {
	[ -z "${RELAY2_NS:-}" ] || return 0
	lab_world || return 1
	lab_ns relay2 || return 1
	lab_veth inet to-relay2 192.0.2.225/28 relay2 eth0 192.0.2.226/28 || return 1
	lab_exec relay2 ip route add default via 192.0.2.225 || return 1
	RELAY2_NS=$(lab_nsname relay2) RELAY2_IP=192.0.2.226
	export RELAY2_NS RELAY2_IP
}

lab_side() { # X TYPE   (X in a b c d)
	local x=$1 type=$2 U i k wan_gw wan_ip host_ip pub gw lan nat_ns=""
	case $x in a) i=1 ;; b) i=2 ;; c) i=3 ;; d) i=4 ;; *) _lab_err "lab_side: side '$x' not in a-d"; return 1 ;; esac
	case $type in none | firewall | cone | symmetric | udpblock) ;;
	*) _lab_err "lab_side: unknown type '$type' (none firewall cone symmetric udpblock)"; return 1 ;;
	esac
	lab_world || return 1
	U=${x^^}
	k=$((i - 1))
	wan_gw=192.0.2.$((16 * k + 1))
	wan_ip=192.0.2.$((16 * k + 2))
	lab_ns "host$x" || return 1
	if [ "$type" = none ]; then
		lab_veth inet "to-$x" "$wan_gw/28" "host$x" eth0 "$wan_ip/28" || return 1
		host_ip=$wan_ip pub=$wan_ip gw=$wan_gw lan=192.0.2.$((16 * k))/28
	else
		lab_ns "nat$x" router || return 1
		nat_ns=$(lab_nsname "nat$x")
		lab_veth inet "to-$x" "$wan_gw/28" "nat$x" wan "$wan_ip/28" || return 1
		lab_exec "nat$x" ip route add default via "$wan_gw" || return 1
		if [ "$type" = firewall ]; then
			lan=192.0.2.$((64 + 16 * k))/28
			gw=192.0.2.$((64 + 16 * k + 1))
			host_ip=192.0.2.$((64 + 16 * k + 2))
			pub=$host_ip
			lab_exec inet ip route add "$lan" via "$wan_ip" || return 1
		else
			lan=10.0.$i.0/24 gw=10.0.$i.1 host_ip=10.0.$i.2 pub=$wan_ip
		fi
		lab_veth "nat$x" lan "$gw/${lan#*/}" "host$x" eth0 "$host_ip/${lan#*/}" || return 1
		_lab_nat_rules "$type" "$lan" | lab_exec "nat$x" nft -f - || return 1
	fi
	lab_exec "host$x" ip route add default via "$gw" || return 1
	export "HOST_${U}_NS=$(lab_nsname "host$x")" "NAT_${U}_NS=$nat_ns" "NAT_${U}_TYPE=$type" \
		"HOST_${U}_IP=$host_ip" "PUBLIC_${U}_IP=$pub" "HOST_${U}_GW=$gw" \
		"HOST_${U}_IF=eth0" "HOST_${U}_LAN=$lan"
}

# IPv6 on the world and the sides built so far (see the header).
_lab_v6_addr() { # NS DEV ADDR/LEN
	lab_exec "$1" ip -6 addr add "$3" dev "$2" nodad
}

lab_v6() {
	local x U i ns
	[ -n "${INET_NS:-}" ] || { _lab_err "lab_v6: build the world first"; return 1; }
	lab_exec inet sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null || return 1
	_lab_v6_addr inet to-relay 2001:db8:10::1/64 || return 1
	_lab_v6_addr relay eth0 2001:db8:10::10/64 || return 1
	lab_exec relay ip -6 route add default via 2001:db8:10::1 || return 1
	_lab_v6_addr inet to-stun2 2001:db8:20::1/64 || return 1
	_lab_v6_addr stun2 eth0 2001:db8:20::20/64 || return 1
	lab_exec stun2 ip -6 route add default via 2001:db8:20::1 || return 1
	RELAY_IP6=2001:db8:10::10 STUN2_IP6=2001:db8:20::20
	export RELAY_IP6 STUN2_IP6
	for x in a b c d; do
		U=${x^^}
		ns=HOST_${U}_NS
		[ -n "${!ns:-}" ] || continue
		case $x in a) i=1 ;; b) i=2 ;; c) i=3 ;; d) i=4 ;; esac
		_lab_v6_addr inet "to-$x" "2001:db8:a$i::1/64" || return 1
		ns=NAT_${U}_NS
		if [ -z "${!ns:-}" ]; then
			_lab_v6_addr "host$x" eth0 "2001:db8:a$i::2/64" || return 1
			lab_exec "host$x" ip -6 route add default via "2001:db8:a$i::1" || return 1
			export "HOST_${U}_IP6=2001:db8:a$i::2"
			continue
		fi
		lab_exec "nat$x" sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null || return 1
		_lab_v6_addr "nat$x" wan "2001:db8:a$i::2/64" || return 1
		lab_exec "nat$x" ip -6 route add default via "2001:db8:a$i::1" || return 1
		_lab_v6_addr "nat$x" lan "2001:db8:b$i::1/64" || return 1
		_lab_v6_addr "host$x" eth0 "2001:db8:b$i::2/64" || return 1
		lab_exec "host$x" ip -6 route add default via "2001:db8:b$i::1" || return 1
		lab_exec inet ip -6 route add "2001:db8:b$i::/64" via "2001:db8:a$i::2" || return 1
		export "HOST_${U}_IP6=2001:db8:b$i::2"
	done
}

lab_topology() { # TYPE_A TYPE_B
	[ $# -eq 2 ] || { _lab_err "usage: lab_topology TYPE_A TYPE_B"; return 1; }
	lab_world || return 1
	lab_side a "$1" || return 1
	lab_side b "$2" || return 1
}

# ---------------------------------------------------------------- traffic helpers

lab_echo_server() { # NS IP PORT [udp|tcp|both]
	local ns=$1 ip=$2 port=$3 mode=${4:-both} args=()
	case $mode in udp | both) args+=(--udp "$ip:$port") ;; esac
	case $mode in tcp | both) args+=(--tcp "$ip:$port") ;; esac
	lab_bg --name "echo-${ns#"$LAB_PREFIX"-}-$ip-$port" "$ns" "$LAB_PYTHON" -u "$LAB_TMP/labtool.py" serve "${args[@]}"
	lab_wait_for 5 grep -q '^READY' "$LAB_LAST_LOG" ||
		{ _lab_err "echo server $ip:$port in $ns did not start"; cat "$LAB_LAST_LOG" >&2; return 1; }
}

lab_udp_probe() { # NS LPORT TIMEOUT DST:PORT...
	local ns=$1 lport=$2 to=$3
	shift 3
	lab_exec "$ns" "$LAB_PYTHON" "$LAB_TMP/labtool.py" probe --bind "0.0.0.0:$lport" --timeout "$to" "$@"
}

lab_tcp_probe() { # NS TIMEOUT DST:PORT
	lab_exec "$1" "$LAB_PYTHON" "$LAB_TMP/labtool.py" tcpprobe --timeout "$2" "$3"
}

lab_sock() { # NAME NS BINDIP:PORT
	local name=$1 fifo="$LAB_TMP/sock-$1.ctl"
	[ ! -e "$fifo" ] || { _lab_err "lab_sock: $name exists"; return 1; }
	mkfifo "$fifo" || return 1
	lab_bg --name "sock-$name" "$2" "$LAB_PYTHON" -u "$LAB_TMP/labtool.py" sock --bind "$3" --ctl "$fifo"
	lab_wait_for 5 grep -q '^READY' "$LAB_TMP/sock-$name.log" ||
		{ _lab_err "lab_sock $name did not start"; cat "$LAB_TMP/sock-$name.log" >&2; return 1; }
}

lab_sock_send() { # NAME IP PORT PAYLOAD
	local fifo="$LAB_TMP/sock-$1.ctl" log="$LAB_TMP/sock-$1.log" id
	id=$RANDOM$RANDOM$RANDOM
	[ -p "$fifo" ] || { _lab_err "lab_sock_send: no socket $1"; return 1; }
	timeout 2 sh -c 'printf "%s\n" "$1" >"$2"' _ "send $id $2 $3 ${4:-x}" "$fifo" || return 1
	lab_wait_for 2 grep -qE "^(SENT|SENDERR) $id( |\$)" "$log" || return 1
	grep -qE "^SENT $id( |\$)" "$log"
}

lab_sock_got() { grep -qE "$2" "$LAB_TMP/sock-$1.log"; }

lab_sock_wait() { # NAME REGEX TIMEOUT
	lab_wait_for "$3" grep -qE "$2" "$LAB_TMP/sock-$1.log"
}

lab_sock_stun() { # NAME IP PORT [TIMEOUT] — prints the mapping the echo server saw
	local tag="stun$RANDOM$RANDOM" n line
	local to=${4:-2}
	for n in 1 2 3; do
		lab_sock_send "$1" "$2" "$3" "$tag" || return 1
		if lab_sock_wait "$1" "^RECV $2:$3 SEEN [^ ]+ $tag\$" "$to"; then
			line=$(grep -E "^RECV $2:$3 SEEN [^ ]+ $tag\$" "$LAB_TMP/sock-$1.log" | tail -n1)
			# shellcheck disable=SC2086
			set -- $line
			echo "$4"
			return 0
		fi
	done
	return 1
}

# ---------------------------------------------------------------- python helper

_lab_write_tool() {
	cat >"$LAB_TMP/labtool.py" <<'PYEOF'
"""wiremesh NAT lab helper, written by tests/net/lib.sh.
  serve [--udp IP:PORT]... [--tcp IP:PORT]...
      answer every UDP datagram and every TCP chunk with
      "SEEN <src-ip>:<src-port> <payload>" — what a STUN server would report
  probe --bind IP:PORT --timeout S DST:PORT...
      from one UDP socket, ask each DST; print "<dst> <seen>" ('-' = no answer),
      exit 1 unless every DST answered
  tcpprobe --timeout S DST:PORT
      print what a TCP echo server saw; exit 1 on failure
  sock --bind IP:PORT --ctl FIFO
      a UDP socket driven by FIFO lines "send ID IP PORT PAYLOAD" / "quit";
      logs "READY <addr>", "SENT ID <dst> <payload>", "SENDERR ID <err>",
      "RECV <src> <payload>"
"""
import argparse, os, select, socket, sys, time

MAXLOG = 20000


def addr(s):
    host, _, port = s.rpartition(':')
    return (host or '0.0.0.0', int(port))


def fmt(a):
    return '%s:%d' % (a[0], a[1])


def say(*a):
    print(*a, flush=True)


def text(b):
    return b.decode('utf-8', 'replace').replace('\n', ' ').strip()


def serve(o):
    udp, tcp, conns, logged = [], [], {}, 0
    for a in o.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(addr(a))
        udp.append(s)
    for a in o.tcp:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(addr(a))
        s.listen(64)
        tcp.append(s)
    say('READY', ' '.join(['udp:' + a for a in o.udp] + ['tcp:' + a for a in o.tcp]))
    while True:
        r, _, _ = select.select(udp + tcp + list(conns), [], [], 5.0)
        for s in r:
            if s in udp:
                try:
                    data, src = s.recvfrom(65535)
                    s.sendto(b'SEEN ' + fmt(src).encode() + b' ' + data[:1200], src)
                except OSError:
                    continue
                if logged < MAXLOG:
                    logged += 1
                    say('UDP', fmt(src), '->', fmt(s.getsockname()), text(data[:80]))
            elif s in tcp:
                try:
                    c, src = s.accept()
                except OSError:
                    continue
                c.settimeout(2.0)
                conns[c] = src
                say('TCP', fmt(src), '->', fmt(s.getsockname()))
            else:
                src = conns[s]
                try:
                    data = s.recv(65535)
                    if data:
                        s.sendall(b'SEEN ' + fmt(src).encode() + b' ' + data)
                except OSError:
                    data = b''
                if not data:
                    s.close()
                    del conns[s]


def probe(o):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(o.bind))
    dsts = [addr(d) for d in o.dst]
    seen, n, nxt = {}, 0, 0.0
    end = time.monotonic() + o.timeout
    while len(seen) < len(dsts):
        now = time.monotonic()
        if now >= end:
            break
        if now >= nxt:
            for d in dsts:
                if d not in seen:
                    n += 1
                    try:
                        s.sendto(b'probe-%d' % n, d)
                    except OSError:
                        pass
            nxt = now + o.interval
        r, _, _ = select.select([s], [], [], max(0.0, min(end, nxt) - now))
        if r:
            try:
                data, src = s.recvfrom(65535)
            except OSError:
                continue
            p = data.split()
            if src in dsts and len(p) >= 2 and p[0] == b'SEEN':
                seen[src] = p[1].decode()
    for d in dsts:
        say(fmt(d), seen.get(d, '-'))
    return 0 if len(seen) == len(dsts) else 1


def tcpprobe(o):
    try:
        s = socket.create_connection(addr(o.dst), timeout=o.timeout)
        s.sendall(b'tcp-probe\n')
        data, end = b'', time.monotonic() + o.timeout
        while b'\n' not in data and time.monotonic() < end:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        say('ERROR', e)
        return 1
    p = data.split()
    if len(p) >= 2 and p[0] == b'SEEN':
        say(p[1].decode())
        return 0
    say('ERROR bad answer', text(data))
    return 1


def sock(o):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(o.bind))
    fd = os.open(o.ctl, os.O_RDWR | os.O_NONBLOCK)
    buf, logged = b'', 0
    say('READY', fmt(s.getsockname()))
    while True:
        r, _, _ = select.select([s, fd], [], [], 5.0)
        if fd in r:
            try:
                buf += os.read(fd, 4096)
            except BlockingIOError:
                pass
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                p = line.decode('utf-8', 'replace').split(None, 4)
                if p and p[0] == 'quit':
                    return 0
                if len(p) >= 4 and p[0] == 'send':
                    payload = p[4] if len(p) > 4 else ''
                    try:
                        s.sendto(payload.encode(), (p[2], int(p[3])))
                        say('SENT', p[1], '%s:%s' % (p[2], p[3]), payload)
                    except (OSError, ValueError) as e:
                        say('SENDERR', p[1], e)
        if s in r:
            try:
                data, src = s.recvfrom(65535)
            except OSError as e:
                say('RECVERR', e)
                continue
            if logged < MAXLOG:
                logged += 1
                say('RECV', fmt(src), text(data[:200]))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('serve')
    p.add_argument('--udp', action='append', default=[])
    p.add_argument('--tcp', action='append', default=[])
    p = sub.add_parser('probe')
    p.add_argument('--bind', default='0.0.0.0:0')
    p.add_argument('--timeout', type=float, default=2.0)
    p.add_argument('--interval', type=float, default=0.25)
    p.add_argument('dst', nargs='+')
    p = sub.add_parser('tcpprobe')
    p.add_argument('--timeout', type=float, default=2.0)
    p.add_argument('dst')
    p = sub.add_parser('sock')
    p.add_argument('--bind', required=True)
    p.add_argument('--ctl', required=True)
    o = ap.parse_args()
    return {'serve': serve, 'probe': probe, 'tcpprobe': tcpprobe, 'sock': sock}[o.cmd](o)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
PYEOF
}
