#!/usr/bin/env bash
# tests/mutate/mutate.sh — `./build.sh mutate`: each security check, turned
# off one at a time, must make the tests fail (issue 16, "a core rule with
# no test").
#
# The tree (tracked and untracked-but-not-ignored files, as they are in the
# working tree, with the objects of build/ so only the mutated file is
# compiled again) is copied to a scratch directory under /tmp; the real
# tree is never edited. For each mutation below: the one line is changed
# there (the exact text must be found, else the list is out of date: an
# error; the first occurrence is changed), the scratch tree is built, and
# the tests named for the mutation are run (unit tests by name, net tests
# by path); if none fails, every other unit test until one does. A
# mutation that no test notices "survives". Prints a
# table "mutation -> caught by" and exits 1 if any mutation survived or
# could not be applied.
#
# Usage: tests/mutate/mutate.sh [NAME...]   (default: all; build/ must be
#        built: build.sh mutate does that). MUTATE_KEEP=1 keeps the scratch
#        tree. Takes 2-4 minutes (one compile and link per mutation, the
#        unit tests, one ~20 s net test for the receive source check).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 2

NAMES=() FILES=() OLDS=() NEWS=() TESTS=()
# mutation NAME FILE OLD NEW TESTS — TESTS: unit test names (test_x) and
# net test scripts (tests/net/test_y.sh) expected to catch it.
mutation() {
	NAMES+=("$1") FILES+=("$2") OLDS+=("$3") NEWS+=("$4") TESTS+=("$5")
}

mutation replay-bit agent/wg/replay.c \
	'if (*word & bit)' 'if (0 && (*word & bit))' \
	"test_replay test_receive"
mutation replay-lower-edge agent/wg/replay.c \
	'if (counter + WM_REPLAY_WINDOW + 1 < r->next)' 'if (0 && counter + WM_REPLAY_WINDOW + 1 < r->next)' \
	"test_replay"
mutation data-tag agent/wg/transport.c \
	'return WM_RX_BAD_AUTH;' '(void)0;' \
	"test_receive"
mutation handshake-timestamp agent/wg/noise.c \
	'replay = memcmp(t, peer->latest_timestamp, WM_TIMESTAMP_SIZE) <= 0;' 'replay = false;' \
	"test_noise"
mutation mac1 agent/wg/cookie.c \
	'if (!wm_ct_memeq(computed, macs->mac1, WM_COOKIE_SIZE))' 'if (0)' \
	"test_cookie test_receive"
mutation cookie-mac2 agent/wg/cookie.c \
	'if (wm_ct_memeq(computed, macs->mac2, WM_COOKIE_SIZE))' 'if (1)' \
	"test_cookie"
mutation source-check agent/receive.c \
	'if (wm_allowedips_lookup_src(&dev->allowedips, pkt, n) != p) {' 'if (0) {' \
	"test_receive tests/net/test_source_check.sh"
mutation relayed-sender agent/receive.c \
	'if (!src && p != from) {' 'if (!src && p != from && 0) {' \
	"test_receive"
mutation relay-sender-stamp agent/relay/server.c \
	'wm_relay_frame_build(plain, WM_RELAY_RECV, c->who->key, f->body,' 'wm_relay_frame_build(plain, WM_RELAY_RECV, f->key, f->body,' \
	"test_relay_server"

WANT=("$@")
wanted() {
	local w
	[ ${#WANT[@]} -eq 0 ] && return 0
	for w in "${WANT[@]}"; do [ "$w" = "$1" ] && return 0; done
	return 1
}

[ -x build/wiremesh ] || { echo "mutate: build/ is not built (./build.sh build)" >&2; exit 2; }
SCRATCH=$(mktemp -d /tmp/wm-mutate.XXXXXX)
[ "${MUTATE_KEEP:-0}" = 1 ] || trap 'rm -rf "$SCRATCH"' EXIT
# Sources as they are now (mtimes kept), then build/'s objects: make then
# sees everything up to date but what a mutation touches.
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$SCRATCH" ||
	{ echo "mutate: copy failed" >&2; exit 2; }
tar -cf - build/obj build/libwm.a build/wiremesh build/tests | tar -xf - -C "$SCRATCH" ||
	{ echo "mutate: copy of build/ failed" >&2; exit 2; }
echo "mutate: scratch tree $SCRATCH"

UNITS=()
for t in tests/unit/test_*.c; do UNITS+=("$(basename "$t" .c)"); done

# run_test NAME — 0 when the test passes in the scratch tree
run_test() {
	local out
	out=$SCRATCH/.last-test.log
	case $1 in
	tests/net/*) (cd "$SCRATCH" && timeout -k 10 300 bash "$1") >"$out" 2>&1 ;;
	*) (cd "$SCRATCH" && timeout -k 10 120 "build/tests/$1") >"$out" 2>&1 ;;
	esac
}

# caught NAME TESTS — prints the tests that fail: every one named for the
# mutation is run (so a named net test is shown to catch it too); when
# none of them fails, the other unit tests until one does. Nothing: survived.
caught() {
	local t seen=" " by=()
	for t in $2; do
		seen="$seen$t "
		run_test "$t" || by+=("$t")
	done
	if [ ${#by[@]} -eq 0 ]; then
		for t in "${UNITS[@]}"; do
			case $seen in *" $t "*) continue ;; esac
			run_test "$t" || { by+=("$t"); break; }
		done
	fi
	echo "${by[*]}"
}

ROWS=() BAD=0
for i in "${!NAMES[@]}"; do
	name=${NAMES[$i]} f=${FILES[$i]}
	wanted "$name" || continue
	cp -p "$f" "$SCRATCH/$f.orig"
	n=$(grep -cF -- "${OLDS[$i]}" "$f")
	if [ "$n" -lt 1 ]; then
		ROWS+=("$(printf '%-20s %-24s %s' "$name" "$f" "NOT APPLIED (text not found: update tests/mutate/mutate.sh)")")
		BAD=$((BAD + 1))
		continue
	fi
	# first occurrence only
	OLD=${OLDS[$i]} NEW=${NEWS[$i]} python3 - "$SCRATCH/$f" <<-'EOF'
		import os, sys
		p = sys.argv[1]
		s = open(p).read()
		open(p, 'w').write(s.replace(os.environ['OLD'], os.environ['NEW'], 1))
	EOF
	echo "mutate: $name ($f) ..."
	if ! (cd "$SCRATCH" && bash build.sh build) >"$SCRATCH/.build.log" 2>&1; then
		ROWS+=("$(printf '%-20s %-24s %s' "$name" "$f" "BUILD FAILED (fix the mutation)")")
		tail -n 15 "$SCRATCH/.build.log"
		BAD=$((BAD + 1))
	else
		by=$(caught "$name" "${TESTS[$i]}")
		if [ -n "$by" ]; then
			ROWS+=("$(printf '%-20s %-24s caught by %s' "$name" "$f" "$by")")
		else
			ROWS+=("$(printf '%-20s %-24s SURVIVED' "$name" "$f")")
			BAD=$((BAD + 1))
		fi
	fi
	# back to the original, newer than the mutant's object
	cp "$SCRATCH/$f.orig" "$SCRATCH/$f" && touch "$SCRATCH/$f" && rm -f "$SCRATCH/$f.orig"
done

echo
printf '%-20s %-24s %s\n' mutation file "caught by"
printf '%s\n' "${ROWS[@]}"
echo
if [ "$BAD" -ne 0 ]; then
	echo "mutate: $BAD of ${#ROWS[@]} mutations survived or could not be tried"
	exit 1
fi
echo "mutate: all ${#ROWS[@]} mutations caught"
